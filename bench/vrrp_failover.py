#!/usr/bin/python3
"""VRRP failover benchmark: nospof against keepalived, same run, same settings.

Topology and helpers: tests/net/demo_common.py (two nodes on one bridge, priorities 150/100,
VRRPv3, VIP 192.0.2.100, a client probing the VIP every 10 ms with tools/vipprobe).

Measured for each daemon and for advert_int 0.1 s and 1.0 s, REPS times each (default 5):
  cut   - the master's cable is cut at the switch; the client's longest reply gap
  stop  - the master gets SIGTERM (clean stop); the client's longest reply gap
and, at advert_int 0.1 s, 1000 VIPs (1 advertised + 999 virtual_ipaddress_excluded: 748
IPv4 + 252 IPv6 in all) on a clean-stop takeover: the time from the SIGTERM until the new
master holds all 1000 (polling `ip -o addr`, ~10 ms resolution), and the install time from
the first to the last address.

Prints a table with median, max and the nospof/keepalived ratio of the medians (below 1:
nospof is faster) and writes bench/results/vrrp_failover.json. Needs root. keepalived runs
with its own pid files (-p/-r/-c) so it never touches a system instance, and without -D: its
detailed log of every gratuitous ARP slows it to ~150 GARPs/s, which with 1000 VIPs starves
its adverts for ~20 s (split brain at advert_int 0.1). nospofd runs without -D as well. If nospofd is not a
working build yet, only keepalived is measured and nospof shows as n/a.
Environment: BENCH_REPS (default 5), BENCH_ADVERTS (default "0.1 1.0"), NOSPOF_BUILD.
"""
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "net"))
import demo_common as dc  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "5"))
ADVERTS = os.environ.get("BENCH_ADVERTS", "0.1 1.0").split()
VIP_REPS = max(1, min(REPS, 3))


def log(msg):
    print("  " + msg, flush=True)


class Pair:
    """Both nodes running one daemon kind with one config shape."""

    def __init__(self, topo, kind, build, advert, extra4=(), extra6=()):
        self.topo, self.advert = topo, float(advert)
        self.d = {n: dc.Daemon(topo, n, kind, build,
                               dc.vrrp_config(n, kind, advert, extra4, extra6))
                  for n in ("n1", "n2")}
        for d in self.d.values():
            d.start()

    def settle(self, want_count=None):
        """Waits until n1 alone holds the VIP (and want_count addresses) and the client
        reaches it, then lets a few adverts pass. Raises on timeout."""
        t = self.topo

        def ok():
            if t.vip_holder() != "n1":
                return False
            return want_count is None or t.addr_count("n1") >= want_count
        if not dc.wait_for(ok, 30 + 6 * self.advert, 0.05):
            raise RuntimeError("n1 did not become the only master (holder %s)" % t.vip_holder())
        if not dc.wait_for(t.client_reaches_vip, 10, 0.05):
            raise RuntimeError("the client cannot reach the VIP")
        time.sleep(0.3 + 3 * self.advert)

    def close(self):
        for d in self.d.values():
            d.stop()


def takeover_gap(pair, build, event):
    """One cut-link or clean-stop takeover; returns the client's longest gap in ms."""
    t = pair.topo
    probe = dc.Probe(t, build)
    # A random phase against the advert timer, so a cut does not always land at the same
    # point of the master's advert cycle.
    time.sleep(0.5 + random.uniform(0, pair.advert))
    if event == "cut":
        t.set_link("n1", False)
    else:
        pair.d["n1"].stop()
    if not dc.wait_for(lambda: t.has_vip("n2"), 20 + 5 * pair.advert, 0.01):
        raise RuntimeError("n2 never took the VIP after %s" % event)
    time.sleep(1.0)
    rep = probe.finish()
    if event == "cut":
        t.set_link("n1", True)
    else:
        pair.d["n1"].start()
    pair.settle()
    return rep["max_gap_ms"]


def vip_install(pair, base, total):
    """Clean-stop takeover with `total` VIPs; returns (ms from the SIGTERM until the last one
    is added on n2, ms from the first to the last), from kernel address announcements."""
    t = pair.topo
    watch = dc.AddrWatch(t.ns["n2"])
    try:
        t0 = time.monotonic()
        pair.d["n1"].stop()
        times = watch.wait_count(total, 30)
    finally:
        watch.close()
    if len(times) < total:
        raise RuntimeError("n2 added only %d of %d addresses in 30 s" % (len(times), total))
    pair.d["n1"].start()
    pair.settle(base + total)
    dc.wait_for(lambda: t.addr_count("n2") == base, 20, 0.05)
    return (times[-1] - t0) * 1000.0, (times[-1] - times[0]) * 1000.0


def bench_gaps(topo, kind, build, advert, res):
    pair = Pair(topo, kind, build, advert)
    try:
        pair.settle()
        for event in ("cut", "stop"):
            vals = []
            for i in range(REPS):
                vals.append(takeover_gap(pair, build, event))
                log("%-10s advert %-4s %-4s #%d: %.1f ms" % (kind, advert, event, i + 1, vals[-1]))
            res.setdefault(kind, {})["%s_%s" % (event, advert)] = vals
    finally:
        pair.close()


def bench_vips(topo, kind, build, res):
    v4, v6 = dc.thousand_vips()
    pair = Pair(topo, kind, build, "0.1", v4, v6)
    try:
        base = topo.addr_count("n2")
        total = 1 + len(v4) + len(v6)
        pair.settle(topo.addr_count("n2") + total)
        alls, installs = [], []
        for i in range(VIP_REPS):
            a, b = vip_install(pair, base, total)
            alls.append(a)
            installs.append(b)
            log("%-10s %d VIPs #%d: all present after %.1f ms (install %.1f ms)"
                % (kind, total, i + 1, a, b))
        res.setdefault(kind, {})["vips1000_all"] = alls
        res.setdefault(kind, {})["vips1000_install"] = installs
    finally:
        pair.close()


ROWS = [("cut_%s", "cut link, reply gap (ms)"), ("stop_%s", "clean stop, reply gap (ms)")]


def fmt(vals):
    if not vals:
        return "%17s" % "n/a"
    return "%8.1f %8.1f" % (statistics.median(vals), max(vals))


def ratio(a, b):
    if not a or not b or statistics.median(b) == 0:
        return "n/a"
    return "%.2f" % (statistics.median(a) / statistics.median(b))


def table(res):
    keys = [(k % a, "%s, advert %s s" % (label, a)) for a in ADVERTS for k, label in ROWS]
    keys += [("vips1000_all", "1000 VIPs: stop -> all up (ms)"),
             ("vips1000_install", "1000 VIPs: first -> last (ms)")]
    print("\n%-44s %17s %17s %7s" % ("", "nospof", "keepalived", "ratio"))
    print("%-44s %17s %17s %7s" % ("", "median      max", "median      max", "n/k"))
    summary = []
    for key, label in keys:
        n = res.get("nospof", {}).get(key, [])
        k = res.get("keepalived", {}).get(key, [])
        print("%-44s %17s %17s %7s" % (label, fmt(n), fmt(k), ratio(n, k)))
        summary.append({"metric": key, "label": label, "nospof": n, "keepalived": k,
                        "ratio_median": None if ratio(n, k) == "n/a" else float(ratio(n, k))})
    return summary


def keepalived_version():
    r = dc.subprocess.run(["keepalived", "--version"], stdout=dc.subprocess.PIPE,
                          stderr=dc.subprocess.STDOUT, text=True)
    return r.stdout.splitlines()[0] if r.stdout else "keepalived"


def main():
    dc.need_root()
    build = dc.find_build()
    kinds = ["keepalived"]
    if dc.nospof_usable(build):
        kinds.insert(0, "nospof")
    else:
        print("note: %s/src/daemon/nospofd is not a working build; measuring keepalived only"
              % build)
    res = {}
    topo = dc.Topo("bench")
    try:
        for advert in ADVERTS:
            for kind in kinds:
                bench_gaps(topo, kind, build, advert, res)
        for kind in kinds:
            bench_vips(topo, kind, build, res)
    finally:
        topo.close()
    summary = table(res)
    outdir = os.path.join(dc.ROOT, "bench", "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "vrrp_failover.json"), "w") as f:
        json.dump({"reps": REPS, "adverts": ADVERTS, "keepalived": keepalived_version(), "raw": res, "summary": summary}, f,
                  indent=1)
    print("\nwrote bench/results/vrrp_failover.json (ratio below 1: nospof faster)")


if __name__ == "__main__":
    main()
