#!/usr/bin/python3
"""nospofd as an operator meets it: config checking, reload, notify scripts and FIFO,
tracking and sync groups, on real namespaces with two nospof nodes.

Cases:
  daemon_config_test_and_startup_errors  -t verdicts, file:line on a bad config, exit 1
  daemon_reload_keeps_state_and_vips     10 reloads (SIGHUP and nospofctl) with the master's VIP
                                         polled throughout: never missing, no transition
  daemon_bad_reload_keeps_running_config a broken config is refused with file:line, the
                                         running instances stay as they were
  daemon_notify_scripts_and_fifo         keepalived's notify arguments and FIFO lines
  daemon_track_script_preempts           a vrrp_script weight moves the master both ways
  daemon_sync_group_and_track_file       a track_file FAULT takes the whole sync group over
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.peers import TextNospof  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.topo import Topology  # noqa: E402
from lib.util import MissCounter, TestFailure, expect, hold, poll  # noqa: E402

VIP = "192.0.2.100"
VIP2 = "192.0.2.101"


def instance(name, vrid, prio, vip, extra=()):
    """A v3 instance block with advert_int 0.1 (fast tests) and extra lines inside it."""
    lines = [f"vrrp_instance {name} {{", "    state BACKUP", "    interface eth0",
             f"    virtual_router_id {vrid}", f"    priority {prio}", "    version 3",
             "    advert_int 0.1"]
    lines += [f"    {e}" for e in extra]
    lines += ["    virtual_ipaddress {", f"        {vip}/24", "    }", "}"]
    return "\n".join(lines)


class Node(TextNospof):
    """A nospofd whose config text the case writes itself (and may rewrite for reloads)."""

    def ctl(self, *args, check=False):
        return subprocess.run([self.ctx.nospofctl, "-S", self.sock] + list(args),
                              capture_output=True, text=True, timeout=10, check=check)

    def owns_vip(self, name="VI_1"):
        return self.node.has_vip(VIP if name == "VI_1" else VIP2)

    def inst(self, name="VI_1"):
        return self.instance(name)

    def sighup(self):
        self.procs[0].signal(signal.SIGHUP)


def wait_state(node, state, name="VI_1", timeout=5):
    poll(lambda: node.state(name) == state, timeout, what=f"{node.label} {name} {state}")


@case("daemon_config_test_and_startup_errors")
def config_test(ctx):
    good = os.path.join(ctx.tmp, "good.conf")
    bad = os.path.join(ctx.tmp, "bad.conf")
    with open(good, "w", encoding="utf-8") as f:
        f.write(instance("VI_1", 51, 100, VIP) + "\n")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n"
                "    priority 100\n    virtual_ipaddress {\n        192.0.2.100\n    }\n}\n")
    res = subprocess.run([ctx.nospofd, "-t", "-f", good], capture_output=True, text=True)
    expect(res.returncode == 0, f"-t on a valid config exited {res.returncode}: {res.stderr}")
    res = subprocess.run([ctx.nospofd, "-t", "-f", bad], capture_output=True, text=True)
    expect(res.returncode == 1, f"-t on a bad config exited {res.returncode}")
    expect(f"{bad}:3:" in res.stderr, f"-t did not name {bad}:3: {res.stderr!r}")
    res = subprocess.run([ctx.nospofd, "-n", "-l", "-f", bad, "-S",
                          os.path.join(ctx.tmp, "s.sock"), "-p", os.path.join(ctx.tmp, "p")],
                         capture_output=True, text=True, timeout=10)
    expect(res.returncode == 1, f"start-up with a bad config exited {res.returncode}")
    expect(f"{bad}:3:" in res.stderr, f"start-up did not name {bad}:3: {res.stderr!r}")
    expect(not os.path.exists(os.path.join(ctx.tmp, "s.sock")), "control socket left behind")


def pair(ctx, extra_a=(), extra_b=(), glob_a="", glob_b=""):
    """Two nospof nodes, n1 priority 150 (master), n2 priority 100."""
    topo = Topology(nodes=2, client=False)
    a = Node(ctx, topo.node(1), glob_a + instance("VI_1", 51, 150, VIP, extra_a) + "\n")
    b = Node(ctx, topo.node(2), glob_b + instance("VI_1", 51, 100, VIP, extra_b) + "\n")
    a.start()
    b.start()
    wait_state(a, "MASTER")
    wait_state(b, "BACKUP")
    poll(lambda: a.owns_vip(), 3, what="VIP on n1")
    return topo, a, b


@case("daemon_reload_keeps_state_and_vips", needs_ctl=True)
def reload_keeps(ctx):
    topo, a, b = pair(ctx)
    before = a.inst()["counters"]["transitions"]
    node = topo.node(1)
    watch = MissCounter(lambda: node.has_vip(VIP), 0.005)
    try:
        for k in range(10):
            text = a.text
            if k == 5:  # a reload that also adds another instance leaves VI_1 untouched
                text += instance("VI_2", 52, 150, VIP2) + "\n"
            a.write(text)
            if k % 2:
                a.sighup()
                poll(lambda k=k: a.status()["daemon"]["reloads"] == k + 1, 5,
                     what=f"reload {k + 1} by SIGHUP")
            else:
                res = a.ctl("reload")
                expect(res.returncode == 0, f"nospofctl reload failed: {res.stderr}")
                expect("kept VI_1 (MASTER)" in res.stdout, f"reload summary: {res.stdout!r}")
    finally:
        watch.stop()
    expect(watch.misses == 0, f"VIP missing in {watch.misses} of {watch.polls} polls")
    st = a.inst()
    expect(st["state"] == "MASTER", f"VI_1 is {st['state']} after reloads")
    expect(st["counters"]["transitions"] == before, "reload caused a transition")
    wait_state(a, "MASTER", "VI_2")
    ctx.note(f"VIP present in all {watch.polls} polls over 10 reloads")


@case("daemon_bad_reload_keeps_running_config", needs_ctl=True)
def bad_reload(ctx):
    topo, a, b = pair(ctx)
    good = a.text
    a.write(good.replace("priority 150", "priority 150\n    advert_int banana"))
    res = a.ctl("reload")
    expect(res.returncode == 1, f"bad reload answered {res.returncode}: {res.stdout}")
    expect("nospof.conf:" in res.stderr and "advert_int" in res.stderr,
           f"refusal does not name file:line and keyword: {res.stderr!r}")
    a.sighup()
    hold(lambda: a.state() == "MASTER" and a.owns_vip(), 1.0, what="master keeps its VIP")
    st = a.status()
    expect(st["daemon"]["reloads"] == 0, "a refused config was counted as applied")
    expect(a.inst()["priority"] == 150, "the running config changed")
    a.write(good.replace("priority 150", "priority 90"))
    res = a.ctl("reload")
    expect(res.returncode == 0, f"good reload refused: {res.stderr}")
    # Its priority now below n2's, the old master keeps sending adverts at 90 and n2 preempts.
    wait_state(b, "MASTER")
    wait_state(a, "BACKUP")


NOTIFY_SH = """#!/bin/sh
echo "$0 $*" >> {out}
"""


@case("daemon_notify_scripts_and_fifo", needs_ctl=True)
def notify(ctx):
    out = os.path.join(ctx.tmp, "notify.out")
    script = os.path.join(ctx.tmp, "notify.sh")
    fifo = os.path.join(ctx.tmp, "vrrp.fifo")
    with open(script, "w", encoding="utf-8") as f:
        f.write(NOTIFY_SH.format(out=out))
    os.chmod(script, 0o755)
    extra = [f'notify_master "{script} became-master"', f"notify_backup {script}",
             f"notify {script}"]
    glob = "global_defs {\n    vrrp_notify_fifo " + fifo + "\n}\n"
    topo, a, b = pair(ctx, extra_a=extra, glob_a=glob)

    def lines():
        try:
            with open(out, encoding="utf-8") as f:
                return [ln.split(" ", 1)[1].strip() for ln in f if " " in ln]
        except OSError:
            return []
    poll(lambda: "became-master" in lines() and "INSTANCE VI_1 MASTER 150" in lines(), 5,
         what="notify_master and notify arguments")
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = poll(lambda: os.read(fd, 4096), 3, what="FIFO lines")
    finally:
        os.close(fd)
    text = data.decode()
    expect('INSTANCE "VI_1" BACKUP 150' in text and 'INSTANCE "VI_1" MASTER 150' in text,
           f"FIFO lines: {text!r}")
    expect("INSTANCE VI_1 BACKUP 150" in lines(), f"notify on BACKUP missing: {lines()}")
    ctx.note(f"notify calls: {lines()}")


@case("daemon_track_script_preempts", needs_ctl=True)
def track_script(ctx):
    flag = os.path.join(ctx.tmp, "healthy")
    chk = ["vrrp_script chk {", f'    script "/usr/bin/test -f {flag}"', "    interval 0.2",
           "    weight 60", "    rise 2", "    fall 2", "}", ""]
    topo, a, b = pair(ctx, extra_b=["track_script {", "    chk", "}"], glob_b="\n".join(chk))
    expect(b.inst()["effective_priority"] == 100, "script down must not add its weight")
    open(flag, "w", encoding="utf-8").close()
    poll(lambda: b.inst()["effective_priority"] == 160, 5, what="weight added (rise 2)")
    wait_state(b, "MASTER")
    wait_state(a, "BACKUP")
    os.unlink(flag)
    poll(lambda: b.inst()["effective_priority"] == 100, 5, what="weight removed (fall 2)")
    wait_state(a, "MASTER")


def sync_pair_text(prio, extra_vi1=(), pre=""):
    return (pre + instance("VI_1", 51, prio, VIP, extra_vi1) + "\n" +
            instance("VI_2", 52, prio, VIP2) + "\n" +
            "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n")


@case("daemon_sync_group_and_track_file", needs_ctl=True)
def sync_group(ctx):
    path = os.path.join(ctx.tmp, "weight")
    with open(path, "w", encoding="utf-8") as f:
        f.write("0\n")
    tf = f"vrrp_track_file tf {{\n    file {path}\n    weight 0\n}}\n"
    topo = Topology(nodes=2, client=False)
    a = Node(ctx, topo.node(1), sync_pair_text(150, ["track_file {", "    tf", "}"], tf))
    b = Node(ctx, topo.node(2), sync_pair_text(100))
    a.start()
    b.start()
    for name in ("VI_1", "VI_2"):
        wait_state(a, "MASTER", name)
        wait_state(b, "BACKUP", name)
    with open(path, "w", encoding="utf-8") as f:
        f.write("1\n")  # weight 0 and a non-zero value: FAULT for VI_1, and so for the group
    for name in ("VI_1", "VI_2"):
        wait_state(a, "FAULT", name)
        wait_state(b, "MASTER", name)
    expect(b.owns_vip("VI_1") or topo.node(2).has_vip(VIP), "n2 lacks VIP of VI_1")
    expect(topo.node(2).has_vip(VIP2), "n2 lacks VIP of VI_2")
    with open(path, "w", encoding="utf-8") as f:
        f.write("0\n")
    for name in ("VI_1", "VI_2"):
        wait_state(a, "MASTER", name)


@case("daemon_garp_pacing")
def garp_pacing(ctx):
    """vrrp_garp_interval spaces the gratuitous ARPs of a new master: 2 rounds x 3 VIPs =
    6 frames, each at least the interval after the previous one (keepalived.conf(5))."""
    from lib.procs import Proc
    topo = Topology(nodes=1, client=False)
    pcap = os.path.join(ctx.tmp, "garp.pcap")
    cap = Proc("tcpdump-arp", topo.sw, ["tcpdump", "-i", topo.bridge, "-U", "--immediate-mode",
                                         "-n", "-w", pcap, "arp"], ctx.tmp)
    cap.wait_log("listening on", 10, what="tcpdump start")
    text = ("global_defs {\n    vrrp_garp_interval 0.05\n}\n" +
            instance("VI_1", 51, 150, VIP, ["garp_master_repeat 2", "garp_master_delay 0"])
            .replace(f"        {VIP}/24", f"        {VIP}/24\n        192.0.2.102/24\n"
                                           f"        192.0.2.103/24") + "\n")
    a = Node(ctx, topo.node(1), text)
    a.start()
    wait_state(a, "MASTER")

    def times():
        out = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "arp.isgratuitous", "-T",
                              "fields", "-e", "frame.time_epoch"], capture_output=True,
                             text=True, timeout=30).stdout.split()
        return [float(t) for t in out]
    got = poll(lambda: len(times()) >= 6 and times(), 5, what="6 gratuitous ARPs")
    cap.signal(signal.SIGINT)
    cap.stop()
    gaps = [round((b - a_) * 1000, 1) for a_, b in zip(got, got[1:])]
    expect(len(got) == 6, f"{len(got)} gratuitous ARPs, expected 6 (2 rounds x 3 VIPs)")
    expect(min(gaps) >= 45, f"GARPs not paced by 50 ms: gaps {gaps} ms")
    ctx.note(f"GARP gaps {gaps} ms")


@case("daemon_use_vmac")
def use_vmac(ctx):
    """use_vmac: the master puts its VIP on a macvlan vrrp.51 with the RFC 5798 virtual MAC
    00:00:5e:00:01:33, and a peer on the LAN reaches the VIP through it; a clean stop removes
    the macvlan it created."""
    import json as _json
    topo = Topology(nodes=2, client=False)
    a = Node(ctx, topo.node(1), instance("VI_1", 51, 150, VIP, ["use_vmac"]) + "\n")
    b = Node(ctx, topo.node(2), instance("VI_1", 51, 100, VIP) + "\n")
    a.start()
    b.start()
    wait_state(a, "MASTER")
    poll(lambda: "vrrp.51" in topo.node(1).sh(["ip", "-o", "addr", "show"]) and
         VIP in topo.node(1).sh(["ip", "-o", "addr", "show", "dev", "vrrp.51"]), 5,
         what="VIP on vrrp.51")
    link = _json.loads(topo.node(1).sh(["ip", "-j", "-d", "link", "show", "dev", "vrrp.51"]))[0]
    expect(link["address"] == "00:00:5e:00:01:33", f"vmac address {link['address']}")
    expect(link.get("linkinfo", {}).get("info_kind") == "macvlan", f"not a macvlan: {link}")
    out = topo.node(2).sh(["ping", "-c", "3", "-i", "0.2", "-W", "1", VIP], check=False)
    expect(" 0% packet loss" in out, f"peer cannot reach the VIP: {out}")
    neigh = topo.node(2).sh(["ip", "neigh", "show", VIP])
    expect("00:00:5e:00:01:33" in neigh, f"peer did not learn the virtual MAC: {neigh!r}")
    a.stop()
    expect("vrrp.51" not in topo.node(1).sh(["ip", "-o", "link", "show"]),
           "the macvlan created by nospofd was left behind")


if __name__ == "__main__":
    sys.exit(main())
