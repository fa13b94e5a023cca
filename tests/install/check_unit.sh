#!/bin/bash
# Test (suite 'install'): systemd-analyze verify accepts the installed nospofd.service without
# a single message: keys, commands (the installed binaries) and Documentation= man pages
# (looked up in the installed man tree). Exit 77 (skip) without systemd-analyze.
# Usage: check_unit.sh BUILD_DIR SOURCE_DIR PREFIX SBINDIR UNITDIR
set -euo pipefail
build=$1 prefix=$3 sbindir=$4 unitdir=$5
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze not found (Debian package systemd)"
    exit 77
fi
tmp=$(mktemp -d /tmp/nospof-unit-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; echo "FAIL: meson install"; exit 1; }
# Verify a copy whose commands point into the staging tree, as they will after installing.
mkdir "$tmp/units"
sed "s|$sbindir/|$tmp/root$sbindir/|g" "$tmp/root$unitdir/nospofd.service" \
    >"$tmp/units/nospofd.service"
rc=0
out=$(MANPATH="$tmp/root$prefix/share/man" systemd-analyze verify "$tmp/units/nospofd.service" 2>&1) ||
    rc=$?
if [ "$rc" != 0 ] || [ -n "$out" ]; then
    echo "$out"
    echo "FAIL: systemd-analyze verify (exit $rc)"
    exit 1
fi
echo "ok: systemd-analyze verify accepts nospofd.service"
