/* Load-balancer configuration types: keepalived's virtual_server, virtual_server_group,
 * real_server, their health checkers and the SSL block, validated into typed structs.
 *
 * nospof serves a virtual server with its user-space full-NAT proxy (keepalived's
 * `lb_kind NAT`); DR, TUN and fwmark services need a packet data plane and are refused by the
 * validator. Timing options may be given on the virtual server, the real server and the
 * checker; the checker's values are resolved (checker, else real server, else virtual
 * server, else keepalived's default for the checker type) when the config is loaded, so a
 * consumer reads struct cfg_check's timing directly. Everything is owned by the struct cfg
 * and freed by cfg_free(). Included from cfg-t.h after struct cfg_where and cfg_cmd. */
#ifndef NOSPOF_DAEMON_CFG_LVS_T_H
#define NOSPOF_DAEMON_CFG_LVS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/addr-t.h"
#include "base/time-t.h"
#include "io/probe-t.h"

/* IPVS scheduler names (lvs_sched / lb_algo); twos is refused. */
enum cfg_lb_sched {
    CFG_SCHED_WLC = 0, /* keepalived's default when lvs_sched is absent (IPVS default) */
    CFG_SCHED_RR,
    CFG_SCHED_WRR,
    CFG_SCHED_LC,
    CFG_SCHED_LBLC,
    CFG_SCHED_LBLCR,
    CFG_SCHED_SH,
    CFG_SCHED_DH,
    CFG_SCHED_MH,
    CFG_SCHED_FO,
    CFG_SCHED_OVF,
    CFG_SCHED_SED,
    CFG_SCHED_NQ,
    CFG_SCHED__COUNT
};

/* Scheduler flags (ipvsadm -b): flag-1 = sh-fallback / mh-fallback, flag-2 = sh-port /
 * mh-port, flag-3 has no named alias. */
#define CFG_SCHED_FLAG_FALLBACK 0x1u
#define CFG_SCHED_FLAG_PORT     0x2u
#define CFG_SCHED_FLAG_3        0x4u

enum cfg_lb_proto {
    CFG_LB_TCP = 0, /* default */
    CFG_LB_UDP,
};

/* nospof addition: PROXY protocol header sent to real servers (docs/config.md). */
enum cfg_proxy_proto {
    CFG_PROXY_NONE = 0,
    CFG_PROXY_V1,
    CFG_PROXY_V2,
    CFG_PROXY_INHERIT, /* real server: not given, use the virtual server's */
};

/* Bits of struct cfg_lb_timing.set: which fields were written at this level. */
#define CFG_LBT_DELAY_LOOP  0x01u
#define CFG_LBT_CONNECT_TO  0x02u
#define CFG_LBT_RETRY       0x04u
#define CFG_LBT_DELAY_RETRY 0x08u
#define CFG_LBT_WARMUP      0x10u
#define CFG_LBT_ALPHA       0x20u
#define CFG_LBT_INHIBIT     0x40u

/* Health-check timing as written on a virtual server, real server or checker. In a
 * struct cfg_check every field is resolved (set keeps the bits written on the checker). */
struct cfg_lb_timing {
    mono_us delay_loop_us;         /* default 60 s */
    mono_us connect_timeout_us;    /* default 5 s */
    mono_us delay_before_retry_us; /* default 3 s HTTP/SSL, delay_loop DNS, 1 s otherwise */
    mono_us warmup_us;             /* max random start delay; default delay_loop; 0 = off */
    unsigned retry;                /* default 1, DNS 3, MISC 0 (alias nb_get_retry) */
    bool alpha;                    /* start down until the first success */
    bool inhibit_on_failure;       /* weight 0 instead of removal (VS/RS only) */
    uint8_t set;                   /* CFG_LBT_* */
};

/* One health checker of a real server. probe.target is resolved: connect_ip/connect_port
 * default to the real server's address and port. */
struct cfg_check {
    struct probe_cfg probe;
    struct cfg_lb_timing timing;
    struct cfg_where where;
    bool log_all_failures;
    bool fast_recovery;       /* HTTP/SSL: accepted, warned (not implemented) */
    mono_us misc_timeout_us;  /* MISC_CHECK: default = delay_loop */
    char *track_file;         /* FILE_CHECK: the track_file name (path in probe) */
    bool file_weight_reverse; /* FILE_CHECK: weight W reverse */
};

struct cfg_rs {
    unsigned group; /* HTTP services: 0 = the default group, i + 1 = cfg_http.groups[i] */
    struct ip_addr addr;
    uint16_t port; /* default: the virtual server's port */
    struct cfg_where where;
    unsigned weight; /* 0..65535, default 1 */
    struct cfg_cmd notify_up, notify_down;
    unsigned uthreshold, lthreshold;     /* 0: none */
    char *virtualhost;                   /* NULL: the virtual server's */
    enum cfg_proxy_proto proxy_protocol; /* resolved: never CFG_PROXY_INHERIT after load */
    struct cfg_lb_timing timing;         /* resolved against the virtual server (TCP defaults) */
    struct cfg_check *checks;
    size_t nchecks;
};

/* nospof: the HTTP (L7) switch of a virtual server with `protocol HTTP` (docs/http.md). */
struct cfg_http_group {
    char *name;
    struct cfg_where where;
    enum cfg_lb_sched sched; /* lb_algo inside the group; default: the virtual server's */
    bool sched_set;
};

/* One http_route line: host EXACT|*.SUFFIX and/or path /PREFIX, then group NAME. */
struct cfg_http_route {
    struct cfg_where where;
    char *host; /* lower case, "" = any; for "*.example.com": ".example.com" */
    bool wildcard;
    char *path;     /* "" = any */
    char *group;    /* the name as written */
    unsigned index; /* resolved: 1 + index into cfg_http.groups */
};

enum cfg_http_log {
    CFG_HTTP_LOG_NONE = 0,
    CFG_HTTP_LOG_FILE,
    CFG_HTTP_LOG_SYSLOG,
};

struct cfg_http {
    bool enabled; /* protocol HTTP */
    struct cfg_http_group *groups;
    size_t ngroups;
    struct cfg_http_route *routes;
    size_t nroutes;
    char *cookie;                 /* http_cookie NAME, NULL = off */
    bool xff, xfp, fwd;           /* http_forwarded_for (on), _proto (on), http_forwarded */
    unsigned retries;             /* http_retries, default 2 */
    unsigned error_limit;         /* http_error_limit, default 0 = off */
    mono_us error_hold_us;        /* http_error_hold: servers without checks, default 10 s */
    unsigned max_head;            /* http_max_header_size, default 15360 */
    unsigned max_line;            /* http_max_line: request line / one field line, 8192 */
    unsigned max_headers;         /* http_max_headers, default 100 */
    mono_us header_timeout_us;    /* http_header_timeout, default 10 s */
    mono_us keepalive_timeout_us; /* http_keepalive_timeout, default 60 s */
    mono_us server_timeout_us;    /* http_server_timeout, default 30 s */
    enum cfg_http_log log;        /* http_access_log FILE|syslog */
    char *log_file;
    unsigned parsing_group; /* parse time only: the group real_server lines join */
};

struct cfg_vs {
    struct cfg_where where;
    char *group;         /* virtual_server group NAME, else NULL */
    struct ip_addr addr; /* IP_NONE for a group */
    uint16_t port;       /* 0: all ports (only with persistence) or a group */
    enum cfg_lb_sched sched;
    uint8_t sched_flags; /* CFG_SCHED_FLAG_* */
    enum cfg_lb_proto proto;
    uint8_t family; /* ip_family, else the address's (IP_V4/IP_V6) */
    bool persistent;
    unsigned persistence_timeout_s; /* default 360 when given without a value */
    uint8_t persistence_prefix;     /* persistence_granularity; default 32 / 128 */
    unsigned quorum;                /* default 1 */
    unsigned hysteresis;            /* default 0 */
    struct cfg_cmd quorum_up, quorum_down;
    bool has_sorry;
    struct ip_addr sorry_addr;
    uint16_t sorry_port; /* default: the virtual server's port */
    bool sorry_inhibit;
    bool omega;
    bool ha_suspend;
    bool ops; /* one-packet scheduling: accepted, warned */
    char *virtualhost;
    struct cfg_lb_timing timing;         /* as written on the virtual server */
    enum cfg_proxy_proto proxy_protocol; /* nospof: default none */
    mono_us idle_timeout_us;             /* nospof_idle_timeout: default 900 s TCP, 30 s UDP */
    struct cfg_http http;                /* nospof: protocol HTTP (enabled) and its options */
    bool packet;                         /* nospof_data_plane packet: kernel LVS-NAT (dp_pkt.h) */
    struct cfg_rs *rss;
    size_t nrss;
};

/* One line of a virtual_server_group: an address or an inclusive range, and a port. */
struct cfg_vsg_entry {
    struct ip_addr first, last; /* equal for a single address */
    uint16_t port;              /* 0: none given */
    struct cfg_where where;
};

struct cfg_vs_group {
    char *name;
    struct cfg_where where;
    struct cfg_vsg_entry *entries;
    size_t nentries;
};

/* SSL { password ca certificate key }: the TLS context of every SSL_GET. */
struct cfg_ssl {
    bool configured;
    struct cfg_where where;
    char *password, *ca, *certificate, *key;
};

#endif
