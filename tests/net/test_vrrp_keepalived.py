#!/usr/bin/python3
"""Interop of nospofd with keepalived 2.2.7 in one VRID on one bridge.

Matrix: {nospof master + keepalived backup, keepalived master + nospof backup} x {v2, v3} x
{multicast, unicast} over IPv4, plus IPv6 v3 multicast in both directions. Each case checks
the election, the takeover within Master_Down_Interval + 100 ms after the master's link is
cut, preemption back on heal, and tshark's decoding of nospof's adverts (lib/scenario.py).
v2 runs with advert_int 1, v3 with advert_int 0.1.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.runner import case, main  # noqa: E402
from lib.scenario import instances, run_pair  # noqa: E402
from lib.topo import Topology  # noqa: E402


def _register(version, mode, master):
    other = "keepalived" if master == "nospof" else "nospof"
    name = f"keepalived_v{version}_{mode}_{master}_master"

    @case(name)
    def _run(ctx):
        topo = Topology(nodes=2, client=False)
        addrs = (topo.node(1).ip4, topo.node(2).ip4)
        hi, lo = instances(version, unicast=(mode == "unicast"), addrs=addrs)
        run_pair(ctx, topo, master, other, hi, lo)


def _register6(master):
    other = "keepalived" if master == "nospof" else "nospof"

    @case(f"keepalived_v3_ipv6_multicast_{master}_master")
    def _run(ctx):
        topo = Topology(nodes=2, client=False)
        hi, lo = instances(3, family="inet6")
        run_pair(ctx, topo, master, other, hi, lo)


for _v in (2, 3):
    for _mode in ("multicast", "unicast"):
        for _m in ("nospof", "keepalived"):
            _register(_v, _mode, _m)
for _m in ("nospof", "keepalived"):
    _register6(_m)

if __name__ == "__main__":
    sys.exit(main())
