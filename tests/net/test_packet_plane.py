#!/usr/bin/python3
"""The packet data plane end to end (`nospof_data_plane packet`): LVS-NAT done by nospofd's TC
BPF programs on a director that routes between a client and real servers, with nginx and
dnsmasq from Debian packages as the real servers.

Topology (PktTopology, namespaces pkn<pid><n>-*; documentation ranges only):

    cl 198.51.100.2 --veth-- dir 198.51.100.1 | 203.0.113.1 --veth-- sw (bridge) --veth-- r1 .11
                             VIP 192.0.2.10 on lo, ip_forward 1              `--veth-- r2 .12

The client's only route off its link is 192.0.2.0/24 via the director; the real servers' default
route is the director. nospofd runs in dir. So a reply can reach the client only if the
director rewrote it back to VIP -> client (the client has no route to 203.0.113.0/24 and would
reset a segment from a real server's address), and a real server sees the client's own address
(LVS-NAT, not full-NAT). Client sockets are made inside cl by the test process (NsSockets), one
new connection (or UDP socket) per request unless a case keeps one.

Cases:
  packet_rr_spread        20 GETs on new connections alternate between web1 and web2, 10/10
  packet_client_address   the real servers see 198.51.100.2 (body echoes $remote_addr, access
                          log), never the director's address
  packet_health_tcp_check nginx killed: within a bound every new request succeeds on the
                          survivor (DOWN after TCP_CHECK's retry), also from a client port whose
                          last connection the dead server refused; both DOWN: refused at once;
                          restarted: traffic again
  packet_udp_dns          two dnsmasq behind VIP:53/UDP with DNS_CHECK: both answer; one killed:
                          after DOWN every query answered (also on a kept source port)
  packet_counters         lb --stats --json: conns and bytes both ways > 0 per real server,
                          conns equal to the requests each one served
  packet_clean_exit       filters on every interface while running, none after SIGTERM
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cleanup  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.servers import (Dnsmasq, LbNospof, Nginx, NsSockets, dns_ask,  # noqa: E402
                         http_get, wait_rs_state)
from lib.topo import Node, Topology  # noqa: E402
from lib.util import TestFailure, expect, now, poll, sh  # noqa: E402

VIP = "192.0.2.10"
CLIENT = "198.51.100.2"
DIR_CLIENT_SIDE = "198.51.100.1"
DIR_SERVER_SIDE = "203.0.113.1"
DNS_NAME = "www.example.test"
DNS_ADDR = "192.0.2.80"
WHO_NAME = "who.example.test"
DIR_IFS = ("lo", "eth0", "eth1")
REUSED_PORT0 = 40100  # client source ports bound on purpose (health case)


# ---- topology ----------------------------------------------------------------------------------

class PktTopology(Topology):
    """Client, director and real servers (see the file comment); lib/topo.Topology's naming,
    cleanup registration and destroy(). nodes: the real servers r1.., client: cl, director:
    dir (eth0 towards the client, eth1 towards the switch)."""
    ns_prefix = "pkn"

    def _build(self, n, client, mtu):
        del client, mtu  # always a client; default MTU
        self._add_ns(self.sw)
        sh(["ip", "-n", self.sw, "link", "add", self.bridge, "type", "bridge", "stp_state", "0",
            "forward_delay", "0"])
        sh(["ip", "-n", self.sw, "link", "set", self.bridge, "up"])
        self.director = Node(self, "dir", 0, DIR_CLIENT_SIDE, None)
        self.client = Node(self, "cl", 0, CLIENT, None)
        d, c = self.director.ns, self.client.ns
        self._add_ns(d)
        self._add_ns(c)
        sh(["ip", "-n", d, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
            "netns", c])
        sh(["ip", "-n", d, "addr", "add", f"{DIR_CLIENT_SIDE}/24", "dev", "eth0"])
        sh(["ip", "-n", c, "addr", "add", f"{CLIENT}/24", "dev", "eth0"])
        sh(["ip", "-n", d, "addr", "add", f"{VIP}/32", "dev", "lo"])
        self._port(d, "pdir", "eth1")
        sh(["ip", "-n", d, "addr", "add", f"{DIR_SERVER_SIDE}/24", "dev", "eth1"])
        for ns, ifn in ((d, "eth0"), (d, "eth1"), (c, "eth0")):
            sh(["ip", "-n", ns, "link", "set", ifn, "up"])
        sh(["ip", "-n", c, "route", "add", "192.0.2.0/24", "via", DIR_CLIENT_SIDE])
        sh(["ip", "netns", "exec", d, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for i in range(1, n + 1):
            node = Node(self, f"r{i}", i, f"203.0.113.{10 + i}", None)
            self._add_ns(node.ns)
            self._port(node.ns, f"p{node.name}", "eth0")
            sh(["ip", "-n", node.ns, "addr", "add", f"{node.ip4}/24", "dev", "eth0"])
            sh(["ip", "-n", node.ns, "link", "set", "eth0", "up"])
            sh(["ip", "-n", node.ns, "route", "add", "default", "via", DIR_SERVER_SIDE])
            self.nodes.append(node)

    def _port(self, ns, port, ifname):
        """A veth from the switch's bridge (port) to ns (ifname)."""
        sh(["ip", "-n", self.sw, "link", "add", port, "type", "veth", "peer", "name", ifname,
            "netns", ns])
        sh(["ip", "-n", self.sw, "link", "set", port, "master", self.bridge, "up"])


# ---- config text -------------------------------------------------------------------------------

def tcp_check():
    """A TCP_CHECK: 1 s delay_loop, one retry."""
    return ["TCP_CHECK {", "    delay_loop 1", "    retry 1", "    delay_before_retry 0.3",
            "    connect_timeout 0.5", "    warmup 0", "}"]


def dns_check():
    return ["DNS_CHECK {", "    type A", f"    name {DNS_NAME}", "    delay_loop 1",
            "    retry 1", "    delay_before_retry 0.3", "    connect_timeout 0.5",
            "    warmup 0", "}"]


def vs_conf(port, ips, proto="TCP", check=None):
    """A packet-plane rr virtual server VIP:port over ips (real servers on the same port)."""
    lines = [f"virtual_server {VIP} {port} {{", "    nospof_data_plane packet", "    lb_algo rr",
             "    lb_kind NAT", f"    protocol {proto}"]
    for ip in ips:
        lines += [f"    real_server {ip} {port} {{", "        weight 1"]
        lines += [f"        {ln}" for ln in (check() if check else [])] + ["    }"]
    return "\n".join(lines + ["}"]) + "\n"


# ---- the lab -----------------------------------------------------------------------------------

class PktLab:
    """One case's world: the topology, nginx (page "webN <client address>") or dnsmasq on the
    real servers, the client socket factory, and nospofd on the director."""

    def __init__(self, ctx, webs=2, dns=0):
        self.ctx = ctx
        self.topo = PktTopology(nodes=max(webs, dns))
        self.director = self.topo.director
        self.webs = [Nginx(ctx, self.topo.node(1 + i), f"web{i + 1}",
                           page=f"web{i + 1} $remote_addr").start() for i in range(webs)]
        self.dns = [Dnsmasq(ctx, self.topo.node(1 + i), f"dns{i + 1}",
                            {DNS_NAME: DNS_ADDR, WHO_NAME: f"192.0.2.{81 + i}"}).start()
                    for i in range(dns)]
        self.nss = NsSockets(self.topo.client.ns)
        cleanup.register(self.nss.close)
        self.lb = None

    def start_lb(self, text):
        self.lb = LbNospof(self.ctx, self.director, text).start()
        self.lb.procs[0].wait_log("packet data plane started", 5,
                                  what="'packet data plane started' in nospofd's log")
        return self.lb

    def get(self, timeout=2.0, src=None):
        """One GET to VIP:80 on a new connection (from src, an (ip, port), if given):
        (server name, address it saw)."""
        body = http_get(self.nss, VIP, 80, timeout=timeout, src=src)
        name, _, seen = body.partition(" ")
        return name, seen

    def names(self, n):
        """n GETs; the list of the server names that answered."""
        return [self.get()[0] for _ in range(n)]

    def ask(self, name=DNS_NAME, sock=None, qid=[0]):  # noqa: B006 -- a query id counter
        """One A query to VIP:53, from sock or a new UDP socket (a new flow); the answer or
        None after 0.5 s."""
        qid[0] = (qid[0] + 1) & 0xFFFF
        s = sock or self.nss.socket(socket.SOCK_DGRAM)
        try:
            return dns_ask(s, VIP, name, qid[0], timeout=0.5)
        finally:
            if sock is None:
                s.close()


def tc_filters(ns, ifname):
    """`tc filter show dev IF ingress` and `egress` in ns, joined (empty when none)."""
    out = []
    for hook in ("ingress", "egress"):
        out.append(sh(["ip", "netns", "exec", ns, "tc", "filter", "show", "dev", ifname, hook],
                      check=False).strip())
    return "\n".join(x for x in out if x)


def start_web_lab(ctx, check=None):
    lab = PktLab(ctx)
    lab.start_lb(vs_conf(80, [w.node.ip4 for w in lab.webs], check=check))
    if check:
        poll(lambda: set(lab.lb.rs_states().values()) == {"UP"}, 5, what="both nginx UP")
    return lab


# ---- cases -------------------------------------------------------------------------------------

@case("packet_rr_spread", needs_ctl=True)
def rr_spread(ctx):
    lab = start_web_lab(ctx)
    got = lab.names(20)
    counts = {n: got.count(n) for n in ("web1", "web2")}
    expect(counts == {"web1": 10, "web2": 10} and sum(counts.values()) == 20,
           f"rr over 20 new connections: {counts} ({got})")
    expect(all(a != b for a, b in zip(got, got[1:])), f"rr does not alternate: {got}")
    ctx.note(f"rr: {got}")


@case("packet_client_address", needs_ctl=True)
def client_address(ctx):
    lab = start_web_lab(ctx)
    seen = [lab.get() for _ in range(6)]
    expect({s for _, s in seen} == {CLIENT},
           f"real servers saw {sorted({s for _, s in seen})}, want only the client {CLIENT}")
    expect({n for n, _ in seen} == {"web1", "web2"}, f"servers answering: {seen}")
    for w in lab.webs:
        with open(os.path.join(w.dir, "access.log"), encoding="utf-8") as f:
            srcs = [ln.split()[0] for ln in f if ln.strip()]
        expect(srcs and set(srcs) == {CLIENT},
               f"{w.sname} access log sources {sorted(set(srcs))}, want only {CLIENT}")
    ctx.note(f"pages: {seen}")


@case("packet_health_tcp_check", needs_ctl=True)
def health_tcp_check(ctx):
    lab = start_web_lab(ctx, check=tcp_check)
    lb, victim, survivor = lab.lb, lab.webs[0], lab.webs[1]
    expect(set(lab.names(4)) == {"web1", "web2"}, "both servers before the kill")
    victim.kill()
    poll(lambda: not victim.listening(80), 5, what="nginx web1 gone")
    t_kill = now()
    # Until the checker's fall, a connection scheduled to the dead server is refused by it
    # (no connect retry in a packet plane). One of them is made from a fixed source port, to
    # be reused once web1 is DOWN: a new connection on that closed 4-tuple must be scheduled
    # again, not sent to web1 by the old flow.
    refused_port = None
    for port in range(REUSED_PORT0, REUSED_PORT0 + 4):
        try:
            lab.get(timeout=1.0, src=(CLIENT, port))
        except ConnectionRefusedError:
            refused_port = port
            break
    expect(refused_port is not None, "no connection refused by the killed web1 in 4 tries")
    # Then every new connection must succeed on web2 within a bound (10 in a row).
    results, streak = [], 0
    while streak < 10:
        expect(now() - t_kill < 8, f"no 10 successes in a row within 8 s of the kill: "
               f"{results[-20:]}")
        try:
            name = lab.get(timeout=1.0)[0]
        except (OSError, TestFailure) as exc:
            name = type(exc).__name__
        results.append(name)
        streak = streak + 1 if name == "web2" else 0
        time.sleep(0.02)  # a client, not a flood: ~50 connections a second
    t_ok = now() - t_kill
    wait_rs_state(lb, victim.node.ip4, "DOWN", 3)
    after = lab.names(10)
    expect(after == ["web2"] * 10, f"after DOWN: {after}")
    try:
        again = lab.get(timeout=1.0, src=(CLIENT, refused_port))[0]
    except OSError as exc:
        again = repr(exc)
    expect(again == "web2", f"web1 DOWN, a new connection from port {refused_port} (its last "
           f"one refused by web1) got {again}, want web2")
    rs = lb.rs(victim.node.ip4)
    expect(rs["checks"][0]["type"] == "TCP_CHECK" and not rs["checks"][0]["up"],
           f"web1 check after the kill: {rs['checks']}")
    lb.procs[0].wait_log(f"real server {victim.node.ip4}:80 is DOWN", 2)
    # No real server left: the first packet goes to the director's own stack, which refuses
    # it at once (an RST, as IPVS), rather than the client's SYN vanishing.
    survivor.kill()
    wait_rs_state(lb, survivor.node.ip4, "DOWN", 5)
    try:
        none_left = lab.get(timeout=1.0)[0]
    except OSError as exc:
        none_left = type(exc).__name__
    expect(none_left == "ConnectionRefusedError",
           f"both real servers DOWN: a connection got {none_left}, want it refused")
    survivor.start()
    victim.start()
    took_up = wait_rs_state(lb, victim.node.ip4, "UP", 5)
    wait_rs_state(lb, survivor.node.ip4, "UP", 5)
    back = lab.names(10)
    expect(back.count("web1") == 5 and back.count("web2") == 5,
           f"web1 back UP but the next 10 requests went {back}")
    expect(survivor.requests() > 0, "no request in web2's access log")
    failed = [r for r in results if r not in ("web1", "web2")]
    ctx.note(f"kill -> 10 good in a row after {t_ok:.2f}s ({len(results)} requests, "
             f"{len(failed)} refused before DOWN); port {refused_port} reused: {again}; "
             f"UP {took_up:.2f}s after restart; then {back}")


@case("packet_udp_dns", needs_ctl=True)
def udp_dns(ctx):
    lab = PktLab(ctx, webs=0, dns=2)
    ips = [d.node.ip4 for d in lab.dns]
    lab.start_lb(vs_conf(53, ips, proto="UDP", check=dns_check))
    lb = lab.lb
    vsn = f"UDP {VIP}:53"
    poll(lambda: set(lb.rs_states(vsn).values()) == {"UP"}, 5, what="both dnsmasq UP")
    whos = ["192.0.2.81", "192.0.2.82"]
    got = [lab.ask(WHO_NAME) for _ in range(10)]
    expect(sorted(got) == sorted(whos * 5), f"10 new flows answered {got} (want 5 each)")
    expect(all(a != b for a, b in zip(got, got[1:])), f"rr does not alternate: {got}")
    out = lab.topo.client.sh(["dig", f"@{VIP}", DNS_NAME, "A", "+short", "+tries=2", "+time=1"])
    expect(out.strip() == DNS_ADDR, f"dig through the VIP answered {out!r}")
    # A kept source port is one flow, pinned to one server: kill that one.
    sticky = lab.nss.socket(socket.SOCK_DGRAM)
    cleanup.register(sticky.close)
    pinned = lab.ask(WHO_NAME, sticky)
    expect(pinned in whos, f"kept-port flow answered {pinned}")
    expect(lab.ask(WHO_NAME, sticky) == pinned, "a kept source port moved between servers")
    vi = whos.index(pinned)
    victim = lab.dns[vi]
    victim.kill()
    t0, lost = now(), 0
    while lb.rs(victim.node.ip4, vsn)["state"] != "DOWN":
        expect(now() - t0 < 6, "dnsmasq not marked DOWN within 6 s")
        lost += lab.ask() != DNS_ADDR
    took = now() - t0
    answers = [lab.ask() for _ in range(20)]
    expect(answers == [DNS_ADDR] * 20, f"with {victim.sname} DOWN: {answers}")
    # The kept port's flow went to a dest that left the service: it ends, the next
    # datagram is scheduled again.
    poll(lambda: lab.ask(WHO_NAME, sticky) is not None, 3, what="kept-port flow answered again")
    kept = [lab.ask(WHO_NAME, sticky) for _ in range(5)]
    expect(kept == [whos[1 - vi]] * 5, f"kept-port flow after DOWN: {kept}")
    victim.start()
    wait_rs_state(lb, victim.node.ip4, "UP", 5, vs=vsn)
    poll(lambda: {lab.ask(WHO_NAME) for _ in range(4)} == set(whos), 5,
         what="both dnsmasq answering again")
    ctx.note(f"killed {victim.sname}: DOWN after {took:.2f}s, {lost} queries lost before; "
             f"then 20/20 answered and the kept port moved to {kept[0]}")


@case("packet_counters", needs_ctl=True)
def counters(ctx):
    lab = start_web_lab(ctx)
    got = lab.names(8)

    def stats():
        out = json.loads(lab.lb.ctl("lb", "--stats", "--json"))
        vss = out["virtual_servers"] if isinstance(out, dict) else out
        return {r["address"]: r for r in vss[0]["real_servers"]}
    # Bytes come from the kernel's counters, folded in by the 1 s sweep.
    poll(lambda: all(r["bytes_in"] > 0 and r["bytes_out"] > 0 for r in stats().values()), 4,
         what=f"bytes in and out > 0 for every real server ({stats()})")
    st = stats()
    for w in lab.webs:
        r = st[w.node.ip4]
        expect(r["conns"] == got.count(w.sname) > 0,
               f"{w.sname}: conns {r['conns']}, served {got.count(w.sname)}")
        # A GET and its answer: the answer (headers and the page) is bigger than the request.
        expect(r["bytes_out"] > r["bytes_in"] > 0, f"{w.sname} bytes: {r}")
    ctx.note("lb --stats --json: " + "; ".join(
        f"{a}: conns {r['conns']} in {r['bytes_in']} out {r['bytes_out']} active {r['active']} "
        f"inactive {r['inactive']}" for a, r in st.items()))


@case("packet_clean_exit", needs_ctl=True)
def clean_exit(ctx):
    lab = start_web_lab(ctx)
    expect(set(lab.names(2)) == {"web1", "web2"}, "traffic before the stop")
    ns = lab.director.ns
    for ifn in DIR_IFS:
        text = tc_filters(ns, ifn)
        expect("nat_in" in text and "nat_out" in text,
               f"{ifn}: nospof's filters missing while running:\n{text}")
    lab.lb.stop()
    code = lab.lb.exit_codes[-1][1]
    expect(code == 0, f"nospofd exited {code} on SIGTERM")
    left = {ifn: tc_filters(ns, ifn) for ifn in DIR_IFS}
    expect(not any(left.values()), f"filters left after exit: {left}")
    qdiscs = sh(["ip", "netns", "exec", ns, "tc", "qdisc", "show"])
    expect("clsact" not in qdiscs, f"clsact left after exit:\n{qdiscs}")
    try:
        lab.get(timeout=1.0)
        raise TestFailure("VIP:80 still answered after nospofd exited")
    except OSError:
        pass
    ctx.note("filters on lo, eth0, eth1 while running; none and no clsact after exit")


if __name__ == "__main__":
    sys.exit(main())
