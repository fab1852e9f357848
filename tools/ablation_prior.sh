#!/bin/sh
# tools/ablation_prior.sh - the attention-prior ablation (issue 14, variant
# 2): hard attention + REINFORCE without a prior, with a learned prior
# (--prior 1, trained by the reward alone) and with a supervised prior
# (--prior 1 --prior-supervise L), the same budget, data and seed for all
# three, scored on a held-out test split.
#
#   tools/ablation_prior.sh            (or: make ablation-prior)
#
# Each run validates every VAL_EVERY steps; "steps to the bar" is the first
# validation step at which semantic >= 0.95 and grounding >= 0.90 (the
# shapes quality bar), or "not reached"; the best validation is the one
# train keeps (the largest semantic + grounding), with its step.
# The test row scores the model train writes (the best by validation, the
# same rule for every run) with `glimpse eval --json`; the mean attention
# entropy is eval's attention_entropy (mean H(alpha_t) over decoded steps,
# nats; log 25 = 3.22 is uniform over the 5x5 grid).
#
# The three trainings run one after another, one thread each, under nice:
# the machine is shared. The binary is copied first, so rebuilding during a
# run does not change it.
#
# Settings (environment):
#   PRIOR_STEPS        training steps per run (default 3000)
#   PRIOR_COUNT        generated scenes, 80/10/10 train/val/test (default 4000)
#   PRIOR_TEST_COUNT   held-out test scenes, another seed (default 1000)
#   PRIOR_VAL_EVERY    validation interval (default 250)
#   PRIOR_LAMBDA       --prior-supervise weight (default 0.5)
#   PRIOR_SEED         the training seed of all three runs (default 1, the preset's)
#   PRIOR_FLAGS        further train flags for every run (default below: the shapes
#                      preset's sizes and schedule scaled to the budget)
#   PRIOR_DIR          work directory (default build/ablation-prior; replaced)
#   GLIMPSE            the glimpse binary (default bin/glimpse)
set -eu

STEPS=${PRIOR_STEPS:-3000}
COUNT=${PRIOR_COUNT:-4000}
TEST_COUNT=${PRIOR_TEST_COUNT:-1000}
VAL_EVERY=${PRIOR_VAL_EVERY:-250}
LAMBDA=${PRIOR_LAMBDA:-0.5}
SEED=${PRIOR_SEED:-1}
# The shapes preset (model and feature sizes, --refs 1, seed 1) with its
# schedule scaled from 30000 steps to STEPS: soft warm-up 20%, lr halved
# every 30%.
WARM=$((STEPS / 5))
DECAY=$((STEPS * 3 / 10))
FLAGS=${PRIOR_FLAGS:---preset shapes --soft-warmup $WARM --lr-decay-every $DECAY}
DIR=${PRIOR_DIR:-build/ablation-prior}
GLIMPSE=${GLIMPSE:-bin/glimpse}
# Data seeds no other run of the project uses, so the test split is unseen.
DATA_SEED=301
TEST_SEED=9301

die() { echo "ablation-prior: $*" >&2; exit 1; }
[ -x "$GLIMPSE" ] || die "$GLIMPSE not found (run make first, or set GLIMPSE)"
case $STEPS in ''|*[!0-9]*) die "PRIOR_STEPS must be a number, not '$STEPS'";; esac
case $SEED in ''|*[!0-9]*) die "PRIOR_SEED must be a number, not '$SEED'";; esac

json_get() { sed -n "s/.*\"$2\": *\([^,}]*\).*/\1/p" "$1"; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%.3f", v }'; }
now() { date +%s; }

rm -rf "$DIR"
mkdir -p "$DIR/models"
cp "$GLIMPSE" "$DIR/glimpse"
G="$DIR/glimpse"
echo "ablation-prior: data: $COUNT scenes (seed $DATA_SEED), $TEST_COUNT test scenes (seed $TEST_SEED)" >&2
"$G" data shapes --out "$DIR/data" --count "$COUNT" --seed "$DATA_SEED" --quiet >&2
"$G" data shapes --out "$DIR/test" --count "$TEST_COUNT" --seed "$TEST_SEED" --split 0,0,1 --quiet >&2

RUNS="hard, no prior|
hard + learned prior (reward only)|--prior 1
hard + supervised prior (lambda $LAMBDA)|--prior 1 --prior-supervise $LAMBDA"

RESULTS="$DIR/results.md"
{
    echo "Shapes: $STEPS steps per run, batch 32, \`$FLAGS\`, seed $SEED, 1 thread; trained on the train"
    echo "split of $COUNT generated scenes (seed $DATA_SEED), validated every $VAL_EVERY steps on its val"
    echo "split; test: $TEST_COUNT scenes never trained on (seed $TEST_SEED), greedy decoding."
    echo
    echo "| run | BLEU-4 | CIDEr-D | semantic | grounding | attention entropy (nats) | steps to the bar (val) | best validation (by semantic + grounding, as train picks): semantic / grounding | train time (s) |"
    echo "|---|---|---|---|---|---|---|---|---|"
} > "$RESULTS"

i=0
echo "$RUNS" | while IFS='|' read -r name rflags; do
    i=$((i + 1))
    model="$DIR/models/r$i.glm"
    log="$DIR/models/r$i.log"
    echo "ablation-prior: [$i/3] $name: $STEPS steps" >&2
    t0=$(now)
    # shellcheck disable=SC2086  # the flag strings are meant to split
    nice -n 10 "$G" train --data "$DIR/data" --out "$model" --steps "$STEPS" --threads 1 \
        --val-every "$VAL_EVERY" $FLAGS --seed "$SEED" $rflags </dev/null 2> "$log" || die "training '$name' failed (see $log)"
    t1=$(now)
    nice -n 10 "$G" eval --model "$model" --data "$DIR/test" --threads 1 --json </dev/null \
        > "$DIR/models/r$i.json" || die "evaluating '$name' failed"
    j="$DIR/models/r$i.json"
    # "glimpse: step N val: ... semantic S object O grounding G"
    bar=$(awk '/ val: / { for (k = 1; k <= NF; k++) { if ($k == "step") s = $(k + 1);
                 if ($k == "semantic") se = $(k + 1); if ($k == "grounding") gr = $(k + 1) }
                 if (!seen || se + gr > best) { seen = 1; best = se + gr; bs = se; bg = gr; bstep = s }
                 if (!hit && se >= 0.95 && gr >= 0.90) hit = s }
               END { printf "%s|step %s: %.3f / %.3f\n", hit ? hit : "not reached", bstep, bs, bg }' "$log")
    echo "| $name | $(fmt "$(json_get "$j" bleu4)") | $(fmt "$(json_get "$j" cider)") |" \
         "$(fmt "$(json_get "$j" semantic_accuracy)") | $(fmt "$(json_get "$j" grounding_accuracy)") |" \
         "$(fmt "$(json_get "$j" attention_entropy)") | ${bar%%|*} | ${bar#*|} | $((t1 - t0)) |" >> "$RESULTS"
done

cat "$RESULTS"
