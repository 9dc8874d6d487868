package httpapi

import (
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/httpapi/openapi"
)

// publicRoute reports the routes served without an API key when auth is on: the health
// probes, which name no space, and the API's own description, which holds no data.
func publicRoute(pattern string) bool {
	switch pattern {
	case "/health", "/health/alive", "/health/spreading", "/openapi.json", "/docs", "/docs/{asset}":
		return true
	}
	return false
}

// handleOpenAPI serves GET /openapi.json: the OpenAPI 3.1 document of this API.
func (s *Server) handleOpenAPI(rq *request) error {
	rq.ctx.Response.Header.Set("Cache-Control", "no-cache")
	writeRaw(rq.ctx, http.StatusOK, openapi.Document())
	return nil
}

// handleDocs serves GET /docs and its assets: Swagger UI over /openapi.json, from files
// embedded in the binary. [http] docs = false answers 404 as for any unknown route.
func (s *Server) handleDocs(rq *request) error {
	name := rq.param
	if name == "" {
		name = "index.html"
	}
	if s.opts.HideAPIDocs {
		return frontend.Errorf(http.StatusNotFound, frontend.CodeNotFound,
			fmt.Sprintf("no route %s %s: the API documentation page is off ([http] docs = false); the document is at /openapi.json", rq.ctx.Method(), rq.ctx.Path()))
	}
	b, err := fs.ReadFile(openapi.UI(), name)
	if err != nil {
		return frontend.Errorf(http.StatusNotFound, frontend.CodeNotFound, fmt.Sprintf("no documentation asset %q", name))
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	rq.ctx.SetContentType(ct)
	rq.ctx.Response.Header.Set("Cache-Control", "no-cache")
	rq.ctx.SetStatusCode(http.StatusOK)
	rq.ctx.SetBody(b)
	return nil
}
