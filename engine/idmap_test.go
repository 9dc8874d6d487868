package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/engram-go/engram/engine/tier"
)

// TestIDMapAcrossRestarts: ids loaded through the id map's table (read from the
// checkpoint's file) and ids given rows after it (the WAL tail, new remembers) are found,
// forgotten and replaced alike, before and after further restarts, whether the tail is
// replayed from the log or checkpointed again; another space sees none of them.
func TestIDMapAcrossRestarts(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.WALSegmentBytes = 128 << 10
	ctx := context.Background()
	want := map[string]string{} // id → content; "" once forgotten
	open := func() (*Engine, *Space, *Space) {
		e := openTest(t, cfg)
		return e, mustSpace(t, e, "default"), mustSpace(t, e, "other")
	}
	remember := func(s *Space, id, content string) {
		if _, err := s.Remember(ctx, Memory{ID: id, Content: content}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
		want[id] = content
	}
	forget := func(s *Space, id string) {
		if err := s.Forget(ctx, id); err != nil {
			t.Fatal(err)
		}
		want[id] = ""
	}
	check := func(step string, s, other *Space) {
		t.Helper()
		for id, content := range want {
			m, err := s.Get(id)
			switch {
			case content == "" && !errors.Is(err, ErrNotFound):
				t.Fatalf("%s: forgotten %s: %+v, %v", step, id, m, err)
			case content != "" && (err != nil || m.Content != content):
				t.Fatalf("%s: %s = %q, %v; want %q", step, id, m.Content, err, content)
			}
			if _, err := other.Get(id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: space other finds %s: %v", step, id, err)
			}
		}
		if l, err := s.List(ListOptions{Limit: 1000}); err != nil || l.Total != live(want) {
			t.Fatalf("%s: list holds %d memories (%v), want %d", step, l.Total, err, live(want))
		}
	}

	e, s, other := open()
	for i := range 200 {
		remember(s, fmt.Sprintf("m%03d", i), fmt.Sprintf("first note %d", i))
	}
	checkpointNow(t, s)
	man, err := tier.LoadManifest(filepath.Join(cfg.DataRoot, "default"))
	if err != nil || man.IDMap == "" {
		t.Fatalf("the checkpoint wrote no id map: %+v, %v", man, err)
	}
	steps := []struct {
		name       string
		checkpoint bool // checkpoint before closing, else the changes stay in the log
	}{{"tail in the log", false}, {"tail checkpointed", true}, {"reopened again", false}}
	for k, step := range steps {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		e, s, other = open()
		check(step.name+", reopened", s, other)
		forget(s, fmt.Sprintf("m%03d", k))                                     // loaded
		remember(s, fmt.Sprintf("m%03d", 10+k), fmt.Sprintf("replaced %d", k)) // loaded
		remember(s, fmt.Sprintf("n%03d", k), fmt.Sprintf("new %d", k))
		if k > 0 {
			remember(s, fmt.Sprintf("n%03d", k-1), fmt.Sprintf("new again %d", k)) // of the tail
			forget(s, fmt.Sprintf("n%03d", k-1))
		}
		check(step.name+", changed", s, other)
		if step.checkpoint {
			checkpointNow(t, s)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, s, other = open()
	defer e.Close()
	check("last reopening", s, other)
}

func live(m map[string]string) int {
	n := 0
	for _, c := range m {
		if c != "" {
			n++
		}
	}
	return n
}

// TestBuildIDTable: every id is found at its row, the last of rows sharing an id keeps
// it and the others are reported, and the table has the size the format fixes.
func TestBuildIDTable(t *testing.T) {
	tests := []struct {
		ids        []string
		superseded []uint32
	}{
		{nil, nil},
		{[]string{"a"}, nil},
		{[]string{"a", "b", "a", "c", "b", "a"}, []uint32{0, 1, 2}},
		{func() []string {
			var ids []string
			for i := range 5000 {
				ids = append(ids, fmt.Sprint(i))
			}
			return ids
		}(), nil},
	}
	for _, tt := range tests {
		slots, superseded := buildIDTable(len(tt.ids), func(row uint32) string { return tt.ids[row] })
		if len(slots) != tier.IDTableSlots(len(tt.ids)) {
			t.Fatalf("%d ids: %d slots, want %d", len(tt.ids), len(slots), tier.IDTableSlots(len(tt.ids)))
		}
		if fmt.Sprint(superseded) != fmt.Sprint(tt.superseded) {
			t.Fatalf("%q: superseded %v, want %v", tt.ids, superseded, tt.superseded)
		}
		rows := make([]*liveMemory, len(tt.ids))
		for i, id := range tt.ids {
			rows[i] = &liveMemory{m: memMeta{ID: id}}
		}
		m := idMap{slots: slots, later: map[string]uint32{}}
		last := map[string]uint32{}
		for i, id := range tt.ids {
			last[id] = uint32(i)
		}
		for id, row := range last {
			if got, ok := m.get(id, rows); !ok || got != row {
				t.Fatalf("%s at row %d (%v), want %d", id, got, ok, row)
			}
		}
		if _, ok := m.get("absent", rows); ok {
			t.Fatal("an absent id is found")
		}
	}
}
