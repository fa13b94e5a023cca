/* Types of the persistence table (IPVS -p / keepalived persistence_timeout and
 * persistence_granularity): client address, masked to the granularity -> dest, per service. */
#ifndef NOSPOF_PROTO_LB_LB_PERSIST_T_H
#define NOSPOF_PROTO_LB_LB_PERSIST_T_H

#include <stdbool.h>
#include <stdint.h>
#include "base/addr-t.h"
#include "base/time-t.h"

/* One persistence template. */
struct lb_persist_entry {
    struct ip_addr client; /* masked; family IP_NONE = free slot */
    uint32_t dest_id;
    uint32_t dest_hint; /* index where dest_id was last seen */
    uint32_t n_control; /* connections created through this template still alive */
    mono_us expires;    /* lastuse + timeout */
};

/* The table: open addressing over caller-provided slots (cap a power of two). */
struct lb_persist {
    struct lb_persist_entry *slots;
    uint32_t cap;
    uint32_t count;
    mono_us timeout;       /* persistence_timeout */
    uint8_t v4_mask[4];    /* persistence_granularity for IPv4 (a netmask) */
    uint8_t v6_prefix_len; /* persistence_granularity for IPv6 (a prefix length) */
    bool expire_quiescent; /* drop a template whose dest has weight 0 (see lb_persist.h) */
};

#endif
