/* The health-checker core: when to probe one real server with one checker and what the
 * results mean (keepalived semantics). Pure: the adapter runs the probes and the timers.
 *
 * Theory of operation. START sets the initial health -- UP, or DOWN with alpha ("On daemon
 * startup assume that all RSs are down and healthchecks failed") -- and schedules the first
 * probe after a random warmup delay; a START with resume keeps the verdict the adapter carried
 * over (a reload or an upgrade) and emits nothing. A success schedules the next probe delay_loop
 * later and brings a DOWN checker UP at once. A failure of a checker that is UP (or has not run
 * yet) is retried `retry` times, delay_before_retry apart, and only then declared DOWN; the next
 * probe is then delay_loop later. A checker that is DOWN and has run is re-probed every
 * delay_before_retry until it succeeds (as keepalived 2.x does). */
#ifndef NOSPOF_PROTO_CHECK_HC_H
#define NOSPOF_PROTO_CHECK_HC_H

#include "hc-t.h"

/* Copies cfg; the checker is STOPPED until HC_EV_START. */
void hc_init(struct hc *h, const struct hc_cfg *cfg);

/* Feeds one input at time now; out receives the actions in order (out->n reset first). */
void hc_step(struct hc *h, const struct hc_in *in, mono_us now, struct hc_acts *out);

/* When hc_step wants a HC_EV_TICK: the next probe, or the in-flight probe's safety deadline;
 * MONO_NEVER when stopped. */
mono_us hc_deadline(const struct hc *h);

bool hc_is_up(const struct hc *h);

/* Stable names for logs and status. */
const char *hc_why_name(enum hc_why w);
const char *hc_act_name(enum hc_act_kind k);

#endif
