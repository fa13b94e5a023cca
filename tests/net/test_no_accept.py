#!/usr/bin/python3
"""no_accept (and accept) on a nospof MASTER: the nftables table `inet nospof` that keepalived's
rule needs (keepalived.conf(5): a master that is not the address owner and runs with accept
mode off does not receive packets addressed to its VIPs and excluded VIPs).

Cases:
  no_accept_drops_vip_traffic        n1 MASTER with no_accept: a client's ping and TCP connect to
                                     the IPv4 VIP and the IPv6 eVIP fail while n1's own
                                     address answers; `nft list` shows both in the sets; n1's
                                     link cut: n2 takes over and holds them, n1's sets are
                                     empty; SIGTERM: n1's table is gone
  accept_lets_vip_traffic_in         the same with accept: ping and connect succeed, no table
  no_accept_kept_across_reload_and_upgrade  the VIP never leaves the set (polled) across two
                                     reloads and `nospofctl upgrade`; the old process exits
                                     without deleting it; a reload to accept removes it and
                                     the VIP answers; the new process deletes the table at exit

Namespaces nsna-<pid><n>-*; addresses 192.0.2.0/24 and 2001:db8::/64 only.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cleanup  # noqa: E402
from lib.peers import TextNospof  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.topo import Topology  # noqa: E402
from lib.util import MissCounter, TestFailure, expect, poll  # noqa: E402

VIP = "192.0.2.100"
EVIP = "2001:db8::100"
PORT = 8080
UPGRADED_RE = re.compile(r"upgraded: pid (\d+) serves now .*; pid (\d+) drains")

LISTENER = """
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    c.close()
"""


class NaTopology(Topology):
    ns_prefix = "nsna-"


def config(prio, mode, drain_s=1):
    """One v3 IPv4 instance: VIP (IPv4) and eVIP (IPv6), accept mode 'accept'/'no_accept'."""
    return "\n".join([
        "global_defs {", f"    router_id n{prio}", f"    nospof_upgrade_drain_timeout {drain_s}",
        "}",
        "vrrp_instance VI_1 {", "    state BACKUP", "    interface eth0",
        "    virtual_router_id 61", f"    priority {prio}", "    version 3",
        "    advert_int 0.1", f"    {mode}",
        "    virtual_ipaddress {", f"        {VIP}/24", "    }",
        "    virtual_ipaddress_excluded {", f"        {EVIP}/64", "    }", "}", ""])


class Node(TextNospof):
    """A nospofd with this case's config text."""

    def ctl(self, *args):
        res = subprocess.run([self.ctx.nospofctl, "-S", self.sock] + list(args),
                             capture_output=True, text=True, timeout=60, check=False)
        return res.returncode, res.stdout + res.stderr


def nft_table(node):
    """`nft list table inet nospof` in node, or None when there is no such table."""
    res = subprocess.run(node.exec_argv(["nft", "list", "table", "inet", "nospof"]),
                         capture_output=True, text=True, timeout=10, check=False)
    return res.stdout if res.returncode == 0 else None


def set_elems(node, name):
    """The elements of set name of our table (a list of strings), or None without the table."""
    res = subprocess.run(node.exec_argv(["nft", "list", "set", "inet", "nospof", name]),
                         capture_output=True, text=True, timeout=10, check=False)
    if res.returncode != 0:
        return None
    m = re.search(r"elements = \{([^}]*)\}", res.stdout)
    return [e.strip() for e in m.group(1).split(",")] if m else []


def pings(client, addr):
    res = subprocess.run(client.exec_argv(["ping", "-n", "-c", "1", "-W", "1", addr]),
                         capture_output=True, text=True, timeout=10, check=False)
    return res.returncode == 0


def connects(client, addr):
    """True if a TCP connect from client to addr:PORT completes within 1 s."""
    code = ("import socket, sys\n"
            "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)\n"
            "s.close()\n")
    res = subprocess.run(client.exec_argv(["/usr/bin/python3", "-c", code, addr, str(PORT)]),
                         capture_output=True, text=True, timeout=10, check=False)
    return res.returncode == 0


def listener(node):
    """A TCP listener on [::]:PORT (both families) in node, stopped at cleanup."""
    p = subprocess.Popen(node.exec_argv(["/usr/bin/python3", "-c", LISTENER, str(PORT)]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)

    def stop():
        p.kill()
        p.wait(5)
    cleanup.register(stop)
    poll(lambda: connects(node, node.ip4), 5, what="listener up")
    return p


def start_master(ctx, mode, nodes=1):
    topo = NaTopology(nodes=nodes, client=True)
    n1 = Node(ctx, topo.node(1), config(150, mode)).start()
    poll(lambda: n1.state() == "MASTER" and n1.node.has_vip(VIP) and n1.node.has_vip(EVIP),
         10, what="n1 MASTER with its VIP and eVIP")
    listener(topo.node(1))
    cl = topo.client
    poll(lambda: pings(cl, topo.node(1).ip4), 5, what="client reaches n1's own address")
    expect(connects(cl, topo.node(1).ip6), "client cannot connect to n1's own IPv6 address")
    return topo, n1, cl


def stopped_table_gone(n):
    n.procs[0].signal(signal.SIGTERM)
    poll(lambda: not n.procs[0].alive(), 10, what=f"{n.label} exit")
    expect(n.procs[0].returncode() == 0, f"{n.label} exited {n.procs[0].returncode()}")
    expect(nft_table(n.node) is None, f"table left after a clean exit: {nft_table(n.node)}")


@case("no_accept_drops_vip_traffic", needs_ctl=True)
def no_accept(ctx):
    topo, n1, cl = start_master(ctx, "no_accept", nodes=2)
    n2 = Node(ctx, topo.node(2), config(100, "no_accept")).start()
    poll(lambda: n2.state() == "BACKUP", 5, what="n2 BACKUP")
    expect(set_elems(n1.node, "vips4") == [VIP], f"vips4: {set_elems(n1.node, 'vips4')}")
    expect(set_elems(n1.node, "vips6") == [EVIP], f"vips6: {set_elems(n1.node, 'vips6')}")
    expect(not pings(cl, VIP), "ping to the no_accept VIP answered")
    expect(not pings(cl, EVIP), "ping to the no_accept eVIP answered")
    expect(not connects(cl, VIP), "TCP connect to the no_accept VIP succeeded")
    expect(not connects(cl, EVIP), "TCP connect to the no_accept eVIP succeeded")
    expect(pings(cl, topo.node(1).ip4), "n1's own address stopped answering")
    expect(set_elems(n2.node, "vips4") == [], f"BACKUP n2 filters {set_elems(n2.node, 'vips4')}")
    ctx.note(nft_table(n1.node))
    topo.cut(topo.node(1))
    poll(lambda: n2.state() == "MASTER", 5, what="n2 MASTER after n1's link is cut")
    poll(lambda: set_elems(n2.node, "vips4") == [VIP], 5, what="n2 filters the VIP")
    poll(lambda: set_elems(n1.node, "vips4") == [] and set_elems(n1.node, "vips6") == [], 5,
         what="n1's entries gone with its VIPs")
    expect(not n1.node.has_vip(VIP), "n1 kept the VIP")
    topo.heal(topo.node(1))
    stopped_table_gone(n2)
    stopped_table_gone(n1)


@case("accept_lets_vip_traffic_in", needs_ctl=True)
def accept(ctx):
    _, n1, cl = start_master(ctx, "accept")
    expect(pings(cl, VIP), "ping to the accept VIP failed")
    expect(pings(cl, EVIP), "ping to the accept eVIP failed")
    expect(connects(cl, VIP), "TCP connect to the accept VIP failed")
    expect(connects(cl, EVIP), "TCP connect to the accept eVIP failed")
    expect(nft_table(n1.node) is None, f"accept mode installed a table: {nft_table(n1.node)}")


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@case("no_accept_kept_across_reload_and_upgrade", needs_ctl=True)
def kept(ctx):
    _, n1, cl = start_master(ctx, "no_accept")
    watch = MissCounter(lambda: set_elems(n1.node, "vips4") == [VIP], 0.002)
    try:
        poll(lambda: watch.polls >= 3, 5, what="the set watch running")
        for _ in range(2):
            rc, out = n1.ctl("reload")
            expect(rc == 0 and "kept VI_1 (MASTER)" in out, f"reload: {rc} {out!r}")
            expect(set_elems(n1.node, "vips4") == [VIP], "the VIP left the set on reload")
        rc, out = n1.ctl("upgrade")
        m = UPGRADED_RE.search(out)
        expect(rc == 0 and m, f"nospofctl upgrade: exit {rc}, {out!r}")
        new, old = int(m.group(1)), int(m.group(2))
        poll(lambda: gone(old), 10, what=f"old nospofd {old} exit")
        poll(lambda: n1.state() == "MASTER", 5, what="the new process answers")
        after = watch.polls
        poll(lambda: watch.polls >= after + 3, 5, what="the set watch after the upgrade")
    finally:
        watch.stop()
    expect(watch.misses == 0, f"the VIP was missing from the set in {watch.misses} of "
                              f"{watch.polls} polls")
    ctx.note(f"VIP in the set in all {watch.polls} polls over 2 reloads and an upgrade")
    expect(set_elems(n1.node, "vips4") == [VIP], "the old process took the entry with it")
    expect(not pings(cl, VIP), "ping to the VIP answered after the upgrade")
    n1.write(config(150, "accept"))
    rc, out = n1.ctl("reload")
    expect(rc == 0 and "kept VI_1 (MASTER)" in out, f"reload to accept: {rc} {out!r}")
    poll(lambda: set_elems(n1.node, "vips4") == [], 5, what="entry gone with accept")
    expect(pings(cl, VIP) and connects(cl, VIP), "accept VIP unreachable after the reload")
    os.kill(new, signal.SIGTERM)
    poll(lambda: gone(new), 10, what=f"new nospofd {new} exit")
    expect(nft_table(n1.node) is None, "table left after the new process's clean exit")


if __name__ == "__main__":
    sys.exit(main())
