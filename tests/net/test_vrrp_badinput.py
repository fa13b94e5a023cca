#!/usr/bin/python3
"""Bad input: crafted VRRP packets against a running nospofd MASTER and BACKUP.

Nodes n1 (priority 200) and n2 (priority 100) run nospofd with two instances each:
VI_2 (VRRPv2, VRID 10, advert 1 s, auth PASS), VI_3 (VRRPv3, VRID 20, advert 1 s) and VI_6
(VRRPv3 over IPv6, VRID 30).
Node n3 sends crafted packets with scapy (lib/craft.py), each bent in exactly one way and
carrying priority 254, so a packet wrongly accepted would make the master step down. For every
kind of bad packet, sent 3 times, on both nodes:
  - the drop counter of the right reason (docs/dev/control.md) rises by exactly 3, on the
    instance named by the packet's VRID (or in unattributed_drops for an unknown VRID);
  - no other drop counter moves (except "own", the looped-back own adverts);
  - the states stay n1 MASTER / n2 BACKUP, and both daemons stay alive.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.peers import Inst, Nospof  # noqa: E402
from lib.procs import Sender  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.scenario import wait_roles  # noqa: E402
from lib.topo import Topology  # noqa: E402
from lib.util import TestFailure, expect, poll  # noqa: E402
from lib.vrrp_bytes import advert  # noqa: E402

PASSWORD = b"nsp-pw1"
COUNT = 3
ATTACKER = "192.0.2.13"


def _insts(prio):
    return [Inst(name="VI_2", vrid=10, priority=prio, version=2, advert=1.0,
                 vips=["192.0.2.100/24"], auth_pass=PASSWORD.decode()),
            Inst(name="VI_3", vrid=20, priority=prio, version=3, advert=1.0,
                 vips=["192.0.2.101/24"]),
            Inst(name="VI_6", vrid=30, priority=prio, version=3, advert=1.0, family="inet6",
                 vips=["2001:db8::100/64"])]


def v2(**kw):
    """A VI_2 advert from the attacker, valid unless kw bends it."""
    args = dict(version=2, vrid=10, auth_type=1, auth=PASSWORD, adver=1, src=ATTACKER)
    args.update(kw)
    return advert(**args)


def v3(**kw):
    """A VI_3 advert from the attacker (adver in centiseconds)."""
    args = dict(version=3, vrid=20, adver=100, addrs=("192.0.2.101",), src=ATTACKER)
    args.update(kw)
    return advert(**args)


def v6(rig, **kw):
    """A VI_6 advert from the attacker's link-local address to ff02::12, and the request
    fields to send it."""
    src = rig.topo.node(3).link_local()
    args = dict(version=3, vrid=30, adver=100, addrs=("2001:db8::100",), src=src,
                dst="ff02::12")
    args.update(kw)
    return advert(**args), dict(src=src, dst="ff02::12")


def _drops(st, where):
    if where is None:
        return st.get("unattributed_drops", {})
    for inst in st["instances"]:
        if inst["name"] == where:
            return inst["counters"]["drops"]
    raise TestFailure(f"no instance {where} in status")


def _all_drops(st):
    """{(where, reason): count} over every instance and the unattributed drops."""
    res = {}
    for where in [None] + [i["name"] for i in st["instances"]]:
        for reason, n in _drops(st, where).items():
            if reason != "own":
                res[(where, reason)] = n
    return res


class Rig:
    """The running setup: topology, the two daemons, the sender."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.topo = Topology(nodes=3, client=False)
        # Started first: importing scapy takes seconds, overlapping the election.
        self.sender = Sender(self.topo.node(3).ns, "eth0", ctx.tmp)
        self.master = Nospof(ctx, self.topo.node(1), _insts(200))
        self.backup = Nospof(ctx, self.topo.node(2), _insts(100))
        self.backup.start()
        self.master.start()
        for name in ("VI_2", "VI_3", "VI_6"):
            wait_roles(self.master, self.backup, 10, name)

    def states_ok(self):
        for peer, want in ((self.master, "MASTER"), (self.backup, "BACKUP")):
            expect(peer.alive(), f"{peer.label} died")
            st = peer.status()
            for inst in st["instances"]:
                expect(inst["state"] == want, f"{peer.label} {inst['name']} is "
                       f"{inst['state']}, expected {want}")

    def check(self, label, payload, reason, where, **req):
        """Sends payload COUNT times and checks the counters (see the file comment). where
        is an instance name, None for unattributed_drops, or a tuple of acceptable ones."""
        peers = (self.master, self.backup)
        keys = [(w, reason) for w in (where if isinstance(where, tuple) else (where,))]
        before = {p: _all_drops(p.status()) for p in peers}
        for p, key in ((p, k) for p in peers for k in keys):
            expect(key in before[p], f"{p.label}: no drop counter {reason!r} for "
                   f"{key[0] or 'unattributed_drops'} in status --json")
        msg = dict(src=ATTACKER, dst="224.0.0.18", ttl=255, payload=payload.hex(), count=COUNT)
        msg.update(req)
        self.sender.send(msg)

        def delta(p):
            after = _all_drops(p.status())
            return {k: after.get(k, 0) - before[p].get(k, 0) for k in after
                    if after.get(k, 0) != before[p].get(k, 0)}
        places = " or ".join(k[0] or "unattributed" for k in keys)
        try:
            poll(lambda: all(any(delta(p).get(k, 0) >= COUNT for k in keys) for p in peers),
                 3, interval=0.05, what=f"{label}: {reason} drops on {places}")
        except TestFailure as exc:
            seen = {p.label: delta(p) for p in peers}
            raise TestFailure(f"{exc}; counter changes seen: {seen}") from None
        for p in peers:
            d = delta(p)
            expect(any(d == {k: COUNT} for k in keys), f"{label}: {p.label} counter changes "
                   f"{d}, expected exactly +{COUNT} {reason} on {places}")
        self.states_ok()
        self.ctx.note(f"{label}: {reason} +{COUNT} on both nodes ({delta_where(d)}), "
                      "states unchanged")


def delta_where(d):
    return ", ".join(f"{w or 'unattributed'}" for w, _ in d)


@case("badinput_codec", needs_ctl=True)
def _codec(ctx):
    rig = Rig(ctx)
    rig.check("short (4 bytes)", v2()[:4], "short", "VI_2")
    rig.check("naddr 3, one address", v2(naddr=3), "short", "VI_2")
    rig.check("naddr 1, two addresses", v2(addrs=("192.0.2.100", "192.0.2.102"), naddr=1),
              "bad_length", "VI_2")
    rig.check("wrong checksum", v2(cksum=0x1234), "bad_checksum", "VI_2")
    rig.check("v3 wrong checksum", v3(cksum=0x4321), "bad_checksum", "VI_3")
    pkt, req = v6(rig, cksum=0x1111)
    rig.check("IPv6 wrong checksum", pkt, "bad_checksum", "VI_6", **req)
    pkt, req = v6(rig, version=2)
    rig.check("IPv6 with version 2", pkt, "bad_version", "VI_6", **req)
    rig.check("version 5", v2(version=5), "bad_version", "VI_2")
    rig.check("type 2", v2(vtype=2), "bad_type", "VI_2")
    rig.check("oversized (4200 bytes, fragmented)", v3(pad=4200), "oversize", "VI_3",
              frag=1400)
    rig.states_ok()


@case("badinput_policy", needs_ctl=True)
def _policy(ctx):
    rig = Rig(ctx)
    rig.check("TTL 64", v2(), "bad_ttl", "VI_2", ttl=64)
    rig.check("v3 TTL 1", v3(), "bad_ttl", "VI_3", ttl=1)
    rig.check("v3 advert to the v2 instance", v3(vrid=10, addrs=("192.0.2.100",)),
              "version_mismatch", "VI_2")
    pkt, req = v6(rig)
    rig.check("IPv6 hop limit 64", pkt, "bad_ttl", "VI_6", ttl=64, **req)
    rig.check("VRID 99", v2(vrid=99), "unknown_vrid", None)
    rig.check("wrong password", v2(auth=b"wrongpw"), "auth_mismatch", "VI_2")
    rig.check("no auth to a PASS instance", v2(auth_type=0, auth=b""), "auth_mismatch", "VI_2")
    rig.check("v2 interval 3 s (ours 1 s)", v2(adver=3), "interval_mismatch", "VI_2")
    rig.states_ok()
    _control(ctx, rig)


def _control(ctx, rig):
    """Positive control: the same crafted advert, unbent, is accepted: the master sees a
    higher priority (254 > 200) and steps down (RFC 3768 6.4.3), which shows the drops above
    were caused by the one bent field."""
    before = rig.master.instance("VI_2")["counters"]["adverts_rx"]
    rig.sender.send(dict(src=ATTACKER, dst="224.0.0.18", ttl=255, payload=v2().hex(), count=1))
    poll(lambda: rig.master.state("VI_2") == "BACKUP", 3, what="master steps down on a valid "
         "higher-priority advert")
    after = rig.master.instance("VI_2")["counters"]["adverts_rx"]
    expect(after > before, f"adverts_rx did not rise ({before} -> {after})")
    ctx.note("control: a valid crafted priority-254 advert made the master step down")


if __name__ == "__main__":
    sys.exit(main())
