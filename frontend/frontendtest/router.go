package frontendtest

import (
	"context"

	"github.com/engram-go/engram/frontend"
)

// Router is a frontend.Router of fixed answers: a space in Errs has no owner, one in
// Owners is served by that node, any other is local. Fill it before serving.
type Router struct {
	Owners map[string]frontend.Owner
	Errs   map[string]error
}

// Route answers from the maps.
func (r Router) Route(space string) (frontend.Owner, bool, error) {
	if err := r.Errs[space]; err != nil {
		return frontend.Owner{}, false, err
	}
	o, elsewhere := r.Owners[space]
	return o, !elsewhere, nil
}

// Directory is a frontend.SpaceDirectory of a fixed list of space ids.
type Directory []string

// ClusterSpaces answers the list.
func (d Directory) ClusterSpaces(context.Context) ([]string, error) { return d, nil }
