/* Types of the DNS message codec used by DNS_CHECK. */
#ifndef NOSPOF_PROTO_CHECK_DNS_MSG_T_H
#define NOSPOF_PROTO_CHECK_DNS_MSG_T_H

#include <stdbool.h>
#include <stdint.h>

#define DNS_HDR_LEN   12
#define DNS_NAME_MAX  255 /* RFC 1035 section 2.3.4: a name is at most 255 octets */
#define DNS_QUERY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4)
#define DNS_UDP_MAX   512 /* RFC 1035 section 4.2.1, without EDNS */

enum dns_qtype {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_MX = 15,
    DNS_T_TXT = 16,
    DNS_T_AAAA = 28,
};

enum dns_msg_err {
    DNS_MSG_OK = 0,
    DNS_MSG_SHORT,    /* shorter than a header, or a section runs past the end */
    DNS_MSG_BAD_NAME, /* bad label, pointer loop or name too long */
};

/* What the checker needs from a response. */
struct dns_resp {
    uint16_t id;
    bool qr; /* a response */
    uint8_t opcode;
    uint8_t rcode; /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED ... */
    bool tc;
    uint16_t qdcount, ancount, nscount, arcount;
    uint16_t qtype;            /* of the first question, 0 when none */
    uint16_t answers_of_qtype; /* answer records whose type is qtype */
};

/* The checker's reading of a datagram (keepalived DNS_CHECK semantics). */
enum dns_verdict {
    DNS_V_IGNORE = 0, /* not our answer (other id, not a response, undecodable): keep waiting */
    DNS_V_OK,         /* our response with RCODE NOERROR */
    DNS_V_FAIL,       /* our response with another RCODE */
};

#endif
