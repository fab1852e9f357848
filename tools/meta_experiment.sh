#!/bin/sh
# meta_experiment.sh - the variant-3 experiment (docs/meta.md), what `make meta` runs:
# on the held-out tasks, adaptation steps needed to reach the quality bar from
#   (a) a random initialisation, (b) joint multi-task training on the
#   meta-training tasks for the same compute, (c) the Reptile meta-initialisation,
# over SEEDS seeds (each its own data set, initialisation, task sequence and batch order).
# Writes OUT/table.md (the table), OUT/curves.png (the curves), OUT/*.csv, OUT/*.log.
#
#   tools/meta_experiment.sh [OUT]          (default build/meta)
# Knobs (environment): SEEDS, OUTER, K, STEPS, EVERY, TASKS, BAR_ORDER, BAR_GROUNDING,
# COUNT, ADAPT_LR, NICE. The defaults are the documented run. A data set or model
# already in OUT is reused (so a second look at adaptation, e.g. ADAPT_LR=0.003,
# need not retrain: copy OUT/data-* and OUT/*.glm into a fresh OUT).
set -eu

OUT=${1:-build/meta}
BIN=${BIN:-bin}
G="$BIN/glimpse"
PLOT="$BIN/glimpse-meta_plot"
SEEDS=${SEEDS:-"1 2 3 4 5"}
OUTER=${OUTER:-600}          # Reptile outer iterations; joint gets OUTER*K steps too
K=${K:-10}                   # inner steps per task visit
STEPS=${STEPS:-300}          # adaptation steps on each held-out task
EVERY=${EVERY:-20}           # measure every EVERY steps
TASKS=${TASKS:-"bt colour rl:small tb:circle"}
BAR_ORDER=${BAR_ORDER:-0.25}
BAR_GROUNDING=${BAR_GROUNDING:-0.75}
COUNT=${COUNT:-1000}         # scenes per data set (train 80%, val 10%, test 10%)
ADAPT_LR=${ADAPT_LR:-0.01}   # adaptation's learning rate (meta train's inner lr is its default, 0.01)
NICE=${NICE:-"nice -n 10"}

mkdir -p "$OUT"
start=$(date +%s)
for s in $SEEDS; do
    d="$OUT/data-$s"
    [ -d "$d" ] || $G data shapes --out "$d" --count "$COUNT" --seed "$s" >/dev/null
    for m in random joint reptile; do
        [ -f "$OUT/$m-$s.glm" ] || $NICE $G meta train --data "$d" --out "$OUT/$m-$s.glm" --method $m \
            --outer "$OUTER" --k "$K" --seed "$s" -q
        for t in $TASKS; do
            tn=$(echo "$t" | tr : _)
            $NICE $G meta eval --data "$d" --model "$OUT/$m-$s.glm" --task "$t" --steps "$STEPS" \
                --every "$EVERY" --seed "$s" --lr "$ADAPT_LR" --bar-order "$BAR_ORDER" --bar-grounding "$BAR_GROUNDING" \
                --csv "$OUT/$m-$tn-$s.csv" >"$OUT/$m-$tn-$s.log"
        done
    done
    echo "meta_experiment: seed $s done after $(( $(date +%s) - start )) s" >&2
done
elapsed=$(( $(date +%s) - start ))

# The table: per task and method, the steps to the bar per seed (">N": not
# reached in N), their mean and standard deviation (unreached counted as N,
# so then the mean is a lower bound, marked >=), and the in-order accuracy
# and grounding at step 0 and at the end, mean +- sd over seeds.
{
    echo "Held-out tasks, $(echo $SEEDS | wc -w) seeds ($SEEDS); bar: in-order object accuracy >= $BAR_ORDER and grounding >= $BAR_GROUNDING on the val split."
    echo "Meta-training: $OUTER outer iterations x $K inner steps (joint: $((OUTER * K)) steps); adaptation: $STEPS steps at lr $ADAPT_LR, measured every $EVERY."
    echo "Whole run: ${elapsed} s wall."
    echo
    echo "| task | init | steps to bar, per seed | mean +- sd | in-order @0 | in-order @$STEPS | grounding @$STEPS |"
    echo "|---|---|---|---|---|---|---|"
    for t in $TASKS; do
        tn=$(echo "$t" | tr : _)
        for m in random joint reptile; do
            for s in $SEEDS; do
                f="$OUT/$m-$tn-$s.csv"
                awk -F, -v bo="$BAR_ORDER" -v bg="$BAR_GROUNDING" -v n="$STEPS" '
                    NR == 1 { next }
                    NR == 2 { a0 = $2 }
                    { last_a = $2; last_g = $3; if (hit == "" && $2 >= bo && $3 >= bg) hit = $1 }
                    END { print (hit == "" ? ">" n : hit), a0, last_a, last_g }' "$f"
            done | awk -v t="$t" -v m="$m" -v n="$STEPS" '
                function sd(sum, sq, k) { v = sq / k - (sum / k) ^ 2; return v > 0 ? sqrt(v) : 0 }
                { list = list (NR > 1 ? " " : "") $1; miss = miss || substr($1, 1, 1) == ">";
                  x = $1; sub(/^>/, "", x); s1 += x; q1 += x * x; s2 += $2; q2 += $2 * $2;
                  s3 += $3; q3 += $3 * $3; s4 += $4; q4 += $4 * $4; k++ }
                END { printf "| %s | %s | %s | %s%.0f +- %.0f | %.3f +- %.3f | %.3f +- %.3f | %.3f +- %.3f |\n",
                      t, m, list, miss ? ">=" : "", s1 / k, sd(s1, q1, k), s2 / k, sd(s2, q2, k),
                      s3 / k, sd(s3, q3, k), s4 / k, sd(s4, q4, k) }'
        done
    done
} >"$OUT/table.md"
cat "$OUT/table.md"

set --
for t in $TASKS; do
    tn=$(echo "$t" | tr : _)
    set -- "$@" --panel "held out: $t"
    for m in random joint reptile; do
        files=""
        for s in $SEEDS; do files="$files${files:+,}$OUT/$m-$tn-$s.csv"; done
        set -- "$@" "$m=$files"
    done
done
$PLOT --out "$OUT/curves.png" --bar-order "$BAR_ORDER" --bar-grounding "$BAR_GROUNDING" "$@"
echo "meta_experiment: wrote $OUT/table.md and $OUT/curves.png (${elapsed} s)" >&2
