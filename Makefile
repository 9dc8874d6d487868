# Engram (Go). `make run` starts the server on the embedded defaults; `make test` runs the suite.
GO        ?= go
BIN       := bin
PKGS      := ./...
BENCHCOUNT ?= 6
SHA       := $(shell git rev-parse --short HEAD 2>/dev/null || echo nogit)

.PHONY: all build run test test-short test-crash test-cluster fuzz-short bench bench-ci lint fmt vet proto clean

# Fuzz targets, as package:Target; fuzz-short runs each for FUZZTIME.
FUZZ_TARGETS := ./engine/wal:FuzzDecodeFrame ./engine/wal:FuzzScanSegment ./engine/record:FuzzDecodeRecords \
	./engine/tier:FuzzOpenSegment ./engine/tier:FuzzDecodeRowGraph ./engine/tier:FuzzDecodeIDMap ./engine/index:FuzzLoadLexical ./engine/index:FuzzLoadHNSW ./frontend/httpapi:FuzzDecodeRemember ./frontend/httpapi:FuzzCheckEscapes \
	./frontend/httpapi:FuzzCutEmbedding ./frontend/httpapi:FuzzBatchElements ./internal/vecjson:FuzzReadNumber \
	./internal/vecjson:FuzzCheck ./engine/transfer:FuzzParseLine ./engine/query:FuzzParse \
	./frontend/httpapi:FuzzCompletionRequest \
	./simd:FuzzDot ./simd:FuzzQuantize ./engine/embed:FuzzProviderAnswers \
	./cluster/partlog:FuzzDecodeBatch
FUZZTIME ?= 5s

all: build

build:
	$(GO) build -o $(BIN)/engram ./cmd/engram
	$(GO) build -o $(BIN)/engram-wal ./tools/engram-wal

run: build
	$(BIN)/engram start

test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x -timeout 10m $(PKGS)

# The crash suite: SIGKILL rounds against the engine (also during checkpoints) and the
# real binary over HTTP. `make test` runs it too; this target runs only it, repeatedly.
test-crash:
	$(GO) test -count=$(or $(ROUNDS),1) -run 'Crash' -v -timeout 20m ./engine/ ./cmd/engram/

# The cluster scenarios of docs/cluster.md ("Testing") at full length: three engram processes
# on loopback, faults under load, the oracle's verdicts and the figures (make test runs the
# short version: steady state and one SIGKILL). FIGURES=file appends the figures to file.
test-cluster:
	$(GO) test -count=1 -run 'TestCluster' -v -timeout 60m ./cluster/clustertest/ -args -full $(if $(FIGURES),-figures $(abspath $(FIGURES)))

# A short run of every fuzz target (CI); FUZZTIME=5m for a longer one. The script tells a
# real failure (it writes the failing input) from Go 1.26's end-of-run deadline race.
fuzz-short:
	@GO=$(GO) scripts/fuzz-short.sh $(FUZZTIME) $(FUZZ_TARGETS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Benchmarks (benchmarks/README.md). `make bench` runs the tracked set (benchmarks/run.sh)
# BENCHCOUNT times into benchmarks/results/<sha>.txt; `make bench-compare` fails when the
# newest results regress past BENCHTHRESHOLD percent (p < 0.05) against the baseline;
# `make bench-baseline` replaces the baseline on purpose; `make bench-ci` runs every
# benchmark once, as `make test` does; `make bench-spaces` measures 10,000 idle spaces;
# `make bench-mixed` runs the load generator's mixed load (writers and readers together on
# one space, then recall at rest), MIXED_* overriding its defaults.
BENCHSTAT     ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCHTHRESHOLD ?= 10
BENCHNEW      ?= $(shell ls -t benchmarks/results/*.txt 2>/dev/null | head -n 1)
MIXED_WRITERS  ?= 8
MIXED_READERS  ?= 4
MIXED_BATCH    ?= 100
MIXED_DIM      ?= 768
MIXED_DURATION ?= 60s
MIXED_REST     ?= 10s
.PHONY: bench-compare bench-baseline bench-spaces bench-mixed

bench:
	mkdir -p benchmarks/results
	BENCHCOUNT=$(BENCHCOUNT) GO=$(GO) benchmarks/run.sh benchmarks/results/$(SHA).txt

bench-compare:
	@test -n "$(BENCHNEW)" || { echo "no results in benchmarks/results: run make bench first"; exit 1; }
	@echo "benchmarks/baseline.txt against $(BENCHNEW)"
	$(BENCHSTAT) benchmarks/baseline.txt $(BENCHNEW)
	@csv=$$(mktemp) && trap 'rm -f "$$csv"' EXIT && \
	$(BENCHSTAT) -format csv benchmarks/baseline.txt $(BENCHNEW) > "$$csv" 2>/dev/null && \
	$(GO) run ./benchmarks/cmd/benchcheck -threshold $(BENCHTHRESHOLD) "$$csv"

bench-baseline: bench
	cp benchmarks/results/$(SHA).txt benchmarks/baseline.txt
	@echo "benchmarks/baseline.txt now holds the results of $(SHA); commit it deliberately"

bench-ci:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x -timeout 10m $(PKGS)

bench-spaces:
	$(GO) run ./benchmarks/cmd/spacecost -spaces 10000

bench-mixed:
	$(GO) run ./benchmarks/loadgen -mode mixed -writers $(MIXED_WRITERS) -readers $(MIXED_READERS) \
		-batch $(MIXED_BATCH) -dim $(MIXED_DIM) -duration $(MIXED_DURATION) -rest-duration $(MIXED_REST)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

proto:
	protoc --go_out=. --go_opt=module=github.com/engram-go/engram \
	       --go-grpc_out=. --go-grpc_opt=module=github.com/engram-go/engram \
	       frontend/grpcapi/proto/engram/v1/engram.proto

clean:
	rm -rf $(BIN)
