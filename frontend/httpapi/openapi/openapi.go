package openapi

import (
	"embed"
	"io/fs"
)

//go:embed openapi.json
var document []byte

//go:embed swagger-ui/index.html swagger-ui/init.js swagger-ui/swagger-ui.css swagger-ui/swagger-ui-bundle.js swagger-ui/favicon-32x32.png
var ui embed.FS

// Document returns the OpenAPI document (JSON). Callers must not modify it.
func Document() []byte { return document }

// UI returns the documentation page's files: index.html and the assets it loads, by their
// names ("index.html", "swagger-ui.css", …).
func UI() fs.FS {
	sub, err := fs.Sub(ui, "swagger-ui")
	if err != nil {
		panic(err) // the directory is embedded above; a failure here is a build defect
	}
	return sub
}
