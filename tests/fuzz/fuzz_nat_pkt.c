/* libFuzzer target for the packet data plane's first-packet parser and rewriter
 * (proto/lb/nat_pkt).
 *
 * The input is parsed as an IP packet from an exact-size heap copy (so an over-read is an ASan
 * report). A packet that parses must lie within the input (len <= size, transport header
 * before its end); it is then rewritten to a fixed destination of its own family, and must
 * parse again to the same shape with the new destination, carry a valid IPv4 header checksum
 * and a valid TCP/UDP checksum (an IPv4 UDP checksum of zero stays zero). The rewrite to the
 * other family must be refused and change nothing. Any breach aborts. */
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "fuzz.h"
#include "proto/lb/nat_pkt.h"

static const struct ip_addr dst4 = {IP_V4, {198, 51, 100, 7}};
static const struct ip_addr dst6 = {IP_V6, {0x20, 0x01, 0x0d, 0xb8, [15] = 7}};
#define NEW_PORT 8080

static uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* RFC 1071 sum of n bytes added to sum, folded to 16 bits. */
static uint16_t sum16(uint32_t sum, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += rd16(b + i);
    if (n & 1)
        sum += (uint32_t)b[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* True when the transport checksum of the parsed packet in b verifies. */
static bool l4_valid(const uint8_t *b, const struct nat_pkt *p)
{
    bool v4 = p->src.family == IP_V4;
    size_t alen = v4 ? 4 : 16, saddr = v4 ? 12 : 8;
    size_t seg = p->proto == 17 ? rd16(b + p->l4 + 4) : p->len - p->l4;

    if (v4 && p->proto == 17 && rd16(b + p->l4 + 6) == 0)
        return true; /* none */
    uint32_t sum = sum16(0, b + saddr, 2 * alen);
    sum += p->proto + (uint32_t)seg;
    return sum16(sum, b + p->l4, seg) == 0xffff;
}

static void check_rewrite(uint8_t *b, size_t size, const struct nat_pkt *p0)
{
    struct nat_pkt p = *p0, q;
    bool v4 = p0->src.family == IP_V4;
    const struct ip_addr *dst = v4 ? &dst4 : &dst6;
    const struct ip_addr *other = v4 ? &dst6 : &dst4;
    uint16_t udp_sum = p0->proto == 17 ? rd16(b + p0->l4 + 6) : 1;
    uint8_t *before = malloc(size);

    if (!before)
        abort();
    memcpy(before, b, size);
    if (nat_pkt_set_dst(b, &p, other, NEW_PORT) != -1 || memcmp(b, before, size) != 0 ||
        memcmp(&p, p0, sizeof(p)) != 0)
        abort();
    free(before);
    if (nat_pkt_set_dst(b, &p, dst, NEW_PORT) != 0 || !ip_addr_eq(&p.dst, dst) ||
        p.dport != NEW_PORT)
        abort();
    if (nat_pkt_parse(b, size, &q) != 0 || q.len != p0->len || q.l4 != p0->l4 ||
        q.proto != p0->proto || !ip_addr_eq(&q.dst, dst) || !ip_addr_eq(&q.src, &p0->src) ||
        q.dport != NEW_PORT || q.sport != p0->sport || q.tcp_flags != p0->tcp_flags)
        abort();
    if (v4 && sum16(0, b, p.l4) != 0xffff)
        abort();
    if (!l4_valid(b, &p))
        abort();
    if (v4 && p.proto == 17 && (udp_sum == 0) != (rd16(b + p.l4 + 6) == 0))
        abort(); /* zero (none) stays zero, a computed one is never zero */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    struct nat_pkt p;

    if (!b)
        abort();
    if (size)
        memcpy(b, data, size);
    if (nat_pkt_parse(b, size, &p) == 0) {
        if (p.len > size || p.l4 >= p.len || (p.proto != 6 && p.proto != 17) ||
            p.src.family != p.dst.family)
            abort();
        check_rewrite(b, size, &p);
    }
    free(b);
    return 0;
}
