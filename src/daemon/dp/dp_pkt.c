/* The packet data plane's user-space half: upcalls, flow sweep, snapshots (see dp_pkt.h). */
#include "daemon/dp/dp_pkt.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/dp/dp.h"
#include "daemon/dp/dp_priv.h"
#include "io/clock.h"
#include "io/log.h"
#include "proto/lb/nat_pkt.h"

#define SWEEP_US           MONO_S(1)
#define TCP_IDLE_US        MONO_S(900) /* default idle timeout of an open connection */
#define UDP_IDLE_US        MONO_S(30)
#define TCP_HALF_CLOSED_US MONO_S(120)
#define TCP_CLOSED_US      MONO_S(10)
#define TCP_CONNECT_US     MONO_S(5) /* no reply from the real server yet */

/* One service of the snapshot and its scheduler. */
struct dp_pkt_svc {
    const struct dp_svc *svc;
    struct dp_sel sel;
};

/* Per-dest tallies of one sweep. */
struct sweep_tally {
    int64_t active[NAT_MAX_DESTS];
    int64_t inactive[NAT_MAX_DESTS];
    bool alive[NAT_MAX_DESTS]; /* in the current snapshot */
};

/* CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns, which stamps the flows. */
static uint64_t now_ns(void)
{
    return (uint64_t)io_clock_now() * 1000;
}

static void key_addr(__u32 *w, const struct ip_addr *a)
{
    memset(w, 0, 16);
    memcpy(w, a->b, a->family == IP_V4 ? 4 : 16);
}

static void addr_of(struct ip_addr *a, const __u32 *w, uint8_t family)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->b, w, family == IP_V4 ? 4 : 16);
}

static struct nat_svc_key svc_key(const struct dp_svc *s)
{
    struct nat_svc_key k = {.port = htons(s->port), .family = s->addr.family, .proto = s->proto};

    key_addr(k.addr, &s->addr);
    return k;
}

static struct dp_pkt_svc *find_svc(struct dp_pkt *p, const struct ip_addr *a, uint16_t port,
                                   uint8_t proto)
{
    for (size_t i = 0; p->snap && i < p->snap->nsvc; i++) {
        const struct dp_svc *s = &p->snap->svc[i];
        if (s->proto == proto && s->port == port && ip_addr_eq(&s->addr, a))
            return &p->svcs[i];
    }
    return NULL;
}

/* ---- the slow path: one new flow ---- */

static void reinject(struct dp_pkt *p, const uint8_t *buf, const struct nat_pkt *np)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int af = dp_sockaddr(&np->dst, 0, &ss, &len);
    int fd = af == AF_INET ? p->raw4 : p->raw6;

    if (af < 0 || fd < 0 || sendto(fd, buf, np->len, 0, (struct sockaddr *)&ss, len) < 0)
        p->ctr.reinject_errors++;
}

static struct nat_key rev_key(const struct nat_key *k, const struct nat_flow *f)
{
    struct nat_key rk = {
        .sport = f->port, .dport = k->sport, .family = k->family, .proto = k->proto};

    memcpy(rk.saddr, f->addr, 16);
    memcpy(rk.daddr, k->saddr, 16);
    return rk;
}

/* The dest of a flow the kernel already has for this 4-tuple (a SYN sent up twice before the
 * first was handled), if it is still open (no FIN or RST either way: a real server's refusal
 * is on the reverse entry) and its dest still in the service. */
static const struct dp_dest *existing_dest(struct dp_pkt *p, const struct dp_svc *svc,
                                           const struct nat_key *k)
{
    struct nat_flow f, r;

    if (bpf_map_lookup_elem(p->bpf.fwd, k, &f) < 0 || (f.flags & (NAT_F_FIN | NAT_F_RST)))
        return NULL;
    struct nat_key rk = rev_key(k, &f);
    if (bpf_map_lookup_elem(p->bpf.rev, &rk, &r) == 0 && (r.flags & (NAT_F_FIN | NAT_F_RST)))
        return NULL;
    const struct dp_dest *d = dp_find_dest(svc, f.dest);
    return d && d->weight > 0 ? d : NULL;
}

/* A closed connection on the same 4-tuple went to another real server: its reverse entry is
 * dropped, the sweep would not find it once the forward entry is replaced. Only when it still
 * maps back to this service (rev), so it is that connection's. */
static void drop_old_reverse(struct dp_pkt *p, const struct nat_key *fk, const struct nat_flow *rev)
{
    struct nat_flow old, r;

    if (bpf_map_lookup_elem(p->bpf.fwd, fk, &old) < 0)
        return;
    struct nat_key ork = rev_key(fk, &old);
    if (bpf_map_lookup_elem(p->bpf.rev, &ork, &r) == 0 && r.port == rev->port &&
        memcmp(r.addr, rev->addr, sizeof(r.addr)) == 0)
        bpf_map_delete_elem(p->bpf.rev, &ork);
}

/* Both directions of the flow of np to d, in the kernel's maps. 0 or -errno. */
static int write_flow(struct dp_pkt *p, const struct nat_key *fk, const struct nat_pkt *np,
                      const struct dp_dest *d)
{
    uint64_t t = now_ns();
    struct nat_flow fwd = {.port = htons(d->port), .dest = d->id, .last_ns = t};
    struct nat_flow rev = {.port = htons(np->dport), .dest = d->id, .last_ns = t};
    struct nat_key rk = {.sport = htons(d->port),
                         .dport = htons(np->sport),
                         .family = np->src.family,
                         .proto = np->proto};

    key_addr(fwd.addr, &d->addr);
    key_addr(rev.addr, &np->dst);
    key_addr(rk.saddr, &d->addr);
    key_addr(rk.daddr, &np->src);
    drop_old_reverse(p, fk, &rev);
    /* the reply path first: the real server may answer before this function returns */
    if (bpf_map_update_elem(p->bpf.rev, &rk, &rev, BPF_ANY) < 0 ||
        bpf_map_update_elem(p->bpf.fwd, fk, &fwd, BPF_ANY) < 0)
        return -errno;
    return 0;
}

static void count_new(const struct dp_dest *d, uint8_t proto)
{
    atomic_fetch_add_explicit(&d->stats->conns_total, 1, memory_order_relaxed);
    if (proto == IPPROTO_TCP)
        atomic_fetch_add_explicit(&d->stats->active, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&d->stats->inactive, 1, memory_order_relaxed);
}

static void schedule(struct dp_pkt *p, uint8_t *buf, struct nat_pkt *np)
{
    struct dp_pkt_svc *ps = find_svc(p, &np->dst, np->dport, np->proto);

    if (!ps) { /* the service left before its upcall was read */
        p->ctr.bad_upcalls++;
        return;
    }
    struct nat_key fk = {.sport = htons(np->sport),
                         .dport = htons(np->dport),
                         .family = np->src.family,
                         .proto = np->proto};
    key_addr(fk.saddr, &np->src);
    key_addr(fk.daddr, &np->dst);
    const struct dp_dest *d = existing_dest(p, ps->svc, &fk);
    bool fresh = !d;
    if (!d)
        d = dp_svc_pick(ps->svc, &ps->sel, &np->src, np->sport, NULL, 0, io_clock_now());
    if (!d || d->addr.family != np->dst.family) {
        p->ctr.no_dest++;
        /* as it came, for the local stack to refuse (RST or port unreachable); its checksums
         * recomputed all the same: a local sender's (a veth peer's) are only partial, and a
         * bad one would be dropped silently, leaving the client to time out */
        nat_pkt_set_dst(buf, np, &np->dst, np->dport);
        reinject(p, buf, np);
        return;
    }
    if (fresh) {
        if (write_flow(p, &fk, np, d) < 0) {
            p->ctr.reinject_errors++;
            return;
        }
        count_new(d, np->proto);
        p->ctr.scheduled++;
    }
    nat_pkt_set_dst(buf, np, &d->addr, d->port);
    reinject(p, buf, np);
}

/* libbpf ring buffer callback: one upcall record. */
static int on_upcall(void *ctx, void *data, size_t size)
{
    struct dp_pkt *p = ctx;
    const struct nat_upcall *u = data;
    uint8_t buf[NAT_UPCALL_MAX];
    struct nat_pkt np;

    if (size < sizeof(*u) || u->len > sizeof(buf)) {
        p->ctr.bad_upcalls++;
        return 0;
    }
    memcpy(buf, u->pkt, u->len);
    if (nat_pkt_parse(buf, u->len, &np) < 0) {
        p->ctr.bad_upcalls++;
        return 0;
    }
    schedule(p, buf, &np);
    return 0;
}

static void on_ring(struct io_loop *loop, struct io_watch *w, uint32_t events)
{
    struct dp_pkt *p = w->ctx;

    (void)loop;
    (void)events;
    ring_buffer__consume(p->rb);
}

/* ---- the sweep ---- */

static mono_us idle_of(const struct dp_svc *svc, uint8_t proto)
{
    if (svc && svc->idle_timeout_us)
        return svc->idle_timeout_us;
    return proto == IPPROTO_TCP ? TCP_IDLE_US : UDP_IDLE_US;
}

/* How long a flow may stay idle in its state, or 0 to end it now; counts it into t. */
static mono_us flow_limit(struct dp_pkt *p, const struct nat_key *k, const struct nat_flow *f,
                          const struct nat_flow *r, struct sweep_tally *t)
{
    struct ip_addr vip;
    uint32_t flags = f->flags | (r ? r->flags : 0);
    bool alive = f->dest < NAT_MAX_DESTS && t->alive[f->dest];
    bool replied = r && (r->flags & NAT_F_SEEN);

    addr_of(&vip, k->daddr, k->family);
    struct dp_pkt_svc *ps = find_svc(p, &vip, ntohs(k->dport), k->proto);
    if (!alive && (k->proto == IPPROTO_UDP || !replied))
        return 0; /* UDP to a removed dest, or a connect to one: reschedule the next packet */
    int64_t *slot = NULL;
    mono_us limit;
    if (k->proto == IPPROTO_UDP) {
        limit = idle_of(ps ? ps->svc : NULL, k->proto);
        slot = t->inactive;
    } else if (flags & NAT_F_RST || (f->flags & NAT_F_FIN && r && r->flags & NAT_F_FIN)) {
        limit = TCP_CLOSED_US;
        slot = t->inactive;
    } else if (flags & NAT_F_FIN) {
        limit = TCP_HALF_CLOSED_US;
        slot = t->inactive;
    } else {
        limit = replied ? idle_of(ps ? ps->svc : NULL, k->proto) : TCP_CONNECT_US;
        slot = t->active;
    }
    if (f->dest < NAT_MAX_DESTS)
        slot[f->dest]++;
    return limit;
}

/* One flow as the sweep and the dump see it: both directions' entries (the reverse one may be
 * gone), when its last packet went either way, and how long its state lets it stay idle. */
struct flow_view {
    struct nat_key k, rk;
    struct nat_flow f, r;
    bool has_r;
    uint64_t last_ns;
    mono_us limit; /* flow_limit: 0 = end it now */
};

/* Calls fn with every flow of the forward map, tallying each into t (flow_limit); returns
 * how many there were. fn must not delete entries (the walk follows the keys). */
static size_t each_flow(struct dp_pkt *p, struct sweep_tally *t,
                        void (*fn)(struct dp_pkt *, const struct flow_view *, void *), void *ctx)
{
    struct nat_key next, *prev = NULL;
    struct flow_view v;
    size_t n = 0;

    while (bpf_map_get_next_key(p->bpf.fwd, prev, &next) == 0) {
        v.k = next;
        prev = &v.k;
        if (bpf_map_lookup_elem(p->bpf.fwd, &v.k, &v.f) < 0)
            continue;
        n++;
        v.rk = rev_key(&v.k, &v.f);
        v.has_r = bpf_map_lookup_elem(p->bpf.rev, &v.rk, &v.r) == 0;
        v.last_ns = v.has_r && v.r.last_ns > v.f.last_ns ? v.r.last_ns : v.f.last_ns;
        v.limit = flow_limit(p, &v.k, &v.f, v.has_r ? &v.r : NULL, t);
        fn(p, &v, ctx);
    }
    return n;
}

/* The flows the sweep ends: both keys of each. */
struct dead_flows {
    struct nat_key *keys; /* forward and reverse key of each flow, in pairs */
    size_t n, cap;
    uint64_t now_ns;
};

static void collect_dead(struct dp_pkt *p, const struct flow_view *v, void *ctx)
{
    struct dead_flows *d = ctx;

    (void)p;
    if (v->limit && d->now_ns - v->last_ns < (uint64_t)v->limit * 1000)
        return;
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->keys = realloc(d->keys, d->cap * 2 * sizeof(*d->keys));
        if (!d->keys)
            abort();
    }
    d->keys[2 * d->n] = v->k;
    d->keys[2 * d->n + 1] = v->rk;
    d->n++;
}

/* Every dest of the snapshot, for fn. */
static void each_dest(struct dp_pkt *p, void (*fn)(struct dp_pkt *, const struct dp_dest *, void *),
                      void *ctx)
{
    for (size_t i = 0; p->snap && i < p->snap->nsvc; i++) {
        const struct dp_svc *s = &p->snap->svc[i];
        for (size_t j = 0; j < s->ndests; j++)
            fn(p, &s->dests[j], ctx);
        if (s->has_sorry)
            fn(p, &s->sorry, ctx);
    }
}

static void mark_alive(struct dp_pkt *p, const struct dp_dest *d, void *ctx)
{
    struct sweep_tally *t = ctx;

    (void)p;
    if (d->id < NAT_MAX_DESTS) /* weight 0 too: a quiesced dest keeps its flows (drain) */
        t->alive[d->id] = true;
}

/* The tallies and the kernel's byte counts into the dest's shared statistics. */
static void fold_dest(struct dp_pkt *p, const struct dp_dest *d, void *ctx)
{
    struct sweep_tally *t = ctx;
    struct nat_dest_ctr c;

    if (d->id >= NAT_MAX_DESTS)
        return;
    atomic_store_explicit(&d->stats->active, t->active[d->id], memory_order_relaxed);
    atomic_store_explicit(&d->stats->inactive, t->inactive[d->id], memory_order_relaxed);
    if (nat_bpf_dest_counters(&p->bpf, d->id, &c) < 0)
        return;
    struct nat_dest_ctr *seen = &p->folded[d->id];
    atomic_fetch_add_explicit(&d->stats->bytes_in, c.bytes_in - seen->bytes_in,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&d->stats->bytes_out, c.bytes_out - seen->bytes_out,
                              memory_order_relaxed);
    *seen = c;
}

static void sweep_now(struct dp_pkt *p)
{
    struct sweep_tally *t = calloc(1, sizeof(*t));
    struct dead_flows dead = {.now_ns = now_ns()};

    if (!t)
        abort();
    each_dest(p, mark_alive, t);
    size_t n = each_flow(p, t, collect_dead, &dead);
    for (size_t i = 0; i < dead.n; i++) {
        bpf_map_delete_elem(p->bpf.fwd, &dead.keys[2 * i]);
        bpf_map_delete_elem(p->bpf.rev, &dead.keys[2 * i + 1]);
    }
    p->ctr.flows_expired += dead.n;
    p->ctr.flows = n - dead.n;
    each_dest(p, fold_dest, t);
    free(dead.keys);
    free(t);
}

static void on_sweep(struct io_loop *loop, struct io_timer *tm)
{
    struct dp_pkt *p = tm->ctx;
    int rc = nat_bpf_attach_all(&p->bpf);

    if (rc < 0 && rc != p->attach_err) /* said once, not at every retry */
        log_warn("packet data plane: attaching to an interface: %s", strerror(-rc));
    p->attach_err = rc < 0 ? rc : 0;
    sweep_now(p);
    io_timer_arm(loop, tm, io_loop_now(loop) + SWEEP_US);
}

/* ---- snapshots ---- */

static void svcs_free(struct dp_pkt_svc *svcs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dp_sel_free(&svcs[i].sel);
    free(svcs);
}

/* Services of the old snapshot missing from snap leave the kernel's service map. */
static void drop_gone(struct dp_pkt *p, const struct dp_snap *snap)
{
    for (size_t i = 0; p->snap && i < p->snap->nsvc; i++) {
        const struct dp_svc *o = &p->snap->svc[i];
        bool kept = false;
        for (size_t j = 0; j < snap->nsvc && !kept; j++)
            kept = snap->svc[j].proto == o->proto && snap->svc[j].port == o->port &&
                   ip_addr_eq(&snap->svc[j].addr, &o->addr);
        struct nat_svc_key k = svc_key(o);
        if (!kept)
            bpf_map_delete_elem(p->bpf.svcs, &k);
    }
}

/* 1 when the sysctl file says forwarding is on, 0 off, -1 unreadable. */
static int sysctl_on(const char *path)
{
    char c = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    ssize_t n = read(fd, &c, 1);
    close(fd);
    return n == 1 ? c != '0' : -1;
}

static bool is_local(const struct ifaddrs *ifs, const struct ip_addr *a)
{
    if (a->family == IP_V4 && a->b[0] == 127)
        return true;
    for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        struct ip_addr b;
        uint16_t port;
        if (!i->ifa_addr ||
            (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
            continue;
        dp_ipaddr((const struct sockaddr_storage *)(const void *)i->ifa_addr, &b, &port);
        if (ip_addr_eq(&b, a))
            return true;
    }
    return false;
}

/* A real server on another host is reached by forwarding the rewritten packet: say so when
 * the kernel would not forward it (once per snapshot). */
static void check_forwarding(const struct dp_snap *snap)
{
    struct ifaddrs *ifs = NULL;
    char buf[IP_ADDR_STRLEN];

    if (getifaddrs(&ifs) < 0)
        return;
    for (size_t i = 0; i < snap->nsvc; i++)
        for (size_t j = 0; j < snap->svc[i].ndests; j++) {
            const struct ip_addr *a = &snap->svc[i].dests[j].addr;
            int on = sysctl_on(a->family == IP_V4 ? "/proc/sys/net/ipv4/ip_forward"
                                                  : "/proc/sys/net/ipv6/conf/all/forwarding");
            if (on != 0 || is_local(ifs, a))
                continue;
            log_warn("packet data plane: real server %s is not local and %s forwarding is off: "
                     "set %s=1 or its connections will not reach it",
                     ip_addr_format(a, buf, sizeof(buf)), a->family == IP_V4 ? "IPv4" : "IPv6",
                     a->family == IP_V4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding");
            freeifaddrs(ifs);
            return;
        }
    freeifaddrs(ifs);
}

static void adopt(struct dp_pkt *p, struct dp_snap *snap)
{
    struct dp_pkt_svc *svcs = calloc(snap->nsvc ? snap->nsvc : 1, sizeof(*svcs));

    if (!svcs)
        abort();
    drop_gone(p, snap);
    check_forwarding(snap);
    for (size_t i = 0; i < snap->nsvc; i++) {
        const struct dp_svc *s = &snap->svc[i];
        struct dp_pkt_svc *old = find_svc(p, &s->addr, s->port, s->proto);
        if (old) { /* keep the scheduler's cursor and the persistence templates */
            svcs[i].sel = old->sel;
            memset(&old->sel, 0, sizeof(old->sel));
        }
        svcs[i].svc = s;
        struct dp_sel_opts o = dp_sel_opts_of(s, s->sched_kind);
        dp_sel_sync(&svcs[i].sel, &o, s->dests, s->ndests);
        struct nat_svc_key k = svc_key(s);
        struct nat_svc v = {.id = (uint32_t)i};
        if (bpf_map_update_elem(p->bpf.svcs, &k, &v, BPF_ANY) < 0)
            log_err("packet data plane: adding a service: %s", strerror(errno));
    }
    if (p->snap)
        svcs_free(p->svcs, p->snap->nsvc);
    dp_snap_release(p->snap);
    p->snap = snap;
    p->svcs = svcs;
    sweep_now(p); /* UDP flows to removed dests end now */
}

struct publish_arg {
    struct dp_pkt *p;
    struct dp_snap *snap;
};

static void publish_on_thread(void *ctx)
{
    struct publish_arg *a = ctx;

    adopt(a->p, a->snap);
    free(a);
}

void dp_pkt_publish(struct dp_pkt *p, struct dp_snap *snap)
{
    struct publish_arg *a = malloc(sizeof(*a));

    if (!a)
        abort();
    *a = (struct publish_arg){.p = p, .snap = snap};
    if (!p->started || io_loop_post(&p->loop, publish_on_thread, a) < 0) {
        dp_snap_release(snap);
        free(a);
    }
}

/* ---- tables for nospofctl ---- */

struct dump_arg {
    struct dp_pkt *p;
    bool persist, flows;
    void (*cb)(void *ctx, const struct dp_table_row *row);
    void *ctx;
};

static void dump_flow(struct dp_pkt *p, const struct flow_view *v, void *ctx)
{
    const struct dump_arg *a = ctx;
    uint64_t now = now_ns();
    mono_us idle = now > v->last_ns ? (mono_us)((now - v->last_ns) / 1000) : 0;
    struct dp_table_row row = {.flow = true,
                               .packet = true,
                               .proto = v->k.proto,
                               .vport = ntohs(v->k.dport),
                               .client_port = ntohs(v->k.sport),
                               .dest_id = v->f.dest,
                               .expires_in_us = v->limit > idle ? v->limit - idle : 0};

    (void)p;
    addr_of(&row.vip, v->k.daddr, v->k.family);
    addr_of(&row.client, v->k.saddr, v->k.family);
    a->cb(a->ctx, &row);
}

static void dump_on_thread(void *ctx)
{
    struct dump_arg *a = ctx;
    struct dp_pkt *p = a->p;

    for (size_t i = 0; a->persist && p->snap && i < p->snap->nsvc; i++) {
        const struct dp_svc *s = &p->snap->svc[i];
        struct dp_table_row row = {
            .packet = true, .proto = s->proto, .vip = s->addr, .vport = s->port};
        dp_sel_dump(&p->svcs[i].sel, io_clock_now(), &row, a->cb, a->ctx);
    }
    if (!a->flows)
        return;
    struct sweep_tally *t = calloc(1, sizeof(*t)); /* scratch: flow_limit counts into it */
    if (!t)
        abort();
    each_dest(p, mark_alive, t);
    each_flow(p, t, dump_flow, a);
    free(t);
}

void dp_pkt_dump(struct dp_pkt *p, bool want_persist, bool want_flows,
                 void (*cb)(void *ctx, const struct dp_table_row *row), void *ctx)
{
    struct dump_arg a = {p, want_persist, want_flows, cb, ctx};

    if (p->started)
        io_loop_call(&p->loop, dump_on_thread, &a);
}

/* ---- statistics, thread, start, stop ---- */

struct stats_arg {
    struct dp_pkt *p;
    struct dp_pkt_counters *out;
};

static void stats_on_thread(void *ctx)
{
    struct stats_arg *a = ctx;
    const struct nat_bpf *b = &a->p->bpf;

    *a->out = a->p->ctr;
    a->out->upcalls = nat_bpf_counter(b, NAT_CTR_UPCALLS);
    a->out->upcall_drops = nat_bpf_counter(b, NAT_CTR_UPCALL_DROPS);
    a->out->too_big = nat_bpf_counter(b, NAT_CTR_TOO_BIG);
    a->out->no_flow = nat_bpf_counter(b, NAT_CTR_NO_FLOW);
    a->out->fwd_packets = nat_bpf_counter(b, NAT_CTR_FWD);
    a->out->rev_packets = nat_bpf_counter(b, NAT_CTR_REV);
    a->out->fragments = nat_bpf_counter(b, NAT_CTR_FRAGMENTS);
    a->out->interfaces = b->nlinks;
}

void dp_pkt_stats(struct dp_pkt *p, struct dp_pkt_counters *out)
{
    struct stats_arg a = {.p = p, .out = out};

    memset(out, 0, sizeof(*out));
    if (p->started)
        io_loop_call(&p->loop, stats_on_thread, &a);
}

static void *pkt_main(void *arg)
{
    struct dp_pkt *p = arg;

    io_loop_run(&p->loop);
    io_loop_close_posts(&p->loop);
    return NULL;
}

static int raw_socket(int af)
{
    int fd = socket(af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    unsigned mark = NAT_MARK_PASS;

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int start_io(struct dp_pkt *p, char *err, size_t errlen)
{
    int rc;

    if ((p->raw4 = raw_socket(AF_INET)) < 0 || (p->raw6 = raw_socket(AF_INET6)) < 0) {
        rc = p->raw4 < 0 ? p->raw4 : p->raw6;
        snprintf(err, errlen, "raw socket: %s", strerror(-rc));
        return rc;
    }
    p->rb = ring_buffer__new(p->bpf.ring, on_upcall, p, NULL);
    if (!p->rb) {
        rc = -errno;
        snprintf(err, errlen, "upcall ring: %s", strerror(-rc));
        return rc;
    }
    if ((rc = nat_bpf_attach_all(&p->bpf)) < 0) {
        snprintf(err, errlen, "attaching the TC programs: %s", strerror(-rc));
        return rc;
    }
    if ((rc = io_loop_init(&p->loop)) < 0) {
        snprintf(err, errlen, "loop: %s", strerror(-rc));
        return rc;
    }
    io_watch_init(&p->rb_watch, ring_buffer__epoll_fd(p->rb), EPOLLIN, on_ring, p);
    io_watch_add(&p->loop, &p->rb_watch);
    io_timer_init(&p->sweep, on_sweep, p);
    io_timer_arm(&p->loop, &p->sweep, io_loop_now(&p->loop) + SWEEP_US);
    return 0;
}

int dp_pkt_start(struct dp_pkt *p, uint32_t max_flows, char *err, size_t errlen)
{
    int rc;

    memset(p, 0, sizeof(*p));
    p->raw4 = p->raw6 = -1;
    p->folded = calloc(NAT_MAX_DESTS, sizeof(*p->folded));
    if (!p->folded)
        abort();
    if ((rc = nat_bpf_open(&p->bpf, max_flows, err, errlen)) < 0 ||
        (rc = start_io(p, err, errlen)) < 0)
        goto fail;
    if ((rc = -pthread_create(&p->thread, NULL, pkt_main, p)) < 0) {
        snprintf(err, errlen, "thread: %s", strerror(-rc));
        goto fail;
    }
    p->started = true;
    return 0;
fail:
    dp_pkt_stop(p);
    return rc;
}

static void stop_on_thread(void *ctx)
{
    struct dp_pkt *p = ctx;

    io_timer_cancel(&p->loop, &p->sweep);
    io_watch_del(&p->loop, &p->rb_watch);
    io_loop_stop(&p->loop);
}

void dp_pkt_stop(struct dp_pkt *p)
{
    if (!p->folded) /* zeroed, or stopped already */
        return;
    if (p->started) {
        io_loop_post(&p->loop, stop_on_thread, p);
        pthread_join(p->thread, NULL);
        p->started = false;
    }
    io_loop_fini(&p->loop);
    ring_buffer__free(p->rb);
    p->rb = NULL;
    nat_bpf_close(&p->bpf);
    close_fd(&p->raw4);
    close_fd(&p->raw6);
    if (p->snap)
        svcs_free(p->svcs, p->snap->nsvc);
    dp_snap_release(p->snap);
    p->snap = NULL;
    p->svcs = NULL;
    free(p->folded);
    p->folded = NULL;
}
