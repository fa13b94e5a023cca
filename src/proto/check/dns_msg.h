/* DNS query encoder and response decoder for DNS_CHECK (RFC 1035). Pure. */
#ifndef NOSPOF_PROTO_CHECK_DNS_MSG_H
#define NOSPOF_PROTO_CHECK_DNS_MSG_H

#include <stddef.h>
#include "dns_msg-t.h"

/* Encodes a standard query (RD set, one question of class IN) for name, a dotted name with
 * or without the final dot ("." or "" is the root). Returns the message length, or 0 when a
 * label is empty or longer than 63 octets, the name is too long, or cap is too small. */
size_t dns_query_encode(uint16_t id, const char *name, uint16_t qtype, uint8_t *buf, size_t cap);

/* Decodes the header, the questions and the answer records of buf[0..len) (authority and
 * additional sections are counted, not walked). Compression pointers are followed with a
 * bound. Returns DNS_MSG_OK or why not; out is filled as far as decoded. */
enum dns_msg_err dns_resp_decode(const uint8_t *buf, size_t len, struct dns_resp *out);

/* keepalived's DNS_CHECK rule: a datagram whose id differs from the query's, or that is not a
 * response (QR clear), is ignored and the check keeps waiting; our response is OK when its
 * RCODE is NOERROR and a failure otherwise. The answer count is not required. */
enum dns_verdict dns_verdict(const uint8_t *buf, size_t len, uint16_t query_id,
                             struct dns_resp *out);

/* The type code of a DNS_CHECK "type" word (A, NS, CNAME, SOA, MX, TXT, AAAA; case
 * insensitive), 0 when unknown. */
uint16_t dns_qtype_parse(const char *word);

#endif
