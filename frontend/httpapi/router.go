package httpapi

import (
	"sort"
	"strings"
)

// handlerFunc serves one route. A returned error is answered in the shared JSON error
// shape; a handler that returns nil has written its answer.
type handlerFunc func(rq *request) error

// route is one path pattern with its handlers by method.
type route struct {
	pattern string // the metrics label, e.g. "/api/v1/memories/{id}"
	methods map[string]handlerFunc
	allow   string // the Allow header of a 405 answer
}

// router matches exact paths first, then single-segment parameters under a prefix
// ("/api/v1/memories/{id}"), so fixed sub-routes such as /api/v1/memories/recall always
// win over an id.
type router struct {
	exact  map[string]*route
	params []paramRoute
}

type paramRoute struct {
	prefix string // ends with "/"
	suffix string // "" or the fixed rest after the parameter, e.g. "/export"
	route  *route
}

func newRouter() *router { return &router{exact: map[string]*route{}} }

// handle registers h for method on pattern; a "/{name}" segment, last or followed by a
// fixed rest ("/api/v1/spaces/{id}/export"), takes one path segment as its parameter.
func (rt *router) handle(method, pattern string, h handlerFunc) {
	r := rt.find(pattern)
	if r == nil {
		r = &route{pattern: pattern, methods: map[string]handlerFunc{}}
		if i := strings.Index(pattern, "{"); i >= 0 {
			_, suffix, _ := strings.Cut(pattern[i:], "}")
			rt.params = append(rt.params, paramRoute{prefix: pattern[:i], suffix: suffix, route: r})
		} else {
			rt.exact[pattern] = r
		}
	}
	r.methods[method] = h
	methods := make([]string, 0, len(r.methods))
	for m := range r.methods {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	r.allow = strings.Join(methods, ", ")
}

func (rt *router) find(pattern string) *route {
	if r, ok := rt.exact[pattern]; ok {
		return r
	}
	for _, p := range rt.params {
		if p.route.pattern == pattern {
			return p.route
		}
	}
	return nil
}

// lookup returns the route of path and its parameter, or nil.
func (rt *router) lookup(path string) (*route, string) {
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if r, ok := rt.exact[path]; ok {
		return r, ""
	}
	for _, p := range rt.params {
		rest, ok := strings.CutPrefix(path, p.prefix)
		if ok && p.suffix != "" {
			rest, ok = strings.CutSuffix(rest, p.suffix)
		}
		if ok && rest != "" && !strings.Contains(rest, "/") {
			return p.route, rest
		}
	}
	return nil, ""
}

// routes returns every pattern, for the metrics.
func (rt *router) routes() []*route {
	out := make([]*route, 0, len(rt.exact)+len(rt.params))
	for _, r := range rt.exact {
		out = append(out, r)
	}
	for _, p := range rt.params {
		out = append(out, p.route)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pattern < out[j].pattern })
	return out
}
