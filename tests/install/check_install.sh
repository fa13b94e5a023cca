#!/bin/bash
# Test (suite 'install'): `meson install --destdir` -- what `make install DESTDIR=...` runs --
# installs exactly the files listed in docs/install.md, with the listed modes; the unit's
# ExecStart names the installed daemon; the man pages format without groff warnings; and the
# Makefile passes DESTDIR on.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR PREFIX SBINDIR UNITDIR
set -euo pipefail
build=$1 src=$2 prefix=$3 sbindir=$4 unitdir=$5
tmp=$(mktemp -d /tmp/nospof-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; fail "meson install"; }

# The documented list: the fenced block after the marker, "MODE PATH" for prefix /usr/local.
awk '/<!-- installed-files -->/ {m = 1; next} m && /^```/ {if (f) exit; f = 1; next} f' \
    "$src/docs/install.md" |
    sed -e "s|^\([0-7]*\) /usr/local/|\1 $prefix/|" -e "s|^\([0-7]*\) /lib/systemd/system/|\1 $unitdir/|" |
    sort >"$tmp/expected"
[ -s "$tmp/expected" ] || fail "no installed-files list in docs/install.md"
(cd "$tmp/root" && find . -type f -printf '0%m /%P\n') | sort >"$tmp/actual"
if ! diff -u "$tmp/expected" "$tmp/actual"; then
    fail "installed files differ from docs/install.md (- documented, + installed)"
fi
others=$(cd "$tmp/root" && find . ! -type f ! -type d)
[ -z "$others" ] || fail "unexpected non-regular files: $others"
echo "ok: $(wc -l <"$tmp/expected") files as documented"

unit="$tmp/root$unitdir/nospofd.service"
grep -qx "ExecStart=$sbindir/nospofd -n \$NOSPOFD_OPTS" "$unit" || fail "ExecStart in $unit"
grep -qx "ExecReload=$sbindir/nospofctl reload" "$unit" || fail "ExecReload in $unit"
echo "ok: unit runs $sbindir/nospofd"

for page in $(find "$tmp/root" -path '*/man/man*' -type f | sort); do
    warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || fail "groff warnings in ${page#"$tmp/root"}: $warnings"
done
echo "ok: man pages format without warnings"

# Captured first: with pipefail, `make | grep -q` fails when grep exits before make's last
# write (make then dies of SIGPIPE), which made this check flaky.
dry=$(make -n -C "$src" install DESTDIR=/nospof-destdir 2>/dev/null) || true
grep -q -- "install -C build --destdir /nospof-destdir" <<<"$dry" || fail "make install ignores DESTDIR"
echo "ok: make install passes DESTDIR to meson install"
