"""Shared helpers for the failover benchmark and the CPU-load test (helper "demo").

One LAN in network namespaces, built and torn down by this module:

    nspdemo-<pid>-sw   a Linux bridge br0 with one port per node
    nspdemo-<pid>-n1   eth0 192.0.2.1/24   VRRP node, priority 150 (the preferred master)
    nspdemo-<pid>-n2   eth0 192.0.2.2/24   VRRP node, priority 100
    nspdemo-<pid>-c    eth0 192.0.2.10/24  client that probes the VIP 192.0.2.100

Every interface is created inside a namespace (never in the root namespace), only
documentation addresses are used, and Topo.close() (also called from atexit and on
SIGINT/SIGTERM) kills the processes it started and deletes the namespaces. The VRRP daemon on
each node is either nospofd or keepalived, started with identical keepalived-grammar configs.
"""
import atexit
import ctypes
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIP = "192.0.2.100"
NODE_ADDR = {"n1": "192.0.2.1", "n2": "192.0.2.2"}
PRIORITY = {"n1": 150, "n2": 100}
CLIENT_ADDR = "192.0.2.10"
VRID = 51


def sh(*args, check=True, capture=True, timeout=30):
    """Runs a command (argv list); returns its stdout as text."""
    r = subprocess.run(list(args), check=False, timeout=timeout,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), r.returncode,
                                                     (r.stderr or "").strip()))
    return r.stdout or ""


def find_build():
    """Returns the build dir holding nospofd, nospofctl and vipprobe: $NOSPOF_BUILD, else the
    first of build/, /tmp/b-demo that has tools/vipprobe."""
    cands = [os.environ.get("NOSPOF_BUILD", ""), os.path.join(ROOT, "build"), "/tmp/b-demo"]
    for c in cands:
        if c and os.path.exists(os.path.join(c, "tools", "vipprobe")):
            return os.path.abspath(c)
    raise RuntimeError("no build with tools/vipprobe found (run make, or set NOSPOF_BUILD)")


def now_ms():
    return time.time() * 1000.0


def wait_for(pred, timeout_s, step_s=0.01):
    """Polls pred() until it returns a true value or timeout_s passes; returns the value."""
    end = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step_s)


def vrrp_config(node, daemon, advert_s, extra_vips=(), v6_vips=()):
    """keepalived-grammar config for node n1/n2: VRRPv3, one instance VI_1 on eth0, VIP
    192.0.2.100 advertised, extra addresses in virtual_ipaddress_excluded."""
    excluded = ["%s/32" % a for a in extra_vips] + ["%s/128" % a for a in v6_vips]
    lines = [
        "global_defs {",
        "    router_id %s" % node,
        "    vrrp_version 3",
        "}",
        "vrrp_instance VI_1 {",
        "    state BACKUP",
        "    interface eth0",
        "    virtual_router_id %d" % VRID,
        "    version 3",
        "    priority %d" % PRIORITY[node],
        "    advert_int %s" % advert_s,
        "    virtual_ipaddress {",
        "        %s/32" % VIP,
        "    }",
    ]
    if excluded:
        lines.append("    virtual_ipaddress_excluded {")
        lines += ["        " + a for a in excluded]
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def thousand_vips():
    """The 999 extra addresses of the 1000-VIP test (with 192.0.2.100 that is 1000): 747 IPv4
    /32s from the three documentation /24s and 252 IPv6 /128s from 2001:db8:1::/64."""
    v4 = ["192.0.2.%d" % i for i in range(20, 256) if i != 100]
    v4 += ["198.51.100.%d" % i for i in range(256)] + ["203.0.113.%d" % i for i in range(256)]
    v6 = ["2001:db8:1::%x" % i for i in range(1, 253)]
    return v4, v6


class Topo:
    """The namespaces, bridge and links described in the module comment."""

    def __init__(self, tag="t"):
        self.prefix = "nspdemo-%d-%s" % (os.getpid(), tag)
        self.sw = self.prefix + "-sw"
        self.ns = {"n1": self.prefix + "-n1", "n2": self.prefix + "-n2",
                   "c": self.prefix + "-c"}
        self.tmp = "/tmp/%s" % self.prefix
        self.procs = []
        self.closed = False
        atexit.register(self.close)
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, self._on_signal)
        os.makedirs(self.tmp, exist_ok=True)
        self._build()

    def _on_signal(self, signum, frame):
        self.close()
        sys.exit(128 + signum)

    def _build(self):
        for ns in [self.sw] + list(self.ns.values()):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.sw, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        sh("ip", "-n", self.sw, "link", "set", "br0", "up")
        addrs = dict(NODE_ADDR, c=CLIENT_ADDR)
        for name, ns in self.ns.items():
            port = "p-" + name
            sh("ip", "-n", self.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            sh("ip", "-n", self.sw, "link", "set", port, "master", "br0", "up")
            for key in ("all", "default"):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw",
                   "net.ipv6.conf.%s.accept_dad=0" % key)
            sh("ip", "-n", ns, "addr", "add", addrs[name] + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def run_ns(self, node, *args, **kw):
        return sh("ip", "netns", "exec", self.ns[node], *args, **kw)

    def spawn(self, node, args, log):
        """Starts args in node's namespace with output to log; tracked for close()."""
        f = open(log, "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[node]] + list(args), stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
        f.close()
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout_s=10):
        """Signals p and waits for it; kills it after timeout_s. Returns the exit status."""
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def set_link(self, node, up):
        """Cuts (or heals) node's cable at the switch: the bridge port goes down or up."""
        sh("ip", "-n", self.sw, "link", "set", "p-" + node, "up" if up else "down")

    def addr_count(self, node):
        """Number of addresses on node's eth0 (both families, link-local included)."""
        out = sh("ip", "-n", self.ns[node], "-o", "addr", "show", "dev", "eth0")
        return sum(1 for line in out.splitlines() if line.strip())

    def has_vip(self, node):
        out = sh("ip", "-n", self.ns[node], "-o", "-4", "addr", "show", "dev", "eth0")
        return (" %s/" % VIP) in out

    def vip_holder(self):
        """"n1", "n2", "both" or None, by who has the VIP on eth0."""
        h = [n for n in ("n1", "n2") if self.has_vip(n)]
        return h[0] if len(h) == 1 else ("both" if h else None)

    def client_reaches_vip(self):
        r = subprocess.run(["ip", "netns", "exec", self.ns["c"], "ping", "-c1", "-W1", "-q", VIP],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in list(self.procs):
            self.stop(p, signal.SIGTERM, 5)
        for ns in list(self.ns.values()) + [self.sw]:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if not os.environ.get("DEMO_KEEP"):
            subprocess.run(["rm", "-rf", self.tmp])


class Daemon:
    """One VRRP daemon (nospofd or keepalived) on one node of a Topo."""

    def __init__(self, topo, node, kind, build, config):
        self.topo, self.node, self.kind, self.build = topo, node, kind, build
        base = os.path.join(topo.tmp, "%s-%s" % (kind, node))
        self.conf, self.log, self.sock = base + ".conf", base + ".log", base + ".sock"
        self.pids = [base + s + ".pid" for s in ("", "-vrrp", "-check")]
        with open(self.conf, "w") as f:
            f.write(config)
        self.proc = None

    def argv(self):
        if self.kind == "nospof":
            return [os.path.join(self.build, "src/daemon/nospofd"), "-n", "-l", "-f", self.conf,
                    "-p", self.pids[0], "-S", self.sock]
        return ["keepalived", "-n", "-l", "-f", self.conf, "-p", self.pids[0],
                "-r", self.pids[1], "-c", self.pids[2], "--vrrp"]

    def start(self):
        with open(self.log, "a") as f:
            f.write("=== start %.3f\n" % now_ms())
        self.proc = self.topo.spawn(self.node, self.argv(), self.log + ".cur")
        return self

    def stop(self, timeout_s=10):
        """Clean stop (SIGTERM). Returns the exit status."""
        if self.proc is None:
            return 0
        rc = self.topo.stop(self.proc, signal.SIGTERM, timeout_s)
        self.proc = None
        try:
            with open(self.log + ".cur") as src, open(self.log, "a") as dst:
                dst.write(src.read())
        except OSError:
            pass  # the topology is already gone (interrupted run)
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def status(self):
        """nospofctl status --json as a dict (nospof only), or None if it fails."""
        ctl = os.path.join(self.build, "src/ctl/nospofctl")
        r = subprocess.run([ctl, "-S", self.sock, "status", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=10)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None


def nospof_usable(build):
    """True when this build has a real nospofd (it accepts -t on a minimal config)."""
    d = os.path.join(build, "src/daemon/nospofd")
    if not os.path.exists(d):
        return False
    path = "/tmp/nspdemo-%d-probe.conf" % os.getpid()
    with open(path, "w") as f:
        f.write(vrrp_config("n1", "nospof", "0.1"))
    try:
        ok = subprocess.run([d, "-t", "-f", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=10).returncode == 0
        bad = subprocess.run([d, "-t", "-f", "/nonexistent/nspdemo.conf"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             timeout=10).returncode != 0
    finally:
        os.unlink(path)
    return ok and bad


class Probe:
    """vipprobe running in the client namespace against the VIP."""

    def __init__(self, topo, build, interval_ms=10, duration_ms=120000):
        self.topo = topo
        self.out = os.path.join(topo.tmp, "probe-%d.json" % int(now_ms()))
        f = open(self.out, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", topo.ns["c"], os.path.join(build, "tools/vipprobe"), "--json",
             "-i", str(interval_ms), "-d", str(duration_ms), VIP],
            stdout=f, stderr=subprocess.DEVNULL, start_new_session=True)
        f.close()
        topo.procs.append(self.proc)

    def finish(self):
        """Stops the probe (SIGINT) and returns its JSON report as a dict."""
        self.topo.stop(self.proc, signal.SIGINT, 10)
        with open(self.out) as f:
            return json.loads(f.read())


class AddrWatch:
    """Timestamps address additions in one namespace as the kernel announces them: a
    NETLINK_ROUTE socket opened inside the namespace (setns) and subscribed to the IPv4 and
    IPv6 address groups, so the times are exact instead of a polling interval."""

    GROUPS = 0x10 | 0x100  # RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR
    CLONE_NEWNET = 0x40000000

    def __init__(self, nsname):
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + nsname, os.O_RDONLY)
        try:
            if libc.setns(target, self.CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            try:
                self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
                self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
                self.sock.bind((0, self.GROUPS))
            finally:
                libc.setns(own, self.CLONE_NEWNET)
        finally:
            os.close(own)
            os.close(target)
        self.added = {}  # address bytes -> monotonic time first announced

    def _parse(self, data, t):
        off = 0
        while off + 16 <= len(data):
            length, mtype = struct.unpack_from("=IH", data, off)
            if length < 16:
                return
            if mtype == 20:  # RTM_NEWADDR
                key = self._address(data[off + 16:off + length])
                if key and key not in self.added:
                    self.added[key] = t
            off += (length + 3) & ~3

    @staticmethod
    def _address(msg):
        off = 8  # struct ifaddrmsg
        while off + 4 <= len(msg):
            alen, atype = struct.unpack_from("=HH", msg, off)
            if alen < 4:
                return None
            if atype == 1:  # IFA_ADDRESS
                return bytes(msg[off + 4:off + alen])
            off += (alen + 3) & ~3
        return None

    def wait_count(self, n, timeout_s):
        """Reads announcements until n distinct addresses were added or timeout_s passes;
        returns the sorted list of their first-seen monotonic times."""
        end = time.monotonic() + timeout_s
        while len(self.added) < n and time.monotonic() < end:
            r, _, _ = select.select([self.sock], [], [], max(0.0, end - time.monotonic()))
            if r:
                self._parse(self.sock.recv(1 << 20), time.monotonic())
        return sorted(self.added.values())

    def close(self):
        self.sock.close()


def need_root():
    if os.geteuid() != 0:
        print("this needs root (it creates network namespaces): run it with sudo")
        sys.exit(2)
