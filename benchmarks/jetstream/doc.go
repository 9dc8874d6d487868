// Package jetstream is the measurement that decides how the cluster (docs/cluster.md) batches
// its writes: NATS JetStream on three servers embedded in this process, clustered over
// loopback, receiving remember records of a 768-d memory, set against the engine's own WAL
// group commit driven by the same writers with the same payloads in the same run.
//
// BenchmarkJetStream reports, per configuration (replicas, streams, publish mode, records per
// message, server sync policy): records/s, ack latency p50/p99, CPU seconds per record of the
// whole process (three servers, clients and all), and how busy the machine was meanwhile.
// -set full runs the whole matrix, -set key the comparison the decision rests on; the
// default -set one (as in `make test`) runs one configuration and the WAL baseline, so a
// -benchtime=1x pass stays cheap. benchmarks/README.md has the commands and
// benchmarks/RESULTS.md the figures.
//
// Invariants:
//
//   - Every acknowledged record is checked afterwards: a stream holds exactly the messages
//     acknowledged to it, a WAL reports exactly the records appended; a mismatch fails the run.
//   - Each WAL configuration gets a fresh directory. The servers of one sync policy, and the
//     streams of one (policy, replicas, streams), are created once and shared by every run
//     that uses them, as a cluster's fixed partitions would be; each run's message ids are its
//     own, so no run's publish is deduplicated against another's.
//   - Figures are only comparable within one run: configurations of a run alternate in rounds
//     (-rounds), so a burst of load on the shared machine spoils one sample of each rather than
//     every sample of one.
package jetstream
