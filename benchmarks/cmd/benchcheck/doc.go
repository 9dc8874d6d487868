// Command benchcheck fails on a statistically significant benchmark regression.
//
// It reads the CSV that benchstat writes when it compares a baseline with a new run
// (benchstat -format csv baseline.txt new.txt), and judges every comparison whose unit
// has a known direction:
//
//   - lower is better: sec/op and other sec/<unit> (ns/op, ns/row), latency percentiles
//     (-ms, -us, -ns suffixes), and with -allocs also B/op and allocs/op;
//   - higher is better: throughputs (any unit ending in /s: B/s, records/s, req/s),
//     recall@k and speed-up ratios (x-generic, x-one-space).
//
// Units without a known direction (visited/op, records/fsync, memories) are reported as
// counts, never judged. A comparison is a regression when benchstat found the change
// significant (p < -alpha, 0.05 by default) and it is worse than -threshold percent
// (10 by default). benchcheck prints every regression and improvement and exits with 1
// when there is at least one regression, 2 when the input holds no comparison it could
// judge (wrong file, baseline from another machine, no benchmark in common).
//
//	benchstat -format csv benchmarks/baseline.txt benchmarks/results/abc1234.txt > cmp.csv
//	go run ./benchmarks/cmd/benchcheck -threshold 10 cmp.csv
package main
