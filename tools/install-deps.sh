#!/bin/sh
# install-deps.sh - installs the Debian packages glimpse builds and runs on,
# only those that are missing. Run by the Makefile on the first build; safe to
# run by hand at any time.
#
#   tools/install-deps.sh          install what is missing (apt-get; sudo if not root)
#   tools/install-deps.sh --check  only report; exit 1 when something is missing
#
# Why each package is here:
#   build-essential, pkg-config  the compiler and the flags lookup
#   libstb-dev             stb_image / stb_image_write / stb_truetype (libstb.so has the code)
#   libopenblas-dev        cblas: every matrix product
#   zlib1g-dev             model files, gzip'd data, PNG chunks
#   libcjson-dev           COCO caption JSON files
#   dataset-fashion-mnist  real product photos for the fashion data set and benchmark
#   fonts-dejavu-core      the TrueType font for heatmap captions
set -eu

PACKAGES="build-essential pkg-config libstb-dev libopenblas-dev zlib1g-dev libcjson-dev dataset-fashion-mnist fonts-dejavu-core"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
    for p in $PACKAGES; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$status" in
            *"install ok installed"*) ;;
            *) missing="$missing $p" ;;
        esac
    done
else
    echo "install-deps: dpkg-query not found: this is not a Debian system." >&2
    echo "install-deps: install the equivalents of:$PACKAGES" >&2
    exit 1
fi

if [ -z "$missing" ]; then
    [ "${1:-}" = "--check" ] && echo "install-deps: all packages present"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-deps: these Debian packages are missing:$missing" >&2
    echo "install-deps: I am not root and cannot sudo; run as root:" >&2
    echo "    apt-get install$missing" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
