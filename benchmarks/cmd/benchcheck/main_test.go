package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cmp.csv")
	if err := os.WriteFile(file, []byte(twoPackages), 0o644); err != nil {
		t.Fatal(err)
	}
	unchanged := "pkg: p\n,a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\nX-2,1,1%,1.01,1%,~,p=0.400 n=6\n"
	onlyCounts := "pkg: p\n,a,,b,,,\n,visited/op,CI,visited/op,CI,vs base,P\nX-2,1,1%,2,1%,+100%,p=0.002 n=6\n"
	otherCPU := "pkg: p\ncpu: A\n,a,\n,sec/op,CI\nX-2,1,1%\n\ncpu: B\n,b,\n,sec/op,CI\nX-2,2,1%\n"
	tests := []struct {
		name   string
		args   []string
		stdin  string
		status int
		out    string // expected in stdout
	}{
		{"regression from a file", []string{file}, "", 1, "REGRESSED: github.com/engram-go/engram/simd Cosine768/generic-2 [sec/op]"},
		{"throughput drop from stdin", []string{"-threshold", "25", "-"}, twoPackages, 0, "0 regressions"},
		{"unchanged", nil, unchanged, 0, "1 comparisons judged: 0 regressions"},
		{"nothing judged", nil, onlyCounts, 2, ""},
		{"runs from two CPUs", nil, otherCPU, 2, ""},
		{"not a comparison", nil, ",a,,b,,c,,,,\n", 2, ""},
		{"missing file", []string{filepath.Join(t.TempDir(), "absent.csv")}, "", 2, ""},
		{"two files", []string{file, file}, "", 2, ""},
		{"negative threshold", []string{"-threshold", "-1", file}, "", 2, ""},
		{"unknown flag", []string{"-fast"}, "", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if status != tt.status {
				t.Fatalf("status %d, want %d\nstdout: %s\nstderr: %s", status, tt.status, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Fatalf("stdout %q does not contain %q", stdout.String(), tt.out)
			}
			if tt.status == 2 && stderr.Len() == 0 {
				t.Fatal("usage error without a message on stderr")
			}
		})
	}
}
