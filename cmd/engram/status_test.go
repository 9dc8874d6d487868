package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/engram-go/engram/client"
)

func TestStatusTableGolden(t *testing.T) {
	spaces := []client.SpaceHealth{
		{Space: "default", Memories: 1200, Pressure: 0.012, WALLagMS: 0, ConsolidationRate: 0},
		{Space: "production", Memories: 3500, Pressure: 0.15, WALLagMS: 2.5, ConsolidationRate: 12.3},
		{Space: "staging", Memories: 0, Pressure: 1, WALLagMS: 1234.567, ConsolidationRate: 0.004},
		{Space: "a-very-long-space-name-for-a-tenant", Memories: 123456789, Pressure: 0.9999, WALLagMS: 0.001, ConsolidationRate: 1000},
	}
	var buf bytes.Buffer
	if err := writeStatus(&buf, spaces); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "status.golden", buf.Bytes())
	checkBoxAligned(t, buf.String())
}

// The header and borders are those of the contract, character for character.
func TestStatusTableMatchesContract(t *testing.T) {
	const contract = "Per-Space Metrics:\n" +
		"┌────────────────────┬───────────┬──────────┬─────────────┬─────────────────┐\n" +
		"│ Space              │ Memories  │ Pressure │ WAL Lag (ms)│ Consolidation   │\n" +
		"├────────────────────┼───────────┼──────────┼─────────────┼─────────────────┤\n"
	var buf bytes.Buffer
	if err := writeStatus(&buf, []client.SpaceHealth{{Space: "production", Memories: 3500, Pressure: 0.15, WALLagMS: 2.5, ConsolidationRate: 12.3}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), contract) {
		t.Fatalf("header differs from the contract:\n%s", buf.String())
	}
	row := strings.Split(buf.String(), "\n")[4]
	for _, cell := range []string{"│ production         │", "│      3500 │", "│    15.0% │", "│        2.50 │", "12.30/s │"} {
		if !strings.Contains(row, cell) {
			t.Errorf("row %q lacks %q", row, cell)
		}
	}
}

func TestStatusTableEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStatus(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 5 {
		t.Fatalf("empty table has %d lines, want 5:\n%s", n, buf.String())
	}
}
