"""Process management: daemons started inside a namespace with `ip netns exec`, output to a log
file in the case's temp dir, stopped with SIGTERM then SIGKILL, and registered for cleanup.

Each process is started in its own session, so stop() can signal the whole process group it
created (keepalived forks a VRRP child) without ever touching anything else on the machine.
"""

import json
import os
import signal
import subprocess

from . import cleanup
from .topo import ns_exec
from .util import now, poll


class Proc:
    """A daemon running in a namespace. log is the path of its combined stdout/stderr."""

    def __init__(self, name, ns, argv, logdir, env=None):
        self.name = name
        self.ns = ns
        self.argv = list(argv)
        self.log = os.path.join(logdir, f"{name}.log")
        self._logf = open(self.log, "ab")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.popen = subprocess.Popen(ns_exec(ns, self.argv), stdout=self._logf,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True, env=full_env)
        self.started = now()
        self._undo = cleanup.register(self.stop)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        """True while the process has not exited."""
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def stop(self, timeout=5.0):
        """SIGTERM, wait up to timeout, then SIGKILL the process group. Returns the exit code
        (negative for a signal), as subprocess reports it."""
        cleanup.unregister(self._undo)
        if self.alive():
            try:
                os.kill(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(2)
        except subprocess.TimeoutExpired:
            pass
        self._logf.close()
        return self.popen.returncode

    def text(self):
        """The log so far."""
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout, what=None):
        """Waits until needle (a str or a callable on the log text) appears in the log."""
        pred = needle if callable(needle) else (lambda text: needle in text)
        return poll(lambda: pred(self.text()), timeout, interval=0.02,
                    what=what or f"{needle!r} in {self.log}")


class Sender:
    """A lib/craft.py process in a namespace: send(req) writes one JSON request and waits for
    its `sent N` answer."""

    def __init__(self, ns, iface, logdir):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "craft.py")
        self.log = os.path.join(logdir, "craft.log")
        self._logf = open(self.log, "ab")
        self.popen = subprocess.Popen(ns_exec(ns, ["/usr/bin/python3", script, iface]),
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._logf, text=True, start_new_session=True)
        self._undo = cleanup.register(self.close)

    def send(self, req):
        """Sends req (a dict, see craft.py); returns the number of copies sent."""
        self.popen.stdin.write(json.dumps(req) + "\n")
        self.popen.stdin.flush()
        line = self.popen.stdout.readline()
        if not line.startswith("sent "):
            with open(self.log, "rb") as f:
                err = f.read().decode(errors="replace")[-800:]
            raise RuntimeError(f"craft.py failed: {line!r} {err}")
        return int(line.split()[1])

    def close(self):
        cleanup.unregister(self._undo)
        try:
            self.popen.stdin.close()
            self.popen.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(2)
        self._logf.close()
