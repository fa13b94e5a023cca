/* The packet data plane: keepalived's LVS-NAT done in the kernel with TC BPF programs (no
 * IPVS module), for virtual servers with `nospof_data_plane packet`.
 *
 * Theory of operation. The kernel half (io/bpf/nat.bpf.c) rewrites the packets of known
 * flows: client -> VIP becomes client -> real server at ingress, real server -> client
 * becomes VIP -> client at egress. The real server sees the client's address, as with IPVS
 * NAT, and its replies must come back through this host (its default route). This half runs
 * on a thread of its own and does what needs a decision:
 * - an upcall (the first packet of a flow) is scheduled exactly as the proxy does it
 *   (dp_sel_pick: the IPVS scheduler, persistence, quorum and the sorry server), both flow
 *   entries are written, and the packet, rewritten, is re-injected through a raw socket;
 *   with no real server it is re-injected as it is, so the local stack refuses it (TCP RST,
 *   ICMP port unreachable), as IPVS answers an unschedulable packet;
 * - a sweep every second expires flows (TCP: 5 s without a reply from the real server, the
 *   idle timeout while open, 120 s half closed, 10 s after RST or FIN both ways; UDP: the
 *   idle timeout), counts active and inactive connections
 *   per real server into the shared dest statistics (what lc, wlc, sed, nq, ovf read), folds
 *   the kernel's byte counters in, and attaches to interfaces that appeared;
 * - a published snapshot replaces the services: new ones are added to the kernel's service
 *   map, gone ones removed; UDP flows to a dest that left its service end at once, TCP flows
 *   drain (IPVS keeps them to their end).
 *
 * Ownership: dp_pkt_publish takes the snapshot; the packet thread frees it when the next one
 * arrives or at dp_pkt_stop. Its dest statistics blocks belong to the struct dp they came
 * from, which must outlive the packet plane. */
#ifndef NOSPOF_DAEMON_DP_DP_PKT_H
#define NOSPOF_DAEMON_DP_DP_PKT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/dp/dp_snap-t.h"
#include "io/loop.h"
#include "io/nat_bpf.h"

struct ring_buffer;
struct dp_pkt_svc;

/* Counters of the packet plane: the kernel's (summed over CPUs) and the slow path's. */
struct dp_pkt_counters {
    uint64_t upcalls;         /* first packets sent up by the kernel */
    uint64_t upcall_drops;    /* first packets dropped: the ring was full */
    uint64_t too_big;         /* first packets too large to send up: dropped */
    uint64_t no_flow;         /* TCP segments to a service without SYN or flow: dropped */
    uint64_t fwd_packets;     /* packets rewritten towards a real server */
    uint64_t rev_packets;     /* packets rewritten back to a client */
    uint64_t fragments;       /* IPv4 fragments seen (passed unchanged) */
    uint64_t scheduled;       /* new flows given a real server */
    uint64_t no_dest;         /* first packets with no eligible real server: refused */
    uint64_t bad_upcalls;     /* upcalls that did not parse or matched no service */
    uint64_t reinject_errors; /* raw socket sends that failed */
    uint64_t flows_expired;   /* connections removed by the sweep */
    uint64_t flows;           /* gauge: connections in the flow table at the last sweep */
    uint64_t interfaces;      /* gauge: interfaces the programs are attached to */
};

struct dp_pkt {
    struct nat_bpf bpf;
    struct io_loop loop;
    pthread_t thread;
    bool started;
    struct ring_buffer *rb;
    struct io_watch rb_watch;
    struct io_timer sweep;
    int raw4, raw6; /* re-injection sockets (IPPROTO_RAW, marked NAT_MARK_PASS) */
    struct dp_snap *snap;
    struct dp_pkt_svc *svcs;     /* one per snap->svc, same order */
    struct nat_dest_ctr *folded; /* per dest id: kernel byte counts already added to stats */
    struct dp_pkt_counters ctr;  /* slow-path part, packet thread only */
    int attach_err;              /* the last sweep's attach failure (-errno), 0: none */
};

/* Loads and attaches the kernel half and starts the packet thread. max_flows: flow table
 * size per direction (0: NAT_MAX_FLOWS). On failure returns -errno with the reason in err
 * and leaves nothing attached. */
int dp_pkt_start(struct dp_pkt *p, uint32_t max_flows, char *err, size_t errlen);

/* Hands snap (services with their dests; its `release` frees it) to the packet thread, which
 * adopts it in its next pass. Takes ownership, also when p is not started (then freed). */
void dp_pkt_publish(struct dp_pkt *p, struct dp_snap *snap);

/* A copy of the counters (a synchronous call into the packet thread). */
void dp_pkt_stats(struct dp_pkt *p, struct dp_pkt_counters *out);

/* Calls cb with a row for every persistence template (want_persist) and every flow
 * (want_flows, TCP and UDP) of the packet plane, on the packet thread while the caller
 * waits. No-op when p is not started. */
struct dp_table_row;
void dp_pkt_dump(struct dp_pkt *p, bool want_persist, bool want_flows,
                 void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx);

/* Stops the thread, detaches the programs (the kernel drops the flows with the maps) and
 * frees everything. Safe on a zeroed or stopped p. */
void dp_pkt_stop(struct dp_pkt *p);

#endif
