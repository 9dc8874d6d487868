// Package assoc measures associative recall: whether spreading activation reaches
// memories that only an association makes relevant, and what it costs against a recall
// by similarity alone.
//
// BenchmarkAssociativeRecall generates tens of thousands of clustered memories with many
// two-hop chains a -> b -> c hidden among them (cos(a,b) = cos(b,c) = 0.75, cos(a,c) =
// 0.125, the geometry of docs/spreading-activation.md's worked example), lets the
// engine's background linker build every association edge, then recalls each chain by a
// cue near a, in hybrid and in similarity mode, alternating, on the same data in the same
// run. It reports the share of chains whose c is returned through b, the share of the
// returned associated memories that belong to the queried chain, and the latency
// percentiles of both modes. benchmarks/RESULTS.md records the figures and the command.
package assoc
