/* The health-checker core (see hc.h for the theory of operation). Every change of health
 * goes through set_health(); every change of phase through set_state(). The guards quote
 * keepalived.conf(5), the reference for these semantics. */
#include "hc.h"

#include <string.h>

void hc_init(struct hc *h, const struct hc_cfg *cfg)
{
    memset(h, 0, sizeof(*h));
    h->cfg = *cfg;
    h->state = HC_STOPPED;
    h->next_us = MONO_NEVER;
}

bool hc_is_up(const struct hc *h)
{
    return h->up;
}

const char *hc_why_name(enum hc_why w)
{
    switch (w) {
    case HC_WHY_NONE:
        return "none";
    case HC_WHY_INITIAL:
        return "initial";
    case HC_WHY_PROBE_OK:
        return "probe_ok";
    case HC_WHY_RETRIES_SPENT:
        return "retries_spent";
    }
    return "?";
}

const char *hc_act_name(enum hc_act_kind k)
{
    switch (k) {
    case HC_ACT_START_PROBE:
        return "start_probe";
    case HC_ACT_CANCEL_PROBE:
        return "cancel_probe";
    case HC_ACT_UP:
        return "up";
    case HC_ACT_DOWN:
        return "down";
    }
    return "?";
}

static void emit(struct hc_acts *out, enum hc_act_kind kind, enum hc_why why)
{
    if (out->n < HC_ACTS_MAX)
        out->a[out->n++] = (struct hc_act){kind, why};
}

static void set_state(struct hc *h, enum hc_state s)
{
    h->state = s;
}

static void set_health(struct hc *h, bool up, enum hc_why why, struct hc_acts *out)
{
    h->last_old_up = h->up;
    h->last_why = why;
    h->up = up;
    emit(out, up ? HC_ACT_UP : HC_ACT_DOWN, why);
}

static void wait_until(struct hc *h, mono_us when)
{
    h->next_us = when;
    set_state(h, HC_WAITING);
}

/* A resumed start (the adapter carried h->up and h->has_run over from the checker this one
 * replaces, on a reload or a binary upgrade) keeps that verdict and emits no health action:
 * only a probe result may change it, so a kept real server never flaps. */
static void on_start(struct hc *h, uint64_t rnd, bool resume, mono_us now, struct hc_acts *out)
{
    mono_us warm = h->cfg.warmup_us > 0 ? (mono_us)(rnd % (uint64_t)(h->cfg.warmup_us + 1)) : 0;

    h->retries_used = 0;
    if (!resume) {
        h->has_run = false;
        /* alpha: "On daemon startup assume that all RSs are down and healthchecks failed" */
        set_health(h, !h->cfg.alpha, HC_WHY_INITIAL, out);
    }
    /* warmup: "random delay to start the initial check for maximum N seconds" */
    wait_until(h, now + warm);
}

/* retry: "Retry count to make additional checks if check of an alive server fails" -- so
 * retries are spent only by a checker that is UP or has not run yet. */
static bool retries_spent(const struct hc *h)
{
    return (h->up || !h->has_run) && h->retries_used >= h->cfg.retry;
}

static void on_failure(struct hc *h, mono_us now, struct hc_acts *out)
{
    h->failures++;
    if (retries_spent(h)) {
        h->retries_used = 0;
        if (h->up)
            set_health(h, false, HC_WHY_RETRIES_SPENT, out);
        /* delay_loop: "delay timer for checker polling" */
        wait_until(h, now + h->cfg.delay_loop_us);
    } else {
        if (h->retries_used < UINT32_MAX)
            h->retries_used++;
        /* delay_before_retry: "delay before retry after failure" */
        wait_until(h, now + h->cfg.delay_before_retry_us);
    }
}

static void on_result(struct hc *h, bool ok, mono_us now, struct hc_acts *out)
{
    h->probes++;
    if (ok) {
        h->retries_used = 0;
        h->has_run = true;
        if (!h->up)
            set_health(h, true, HC_WHY_PROBE_OK, out);
        wait_until(h, now + h->cfg.delay_loop_us);
        return;
    }
    on_failure(h, now, out);
    h->has_run = true;
}

static mono_us probe_deadline(const struct hc *h)
{
    return h->probe_start_us + h->cfg.connect_timeout_us + HC_PROBE_GRACE_US;
}

static void on_tick(struct hc *h, mono_us now, struct hc_acts *out)
{
    if (h->state == HC_WAITING && now >= h->next_us) {
        h->probe_start_us = now;
        h->next_us = MONO_NEVER;
        set_state(h, HC_PROBING);
        emit(out, HC_ACT_START_PROBE, HC_WHY_NONE);
    } else if (h->state == HC_PROBING && now >= probe_deadline(h)) {
        emit(out, HC_ACT_CANCEL_PROBE, HC_WHY_NONE);
        on_result(h, false, now, out);
    }
}

void hc_step(struct hc *h, const struct hc_in *in, mono_us now, struct hc_acts *out)
{
    out->n = 0;
    switch (in->ev) {
    case HC_EV_START:
        if (h->state == HC_STOPPED)
            on_start(h, in->rnd, in->resume, now, out);
        break;
    case HC_EV_STOP:
        if (h->state == HC_PROBING)
            emit(out, HC_ACT_CANCEL_PROBE, HC_WHY_NONE);
        h->next_us = MONO_NEVER;
        set_state(h, HC_STOPPED);
        break;
    case HC_EV_RESULT:
        if (h->state == HC_PROBING) /* a late result after a cancel is ignored */
            on_result(h, in->ok, now, out);
        break;
    case HC_EV_TICK:
        on_tick(h, now, out);
        break;
    }
}

mono_us hc_deadline(const struct hc *h)
{
    switch (h->state) {
    case HC_STOPPED:
        return MONO_NEVER;
    case HC_WAITING:
        return h->next_us;
    case HC_PROBING:
        return probe_deadline(h);
    }
    return MONO_NEVER;
}
