"""Case runner: each tests/net/test_*.py registers named cases with @case and calls main().

For every case it prints exactly one line `PASS name` or `FAIL name` on stdout (scripts/check.sh
parses these), preceded on failure by the reason and the tail of every daemon log, each line
indented so it can never be mistaken for a result line. A case gets a fresh temp dir (kept
on failure, removed on success), a 60 s alarm, and full cleanup (daemons stopped, namespaces
deleted) whatever happens. After the case body, every peer is stopped and its logs scanned for
sanitizer reports, which fail an otherwise passing case.

Command line: test_x.py [--build DIR] [-k SUBSTRING]... [--list] [--keep]
Environment: NOSPOF_IMPL=keepalived runs keepalived in the nospof role (harness self-check);
NET_CASE_TIMEOUT overrides the 60 s per-case limit.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

from . import cleanup
from .util import TestFailure

CASES = []
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def case(name, needs_ctl=False):
    """Decorator: registers fn(ctx) as case `name`. needs_ctl: the case reads nospofctl, so
    it is skipped (a `SKIP name` line) when NOSPOF_IMPL replaces nospofd."""
    def wrap(fn):
        CASES.append((name, fn, needs_ctl))
        return fn
    return wrap


class Ctx:
    """Per-case context: paths of the binaries, temp dir, peers to stop and check."""

    def __init__(self, name, build, tmp):
        self.name = name
        self.build = build
        self.tmp = tmp
        self.nospofd = os.path.join(build, "src", "daemon", "nospofd")
        self.nospofctl = os.path.join(build, "src", "ctl", "nospofctl")
        self.impl = os.environ.get("NOSPOF_IMPL", "nospof")
        self.peers = []
        self.notes = []

    def note(self, msg):
        """Adds a line to the case's report (printed on failure, and with -v)."""
        self.notes.append(msg)


def _resolve_build(path):
    if os.path.isabs(path):
        return path
    if os.path.isdir(path):
        return os.path.abspath(path)
    return os.path.join(REPO, path)


def _alarm(_signum, _frame):
    raise TestFailure("case exceeded its time limit")


def _tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read().decode(errors="replace").splitlines()
    except OSError:
        return []
    return data[-lines:]


def _dump(ctx, err):
    out = [f"  ! {ctx.name}: {err}"] + [f"  note: {n}" for n in ctx.notes]
    out.append(f"  logs kept in {ctx.tmp}")
    for peer in ctx.peers:
        for log in peer.logs():
            out.append(f"  --- {log} (tail)")
            out += [f"  | {ln}" for ln in _tail(log)]
    print("\n".join(out), flush=True)


def _teardown(ctx):
    problems = []
    for peer in reversed(ctx.peers):
        try:
            peer.stop()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{peer.label}: stop failed: {exc!r}")
        problems += peer.problems()
    cleanup.run_all()
    return problems


def run_case(name, fn, build, keep, verbose):
    """Runs one case; prints its result line; returns True on PASS."""
    tmp = tempfile.mkdtemp(prefix=f"nsp-net-{name}-")
    ctx = Ctx(name, build, tmp)
    limit = int(os.environ.get("NET_CASE_TIMEOUT", "60"))
    err = None
    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        fn(ctx)
    except TestFailure as exc:
        err = str(exc)
    except Exception:  # noqa: BLE001 -- a harness bug is a failure too, with its trace
        err = traceback.format_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        problems = _teardown(ctx)
    if err is None and problems:
        err = "; ".join(problems)
    secs = time.monotonic() - start
    if err is not None:
        _dump(ctx, err)
    elif verbose:
        print("\n".join(f"  note: {n}" for n in ctx.notes), flush=True)
    print(f"  ({name}: {secs:.1f} s)\n{'PASS' if err is None else 'FAIL'} {name}", flush=True)
    if err is None and not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return err is None


def main():
    """Parses the command line and runs the selected cases of the calling test file."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD_DIR", "build"))
    ap.add_argument("-k", action="append", default=[], help="run cases containing this")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep temp dirs of passing cases")
    ap.add_argument("-v", action="store_true", help="print notes of passing cases")
    args = ap.parse_args()
    selected = [c for c in CASES if not args.k or any(k in c[0] for k in args.k)]
    if args.list:
        print("\n".join(c[0] for c in selected))
        return 0
    if os.geteuid() != 0:
        print("SKIP: network tests need root", flush=True)
        return 0
    build = _resolve_build(args.build)
    failed = 0
    for name, fn, needs_ctl in selected:
        if needs_ctl and os.environ.get("NOSPOF_IMPL", "nospof") != "nospof":
            print(f"SKIP {name}", flush=True)
            continue
        if not run_case(name, fn, build, args.keep, args.v):
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
