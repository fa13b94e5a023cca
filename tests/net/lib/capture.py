"""VRRP capture on the test bridge and tshark checks of what a node sent.

Capture runs tcpdump on the bridge in the switch namespace (every port's traffic crosses it),
writing a pcap in the case dir. check_adverts() decodes the packets a given source sent with
`tshark -V` and fails on any checksum error, malformed packet or expert warning, and also
reports the VRRP version and the interval seen so a test can assert them.
"""

import os
import re
import signal

from .procs import Proc
from .util import TestFailure, poll, sh

FILTER = "ip proto 112 or ip6 proto 112"


class Capture:
    """tcpdump -i br0 in the switch namespace of topo, into DIR/NAME.pcap."""

    def __init__(self, ctx, topo, name="vrrp"):
        self.path = os.path.join(ctx.tmp, f"{name}.pcap")
        argv = ["tcpdump", "-i", topo.bridge, "-U", "--immediate-mode", "-n", "-w", self.path, FILTER]
        self.proc = Proc(f"tcpdump-{name}", topo.sw, argv, ctx.tmp)
        self.proc.wait_log("listening on", 10, what="tcpdump start")

    def stop(self):
        """Stops tcpdump (SIGINT so the pcap is flushed)."""
        self.proc.signal(signal.SIGINT)
        try:
            poll(lambda: not self.proc.alive(), 5, what="tcpdump exit")
        finally:
            self.proc.stop()

    def decode(self, src):
        """tshark -V text of the VRRP packets whose IP source is src (IPv4 or IPv6)."""
        field = "ipv6.src" if ":" in src else "ip.src"
        return sh(["tshark", "-n", "-r", self.path, "-V", "-Y", f"vrrp && {field}=={src}"],
                  timeout=30)

    def check_adverts(self, src, version=None, min_count=1):
        """Checks the adverts sent by src: at least min_count, each with a good checksum
        (tshark "[Checksum Status: Good]"), TTL/hop limit 255, none malformed, no expert
        warning, and (if given) all of VRRP version `version`. Returns the number of packets checked."""
        text = self.decode(src)
        frames = text.count("Virtual Router Redundancy Protocol")
        if frames < min_count:
            raise TestFailure(f"capture: {frames} VRRP packets from {src}, expected "
                              f">= {min_count} ({self.path})")
        good = len(re.findall(r"\[Checksum Status: Good\]", text))
        bad = [ln.strip() for ln in text.splitlines()
               if re.search(r"incorrect|Malformed|Expert Info \((Warning|Error)", ln)]
        if bad or good != frames:
            raise TestFailure(f"capture: {src}: {frames} VRRP packets, {good} with a good "
                              f"checksum; problems: {bad[:5]} ({self.path})")
        ttl255 = len(re.findall(r"(Time to Live|Hop Limit): 255\b", text))
        if ttl255 != frames:
            raise TestFailure(f"capture: {src}: only {ttl255} of {frames} VRRP packets have "
                              f"TTL/hop limit 255 (RFC 5798 5.1.1.3) ({self.path})")
        if version is not None:
            chunks = text.split("Virtual Router Redundancy Protocol")[1:]
            versions = {m.group(1) for m in (re.search(r"VRRP protocol version: (\d+)", c) for c in chunks)
                        if m}
            if versions != {str(version)}:
                raise TestFailure(f"capture: {src} sent VRRP versions {sorted(versions)}, "
                                  f"expected {version}")
        return frames
