package frontend

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine"
)

// router is a Router of one fixed answer.
type router struct {
	owner Owner
	local bool
	err   error
}

func (r router) Route(string) (Owner, bool, error) { return r.owner, r.local, r.err }

func TestRouteSpace(t *testing.T) {
	b := Owner{NodeID: "b", HTTP: "10.0.0.2:7432", GRPC: "10.0.0.2:50051"}
	cases := []struct {
		name        string
		r           router
		forwardedBy string
		want        string
		forward     bool
		words       string // in the NOT_OWNER message
	}{
		{"local", router{local: true}, "", "http", false, ""},
		{"local even when forwarded", router{local: true}, "a", "http", false, ""},
		{"elsewhere", router{owner: b}, "", "http", true, ""},
		{"second hop", router{owner: b}, "a", "http", false, `forwarded here by node "a"`},
		{"no owner", router{err: errors.New("partition 2 has no owner")}, "", "http", false, "partition 2 has no owner"},
		{"no grpc address", router{owner: Owner{NodeID: "c", HTTP: "x:1"}}, "", "grpc", false, "advertises no grpc address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := RouteSpace(tc.r, "alpha", tc.forwardedBy, tc.want)
			fw, isForward := AsForward(err)
			switch {
			case tc.forward:
				if !isForward || fw.Owner != b || fw.Space != "alpha" {
					t.Fatalf("err = %v, want a forward to b", err)
				}
			case tc.words == "":
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
			default:
				fe := FromError(err)
				if isForward || fe.Status != http.StatusServiceUnavailable || fe.Code != CodeNotOwner || fe.RetryAfter < 1 ||
					!strings.Contains(fe.Message, tc.words) {
					t.Fatalf("answer %+v, want 503 NOT_OWNER with Retry-After mentioning %q", fe, tc.words)
				}
			}
		})
	}
}

// The engine's ErrNotOwner (a write reaching a node that does not lead the partition) and a
// forward no protocol carries out are both 503 NOT_OWNER with Retry-After; the latter names
// the owner.
func TestNotOwnerAnswers(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("space alpha: %w", engine.ErrNotOwner),
		&Forward{Space: "alpha", Owner: Owner{NodeID: "b", HTTP: "10.0.0.2:7432", GRPC: "10.0.0.2:50051"}},
	} {
		fe := FromError(err)
		if fe.Status != http.StatusServiceUnavailable || fe.Code != CodeNotOwner || fe.RetryAfter < 1 {
			t.Fatalf("%v → %+v", err, fe)
		}
		if _, ok := err.(*Forward); ok && !strings.Contains(fe.Message, "10.0.0.2:50051") {
			t.Fatalf("message %q does not name the owner", fe.Message)
		}
	}
}

func TestIdempotentID(t *testing.T) {
	a, err := IdempotentID("alpha", "k")
	if err != nil || !strings.HasPrefix(a, "mem_") || len(a) != 28 || engine.ValidateID(a) != nil {
		t.Fatalf("id %q, %v", a, err)
	}
	if b, _ := IdempotentID("beta", "k"); b == a {
		t.Fatal("two spaces share an id for one key")
	}
	if again, _ := IdempotentID("alpha", "k"); again != a {
		t.Fatal("the id is not deterministic")
	}
	// The separator keeps (space, key) pairs apart: ("abc", "d") is not ("ab", "cd").
	if x, _ := IdempotentID("abc", "d"); x == func() string { y, _ := IdempotentID("ab", "cd"); return y }() {
		t.Fatal("(abc, d) and (ab, cd) share an id")
	}
	for _, bad := range []string{"", strings.Repeat("x", MaxIdempotencyKey+1), "tab\there", "é"} {
		if _, err := IdempotentID("alpha", bad); !errors.Is(err, engine.ErrInvalidInput) {
			t.Errorf("key %q: %v, want ErrInvalidInput", bad, err)
		}
	}
}
