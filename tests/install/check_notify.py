#!/usr/bin/python3
"""Test (suite 'install'): nospofd does what its systemd unit promises. Runs the built daemon
in a private network namespace with $NOTIFY_SOCKET on a unix datagram socket this test reads
and $WATCHDOG_USEC set, and expects: READY=1 after start, WATCHDOG=1 repeatedly (the VRRP
thread answers), "RELOADING=1\\nMONOTONIC_USEC=N" then READY=1 on SIGHUP, STOPPING=1 on
SIGTERM, and exit status 0. Polls with deadlines; exit 77 (skip) when not root.
Usage: check_notify.py NOSPOFD"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

NS = "nspof-notify-%d" % os.getpid()
CONF = """vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""


def sh(*args):
    subprocess.run(args, check=True)


class Receiver:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.seen = []

    def expect(self, pattern, timeout):
        """Reads datagrams until one matches pattern (a full-string regex); returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(512).decode()
            except socket.timeout:
                break
            self.seen.append(msg)
            if re.fullmatch(pattern, msg):
                return msg
        raise AssertionError("no %r within %ss; got %r" % (pattern, timeout, self.seen[-10:]))


def run(nospofd, tmp):
    sh("ip", "netns", "add", NS)
    sh("ip", "-n", NS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
    for dev in ("lo", "eth0", "eth1"):
        sh("ip", "-n", NS, "link", "set", dev, "up")
    sh("ip", "-n", NS, "addr", "add", "192.0.2.1/24", "dev", "eth0")
    with open(tmp + "/nospof.conf", "w") as f:
        f.write(CONF)
    rx = Receiver(tmp + "/notify")
    env = dict(os.environ, NOTIFY_SOCKET=tmp + "/notify", WATCHDOG_USEC="400000")
    env.pop("WATCHDOG_PID", None)
    daemon = subprocess.Popen(
        ["ip", "netns", "exec", NS, nospofd, "-n", "-l", "-f", tmp + "/nospof.conf",
         "-p", tmp + "/pid", "-S", tmp + "/sock"], env=env, stderr=subprocess.DEVNULL)
    try:
        rx.expect("READY=1", 20)
        for _ in range(3):
            rx.expect("WATCHDOG=1", 2)
        daemon.send_signal(1)
        now = time.clock_gettime(time.CLOCK_MONOTONIC)
        msg = rx.expect(r"RELOADING=1\nMONOTONIC_USEC=\d+", 10)
        usec = int(msg.split("=")[-1])
        assert abs(usec / 1e6 - now) < 10, "MONOTONIC_USEC %d is not CLOCK_MONOTONIC" % usec
        rx.expect("READY=1", 10)
        rx.expect("WATCHDOG=1", 2)
        daemon.terminate()
        rx.expect("STOPPING=1", 10)
        rc = daemon.wait(30)
        assert rc == 0, "nospofd exited with %d" % rc
        print("ok: READY, WATCHDOG, RELOADING+READY, STOPPING, exit 0 (%d messages)"
              % len(rx.seen))
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root for a network namespace")
        return 77
    with tempfile.TemporaryDirectory(prefix="nospof-notify-") as tmp:
        try:
            run(sys.argv[1], tmp)
        except AssertionError as e:
            print("FAIL:", e)
            return 1
        finally:
            subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
