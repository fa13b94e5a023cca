#!/usr/bin/python3
"""L4 load balancing end to end (issue 3): nospofd's user-space full-NAT proxy in front of real
servers from Debian packages (nginx, dnsmasq) in network namespaces, driven through the VIP
192.0.2.100 from a client namespace.

Topology (lib/servers.LbTopology): n1 = nospofd (the VIP as a plain address, or owned by a
vrrp_instance), n2.. = real servers (192.0.2.12, .13, ...), cl = client (192.0.2.200). Client
sockets are made inside the client namespace by the test process itself (NsSockets), one new
TCP connection per request unless a case holds one open.

The data plane runs one scheduler per worker thread (one worker per online CPU; there is no
option to change that), and SO_REUSEPORT spreads new connections over the workers by a hash of
the 4-tuple. So rr/wrr counts are checked exactly against the set of totals that W workers
each running the IPVS cycle can produce from any cursor position for any split of the N
connections (achievable()); with one worker this is the exact per-cycle proportion. The
least-connection schedulers read shared per-dest counters, so their picks are checked
exactly, one by one, against an independent model of IPVS lc/wlc.

Cases:
  lb_spread_rr_wrr         rr (equal) and wrr 3:2:1 over 60 new connections each
  lb_spread_lc_wlc         held connections, pick by pick against IPVS lc and wlc 3:2:1
  lb_spread_sh             sh: one client address always lands on one server
  lb_failure_tcp_check     nginx killed under a request loop: no request fails, DOWN after
  lb_failure_http_get      the checker's retries (lb --json, log), UP after restart
  lb_quorum_sorry          quorum 2 + sorry server: quorum_down / quorum_up scripts ran
  lb_dns_udp_redundancy    two dnsmasq behind VIP:53/UDP with DNS_CHECK, one killed and back
  lb_runtime_admin         weight/drain/disable/enable at once, no reload; drain keeps an
                           established connection
  lb_faults_timeouts_fds   silent, half-closed and vanished clients, a hung real server, a
                           UDP source flood: idle timeouts fire, fd count back to baseline
  lb_vrrp_not_delayed      a hung SSL_GET, a sleeping MISC_CHECK and a slow notify script
                           never delay 0.1 s VRRP adverts (no transition for 10 s)
  lb_stop_during_misc_check  SIGTERM while a MISC_CHECK script runs: exit 0, no leak report
"""

import math
import os
import json
import subprocess
import re
import queue
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cleanup  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.servers import (Dnsmasq, Hang, LbNospof, LbTopology, Nginx, NsSockets,  # noqa: E402
                         dns_ask, http_get, http_request, wait_rs_state)
from lib.util import TestFailure, expect, now, poll, ppid  # noqa: E402

VIP = "192.0.2.100"
DNS_NAME = "www.example.test"
DNS_ADDR = "203.0.113.10"
WHO_NAME = "who.example.test"


# ---- config text ----------------------------------------------------------------------------

def rs_block(ip, port, weight=1, lines=()):
    body = [f"        weight {weight}"] + [f"        {ln}" for ln in lines]
    return "\n".join([f"    real_server {ip} {port} {{"] + body + ["    }"])


def vs_block(port, algo, rss, proto="TCP", lines=()):
    """A virtual_server on VIP:port; rss are rs_block() texts."""
    head = [f"virtual_server {VIP} {port} {{", f"    lb_algo {algo}", "    lb_kind NAT",
            f"    protocol {proto}"] + [f"    {ln}" for ln in lines]
    return "\n".join(head + list(rss) + ["}"]) + "\n"


def fast_timing(dl=0.3, retry=1, dbr=0.2, ct=0.5):
    """Checker timing lines: delay_loop, retry, delay_before_retry, connect_timeout, no warmup."""
    return [f"delay_loop {dl}", f"retry {retry}", f"delay_before_retry {dbr}",
            f"connect_timeout {ct}", "warmup 0"]


def check_block(kind, lines=()):
    return "\n".join([f"{kind} {{"] + [f"    {ln}" for ln in lines] + ["}"])


def rs_with_check(ip, port, kind, check_lines=(), weight=1, extra=()):
    lines = list(extra) + check_block(kind, check_lines).split("\n")
    return rs_block(ip, port, weight, lines)


# ---- scheduler models (IPVS rules, written from the algorithm descriptions) --------------------

# IPVS keeps a service's dests newest first (each one added at the list head), and keepalived
# adds the real servers in config order: the scheduling order is the reverse of the config.
# The models below take config-order weights and return config-order indices.

def ipvs_cycle(algo, weights):
    """One full cycle of dest indices of a cursor scheduler over the IPVS list: rr walks the
    list, wrr lowers the current weight by the gcd from the maximum and takes every dest at
    least that heavy."""
    last = len(weights) - 1
    order = list(reversed(weights))
    if algo == "rr":
        return [last - i for i, w in enumerate(order) if w > 0]
    g = 0
    for w in order:
        g = math.gcd(g, w)
    seq = []
    for cw in range(max(order), 0, -g):
        seq += [last - i for i, w in enumerate(order) if w >= cw]
    return seq


def achievable(seq, n_dests, total, workers):
    """Every per-dest count tuple that `workers` independent cursors on cyclic seq (each from
    any position) can produce when they serve `total` picks between them in any split."""
    period = len(seq)

    def window(start, k):
        c = [0] * n_dests
        full, rest = divmod(k, period)
        for i in seq:
            c[i] += full
        for j in range(rest):
            c[seq[(start + j) % period]] += 1
        return tuple(c)
    one = [{window(s, k) for s in range(period)} for k in range(total + 1)]
    sets = one
    for _ in range(workers - 1):
        nxt = []
        for k in range(total + 1):
            acc = set()
            for j in range(k + 1):
                for a in sets[j]:
                    for b in one[k - j]:
                        acc.add(tuple(x + y for x, y in zip(a, b)))
            nxt.append(acc)
        sets = nxt
    return sets[total]


def least_conn_picks(weights, n, weighted):
    """IPVS lc (weighted=False) or wlc picks for n connections that all stay open: the first
    dest with weight > 0 is the candidate, a later one replaces it only when strictly less
    loaded (lc: active; wlc: active/weight, compared as products)."""
    last = len(weights) - 1
    order = list(reversed(weights))
    active = [0] * len(weights)
    picks = []
    for _ in range(n):
        best = None
        for i, w in enumerate(order):
            if w <= 0:
                continue
            if best is None:
                best = i
            elif weighted and active[best] * w > active[i] * order[best]:
                best = i
            elif not weighted and active[i] < active[best]:
                best = i
        active[best] += 1
        picks.append(last - best)
    return picks


# ---- set-up helpers ----------------------------------------------------------------------------

class Lab:
    """One case's world: topology, nginx on n2..n(1+webs), the client socket factory."""

    def __init__(self, ctx, webs=3, extra_nodes=0, vip_addr=True):
        self.ctx = ctx
        self.topo = LbTopology(nodes=1 + webs + extra_nodes)
        self.lbnode = self.topo.node(1)
        if vip_addr:
            self.lbnode.sh(["ip", "addr", "add", f"{VIP}/24", "dev", "eth0"])
        self.webs = [Nginx(ctx, self.topo.node(2 + i), f"web{i + 1}").start()
                     for i in range(webs)]
        self.nss = NsSockets(self.topo.client.ns)
        cleanup.register(self.nss.close)
        self.lb = None

    def ip(self, i):
        """Address of node i (1-based)."""
        return self.topo.node(i).ip4

    def start_lb(self, text, nofile=None):
        self.lb = LbNospof(self.ctx, self.lbnode, text, nofile=nofile).start()
        w = self.lb.workers()
        expect(w is not None and w >= 1, "no 'data-plane workers' line in nospofd's log")
        self.ctx.note(f"nospofd runs {w} data-plane workers")
        return self.lb

    def get(self, port=80, **kw):
        return http_get(self.nss, VIP, port, **kw)

    def counts(self, port, n, names):
        """Serves n GETs on new connections; returns the per-name counts (tuple, names order)."""
        c = dict.fromkeys(names, 0)
        for _ in range(n):
            body = self.get(port)
            expect(body in c, f"unexpected page {body!r} from VIP:{port}")
            c[body] += 1
        return tuple(c[x] for x in names)

    def hold_conn(self, port=80):
        """A keep-alive connection through VIP:port that has answered one GET: (sock, page)."""
        s = self.nss.socket()
        s.settimeout(3)
        s.connect((VIP, port))
        return s, http_request(s, keepalive=True)

class ReqLoop:
    """A background client loop: fn() once per interval until stopped (at most limit_s), each
    result or error recorded with its time. between(f) runs f in the loop thread between two
    requests (so a server is killed while no request is in flight) and returns its value."""

    def __init__(self, fn, interval=0.01, limit_s=45):
        self.fn = fn
        self.interval = interval
        self.limit = now() + limit_s
        self.results = []       # (t, value or None, error or None)
        self._q = queue.Queue()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set() and now() < self.limit:
            while not self._q.empty():
                f, box, done = self._q.get()
                try:
                    box.append(f())
                except Exception as exc:  # noqa: BLE001 -- handed back to the caller
                    box.append(exc)
                done.set()
            try:
                self.results.append((now(), self.fn(), None))
            except Exception as exc:  # noqa: BLE001 -- a failed request is a result
                self.results.append((now(), None, repr(exc)))
            time.sleep(self.interval)

    def between(self, f):
        box, done = [], threading.Event()
        self._q.put((f, box, done))
        expect(done.wait(15), "request loop is stuck")
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]

    def since(self, t):
        return [r for r in self.results if r[0] >= t]

    def errors(self):
        return [r for r in self.results if r[2] is not None]

    def stop(self):
        self._stop.set()
        self.thread.join(10)


# ---- spread ------------------------------------------------------------------------------------

@case("lb_spread_rr_wrr", needs_ctl=True)
def spread_rr_wrr(ctx):
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    names = ("web1", "web2", "web3")
    lab.start_lb(vs_block(80, "rr", [rs_block(ip, 80) for ip in ips]) +
                 vs_block(81, "wrr", [rs_block(ip, 80, w) for ip, w in zip(ips, (3, 2, 1))]))
    workers = lab.lb.workers()
    n = 60
    for port, algo, weights in ((80, "rr", (1, 1, 1)), (81, "wrr", (3, 2, 1))):
        got = lab.counts(port, n, names)
        ok = achievable(ipvs_cycle(algo, list(weights)), 3, n, workers)
        ideal = tuple(n * w // sum(weights) for w in weights)
        expect(got in ok, f"{algo} {weights}: counts {got} over {n} connections are not "
               f"what {workers} worker(s) of IPVS {algo} can give (one worker: {ideal})")
        if workers == 1:
            expect(got == ideal, f"{algo}: {got} != {ideal} with one worker")
        st = [r["conns"] for r in lab.lb.vs(f"TCP {VIP}:{port}")["real_servers"]]
        expect(tuple(st) == got, f"{algo}: lb --json conns {st} != pages seen {got}")
        ctx.note(f"{algo} {weights}: {got} over {n} ({workers} workers; one worker: {ideal})")


@case("lb_spread_lc_wlc", needs_ctl=True)
def spread_lc_wlc(ctx):
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    weights = (3, 2, 1)
    lab.start_lb(vs_block(82, "lc", [rs_block(ip, 80, w) for ip, w in zip(ips, weights)]) +
                 vs_block(83, "wlc", [rs_block(ip, 80, w) for ip, w in zip(ips, weights)]))
    for port, algo in ((82, "lc"), (83, "wlc")):
        held, picks = [], []
        try:
            for _ in range(12):
                s, page = lab.hold_conn(port)
                held.append(s)
                picks.append(int(page[3:]) - 1)
            want = least_conn_picks(list(weights), 12, algo == "wlc")
            expect(picks == want, f"{algo} {weights}: picks {picks}, IPVS {algo} gives {want}")
            act = [r["active"] for r in lab.lb.vs(f"TCP {VIP}:{port}")["real_servers"]]
            expect(act == [want.count(i) for i in range(3)],
                   f"{algo}: lb --json active {act} for 12 held connections")
            ctx.note(f"{algo} {weights}: 12 held connections {act}, picks {picks}")
        finally:
            for s in held:
                s.close()
        poll(lambda p=port: all(r["active"] == 0 for r in
                                lab.lb.vs(f"TCP {VIP}:{p}")["real_servers"]), 10,
             what=f"{algo}: active back to 0 after the clients closed")


@case("lb_spread_sh", needs_ctl=True)
def spread_sh(ctx):
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    lab.start_lb(vs_block(84, "sh", [rs_block(ip, 80) for ip in ips]))
    srcs = [f"192.0.2.{200 + i}" for i in range(6)]
    for a in srcs[1:]:
        lab.topo.client.sh(["ip", "addr", "add", f"{a}/24", "dev", "eth0"])
    first = {}
    for rnd in range(2):
        for a in srcs:
            pages = {lab.get(84, src=(a, 0)) for _ in range(8)}
            expect(len(pages) == 1, f"sh: client {a} landed on {sorted(pages)}")
            page = pages.pop()
            expect(first.setdefault(a, page) == page,
                   f"sh: client {a} moved from {first[a]} to {page} in round {rnd + 1}")
    ctx.note(f"sh: {first} (8 connections x 2 rounds each)")


# ---- failure under load ------------------------------------------------------------------------

def failure_case(ctx, kind, check_lines):
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    retry, dbr, dl = 2, 0.3, 0.4
    timing = fast_timing(dl=dl, retry=retry, dbr=dbr, ct=0.5)
    lab.start_lb(vs_block(80, "rr", [rs_with_check(ip, 80, kind, list(check_lines) + timing)
                                     for ip in ips]))
    lb, victim = lab.lb, lab.webs[0]
    poll(lambda: set(lb.rs_states().values()) == {"UP"}, 5, what="all real servers UP")
    loop = ReqLoop(lambda: lab.get(80), interval=0.005)
    try:
        poll(lambda: len(loop.results) >= 30, 10, what="30 requests before the kill")

        def kill():
            victim.kill()
            poll(lambda: not victim.listening(80), 5, what="nginx web1 gone")
            return now()
        t_kill = loop.between(kill)
        took = wait_rs_state(lb, victim.node.ip4, "DOWN", 10)
        rs = lb.rs(victim.node.ip4)
        ck = rs["checks"][0]
        n_down = len(loop.since(t_kill))
        expect(ck["type"] == kind and not ck["up"] and ck["failures"] >= retry + 1,
               f"{kind} after DOWN: {ck} (want {retry + 1} failed probes: 1 + retry {retry})")
        expect(took >= retry * dbr - 0.05,
               f"DOWN {took:.2f}s after the kill, before {retry} retries x {dbr}s could run")
        lb.procs[0].wait_log(f"real server {victim.node.ip4}:80 is DOWN", 2)
        poll(lambda: len(loop.since(t_kill)) >= n_down + 30, 10, what="30 requests while DOWN")
        t_up = loop.between(lambda: (victim.start(), now())[1])
        took_up = wait_rs_state(lb, victim.node.ip4, "UP", 10)
        lb.procs[0].wait_log(f"real server {victim.node.ip4}:80 is UP", 2)
        t_back = now()
        poll(lambda: any(r[1] == "web1" for r in loop.since(t_back)), 10,
             what="web1 serving again")
    finally:
        loop.stop()
    errs = loop.errors()
    served_dead = [r for r in loop.since(t_kill) if r[0] < t_up and r[1] == "web1"]
    expect(not errs, f"{len(errs)} of {len(loop.results)} requests failed, first {errs[:3]}")
    expect(not served_dead, "web1 answered while killed")
    gs = lb.status()["virtual_servers"][0]["real_servers"][0]
    expect(gs["connect_failures"] >= 1, f"no connect failure counted on web1: {gs}")
    ctx.note(f"{kind}: {len(loop.results)} requests, none failed; DOWN {took:.2f}s after the "
             f"kill (retry {retry} x {dbr}s, delay_loop {dl}s), UP {took_up:.2f}s after the "
             f"restart; {gs['connect_failures']} connects to the dead server retried")


@case("lb_failure_tcp_check", needs_ctl=True)
def failure_tcp(ctx):
    failure_case(ctx, "TCP_CHECK", [])


@case("lb_failure_http_get", needs_ctl=True)
def failure_http(ctx):
    failure_case(ctx, "HTTP_GET", ["url {", "    path /", "    status_code 200", "}"])


# ---- quorum and sorry server -------------------------------------------------------------------

QUORUM_SH = """#!/bin/sh
echo "$1" >> {out}
"""


@case("lb_quorum_sorry", needs_ctl=True)
def quorum_sorry(ctx):
    lab = Lab(ctx, extra_nodes=1)
    sorry_node = lab.topo.node(5)
    Nginx(ctx, sorry_node, "sorry").start()
    out = os.path.join(ctx.tmp, "quorum.out")
    script = os.path.join(ctx.tmp, "quorum.sh")
    with open(script, "w", encoding="utf-8") as f:
        f.write(QUORUM_SH.format(out=out))
    os.chmod(script, 0o755)
    ips = [w.node.ip4 for w in lab.webs]
    lines = fast_timing() + ["quorum 2", "hysteresis 0", f"sorry_server {sorry_node.ip4} 80",
                             f'quorum_up "{script} up"', f'quorum_down "{script} down"']
    lab.start_lb(vs_block(80, "rr", [rs_with_check(ip, 80, "TCP_CHECK") for ip in ips], lines=lines))
    lb = lab.lb

    def calls():
        try:
            with open(out, encoding="utf-8") as f:
                return f.read().split()
        except OSError:
            return []
    poll(lambda: set(lb.rs_states().values()) == {"UP"}, 5, what="all real servers UP")
    pages = {lab.get() for _ in range(12)}
    expect(pages == {"web1", "web2", "web3"}, f"quorum up: pages {pages}")
    expect(calls() == [], f"quorum script ran at start: {calls()}")
    lab.webs[0].kill()
    wait_rs_state(lb, ips[0], "DOWN", 5)
    pages = {lab.get() for _ in range(6)}
    expect(pages <= {"web2", "web3"} and lb.vs()["quorum_up"],
           f"one server down (alive 2 = quorum): pages {pages}, vs {lb.vs()['quorum_up']}")
    lab.webs[1].kill()
    wait_rs_state(lb, ips[1], "DOWN", 5)
    poll(lambda: not lb.vs()["quorum_up"], 3, what="quorum lost in lb --json")
    poll(lambda: calls() == ["down"], 3, what="quorum_down script")
    pages = [lab.get() for _ in range(10)]
    expect(set(pages) == {"sorry"}, f"quorum lost: pages {pages} (want only the sorry server)")
    lb.procs[0].wait_log("quorum lost", 1)
    lab.webs[1].start()
    wait_rs_state(lb, ips[1], "UP", 5)
    poll(lambda: lb.vs()["quorum_up"], 3, what="quorum back in lb --json")
    poll(lambda: calls() == ["down", "up"], 3, what="quorum_up script")
    pages = {lab.get() for _ in range(10)}
    expect(pages == {"web2", "web3"}, f"quorum back: pages {pages}")
    lab.webs[0].start()
    wait_rs_state(lb, ips[0], "UP", 5)
    pages = {lab.get() for _ in range(12)}
    expect(pages == {"web1", "web2", "web3"}, f"all back: pages {pages}")
    expect(calls() == ["down", "up"], f"quorum scripts: {calls()}")
    ctx.note(f"quorum scripts ran: {calls()}")


# ---- DNS redundancy over UDP -------------------------------------------------------------------

@case("lb_dns_udp_redundancy", needs_ctl=True)
def dns_udp(ctx):
    lab = Lab(ctx, webs=0, extra_nodes=2)
    dns = [Dnsmasq(ctx, lab.topo.node(2 + i), f"dns{i + 1}",
                   {DNS_NAME: DNS_ADDR, WHO_NAME: f"203.0.113.{i + 1}"}).start()
           for i in range(2)]
    ips = [d.node.ip4 for d in dns]
    chk = ["type A", f"name {DNS_NAME}"] + fast_timing(dl=0.3, retry=1, dbr=0.2, ct=0.5)
    lab.start_lb(vs_block(53, "rr", [rs_with_check(ip, 53, "DNS_CHECK", chk) for ip in ips],
                          proto="UDP", lines=["nospof_idle_timeout 2"]))
    lb = lab.lb
    vsn = f"UDP {VIP}:53"
    poll(lambda: set(lb.rs_states(vsn).values()) == {"UP"}, 5, what="both dnsmasq UP")
    sticky = lab.nss.socket(socket.SOCK_DGRAM)
    qid = [0]

    def ask(name=DNS_NAME, sock=None):
        qid[0] = (qid[0] + 1) & 0xFFFF
        s = sock or lab.nss.socket(socket.SOCK_DGRAM)
        try:
            return dns_ask(s, VIP, name, qid[0], timeout=0.5)
        finally:
            if sock is None:
                s.close()

    def who_set(n=10):
        return {ask(WHO_NAME) for _ in range(n)}
    if shutil.which("dig"):
        out = lab.topo.client.sh(["dig", f"@{VIP}", DNS_NAME, "A", "+short", "+tries=2",
                                  "+time=1"])
        expect(out.strip() == DNS_ADDR, f"dig through the VIP answered {out!r}")
    expect(who_set() == {"203.0.113.1", "203.0.113.2"}, "new flows do not reach both servers")
    victim_addr = ask(WHO_NAME, sticky)
    expect(victim_addr in ("203.0.113.1", "203.0.113.2"), f"sticky flow: {victim_addr}")
    vi = int(victim_addr.rsplit(".", 1)[1]) - 1
    victim, other = dns[vi], dns[1 - vi]
    lost = 0
    victim.kill()
    t0 = now()
    while lb.rs(victim.node.ip4, vsn)["state"] != "DOWN":
        expect(now() - t0 < 5, "dnsmasq not marked DOWN within 5 s")
        lost += ask() != DNS_ADDR
    lb.procs[0].wait_log(f"real server {victim.node.ip4}:53 is DOWN", 2)
    # The sticky flow's dest left the snapshot: the flow is expired and re-picked.
    poll(lambda: ask(WHO_NAME, sticky) is not None, 2, what="sticky flow answered again")
    answers = [ask() for _ in range(30)] + [ask(sock=sticky) for _ in range(10)]
    expect(answers == [DNS_ADDR] * 40, f"with {victim.sname} down: {answers}")
    other_addr = f"203.0.113.{2 - vi}"
    expect(who_set() == {other_addr} and ask(WHO_NAME, sticky) == other_addr,
           "queries not all on the surviving server")
    victim.start()
    wait_rs_state(lb, victim.node.ip4, "UP", 5)
    poll(lambda: who_set() == {"203.0.113.1", "203.0.113.2"}, 5, what="both servers again")
    expect(lb.procs[0].wait_log(f"real server {victim.node.ip4}:53 is UP", 2), "")
    ctx.note(f"killed {victim.sname} (the sticky flow's server): {lost} queries lost before "
             f"DOWN ({now() - t0:.1f}s), then 40/40 answered by {other.sname}; back UP")


# ---- runtime admin -----------------------------------------------------------------------------

@case("lb_runtime_admin", needs_ctl=True)
def runtime_admin(ctx):
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    names = ("web1", "web2", "web3")
    lab.start_lb(vs_block(80, "wrr", [rs_block(ip, 80) for ip in ips]))
    lb, workers = lab.lb, lab.lb.workers()
    vs, rs = f"{VIP}:80", [f"{ip}:80" for ip in ips]

    def check_wrr(weights, n=60):
        got = lab.counts(80, n, names)
        ok = achievable(ipvs_cycle("wrr", list(weights)), 3, n, workers)
        expect(got in ok, f"wrr {weights}: {got} over {n} is not IPVS wrr on {workers} workers")
        return got
    base = check_wrr((1, 1, 1))
    lb.ctl("weight", vs, rs[0], "4")
    expect(lb.rs(ips[0])["effective_weight"] == 4, f"weight: {lb.rs(ips[0])}")
    w4 = check_wrr((4, 1, 1))
    held, page = None, None
    for _ in range(20):
        s, page = lab.hold_conn()
        if page == "web1":
            held = s
            break
        s.close()
    expect(held is not None, "no connection landed on web1 in 20 tries")
    try:
        lb.ctl("drain", vs, rs[0])
        expect(lb.rs(ips[0])["state"] == "DRAIN", f"drain: {lb.rs(ips[0])}")
        drained = lab.counts(80, 30, names)
        expect(drained[0] == 0, f"drained web1 got new connections: {drained}")
        expect(http_request(held, keepalive=True) == "web1",
               "the established connection to the drained server stopped working")
        expect(lb.rs(ips[0])["active"] == 1, f"drained web1 active: {lb.rs(ips[0])['active']}")
        lb.ctl("disable", vs, rs[1])
        expect(lb.rs(ips[1])["state"] == "DISABLED", f"disable: {lb.rs(ips[1])}")
        only3 = lab.counts(80, 20, names)
        expect(only3 == (0, 0, 20), f"web1 drained + web2 disabled: {only3}")
        expect(http_request(held, keepalive=True) == "web1", "held connection after disable")
    finally:
        held.close()
    lb.ctl("enable", vs, rs[0])
    lb.ctl("enable", vs, rs[1])
    expect([r["state"] for r in lb.vs()["real_servers"]] == ["UP"] * 3, "enable: not all UP")
    back = check_wrr((1, 1, 1))
    expect(lb.status()["daemon"]["reloads"] == 0, "a runtime change caused a reload")
    bad = lb.ctl("weight", vs, rs[0], "70000", check=False)
    expect(lb.rs(ips[0])["weight"] == 1, f"weight 70000 accepted: {bad!r}")
    ctx.note(f"wrr 1:1:1 {base}, weight 4 -> {w4}, drain -> {drained}, +disable -> {only3}, "
             f"enable -> {back}")


# ---- faults ------------------------------------------------------------------------------------

def wait_eof(socks, timeout):
    """Polls until every socket reads EOF (or a reset); returns the seconds it took."""
    t0 = now()
    for s in socks:
        s.setblocking(False)
    pending = set(socks)

    def done():
        for s in list(pending):
            try:
                if s.recv(4096) == b"":
                    pending.discard(s)
            except BlockingIOError:
                pass
            except OSError:
                pending.discard(s)
        return not pending
    poll(done, timeout, interval=0.05, what=f"{len(pending)} connections closed by nospofd")
    return now() - t0


NOFILE = 1024                       # nospofd's fd limit in the faults case
MAX_CONNS = (NOFILE - 64) // 2       # the data plane's default TCP bound (dp.h)


def udp_flood(sport0, count, payload):
    """In the client namespace: count datagrams to VIP:53, each from its own source port,
    paced (1 ms per 50) so that the service socket's receive queue does not simply drop them."""
    for i in range(count):
        if i % 50 == 49:
            time.sleep(0.001)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("0.0.0.0", sport0 + i))
            s.sendto(payload, (VIP, 53))
        finally:
            s.close()


@case("lb_faults_timeouts_fds", needs_ctl=True)
def faults(ctx):
    lab = Lab(ctx, webs=1, extra_nodes=2)
    hang = Hang(ctx, lab.topo.node(3), "hang", 8081, life=55).start()
    dns = Dnsmasq(ctx, lab.topo.node(4), "dns", {DNS_NAME: DNS_ADDR}).start()
    idle = ["nospof_idle_timeout 1"]
    lab.start_lb(vs_block(80, "rr", [rs_block(lab.ip(2), 80)], lines=idle) +
                 vs_block(81, "rr", [rs_block(lab.ip(3), 8081)], lines=idle) +
                 vs_block(53, "rr", [rs_block(lab.ip(4), 53)], proto="UDP", lines=idle),
                 nofile=NOFILE)
    lb = lab.lb
    expect(lab.get() == "web1", "warm-up request")
    s = lab.nss.socket(socket.SOCK_DGRAM)
    expect(dns_ask(s, VIP, DNS_NAME, 1) == DNS_ADDR, "warm-up DNS query")
    s.close()
    poll(lambda: lb.vs(f"UDP {VIP}:53")["real_servers"][0]["inactive"] == 0, 5,
         what="warm-up UDP flow expired")
    base = lb.fds()
    ctx.note(f"nospofd fds at rest: {base}")

    def connect_many(port, n):
        out = []
        for _ in range(n):
            c = lab.nss.socket()
            c.settimeout(3)
            c.connect((VIP, port))
            out.append(c)
        return out
    # Silent clients: connect and send nothing; the idle timeout closes them.
    silent = connect_many(80, 40)
    poll(lambda: lb.rs(lab.ip(2))["active"] == 40, 3, what="40 silent connections proxied")
    took = wait_eof(silent, 6)
    expect(took >= 0.5, f"silent clients closed after {took:.2f}s, before the 1 s idle timeout")
    ctx.note(f"40 silent clients closed by the idle timeout after {took:.2f}s")
    # Half-close: the request then SHUT_WR; the answer must still come back in full.
    for _ in range(5):
        c = lab.nss.socket()
        c.settimeout(3)
        c.connect((VIP, 80))
        c.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        c.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.close()
        expect(data.startswith(b"HTTP/1.1 200") and data.endswith(b"web1\n"),
               f"half-closed client got {data[-60:]!r}")
    # Vanished clients: a partial request, then the client's link is cut and its sockets
    # closed (the FIN never arrives): only the idle timeout can reclaim them.
    gone = connect_many(80, 20)
    for c in gone:
        c.sendall(b"GET / HTTP/1.1\r\n")
    poll(lambda: lb.rs(lab.ip(2))["active"] == 20, 3, what="20 half-open connections")
    lab.topo.cut(lab.topo.client)
    for c in gone:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
        c.close()
    poll(lambda: lb.rs(lab.ip(2))["active"] == 0, 6, what="half-open connections reclaimed")
    lab.topo.heal(lab.topo.client)
    # A hung real server: accepts, never answers.
    hung = connect_many(81, 20)
    for c in hung:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    took = wait_eof(hung, 6)
    expect(hang.accepted() >= 20, f"hang server accepted {hang.accepted()}")
    ctx.note(f"20 requests to a hung server closed after {took:.2f}s")
    for c in silent + hung:
        c.close()
    poll(lambda: lb.fds() <= base, 10, what=f"fd count back to {base} (now {lb.fds()})")
    # More silent clients than the connection bound: the surplus is accepted and closed at
    # once, the rest proxied until the idle timeout.
    many = connect_many(80, MAX_CONNS + 40)
    poll(lambda: lb.rs(lab.ip(2))["active"] >= MAX_CONNS - 5, 5, what="connections up to the bound")
    active = lb.rs(lab.ip(2))["active"]
    expect(active <= MAX_CONNS, f"{active} proxied connections, over the bound {MAX_CONNS}")
    took = wait_eof(many, 8)
    expect(lb.alive(), "nospofd died at its connection bound")
    ctx.note(f"{MAX_CONNS + 40} silent clients at a bound of {MAX_CONNS}: {active} proxied, "
             f"all closed after {took:.2f}s")
    for c in many:
        c.close()
    poll(lambda: lb.fds() <= base, 10, what=f"fd count back to {base} (now {lb.fds()})")
    # A UDP source flood: 3000 source ports, one query each, against an fd limit of 1024:
    # flows are capped by the fds (a flow is a connected socket), the surplus dropped.
    from lib.servers import dns_query_bytes
    t0 = now()
    lab.nss.run(udp_flood, 20000, 3000, dns_query_bytes(DNS_NAME, 7))
    peak = lb.fds()
    ctx.note(f"UDP flood: 3000 sources in {now() - t0:.2f}s, nospofd fds {peak} just after")
    expect(lb.alive(), "nospofd died under the UDP flood")
    expect(peak >= base + 100, f"the flood made only {peak - base} flow sockets")
    expect(peak <= NOFILE, f"{peak} fds over the limit {NOFILE}")
    poll(lambda: lb.fds() <= base, 15, what=f"fd count back to {base} after the UDP flood "
         f"(now {lb.fds()})")
    s = lab.nss.socket(socket.SOCK_DGRAM)
    expect(dns_ask(s, VIP, DNS_NAME, 9) == DNS_ADDR, "DNS through the VIP after the flood")
    s.close()
    expect(lab.get() == "web1", "HTTP through the VIP after the faults")
    expect(lb.alive(), "nospofd died")


# ---- VRRP is never delayed by checks or scripts ------------------------------------------------

def vrrp_instance(prio):
    return "\n".join(["vrrp_instance VI_1 {", "    state BACKUP", "    interface eth0",
                      "    virtual_router_id 61", f"    priority {prio}", "    version 3",
                      "    advert_int 0.1", '    notify_master "/bin/sleep 3"',
                      "    virtual_ipaddress {", f"        {VIP}/24", "    }", "}"]) + "\n"


@case("lb_vrrp_not_delayed", needs_ctl=True)
def vrrp_not_delayed(ctx):
    lab = Lab(ctx, webs=1, extra_nodes=2, vip_addr=False)
    backup_node, hang_node = lab.topo.node(3), lab.topo.node(4)
    tls_ports = list(range(8443, 8448))
    hang = Hang(ctx, hang_node, "tls", tls_ports, life=55).start()
    ssl = ["url {", "    path /", "}", "connect_timeout 3", "retry 1", "delay_before_retry 0.1",
           "delay_loop 0.2", "warmup 0"]
    misc = ['misc_path "/bin/sleep 2"', "misc_timeout 5", "delay_loop 0.2", "warmup 0"]
    # Five TLS servers that never answer the ClientHello, each going DOWN (after a 3 s
    # handshake timeout and a retry) with a notify_down that sleeps 5 s.
    rss = [rs_block(hang_node.ip4, p, 1, ['notify_down "/bin/sleep 5"'] +
                    check_block("SSL_GET", ssl).split("\n")) for p in tls_ports]
    no_misc = vrrp_instance(150) + vs_block(443, "rr", list(rss))
    rss.append(rs_with_check(lab.ip(2), 80, "MISC_CHECK", misc))
    master = lab.start_lb(vrrp_instance(150) + vs_block(443, "rr", rss))
    backup = LbNospof(ctx, backup_node, vrrp_instance(100)).start()
    poll(lambda: master.state() == "MASTER" and backup.state() == "BACKUP", 5,
         what="n1 MASTER, n3 BACKUP")
    poll(lambda: lab.lbnode.has_vip(VIP), 3, what="VIP on n1")
    before = (master.instance()["counters"]["transitions"],
              backup.instance()["counters"]["transitions"])
    t_end = now() + 10
    while now() < t_end:
        sm, sb = master.state(), backup.state()
        expect(sm == "MASTER" and sb == "BACKUP", f"VRRP moved: n1 {sm}, n3 {sb}")
        time.sleep(0.2)
    after = (master.instance()["counters"]["transitions"],
             backup.instance()["counters"]["transitions"])
    expect(after == before, f"transitions changed {before} -> {after}")
    vs = master.vs()
    misc_ck = vs["real_servers"][-1]["checks"][0]
    for p in tls_ports:
        expect(hang.accepted(p) >= 2, f"TLS checks connected {hang.accepted(p)} times to {p}")
    tls_states = [r["state"] for r in vs["real_servers"][:-1]]
    expect(tls_states == ["DOWN"] * 5, f"hung TLS servers not DOWN: {tls_states}")
    expect(misc_ck["probes"] >= 3, f"MISC_CHECK ran {misc_ck['probes']} times")
    ctx.note(f"10 s: no transition (n1 {after[0]}, n3 {after[1]}); TLS handshakes hung "
             f"{hang.accepted()}, MISC_CHECK sleeps {misc_ck['probes']}")
    # Stopping nospofd while a MISC_CHECK script runs leaks the probe (lb_stop_during_misc_check
    # covers that): take the checker out by a reload and let its last script end first.
    master.write(no_misc)
    expect("error" not in master.ctl("reload").lower(), "reload without the MISC_CHECK")
    poll(lambda: ["/bin/sleep", "2"] not in master.children(), 5,
         what="the last MISC_CHECK script ended")
    expect(master.state() == "MASTER", "the reload moved VRRP")


@case("lb_stop_during_misc_check", needs_ctl=True)
def stop_during_misc(ctx):
    """nospofd stopped while a MISC_CHECK script runs: a clean exit (status 0, no sanitizer
    report), the script's process group killed."""
    lab = Lab(ctx, webs=1)
    misc = ['misc_path "/bin/sleep 7"', "misc_timeout 9", "delay_loop 0.2", "warmup 0"]
    lb = lab.start_lb(vs_block(80, "rr", [rs_with_check(lab.ip(2), 80, "MISC_CHECK", misc)]))
    poll(lambda: ["/bin/sleep", "7"] in lb.children(), 5, what="the MISC_CHECK script running")
    pid = lb.daemon_pid()
    kids = [d for d in os.listdir("/proc") if d.isdigit() and ppid(d) == pid]
    lb.stop()
    for d in kids:
        expect(not os.path.exists(f"/proc/{d}") or ppid(d) != pid, f"script {d} survived")
    expect(lb.exit_codes[-1][1] == 0, f"nospofd exited {lb.exit_codes[-1][1]} on SIGTERM "
           f"(log: {lb.procs[0].text()[-300:]!r})")
    # The runner's teardown checks the log for sanitizer reports (a leaked probe).


@case("lb_sched_flags_granularity_lblc", needs_ctl=True)
def sched_flags(ctx):
    """sh-port hashes the client port too (one client address spreads over servers);
    persistence_granularity 255.255.255.0 keeps a whole /24 on one server; lblc keeps every
    connection to one destination (the VIP) on one server while it is not overloaded. One
    data-plane worker, so persistence and caches are global."""
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    lab.start_lb("global_defs {\n    nospof_lb_workers 1\n}\n" +
                 vs_block(85, "sh", [rs_block(ip, 80) for ip in ips], lines=["sh-port"]) +
                 vs_block(86, "rr", [rs_block(ip, 80) for ip in ips],
                          lines=["persistence_timeout 60",
                                 "persistence_granularity 255.255.255.0"]) +
                 vs_block(87, "lblc", [rs_block(ip, 80, 10) for ip in ips]) +
                 vs_block(88, "rr", [rs_block(ip, 9) for ip in ips], proto="UDP"))
    pages = {lab.get(85) for _ in range(24)}
    expect(len(pages) >= 2, f"sh-port: 24 connections from one address all went to {pages}")
    srcs = [f"192.0.2.{210 + i}" for i in range(4)]
    for a in srcs:
        lab.topo.client.sh(["ip", "addr", "add", f"{a}/24", "dev", "eth0"])
    seen = {lab.get(86, src=(a, 0)) for a in srcs for _ in range(3)}
    expect(len(seen) == 1, f"granularity /24: clients of one /24 landed on {sorted(seen)}")
    # Hold connections open on the first server: wlc would now pick another one; lblc keeps
    # the destination's cached server while it is not overloaded (active <= weight 10).
    held = [lab.hold_conn(87) for _ in range(3)]
    lblc = {p for _, p in held} | {lab.get(87) for _ in range(6)}
    for sock, _ in held:
        sock.close()
    expect(len(lblc) == 1, f"lblc: one destination spread over {sorted(lblc)}")
    # The tables behind it, read back from the workers: one /24 template, one UDP flow.
    tmpl = json.loads(lab.lb.ctl("lb", "--persist", "--json"))
    mine = [t for t in tmpl if t["virtual"] == f"{VIP}:86"]
    expect(len(mine) == 1 and mine[0]["client"] == "192.0.2.0" and mine[0]["expires_in_ms"] > 0,
           f"persistence table: {tmpl}")
    u = lab.nss.socket(socket.SOCK_DGRAM)
    u.sendto(b"ping", (VIP, 88))
    port = u.getsockname()[1]
    flows = poll(lambda: [f for f in json.loads(lab.lb.ctl("lb", "--flows", "--json"))
                          if f["virtual"] == f"{VIP}:88"], 3, what="a UDP flow in lb --flows")
    u.close()
    expect(len(flows) == 1 and flows[0]["client"].endswith(f":{port}"), f"flows: {flows}")
    table = lab.lb.ctl("lb", "--persist")
    expect("192.0.2.0" in table and "RealServer" in table, f"lb --persist table:\n{table}")
    ctx.note(f"sh-port: {sorted(pages)}; /24 persistence: {seen}; lblc: {lblc}; "
             f"template {mine[0]['client']} -> {mine[0]['real_server']}; flow {flows[0]}")


# ---- hitless reload under load (issue 5) ------------------------------------------------------

@case("lb_reload_under_load", needs_ctl=True)
def reload_under_load(ctx):
    """wrk runs through VIP:80 while the config is reloaded ten times, adding and removing
    other virtual servers and changing a weight: the listener of VIP:80 and its connections
    stay, so wrk sees no socket error and no non-2xx response."""
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    base = vs_block(80, "rr", [rs_block(ip, 80) for ip in ips])
    lab.start_lb(base)
    expect(lab.get(80).startswith("web"), "VIP:80 does not answer before the test")
    out = os.path.join(ctx.tmp, "wrk.out")
    with open(out, "w", encoding="utf-8") as f:
        wrk = subprocess.Popen(["ip", "netns", "exec", lab.topo.client.ns, "wrk", "-t", "2",
                                "-c", "16", "-d", "12s", "--latency", f"http://{VIP}/"],
                               stdout=f, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)  # wrk's connections are up before the first reload
        for k in range(10):
            text = base if k % 2 else base + vs_block(82 + k % 3, "wlc",
                                                      [rs_block(ip, 80) for ip in ips])
            if k == 4:
                text = vs_block(80, "rr", [rs_block(ip, 80, 2 if i == 0 else 1)
                                           for i, ip in enumerate(ips)])
            lab.lb.write(text)
            lab.lb.ctl("reload")
            time.sleep(0.8)
        wrk.wait(timeout=30)
    finally:
        if wrk.poll() is None:
            wrk.kill()
    with open(out, encoding="utf-8") as f:
        report = f.read()
    reqs = re.search(r"(\d+) requests in", report)
    expect(reqs and int(reqs.group(1)) > 100, f"wrk made too few requests: {report}")
    expect("Socket errors" not in report, f"socket errors during reloads:\n{report}")
    expect("Non-2xx" not in report, f"non-2xx responses during reloads:\n{report}")
    ctx.note(f"{reqs.group(1)} requests through 10 reloads, no error")


if __name__ == "__main__":
    sys.exit(main())
