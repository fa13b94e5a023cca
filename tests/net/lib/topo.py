"""Topology builder: one "switch" namespace holding a Linux bridge, N node namespaces each
joined to it by a veth pair, and an optional client namespace for probes.

Names are unique per run and per topology ("nsp<pid><seq>-sw", "-n1", ..., "-cl"), so several
runs can share a machine. Everything is created from inside the test's own namespaces (the
veth pair is created in the switch namespace and one end moved to the node): the root
namespace's links, addresses, routes and sysctls are never touched. Addresses come only from
192.0.2.0/24 and 2001:db8::/64: node i has 192.0.2.(10+i) and 2001:db8::(10+i), the client
has .200 / ::200.

The bridge runs with multicast_snooping 0 (IPv6 VRRP needs ff02::12 flooded, research/vrrp.md
section 2), STP off and forward delay 0 so ports forward at once. DAD is off in the nodes so
IPv6 addresses (and link-local sources) are usable immediately.
"""

import datetime
import itertools
import json
import os

from . import cleanup
from .util import TestFailure, poll, sh

_seq = itertools.count(1)


def ns_exec(ns, argv):
    """argv prefixed to run inside network namespace ns."""
    return ["ip", "netns", "exec", ns] + list(argv)


def addrs_of(ns):
    """{ifname: [(address, prefixlen), ...]} of every interface in ns (ip -j addr)."""
    out = sh(["ip", "-n", ns, "-j", "addr", "show"])
    res = {}
    for link in json.loads(out or "[]"):
        res[link["ifname"]] = [(a["local"], a["prefixlen"]) for a in link.get("addr_info", [])]
    return res


def vip_ifaces(ns, vip):
    """Names of the interfaces of ns that carry address vip (no prefix), e.g. [] or ["eth0"]."""
    return [ifn for ifn, addrs in addrs_of(ns).items() if any(a == vip for a, _ in addrs)]


def has_vip(ns, vip):
    """True if some interface in ns carries vip."""
    return bool(vip_ifaces(ns, vip))


class Node:
    """One namespace on the bridge: ns name, its interface (eth0), the switch-side port and
    its addresses."""

    def __init__(self, topo, name, index, ip4, ip6):
        self.topo = topo
        self.name = name            # short role name: n1, n2, cl
        self.index = index
        self.ns = f"{topo.prefix}-{name}"
        self.ifname = "eth0"
        self.port = f"p{name}"      # veth end in the switch namespace
        self.ip4 = ip4
        self.ip6 = ip6

    def exec_argv(self, argv):
        """argv prefixed to run in this node's namespace."""
        return ns_exec(self.ns, argv)

    def sh(self, argv, **kw):
        """Runs argv inside the node namespace; returns stdout."""
        return sh(self.exec_argv(argv), **kw)

    def link_local(self):
        """The fe80:: address of eth0 (waits for it to appear)."""
        def find():
            for addr, _ in addrs_of(self.ns).get(self.ifname, []):
                if addr.startswith("fe80:"):
                    return addr
            return None
        return poll(find, 5, what=f"link-local address on {self.ns}")

    def has_vip(self, vip):
        return has_vip(self.ns, vip)

    def mac(self):
        out = sh(["ip", "-n", self.ns, "-j", "link", "show", "dev", self.ifname])
        return json.loads(out)[0]["address"]


class Topology:
    """A bridge and nodes; destroy() (also registered for cleanup) deletes every namespace,
    which also removes its veths and kills nothing else: processes are owned by procs."""

    # Namespace names start with this; test families set their own so their leftovers, if a
    # run is killed, are easy to attribute.
    ns_prefix = "nsp"

    def __init__(self, nodes=2, client=True, mtu=None):
        self.prefix = f"{self.ns_prefix}{os.getpid()}{next(_seq)}"
        self.sw = f"{self.prefix}-sw"
        self.bridge = "br0"
        self.namespaces = []
        self.nodes = []
        self.client = None
        self._undo = cleanup.register(self.destroy)
        try:
            self._build(nodes, client, mtu)
        except Exception:
            self.destroy()
            raise

    def _add_ns(self, ns):
        sh(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])

    def _build(self, n, client, mtu):
        self._add_ns(self.sw)
        sh(["ip", "-n", self.sw, "link", "add", self.bridge, "type", "bridge",
            "mcast_snooping", "0", "stp_state", "0", "forward_delay", "0"])
        if mtu:
            sh(["ip", "-n", self.sw, "link", "set", self.bridge, "mtu", str(mtu)])
        sh(["ip", "-n", self.sw, "link", "set", self.bridge, "up"])
        for i in range(1, n + 1):
            node = Node(self, f"n{i}", i, f"192.0.2.{10 + i}", f"2001:db8::{10 + i}")
            self._attach(node, mtu)
            self.nodes.append(node)
        if client:
            self.client = Node(self, "cl", 0, "192.0.2.200", "2001:db8::200")
            self._attach(self.client, mtu)

    def _attach(self, node, mtu):
        self._add_ns(node.ns)
        for key in ("all", "default"):
            node.sh(["sysctl", "-qw", f"net.ipv6.conf.{key}.accept_dad=0"])
        sh(["ip", "-n", self.sw, "link", "add", node.port, "type", "veth", "peer", "name",
            node.ifname, "netns", node.ns])
        if mtu:
            sh(["ip", "-n", self.sw, "link", "set", node.port, "mtu", str(mtu)])
            sh(["ip", "-n", node.ns, "link", "set", node.ifname, "mtu", str(mtu)])
        sh(["ip", "-n", self.sw, "link", "set", node.port, "master", self.bridge, "up"])
        sh(["ip", "-n", node.ns, "addr", "add", f"{node.ip4}/24", "dev", node.ifname])
        sh(["ip", "-n", node.ns, "addr", "add", f"{node.ip6}/64", "dev", node.ifname, "nodad"])
        sh(["ip", "-n", node.ns, "link", "set", node.ifname, "up"])

    def node(self, i):
        """Node i (1-based)."""
        return self.nodes[i - 1]

    def cut(self, node, side="switch"):
        """Cuts node's link: sets the veth end in the switch (default; the node then sees
        carrier loss) or the node's own eth0 down."""
        if side == "switch":
            sh(["ip", "-n", self.sw, "link", "set", node.port, "down"])
        else:
            sh(["ip", "-n", node.ns, "link", "set", node.ifname, "down"])

    def heal(self, node, side="switch"):
        """Undoes cut()."""
        if side == "switch":
            sh(["ip", "-n", self.sw, "link", "set", node.port, "up"])
        else:
            sh(["ip", "-n", node.ns, "link", "set", node.ifname, "up"])

    def destroy(self):
        """Kills stray processes left in our namespaces and deletes the namespaces."""
        cleanup.unregister(self._undo)
        for ns in reversed(self.namespaces):
            pids = sh(["ip", "netns", "pids", ns], check=False).split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", ns], check=False)
        self.namespaces = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()


def require_root():
    """Raises TestFailure unless running as root (namespaces need it)."""
    if os.geteuid() != 0:
        raise TestFailure("network tests need root")


class AddrMonitor:
    """`ip -ts -o monitor address` in a namespace, to timestamp when an address appears
    (more precise than polling, whose spawn latency grows with machine load). Used by the
    takeover measurement next to the 5 ms polling, never instead of a deadline."""

    def __init__(self, ns, logdir, proc_cls):
        self.ns = ns
        self.proc = proc_cls(f"addrmon-{ns}", ns, ["ip", "-ts", "-o", "monitor", "address"],
                             logdir)
        # Synchronise: the monitor is live once it reports a marker address on lo.
        # The marker is re-added until seen, since it may precede the subscription.
        marker = "192.0.2.254/32"

        def seen():
            sh(["ip", "-n", ns, "addr", "add", marker, "dev", "lo"])
            try:
                poll(lambda: f"inet {marker}" in self.proc.text(), 0.2, interval=0.01)
                return True
            except TestFailure:
                return False
            finally:
                sh(["ip", "-n", ns, "addr", "del", marker, "dev", "lo"])
        poll(seen, 5, interval=0, what="ip monitor start")

    def first_add(self, addr):
        """Wall-clock time (seconds since the epoch) of the first report of addr being added,
        or None."""
        for line in self.proc.text().splitlines():
            if line.startswith("[") and "Deleted" not in line and f" {addr}/" in line:
                stamp = line[1:line.index("]")]
                return datetime.datetime.fromisoformat(stamp).timestamp()
        return None

    def stop(self):
        self.proc.stop()
