/* keepalived tracking arithmetic: rise/fall hysteresis and effective priority. Pure. */
#ifndef NOSPOF_PROTO_VRRP_TRACK_H
#define NOSPOF_PROTO_VRRP_TRACK_H

#include <stddef.h>
#include "vrrp_track-t.h"

/* Initialises t with its default weight and direction and rise/fall counts (0 counts as 1).
 * It starts up, or down with init_fail (vrrp_script init_fail). */
void vrrp_tracker_init(struct vrrp_tracker *t, int weight, bool reverse, unsigned rise,
                       unsigned fall, bool init_fail);

/* Records one check result. A down tracker comes up after 'rise' consecutive successes, an
 * up one goes down after 'fall' consecutive failures; a result agreeing with the current state
 * restarts the count. Returns true when t->up changed. */
bool vrrp_tracker_feed(struct vrrp_tracker *t, bool ok);

/* A reference to t with the tracker's own weight and direction (no override). */
struct vrrp_track_ref vrrp_track_ref_default(const struct vrrp_tracker *t);

/* The effective priority of an instance with configured priority base, tracking refs[0..nref)
 * and files[0..nfile) (either array may be NULL when its count is 0). Rules (keepalived.conf(5)):
 * - tracker, weight > 0: adds weight while up; weight < 0: adds weight (subtracts) while down;
 *   reverse negates the adjustment; weight 0: FAULT while down, or while up with reverse.
 * - file: weight 0: FAULT when the value is non-zero (zero with reverse); otherwise
 *   value * weight (negated with reverse) is added, and a product below -253 means FAULT.
 * - the sum is clamped to 1..254; base 255 (address owner) never moves, only FAULT applies. */
struct vrrp_prio vrrp_effective_priority(uint8_t base, const struct vrrp_track_ref *refs,
                                         size_t nref, const struct vrrp_track_file_val *files,
                                         size_t nfile);

#endif
