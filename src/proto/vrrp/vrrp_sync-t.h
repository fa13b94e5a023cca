/* VRRP sync group types: the members of one vrrp_sync_group and the inputs the group rule
 * derives for them. */
#ifndef NOSPOF_PROTO_VRRP_SYNC_T_H
#define NOSPOF_PROTO_VRRP_SYNC_T_H

#include <stdint.h>
#include "vrrp-t.h"

#define VRRP_SYNC_MAX 32 /* members per group (own_fault is a bit set) */

/* One group. members[] and the cores it points to are borrowed from the caller. */
struct vrrp_sync {
    struct vrrp *const *members;
    unsigned n;
    uint32_t own_fault; /* bit i: member i was put in FAULT by its own (non-group) input */
};

/* An input the group rule wants fed to one member. */
struct vrrp_sync_in {
    unsigned member;
    struct vrrp_in in;
};

/* Enough for one external input and every fan-out it can cause (vrrp_sync_step). */
#define VRRP_SYNC_QUEUE (4 * VRRP_SYNC_MAX)

#endif
