# Engram (Go). `make run` starts the server on the embedded defaults; `make test` runs the suite.
GO        ?= go
BIN       := bin
PKGS      := ./...
BENCHCOUNT ?= 6
SHA       := $(shell git rev-parse --short HEAD 2>/dev/null || echo nogit)

.PHONY: all build run test test-short bench bench-ci lint fmt vet proto clean

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

test-short:
	$(GO) test -short -count=1 $(PKGS)

bench:
	mkdir -p benchmarks/results
	$(GO) test -run '^$$' -bench . -benchmem -count=$(BENCHCOUNT) -timeout 60m $(PKGS) | tee benchmarks/results/$(SHA).txt

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
