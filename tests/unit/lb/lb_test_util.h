/* Helpers shared by the lb scheduler tests: build dest lists and keys. */
#ifndef NOSPOF_TESTS_LB_TEST_UTIL_H
#define NOSPOF_TESTS_LB_TEST_UTIL_H

#include <string.h>
#include "base/addr.h"
#include "proto/lb/lb.h"

/* Fills d[i] with id i+1, address 192.0.2.(i+1) port 80, weight w[i] (also last_weight). */
static inline void mk_dests(struct lb_dest *d, const int32_t *w, size_t n)
{
    memset(d, 0, sizeof(*d) * n);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[4] = {192, 0, 2, (uint8_t)(i + 1)};

        d[i].id = (uint32_t)(i + 1);
        d[i].addr = ip_addr_from_v4(b);
        d[i].port = 80;
        d[i].weight = w[i];
        d[i].last_weight = w[i];
    }
}

static inline struct lb_key mk_key(const char *client, uint16_t port, const char *dst)
{
    struct lb_key k;

    memset(&k, 0, sizeof(k));
    ip_addr_parse(client, &k.client);
    k.client_port = port;
    ip_addr_parse(dst, &k.dst);
    return k;
}

#endif
