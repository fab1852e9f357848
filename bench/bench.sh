#!/usr/bin/env bash
# bench.sh - the speed of glimpse in one table (`make bench`), also written
# to bench/results.json: training steps/s (hard attention with REINFORCE,
# greedy baseline and replay; soft batches) at 1 and 2 threads, captions/s,
# feature extraction images/s and model load time (bench_speed, in process),
# and, each in a process of its own: one caption's latency (load, features,
# beam 3), captions/s of `glimpse caption` on many images, data generation
# images/s, `glimpse score` throughput and the peak RSS of training and of
# captioning (getrusage of the child, through GNU time's %M). Every figure
# is the median of RUNS runs (default 3) with the min and max. A few minutes.
#
#   bench/bench.sh [BUILD_DIR]        (default build/cc; bin/glimpse)
#
# The machine is shared by whatever else runs: the load average is printed
# with the table, and for training the rate on two idle cores estimated
# from thread CPU times (bench_speed.c) is given beside the measured one.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/cc}
BIN=${BIN:-bin/glimpse}
RUNS=${RUNS:-3}
MODEL=${MODEL:-models/shapes.glm}
work=$(mktemp -d "${TMPDIR:-/tmp}/glimpse-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
res="$work/results.txt"   # name median min max unit
: >"$res"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# stats NAME UNIT VALUE... -> one line of $res
stats() {
  local name=$1 unit=$2
  shift 2
  printf '%s\n' "$@" | sort -g | awk -v n="$name" -v u="$unit" \
    '{ v[NR] = $1 } END { printf "%s %.6g %.6g %.6g %s\n", n, v[int((NR + 1) / 2)], v[1], v[NR], u }' >>"$res"
}
# timed CMD... : runs it, sets WALL (s, from the clock: GNU time's %e has
# only centiseconds) and RSS (KiB, the child's getrusage ru_maxrss)
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
    { echo "bench.sh: failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  read -r RSS <"$work/time"
}

# data generation
gen=()
for i in $(seq "$RUNS"); do
  rm -rf "$work/gen"
  timed "$BIN" data shapes --out "$work/gen" --count 1000 --seed "$i" --quiet
  gen+=("$(awk -v w="$WALL" 'BEGIN { print 1000 / w }')")
done
stats data_shapes images/s "${gen[@]}"
"$BIN" data shapes --out "$work/data" --count 400 --seed 3 --quiet

# in process: model load, features, captions, training
"$BUILD/bench/bench_speed" "$work/data" "$MODEL" "$RUNS" >>"$res"

# one caption, end to end; many captions through the command; their peak RSS
imgs=("$work"/data/images/*.png)
one=() many=() rss=()
for i in $(seq "$RUNS"); do
  timed "$BIN" caption --model "$MODEL" --beam 3 --threads 1 "${imgs[0]}"
  one+=("$(awk -v w="$WALL" 'BEGIN { print 1000 * w }')")
  timed "$BIN" caption --model "$MODEL" --beam 3 --threads 2 "${imgs[@]}"
  many+=("$(awk -v w="$WALL" -v n="${#imgs[@]}" 'BEGIN { print n / w }')")
  rss+=("$RSS")
done
stats caption_latency ms "${one[@]}"
stats caption_cli_t2 captions/s "${many[@]}"
stats caption_peak_rss KiB "${rss[@]}"

# training's peak RSS (hard attention, 2 threads, a few steps)
rss=()
for i in $(seq "$RUNS"); do
  timed "$BIN" train --data "$work/data" --out "$work/m.glm" --preset shapes --soft-warmup 0 --steps 10 \
    --val-every 0 --ckpt-every 0 --threads 2 -q
  rss+=("$RSS")
done
stats train_peak_rss KiB "${rss[@]}"

# glimpse score: the 5 000 references of the 1 000 generated scenes, each
# image's first reference as its candidate
awk -F'\t' '$1 ~ /#0$/ { sub(/#0$/, "", $1); print $1 "\t" $2 }' "$work/gen/captions.tsv" >"$work/cands.tsv"
n_cands=$(wc -l <"$work/cands.tsv")
sc=()
for i in $(seq "$RUNS"); do
  timed "$BIN" score --refs "$work/gen/captions.tsv" --cands "$work/cands.tsv"
  sc+=("$(awk -v w="$WALL" -v n="$n_cands" 'BEGIN { print n / w }')")
done
stats score captions/s "${sc[@]}"

load1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$res" "$load0" "$load1" <<'PY'
import json, os, platform, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
label = {
    "data_shapes": "glimpse data shapes", "model_load": "model load (shapes.glm)",
    "features_t1": "features, 1 thread", "features_t2": "features, 2 threads",
    "captions_t1": "captions, beam 3, 1 thread", "captions_t2": "captions, beam 3, 2 threads",
    "caption_latency": "one caption: load + features + beam 3", "caption_cli_t2": "glimpse caption, 400 images, 2 threads",
    "caption_peak_rss": "glimpse caption peak RSS", "train_peak_rss": "glimpse train peak RSS (hard, 2 threads)",
    "score": "glimpse score (1 000 images x 5 refs)",
}
for a in ("hard", "soft"):
    for t in (1, 2):
        label[f"train_{a}_t{t}"] = f"train {a}, {t} thread{'s' if t > 1 else ''}"
        label[f"train_{a}_t{t}_idle"] = f"  same, estimated on idle cores"
        label[f"train_{a}_t{t}_cpu"] = f"  same, CPU per step (all threads)"
print(f"{'measurement':46s} {'median':>10s} {'min':>10s} {'max':>10s}  unit")
out = {}
for name, med, lo, hi, unit in rows:
    print(f"{label.get(name, name):46s} {float(med):10.4g} {float(lo):10.4g} {float(hi):10.4g}  {unit}")
    out[name] = {"median": float(med), "min": float(lo), "max": float(hi), "unit": unit}
print(f"load average before {sys.argv[2]}, after {sys.argv[3]}; {os.cpu_count()} cores; {platform.processor() or platform.machine()}")
doc = {"results": out, "load_before": sys.argv[2], "load_after": sys.argv[3], "cores": os.cpu_count(),
       "runs": int(os.environ.get("RUNS", "3"))}
tmp = "bench/results.json.tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(tmp, "bench/results.json")
PY
echo "wrote bench/results.json"
