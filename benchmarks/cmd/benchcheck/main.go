package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command without the process around it; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p Policy
	fs.Float64Var(&p.Threshold, "threshold", 10, "percent worse tolerated before a significant change is a regression")
	fs.Float64Var(&p.Alpha, "alpha", 0.05, "significance level: a change counts only when p < alpha")
	fs.BoolVar(&p.Allocs, "allocs", false, "judge B/op and allocs/op as well")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: benchcheck [-threshold pct] [-alpha p] [-allocs] [benchstat.csv | -]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 || p.Threshold < 0 || p.Alpha <= 0 || p.Alpha > 1 {
		fs.Usage()
		return 2
	}
	in := stdin
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "benchcheck:", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	cs, err := Parse(in)
	if err != nil {
		fmt.Fprintln(stderr, "benchcheck:", err)
		return 2
	}
	v := Judge(cs, p)
	if v.Judged == 0 {
		fmt.Fprintf(stderr, "benchcheck: no comparison to judge among %d rows: do the baseline and the new run share benchmarks, "+
			"and were they taken on the same CPU (benchstat keeps each cpu: in its own table)?\n", len(cs))
		return 2
	}
	for _, c := range v.Improvements {
		fmt.Fprintln(stdout, "improved: ", c)
	}
	for _, c := range v.Regressions {
		fmt.Fprintln(stdout, "REGRESSED:", c)
	}
	fmt.Fprintf(stdout, "%d comparisons judged: %d regressions, %d improvements past %g%% (p < %g)\n",
		v.Judged, len(v.Regressions), len(v.Improvements), p.Threshold, p.Alpha)
	if len(v.Regressions) > 0 {
		return 1
	}
	return 0
}
