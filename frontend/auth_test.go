package frontend

import (
	"strings"
	"testing"
)

func TestRedactCredentials(t *testing.T) {
	const key = "k-9f8e7d"
	for _, s := range []string{
		"Authorization: Bearer " + key,
		`contents: "POST / HTTP/1.1\r\nauthorization: bearer ` + key + `\r\nHost: x"`,
		`"POST / HTTP/1.1\\r\\nAuthorization: Bearer ` + key + `\\r\\n"`,
		"authorization=Basic " + key,
		"header value \"Bearer\t" + key + "\"",
		"Bearer%20" + key,
	} {
		got := RedactCredentials(s)
		if strings.Contains(got, key) {
			t.Errorf("RedactCredentials(%q) = %q still holds the key", s, got)
		}
		if !strings.Contains(got, "[redacted]") {
			t.Errorf("RedactCredentials(%q) = %q says nothing was withheld", s, got)
		}
	}
	if s := "fasthttp: duplicate content-length header"; RedactCredentials(s) != s {
		t.Errorf("a message without a credential changed: %q", RedactCredentials(s))
	}
}
