#!/bin/bash
# Fuzz driver.
#   run.sh --list                    prints the fuzz target names, one per line
#   run.sh BUILD_DIR TARGET SECONDS  runs BUILD_DIR/tests/fuzz/fuzz_TARGET (a -Dfuzz=true clang
#                                    build) for SECONDS on a temporary copy of the seed corpus;
#                                    exits non-zero on a crash, leak, timeout or OOM and prints
#                                    the reproducer path (kept under BUILD_DIR/fuzz-artifacts/).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

list_targets() { # the names in the fuzz_targets list of meson.build
    sed -n "s/^ *\[ *'\([A-Za-z0-9_]*\)' *,.*/\1/p" "$here/meson.build"
}

if [ "${1:-}" = "--list" ]; then
    list_targets
    exit 0
fi
if [ $# -ne 3 ]; then
    echo "usage: $0 --list | $0 BUILD_DIR TARGET SECONDS" >&2
    exit 2
fi
build=$1 target=$2 secs=$3
bin="$build/tests/fuzz/fuzz_$target"
if ! list_targets | grep -qx "$target"; then
    echo "run.sh: unknown target '$target'" >&2
    exit 2
fi
if [ ! -x "$bin" ]; then
    echo "run.sh: $bin not built (configure with CC=clang and -Dfuzz=true)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$here/corpus/$target" ] && cp -r "$here/corpus/$target/." "$work/corpus/"
artifacts="$build/fuzz-artifacts/$target"
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)

"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    tail -n 60 "$work/log"
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log" | tail -n 1)
    echo "fuzz:$target FAILED (exit $rc); reproducer: ${repro:-none written}"
    [ -n "$repro" ] && echo "replay: $build/tests/fuzz/fuzz_replay_$target $repro"
    exit 1
fi
grep -E '^stat::number_of_executed_units' "$work/log" | sed "s/^/fuzz:$target /"
exit 0
