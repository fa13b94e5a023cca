#!/bin/bash
# Runs every tests/net/test_*.py against the nospofd/nospofctl of BUILD_DIR and prints one
# line per case, "PASS name" or "FAIL name" (scripts/check.sh parses them); exits nonzero if
# any case failed. Needs root. Extra arguments go to every test file (e.g. -k keepalived_v2).
# Environment: NOSPOF_IMPL=keepalived plays the nospof role with keepalived (harness check).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
case "$build" in /*) ;; *) [ -d "$build" ] || build="$here/../../$build" ;; esac
build=$(cd "$build" 2>/dev/null && pwd) || { echo "FAIL net-setup (no build dir ${1:-build})"; exit 1; }
if [ "$(id -u)" != 0 ]; then echo "SKIP: network tests need root"; exit 0; fi
rc=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$here"/test_*.py; do
    # A whole-file time limit backs up the per-case 60 s alarm; a file that dies without
    # reporting a failed case is reported as a failure under its own name.
    timeout -k 10 600 /usr/bin/python3 "$t" --build "$build" "$@" 2>&1 | tee "$out"
    st=${PIPESTATUS[0]}
    if [ "$st" != 0 ]; then
        rc=1
        grep -q '^FAIL ' "$out" || echo "FAIL $(basename "$t" .py)"
    fi
done
exit $rc
