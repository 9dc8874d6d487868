package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrFormat rejects input that is not benchstat's CSV comparison of two files.
var ErrFormat = errors.New("benchcheck: not a benchstat CSV comparison of two inputs")

// Comparison is one row of a benchstat table: one benchmark in one unit, baseline
// against new.
type Comparison struct {
	Pkg      string // from the last "pkg:" line before the table
	Name     string // benchmark name as benchstat prints it (without the Benchmark prefix)
	Unit     string // sec/op, B/s, recall@10, ...
	Old, New float64
	// Significant is false when benchstat printed "~": the difference may be noise.
	Significant bool
	Delta       float64 // percent change of the value, New against Old
	P           float64 // p-value of the test benchstat ran (1 when it printed none)
}

func (c Comparison) String() string {
	name := c.Name
	if c.Pkg != "" {
		name = c.Pkg + " " + c.Name
	}
	return fmt.Sprintf("%s [%s]: %s → %s (%+.2f%%, p=%.3f)", name, c.Unit, formatValue(c.Old), formatValue(c.New), c.Delta, c.P)
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// Parse reads benchstat's CSV output. It returns every row that has a value on both
// sides; rows present on one side only and geomean rows are left out.
func Parse(r io.Reader) ([]Comparison, error) {
	var (
		out     []Comparison
		pkg     string
		unit    string
		inTable bool
		single  bool // a table of one input: its configuration (cpu, pkg) is on one side only
		lineNo  int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			inTable, single, unit = false, false, ""
			continue
		}
		rec, err := csvFields(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w: %v", lineNo, ErrFormat, err)
		}
		switch {
		case !inTable && len(rec) == 1:
			// A configuration line such as "pkg: github.com/..." or "goos: linux".
			k, v, ok := strings.Cut(rec[0], ": ")
			if !ok || strings.ContainsAny(k, " \t│") {
				return nil, fmt.Errorf("line %d: %w: unexpected line %q", lineNo, ErrFormat, line)
			}
			if k == "pkg" {
				pkg = strings.TrimSpace(v)
			}
		case !inTable && rec[0] == "":
			// The header row naming the input files opens a table.
			switch len(rec) {
			case 7:
			case 3:
				single = true
			default:
				return nil, fmt.Errorf("line %d: %w: header has %d columns, want 7 (two inputs)", lineNo, ErrFormat, len(rec))
			}
			inTable = true
		case inTable && single:
			// Nothing to compare; the benchmarks are reported as missing on one side.
		case inTable && unit == "" && rec[0] == "":
			if len(rec) != 7 || rec[5] != "vs base" {
				return nil, fmt.Errorf("line %d: %w: unexpected unit row %q", lineNo, ErrFormat, line)
			}
			unit = rec[1]
		case inTable && unit != "":
			c, ok, err := parseRow(rec)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			if ok {
				c.Pkg, c.Unit = pkg, unit
				out = append(out, c)
			}
		default:
			return nil, fmt.Errorf("line %d: %w: unexpected line %q", lineNo, ErrFormat, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read comparison: %w", err)
	}
	return out, nil
}

func csvFields(line string) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(line))
	cr.FieldsPerRecord = -1
	return cr.Read()
}

// parseRow reads name, old, CI, new, CI, delta, "p=… n=…". ok is false for rows that
// compare nothing: the geomean, and benchmarks missing on one side.
func parseRow(rec []string) (c Comparison, ok bool, err error) {
	if rec[0] == "geomean" || len(rec) < 7 || rec[1] == "" || rec[3] == "" {
		return Comparison{}, false, nil
	}
	c.Name = rec[0]
	if c.Old, err = strconv.ParseFloat(rec[1], 64); err != nil {
		return Comparison{}, false, fmt.Errorf("%w: baseline value of %s: %v", ErrFormat, c.Name, err)
	}
	if c.New, err = strconv.ParseFloat(rec[3], 64); err != nil {
		return Comparison{}, false, fmt.Errorf("%w: new value of %s: %v", ErrFormat, c.Name, err)
	}
	switch delta := rec[5]; {
	case delta == "~":
	case delta == "?" || delta == "":
		return Comparison{}, false, nil // benchstat could not compare (a zero, or too few runs)
	default:
		pct, perr := strconv.ParseFloat(strings.TrimSuffix(delta, "%"), 64)
		if perr != nil || !strings.HasSuffix(delta, "%") {
			return Comparison{}, false, fmt.Errorf("%w: delta %q of %s", ErrFormat, delta, c.Name)
		}
		c.Significant, c.Delta = true, pct
	}
	if !c.Significant {
		c.Delta = percentChange(c.Old, c.New)
	}
	c.P = 1
	for _, f := range strings.Fields(rec[6]) {
		if v, found := strings.CutPrefix(f, "p="); found {
			if c.P, err = strconv.ParseFloat(v, 64); err != nil {
				return Comparison{}, false, fmt.Errorf("%w: p-value %q of %s", ErrFormat, v, c.Name)
			}
		}
	}
	return c, true, nil
}

func percentChange(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Inf(int(math.Copysign(1, new)))
	}
	return (new - old) / math.Abs(old) * 100
}
