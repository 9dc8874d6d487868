package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// column of a box table.
type column struct {
	title string
	right bool // right-aligned (numbers)
}

// writeTable draws a box table sized to its content: one space of padding each side of
// every cell.
func writeTable(w io.Writer, cols []column, rows [][]string) error {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c.title)
	}
	for _, r := range rows {
		for i := range cols {
			if n := utf8.RuneCountInString(r[i]); n > widths[i] {
				widths[i] = n
			}
		}
	}
	var b strings.Builder
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for i, wd := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", wd+2))
		}
		b.WriteString(right + "\n")
	}
	line := func(cells []string, header bool) {
		b.WriteString("│")
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if cols[i].right && !header {
				b.WriteString(" " + pad + c + " │")
			} else {
				b.WriteString(" " + c + pad + " │")
			}
		}
		b.WriteString("\n")
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	rule("┌", "┬", "┐")
	line(titles, true)
	rule("├", "┼", "┤")
	for _, r := range rows {
		line(r, false)
	}
	rule("└", "┴", "┘")
	_, err := io.WriteString(w, b.String())
	return err
}

// clip shortens s to at most n runes, marking the cut with an ellipsis, and puts it on
// one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// plural writes "1 memory" / "3 memories".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// formatTime shows an RFC 3339 time in UTC to the second; anything else as given.
func formatTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
