package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// checkBoxAligned checks that every line of a box table has the same width and that
// column separators line up.
func checkBoxAligned(t *testing.T, table string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		if strings.ContainsAny(l, "│┌├└") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatal("no table lines")
	}
	sepCols := func(l string) []int {
		var cols []int
		i := 0
		for _, r := range l {
			if strings.ContainsRune("│┬┼┴┌┐├┤└┘", r) {
				cols = append(cols, i)
			}
			i++
		}
		return cols
	}
	want := sepCols(lines[0])
	for _, l := range lines {
		if utf8.RuneCountInString(l) != utf8.RuneCountInString(lines[0]) {
			t.Errorf("line %q is %d wide, want %d", l, utf8.RuneCountInString(l), utf8.RuneCountInString(lines[0]))
		}
		if got := sepCols(l); len(got) != len(want) || !equalInts(got, want) {
			t.Errorf("separators of %q at %v, want %v", l, got, want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
