/* Outage accounting for vipprobe (see probestat.h). Pure: libc only, no clock, no I/O. */
#include "probestat.h"

#include <string.h>

void probe_stats_init(struct probe_stats *st, int64_t outage_threshold_us)
{
    memset(st, 0, sizeof(*st));
    st->outage_threshold_us = outage_threshold_us;
    st->rtt_min_us = INT64_MAX;
}

uint32_t probe_stats_sent(struct probe_stats *st, int64_t now_us)
{
    uint32_t seq = st->next_seq++;
    struct probe_slot *s = &st->slots[seq % PROBE_WINDOW];

    if (seq == 0) {
        st->first_send_us = now_us;
        st->last_reply_us = now_us;
    }
    st->last_send_us = now_us;
    *s = (struct probe_slot){.sent_us = now_us, .seq = seq, .used = true};
    return seq;
}

/* Maps a 16-bit wire number to the most recent full number with those low bits, or returns
 * false when that send has left the window (or never happened). */
static bool find_slot(struct probe_stats *st, uint16_t seq16, struct probe_slot **out)
{
    uint32_t newest = st->next_seq - 1;
    uint32_t back = (uint16_t)((uint16_t)newest - seq16);
    struct probe_slot *s;

    if (st->next_seq == 0 || back >= PROBE_WINDOW || back > newest)
        return false;
    s = &st->slots[(newest - back) % PROBE_WINDOW];
    if (!s->used || s->seq != newest - back)
        return false;
    *out = s;
    return true;
}

static void note_gap(struct probe_stats *st, int64_t from_us, int64_t to_us, bool open)
{
    int64_t gap = to_us - from_us;

    if (gap > st->max_gap_us)
        st->max_gap_us = gap;
    if (gap <= st->outage_threshold_us)
        return;
    if (st->n_outages < PROBE_MAX_OUTAGES)
        st->outages[st->n_outages] =
            (struct probe_outage){.start_us = from_us, .end_us = to_us, .open = open};
    st->n_outages++;
}

static void note_rtt(struct probe_stats *st, int64_t rtt_us)
{
    if (rtt_us < st->rtt_min_us)
        st->rtt_min_us = rtt_us;
    if (rtt_us > st->rtt_max_us)
        st->rtt_max_us = rtt_us;
    st->rtt_sum_us += rtt_us;
}

bool probe_stats_reply(struct probe_stats *st, uint16_t seq16, int64_t now_us)
{
    struct probe_slot *s;

    if (!find_slot(st, seq16, &s))
        return false;
    if (s->answered) {
        st->duplicates++;
        return false;
    }
    s->answered = true;
    st->received++;
    note_rtt(st, now_us - s->sent_us);
    if (now_us > st->last_reply_us) {
        note_gap(st, st->last_reply_us, now_us, false);
        st->last_reply_us = now_us;
    }
    return true;
}

void probe_stats_finish(struct probe_stats *st)
{
    if (st->next_seq == 0)
        return;
    if (st->last_send_us > st->last_reply_us)
        note_gap(st, st->last_reply_us, st->last_send_us, true);
}

uint32_t probe_stats_lost(const struct probe_stats *st)
{
    return st->next_seq - st->received;
}
