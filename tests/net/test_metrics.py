#!/usr/bin/python3
"""The status listener and the event stream (issue 5, observability), on one nospofd (VI_1
owning the VIP, a virtual server over two nginx) in namespaces; the listener is on the
nospofd namespace's loopback (lib/status.py).

Cases:
  metrics_match_status        /metrics parses under a strict 0.0.4 parser (HELP/TYPE, label
                              escaping, contiguous families, cumulative histograms, no
                              duplicate series) and every VRRP and LB value equals (gauges)
                              or lies between two `nospofctl status --json` reads (counters);
                              connections_total counts exactly the client's requests
  status_listener_http        /status.json is the nospofctl document; 404, 405, HEAD; a
                              reload moves the listener to a new port and closes the old one
  events_stream               `nospofctl events --json` and `nospofctl events` receive a real
                              server going DOWN, VI_1 MASTER -> FAULT -> ... -> MASTER on a
                              link cut and heal, and a reload, in order, as they happen
"""

import json
import os
import queue
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cleanup  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.servers import wait_rs_state  # noqa: E402
from lib.status import STATES, Exposition, StatusLab, lab_config  # noqa: E402
from lib.util import TestFailure, expect, now, poll  # noqa: E402

VS = "TCP 192.0.2.100:80"


def between(lo, v, hi, what):
    expect(lo <= v <= hi, f"{what}: metric {v} not within the status reads [{lo}, {hi}]")


def check_instance(m, a, b):
    """Metrics m of instance a (status before) / b (status after) of VI_1."""
    lbl = {"instance": a["name"], "vrid": a["vrid"], "interface": a["interface"]}
    expect(a["state"] == b["state"], "state changed during the scrape")
    expect(m.value("nospof_vrrp_state", **lbl) == STATES.index(a["state"]),
           f"nospof_vrrp_state {m.value('nospof_vrrp_state', **lbl)} vs {a['state']}")
    expect(m.value("nospof_vrrp_master", **lbl) == (a["state"] == "MASTER"), "vrrp_master")
    expect(m.value("nospof_vrrp_priority", **lbl) == a["priority"], "priority")
    expect(m.value("nospof_vrrp_effective_priority", **lbl) == a["effective_priority"],
           "effective_priority")
    for metric, key in (("transitions_total", "transitions"), ("adverts_tx_total", "adverts_tx"),
                        ("adverts_rx_total", "adverts_rx"),
                        ("became_master_total", "became_master")):
        between(a["counters"][key], m.value(f"nospof_vrrp_{metric}", **lbl),
                b["counters"][key], metric)
    for reason, n in a["counters"]["drops"].items():
        between(n, m.value("nospof_vrrp_drops_total", reason=reason, **lbl),
                b["counters"]["drops"][reason], f"drops {reason}")


def check_real_servers(m, a, b):
    vs_a, vs_b = a["virtual_servers"][0], b["virtual_servers"][0]
    expect(vs_a["name"] == VS, f"virtual server name {vs_a['name']!r}")
    expect(m.value("nospof_lb_virtual_server_quorum_up", virtual_server=VS) == 1, "quorum_up")
    for ra, rb in zip(vs_a["real_servers"], vs_b["real_servers"]):
        lbl = {"virtual_server": VS, "real_server": f"{ra['address']}:{ra['port']}"}
        expect(m.value("nospof_lb_real_server_up", **lbl) == (ra["state"] != "DOWN"), "rs up")
        expect(m.value("nospof_lb_real_server_weight", **lbl) == ra["effective_weight"],
               "effective weight")
        expect(m.value("nospof_lb_real_server_configured_weight", **lbl) == ra["weight"],
               "configured weight")
        expect(m.value("nospof_lb_real_server_active_connections", **lbl) == ra["active"],
               "active connections")
        for metric, key in (("connections_total", "conns"), ("bytes_in_total", "bytes_in"),
                            ("bytes_out_total", "bytes_out"),
                            ("connect_failures_total", "connect_failures")):
            between(ra[key], m.value(f"nospof_lb_real_server_{metric}", **lbl), rb[key], metric)
        ck = {"checker": 0, "type": "TCP_CHECK", **lbl}
        expect(m.value("nospof_lb_check_up", **ck) == 1, "check up")
        between(ra["checks"][0]["probes"], m.value("nospof_lb_check_probes_total", **ck),
                rb["checks"][0]["probes"], "probes")
        count = m.value("nospof_lb_check_rtt_seconds_count", **ck)
        expect(count >= 1 and m.value("nospof_lb_check_rtt_seconds_sum", **ck) > 0,
               f"rtt histogram empty: count {count}")
        expect(m.value("nospof_lb_check_rtt_seconds_bucket", le="+Inf", **ck) == count, "+Inf")


@case("metrics_match_status", needs_ctl=True)
def metrics_match_status(ctx):
    lab = StatusLab(ctx)
    lab.wait_ready()
    lab.client_get(7)
    a = lab.lb.status()
    status, head, text = lab.http("/metrics")
    b = lab.lb.status()
    expect(status == 200, f"/metrics: HTTP {status}")
    expect("Content-Type: text/plain; version=0.0.4" in head, f"content type: {head}")
    m = Exposition(text)
    check_instance(m, a["instances"][0], b["instances"][0])
    check_real_servers(m, a, b)
    total = sum(m.value("nospof_lb_real_server_connections_total", virtual_server=VS,
                        real_server=f"{ip}:80") for ip in lab.ips)
    expect(total == 7, f"connections_total sums to {total}, the client made 7")
    expect(m.value("nospof_reloads_total") == 0, "reloads_total")
    ctx.note(f"{len(m.families)} families, {sum(len(f['samples']) for f in m.families.values())}"
             f" samples, {len(text)} bytes")


def strip_volatile(doc):
    """The status document without the fields that move between two reads."""
    volatile = {"uptime_ms", "in_state_ms", "ago_ms", "adverts_tx", "adverts_rx", "probes",
                "failures", "last_rtt_us", "cps", "events", "last", "transitions"}
    if isinstance(doc, dict):
        return {k: strip_volatile(v) for k, v in doc.items() if k not in volatile}
    if isinstance(doc, list):
        return [strip_volatile(v) for v in doc]
    return doc


@case("status_listener_http", needs_ctl=True)
def status_listener_http(ctx):
    lab = StatusLab(ctx)
    lab.wait_ready()
    status, head, body = lab.http("/status.json")
    expect(status == 200 and "Content-Type: application/json" in head, f"/status.json {head}")
    expect(strip_volatile(json.loads(body)) == strip_volatile(lab.lb.status()),
           "/status.json differs from nospofctl status --json")
    expect(lab.http("/nope")[0] == 404, "/nope is not 404")
    status, head, _ = lab.http("/metrics", method="POST")
    expect(status == 405 and "Allow: GET, HEAD" in head, f"POST: {status} {head}")
    status, head, body = lab.http("/", method="HEAD")
    expect(status == 200 and body == "" and "text/html" in head, f"HEAD /: {status} {head}")
    lab.lb.write(lab_config(lab.ips, listen="127.0.0.1:9181"))
    lab.lb.ctl("reload")
    expect(lab.http("/metrics", port=9181)[0] == 200, "the new port does not answer")
    expect(lab.http("/metrics", check=False)[0] is None, "the old port still answers")
    m = Exposition(lab.http("/metrics", port=9181)[2])
    expect(m.value("nospof_reloads_total") == 1, "reloads_total after one reload")
    expect(m.value("nospof_status_http_responses_total", code=404) == 1, "404 counted")
    lab.lb.write(lab_config(lab.ips, listen=None))
    lab.lb.ctl("reload")
    expect(lab.http("/metrics", port=9181, check=False)[0] is None, "still listening when off")


class Follower:
    """`nospofctl events [--json]` in the background; lines() waits for lines."""

    def __init__(self, ctx, sock, json_mode):
        argv = [ctx.nospofctl, "-S", sock, "events"] + (["--json"] if json_mode else [])
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.q = queue.Queue()
        self.got = []
        self._undo = cleanup.register(self.stop)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip("\n"))

    def wait(self, pred, timeout, what):
        """Collects lines until pred(line) holds for one; returns it."""
        deadline = now() + timeout
        while now() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - now()))
            except queue.Empty:
                break
            self.got.append(line)
            if pred(line):
                return line
        raise TestFailure(f"no event line for {what} within {timeout}s; got {self.got[-5:]}")

    def stop(self):
        cleanup.unregister(self._undo)
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(5)


def is_ev(**want):
    def pred(line):
        ev = json.loads(line)
        return all(ev.get(k) == v for k, v in want.items())
    return pred


def sync_followers(lab, followers):
    """Reloads until every follower has seen a reload event: then all are subscribed."""
    for _ in range(10):
        lab.lb.ctl("reload")
        try:
            for f in followers:
                f.wait(lambda ln: "reload" in ln, 1, "reload while subscribing")
            return
        except TestFailure:
            continue
    raise TestFailure("the followers never received an event")


@case("events_stream", needs_ctl=True)
def events_stream(ctx):
    lab = StatusLab(ctx)
    lab.wait_ready()
    fj = Follower(ctx, lab.lb.sock, True)
    ft = Follower(ctx, lab.lb.sock, False)
    try:
        sync_followers(lab, [fj, ft])
        lab.webs[0].kill()
        wait_rs_state(lab.lb, lab.ips[0], "DOWN", 10)
        ev = json.loads(fj.wait(is_ev(kind="real_server", state="DOWN"), 5, "rs DOWN"))
        expect(ev["source"] == "lb" and ev["real_server"] == f"{lab.ips[0]}:80"
               and ev["virtual_server"] == VS and ev["why"], f"rs event {ev}")
        ft.wait(lambda ln: f"real server {lab.ips[0]}:80 is DOWN" in ln, 5, "rs DOWN (text)")
        t_cut = now()
        lab.topo.cut(lab.node, side="node")
        ev = json.loads(fj.wait(is_ev(kind="transition", to="FAULT"), 5, "MASTER -> FAULT"))
        expect(ev["instance"] == "VI_1" and ev["from"] == "MASTER", f"transition {ev}")
        ctx.note(f"FAULT event {now() - t_cut:.3f}s after the cut")
        ft.wait(lambda ln: "vrrp" in ln and "VI_1: MASTER -> FAULT" in ln, 5, "FAULT (text)")
        lab.topo.heal(lab.node, side="node")
        fj.wait(is_ev(kind="transition", to="MASTER"), 10, "back to MASTER")
        lab.lb.ctl("reload")
        fj.wait(is_ev(kind="reload", applied=True), 5, "reload")
        seqs = [json.loads(ln)["seq"] for ln in fj.got]
        expect(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"seq order {seqs}")
    finally:
        fj.stop()
        ft.stop()
    ctx.note(f"{len(fj.got)} JSON events, {len(ft.got)} text lines")


if __name__ == "__main__":
    main()
