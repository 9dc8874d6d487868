package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
)

// SpaceList is what a listing of spaces shows, split by where each space is served: the
// spaces served here, and for each other node the ids of the spaces it serves, whose
// details it answers itself.
type SpaceList struct {
	Local  []*engine.Space
	Remote map[Owner][]string
}

// ListSpaces is the listing a caller gets, of the spaces may lets it see. On a single node
// (no Router) it is every space here. In a cluster it is every space of the cluster
// (Options.Directory plus whatever this node serves), unless the request was forwarded
// (forwardedBy, the hop marker, is set): a node asked by another lists only the spaces it
// serves. A listed space whose partition has no owner fails the listing with an error
// wrapping engine.ErrNotOwner (503 with Retry-After): a listing without it would be
// wrong. A space the directory lists but its owner no longer has is being deleted and is
// left out.
func ListSpaces(ctx context.Context, o *Options, forwardedBy string, may func(string) bool) (SpaceList, error) {
	var out SpaceList
	if o.Router == nil {
		for _, sp := range o.Engine.Spaces() {
			if may(sp.ID()) {
				out.Local = append(out.Local, sp)
			}
		}
		return out, nil
	}
	var ids []string
	for _, sp := range o.Engine.Spaces() {
		ids = append(ids, sp.ID())
	}
	whole := forwardedBy == "" && o.Directory != nil
	if whole {
		all, err := o.Directory.ClusterSpaces(ctx)
		if err != nil {
			return out, fmt.Errorf("%w: the cluster's list of spaces: %v", engine.ErrNotOwner, err)
		}
		ids = append(ids, all...)
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	out.Remote = map[Owner][]string{}
	for _, id := range ids {
		if !may(id) {
			continue
		}
		owner, local, err := o.Router.Route(id)
		switch {
		case local:
			if sp, err := o.Engine.Space(id); err == nil {
				out.Local = append(out.Local, sp)
			}
		case !whole:
			// Not served here: on disk from a partition this node led before, or
			// listed by the owner the forwarded request comes from.
		case err != nil:
			return out, fmt.Errorf("%w: memory space %q: %v", engine.ErrNotOwner, id, err)
		default:
			out.Remote[owner] = append(out.Remote[owner], id)
		}
	}
	return out, nil
}

// Gather asks each owner of l.Remote, at the same time, for the spaces it serves (fetch)
// and returns, of what they answered, the entries of the spaces l expects from them (id
// names an entry's space). The first failure is returned.
func Gather[T any](ctx context.Context, l SpaceList, fetch func(context.Context, Owner) ([]T, error), id func(T) string) ([]T, error) {
	var (
		mu   sync.Mutex
		out  []T
		errs []error
		wg   sync.WaitGroup
	)
	for owner, want := range l.Remote {
		wg.Go(func() {
			got, err := fetch(ctx, owner)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for _, e := range got {
				if _, ok := slices.BinarySearch(want, id(e)); ok {
					out = append(out, e)
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out, nil
}

// OwnerSpaces asks owner's HTTP API for the spaces it serves: GET /api/v1/spaces with the
// hop marker of node nodeID and the caller's Authorization header (the owner checks the
// key again). An owner that cannot be reached or does not answer 200 is an error wrapping
// engine.ErrNotOwner. counts counts the request: OK when the owner answered, whatever
// it answered.
func OwnerSpaces(ctx context.Context, hc *http.Client, owner Owner, nodeID, authorization string, counts *ForwardCount) ([]client.SpaceEntry, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: listing the spaces of node %q at %s: %s", engine.ErrNotOwner, owner.NodeID, owner.HTTP,
			RedactCredentials(fmt.Sprintf(format, args...)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+owner.HTTP+"/api/v1/spaces", nil)
	if err != nil {
		return nil, fail("%v", err)
	}
	req.Header.Set(ForwardedByHeader, nodeID)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := hc.Do(req)
	if err != nil {
		counts.Failed.Add(1)
		return nil, fail("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSpaceList))
	if err != nil {
		counts.Failed.Add(1)
		return nil, fail("%v", err)
	}
	counts.OK.Add(1)
	if resp.StatusCode != http.StatusOK {
		return nil, fail("answered %s: %s", resp.Status, body)
	}
	var out struct {
		Spaces []client.SpaceEntry `json:"spaces"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fail("%v", err)
	}
	return out.Spaces, nil
}

// maxSpaceList bounds an owner's listing (some 150 bytes a space, max_spaces of them).
const maxSpaceList = 64 << 20
