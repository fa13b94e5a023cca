#!/usr/bin/python3
"""Interop of nospofd with FRR vrrpd (FRR 8.4, VRRPv3 over IPv4, multicast).

FRR keeps the VIP on a bridge-mode macvlan with MAC 00:00:5e:00:01:VRID and holds it in
protodown while BACKUP (lib/peers.py Frr). Both directions: nospof master + FRR backup and
FRR master + nospof backup; each checks election, takeover within Master_Down_Interval +
100 ms after the master's link is cut, preemption on heal, and tshark's decoding of nospof's
adverts (FRR verifies the v3 IPv4 checksum with the pseudo-header, like keepalived).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.runner import case, main  # noqa: E402
from lib.scenario import instances, run_pair  # noqa: E402
from lib.topo import Topology  # noqa: E402

ADVERT = 0.1   # seconds; FRR takes milliseconds in steps of 10


def _register(master):
    other = "frr" if master == "nospof" else "nospof"

    @case(f"frr_v3_multicast_{master}_master")
    def _run(ctx):
        topo = Topology(nodes=2, client=False)
        hi, lo = instances(3, advert=ADVERT, vrid=5)
        run_pair(ctx, topo, master, other, hi, lo)


for _m in ("nospof", "frr"):
    _register(_m)

if __name__ == "__main__":
    sys.exit(main())
