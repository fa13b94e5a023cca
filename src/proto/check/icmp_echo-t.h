/* Types of the ICMP / ICMPv6 echo codec used by PING_CHECK. */
#ifndef NOSPOF_PROTO_CHECK_ICMP_ECHO_T_H
#define NOSPOF_PROTO_CHECK_ICMP_ECHO_T_H

#include <stddef.h>
#include <stdint.h>

#define ICMP_ECHO_HDR_LEN 8

enum icmp_echo_err {
    ICMP_ECHO_OK = 0,
    ICMP_ECHO_SHORT,     /* shorter than a header (or a bad IPv4 header) */
    ICMP_ECHO_NOT_REPLY, /* another ICMP type (errors, our own requests on loopback) */
    ICMP_ECHO_BAD_CKSUM, /* ICMPv4 checksum wrong */
};

struct icmp_echo {
    uint8_t type, code;
    uint16_t id, seq;
    const uint8_t *data; /* points into the parsed buffer */
    size_t data_len;
};

#endif
