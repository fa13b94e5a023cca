/* keepalived's keywords that nospof does not implement yet, per block kind.
 *
 * Facts from keepalived.conf(5) of keepalived 2.2 (Debian 12) and research/vrrp.md 1.5. A
 * keyword listed here gives one warning naming it and its whole block (if any) is skipped,
 * so an unimplemented `virtual_server { real_server { HTTP_GET { ... } } }` never cascades
 * into errors; anything not listed and not implemented is an "unknown keyword" error. When
 * nospof implements a keyword, move it from here into the validator's table. */
#include <string.h>

#include "cfg_priv.h"

static const char *const top_kws[] = {
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "garp_group",
    "bfd_instance",
    "vrrp_track_process",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "track_group",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "linkbeat_use_polling",
    "child_wait_time",
    NULL,
};

static const char *const global_kws[] = {
    "tmp_config_directory",
    "config_save_dir",
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "bfd_process_name",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_helo_name",
    "smtp_connect_timeout",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
    "checker_log_all_failures",
    "no_email_faults",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "default_interface",
    "lvs_sync_daemon",
    "lvs_timeouts",
    "lvs_flush",
    "lvs_flush_on_stop",
    "vrrp_garp_lower_prio_delay",
    "vrrp_down_timer_adverts",
    "vrrp_garp_extra_if",
    "nftables",
    "nftables_priority",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "vrrp_iptables",
    "vrrp_ipsets",
    "vrrp_priority",
    "checker_priority",
    "bfd_priority",
    "checker_no_swap",
    "bfd_no_swap",
    "checker_rt_priority",
    "bfd_rt_priority",
    "vrrp_rlimit_rttime",
    "checker_rlimit_rttime",
    "bfd_rlimit_rttime",
    "vrrp_cpu_affinity",
    "checker_cpu_affinity",
    "bfd_cpu_affinity",
    "snmp_socket",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_traps",
    "enable_dbus",
    "dbus_service_name",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "fifo_write_vrrp_states_on_reload",
    "dynamic_interfaces",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "rs_init_notifies",
    "no_checker_emails",
    "umask",
    "vrrp_startup_delay",
    "log_unknown_vrids",
    "vmac_prefix",
    "vmac_addr_prefix",
    "random_seed",
    "reload_check_config",
    "include_check",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "data_use_instance",
    "vrrp_notify_priority_changes",
    "max_auto_priority",
    "min_auto_priority_delay",
    "disable_local_igmp",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "linkbeat_use_polling",
    "child_wait_time",
    NULL,
};

static const char *const script_kws[] = {NULL};

static const char *const track_file_kws[] = {NULL};

static const char *const instance_kws[] = {
    "vrf",
    "use_vmac_addr",
    "use_ipvlan",
    "native_ipv6",
    "track_process",
    "track_bfd",
    "mcast_dst_ip",
    "track_src_ip",
    "unicast_fault_no_peer",
    "unicast_ttl",
    "old_unicast_checksum",
    "garp_lower_prio_delay",
    "garp_extra_if",
    "garp_extra_if_vmac",
    "virtual_routes",
    "virtual_rules",
    "promote_secondaries",
    "skip_check_adv_addr",
    "strict_mode",
    "debug",
    "notify_deleted",
    "notify_priority_changes",
    "smtp_alert",
    "kernel_rx_buf_size",
    "linkbeat_use_polling",
    "lvs_sync_daemon_interface",
    NULL,
};

static const char *const auth_kws[] = {NULL};

static const char *const sync_kws[] = {
    "track_process",
    "track_bfd",
    "notify_deleted",
    "notify_priority_changes",
    "smtp_alert",
    "global_tracking",
    "sync_group_tracking_weight",
    NULL,
};

static const char *const vs_kws[] = {
    "smtp_alert",
    "snmp_name",
    "persistence_engine",
    NULL,
};

static const char *const rs_kws[] = {
    "smtp_alert",
    "snmp_name",
    NULL,
};

static const char *const check_kws[] = {
    "tls_compliant",
    NULL,
};

static const char *const url_kws[] = {
    "regex",       "regex_no_match",   "regex_options",
    "regex_stack", "regex_min_offset", "regex_max_offset",
    NULL,
};

static const char *const ssl_kws[] = {NULL};

static const char *const *const tables[CFG_IN__COUNT] = {
    [CFG_IN_TOP] = top_kws,
    [CFG_IN_GLOBAL] = global_kws,
    [CFG_IN_SCRIPT] = script_kws,
    [CFG_IN_TRACK_FILE] = track_file_kws,
    [CFG_IN_INSTANCE] = instance_kws,
    [CFG_IN_AUTH] = auth_kws,
    [CFG_IN_SYNC] = sync_kws,
    [CFG_IN_VS] = vs_kws,
    [CFG_IN_RS] = rs_kws,
    [CFG_IN_CHECK] = check_kws,
    [CFG_IN_URL] = url_kws,
    [CFG_IN_SSL] = ssl_kws,
};

bool cfg_known_unimplemented(enum cfg_where_kind in, const char *kw)
{
    if ((unsigned)in >= CFG_IN__COUNT)
        return false;
    for (const char *const *k = tables[in]; *k; k++)
        if (strcmp(*k, kw) == 0)
            return true;
    return false;
}
