/* The validated configuration: typed per-subsystem structs built from a conf_tree.
 *
 * Everything here is owned by the struct cfg that holds it and freed by cfg_free().
 * Strings are NUL-terminated heap copies; NULL means "not configured". Each object keeps the
 * file:line of its defining node for messages at run time. */
#ifndef NOSPOF_DAEMON_CFG_T_H
#define NOSPOF_DAEMON_CFG_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/addr-t.h"
#include "base/time-t.h"
#include "proto/vrrp/vrrp-t.h"

#define CFG_IFNAMSIZ 16

struct cfg_where {
    const char *file; /* owned by the cfg */
    unsigned line;
};

/* A command to run (notify_*, vrrp_script's script): the raw command line as written, and
 * the optional "user USER [GROUP]" it runs as. */
struct cfg_cmd {
    char *cmdline;
    char *user; /* NULL: the global script_user (or keepalived_script / root) */
    char *group;
};

struct cfg_global {
    char *router_id;
    uint8_t vrrp_version; /* default version for instances: 2 (keepalived) */
    bool vrrp_strict;
    bool vrrp_check_unicast_src;
    bool vrrp_skip_check_adv_addr;
    bool v3_checksum_as_v2;
    unsigned garp_master_repeat;  /* vrrp_garp_master_repeat, default 5 */
    mono_us garp_master_delay_us; /* vrrp_garp_master_delay, default 5 s */
    unsigned garp_master_refresh_repeat;
    mono_us garp_master_refresh_us;
    unsigned garp_lower_prio_repeat;
    mono_us garp_interval_us; /* vrrp_garp_interval: pacing between GARPs */
    mono_us gna_interval_us;  /* vrrp_gna_interval */
    bool lower_prio_no_advert;
    bool higher_prio_send_advert;
    char *script_user;
    char *script_group;
    bool enable_script_security;
    int vrrp_rt_priority;       /* 0 = do not use SCHED_RR */
    bool vrrp_no_swap;          /* mlockall */
    struct cfg_cmd notify_fifo; /* cmdline = FIFO path; notify_fifo_script in fifo_script */
    struct cfg_cmd notify_fifo_script;
    struct cfg_cmd vrrp_notify_fifo;
    struct cfg_cmd vrrp_notify_fifo_script;
    /* nospof additions (documented in docs/): */
    bool graceful_stop; /* nospof_graceful_stop, default on */
    mono_us graceful_margin_us;
    unsigned lb_workers;      /* nospof_lb_workers: data-plane threads; 0 = one per CPU */
    mono_us upgrade_drain_us; /* nospof_upgrade_drain_timeout: old process's drain, 300 s */
    struct {                  /* nospof_status_listen IP:PORT; family IP_NONE = off */
        struct ip_addr addr;
        uint16_t port;
    } status_listen;
};

/* vrrp_script NAME { ... } */
struct cfg_script {
    char *name;
    struct cfg_where where;
    struct cfg_cmd cmd;  /* script "..." plus user */
    mono_us interval_us; /* default 1 s */
    mono_us timeout_us;  /* default = interval */
    int weight;          /* -253..253, default 0 */
    bool weight_reverse;
    unsigned rise, fall; /* default 1, 1 */
    bool init_fail;      /* starts failed instead of up */
};

/* vrrp_track_file / track_file NAME { file PATH; weight W [reverse]; init_file [V] [overwrite] } */
struct cfg_track_file {
    char *name;
    struct cfg_where where;
    char *path;
    int weight; /* default 1 */
    bool weight_reverse;
    bool init_file;
    int init_value;
    bool init_overwrite;
};

/* A reference from an instance or sync group to a tracker, with an optional weight override. */
struct cfg_track_ref {
    char *name; /* script, file, or interface name */
    struct cfg_where where;
    bool weight_set;
    int weight;
    bool weight_reverse;
};

struct cfg_vip {
    struct ip_addr addr;
    uint8_t prefix_len;       /* default 32 / 128 */
    struct ip_addr brd;       /* IP_NONE if not given */
    char dev[CFG_IFNAMSIZ];   /* empty: the instance's interface */
    char label[CFG_IFNAMSIZ]; /* empty: none */
    uint8_t scope;            /* RT_SCOPE_* value, default 0 (global) */
    bool no_track;
    struct cfg_where where;
};

struct cfg_instance {
    char *name;
    struct cfg_where where;
    char ifname[CFG_IFNAMSIZ];

    /* The core's configuration. src, peers and auth are filled at start-up from the
     * interface when not configured (src) -- the config layer leaves src zero then. */
    struct vrrp_cfg core;
    bool src_configured;     /* unicast_src_ip or mcast_src_ip given */
    bool version_configured; /* "version" given in the instance */
    struct ip_addr *peers;   /* unicast_peer; core.peers points here */
    size_t npeers;

    struct cfg_vip *vips; /* virtual_ipaddress */
    size_t nvips;
    struct cfg_vip *evips; /* virtual_ipaddress_excluded: installed, not advertised */
    size_t nevips;

    struct cfg_track_ref *track_if; /* track_interface */
    size_t ntrack_if;
    struct cfg_track_ref *track_script; /* track_script */
    size_t ntrack_script;
    struct cfg_track_ref *track_file; /* track_file */
    size_t ntrack_file;
    bool dont_track_primary;

    struct cfg_cmd notify_master, notify_backup, notify_fault, notify_stop, notify;
    struct cfg_cmd notify_master_rx_lower_pri;

    bool use_vmac;
    char vmac_name[CFG_IFNAMSIZ]; /* default "vrrp.<VRID>" (v4) or "vrrp6.<VRID>" */
    bool vmac_xmit_base;
    bool v3_checksum_as_v2;

    char *sync_group; /* name of the group it belongs to, or NULL */
};

struct cfg_sync_group {
    char *name;
    struct cfg_where where;
    char **members; /* instance names */
    size_t nmembers;
    struct cfg_track_ref *track_if, *track_script, *track_file;
    size_t ntrack_if, ntrack_script, ntrack_file;
    struct cfg_cmd notify_master, notify_backup, notify_fault, notify_stop, notify;
};

/* virtual_server, real_server, checkers, SSL (uses cfg_where and cfg_cmd above). */
#include "cfg_lvs-t.h"

struct cfg {
    char *path; /* the main file */
    struct cfg_global global;
    struct cfg_script *scripts;
    size_t nscripts;
    struct cfg_track_file *track_files;
    size_t ntrack_files;
    struct cfg_instance *instances;
    size_t ninstances;
    struct cfg_sync_group *groups;
    size_t ngroups;
    struct cfg_vs *vss; /* virtual_server, in file order */
    size_t nvss;
    struct cfg_vs_group *vsgs; /* virtual_server_group */
    size_t nvsgs;
    struct cfg_ssl ssl; /* SSL { } */
    void *strings;      /* private: interned file names */
    atomic_uint refs;   /* holders (cfg_hold/cfg_release); 1 when loaded */
};

#endif
