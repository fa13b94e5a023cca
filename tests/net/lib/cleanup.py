"""Process-wide cleanup registry: whatever a test creates (processes, namespaces, temp files)
registers an undo callback here, and the callbacks run in reverse order at the end of a case,
at interpreter exit (atexit) and on SIGTERM/SIGINT, so a crash or a Ctrl-C never leaves a
namespace or a daemon behind.
"""

import atexit
import signal
import sys

_undo = []
_installed = False


def register(fn):
    """Adds fn (no arguments) to the undo stack; returns a token for unregister()."""
    _install()
    _undo.append(fn)
    return fn


def unregister(fn):
    """Removes fn if present (its owner already cleaned up)."""
    try:
        _undo.remove(fn)
    except ValueError:
        pass


def run_all():
    """Runs and clears every undo callback, newest first. Errors are printed, not raised:
    cleanup must go on."""
    while _undo:
        fn = _undo.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 -- cleanup must not stop
            print(f"cleanup error: {exc!r}", file=sys.stderr)


def _on_signal(signum, _frame):
    run_all()
    sys.exit(128 + signum)


def _install():
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(run_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
