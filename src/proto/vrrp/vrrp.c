/* VRRP protocol core: one virtual router (interface, VRID, family) as a pure state machine.
 *
 * Theory of operation
 * -------------------
 * The frame is RFC 5798/9568 section 6 (INIT, BACKUP, MASTER) with keepalived 2.2's additions
 * (FAULT, v2 authentication, unicast peers, GARP bursts, preempt_delay, nopreempt) and one
 * nospof addition (graceful stop). The adapter feeds inputs (start, tick, decoded advert,
 * priority change, fault, stop, sync-group orders) together with "now"; the core answers with a
 * bounded list of actions and exposes its earliest deadline. Nothing here reads a clock, does
 * I/O or allocates.
 *
 * Timers are absolute deadlines in the struct; a timer that is not armed holds MONO_NEVER.
 * BACKUP arms only t_master_down; MASTER arms t_advert, t_garp_second and t_garp_refresh, or
 * only t_handover while a graceful stop is in progress. set_state() disarms every timer of
 * the state being left, records the transition in the history ring and the counters, and
 * appends VRRP_ACT_STATE; every transition goes through it.
 *
 * Priorities: Skew_Time and Master_Down_Interval use the effective priority (255 for an
 * address owner, whose priority trackers cannot move). A v3 backup uses the interval carried
 * by the master's adverts (master_adver_int_cs); a v2 interval mismatch is a drop.
 *
 * Receive policy (keepalived's order, research/vrrp.md 1.3): VRID, TTL 255 for multicast
 * only, version, v2 auth type and password (constant time), v2 interval, destination kind
 * (unicast vs multicast), unicast source among the peers, and finally our own address looped
 * back. A dropped advert is counted in cnt.drops and changes nothing else.
 *
 * Backup: priority 0 sets the down timer to Skew_Time. An advert is accepted (timer reset) when
 * nopreempt is set, or its priority is >= ours, or preempt_delay is running; preempt_delay
 * starts when a lower-priority master is first heard and is cancelled by a better one
 * (keepalived: "delay before preempting compared to no delay"). Otherwise the lower priority
 * advert is ignored so the down timer fires and we preempt. The firing reason is PRIO_ZERO,
 * PREEMPT or MASTER_DOWN from what was heard last.
 *
 * Becoming master: STATE, SEND_ADVERT, ADD_VIPS, SEND_GARP(garp_repeat), in that order (the
 * old master must drop the VIPs before our GARPs), then the advert timer, a second GARP burst
 * after garp_delay_us and the optional refresh. Leaving master for BACKUP or FAULT: the
 * adverts owed (one with our priority for higher_prio_send_advert, or priority 0 on fault,
 * stop and sync-group backup), DEL_VIPS, then STATE.
 *
 * Master receive (RFC 5798 6.4.3, RFC 9568 6.4.3): priority 0 -> advert at once; a higher
 * priority, or equal priority from a higher address -> BACKUP; a lower one -> an advert at
 * once ("forcing new election") unless lower_prio_no_advert, GARP rounds if configured, and
 * LOWER_PRIO_SEEN. Two address owners (both 255) fall under the same equal-priority rule: the
 * owner with the lower address yields on hearing the other and stays BACKUP while it hears
 * it (keepalived instead lowers the rogue owner to 254; the outcome, one master, is the same).
 *
 * Graceful stop: a master announces priority 0 but keeps its VIPs until a short overlap
 * (VRRP_HANDOVER_OVERLAP_US) after the first advert with priority > 0 from another router (the
 * new master), or until t_handover, the worst-case takeover time (skew of priority 1 plus a
 * margin), then deletes them and stops. Without it,
 * a stopping master sends priority 0, deletes the VIPs and stops at once. */
#include "vrrp.h"

#include <stddef.h>
#include "../../base/addr.h"

#define US_PER_CS 10000

static bool is_owner(const struct vrrp *vr)
{
    return vr->cfg.priority == VRRP_PRIO_OWNER;
}

/* Trackers move the priority within 1..254 and never to or from 255 (research/vrrp.md 1.2). */
static uint8_t clamp_priority(const struct vrrp *vr, unsigned p)
{
    if (is_owner(vr))
        return VRRP_PRIO_OWNER;
    if (p < 1)
        return 1;
    return p > 254 ? 254 : (uint8_t)p;
}

static void push(struct vrrp_acts *out, struct vrrp_act a)
{
    if (out->n < VRRP_ACTS_MAX)
        out->a[out->n++] = a;
}

static void act_advert(struct vrrp *vr, struct vrrp_acts *out, uint8_t prio)
{
    push(out, (struct vrrp_act){.kind = VRRP_ACT_SEND_ADVERT, .priority = prio});
    vr->cnt.adverts_tx++;
    if (prio == VRRP_PRIO_STOP)
        vr->cnt.prio_zero_tx++;
}

static void act_simple(struct vrrp_acts *out, enum vrrp_act_kind kind)
{
    push(out, (struct vrrp_act){.kind = kind});
}

static void act_garp(struct vrrp *vr, struct vrrp_acts *out, unsigned count)
{
    if (count == 0)
        return;
    push(out, (struct vrrp_act){.kind = VRRP_ACT_SEND_GARP,
                                .count = (uint16_t)(count > UINT16_MAX ? UINT16_MAX : count)});
    vr->cnt.garp_rounds += count;
}

static void disarm_all(struct vrrp *vr)
{
    vr->t_advert = MONO_NEVER;
    vr->t_master_down = MONO_NEVER;
    vr->t_garp_second = MONO_NEVER;
    vr->t_garp_refresh = MONO_NEVER;
    vr->t_handover = MONO_NEVER;
}

/* The single transition point: disarms timers, records history and counters, reports. */
static void set_state(struct vrrp *vr, enum vrrp_state to, enum vrrp_reason why, mono_us now,
                      struct vrrp_acts *out)
{
    struct vrrp_transition *h = &vr->hist[vr->hist_n % VRRP_HISTORY];

    *h = (struct vrrp_transition){.at = now,
                                  .from = (uint8_t)vr->state,
                                  .to = (uint8_t)to,
                                  .reason = (uint8_t)why,
                                  .priority = vr->eff_priority};
    vr->hist_n++;
    push(out, (struct vrrp_act){.kind = VRRP_ACT_STATE,
                                .from = (uint8_t)vr->state,
                                .to = (uint8_t)to,
                                .reason = (uint8_t)why});
    vr->cnt.transitions++;
    if (to == VRRP_STATE_MASTER)
        vr->cnt.became_master++;
    vr->state = to;
    vr->entered_at = now;
    vr->stopping = false;
    disarm_all(vr);
}

mono_us vrrp_skew_us(uint8_t version, uint8_t priority, uint16_t adver_int_cs)
{
    mono_us weight = 256 - (mono_us)priority;

    if (version == 2)
        return weight * MONO_S(1) / 256;
    return weight * adver_int_cs * US_PER_CS / 256;
}

static mono_us interval_us(uint16_t cs)
{
    return (mono_us)cs * US_PER_CS;
}

static mono_us skew_of(const struct vrrp *vr)
{
    return vrrp_skew_us(vr->cfg.version, vr->eff_priority, vr->master_adver_int_cs);
}

mono_us vrrp_master_down_us(const struct vrrp *vr)
{
    unsigned n = vr->cfg.down_timer_adverts ? vr->cfg.down_timer_adverts : 3;

    return (mono_us)n * interval_us(vr->master_adver_int_cs) + skew_of(vr);
}

static void forget_master(struct vrrp *vr)
{
    vr->master_known = false;
    vr->master_addr = (struct ip_addr){0};
    vr->master_priority = 0;
    vr->lower_master_heard = false;
}

/* Enters MASTER: advertise at once, then every Advertisement_Interval; install the VIPs. */
static void enter_master(struct vrrp *vr, enum vrrp_reason why, mono_us now, struct vrrp_acts *out)
{
    set_state(vr, VRRP_STATE_MASTER, why, now, out);
    vr->master_adver_int_cs = vr->cfg.adver_int_cs;
    vr->master_known = true;
    vr->master_addr = vr->cfg.src;
    vr->master_priority = vr->eff_priority;
    vr->lower_master_heard = false;
    vr->t_preempt_until = MONO_NEVER;
    act_advert(vr, out, vr->eff_priority);
    act_simple(out, VRRP_ACT_ADD_VIPS);
    vr->t_advert = now + interval_us(vr->cfg.adver_int_cs);
    if (vr->cfg.garp_refresh_us > 0)
        vr->t_garp_refresh = now + vr->cfg.garp_refresh_us;
}

/* RFC 5798 6.4.1/6.4.2: a new master broadcasts gratuitous ARPs (NAs) for its addresses. */
static void become_master(struct vrrp *vr, enum vrrp_reason why, mono_us now, struct vrrp_acts *out)
{
    enter_master(vr, why, now, out);
    act_garp(vr, out, vr->cfg.garp_repeat);
    if (vr->cfg.garp_delay_us > 0)
        vr->t_garp_second = now + vr->cfg.garp_delay_us;
}

/* Enters BACKUP with a full Master_Down_Interval; the caller set master_adver_int_cs. */
static void enter_backup(struct vrrp *vr, enum vrrp_reason why, mono_us now, struct vrrp_acts *out)
{
    set_state(vr, VRRP_STATE_BACKUP, why, now, out);
    vr->t_master_down = now + vrrp_master_down_us(vr);
}

/* Leaves MASTER: the advert owed (prio < 0 means none), the VIPs, then the new state. */
static void leave_master(struct vrrp *vr, int prio, enum vrrp_state to, enum vrrp_reason why,
                         mono_us now, struct vrrp_acts *out)
{
    if (prio >= 0)
        act_advert(vr, out, (uint8_t)prio);
    act_simple(out, VRRP_ACT_DEL_VIPS);
    if (to == VRRP_STATE_BACKUP)
        enter_backup(vr, why, now, out);
    else
        set_state(vr, to, why, now, out);
}

void vrrp_init(struct vrrp *vr, const struct vrrp_cfg *cfg, mono_us now)
{
    *vr = (struct vrrp){.cfg = *cfg, .state = VRRP_STATE_INIT};
    vr->eff_priority = clamp_priority(vr, cfg->priority);
    vr->master_adver_int_cs = cfg->adver_int_cs;
    vr->started_at = now;
    vr->entered_at = now;
    vr->t_preempt_until = MONO_NEVER;
    forget_master(vr);
    disarm_all(vr);
}

/* ---- receive policy ------------------------------------------------------------------- */

/* Compares without an early exit so the time taken does not reveal the matching prefix. */
static bool auth_equal(const uint8_t *a, const uint8_t *b)
{
    uint8_t diff = 0;

    for (unsigned i = 0; i < VRRP_AUTH_LEN; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

static bool is_peer(const struct vrrp *vr, const struct ip_addr *src)
{
    for (unsigned i = 0; i < vr->cfg.npeers; i++)
        if (ip_addr_eq(&vr->cfg.peers[i], src))
            return true;
    return false;
}

/* v2 only (RFC 2338 5.3.6): auth type must match, and the password for simple-text auth. */
static bool auth_ok(const struct vrrp *vr, const struct vrrp_pkt *p)
{
    if (vr->cfg.version != 2)
        return true;
    if (p->auth_type != vr->cfg.auth_type)
        return false;
    return p->auth_type != VRRP_AUTH_PASS || auth_equal(p->auth_data, vr->cfg.auth_pass);
}

static enum vrrp_drop check_advert(const struct vrrp *vr, const struct vrrp_in *in)
{
    const struct vrrp_pkt *p = in->u.advert.pkt;

    if (p->vrid != vr->cfg.vrid)
        return VRRP_DROP_UNKNOWN_VRID;
    /* RFC 5798 7.1: TTL/hop limit 255; keepalived checks it for multicast only. */
    if (in->u.advert.to_multicast && in->u.advert.ttl != VRRP_TTL)
        return VRRP_DROP_BAD_TTL;
    if (p->version != vr->cfg.version)
        return VRRP_DROP_VERSION_MISMATCH;
    if (!auth_ok(vr, p))
        return VRRP_DROP_AUTH_MISMATCH;
    /* RFC 3768 7.1: a v2 interval that differs from ours is discarded (v3 adopts it). */
    if (vr->cfg.version == 2 && p->adver_int_cs != vr->cfg.adver_int_cs)
        return VRRP_DROP_INTERVAL_MISMATCH;
    if (in->u.advert.to_multicast == vr->cfg.unicast)
        return VRRP_DROP_BAD_DEST;
    if (vr->cfg.unicast && vr->cfg.check_unicast_src && !is_peer(vr, &in->u.advert.src))
        return VRRP_DROP_BAD_SOURCE;
    if (ip_addr_eq(&in->u.advert.src, &vr->cfg.src))
        return VRRP_DROP_OWN;
    return VRRP_DROP_NONE;
}

/* ---- adverts by state ------------------------------------------------------------------ */

static void note_master(struct vrrp *vr, const struct vrrp_in *in, bool lower)
{
    const struct vrrp_pkt *p = in->u.advert.pkt;

    vr->master_known = true;
    vr->master_addr = in->u.advert.src;
    vr->master_priority = p->priority;
    vr->lower_master_heard = lower;
}

/* keepalived's preempt_delay: runs from the first lower-priority master heard. */
static bool preempt_delay_running(struct vrrp *vr, mono_us now)
{
    if (vr->cfg.preempt_delay_us <= 0)
        return false;
    if (vr->t_preempt_until == MONO_NEVER)
        vr->t_preempt_until = now + vr->cfg.preempt_delay_us;
    return now < vr->t_preempt_until;
}

/* RFC 5798 6.4.2 with keepalived's nopreempt and preempt_delay. */
static void backup_rx(struct vrrp *vr, const struct vrrp_in *in, mono_us now)
{
    const struct vrrp_pkt *p = in->u.advert.pkt;

    if (p->priority == VRRP_PRIO_STOP) {
        /* RFC 5798 6.4.2: the master is leaving; take over after Skew_Time. */
        note_master(vr, in, false);
        vr->t_master_down = now + skew_of(vr);
        return;
    }
    if (p->priority >= vr->eff_priority)
        vr->t_preempt_until = MONO_NEVER;
    if (vr->cfg.nopreempt || p->priority >= vr->eff_priority || preempt_delay_running(vr, now)) {
        note_master(vr, in, false);
        if (vr->cfg.version == 3)
            vr->master_adver_int_cs = p->adver_int_cs;
        vr->t_master_down = now + vrrp_master_down_us(vr);
        return;
    }
    /* A lower priority master: ignore it so the down timer fires and we preempt. */
    note_master(vr, in, true);
}

/* RFC 5798 6.4.3: does the sender of p (from src) win against us? */
static bool sender_wins(const struct vrrp *vr, const struct vrrp_in *in)
{
    uint8_t prio = in->u.advert.pkt->priority;

    if (prio != vr->eff_priority)
        return prio > vr->eff_priority;
    return ip_addr_cmp(&in->u.advert.src, &vr->cfg.src) > 0;
}

static void master_rx(struct vrrp *vr, const struct vrrp_in *in, mono_us now, struct vrrp_acts *out)
{
    const struct vrrp_pkt *p = in->u.advert.pkt;

    if (vr->stopping) {
        /* Graceful stop: the first real advert is the new master. It adds the VIPs and sends
         * its GARPs right after that advert; keep answering for VRRP_HANDOVER_OVERLAP_US more
         * so that no client packet finds neither of us while its ARP cache moves over. */
        if (p->priority != VRRP_PRIO_STOP)
            vr->t_handover = mono_min(vr->t_handover, now + VRRP_HANDOVER_OVERLAP_US);
        return;
    }
    if (p->priority == VRRP_PRIO_STOP) {
        /* RFC 5798 6.4.3: another master is leaving; assert ourselves at once. */
        act_advert(vr, out, vr->eff_priority);
        return;
    }
    if (sender_wins(vr, in)) {
        note_master(vr, in, false);
        if (vr->cfg.version == 3)
            vr->master_adver_int_cs = p->adver_int_cs;
        leave_master(vr, vr->cfg.higher_prio_send_advert ? vr->eff_priority : -1, VRRP_STATE_BACKUP,
                     VRRP_WHY_HIGHER_PRIO, now, out);
        return;
    }
    /* RFC 9568 6.4.3 / keepalived "forcing new election": answer a lower priority. */
    if (!vr->cfg.lower_prio_no_advert)
        act_advert(vr, out, vr->eff_priority);
    act_garp(vr, out, vr->cfg.garp_lower_prio_repeat);
    act_simple(out, VRRP_ACT_LOWER_PRIO_SEEN);
}

static void on_advert(struct vrrp *vr, const struct vrrp_in *in, mono_us now, struct vrrp_acts *out)
{
    enum vrrp_drop why = check_advert(vr, in);

    if (why != VRRP_DROP_NONE) {
        vr->cnt.drops[why]++;
        return;
    }
    vr->cnt.adverts_rx++;
    if (in->u.advert.pkt->priority == VRRP_PRIO_STOP)
        vr->cnt.prio_zero_rx++;
    switch (vr->state) {
    case VRRP_STATE_BACKUP:
        backup_rx(vr, in, now);
        break;
    case VRRP_STATE_MASTER:
        master_rx(vr, in, now, out);
        break;
    case VRRP_STATE_INIT:
    case VRRP_STATE_FAULT:
    case VRRP_STATE_STOPPED:
    case VRRP_STATE__COUNT:
        break;
    }
}

/* ---- timers ------------------------------------------------------------------------------ */

static enum vrrp_reason down_reason(const struct vrrp *vr)
{
    if (vr->master_known && vr->master_priority == VRRP_PRIO_STOP)
        return VRRP_WHY_PRIO_ZERO;
    return vr->lower_master_heard ? VRRP_WHY_PREEMPT : VRRP_WHY_MASTER_DOWN;
}

static void master_tick(struct vrrp *vr, mono_us now, struct vrrp_acts *out)
{
    mono_us iv = interval_us(vr->cfg.adver_int_cs);

    if (vr->stopping) {
        if (now >= vr->t_handover)
            leave_master(vr, -1, VRRP_STATE_STOPPED, VRRP_WHY_HANDOVER_DONE, now, out);
        return;
    }
    if (now >= vr->t_advert) {
        act_advert(vr, out, vr->eff_priority);
        vr->t_advert += iv;
        if (vr->t_advert <= now)
            vr->t_advert = now + iv;
    }
    if (now >= vr->t_garp_second) {
        act_garp(vr, out, vr->cfg.garp_repeat);
        vr->t_garp_second = MONO_NEVER;
    }
    if (now >= vr->t_garp_refresh) {
        act_garp(vr, out, vr->cfg.garp_refresh_repeat);
        vr->t_garp_refresh = now + vr->cfg.garp_refresh_us;
    }
}

static void on_tick(struct vrrp *vr, mono_us now, struct vrrp_acts *out)
{
    switch (vr->state) {
    case VRRP_STATE_BACKUP:
        if (now >= vr->t_master_down)
            become_master(vr, down_reason(vr), now, out);
        break;
    case VRRP_STATE_MASTER:
        master_tick(vr, now, out);
        break;
    case VRRP_STATE_INIT:
    case VRRP_STATE_FAULT:
    case VRRP_STATE_STOPPED:
    case VRRP_STATE__COUNT:
        break;
    }
}

/* ---- other inputs ------------------------------------------------------------------------ */

/* Leaves INIT or FAULT: an owner configured "state MASTER" serves at once, others listen. */
static void come_up(struct vrrp *vr, enum vrrp_reason backup_why, mono_us now,
                    struct vrrp_acts *out)
{
    forget_master(vr);
    vr->master_adver_int_cs = vr->cfg.adver_int_cs;
    vr->t_preempt_until = MONO_NEVER;
    if (vr->cfg.init_master && is_owner(vr))
        become_master(vr,
                      backup_why == VRRP_WHY_START ? VRRP_WHY_OWNER_START : VRRP_WHY_FAULT_CLEARED,
                      now, out);
    else
        enter_backup(vr, backup_why, now, out);
}

static void on_fault(struct vrrp *vr, enum vrrp_reason why, mono_us now, struct vrrp_acts *out)
{
    switch (vr->state) {
    case VRRP_STATE_MASTER:
        leave_master(vr, vr->stopping ? -1 : VRRP_PRIO_STOP, VRRP_STATE_FAULT, why, now, out);
        break;
    case VRRP_STATE_INIT:
    case VRRP_STATE_BACKUP:
        set_state(vr, VRRP_STATE_FAULT, why, now, out);
        break;
    case VRRP_STATE_FAULT:
    case VRRP_STATE_STOPPED:
    case VRRP_STATE__COUNT:
        break;
    }
}

static void on_stop(struct vrrp *vr, mono_us now, struct vrrp_acts *out)
{
    mono_us iv = interval_us(vr->cfg.adver_int_cs);

    switch (vr->state) {
    case VRRP_STATE_MASTER:
        if (!vr->cfg.graceful_stop || vr->stopping) {
            leave_master(vr, vr->stopping ? -1 : VRRP_PRIO_STOP, VRRP_STATE_STOPPED, VRRP_WHY_STOP,
                         now, out);
            break;
        }
        /* RFC 5798 6.4.3 shutdown: priority 0, but keep serving until the handover. */
        act_advert(vr, out, VRRP_PRIO_STOP);
        disarm_all(vr);
        vr->stopping = true;
        vr->t_handover = now + vrrp_skew_us(vr->cfg.version, 1, vr->cfg.adver_int_cs) +
                         (vr->cfg.graceful_margin_us > 0 ? vr->cfg.graceful_margin_us : iv);
        break;
    case VRRP_STATE_INIT:
    case VRRP_STATE_BACKUP:
    case VRRP_STATE_FAULT:
        set_state(vr, VRRP_STATE_STOPPED, VRRP_WHY_STOP, now, out);
        break;
    case VRRP_STATE_STOPPED:
    case VRRP_STATE__COUNT:
        break;
    }
}

static void on_priority(struct vrrp *vr, uint8_t prio)
{
    /* The master's next advert carries it; a backup compares the next adverts with it. */
    vr->eff_priority = clamp_priority(vr, prio);
    if (vr->state == VRRP_STATE_MASTER)
        vr->master_priority = vr->eff_priority;
}

static void on_sync_master(struct vrrp *vr, enum vrrp_reason why, mono_us now,
                           struct vrrp_acts *out)
{
    if (vr->state == VRRP_STATE_BACKUP)
        become_master(vr, why, now, out);
}

static void on_sync_backup(struct vrrp *vr, enum vrrp_reason why, mono_us now,
                           struct vrrp_acts *out)
{
    /* Priority 0 lets this member's peer take over after Skew_Time, not a full interval. */
    if (vr->state == VRRP_STATE_MASTER && !vr->stopping) {
        forget_master(vr);
        vr->master_adver_int_cs = vr->cfg.adver_int_cs;
        leave_master(vr, VRRP_PRIO_STOP, VRRP_STATE_BACKUP, why, now, out);
    }
}

/* The reason an input asks to record; 0 (START, meaningless here) or junk means dflt. */
static enum vrrp_reason in_reason(const struct vrrp_in *in, enum vrrp_reason dflt)
{
    uint8_t r = in->u.reason;

    return r != VRRP_WHY_START && r < VRRP_WHY__COUNT ? (enum vrrp_reason)r : dflt;
}

void vrrp_step(struct vrrp *vr, const struct vrrp_in *in, mono_us now, struct vrrp_acts *out)
{
    switch (in->kind) {
    case VRRP_IN_START:
        if (vr->state == VRRP_STATE_INIT)
            come_up(vr, VRRP_WHY_START, now, out);
        break;
    case VRRP_IN_TICK:
        on_tick(vr, now, out);
        break;
    case VRRP_IN_ADVERT:
        on_advert(vr, in, now, out);
        break;
    case VRRP_IN_PRIORITY:
        on_priority(vr, in->u.priority);
        break;
    case VRRP_IN_FAULT:
        on_fault(vr, in_reason(in, VRRP_WHY_FAULT), now, out);
        break;
    case VRRP_IN_FAULT_CLEAR:
        if (vr->state == VRRP_STATE_FAULT)
            come_up(vr, VRRP_WHY_FAULT_CLEARED, now, out);
        break;
    case VRRP_IN_STOP:
        on_stop(vr, now, out);
        break;
    case VRRP_IN_SYNC_MASTER:
        on_sync_master(vr, in_reason(in, VRRP_WHY_SYNC_GROUP), now, out);
        break;
    case VRRP_IN_SYNC_BACKUP:
        on_sync_backup(vr, in_reason(in, VRRP_WHY_SYNC_GROUP), now, out);
        break;
    case VRRP_IN_RESUME:
        /* The previous process was master until a moment ago and the addresses never moved:
         * no GARP, just the next advert on time, so no peer sees a change. */
        if (vr->state == VRRP_STATE_INIT)
            enter_master(vr, VRRP_WHY_RESUMED, now, out);
        break;
    }
}

mono_us vrrp_deadline(const struct vrrp *vr)
{
    mono_us t = vr->t_master_down;

    t = mono_min(t, vr->t_advert);
    t = mono_min(t, vr->t_garp_second);
    t = mono_min(t, vr->t_garp_refresh);
    return mono_min(t, vr->t_handover);
}

void vrrp_reconfigure(struct vrrp *vr, const struct vrrp_cfg *cfg, mono_us now,
                      struct vrrp_acts *out)
{
    bool same_base = cfg->priority == vr->cfg.priority;

    /* Same base priority: keep what the trackers made of it; otherwise the adapter re-feeds
     * VRRP_IN_PRIORITY computed from the new base. */
    vr->cfg = *cfg;
    if (!same_base)
        vr->eff_priority = clamp_priority(vr, cfg->priority);
    switch (vr->state) {
    case VRRP_STATE_MASTER:
        if (vr->stopping)
            break;
        /* Keep the VIPs; the next advert (never later than before) carries the new values. */
        vr->master_adver_int_cs = cfg->adver_int_cs;
        vr->master_priority = vr->eff_priority;
        vr->t_advert = mono_min(vr->t_advert, now + interval_us(cfg->adver_int_cs));
        vr->t_garp_refresh = cfg->garp_refresh_us > 0 ? now + cfg->garp_refresh_us : MONO_NEVER;
        break;
    case VRRP_STATE_BACKUP:
        if (cfg->version == 2 || !vr->master_known)
            vr->master_adver_int_cs = cfg->adver_int_cs;
        vr->t_master_down = now + vrrp_master_down_us(vr);
        break;
    case VRRP_STATE_INIT:
    case VRRP_STATE_FAULT:
    case VRRP_STATE_STOPPED:
    case VRRP_STATE__COUNT:
        break;
    }
}

const char *vrrp_state_name(enum vrrp_state s)
{
    static const char *const names[VRRP_STATE__COUNT] = {
        [VRRP_STATE_INIT] = "INIT",       [VRRP_STATE_BACKUP] = "BACKUP",
        [VRRP_STATE_MASTER] = "MASTER",   [VRRP_STATE_FAULT] = "FAULT",
        [VRRP_STATE_STOPPED] = "STOPPED",
    };

    return (unsigned)s < VRRP_STATE__COUNT ? names[s] : "?";
}

const char *vrrp_reason_name(enum vrrp_reason r)
{
    static const char *const names[VRRP_WHY__COUNT] = {
        [VRRP_WHY_START] = "start",
        [VRRP_WHY_OWNER_START] = "owner_start",
        [VRRP_WHY_MASTER_DOWN] = "master_down",
        [VRRP_WHY_PREEMPT] = "preempt",
        [VRRP_WHY_PRIO_ZERO] = "prio_zero",
        [VRRP_WHY_HIGHER_PRIO] = "higher_prio",
        [VRRP_WHY_FAULT] = "fault",
        [VRRP_WHY_FAULT_CLEARED] = "fault_cleared",
        [VRRP_WHY_SYNC_GROUP] = "sync_group",
        [VRRP_WHY_STOP] = "stop",
        [VRRP_WHY_HANDOVER_DONE] = "handover_done",
        [VRRP_WHY_RESUMED] = "resumed",
    };

    return (unsigned)r < VRRP_WHY__COUNT ? names[r] : "?";
}
