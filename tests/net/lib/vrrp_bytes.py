"""VRRP messages as bytes, built independently of nospof's codec so the bad-input tests do not
share its bugs. RFC 3768 section 5 (v2) and RFC 5798/9568 section 5 (v3).

advert() builds a valid message; keyword arguments bend one field at a time (version, type,
naddr, checksum, auth, interval, extra addresses) to make the malformed variants.
"""

import ipaddress
import struct


def inet_cksum(data):
    """RFC 1071 Internet checksum of data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pseudo4(src, dst, length):
    """IPv4 pseudo-header for protocol 112 (what keepalived and FRR include for v3)."""
    return (ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
            + struct.pack("!BBH", 0, 112, length))


def pseudo6(src, dst, length):
    """IPv6 pseudo-header (RFC 8200 8.1) for next header 112."""
    return (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
            + struct.pack("!I3xB", length, 112))


def advert(version=2, vrid=10, prio=254, addrs=("192.0.2.100",), naddr=None, adver=1,
           vtype=1, auth_type=0, auth=b"", src="192.0.2.13", dst="224.0.0.18",
           cksum=None, pad=0):
    """A VRRP message. adver is seconds for v2 and centiseconds for v3. naddr overrides the
    count field (default: len(addrs)); cksum overrides the checksum (default: correct, over
    the message for v2 and with the IPv4 or IPv6 pseudo-header for v3); pad appends zero bytes
    (covered by the checksum)."""
    count = len(addrs) if naddr is None else naddr
    body = b"".join(ipaddress.ip_address(a).packed for a in addrs)
    if version == 2:
        head = struct.pack("!BBBBBBH", (version << 4) | vtype, vrid, prio, count, auth_type,
                           adver, 0)
        msg = head + body + auth.ljust(8, b"\0")[:8]
    else:
        head = struct.pack("!BBBBHH", (version << 4) | vtype, vrid, prio, count,
                           adver & 0x0FFF, 0)
        msg = head + body
    msg += b"\0" * pad
    if cksum is None:
        if version != 3:
            covered = msg
        elif ":" in src:
            covered = pseudo6(src, dst, len(msg)) + msg
        else:
            covered = pseudo4(src, dst, len(msg)) + msg
        cksum = inet_cksum(covered)
    return msg[:6] + struct.pack("!H", cksum) + msg[8:]
