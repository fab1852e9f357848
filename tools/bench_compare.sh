#!/bin/sh
# bench_compare.sh - `make bench-compare`: glimpse's hard-attention training
# step against the same step in PyTorch (tools/bench_torch.py), on the same
# data set, from the same starting model, at 1 and 2 threads (project issue 13).
#
#   tools/bench_compare.sh            (make bench-compare builds first)
#
# 1. a shapes data set (glimpse data shapes, 2000 scenes, seed 11) and the
#    starting point: the shipped models/shapes.glm as a training checkpoint
#    at step 0 (glimpse-grad_dump ckpt: the shapes preset's options,
#    REINFORCE from the first step), so both time steady-state training of
#    the shipped configuration with captions of their real lengths;
# 2. the parity check, on a model trained PARITY_STEPS steps from scratch
#    (its rollouts still differ from its greedy decodes, so REINFORCE has
#    weight): glimpse-grad_dump writes one step on a batch of 32,
#    bench_torch.py --check must match it (else exit 1, nothing timed);
# 3. REPEATS rounds, each timing, at every thread count: glimpse train
#    resumed from the starting checkpoint for GLIMPSE_STEPS steps (its own
#    steps/s, from its last progress line) and the PyTorch step for
#    TORCH_STEPS steps (or TORCH_SECONDS, whichever comes first), above 1
#    thread also with OMP_WAIT_POLICY=PASSIVE; glimpse and PyTorch
#    alternate so both see the same load;
# 4. captioning one image at a time with beam 3: the decoder of each on the
#    same region vectors (captions compared), and glimpse caption end to end;
# 5. a table: median, min and max steps/s (images/s) of each, and the ratios.
# Without python3-torch (and when tools/install-deps.sh --bench cannot
# install it) it says SKIP and exits 0.
#
# Settings (environment): GLIMPSE_BIN (default bin), BENCH_DIR (default
# build/bench-compare), START_MODEL (models/shapes.glm), REPEATS (3),
# THREADS ("1 2"), PARITY_STEPS (200), GLIMPSE_STEPS (200), TORCH_STEPS (100),
# TORCH_SECONDS (15), CAPTION_IMAGES (200).
set -eu

BIN=${GLIMPSE_BIN:-bin}
DIR=${BENCH_DIR:-build/bench-compare}
REPEATS=${REPEATS:-3}
THREADS=${THREADS:-"1 2"}
START_MODEL=${START_MODEL:-models/shapes.glm}
PARITY_STEPS=${PARITY_STEPS:-200}
GLIMPSE_STEPS=${GLIMPSE_STEPS:-200}
TORCH_STEPS=${TORCH_STEPS:-100}
TORCH_SECONDS=${TORCH_SECONDS:-15}
CAPTION_IMAGES=${CAPTION_IMAGES:-200}
PY=/usr/bin/python3

tools/install-deps.sh --bench
if ! $PY -c 'import torch' 2>/dev/null; then
    echo "bench-compare: SKIP: python3-torch is not installed (tools/install-deps.sh --bench installs it as root)"
    exit 0
fi

echo "bench-compare: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
# Both programs multiply matrices with the same OpenBLAS (PyTorch's Debian
# build has BLAS_INFO=generic: libblas.so.3 is OpenBLAS). glimpse corrects
# the kernel OpenBLAS picks for this CPU (src/blas_kernel.h); PyTorch is
# given the same kernel, so the comparison is of the programs, not of the
# kernels. "torch-default-blas" is PyTorch as it starts without it.
DEFAULT_CORE=$(env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import ctypes; ctypes.CDLL("libblas.so.3")' 2>&1 |
    sed -n 's/^Core: //p' | tail -n 1)
CORE=${OPENBLAS_CORETYPE:-$(env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 "$BIN/glimpse" --version 2>&1 | sed -n 's/^Core: //p' | tail -n 1)}
export OPENBLAS_CORETYPE=$CORE
echo "bench-compare: OpenBLAS kernel ${CORE:-?} for both (OpenBLAS alone picks ${DEFAULT_CORE:-?} here)"
rm -rf "$DIR"
mkdir -p "$DIR"
"$BIN/glimpse" data shapes --out "$DIR/data" --count 2000 --seed 11 --quiet
"$BIN/glimpse-grad_dump" ckpt --model "$START_MODEL" --data "$DIR/data" --out "$DIR/start.ckpt"
"$BIN/glimpse-grad_dump" export --model "$DIR/start.ckpt" --data "$DIR/data" --out "$DIR/data.glm"

# The same work: parity on one batch first.
"$BIN/glimpse" train --data "$DIR/data" --out "$DIR/parity.glm" --preset shapes --steps "$PARITY_STEPS" \
    --soft-warmup 0 --val-every 0 --threads 1 --quiet
"$BIN/glimpse-grad_dump" export --model "$DIR/parity.glm" --data "$DIR/data" --out "$DIR/parity-data.glm"
"$BIN/glimpse-grad_dump" step --model "$DIR/parity.glm" --data "$DIR/data" --out "$DIR/step.glm" --batch 32 --seed 1
if ! $PY tools/bench_torch.py --check --model "$DIR/parity.glm" --data "$DIR/parity-data.glm" --dump "$DIR/step.glm" \
    > "$DIR/parity.txt"; then
    cat "$DIR/parity.txt"
    echo "bench-compare: the PyTorch step does not compute what glimpse computes; not timing it" >&2
    exit 1
fi
tail -n 1 "$DIR/parity.txt"

: > "$DIR/rates.tsv"
r=1
while [ "$r" -le "$REPEATS" ]; do
    for t in $THREADS; do
        "$BIN/glimpse" train --resume "$DIR/start.ckpt" --data "$DIR/data" --out "$DIR/run.glm" \
            --steps "$GLIMPSE_STEPS" --val-every 0 --threads "$t" 2> "$DIR/glimpse.log"
        rate=$(grep 'steps/s' "$DIR/glimpse.log" | tail -n 1 | sed 's/.* \([0-9.]*\) steps\/s.*/\1/')
        [ -n "$rate" ] || { cat "$DIR/glimpse.log"; echo "bench-compare: no steps/s from glimpse train" >&2; exit 1; }
        printf 'glimpse\t%s\t%s\n' "$t" "$rate" >> "$DIR/rates.tsv"
        $PY tools/bench_torch.py --bench --model "$DIR/start.ckpt" --data "$DIR/data.glm" --threads "$t" \
            --steps "$TORCH_STEPS" --seconds "$TORCH_SECONDS" --warmup 2 --repeats 1 --tsv "$DIR/torch.tsv" > /dev/null
        cut -f1-3 "$DIR/torch.tsv" >> "$DIR/rates.tsv"
        torch_rate=$(cut -f3 "$DIR/torch.tsv")
        passive=""
        if [ "$t" -eq 1 ] && [ -n "$DEFAULT_CORE" ] && [ "$DEFAULT_CORE" != "$CORE" ]; then
            env -u OPENBLAS_CORETYPE $PY tools/bench_torch.py --bench --model "$DIR/start.ckpt" --data "$DIR/data.glm" \
                --threads 1 --steps "$TORCH_STEPS" --seconds "$TORCH_SECONDS" --warmup 2 --repeats 1 \
                --tsv "$DIR/torch.tsv" > /dev/null
            printf 'torch-default-blas\t1\t%s\n' "$(cut -f3 "$DIR/torch.tsv")" >> "$DIR/rates.tsv"
            passive=", torch on OpenBLAS's own pick $(cut -f3 "$DIR/torch.tsv")"
        fi
        if [ "$t" -gt 1 ]; then
            # GNU OpenMP's threads spin while they wait; on a busy machine
            # the spinning steals the core the other thread needs. Passive
            # waiting is one environment variable away, so time it too.
            OMP_WAIT_POLICY=PASSIVE $PY tools/bench_torch.py --bench --model "$DIR/start.ckpt" --data "$DIR/data.glm" \
                --threads "$t" --steps "$TORCH_STEPS" --seconds "$TORCH_SECONDS" --warmup 2 --repeats 1 \
                --tsv "$DIR/torch.tsv" > /dev/null
            printf 'torch-passive\t%s\t%s\n' "$t" "$(cut -f3 "$DIR/torch.tsv")" >> "$DIR/rates.tsv"
            passive=", torch with OMP_WAIT_POLICY=PASSIVE $(cut -f3 "$DIR/torch.tsv")"
        fi
        echo "bench-compare: round $r, $t thread(s): glimpse $rate, torch $torch_rate$passive steps/s;" \
            "load $(cut -d' ' -f1 /proc/loadavg)"
    done
    r=$((r + 1))
done

# Captioning, one image at a time, beam 3: the decoder part of both
# (glimpse-grad_dump decode: search.h on precomputed region vectors;
# bench_torch.py --caption: the same beam rules, captions compared), and
# glimpse caption end to end (load, features, beam 3) for reference.
ls "$DIR/data/images/"*.png | head -n "$CAPTION_IMAGES" > "$DIR/caption-images.txt"
r=1
while [ "$r" -le "$REPEATS" ]; do
    "$BIN/glimpse-grad_dump" decode --model "$DIR/start.ckpt" --data "$DIR/data" --out "$DIR/caps.glm" \
        --images "$CAPTION_IMAGES" --beam 3 > "$DIR/decode.txt"
    printf 'glimpse-decode\t1\t%s\n' "$(sed 's/.*: \([0-9.]*\) images\/s.*/\1/' "$DIR/decode.txt")" >> "$DIR/rates.tsv"
    rm -f "$DIR/torch.tsv"
    $PY tools/bench_torch.py --caption --model "$DIR/start.ckpt" --data "$DIR/data.glm" --dump "$DIR/caps.glm" \
        --threads 1 --tsv "$DIR/torch.tsv" > "$DIR/torch-decode.txt" || { cat "$DIR/torch-decode.txt"; exit 1; }
    cat "$DIR/torch.tsv" >> "$DIR/rates.tsv"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2046
    "$BIN/glimpse" caption --model "$DIR/start.ckpt" --beam 3 $(cat "$DIR/caption-images.txt") > /dev/null
    t1=$(date +%s.%N)
    printf 'glimpse-caption\t1\t%s\n' "$(awk -v a="$t0" -v b="$t1" -v n="$CAPTION_IMAGES" 'BEGIN { print n / (b - a) }')" \
        >> "$DIR/rates.tsv"
    echo "bench-compare: captioning round $r: $(cat "$DIR/decode.txt"); $(cat "$DIR/torch-decode.txt")"
    r=$((r + 1))
done

# median, min, max per (implementation, threads); then the ratios
sort -k1,1 -k2,2n -k3,3g "$DIR/rates.tsv" | awk -F'\t' -v threads="$THREADS" '
    { k = $1 "\t" $2; n[k]++; v[k, n[k]] = $3; if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
    END {
        printf "\n%-19s %7s %10s %8s %8s\n", "(steps/s; images/s)", "threads", "median", "min", "max"
        for (i = 1; i <= nk; i++) {
            k = order[i]; c = n[k]
            med = c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2
            split(k, p, "\t"); m[p[1], p[2]] = med
            printf "%-19s %7s %10.2f %8.2f %8.2f\n", p[1], p[2], med, v[k, 1], v[k, c]
            if (med > best[p[1]]) best[p[1]] = med
            th[p[2]] = 1
        }
        printf "\n"
        nt = split(threads, tl, " ")
        for (j = 1; j <= nt; j++) if (m["torch", t = tl[j]] > 0) printf "glimpse / torch at %s thread(s): %.2fx\n", t, m["glimpse", t] / m["torch", t]
        if (best["torch"] > 0) printf "best against best: %.2fx (glimpse %.2f, torch %.2f steps/s)\n", best["glimpse"] / best["torch"], best["glimpse"], best["torch"]
        if (m["glimpse", 1] > 0 && m["glimpse", 2] > 0) printf "glimpse 2 threads / 1 thread: %.2fx\n", m["glimpse", 2] / m["glimpse", 1]
        if (m["torch", 1] > 0 && m["torch", 2] > 0) printf "torch 2 threads / 1 thread: %.2fx\n", m["torch", 2] / m["torch", 1]
        if (m["torch-passive", 2] > 0) printf "glimpse / torch (OMP_WAIT_POLICY=PASSIVE) at 2 threads: %.2fx\n", m["glimpse", 2] / m["torch-passive", 2]
        tb = best["torch"] > best["torch-passive"] ? best["torch"] : best["torch-passive"]
        tb = tb > best["torch-default-blas"] ? tb : best["torch-default-blas"]
        if (tb > 0) printf "best against best, torch in any of its ways: %.2fx\n", best["glimpse"] / tb
        if (m["torch-decode", 1] > 0) printf "captioning, decoder (beam 3, images/s): glimpse / torch %.2fx\n", m["glimpse-decode", 1] / m["torch-decode", 1]
    }'
echo "bench-compare: load at the end $(cut -d' ' -f1-3 /proc/loadavg); rates in $DIR/rates.tsv"
