"""The interop scenario shared by the keepalived and FRR tests: two speakers in one VRID on one
bridge, a higher-priority one ("hi") and a lower one ("lo").

  1. election: hi owns the VIP and says MASTER, lo says BACKUP and does not carry the VIP,
     and this holds for 1.5 advert intervals;
  2. takeover: cut hi's link at the switch; the VIP must appear on lo within lo's
     Master_Down_Interval + 100 ms, measured from the cut (polling every 5 ms);
  3. preemption: heal the link; hi takes the VIP back and lo returns to BACKUP;
  4. the capture of the bridge holds adverts from every nospof node, all with good checksums,
     none malformed, of the configured version.
"""

import time

from .capture import Capture
from .peers import Frr, Inst, Keepalived, Nospof
from .procs import Proc
from .topo import AddrMonitor
from .util import TestFailure, expect, hold, now, poll

TAKEOVER_SLACK = 0.100   # seconds allowed beyond Master_Down_Interval


def make_peer(ctx, kind, node, insts):
    """A peer object of kind "nospof", "keepalived" or "frr" (not started). With
    NOSPOF_IMPL=keepalived the nospof role is played by keepalived (harness self-check)."""
    if kind == "nospof" and ctx.impl == "keepalived":
        kind = "keepalived"
    cls = {"nospof": Nospof, "keepalived": Keepalived, "frr": Frr}[kind]
    return cls(ctx, node, insts)


def describe(peers, name="VI_1"):
    """One line with every peer's state and VIP ownership, for failure messages."""
    parts = []
    for p in peers:
        try:
            parts.append(f"{p.label}: state={p.state(name)} vip={p.owns_vip(name)} "
                         f"alive={p.alive()}")
        except Exception as exc:  # noqa: BLE001 -- a description must not raise
            parts.append(f"{p.label}: ({exc})")
    return "; ".join(parts)


def wait_roles(master, backup, timeout, name="VI_1"):
    """Waits until master owns the VIP and says MASTER while backup says BACKUP without it."""
    def ok():
        return (master.owns_vip(name) and not backup.owns_vip(name)
                and master.state(name) == "MASTER" and backup.state(name) == "BACKUP")
    try:
        poll(ok, timeout, interval=0.05, what=f"{master.label} MASTER / {backup.label} BACKUP")
    except TestFailure as exc:
        raise TestFailure(f"{exc}: {describe([master, backup], name)}") from None


def instances(version, family="inet", advert=None, unicast=False, vrid=51, prios=(200, 100),
              addrs=None):
    """The hi and lo Inst for one scenario; addrs are (hi_ip, lo_ip) for unicast."""
    advert = advert if advert is not None else (1.0 if version == 2 else 0.1)
    vip = "192.0.2.100/24" if family == "inet" else "2001:db8::100/64"
    res = []
    for me, prio in enumerate(prios):
        inst = Inst(vrid=vrid, priority=prio, version=version, advert=advert, family=family,
                    vips=[vip])
        if unicast:
            inst.unicast_src = addrs[me]
            inst.unicast_peers = [addrs[1 - me]]
        res.append(inst)
    return res


def check_takeover(ctx, topo, hi, lo, inst_lo):
    """Cuts hi's link and measures how long until lo carries the VIP: polling every 5 ms
    gives an upper bound; for address-based peers an `ip monitor` timestamp of the VIP's
    arrival gives the precise figure (polling latency grows with machine load), which is
    the one compared with the budget."""
    budget = inst_lo.master_down() + TAKEOVER_SLACK
    mon = None if isinstance(lo, Frr) else AddrMonitor(lo.node.ns, ctx.tmp, Proc)
    wall = time.time()
    topo.cut(hi.node)
    t0, wall_cut = now(), time.time()
    ctx.note(f"cut {hi.label} at {time.strftime('%H:%M:%S', time.localtime(wall))}"
             f".{int(wall * 1000) % 1000:03d} (cut took {(wall_cut - wall) * 1000:.0f} ms)")
    try:
        poll(lambda: lo.owns_vip(), budget + 3, interval=0.005, what=f"VIP on {lo.label}")
    except TestFailure as exc:
        raise TestFailure(f"takeover: {exc}: {describe([hi, lo])}") from None
    elapsed = now() - t0
    ctx.note(f"takeover by {lo.label} seen by polling after {elapsed * 1000:.0f} ms "
             f"(Master_Down_Interval {inst_lo.master_down() * 1000:.0f} ms)")
    if mon:
        try:
            stamp = poll(lambda: mon.first_add(inst_lo.vip), 1, what="ip monitor report")
        except TestFailure:
            stamp = None
        mon.stop()
        if stamp is not None:
            elapsed = min(elapsed, stamp - wall_cut)
            ctx.note(f"takeover by {lo.label} per ip monitor: {elapsed * 1000:.0f} ms")
    expect(elapsed <= budget, f"takeover by {lo.label} took {elapsed * 1000:.0f} ms, more than "
           f"Master_Down_Interval + 100 ms = {budget * 1000:.0f} ms")
    poll(lambda: lo.state() == "MASTER", 2, what=f"{lo.label} MASTER after takeover")


def check_capture(cap, peers, version):
    """tshark checks of the adverts of every nospofd among peers (and of keepalived standing
    in for it under NOSPOF_IMPL=keepalived)."""
    for p in peers:
        if not getattr(p, "nospof_role", False):
            continue
        inst = next(iter(p.insts.values()))
        if inst.unicast_src:
            src = inst.unicast_src
        elif inst.family == "inet6":
            src = p.node.link_local()
        else:
            src = p.node.ip4
        n = cap.check_adverts(src, version=version)
        p.ctx.note(f"capture: {n} adverts from {p.label} ({src}) decoded clean")


def run_pair(ctx, topo, hi_kind, lo_kind, hi_inst, lo_inst):
    """The whole scenario (see the file comment) for hi_kind (priority hi_inst.priority) on
    node 1 against lo_kind on node 2."""
    cap = Capture(ctx, topo)
    hi = make_peer(ctx, hi_kind, topo.node(1), [hi_inst])
    lo = make_peer(ctx, lo_kind, topo.node(2), [lo_inst])
    for peer, kind in ((hi, hi_kind), (lo, lo_kind)):
        peer.nospof_role = kind == "nospof"
        peer.strict_log = True   # nospofd must not warn during a plain interop run
    lo.start()
    hi.start()
    wait_roles(hi, lo, 2 * lo_inst.master_down() + 5)
    hold(lambda: hi.owns_vip() and not lo.owns_vip() and lo.state() == "BACKUP",
         max(1.5 * hi_inst.advert, 1.0), what="stable election")
    if isinstance(lo, Nospof) and hi_inst.family == "inet" and not hi_inst.unicast_src:
        seen = lo.instance().get("master")
        expect(seen == hi.node.ip4, f"{lo.label} reports master {seen!r}, expected "
               f"{hi.node.ip4}")
    t_start = now()
    check_takeover(ctx, topo, hi, lo, lo_inst)
    topo.heal(hi.node)
    wait_roles(hi, lo, 3 * hi_inst.master_down() + 5)
    ctx.note(f"preempted back after {(now() - t_start):.2f} s from the cut")
    for p in (hi, lo):
        expect(p.alive(), f"{p.label} died")
    cap.stop()
    check_capture(cap, [hi, lo], hi_inst.version)
