#!/usr/bin/env bash
# Runs each fuzz target given as package:Target for a fixed time (the first argument).
#
# Go 1.26's fuzzing coordinator can end a time-limited run with a bare "context deadline
# exceeded" failure when the time runs out while a worker is mid-input (go.dev/issue/75804,
# fixed in Go 1.27). A real failure always writes its input under testdata/fuzz/<Target>/,
# so a run that fails with that message and writes no new input is reported and passed;
# every other failure fails the script.
set -euo pipefail
fuzztime=$1
shift
go=${GO:-go}
inputs() { if [ -d "$1" ]; then ls "$1" | wc -l; else echo 0; fi; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	pkg=${t%%:*}
	name=${t##*:}
	corpus=$pkg/testdata/fuzz/$name
	before=$(inputs "$corpus")
	echo "fuzz $pkg $name ($fuzztime)"
	if "$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" >"$out" 2>&1; then
		cat "$out"
		continue
	fi
	cat "$out"
	after=$(inputs "$corpus")
	if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$out"; then
		echo "fuzz $pkg $name: the run ended on the coordinator's deadline race (go.dev/issue/75804) with no failing input; not a failure"
		continue
	fi
	echo "fuzz $pkg $name: FAILED" >&2
	exit 1
done
