#!/usr/bin/python3
"""HTTP (L7) switch end to end (issue 4): nospofd with `protocol HTTP` in front of nginx real
servers in network namespaces, driven through the VIP 192.0.2.100 from a client namespace.

Topology (HttpTopology, namespaces nspl7<pid><n>-*): n1 = nospofd with the VIP as a plain
address, n2.. = nginx real servers (page = their name), cl = client. Client sockets are made
inside the client namespace by the test process (NsSockets).

Cases:
  http_routing_host_path      Host exact / wildcard and path prefix rules pick the group
  http_cookie_sticky_moves    the inserted cookie holds a client on one server; when that
                              server goes DOWN the request moves and the cookie is re-set
  http_keepalive_reuse        100 client connections in a row: server connections reused
                              (lb --json reuses), nginx sees every request
  http_kill_under_load        nginx killed under a GET loop: no request fails (retries)
  http_slowloris              a client trickling its head gets 408 at http_header_timeout
                              while other clients are served
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cleanup  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.servers import LbNospof, LbTopology, Nginx, NsSockets, wait_rs_state  # noqa: E402
from lib.util import TestFailure, expect, now, poll  # noqa: E402

VIP = "192.0.2.100"


class HttpTopology(LbTopology):
    """LbTopology with this file's namespace prefix (nspl7<pid><n>)."""
    ns_prefix = "nspl7"


def rs_block(ip, lines=(), indent="    "):
    body = [f"{indent}    {ln}" for ln in lines]
    return "\n".join([f"{indent}real_server {ip} 80 {{"] + body + [f"{indent}}}"])


def tcp_check(dl=0.3):
    return ["TCP_CHECK {", f"    connect_timeout 0.5", "}", f"delay_loop {dl}", "retry 1",
            "delay_before_retry 0.2", "warmup 0"]


def vs_http(body, algo="rr"):
    return "\n".join([f"virtual_server {VIP} 80 {{", "    protocol HTTP", f"    lb_algo {algo}"] +
                     [f"    {ln}" if not ln.startswith(" ") else ln for ln in body] +
                     ["}"]) + "\n"


class Lab:
    def __init__(self, ctx, webs=3):
        self.ctx = ctx
        self.topo = HttpTopology(nodes=1 + webs)
        self.lbnode = self.topo.node(1)
        self.lbnode.sh(["ip", "addr", "add", f"{VIP}/24", "dev", "eth0"])
        self.webs = [Nginx(ctx, self.topo.node(2 + i), f"web{i + 1}").start()
                     for i in range(webs)]
        self.nss = NsSockets(self.topo.client.ns)
        cleanup.register(self.nss.close)
        self.lb = None

    def start_lb(self, text):
        self.lb = LbNospof(self.ctx, self.lbnode, text).start()
        return self.lb

    def conn(self, timeout=3.0):
        s = self.nss.socket()
        s.settimeout(timeout)
        s.connect((VIP, 80))
        return s


def request(s, host="lb.test", path="/", headers=(), close=False):
    """One GET on s; returns (status, {lower-name: value}, body str)."""
    extra = "".join(f"{h}\r\n" for h in headers)
    conn = "Connection: close\r\n" if close else ""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}{conn}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise TestFailure(f"closed before the head: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(body) < n:
        chunk = s.recv(4096)
        if not chunk:
            raise TestFailure("closed inside the body")
        body += chunk
    return int(lines[0].split()[1]), hdrs, body[:n].decode().strip()


def get(lab, **kw):
    s = lab.conn()
    try:
        return request(s, close=True, **kw)
    finally:
        s.close()


@case("http_routing_host_path", needs_ctl=True)
def routing(ctx):
    lab = Lab(ctx)
    w1, w2, w3 = (w.node.ip4 for w in lab.webs)
    lab.start_lb(vs_http([rs_block(w1), "real_server_group api {", rs_block(w2, indent="    "),
                          "}", "real_server_group static {", rs_block(w3, indent="    "), "}",
                          "http_route {", "    host api.example.test group api",
                          "    host *.api.example.test path /v2/ group api",
                          "    path /static/ group static", "}"]))
    cases = [("api.example.test", "/", "web2"), ("API.example.test:80", "/x", "web2"),
             ("a.api.example.test", "/v2/users", "web2"), ("a.api.example.test", "/v1", "web1"),
             ("www.example.test", "/static/app.js", "web3"), ("www.example.test", "/", "web1"),
             ("api.example.test", "/static/", "web2")]
    for host, path, want in cases:
        st, _, body = get(lab, host=host, path=path)
        expect(st == 200 and body == want, f"Host {host} {path}: {st} {body!r}, want {want}")
    ctx.note(f"{len(cases)} routing cases")


@case("http_cookie_sticky_moves", needs_ctl=True)
def cookie(ctx):
    lab = Lab(ctx, webs=2)
    ips = [w.node.ip4 for w in lab.webs]
    lab.start_lb(vs_http([rs_block(ip, tcp_check()) for ip in ips] + ["http_cookie SRV"]))
    poll(lambda: set(lab.lb.rs_states().values()) == {"UP"}, 5, what="both UP")
    st, h, first = get(lab)
    expect(st == 200 and h.get("set-cookie", "").startswith("SRV="), f"no cookie: {h}")
    ck = h["set-cookie"].split(";")[0]
    for i in range(10):  # rr would alternate: the cookie holds
        st, h, body = get(lab, headers=[f"Cookie: {ck}"])
        expect(body == first, f"request {i} with {ck} went to {body}, not {first}")
        expect("set-cookie" not in h, f"cookie re-set on a valid one: {h}")
    victim = lab.webs[0 if first == "web1" else 1]
    victim.kill()
    wait_rs_state(lab.lb, victim.node.ip4, "DOWN", 5)
    st, h, body = get(lab, headers=[f"Cookie: {ck}"])
    expect(st == 200 and body != first, f"server down but still {body}")
    expect(h.get("set-cookie", "").startswith("SRV=") and h["set-cookie"].split(";")[0] != ck,
           f"no new cookie after the move: {h}")
    ctx.note(f"{ck} -> {first}; after its kill: {body} with {h['set-cookie']}")


@case("http_keepalive_reuse", needs_ctl=True)
def keepalive(ctx):
    lab = Lab(ctx, webs=1)
    lab.start_lb(vs_http([rs_block(lab.webs[0].node.ip4)]))
    n = 100
    for _ in range(n):
        st, _, body = get(lab)
        expect(st == 200 and body == "web1", f"{st} {body}")
    r = lab.lb.vs()["real_servers"][0]
    http = r["http"]
    workers = lab.lb.workers() or 1
    expect(http["requests"] == n and http["responses"]["2xx"] == n, f"counters {http}")
    expect(http["reuses"] >= n - workers, f"reuses {http['reuses']} of {n} ({workers} workers)")
    expect(r["conns"] <= workers, f"{r['conns']} server connections for {n} requests")
    poll(lambda: lab.webs[0].requests() >= n, 3, what="nginx logged every request")
    ctx.note(f"{n} requests on {n} client connections: {r['conns']} server connections, "
             f"{http['reuses']} reuses, p99 {http['p99_us']} us")


@case("http_kill_under_load", needs_ctl=True)
def kill_under_load(ctx):
    lab = Lab(ctx, webs=3)
    lab.start_lb(vs_http([rs_block(w.node.ip4, tcp_check()) for w in lab.webs] +
                         ["http_retries 2"]))
    poll(lambda: set(lab.lb.rs_states().values()) == {"UP"}, 5, what="all UP")
    results, stop = [], threading.Event()

    def loop():
        s = None
        while not stop.is_set():
            try:
                if s is None:
                    s = lab.conn()
                st, _, body = request(s)
                results.append((st, body))
            except (OSError, TestFailure) as exc:
                results.append((0, repr(exc)))
                s = None

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    poll(lambda: len(results) > 200, 10, what="200 requests before the kill")
    lab.webs[0].kill()
    t_kill = now()
    poll(lambda: len(results) > 2000 or now() - t_kill > 3, 10, what="load after the kill")
    stop.set()
    for t in threads:
        t.join(5)
    bad = [r for r in results if r[0] != 200]
    expect(not bad, f"{len(bad)} failed requests of {len(results)}: {bad[:3]}")
    retries = sum(r["http"]["retries"] for r in lab.lb.vs()["real_servers"])
    ctx.note(f"{len(results)} keep-alive GETs, none failed; web1 killed; retries {retries}")


@case("http_slowloris", needs_ctl=True)
def slowloris(ctx):
    lab = Lab(ctx, webs=1)
    lab.start_lb(vs_http([rs_block(lab.webs[0].node.ip4), "http_header_timeout 1"]))
    slow = lab.conn(timeout=5)
    slow.sendall(b"GET / HTTP/1.1\r\n")
    t0 = now()
    served = 0
    while now() - t0 < 0.8:
        slow.sendall(b"X")
        st, _, _ = get(lab)
        served += st == 200
        time.sleep(0.05)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = slow.recv(4096)
        if not chunk:
            break
        data += chunk
    dt = now() - t0
    expect(data.startswith(b"HTTP/1.1 408"), f"slow client got {data[:60]!r}")
    expect(0.9 <= dt < 2.5, f"408 after {dt:.2f} s (timeout 1 s)")
    slow.settimeout(2)
    rest = b""
    try:
        while True:
            chunk = slow.recv(4096)
            if not chunk:
                break
            rest += chunk
    except socket.timeout:
        raise TestFailure("connection not closed after the 408") from None
    slow.close()
    expect(served >= 5, f"only {served} other requests served meanwhile")
    ctx.note(f"408 after {dt:.2f} s, {served} other requests served meanwhile")


if __name__ == "__main__":
    sys.exit(main())
