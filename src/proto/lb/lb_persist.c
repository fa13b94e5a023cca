/* The persistence table (see lb_persist.h): open addressing with linear probing and
 * backward-shift deletion over caller storage, keyed by the masked client address. */
#include "lb_persist.h"

#include <errno.h>
#include <string.h>
#include "base/addr.h"
#include "lb.h"
#include "lb_hash.h"

static uint32_t persist_cap(uint32_t cap)
{
    uint32_t c = 16;

    while (c < cap && c < (1u << 24))
        c <<= 1;
    return c;
}

size_t lb_persist_storage_size(uint32_t cap)
{
    return sizeof(struct lb_persist_entry) * persist_cap(cap);
}

int lb_persist_init(struct lb_persist *p, void *storage, size_t len, uint32_t cap, mono_us timeout,
                    uint32_t v4_netmask, uint8_t v6_prefix_len, bool expire_quiescent)
{
    memset(p, 0, sizeof(*p));
    if (storage == NULL || ((uintptr_t)storage & 7u) != 0 || len < lb_persist_storage_size(cap))
        return -EINVAL;
    if (v6_prefix_len > 128 || timeout <= 0)
        return -EINVAL;
    p->slots = storage;
    p->cap = persist_cap(cap);
    p->timeout = timeout;
    if (v4_netmask == 0)
        v4_netmask = 0xffffffffu;
    for (int i = 0; i < 4; i++)
        p->v4_mask[i] = (uint8_t)(v4_netmask >> (24 - 8 * i));
    p->v6_prefix_len = v6_prefix_len ? v6_prefix_len : 128;
    p->expire_quiescent = expire_quiescent;
    memset(storage, 0, lb_persist_storage_size(cap));
    return 0;
}

struct ip_addr lb_persist_mask(const struct lb_persist *p, const struct ip_addr *client)
{
    struct ip_addr m = *client;

    if (m.family == IP_V4) {
        for (int i = 0; i < 4; i++)
            m.b[i] &= p->v4_mask[i];
        memset(m.b + 4, 0, sizeof(m.b) - 4);
        return m;
    }
    for (unsigned bit = p->v6_prefix_len; bit < 128; bit++)
        m.b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return m;
}

static uint32_t home(const struct lb_persist *p, const struct ip_addr *a)
{
    uint64_t h = lb_siphash(1, 3, 0x6e6f73706f66ull, a->family, a->b, sizeof(a->b));

    return (uint32_t)h & (p->cap - 1);
}

static int find(const struct lb_persist *p, const struct ip_addr *a)
{
    uint32_t mask = p->cap - 1;

    for (uint32_t i = home(p, a), n = 0; n < p->cap; i = (i + 1) & mask, n++) {
        if (p->slots[i].client.family == IP_NONE)
            return -1;
        if (ip_addr_eq(&p->slots[i].client, a))
            return (int)i;
    }
    return -1;
}

static bool in_range(uint32_t j, uint32_t h, uint32_t k)
{
    return j <= k ? (j < h && h <= k) : (j < h || h <= k);
}

static void erase(struct lb_persist *p, uint32_t i)
{
    uint32_t mask = p->cap - 1, j = i, k = i;

    for (;;) {
        k = (k + 1) & mask;
        if (p->slots[k].client.family == IP_NONE)
            break;
        if (in_range(j, home(p, &p->slots[k].client), k))
            continue;
        p->slots[j] = p->slots[k];
        j = k;
    }
    memset(&p->slots[j], 0, sizeof(p->slots[j]));
    p->count--;
}

static bool expired(const struct lb_persist_entry *e, mono_us now)
{
    return e->expires <= now && e->n_control == 0;
}

int lb_persist_lookup(struct lb_persist *p, const struct lb_dest *dests, size_t n,
                      const struct ip_addr *client, mono_us now)
{
    struct ip_addr key = lb_persist_mask(p, client);
    int i = find(p, &key), d;
    struct lb_persist_entry *e;

    if (i < 0)
        return -1;
    e = &p->slots[i];
    d = expired(e, now) ? -1 : lb_dest_find(dests, n, e->dest_id, e->dest_hint);
    /* ip_vs_check_template: a deleted dest, or a quiesced one with expire_quiescent_template,
     * invalidates the template. */
    if (d < 0 || (p->expire_quiescent && dests[d].weight == 0)) {
        erase(p, (uint32_t)i);
        return -1;
    }
    e->dest_hint = (uint32_t)d;
    e->expires = now + p->timeout;
    return d;
}

int lb_persist_bind(struct lb_persist *p, const struct lb_dest *dests, int d,
                    const struct ip_addr *client, mono_us now)
{
    struct ip_addr key = lb_persist_mask(p, client);
    int i = find(p, &key);

    if (i < 0) {
        uint32_t mask = p->cap - 1, j = home(p, &key);

        if (p->count >= p->cap - p->cap / 8)
            return -ENOSPC;
        while (p->slots[j].client.family != IP_NONE)
            j = (j + 1) & mask;
        memset(&p->slots[j], 0, sizeof(p->slots[j]));
        p->slots[j].client = key;
        p->count++;
        i = (int)j;
    }
    p->slots[i].dest_id = dests[d].id;
    p->slots[i].dest_hint = (uint32_t)d;
    p->slots[i].expires = now + p->timeout;
    return 0;
}

int lb_persist_control(struct lb_persist *p, const struct ip_addr *client, int delta)
{
    struct ip_addr key = lb_persist_mask(p, client);
    int i = find(p, &key);
    int64_t v;

    if (i < 0)
        return -ENOENT;
    v = (int64_t)p->slots[i].n_control + delta;
    p->slots[i].n_control = v < 0 ? 0 : (uint32_t)v;
    return 0;
}

uint32_t lb_persist_expire(struct lb_persist *p, mono_us now)
{
    uint32_t dropped = 0;

    /* Erasing slot i may pull a later entry into i, so i is examined again. */
    for (uint32_t i = 0; i < p->cap; i++)
        while (p->slots[i].client.family != IP_NONE && expired(&p->slots[i], now)) {
            erase(p, i);
            dropped++;
        }
    return dropped;
}
