/* SipHash-c-d and the IPVS address fold (see lb_hash.h). */
#include "lb_hash.h"

#include "base/bytes.h"

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

static uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static void sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

static void sip_init(struct sip_state *s, uint64_t k0, uint64_t k1)
{
    s->v0 = k0 ^ 0x736f6d6570736575ull; /* "somepseu" */
    s->v1 = k1 ^ 0x646f72616e646f6dull; /* "dorandom" */
    s->v2 = k0 ^ 0x6c7967656e657261ull; /* "lygenera" */
    s->v3 = k1 ^ 0x7465646279746573ull; /* "tedbytes" */
}

static void sip_compress(struct sip_state *s, unsigned c, uint64_t m)
{
    s->v3 ^= m;
    for (unsigned i = 0; i < c; i++)
        sip_round(s);
    s->v0 ^= m;
}

static uint64_t sip_finish(struct sip_state *s, unsigned d)
{
    s->v2 ^= 0xff;
    for (unsigned i = 0; i < d; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static uint64_t load_le(const uint8_t *p, size_t len)
{
    uint64_t m = 0;

    for (size_t i = 0; i < len; i++)
        m |= (uint64_t)p[i] << (8 * i);
    return m;
}

uint64_t lb_siphash(unsigned c, unsigned d, uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const uint8_t *p = data;
    struct sip_state s;
    size_t whole = len - len % 8;

    sip_init(&s, k0, k1);
    for (size_t i = 0; i < whole; i += 8)
        sip_compress(&s, c, load_le(p + i, 8));
    sip_compress(&s, c, ((uint64_t)len << 56) | load_le(p + whole, len % 8));
    return sip_finish(&s, d);
}

uint32_t lb_hsiphash_u32(uint32_t v, uint64_t k0, uint64_t k1)
{
    struct sip_state s;

    sip_init(&s, k0, k1);
    sip_compress(&s, 1, ((uint64_t)4 << 56) | v);
    return (uint32_t)sip_finish(&s, 3);
}

uint32_t lb_addr_fold(const struct ip_addr *a)
{
    if (a->family == IP_V6)
        return get_be32(a->b) ^ get_be32(a->b + 4) ^ get_be32(a->b + 8) ^ get_be32(a->b + 12);
    return get_be32(a->b);
}
