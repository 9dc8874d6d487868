package main

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// TestMixedBatches: every line of a mixed batch is a memory with a vector of the asked
// dimension, and no two memories share a vector or a content.
func TestMixedBatches(t *testing.T) {
	const dim, n = 8, 5
	pool := newVectorPool(rand.New(rand.NewPCG(1, 1)))
	fill := mixedBatches("s", pool, dim, n)
	contents, vectors := map[string]bool{}, map[string]bool{}
	for i := range int64(3) {
		var req fasthttp.Request
		fill(i, &req)
		if got := string(req.Header.Peek("X-Memory-Space")); got != "s" {
			t.Fatalf("space header %q", got)
		}
		lines := bytes.Split(bytes.TrimSpace(req.Body()), []byte{'\n'})
		if len(lines) != n {
			t.Fatalf("batch of %d lines, want %d", len(lines), n)
		}
		for _, l := range lines {
			v, err := fastjson.ParseBytes(l)
			if err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if got := len(v.GetArray("embedding")); got != dim {
				t.Fatalf("embedding of %d values, want %d", got, dim)
			}
			c, e := string(v.GetStringBytes("content")), v.Get("embedding").String()
			if contents[c] || vectors[e] {
				t.Fatalf("memory %q repeats a content or a vector", c)
			}
			contents[c], vectors[e] = true, true
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header string
		want   time.Duration
	}{
		{"overloaded", 503, "1", time.Second},
		{"too many requests, long pause capped", 429, "30", time.Second},
		{"no header", 503, "", 0},
		{"a date is not followed", 503, "Wed, 21 Oct 2015 07:28:00 GMT", 0},
		{"success ignores it", 200, "5", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp fasthttp.Response
			resp.SetStatusCode(tc.status)
			if tc.header != "" {
				resp.Header.Set("Retry-After", tc.header)
			}
			if got := retryAfter(&resp); got != tc.want {
				t.Fatalf("retryAfter = %v, want %v", got, tc.want)
			}
		})
	}
}
