/* vipprobe: measures the outage a client sees while a virtual IP moves between nodes.
 *
 * Sends an ICMP echo request to TARGET every INTERVAL ms over a raw socket (IPv4 ICMP or
 * ICMPv6, so it needs root or CAP_NET_RAW), matches replies by identifier and sequence, and
 * at the end (duration, count, or SIGINT/SIGTERM) prints: sent, received, lost, duplicates,
 * round-trip times, the longest gap between consecutive replies (the outage a client saw),
 * and every outage (a silence longer than N intervals, default 3) with wall-clock timestamps
 * so that scripts can line outages up with the events they caused. Text for people, --json
 * for programs. Run time is bounded (at most one hour) and so is memory.
 *
 * Exit status: 0 when at least one reply came back, 1 when none did, 2 on a usage or socket
 * error. The accounting itself lives in probestat.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probestat.h"

#define MAX_DURATION_MS (3600 * 1000L)
#define PAYLOAD_LEN     16

struct opts {
    long interval_ms;
    long duration_ms;
    long count;
    long outage_intervals;
    bool json;
    bool verbose;
    const char *target;
};

struct prober {
    int fd;
    int family;
    uint16_t ident;
    struct sockaddr_storage dst;
    socklen_t dst_len;
    int64_t mono0_us; /* monotonic time of the start */
    int64_t unix0_us; /* wall-clock time of the start */
    uint32_t send_errors;
    struct probe_stats st;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vipprobe [-i INTERVAL_MS] [-d DURATION_MS] [-c COUNT] [-o N] [-v] "
               "[--json] TARGET\n"
               "  -i  milliseconds between echo requests (default 10)\n"
               "  -d  stop after this many milliseconds (default 10000, at most 3600000)\n"
               "  -c  stop after this many requests (default: no limit)\n"
               "  -o  a silence longer than N intervals is an outage (default 3)\n"
               "  -v  print each outage on stderr as it ends\n"
               "  --json  machine-readable report on stdout\n"
               "Stops early on SIGINT or SIGTERM and still prints the report. Needs root.\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_opt(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case 'i':
        return parse_long(arg, 1, 60000, &o->interval_ms) ? 0 : -EINVAL;
    case 'd':
        return parse_long(arg, 1, MAX_DURATION_MS, &o->duration_ms) ? 0 : -EINVAL;
    case 'c':
        return parse_long(arg, 1, 100000000, &o->count) ? 0 : -EINVAL;
    case 'o':
        return parse_long(arg, 1, 1000, &o->outage_intervals) ? 0 : -EINVAL;
    case 'v':
        o->verbose = true;
        return 0;
    case 'j':
        o->json = true;
        return 0;
    default:
        return -EINVAL;
    }
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    *o = (struct opts){.interval_ms = 10, .duration_ms = 10000, .outage_intervals = 3};
    while ((c = getopt_long(argc, argv, "i:d:c:o:vh", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (parse_opt(o, c, optarg) < 0) {
            fprintf(stderr, "vipprobe: bad option -%c %s\n", c, optarg ? optarg : "");
            return -EINVAL;
        }
    }
    if (optind != argc - 1)
        return -EINVAL;
    o->target = argv[optind];
    return 0;
}

static int resolve(struct prober *p, const char *target)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&p->dst;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&p->dst;

    memset(&p->dst, 0, sizeof(p->dst));
    if (inet_pton(AF_INET, target, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        p->dst_len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, target, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        p->dst_len = sizeof(*s6);
    } else {
        return -EINVAL;
    }
    p->family = p->dst.ss_family;
    return 0;
}

/* Raw socket for the target's family; ICMPv6 is filtered to echo replies in the kernel and
 * the kernel fills in the ICMPv6 checksum. */
static int open_socket(struct prober *p)
{
    int proto = p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

    p->fd = socket(p->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (p->fd < 0)
        return -errno;
    if (p->family == AF_INET6) {
        struct icmp6_filter f;

        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
        if (setsockopt(p->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0)
            return -errno;
    }
    return 0;
}

static uint16_t inet_checksum(const void *data, size_t len)
{
    const uint8_t *b = data;
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (len & 1)
        sum += (uint32_t)b[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

/* Echo request: type, code, checksum, identifier, sequence, then a fixed payload. The ICMPv4
 * and ICMPv6 echo headers share this layout; only the type differs. */
static void send_one(struct prober *p, int64_t now_us)
{
    uint8_t pkt[8 + PAYLOAD_LEN];
    uint16_t seq = (uint16_t)probe_stats_sent(&p->st, now_us);
    uint16_t csum;

    memset(pkt, 0xa5, sizeof(pkt));
    pkt[0] = p->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    pkt[1] = 0;
    pkt[2] = pkt[3] = 0;
    pkt[4] = (uint8_t)(p->ident >> 8);
    pkt[5] = (uint8_t)p->ident;
    pkt[6] = (uint8_t)(seq >> 8);
    pkt[7] = (uint8_t)seq;
    if (p->family == AF_INET) {
        csum = inet_checksum(pkt, sizeof(pkt));
        memcpy(&pkt[2], &csum, 2);
    }
    if (sendto(p->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&p->dst, p->dst_len) < 0)
        p->send_errors++;
}

static bool from_target(const struct prober *p, const struct sockaddr_storage *src)
{
    if (p->family == AF_INET)
        return ((const struct sockaddr_in *)src)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)&p->dst)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)src)->sin6_addr,
                  &((const struct sockaddr_in6 *)&p->dst)->sin6_addr, 16) == 0;
}

/* Returns the ICMP message inside a received datagram (IPv4 raw sockets deliver the IP header
 * too), or NULL when it is not an echo reply for this prober. */
static const uint8_t *echo_reply(const struct prober *p, const uint8_t *buf, ssize_t n)
{
    size_t off = 0;

    if (p->family == AF_INET) {
        if (n < 20)
            return NULL;
        off = (size_t)(buf[0] & 0x0f) * 4;
    }
    if (n < 0 || (size_t)n < off + 8)
        return NULL;
    buf += off;
    if (buf[0] != (p->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
        return NULL;
    if ((uint16_t)(buf[4] << 8 | buf[5]) != p->ident)
        return NULL;
    return buf;
}

static void report_outage_live(const struct prober *p, const struct opts *o)
{
    const struct probe_outage *g;

    if (!o->verbose || p->st.n_outages == 0 || p->st.n_outages > PROBE_MAX_OUTAGES)
        return;
    g = &p->st.outages[p->st.n_outages - 1];
    fprintf(stderr, "vipprobe: outage of %.1f ms ended at +%.1f ms\n",
            (double)(g->end_us - g->start_us) / 1000.0, (double)(g->end_us - p->mono0_us) / 1000.0);
}

static void receive_all(struct prober *p, const struct opts *o)
{
    uint8_t buf[1500];
    struct sockaddr_storage src;
    socklen_t slen;
    ssize_t n;
    const uint8_t *icmp;

    for (int i = 0; i < 256; i++) {
        slen = sizeof(src);
        n = recvfrom(p->fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &slen);
        if (n < 0)
            return;
        icmp = echo_reply(p, buf, n);
        if (icmp == NULL || !from_target(p, &src))
            continue;
        uint32_t before = p->st.n_outages;
        probe_stats_reply(&p->st, (uint16_t)(icmp[6] << 8 | icmp[7]), clock_us(CLOCK_MONOTONIC));
        if (p->st.n_outages != before)
            report_outage_live(p, o);
    }
}

/* Waits for replies until deadline_us (monotonic) or a stop signal. */
static void wait_until(struct prober *p, const struct opts *o, int64_t deadline_us,
                       const sigset_t *unblocked)
{
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
    int64_t now;
    struct timespec ts;

    while (!stop_requested && (now = clock_us(CLOCK_MONOTONIC)) < deadline_us) {
        int64_t left = deadline_us - now;

        ts.tv_sec = left / 1000000;
        ts.tv_nsec = (long)(left % 1000000) * 1000;
        if (ppoll(&pfd, 1, &ts, unblocked) > 0)
            receive_all(p, o);
    }
}

static void run(struct prober *p, const struct opts *o, const sigset_t *unblocked)
{
    int64_t step = o->interval_ms * 1000;
    int64_t end = p->mono0_us + o->duration_ms * 1000;
    int64_t next = p->mono0_us;
    int64_t drain = step * 3 > 200000 ? step * 3 : 200000;

    while (!stop_requested && next < end && (o->count == 0 || p->st.next_seq < o->count)) {
        send_one(p, clock_us(CLOCK_MONOTONIC));
        next += step;
        wait_until(p, o, next < end ? next : end, unblocked);
    }
    stop_requested = 0; /* a signal ends sending; the short drain still runs */
    wait_until(p, o, clock_us(CLOCK_MONOTONIC) + drain, unblocked);
    probe_stats_finish(&p->st);
}

static double ms_since(int64_t t_us, int64_t base_us)
{
    return (double)(t_us - base_us) / 1000.0;
}

static double rtt_avg_ms(const struct probe_stats *st)
{
    return st->received ? (double)st->rtt_sum_us / st->received / 1000.0 : 0.0;
}

static void print_text(const struct prober *p, const struct opts *o)
{
    const struct probe_stats *st = &p->st;

    printf("target %s every %ld ms: sent %u, received %u, lost %u, duplicates %u\n", o->target,
           o->interval_ms, st->next_seq, st->received, probe_stats_lost(st), st->duplicates);
    if (st->received)
        printf("rtt min/avg/max %.3f/%.3f/%.3f ms\n", st->rtt_min_us / 1000.0, rtt_avg_ms(st),
               st->rtt_max_us / 1000.0);
    printf("longest gap between replies: %.1f ms\n", st->max_gap_us / 1000.0);
    printf("outages (> %ld intervals): %u\n", o->outage_intervals, st->n_outages);
    for (uint32_t i = 0; i < st->n_outages && i < PROBE_MAX_OUTAGES; i++) {
        const struct probe_outage *g = &st->outages[i];

        printf("  from +%.1f ms to +%.1f ms: %.1f ms%s\n", ms_since(g->start_us, p->mono0_us),
               ms_since(g->end_us, p->mono0_us), (g->end_us - g->start_us) / 1000.0,
               g->open ? " (still silent at the end)" : "");
    }
}

static void print_json_outages(const struct prober *p)
{
    const struct probe_stats *st = &p->st;
    int64_t to_unix = p->unix0_us - p->mono0_us;

    for (uint32_t i = 0; i < st->n_outages && i < PROBE_MAX_OUTAGES; i++) {
        const struct probe_outage *g = &st->outages[i];

        printf("%s{\"start_ms\": %.3f, \"end_ms\": %.3f, \"gap_ms\": %.3f, "
               "\"start_unix_ms\": %.3f, \"end_unix_ms\": %.3f, \"open\": %s}",
               i ? ", " : "", ms_since(g->start_us, p->mono0_us), ms_since(g->end_us, p->mono0_us),
               (g->end_us - g->start_us) / 1000.0, (g->start_us + to_unix) / 1000.0,
               (g->end_us + to_unix) / 1000.0, g->open ? "true" : "false");
    }
}

static void print_json(const struct prober *p, const struct opts *o)
{
    const struct probe_stats *st = &p->st;

    printf("{\"target\": \"%s\", \"interval_ms\": %ld, \"start_unix_ms\": %.3f, "
           "\"sent\": %u, \"received\": %u, \"lost\": %u, \"duplicates\": %u, "
           "\"send_errors\": %u, \"rtt_min_ms\": %.3f, \"rtt_avg_ms\": %.3f, "
           "\"rtt_max_ms\": %.3f, \"max_gap_ms\": %.3f, \"outage_threshold_ms\": %.3f, "
           "\"outage_count\": %u, \"outages\": [",
           o->target, o->interval_ms, p->unix0_us / 1000.0, st->next_seq, st->received,
           probe_stats_lost(st), st->duplicates, p->send_errors,
           st->received ? st->rtt_min_us / 1000.0 : 0.0, rtt_avg_ms(st), st->rtt_max_us / 1000.0,
           st->max_gap_us / 1000.0, st->outage_threshold_us / 1000.0, st->n_outages);
    print_json_outages(p);
    printf("]}\n");
}

/* Blocks SIGINT/SIGTERM outside ppoll so a signal can never slip in between the flag check
 * and the wait. */
static void setup_signals(sigset_t *unblocked)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, unblocked);
    sigdelset(unblocked, SIGINT);
    sigdelset(unblocked, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int main(int argc, char **argv)
{
    static struct prober p; /* large: holds the reply window */
    struct opts o;
    sigset_t unblocked;
    int err;

    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    if (resolve(&p, o.target) < 0) {
        fprintf(stderr, "vipprobe: %s is not an IPv4 or IPv6 address\n", o.target);
        return 2;
    }
    if ((err = open_socket(&p)) < 0) {
        fprintf(stderr, "vipprobe: raw socket: %s (needs root)\n", strerror(-err));
        return 2;
    }
    setup_signals(&unblocked);
    p.ident = (uint16_t)getpid();
    probe_stats_init(&p.st, o.outage_intervals * o.interval_ms * 1000);
    p.mono0_us = clock_us(CLOCK_MONOTONIC);
    p.unix0_us = clock_us(CLOCK_REALTIME);
    run(&p, &o, &unblocked);
    if (o.json)
        print_json(&p, &o);
    else
        print_text(&p, &o);
    close(p.fd);
    return p.st.received ? 0 : 1;
}
