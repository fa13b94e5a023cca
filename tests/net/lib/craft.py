#!/usr/bin/python3
"""Packet sender run inside a node namespace: `ip netns exec NS /usr/bin/python3 craft.py IF`.

Reads one JSON request per line on stdin:
  {"src": "192.0.2.13", "dst": "224.0.0.18", "ttl": 255, "proto": 112,
   "payload": "<hex>", "count": 3, "frag": 1400}
builds Ether/IPv4 (or IPv6 when dst has a colon; "ttl" is then the hop limit)/payload with scapy (fragmenting when "frag" is given, so oversized messages
can cross a 1500-byte link and be reassembled by the receiver's kernel), sends it count times
on IF and answers `sent N` on stdout. One process serves a whole case, so scapy is imported
once. Exits at EOF.
"""

import ipaddress
import json
import sys

from scapy.all import IP, Ether, IPv6, Raw, conf, fragment, get_if_hwaddr, sendp  # noqa: E402


def mcast_mac(dst):
    """Ethernet destination for an IPv4 (RFC 1112 6.4) or IPv6 (RFC 2464 7) multicast group."""
    if ":" in dst:
        b = ipaddress.IPv6Address(dst).packed
        return "33:33:" + ":".join(f"{x:02x}" for x in b[12:])
    o = [int(x) for x in dst.split(".")]
    return f"01:00:5e:{o[1] & 0x7f:02x}:{o[2]:02x}:{o[3]:02x}"


def frames(req, iface):
    """The Ether frames for one request (several when fragmented)."""
    payload = Raw(bytes.fromhex(req["payload"]))
    if ":" in req["dst"]:
        ip = IPv6(src=req["src"], dst=req["dst"], hlim=req.get("ttl", 255),
                  nh=req.get("proto", 112), tc=0xC0) / payload
    else:
        ip = IP(src=req["src"], dst=req["dst"], ttl=req.get("ttl", 255),
                proto=req.get("proto", 112), tos=0xC0) / payload
    pkts = fragment(ip, fragsize=req["frag"]) if req.get("frag") else [ip]
    eth = Ether(src=get_if_hwaddr(iface), dst=req.get("dmac") or mcast_mac(req["dst"]))
    return [eth / p for p in pkts]


def main():
    iface = sys.argv[1]
    conf.verb = 0
    for line in sys.stdin:
        req = json.loads(line)
        fr = frames(req, iface)
        n = int(req.get("count", 1))
        for _ in range(n):
            sendp(fr, iface=iface, verbose=False)
        print(f"sent {n}", flush=True)


if __name__ == "__main__":
    main()
