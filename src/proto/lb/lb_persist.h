/* Persistence (IPVS "templates"): a client, masked to the service's granularity, sticks to the
 * dest it was first scheduled to for `timeout` after its last new connection. Pure; the caller
 * provides the storage, the time and the dest list.
 *
 * Rules (IPVS ip_vs_sched_persist / ip_vs_check_template, research/lb.md 1.1):
 * - lookup masks the client (IPv4 netmask, IPv6 prefix length) and, on a live template,
 *   re-arms it to now + timeout and returns its dest (the OVERLOAD flag is not consulted);
 * - a template whose dest left the service is dropped and the connection is scheduled anew;
 * - quiesce: with expire_quiescent (the sysctl expire_quiescent_template), a template whose
 *   dest has weight 0 is dropped at lookup, so a drained dest gets no new connection through
 *   persistence (this is what operators draining a real server expect, kubernetes#71809).
 *   Without it the template keeps sending new connections to the weight-0 dest, as IPVS does
 *   by default. Connections already established are not affected either way;
 * - a template expires at its deadline unless connections it created are still alive
 *   (n_control, see lb_persist_control), in which case it lives on, as IPVS re-arms it. */
#ifndef NOSPOF_PROTO_LB_LB_PERSIST_H
#define NOSPOF_PROTO_LB_LB_PERSIST_H

#include <stddef.h>
#include "lb-t.h"
#include "lb_persist-t.h"

/* Bytes (8-byte aligned) for a table of at least cap templates (rounded up to a power of
 * two, at least 16). */
size_t lb_persist_storage_size(uint32_t cap);

/* Initialises p over storage (len bytes, 8-byte aligned, outlives p, not owned). v4_netmask
 * is host order (0xffffff00 for /24; 0 counts as 255.255.255.255), v6_prefix_len 0..128
 * (0 counts as 128). Returns 0 or -EINVAL (short/misaligned storage, prefix > 128, timeout
 * <= 0). */
int lb_persist_init(struct lb_persist *p, void *storage, size_t len, uint32_t cap, mono_us timeout,
                    uint32_t v4_netmask, uint8_t v6_prefix_len, bool expire_quiescent);

/* The client address masked to the granularity (the template key). */
struct ip_addr lb_persist_mask(const struct lb_persist *p, const struct ip_addr *client);

/* The dest index in dests[0..n) this client sticks to, or -1 (no template, expired, dest
 * gone, or quiesced with expire_quiescent: such templates are dropped). A hit re-arms the
 * template. */
int lb_persist_lookup(struct lb_persist *p, const struct lb_dest *dests, size_t n,
                      const struct ip_addr *client, mono_us now);

/* Records that client now sticks to dests[d] (after a scheduler pick), replacing any
 * template; expires at now + timeout. Returns 0, or -ENOSPC when the table is 7/8 full (the
 * connection then simply has no persistence, as IPVS when a template cannot be allocated). */
int lb_persist_bind(struct lb_persist *p, const struct lb_dest *dests, int d,
                    const struct ip_addr *client, mono_us now);

/* Adds delta (+1 on a new connection made through the template, -1 when it ends) to the
 * template's controlled-connection count, which keeps it alive past its deadline. Returns 0,
 * or -ENOENT when the client has no template. The count never goes below 0. */
int lb_persist_control(struct lb_persist *p, const struct ip_addr *client, int delta);

/* Drops every template with expires <= now and no controlled connection. Returns how many. */
uint32_t lb_persist_expire(struct lb_persist *p, mono_us now);

#endif
