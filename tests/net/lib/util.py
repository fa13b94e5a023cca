"""Small shared helpers for the network tests: command runner, deadline polling, errors.

Every wait in the harness goes through poll(): it re-evaluates a condition until it holds or a
deadline passes, so no test relies on a fixed sleep for correctness.
"""

import subprocess
import threading
import time


class TestFailure(Exception):
    """A case failed; the message says what was expected and what was seen."""


def sh(argv, check=True, timeout=10, input_text=None):
    """Runs argv (a list), returns its stdout as text. Raises TestFailure on a nonzero exit
    when check is true, with the command and its stderr in the message."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             input=input_text)
    except subprocess.TimeoutExpired as exc:
        raise TestFailure(f"command timed out after {timeout}s: {' '.join(argv)}") from exc
    if check and res.returncode != 0:
        raise TestFailure(f"command failed ({res.returncode}): {' '.join(argv)}\n"
                          f"{res.stderr.strip()}")
    return res.stdout


def now():
    """Monotonic seconds."""
    return time.monotonic()


def poll(cond, timeout, interval=0.01, what="condition"):
    """Calls cond() every interval seconds until it returns a truthy value, which is returned.
    Raises TestFailure naming `what` if timeout seconds pass first."""
    deadline = now() + timeout
    while True:
        val = cond()
        if val:
            return val
        if now() >= deadline:
            raise TestFailure(f"timed out after {timeout:.2f}s waiting for {what}")
        time.sleep(interval)


def hold(cond, duration, interval=0.05, what="condition"):
    """Checks that cond() stays truthy for duration seconds (a stability check, not a wait:
    a single false evaluation fails at once)."""
    deadline = now() + duration
    while now() < deadline:
        if not cond():
            raise TestFailure(f"{what} did not hold for {duration:.2f}s")
        time.sleep(interval)


def expect(ok, msg):
    """Raises TestFailure(msg) unless ok."""
    if not ok:
        raise TestFailure(msg)


def ppid(pid):
    """The parent pid of process pid (an int or a /proc entry name), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


class MissCounter:
    """Checks cond() every interval seconds in a thread until stop(); counts the checks
    (polls) and those that were false (misses). For "X held all along" assertions."""

    def __init__(self, cond, interval):
        self.cond, self.interval = cond, interval
        self.polls = self.misses = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag:
            self.polls += 1
            if not self.cond():
                self.misses += 1
            time.sleep(self.interval)

    def stop(self):
        self.stop_flag = True
        self.thread.join()
