/* Hashes of the IPVS schedulers: the kernel's hash_32 and SipHash-c-d.
 *
 * SipHash is written from the description in Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF" (2012): 4 64-bit lanes initialised from the key and the constants
 * "somepseudorandomlygeneratedbytes", c SipRounds per 8-byte little-endian message word, the
 * last word carrying the length in its top byte, then v2 ^= 0xff and d rounds. The kernel's
 * hsiphash on 64-bit machines is SipHash-1-3 truncated to 32 bits; IPVS mh uses it. Verified
 * against the published SipHash-2-4 vectors and the kernel's hsiphash (1-3) self-test vectors
 * (tests/unit/lb/test_lb_hash.c). */
#ifndef NOSPOF_PROTO_LB_LB_HASH_H
#define NOSPOF_PROTO_LB_LB_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "base/addr-t.h"

/* Linux hash_32: multiply by GOLDEN_RATIO_32 and keep the top bits (1..32). */
static inline uint32_t lb_hash_32(uint32_t v, unsigned bits)
{
    return (uint32_t)(v * 0x61C88647u) >> (32 - bits);
}

/* SipHash with c compression and d finalisation rounds of len bytes under key (k0, k1), the
 * key's two little-endian 64-bit halves. SipHash-2-4: c=2, d=4. */
uint64_t lb_siphash(unsigned c, unsigned d, uint64_t k0, uint64_t k1, const void *data, size_t len);

/* The kernel's 64-bit hsiphash of one u32 as stored in memory on a little-endian machine:
 * SipHash-1-3 of the 4 bytes of v (little-endian), truncated to 32 bits. */
uint32_t lb_hsiphash_u32(uint32_t v, uint64_t k0, uint64_t k1);

/* IPVS address fold: the IPv4 address as a host-order u32, or the XOR of an IPv6 address's
 * four 32-bit words. */
uint32_t lb_addr_fold(const struct ip_addr *a);

#endif
