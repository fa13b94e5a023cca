/* VRRP wire types: the decoded advertisement and the drop reasons.
 *
 * One enum, vrrp_drop, names every reason a received packet is discarded, whether the codec
 * (malformed bytes) or the core's receive policy (TTL, version, auth, interval, source)
 * rejected it, so the adapter counts drops by reason with a single array. */
#ifndef NOSPOF_PROTO_VRRP_PKT_T_H
#define NOSPOF_PROTO_VRRP_PKT_T_H

#include <stdbool.h>
#include <stdint.h>
#include "../../base/addr-t.h"

#define VRRP_IPPROTO      112
#define VRRP_TTL          255
#define VRRP_TYPE_ADVERT  1
#define VRRP_HDR_LEN      8
#define VRRP_AUTH_LEN     8 /* v2 authentication data trailer */
#define VRRP_MAX_ADDRS    255
#define VRRP_PRIO_STOP    0   /* RFC 5798 5.2.4: master is leaving */
#define VRRP_PRIO_OWNER   255 /* owns the addresses */
#define VRRP_PRIO_DEFAULT 100
/* Largest VRRP message: header, 255 IPv6 addresses (v3 has no auth trailer). */
#define VRRP_PKT_MAX (VRRP_HDR_LEN + VRRP_MAX_ADDRS * 16)

/* v2 authentication types (RFC 2338; removed by RFC 3768 but still spoken by keepalived). */
enum vrrp_auth_type {
    VRRP_AUTH_NONE = 0,
    VRRP_AUTH_PASS = 1,
    VRRP_AUTH_AH = 2,
};

/* How the checksum of a v3 IPv4 advert is computed (research/vrrp.md 4.2).
 * PSEUDO: over an IPv4 pseudo-header plus the message (keepalived's and FRR's default).
 * PLAIN: over the message only (RFC 9568 5.2.8, Cisco/Juniper, keepalived v3_checksum_as_v2).
 * v2 is always PLAIN; v3 IPv6 is always PSEUDO (RFC 8200 pseudo-header). */
enum vrrp_cksum_form {
    VRRP_CKSUM_PSEUDO = 0,
    VRRP_CKSUM_PLAIN = 1,
};

enum vrrp_drop {
    VRRP_DROP_NONE = 0,
    /* codec */
    VRRP_DROP_SHORT,        /* shorter than a header, or than its own address count says */
    VRRP_DROP_OVERSIZE,     /* longer than any valid advert */
    VRRP_DROP_BAD_LENGTH,   /* length does not match naddr (or IPv4 total length) */
    VRRP_DROP_BAD_VERSION,  /* version field not 2 or 3, or v2 with IPv6 */
    VRRP_DROP_BAD_TYPE,     /* type field not ADVERTISEMENT */
    VRRP_DROP_BAD_CHECKSUM, /* neither accepted checksum form matches */
    /* receive policy (core) */
    VRRP_DROP_BAD_TTL,           /* multicast advert with TTL/hop limit != 255 (RFC 5798 7.1) */
    VRRP_DROP_VERSION_MISMATCH,  /* valid version, but not the instance's */
    VRRP_DROP_AUTH_MISMATCH,     /* v2 auth type or password differ */
    VRRP_DROP_INTERVAL_MISMATCH, /* v2 advert interval differs from ours (RFC 3768 7.1) */
    VRRP_DROP_BAD_SOURCE,        /* unicast source not among the configured peers */
    VRRP_DROP_BAD_DEST,          /* unicast advert to a multicast instance or the reverse */
    VRRP_DROP_UNKNOWN_VRID,      /* no instance with this VRID on the interface (adapter) */
    VRRP_DROP_OWN,               /* our own advert looped back */
    VRRP_DROP__COUNT
};

/* A decoded advertisement. On decode, addrs points into the caller's buffer and is valid
 * only as long as that buffer. */
struct vrrp_pkt {
    uint8_t version; /* 2 or 3 */
    uint8_t type;
    uint8_t vrid;
    uint8_t priority;
    uint8_t naddr;
    uint8_t family;        /* enum ip_family of the addresses */
    uint8_t auth_type;     /* v2 only; enum vrrp_auth_type */
    uint16_t adver_int_cs; /* v2 seconds are converted: 1 s -> 100 */
    uint16_t checksum;     /* as on the wire */
    uint8_t cksum_form;    /* enum vrrp_cksum_form: decode reports the form that verified */
    uint8_t auth_data[VRRP_AUTH_LEN]; /* v2 only */
    const uint8_t *addrs;             /* naddr * 4 or 16 bytes */
};

/* What an advert to be sent says. addrs is an array of naddr addresses of one family. */
struct vrrp_advert {
    uint8_t version;
    uint8_t vrid;
    uint8_t priority;
    uint8_t family;
    uint8_t auth_type;
    uint8_t cksum_form;    /* for v3 IPv4 only */
    uint16_t adver_int_cs; /* v2: must be a multiple of 100 */
    uint8_t auth_data[VRRP_AUTH_LEN];
    uint8_t naddr;
    const struct ip_addr *addrs;
};

/* The fields of a received IPv4 header that VRRP needs. */
struct vrrp_ip4_hdr {
    struct ip_addr src, dst;
    uint8_t ttl;
    uint8_t proto;
    uint16_t payload_off; /* offset of the VRRP message in the datagram */
    uint16_t payload_len;
};

#endif
