#!/bin/sh
# install-deps.sh - installs the Debian packages glimpse needs, only those
# that are missing. The Makefile runs it on the first build (build packages)
# and before every `make test` (test packages); safe to run by hand.
#
#   tools/install-deps.sh          install the missing build packages (apt-get; sudo if not root)
#   tools/install-deps.sh --test   the same for the packages only the tests and `make eval-ood` use; where they
#                                  cannot be installed it says SKIP and exits 0, and the tests
#                                  that need them skip with a visible message
#   tools/install-deps.sh --bench  the same for the packages only `make bench-compare` uses (SKIP, exit 0,
#                                  when they cannot be installed)
#   tools/install-deps.sh --check [--test|--bench]   only report; exit 1 when something is missing
#
# Why each package is here:
#   build-essential, pkg-config  the compiler and the flags lookup
#   libstb-dev             stb_image / stb_image_write / stb_truetype (libstb.so has the code)
#   libopenblas-dev        cblas: every matrix product
#   zlib1g-dev             model files, gzip'd data, PNG chunks
#   libcjson-dev           COCO caption JSON files
#   dataset-fashion-mnist  real product photos for the fashion data set and benchmark
#   fonts-dejavu-core      the TrueType font for heatmap captions
#   chromium (tests only)  headless browser: the heatmap page test clicks a word and reads the DOM
#   imagemagick (tests and evaluation only)  another program's drawing: `make eval-ood` scores the
#                          models on shape scenes ImageMagick's convert draws (tools/ood_shapes.py),
#                          pictures glimpse did not make; never needed to build or run glimpse
#   python3 (tests and evaluation only)  runs tools/ood_shapes.py and tools/ood_fashion.py (standard library)
#   clang, libclang-rt-14-dev (tests only)  `make fuzz`: the fuzz targets are built with clang and
#                          -fsanitize=fuzzer, whose libFuzzer runtime Debian 12 ships in
#                          libclang-rt-14-dev (clang 14 is Debian 12's clang)
#   python3-torch (bench-compare only)  PyTorch, for the side-by-side twin of the training step
#                          (tools/bench_torch.py) and its test, which skips without it
set -eu

BUILD_PACKAGES="build-essential pkg-config libstb-dev libopenblas-dev zlib1g-dev libcjson-dev dataset-fashion-mnist fonts-dejavu-core"
TEST_PACKAGES="chromium imagemagick python3 clang libclang-rt-14-dev"
BENCH_PACKAGES="python3-torch"

check=0 test=0
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        --test) test=1 ;;
        --bench) test=2 ;;
        *) echo "usage: $0 [--check] [--test|--bench]" >&2; exit 2 ;;
    esac
done
if [ "$test" -eq 1 ]; then
    PACKAGES=$TEST_PACKAGES
    WHAT="test packages"
elif [ "$test" -eq 2 ]; then
    PACKAGES=$BENCH_PACKAGES
    WHAT="benchmark packages"
else
    PACKAGES=$BUILD_PACKAGES
    WHAT="packages"
fi

# A failure to install: fatal for the build packages, a visible skip for the
# test packages.
give_up() {
    if [ "$test" -ne 0 ]; then
        echo "install-deps: SKIP: $1; what needs$missing will be skipped"
        exit 0
    fi
    echo "install-deps: $1" >&2
    echo "install-deps: as root, run: apt-get install$missing" >&2
    exit 1
}

missing=""
if ! command -v dpkg-query >/dev/null 2>&1; then
    [ "$test" -ne 0 ] && { echo "install-deps: not a Debian system; browser tests skip unless chromium is on PATH, make eval-ood needs ImageMagick's /usr/bin/convert, make fuzz needs clang with libFuzzer"; exit 0; }
    echo "install-deps: dpkg-query not found: this is not a Debian system." >&2
    echo "install-deps: install the equivalents of: $PACKAGES" >&2
    exit 1
fi
for p in $PACKAGES; do
    case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    [ "$check" -eq 1 ] && echo "install-deps: all $WHAT present"
    exit 0
fi
if [ "$check" -eq 1 ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    give_up "these Debian $WHAT are missing and I am not root and cannot sudo:$missing"
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing; then
    echo "install-deps: done"
else
    give_up "apt-get could not install:$missing"
fi
