#!/usr/bin/env bash
# run.sh - runs libFuzzer targets one after another, each for SECONDS on a
# copy of its seed corpus, and says per target how many inputs it ran, for
# how long, and whether it found anything. Run by `make fuzz`.
#
#   tests/fuzz/run.sh SECONDS build/fuzz/fuzz_NAME...
#
# Target fuzz_NAME starts from tests/fuzz/corpus/NAME/, copied to
# build/fuzz/run/NAME/corpus (new inputs go there, never into the tree);
# its output is build/fuzz/run/NAME/log and a crashing input is saved as
# build/fuzz/run/NAME/crash-* (leak-*, timeout-*, oom-*). Each run has
# libFuzzer's -timeout=10 (seconds for one input) and -rss_limit_mb=2048
# (also the cap on a single allocation). One process at a time: the
# machine's cores are shared. Each target's scratch files (fuzz.h) go to a
# directory in /dev/shm made for the run and removed after it, also when
# the target crashed. Exit 1 if any target found something.
set -uo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 2 ]; then
    echo "usage: $0 SECONDS TARGET..." >&2
    exit 2
fi
secs=$1
shift
found=0
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$shm/glimpse-fuzz-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for t in "$@"; do
    name=${t##*/fuzz_}
    run=$(dirname "$t")/run/$name
    rm -rf "$run"
    mkdir -p "$run/corpus"
    seeds=0
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp tests/fuzz/corpus/"$name"/* "$run/corpus/" 2>/dev/null
        seeds=$(ls "$run/corpus" | wc -l)
    fi
    t0=$(date +%s)
    TMPDIR=$scratch "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$run/" "$run/corpus" >"$run/log" 2>&1
    rc=$?
    took=$(($(date +%s) - t0))
    rm -rf "${scratch:?}"/*
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -n 1)
    now=$(ls "$run/corpus" | wc -l)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$run/log" | head -n 1)
    if [ "$rc" -eq 0 ] && [ -z "$artifact" ]; then
        verdict="nothing found"
    else
        found=1
        why=$(grep -m 1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^fuzz harness:' "$run/log" |
              sed 's/^==[0-9]*==//')
        verdict="FOUND: ${why:-exit status $rc}; input ${artifact:-not saved}; log $run/log"
    fi
    printf '%-14s %9s runs in %3d s, corpus %d -> %d: %s\n' "fuzz_$name" "${runs:-?}" "$took" "$seeds" "$now" "$verdict"
done
exit "$found"
