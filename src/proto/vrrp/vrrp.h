/* VRRP protocol core: RFC 3768 (v2) and RFC 5798/9568 (v3) with keepalived's behaviour.
 * See vrrp.c for the theory of operation. Pure: no I/O, no clock, no allocation. */
#ifndef NOSPOF_PROTO_VRRP_H
#define NOSPOF_PROTO_VRRP_H

#include "vrrp-t.h"

/* Initialises vr in INIT with cfg copied in (cfg's pointers are borrowed). */
void vrrp_init(struct vrrp *vr, const struct vrrp_cfg *cfg, mono_us now);

/* Feeds one input at time now; appends the resulting actions to out (out->n is not reset,
 * so several steps may fill one list; at most VRRP_ACTS_MAX in all). Adverts failing the
 * receive policy are counted in vr->cnt.drops and change nothing else. */
void vrrp_step(struct vrrp *vr, const struct vrrp_in *in, mono_us now, struct vrrp_acts *out);

/* The earliest armed timer, or MONO_NEVER. Call vrrp_step with VRRP_IN_TICK when it is due. */
mono_us vrrp_deadline(const struct vrrp *vr);

/* Adopts a new configuration for the same instance (reload) and keeps the state: a master
 * stays master, a backup keeps listening; timers are recomputed from the new values. */
void vrrp_reconfigure(struct vrrp *vr, const struct vrrp_cfg *cfg, mono_us now,
                      struct vrrp_acts *out);

/* Skew_Time for a priority and interval (research/vrrp.md 1.2): v2 (256-p)/256 s; v3
 * (256-p)*interval/256. */
mono_us vrrp_skew_us(uint8_t version, uint8_t priority, uint16_t adver_int_cs);

/* Master_Down_Interval = down_timer_adverts * interval + skew. */
mono_us vrrp_master_down_us(const struct vrrp *vr);

const char *vrrp_state_name(enum vrrp_state s);   /* "MASTER", "BACKUP", ... */
const char *vrrp_reason_name(enum vrrp_reason r); /* lower_snake */

#endif
