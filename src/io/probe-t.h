/* Health-check probes: what each keepalived checker type is configured with, and the
 * uniform interface every probe adapter implements.
 *
 * A probe is one attempt of one checker against one real server (one TCP connect, one HTTP
 * GET, one DNS query, one ICMP echo, one script run...). The checker state machine
 * (src/proto/check) decides when to start probes and what their results mean (retry,
 * delay_before_retry, up/down); a probe only reports ok or not, why, and for MISC_CHECK with
 * misc_dynamic a new weight. Probes never block the loop they run on. */
#ifndef NOSPOF_IO_PROBE_T_H
#define NOSPOF_IO_PROBE_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/addr-t.h"
#include "base/time-t.h"

enum probe_kind {
    PROBE_TCP = 0, /* TCP_CHECK: connect succeeds */
    PROBE_HTTP,    /* HTTP_GET */
    PROBE_SSL,     /* SSL_GET: HTTP_GET over TLS */
    PROBE_SMTP,    /* SMTP_CHECK: 220 greeting, HELO -> 250, QUIT */
    PROBE_DNS,     /* DNS_CHECK: query type/name, a response with rcode NOERROR */
    PROBE_PING,    /* PING_CHECK: ICMP / ICMPv6 echo */
    PROBE_UDP,     /* UDP_CHECK: payload out, optional reply match */
    PROBE_MISC,    /* MISC_CHECK: a script's exit status */
    PROBE_FILE,    /* FILE_CHECK: a tracked file's value */
    PROBE__COUNT
};

/* Where a probe goes and where it comes from (keepalived's connect_ip, connect_port, bindto,
 * bind_port, bind_if; defaults: the real server's address and port). */
struct probe_target {
    struct ip_addr addr;
    uint16_t port;
    struct ip_addr bind_addr; /* IP_NONE: any */
    uint16_t bind_port;       /* 0: any */
    char bind_if[16];         /* "": any */
    uint32_t fwmark;          /* 0: none (SO_MARK) */
};

/* One url { } block of HTTP_GET / SSL_GET. */
struct probe_http_url {
    char *path;         /* request target, default "/" */
    char *virtualhost;  /* Host header; NULL: the checker's or VS's virtualhost, or IP */
    uint8_t digest[16]; /* MD5 of the body (keepalived genhash), valid if has_digest */
    bool has_digest;
    /* status_code ranges [lo, hi]; none configured means 200..299 (keepalived default) */
    struct {
        uint16_t lo, hi;
    } status[16];
    unsigned nstatus;
};

struct probe_http_cfg {
    struct probe_http_url *urls; /* every url must pass; probes cycle through them */
    size_t nurls;
    char *virtualhost;     /* checker-level default Host */
    uint8_t http_protocol; /* 10 ("1.0"), 11 ("1.1"), or 0x1c for "1.0C" (close) */
    bool enable_sni;       /* SSL_GET: send SNI (sni_name or the Host) */
    char *sni_name;
    bool tls_verify;                      /* verify the server certificate (SSL ca given) */
    char *ca_file, *cert_file, *key_file; /* from the SSL { } block, may be NULL */
};

struct probe_smtp_cfg {
    char *helo_name; /* default: the router's hostname */
};

struct probe_dns_cfg {
    uint16_t qtype; /* 1 A, 2 NS, 5 CNAME, 6 SOA, 15 MX, 16 TXT, 28 AAAA; 0: SOA */
    char *name;     /* default "." */
};

struct probe_udp_cfg {
    uint8_t *payload; /* bytes sent; NULL/0: an empty datagram */
    size_t payload_len;
    bool require_reply;
    uint8_t *reply; /* expected reply prefix; reply_mask nibble-wise 0xf = compare */
    uint8_t *reply_mask;
    size_t reply_len;
    size_t min_reply_len, max_reply_len; /* 0: no bound */
};

struct probe_misc_cfg {
    char *cmdline; /* misc_path */
    char *user, *group;
    bool dynamic; /* misc_dynamic: exit 2..255 sets weight exit-2 */
};

struct probe_file_cfg {
    char *path; /* the track_file's file */
    int weight; /* FILE_CHECK weight; value * weight, keepalived semantics */
    bool dynamic;
};

/* The union of the per-kind settings; only the member of `kind` is meaningful. */
struct probe_cfg {
    enum probe_kind kind;
    struct probe_target target;
    union {
        struct probe_http_cfg http; /* PROBE_HTTP and PROBE_SSL */
        struct probe_smtp_cfg smtp;
        struct probe_dns_cfg dns;
        struct probe_udp_cfg udp;
        struct probe_misc_cfg misc;
        struct probe_file_cfg file;
    } u;
};

struct probe_result {
    bool ok;
    int new_weight;       /* MISC dynamic / FILE: >= 0 sets the weight; -1 unchanged */
    int64_t weight_delta; /* FILE_CHECK with a weight: value * weight, which keepalived
                           * adds to the real server's weight when dynamic; else 0 */
    char why[128];        /* human reason, e.g. "connect: Connection refused",
                           * "HTTP status 503 not in 200-299", "digest mismatch" */
    mono_us rtt_us;       /* time from start to result */
};

struct probe;
typedef void probe_done_fn(void *ctx, const struct probe_result *r);

#endif
