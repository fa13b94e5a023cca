#!/bin/bash
# Runs every test and prints one closing line "N passed, N failed".
#
# Stages: gcc -Werror build; clang -Werror build; unit + simulation + lint tests under
# ASan+UBSan (meson test); fuzz targets for a bounded time (clang libFuzzer); network
# namespace tests against real peers (tests/net, root only). Each test counts once.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL: $1"; }

setup() { # dir, then meson args
    local dir=$1; shift
    [ -f "$dir/build.ninja" ] || meson setup "$dir" --werror "$@" >"$dir.setup.log" 2>&1 ||
        { cat "$dir.setup.log"; return 1; }
}

stage_build() { # name dir args...
    local name=$1 dir=$2; shift 2
    if setup "$dir" "$@" && ninja -C "$dir" >"$dir.log" 2>&1; then
        pass "build:$name"
    else
        tail -n 40 "$dir.log" 2>/dev/null; fail "build:$name"; return 1
    fi
}

stage_meson_tests() {
    local dir=build-asan
    meson test -C "$dir" --print-errorlogs --num-processes 2 >"$dir.test.log" 2>&1
    # One result line per test: " 1/12 unit / base_addr_rng   OK   0.01s"
    while read -r line; do
        name=$(echo "$line" | sed -E 's/^ *[0-9]+\/[0-9]+ +//; s/ +(OK|FAIL|TIMEOUT|EXPECTEDFAIL|UNEXPECTEDPASS|ERROR|SKIP) .*//')
        case "$line" in
            *" OK "*|*" EXPECTEDFAIL "*) pass "$name" ;;
            *" SKIP "*) echo "SKIP: $name" ;;
            *) fail "$name" ;;
        esac
    done < <(grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log")
    grep -q -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log" || { cat "$dir.test.log"; fail "meson-test"; }
    grep -E -A40 'FAIL|ERROR' "$dir.test.log" | head -n 120 || true
}

stage_fuzz() {
    [ -x tests/fuzz/run.sh ] || return 0
    if ! CC=clang setup build-fuzz -Dfuzz=true || ! ninja -C build-fuzz >build-fuzz.log 2>&1; then
        tail -n 40 build-fuzz.log; fail "build:fuzz"; return
    fi
    pass "build:fuzz"
    while read -r target; do
        if bash tests/fuzz/run.sh build-fuzz "$target" "${FUZZ_SECONDS:-20}"; then
            pass "fuzz:$target"
        else
            fail "fuzz:$target"
        fi
    done < <(bash tests/fuzz/run.sh --list)
}

stage_net() {
    [ -x tests/net/run.sh ] || return 0
    if [ "$(id -u)" != 0 ]; then echo "SKIP: network tests need root"; return; fi
    while read -r result name; do
        case "$result" in
            PASS) pass "net:$name" ;;
            FAIL) fail "net:$name" ;;
        esac
    done < <(bash tests/net/run.sh build-asan 2>&1 | tee build-asan.net.log |
             grep -E '^(PASS|FAIL) ' )
}

stage_build gcc build -Dbuildtype=debugoptimized
CC=clang stage_build clang build-clang
stage_build asan build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debug && stage_meson_tests
stage_fuzz
stage_net

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "Failed:"; printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
