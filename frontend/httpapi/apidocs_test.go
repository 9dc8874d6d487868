package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/httpapi/openapi"
)

// documentedOperations returns "METHOD /path" of every operation of the OpenAPI document.
func documentedOperations(t *testing.T) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				ops[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	return ops
}

// TestOpenAPIDocumentsEveryRoute compares the route table with the document both ways,
// so that a route added without its documentation (or documentation of a route that is
// gone) fails here, before any end-to-end test runs.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	// Stopping a server whose listener has not begun serving yet waits out Stop's
	// deadline (fasthttp's Serve can start after Shutdown); one request first keeps this
	// test about the document.
	ts.get(t, "/health/alive").expectStatus(t, http.StatusOK)
	docOps := documentedOperations(t)
	served := map[string]bool{}
	for _, r := range ts.srv.router.routes() {
		for m := range r.methods {
			served[m+" "+r.pattern] = true
		}
	}
	var missing, stale []string
	for op := range served {
		if !docOps[op] {
			missing = append(missing, op)
		}
	}
	for op := range docOps {
		if !served[op] {
			stale = append(stale, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("frontend/httpapi/openapi/openapi.json is out of date:\n  served, not documented: %v\n  documented, not served: %v", missing, stale)
	}
}

// TestAPIDocsRoutes checks /openapi.json and /docs, the [http] docs switch, and that
// both are served without a key when auth is on.
func TestAPIDocsRoutes(t *testing.T) {
	keys := frontendtest.Keys{"k": {Name: "k", Spaces: []string{"*"}}}
	on := newTestServer(t, withFrontend(func(o *frontend.Options) { o.Auth = keys }))
	off := newTestServer(t, withFrontend(func(o *frontend.Options) { o.HideAPIDocs = true }))
	tests := []struct {
		name   string
		ts     *testServer
		path   string
		status int
		ctype  string
		holds  string
	}{
		{"document", on, "/openapi.json", 200, "application/json", `"openapi": "3.1.0"`},
		{"page", on, "/docs", 200, "text/html", "swagger-ui-bundle.js"},
		{"page with slash", on, "/docs/", 200, "text/html", "swagger-ui-bundle.js"},
		{"script", on, "/docs/swagger-ui-bundle.js", 200, "text/javascript", "SwaggerUIBundle"},
		{"style", on, "/docs/swagger-ui.css", 200, "text/css", ".swagger-ui"},
		{"unknown asset", on, "/docs/nothing.js", 404, "application/json", "RESOURCE_NOT_FOUND"},
		{"no escape", on, "/docs/..%2Fopenapi.go", 404, "application/json", "RESOURCE_NOT_FOUND"},
		{"spreading health", on, "/health/spreading", 200, "application/json", `"open_spaces"`},
		{"data still needs a key", on, "/api/v1/spaces", 401, "application/json", "UNAUTHORIZED"},
		{"spreading config needs a key", on, "/api/v1/system/spreading/config", 401, "application/json", "UNAUTHORIZED"},
		{"page off", off, "/docs", 404, "application/json", "docs = false"},
		{"document stays", off, "/openapi.json", 200, "application/json", `"paths"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.ts.get(t, tt.path)
			if a.status != tt.status || !strings.HasPrefix(a.header.Get("Content-Type"), tt.ctype) || !bytes.Contains(a.body, []byte(tt.holds)) {
				t.Fatalf("GET %s: %d %s %.120q; want %d %s holding %q", tt.path, a.status, a.header.Get("Content-Type"), a.body, tt.status, tt.ctype, tt.holds)
			}
		})
	}
}

// TestAPIDocsRenderInChromium loads /docs in headless Chromium and checks that Swagger UI
// rendered every path of the document from the embedded assets alone. Set
// ENGRAM_DOCS_SCREENSHOT=file.png to keep a screenshot of the page.
func TestAPIDocsRenderInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium; .ci/run installs it): the /docs page is not rendered")
	}
	ts := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.ServeOn(ln, ""); err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/docs"
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=15000"}
		cmd := exec.CommandContext(ctx, browser, append(append(base, args...), url)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	dom := run("--dump-dom")
	if !bytes.Contains(dom, []byte(`class="swagger-ui"`)) || !bytes.Contains(dom, []byte("Engram HTTP API")) {
		t.Fatalf("the page did not render Swagger UI:\n%.2000s", dom)
	}
	for op := range documentedOperations(t) {
		method, path, _ := strings.Cut(op, " ")
		if !bytes.Contains(dom, []byte(`data-path="`+path+`"`)) || !bytes.Contains(dom, []byte(`opblock-`+strings.ToLower(method))) {
			t.Errorf("operation %s is not rendered", op)
		}
	}
	if shot := os.Getenv("ENGRAM_DOCS_SCREENSHOT"); shot != "" {
		abs, err := filepath.Abs(shot)
		if err != nil {
			t.Fatal(err)
		}
		run("--hide-scrollbars", "--window-size=1280,1800", "--screenshot="+abs)
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("screenshot: %v", err)
		}
	}
}

// TestOpenAPIErrorCodes holds the Error schema's code enum equal to the Code constants
// of frontend/errors.go, read from the source so that a code added there without its
// documentation fails here.
func TestOpenAPIErrorCodes(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				code, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				consts = append(consts, code)
			}
		}
	}
	if len(consts) == 0 {
		t.Fatal("no Code constants found in frontend/errors.go")
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `json:"enum"`
								} `json:"code"`
							} `json:"properties"`
						} `json:"error"`
					} `json:"properties"`
				} `json:"Error"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	sort.Strings(consts)
	sort.Strings(documented)
	if !slices.Equal(consts, documented) {
		t.Fatalf("the Error schema's code enum differs from frontend/errors.go's Code constants:\n  constants: %v\n  document:  %v", consts, documented)
	}
}
