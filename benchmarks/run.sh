#!/usr/bin/env bash
# run.sh OUT runs the tracked benchmark set and writes its output to OUT, for benchstat.
#
# Each benchmark runs BENCHCOUNT times (default 6: benchstat needs at least 5 runs a side
# to call a difference significant at p < 0.05) with a -benchtime chosen so that the set
# finishes in about 7 minutes on the 2-core development machine. The runs are interleaved:
# round 1 runs every benchmark once, then round 2, and so on, so that a burst of load from
# a neighbour on a shared machine lands on one sample of many benchmarks rather than on
# all samples of one (which benchstat would take for a significant change). The list below is the
# documented set (benchmarks/README.md); heavier benchmarks (engine recovery of 100k
# memories, recall at 100k, multi-tenancy without fsync, 10,000 idle spaces, the HTTP load
# generator) are run by hand and reported in benchmarks/RESULTS.md.
#
# The output is written to a temporary file and moved to OUT only when every run passed,
# so an interrupted run never becomes the newest results file.
set -euo pipefail

out=${1:?usage: run.sh results-file}
count=${BENCHCOUNT:-6}
go=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/engram-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
tmp=$work/results.txt

# Each package's test binary is built once and run from its package folder, as go test
# would, so the rounds do not pay for linking.
binary() {
	local pkg=$1 bin=$work/$(echo "$1" | tr '/.' '__').test
	if [ ! -x "$bin" ]; then
		(cd "$root" && "$go" test -c -o "$bin" "$pkg")
	fi
	echo "$bin"
}

# bench PACKAGE REGEX BENCHTIME [TEST FLAGS...] runs one sample of the benchmarks.
bench() {
	local pkg=$1 re=$2 benchtime=$3 bin
	shift 3
	bin=$(binary "$pkg")
	echo "== round $round/$count: $pkg -bench '$re' -benchtime=$benchtime $*" >&2
	(cd "$root/$pkg" && "$bin" -test.run '^$' -test.bench "$re" -test.benchtime "$benchtime" -test.count 1 \
		-test.benchmem -test.timeout 30m "$@") | tee -a "$tmp"
}

for round in $(seq "$count"); do
	# Limits of the machine, first, while nothing else of ours runs.
	bench ./benchmarks/limits   'MemCopy|Fdatasync'                1s
	bench ./benchmarks/limits   'SpreadSync'                       200x
	# SIMD kernels per CPU path (x-generic = speed-up over the portable loop) and the hot
	# slab scan against a copy of the same bytes.
	bench ./simd                'Cosine768|Quantize768|DotBatch100k|Copy100k' 0.5s
	# Hot (in-heap), warm (mapped float32) and cold (mapped int8) scans of 100k 768-d rows.
	bench ./engine/tier         'Scan(HotSlab|Warm|Cold)100k'      0.5s
	bench ./engine/index        'TopK|LexicalSearch'               0.5s
	# HNSW on 10k rows (the documented figure uses 20k and 100k): time and recall@10 per ef.
	bench ./engine/index        'HNSWSearch'                       400x  -hnsw.rows=10000
	bench ./engine/index        'HNSWLoad'                         20x
	# What the index lane spends per text-only memory (768-d, the built-in embedder).
	bench ./engine/index        'HNSWInsertText'                   20000x
	bench ./engine/graph        'Spread$'                          0.5s
	# WAL: durable appends by concurrency (group commit), replay of 1M records.
	bench ./engine/wal          'AppendAlways'                     4000x
	bench ./engine/wal          'Recovery'                         5x
	# Engine: durable remember by concurrency, an HTTP-shaped remember (768-d client embedding)
	# with and without fdatasync, the same in batches of 100, hybrid recall on 5,000 memories, reinforcing
	# recalls from 8 readers while 4 writers remember, code scans, tenancy, restart.
	bench ./engine              'Remember$'                        3000x
	bench ./engine              'RememberEmbedded'                 20000x
	bench ./engine              'RememberBatch'                    20000x
	bench ./engine              'RecallHybrid'                     300x  -engine.recallrows=5000
	bench ./engine              'RecallUnderWrites'                2000x -engine.recallrows=2000
	# Code scans of the rows the index has not taken yet, alone and in shared passes.
	bench ./engine              'CodeScans'                        200x
	bench ./engine              'SlabTail'                         2000x
	bench ./engine              'Tenancy/sync=always'              5000x
	# Restart of a checkpointed 20,000-memory space: derived files against the rebuild.
	bench ./engine              'Restart$'                         5x
	# Frontends in-process (HTTPRemember also matches HTTPRememberText, the text-only remember).
	bench ./frontend/httpapi    'HTTPRemember'                     5000x
	bench ./frontend/httpapi    'DecodeRemember|DecodeBatchArray'  0.5s
	bench ./frontend/httpapi    'HTTPRecall'                       500x
	bench ./frontend/grpcapi    'UnaryRememberParallel'            5000x
done

chmod 644 "$tmp"
mv "$tmp" "$out"
echo "wrote $out" >&2
