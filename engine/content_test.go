package engine

import (
	"strings"
	"testing"
)

func TestCheckContent(t *testing.T) {
	tests := []struct {
		name    string
		content string
		limit   int
		want    ContentFault
	}{
		{"text", "hello", 5, ContentOK},
		{"empty", "", 5, ContentEmpty},
		{"white space", " \t\n", 5, ContentEmpty},
		{"over the limit", "hello!", 5, ContentTooLong},
		{"at the hard bound", strings.Repeat("a", MaxContentBytes), 1 << 30, ContentOK},
		{"over the hard bound, whatever the limit", strings.Repeat("a", MaxContentBytes+1), 1 << 30, ContentTooLong},
		{"not UTF-8", "bad \xff", 10, ContentNotUTF8},
		{"empty before too long", strings.Repeat(" ", 10), 5, ContentEmpty},
	}
	for _, tc := range tests {
		if got := CheckContent(tc.content, tc.limit); got != tc.want {
			t.Errorf("%s: CheckContent = %d, want %d", tc.name, got, tc.want)
		}
	}
}
