package client

import (
	"encoding/json"
	"testing"

	"github.com/engram-go/engram/frontend/httpapi/openapi"
)

// TestEveryDocumentedCodeHasASentinel holds codeErrors to the error codes of the OpenAPI
// document (which a test in frontend/httpapi holds to frontend/errors.go), so a code the
// server starts to answer is never left to status-only matching.
func TestEveryDocumentedCodeHasASentinel(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	codes := doc.Components.Schemas["Error"].Properties["error"].Properties["code"].Enum
	if len(codes) == 0 {
		t.Fatal("no error codes in the document's Error schema")
	}
	for _, code := range codes {
		if _, ok := codeErrors[code]; !ok {
			t.Errorf("code %s has no sentinel in codeErrors", code)
		}
	}
}
