/* Outage accounting for vipprobe: pure bookkeeping of echo requests sent and replies seen.
 *
 * The prober feeds it "sent seq at t" and "reply for seq at t" (monotonic microseconds) and
 * reads back what a client saw: sent, received, lost, duplicates, round-trip times, the longest
 * gap between consecutive replies, and the outages (gaps longer than a threshold). The first
 * send and the last send act as virtual replies, so silence at the start or at the end of a
 * run counts as a gap too. Sequence numbers are 16 bit on the wire; the tracker remembers the
 * last PROBE_WINDOW sends and ignores replies older than that. No allocation, no clock, no I/O.
 */
#ifndef NOSPOF_TOOLS_PROBESTAT_H
#define NOSPOF_TOOLS_PROBESTAT_H

#include <stdbool.h>
#include <stdint.h>

#define PROBE_WINDOW      4096 /* sends remembered for matching replies */
#define PROBE_MAX_OUTAGES 64   /* outages recorded; later ones are only counted */

struct probe_outage {
    int64_t start_us; /* last reply (or first send) before the silence */
    int64_t end_us;   /* first reply after it (or the last send if still silent) */
    bool open;        /* no reply came back before the run ended */
};

struct probe_slot {
    int64_t sent_us;
    uint32_t seq; /* full 32-bit count, so a wrapped 16-bit number is not confused */
    bool used;
    bool answered;
};

struct probe_stats {
    int64_t outage_threshold_us; /* a gap strictly longer than this is an outage */
    uint32_t next_seq;           /* sends so far; the next send uses this number */
    uint32_t received;
    uint32_t duplicates;
    int64_t first_send_us;
    int64_t last_send_us;
    int64_t last_reply_us; /* time of the previous reply, or first send before any */
    int64_t max_gap_us;
    int64_t rtt_min_us, rtt_max_us, rtt_sum_us;
    uint32_t n_outages; /* all outages, possibly more than recorded */
    struct probe_outage outages[PROBE_MAX_OUTAGES];
    struct probe_slot slots[PROBE_WINDOW];
};

/* Resets *st for a new run; gaps longer than outage_threshold_us are outages. */
void probe_stats_init(struct probe_stats *st, int64_t outage_threshold_us);

/* Records a send at now_us and returns the full sequence number used (its low 16 bits go on
 * the wire). */
uint32_t probe_stats_sent(struct probe_stats *st, int64_t now_us);

/* Records a reply carrying the 16-bit wire sequence seq16 at now_us. Returns true when it
 * matched an outstanding request (first answer), false for a duplicate or unknown number. */
bool probe_stats_reply(struct probe_stats *st, uint16_t seq16, int64_t now_us);

/* Closes the run: a silence from the last reply to the last send counts as a gap, and as an
 * open outage when it exceeds the threshold. Call once, after the final drain. */
void probe_stats_finish(struct probe_stats *st);

/* Requests that never got an answer. */
uint32_t probe_stats_lost(const struct probe_stats *st);

#endif
