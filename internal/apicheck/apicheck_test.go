package apicheck

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCheckFindsDrift feeds hand-made exchanges through the validator: each row is an
// answer the document must accept or refuse, so the checks the suite relies on are known
// to bite (OpenAPI 3.1 schemas go through kin-openapi's JSON Schema 2020-12 validator).
func TestCheckFindsDrift(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	const remembered = `{"memory_id":"m1","storage_confidence":{"value":0.7,"category":"Medium","reasoning":"r"},` +
		`"consolidation_state":"Recent","observed_at":"2024-05-01T12:00:00Z","stored_at":"2024-05-01T12:00:00Z",` +
		`"auto_links":[],"system_message":"s","memory_space_id":"default"}`
	tests := []struct {
		name           string
		method, target string
		reqBody        string
		status         int
		header         map[string]string
		respBody       string
		wantErr        string // "" = valid
	}{
		{"valid remember", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 201, nil, remembered, ""},
		{"wrong status", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 200, nil, remembered, "answer"},
		{"extra field", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 201, nil,
			strings.Replace(remembered, `"auto_links"`, `"surprise":1,"auto_links"`, 1), "surprise"},
		{"missing field", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 201, nil,
			strings.Replace(remembered, `"memory_id":"m1",`, ``, 1), "memory_id"},
		{"wrong type", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 201, nil,
			strings.Replace(remembered, `"memory_id":"m1"`, `"memory_id":1`, 1), "memory_id"},
		{"accepted invalid request", "POST", "/api/v1/memories/remember", `{"confidence":0.5}`, 201, nil, remembered, "accepted a request"},
		{"refused invalid request", "POST", "/api/v1/memories/remember", `{"confidence":5}`, 400, nil,
			`{"error":{"code":"INVALID_MEMORY_INPUT","message":"confidence"}}`, ""},
		{"error shape", "GET", "/api/v1/memories/m1", "", 404, nil, `{"error":{"code":"NOPE","message":"m"}}`, "code"},
		{"undocumented route", "GET", "/api/v1/memories/m1/neighbours", "", 200, nil, `{}`, "lacks"},
		{"unknown route answered 404", "GET", "/nowhere", "", 404, nil, `{"error":{"code":"RESOURCE_NOT_FOUND","message":"no route"}}`, ""},
		{"503 without Retry-After", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 503, nil,
			`{"error":{"code":"OVERLOADED","message":"busy"}}`, "Retry-After"},
		{"503 with Retry-After", "POST", "/api/v1/memories/remember", `{"content":"x"}`, 503, map[string]string{"Retry-After": "1"},
			`{"error":{"code":"OVERLOADED","message":"busy"}}`, ""},
		{"explicit association edge", "GET", "/api/v1/memories/m1/associations", "", 200, nil,
			`{"memory_id":"m1","associations":[{"target_memory_id":"m2","weight":0.6,"kind":"association"}],"count":1,"memory_space_id":"default"}`, ""},
		{"completion refused", "POST", "/api/v1/complete", `{"known_fields":{"what":"x"}}`, 422, nil,
			`{"error":{"code":"MEMORY_VALIDATION_ERROR","message":"no memory supports where_location"}}`, ""},
		{"introspect metric unknown to the document", "GET", "/api/v1/system/introspect", "", 200, nil,
			`{"memory_space_id":"default","metrics":{"happiness":1},"health":null,"statistics":null,"active_processes":[]}`, "happiness"},
		{"nullable time", "GET", "/api/v1/memories/m1", "", 200, nil,
			`{"id":"m1","content":"c","embedding":null,"confidence":{"value":0.7,"category":"Medium","reasoning":"r"},` +
				`"observed_at":"2024-05-01T12:00:00Z","stored_at":"2024-05-01T12:00:00Z","last_access":null,"access_count":0,` +
				`"tags":null,"memory_type":"episodic","tier":"hot","memory_space_id":"default"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://127.0.0.1:7432"+tt.target, strings.NewReader(tt.reqBody))
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{"Content-Type": {"application/json"}}}
			for k, v := range tt.header {
				resp.Header.Set(k, v)
			}
			err := v.Check(req, []byte(tt.reqBody), resp, []byte(tt.respBody))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("valid exchange refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("drift not found (want an error about %q)", tt.wantErr)
			case tt.wantErr != "" && (!errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want ErrMismatch about %q", err, tt.wantErr)
			}
		})
	}
	if n := len(v.Failures()); n != 9 {
		t.Fatalf("Failures() kept %d mismatches, want 9", n)
	}
}
