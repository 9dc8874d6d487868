package client_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/frontend/httpapi/openapi"
)

// jsonFields returns the JSON names of t's fields, those of embedded structs included.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}

// TestTypesMatchTheDocument holds each answer type to its schema in the OpenAPI document
// (the same property names, both ways) and each request type to a subset of its schema's,
// so that a field renamed or added on one side only fails here.
func TestTypesMatchTheDocument(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		schema  string
		v       any
		request bool // the type sends some of the schema's fields
	}{
		{"ConfidenceInfo", client.ConfidenceInfo{}, false},
		{"MemoryResult", client.MemoryResult{}, false},
		{"Memory", client.Memory{}, false},
		{"Episode", client.Episode{}, false},
		{"RememberResponse", client.RememberResponse{}, false},
		{"ClusterStatus", client.ClusterStatus{}, false},
		{"RecallResponse", client.RecallResponse{}, false},
		{"ProbabilisticResponse", client.ProbabilisticResponse{}, false},
		{"SearchResponse", client.SearchResponse{}, false},
		{"Belief", client.Belief{}, false},
		{"ConsolidationsResponse", client.ConsolidationsResponse{}, false},
		{"Association", client.Association{}, false},
		{"AssociationsAnswer", client.AssociationsResponse{}, false},
		{"SystemHealth", client.SystemHealth{}, false},
		{"Health", client.Health{}, false},
		{"QueryResponse", client.QueryResponse{}, false},
		{"CompleteRequest", client.CompleteRequest{}, true},
		{"CompleteResponse", client.CompleteResponse{}, false},
		{"FieldValue", client.FieldValue{}, false},
		{"FieldCompletion", client.FieldCompletion{}, false},
		{"RecognizeRequest", client.RecognizeRequest{}, true},
		{"RecognizeResponse", client.RecognizeResponse{}, false},
		{"AssociateRequest", client.AssociateRequest{}, true},
		{"AssociateResponse", client.AssociateResponse{}, false},
		{"ConsolidateResponse", client.ConsolidateResponse{}, false},
		{"ReplayedEpisode", client.ReplayedEpisode{}, false},
		{"ReplayResponse", client.ReplayResponse{}, false},
		{"IntrospectResponse", client.IntrospectResponse{}, false},
		{"ComponentHealth", client.ComponentHealth{}, false},
		{"CompactFigures", client.CompactFigures{}, false},
		{"CompactResponse", client.CompactResponse{}, false},
		{"SpreadParams", client.SpreadParams{}, false},
		{"SpreadingConfig", client.SpreadingConfig{}, false},
		{"SpreadingHealth", client.SpreadingHealth{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			s, ok := doc.Components.Schemas[tt.schema]
			if !ok {
				t.Fatalf("the document has no schema %s", tt.schema)
			}
			var documented []string
			for name := range s.Properties {
				documented = append(documented, name)
			}
			sort.Strings(documented)
			fields := jsonFields(reflect.TypeOf(tt.v))
			sort.Strings(fields)
			for _, f := range fields {
				if !slices.Contains(documented, f) {
					t.Errorf("%T field %q is not in the schema's properties %v", tt.v, f, documented)
				}
			}
			if !tt.request && !slices.Equal(fields, documented) {
				t.Errorf("%T fields %v, schema %s properties %v", tt.v, fields, tt.schema, documented)
			}
		})
	}
}
