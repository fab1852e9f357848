#!/bin/sh
# install-test-deps.sh - installs the Debian packages only the test suite
# uses, when they are missing. Run by `make test`; never needed to build or
# run glimpse. Where nothing can be installed (not root, no sudo, no network)
# it says so and exits 0: the tests that need a package then skip with a
# visible message instead of failing.
#
#   tools/install-test-deps.sh          install what is missing
#   tools/install-test-deps.sh --check  only report; exit 1 when something is missing
#
# Why each package is here:
#   chromium   headless browser: the heatmap page test clicks a word and reads the DOM
set -u

PACKAGES="chromium"

missing=""
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-test-deps: not a Debian system; browser tests will be skipped unless chromium is on PATH"
    exit 0
fi
for p in $PACKAGES; do
    case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
if [ -z "$missing" ]; then
    [ "${1:-}" = "--check" ] && echo "install-test-deps: all packages present"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install-test-deps: missing:$missing"
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-test-deps: SKIP installing$missing (not root, cannot sudo); the tests that need it will be skipped"
    exit 0
fi

echo "install-test-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing; then
    echo "install-test-deps: done"
else
    echo "install-test-deps: SKIP: could not install$missing; the tests that need it will be skipped"
fi
exit 0
