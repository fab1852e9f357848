#!/bin/sh
# tools/eval_ood.sh - the out-of-generator evaluation (issue 12): the shipped
# models scored on pictures glimpse did not draw. `make eval-ood` runs it.
#
#   tools/eval_ood.sh            (or: make eval-ood; --help prints this text)
#
# Makes two sets with fixed seeds that no training run uses:
#   - shape scenes drawn by ImageMagick (tools/ood_shapes.py): other canvas
#     sizes and aspect ratios, five background families (light, pale,
#     gradient, noise, dark), PNG and JPEG;
#   - Fashion-MNIST *test* photos on plain canvases of several sizes, as
#     stored (light on black) and inverted (dark on light)
#     (tools/ood_fashion.py);
# then runs `glimpse eval --labels` on every labels file, the shapes model on
# the shape sets and the fashion model on the fashion sets, and prints one
# Markdown table row per set (also written to $OOD_DIR/results.md):
#   objects named  object_accuracy: objects named with exactly their words
#   semantic       semantic_accuracy: captions exactly right
#   grounding      grounding_accuracy: named objects whose word looked at them
#   count          count_accuracy: captions naming as many things as there are
#
# ImageMagick (Debian package imagemagick, /usr/bin/convert) is needed for
# the shape set; without it this script says so and exits 1
# (tools/install-deps.sh --test installs it).
#
# Settings (environment):
#   OOD_DIR            work directory (default build/ood; replaced)
#   OOD_SHAPES_COUNT   shape pictures (default 1000: 200 per background family)
#   OOD_FASHION_COUNT  fashion pictures (default 1000: 500 per polarity)
#   SHAPES_MODEL       default models/shapes.glm
#   FASHION_MODEL      default models/fashion.glm
#   GLIMPSE            the glimpse binary (default bin/glimpse)
#   PYTHON             default python3
set -eu
case ${1:-} in
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    '') ;;
    *) echo "eval-ood: unknown argument '$1' (try $0 --help)" >&2; exit 2 ;;
esac

DIR=${OOD_DIR:-build/ood}
SHAPES_COUNT=${OOD_SHAPES_COUNT:-1000}
FASHION_COUNT=${OOD_FASHION_COUNT:-1000}
SHAPES_MODEL=${SHAPES_MODEL:-models/shapes.glm}
FASHION_MODEL=${FASHION_MODEL:-models/fashion.glm}
GLIMPSE=${GLIMPSE:-bin/glimpse}
PYTHON=${PYTHON:-python3}
CONVERT=/usr/bin/convert
# Seeds no other run uses (training 101, 102; held out 9001, 9002; ablation 9201).
SHAPES_SEED=9301
FASHION_SEED=9302

die() { echo "eval-ood: $*" >&2; exit 1; }
[ -x "$GLIMPSE" ] || die "$GLIMPSE not found (run make first, or set GLIMPSE)"
[ -x "$CONVERT" ] || die "ImageMagick's $CONVERT is missing: the shape set is drawn with it." \
    "Install it with tools/install-deps.sh --test (or: apt-get install imagemagick)"
for m in "$SHAPES_MODEL" "$FASHION_MODEL"; do [ -f "$m" ] || die "$m not found"; done

# The value of "key" in eval's one-line JSON (null stays null).
json_get() { sed -n "s/.*\"$2\": *\([^,}]*\).*/\1/p" "$1"; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%.3f", v }'; }

t0=$(date +%s)
rm -rf "$DIR"
mkdir -p "$DIR"
"$PYTHON" tools/ood_shapes.py --out "$DIR/shapes" --count "$SHAPES_COUNT" --seed "$SHAPES_SEED" --convert "$CONVERT" >&2 ||
    die "tools/ood_shapes.py failed"
"$PYTHON" tools/ood_fashion.py --out "$DIR/fashion" --count "$FASHION_COUNT" --seed "$FASHION_SEED" >&2 ||
    die "tools/ood_fashion.py failed"

RESULTS="$DIR/results.md"
{
    echo "| set | model | images | objects named | semantic | grounding | count |"
    echo "|---|---|---|---|---|---|---|"
} > "$RESULTS"
for set in shapes/labels shapes/labels-light shapes/labels-pale shapes/labels-gradient shapes/labels-noise \
           shapes/labels-dark fashion/labels fashion/labels-stored fashion/labels-inverted; do
    case $set in shapes/*) model=$SHAPES_MODEL ;; *) model=$FASHION_MODEL ;; esac
    j="$DIR/$set.json"
    "$GLIMPSE" eval --model "$model" --labels "$DIR/$set.tsv" --images "$DIR/${set%%/*}/images" --json \
        </dev/null > "$j" || die "glimpse eval on $DIR/$set.tsv failed"
    name=$(echo "$set" | sed 's,/labels-,/,; s,/labels$,/all,')
    echo "| $name | $(basename "$model") | $(json_get "$j" images) | $(fmt "$(json_get "$j" object_accuracy)") |" \
         "$(fmt "$(json_get "$j" semantic_accuracy)") | $(fmt "$(json_get "$j" grounding_accuracy)") |" \
         "$(fmt "$(json_get "$j" count_accuracy)") |" >> "$RESULTS"
done
cat "$RESULTS"
echo "eval-ood: $(($(date +%s) - t0)) s; sets in $DIR (shapes seed $SHAPES_SEED, fashion seed $FASHION_SEED)" >&2
