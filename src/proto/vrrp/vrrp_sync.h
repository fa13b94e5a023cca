/* VRRP sync groups (keepalived's vrrp_sync_group): members move together.
 *
 * The rule (research/vrrp.md 1.2, keepalived 2.2): a member going MASTER on its own takes the
 * others to MASTER; a member yielding to a better master takes the others to BACKUP; a member
 * entering FAULT on its own puts the others in FAULT, and they leave FAULT together when no
 * member has a fault of its own left. A member whose down timer fires goes MASTER only when
 * every other member may too (it is MASTER already, or its own down timer has expired);
 * until then it is "held": it stays BACKUP and its deadline reads MONO_NEVER.
 *
 * Pure, like the core. Two levels of API: vrrp_sync_admit/vrrp_sync_follow compute the inputs
 * to feed (the daemon loops: admit, then step + follow for each queued input, until the queue
 * is empty); vrrp_sync_step runs that loop itself. Induced transitions (reason SYNC_GROUP)
 * never fan out again, so the loop always ends. */
#ifndef NOSPOF_PROTO_VRRP_SYNC_H
#define NOSPOF_PROTO_VRRP_SYNC_H

#include <stdbool.h>
#include "vrrp_sync-t.h"

/* Sets up g over members[0..n) (n <= VRRP_SYNC_MAX; extra members are ignored). The cores
 * must already be initialised; the array and the cores must outlive g. */
void vrrp_sync_init(struct vrrp_sync *g, struct vrrp *const *members, unsigned n);

/* Turns an external input for member i (adapter, tracker, timer) into the inputs to feed now,
 * written to q (at most cap); returns their number. FAULT marks i as faulted by itself;
 * FAULT_CLEAR clears the mark and, once no member is faulted by itself, becomes FAULT_CLEAR
 * for every member in FAULT (otherwise nothing); TICK of a held member yields nothing; every
 * other input passes through unchanged. */
unsigned vrrp_sync_admit(struct vrrp_sync *g, unsigned i, const struct vrrp_in *in, mono_us now,
                         struct vrrp_sync_in *q, unsigned cap);

/* Given the actions acts[0..n) that member i just produced, writes to q (at most cap) the
 * inputs for the other members and returns their number: a transition of i to MASTER ->
 * SYNC_MASTER to the BACKUP members; MASTER -> BACKUP -> SYNC_BACKUP to the MASTER members;
 * to FAULT -> FAULT to the members not in FAULT. All carry reason SYNC_GROUP; transitions
 * that were themselves caused by the group produce nothing. */
unsigned vrrp_sync_follow(const struct vrrp_sync *g, unsigned i, const struct vrrp_act *acts,
                          unsigned n, struct vrrp_sync_in *q, unsigned cap);

/* True when every member other than i is MASTER, STOPPED, or BACKUP with an expired down
 * timer, i.e. the group may go MASTER if i does. */
bool vrrp_sync_may_master(const struct vrrp_sync *g, unsigned i, mono_us now);

/* True when member i's down timer has fired but the group may not go MASTER yet. */
bool vrrp_sync_held(const struct vrrp_sync *g, unsigned i, mono_us now);

/* Member i's deadline for the adapter's timer: vrrp_deadline(), or MONO_NEVER while held. */
mono_us vrrp_sync_deadline(const struct vrrp_sync *g, unsigned i, mono_us now);

/* Feeds the external input in to member i and runs the group until quiet: outs[k] (one list
 * per member, not reset) receives member k's actions. */
void vrrp_sync_step(struct vrrp_sync *g, unsigned i, const struct vrrp_in *in, mono_us now,
                    struct vrrp_acts *outs);

#endif
