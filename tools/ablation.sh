#!/bin/sh
# tools/ablation.sh - the attention ablation of the README (issue 6): every
# way of choosing where to look, trained with the same budget on the same
# generated shapes data, scored on a held-out test split.
#
#   tools/ablation.sh [STEPS]          (or: make ablation ABLATION_STEPS=N)
#
# Variants: hard attention + REINFORCE with each baseline (greedy, mean,
# none), hard with the paper's log-likelihood reward, soft attention, random
# regions (drawn uniformly, nothing learns where to look) and no attention
# (the mean of all regions). Every variant gets the same model and feature
# flags, seed and number of steps, and no validation (the model scored is
# the one after the last step, so no variant gets a pick of checkpoints).
#
# Prints a Markdown table (also written to $ABLATION_DIR/results.md):
# BLEU-4, CIDEr-D, semantic and grounding accuracy from `glimpse eval
# --json`, and the wall-clock training time this script measured.
#
# Settings (environment):
#   ABLATION_STEPS       training steps per variant (default 3000; or argument 1)
#   ABLATION_FLAGS       model/feature flags for every variant (default below:
#                        the shipped shapes model's region grid and blocks)
#   ABLATION_TRAIN_FLAGS further `glimpse train` flags for every variant
#                        (default --refs 1, as the shipped models)
#   ABLATION_COUNT       generated training images (default 10000; 80% train)
#   ABLATION_TEST_COUNT  held-out test images (default 1000)
#   ABLATION_THREADS     OpenBLAS threads (default 1)
#   ABLATION_DIR         work directory (default build/ablation; replaced)
#   GLIMPSE              the glimpse binary (default bin/glimpse)
set -eu

STEPS=${1:-${ABLATION_STEPS:-3000}}
FLAGS=${ABLATION_FLAGS:---input 80 --grid 5 --window 28 --stride 16 --hog-cells 3 --patch 6}
TRAIN_FLAGS=${ABLATION_TRAIN_FLAGS:---refs 1}
COUNT=${ABLATION_COUNT:-10000}
TEST_COUNT=${ABLATION_TEST_COUNT:-1000}
THREADS=${ABLATION_THREADS:-1}
DIR=${ABLATION_DIR:-build/ablation}
GLIMPSE=${GLIMPSE:-bin/glimpse}
# Seeds no other run of the project uses for data (the shipped models use
# 101 and 9001), so the test split is unseen by every variant.
DATA_SEED=201
TEST_SEED=9201
TRAIN_SEED=1

# name|flags, one variant per line
VARIANTS='hard + REINFORCE, greedy baseline|--attention hard --baseline greedy
hard + REINFORCE, mean baseline|--attention hard --baseline mean
hard + REINFORCE, no baseline|--attention hard --baseline none
hard, --reward loglik (paper), mean baseline|--attention hard --reward loglik --baseline mean
soft|--attention soft
random regions|--attention random
no attention (mean of regions)|--attention mean'

die() { echo "ablation: $*" >&2; exit 1; }
[ -x "$GLIMPSE" ] || die "$GLIMPSE not found (run make first, or set GLIMPSE)"
case $STEPS in ''|*[!0-9]*) die "STEPS must be a number, not '$STEPS'";; esac

# The value of "key" in eval's one-line JSON (null stays null).
json_get() { sed -n "s/.*\"$2\": *\([^,}]*\).*/\1/p" "$1"; }
now() { date +%s.%N; }
# a - b with 1 decimal
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%.3f", v }'; }

rm -rf "$DIR"
mkdir -p "$DIR/models"
echo "ablation: data: $COUNT training images (seed $DATA_SEED), $TEST_COUNT test images (seed $TEST_SEED)" >&2
"$GLIMPSE" data shapes --out "$DIR/data" --count "$COUNT" --seed "$DATA_SEED" --quiet >&2
"$GLIMPSE" data shapes --out "$DIR/test" --count "$TEST_COUNT" --seed "$TEST_SEED" --split 0,0,1 --quiet >&2

RESULTS="$DIR/results.md"
{
    echo "Shapes, $STEPS steps per variant, flags \`$FLAGS${TRAIN_FLAGS:+ $TRAIN_FLAGS}\`, seed $TRAIN_SEED," \
         "$THREADS thread(s); test split: $TEST_COUNT images never trained on (seed $TEST_SEED)."
    echo
    echo "| variant | BLEU-4 | CIDEr-D | semantic acc. | grounding acc. | training time (s) |"
    echo "|---|---|---|---|---|---|"
} > "$RESULTS"

i=0
echo "$VARIANTS" | while IFS='|' read -r name vflags; do
    i=$((i + 1))
    model="$DIR/models/v$i.glm"
    echo "ablation: [$i/7] $name: training $STEPS steps" >&2
    t0=$(now)
    # shellcheck disable=SC2086  # the flag strings are meant to split
    "$GLIMPSE" train --data "$DIR/data" --out "$model" --steps "$STEPS" --seed "$TRAIN_SEED" \
        --threads "$THREADS" --val-every 0 -q $FLAGS $TRAIN_FLAGS $vflags </dev/null ||
        die "training '$name' failed"
    t1=$(now)
    "$GLIMPSE" eval --model "$model" --data "$DIR/test" --threads "$THREADS" --json </dev/null \
        > "$DIR/models/v$i.json" || die "evaluating '$name' failed"
    j="$DIR/models/v$i.json"
    echo "| $name | $(fmt "$(json_get "$j" bleu4)") | $(fmt "$(json_get "$j" cider)") |" \
         "$(fmt "$(json_get "$j" semantic_accuracy)") | $(fmt "$(json_get "$j" grounding_accuracy)") |" \
         "$(elapsed "$t1" "$t0") |" >> "$RESULTS"
done

cat "$RESULTS"
