/* Unit tests for the binary-upgrade hand-over: the record codec (upgrade_rec.c), the
 * descriptor registry (io/inherit.c) and both sides of the transport (upgrade.c, io/fdpass.c).
 * The old side really forks and executes: this test binary re-executes itself as the "new
 * process" (argv[1] == "--child"), which checks what it inherited and answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/addr.h"
#include "daemon/upgrade.h"
#include "io/fdpass.h"
#include "io/inherit.h"

static char self_exe[4096];

static int parse(const char *s, struct upgrade_rec *r)
{
    return upgrade_rec_parse(s, strlen(s), r);
}

static void records_parse_exactly(void **state)
{
    struct upgrade_rec r;

    assert_int_equal(parse("nospof-upgrade 1", &r), 0);
    assert_int_equal(r.kind, UPGRADE_HELLO);
    assert_int_equal(r.version, 1);
    assert_int_equal(parse("fds 64", &r), 0);
    assert_int_equal(r.nfds, 64);
    assert_int_equal(parse("vrrp MASTER VI 1", &r), 0); /* the name runs to the end */
    assert_int_equal(r.vrrp_state, UPGRADE_MASTER);
    assert_string_equal(r.text, "VI 1");
    assert_int_equal(parse("rs 0 1 -1 UdD TCP 192.0.2.1:80|rs|198.51.100.7:8080", &r), 0);
    assert_false(r.up);
    assert_true(r.disabled);
    assert_int_equal(r.admin_weight, -1);
    assert_string_equal(r.checks, "UdD");
    assert_string_equal(r.text, "TCP 192.0.2.1:80|rs|198.51.100.7:8080");
    assert_int_equal(parse("rs 1 0 65535 - k", &r), 0);
    assert_string_equal(r.checks, "");
    assert_int_equal(r.admin_weight, 65535);
    assert_int_equal(parse("ready 4242", &r), 0);
    assert_int_equal(r.pid, 4242);
    assert_int_equal(parse("error the configuration has errors", &r), 0);
    assert_string_equal(r.text, "the configuration has errors");
    assert_int_equal(parse("end", &r), 0);
    assert_int_equal(r.kind, UPGRADE_END);
}

static void records_refuse_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "end ",
        "end x",
        "fds 0",
        "fds 65",
        "fds",
        "fds -1",
        "fds 1x",
        "nospof-upgrade",
        "vrrp MASTER",
        "vrrp master VI_1",
        "vrrp MASTER VI\t1",
        "rs 2 0 -1 U k",
        "rs 1 0 -2 U k",
        "rs 1 0 65536 U k",
        "rs 1 0 1 X k",
        "rs 1 0 1 U",
        "rs 1 0 1 UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUU k",
        "ready 0",
        "ready",
        "ready 12 13",
        "error",
        "hello 1",
        " end",
        "rs 1  0 1 U k",
    };
    struct upgrade_rec r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &r) != -EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
    char nul[] = "end\0";
    assert_int_equal(upgrade_rec_parse(nul, 4, &r), -EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    memcpy(longname, "vrrp BACKUP ", 12);
    assert_int_equal(upgrade_rec_parse(longname, sizeof(longname), &r), -EINVAL);
}

static void records_round_trip(void **state)
{
    struct upgrade_rec in = {.kind = UPGRADE_RS, .up = true, .admin_weight = 7}, out;
    char buf[512];

    strcpy(in.checks, "Uu");
    strcpy(in.text, "HTTP 203.0.113.5:443|rs@api|[2001:db8::5]:8443");
    size_t n = upgrade_rec_format(&in, buf, sizeof(buf));
    assert_string_equal(buf, "rs 1 0 7 Uu HTTP 203.0.113.5:443|rs@api|[2001:db8::5]:8443");
    assert_int_equal(upgrade_rec_parse(buf, n, &out), 0);
    assert_string_equal(out.text, in.text);
    in.text[0] = '\0'; /* an empty key would not parse: refused at formatting */
    assert_int_equal(upgrade_rec_format(&in, buf, sizeof(buf)), 0);
    assert_int_equal(upgrade_rec_format(&(struct upgrade_rec){.kind = UPGRADE_END}, buf, 3), 0);
}

/* A listening TCP socket on 127.0.0.1 (an ephemeral port) and a bound UDP one. */
static int tcp_listener(uint16_t *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

static struct ip_addr loopback(void)
{
    struct ip_addr a;
    assert_true(ip_addr_parse("127.0.0.1", &a));
    return a;
}

static void registry_files_by_kernel_key(void **state)
{
    uint16_t port;
    int l = tcp_listener(&port);
    struct ip_addr lo = loopback();

    assert_int_equal(io_inherit_add(dup(l)), 0);
    assert_int_equal(io_inherit_add(dup(l)), 0); /* two workers' worth */
    assert_int_equal(io_inherit_add(open("/dev/null", O_RDONLY)), -ENOTSOCK);
    assert_int_equal(io_inherit_count(), 2);
    assert_int_equal(io_inherit_take_inet(SOCK_DGRAM, &lo, port), -1);
    assert_int_equal(io_inherit_take_inet(SOCK_STREAM, &lo, (uint16_t)(port + 1)), -1);
    int a = io_inherit_take_inet(SOCK_STREAM, &lo, port);
    assert_true(a >= 0);
    close(a);
    assert_int_equal(io_inherit_close_rest(), 1);
    assert_int_equal(io_inherit_count(), 0);
    close(l);
}

/* Old side by hand: the new side's parser gets the records and files the descriptors. */
static void receive_files_sockets_and_records(void **state)
{
    int sv[2], fds[2];
    uint16_t port;
    char err[200];
    struct upgrade_state st = {0};

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    fds[0] = tcp_listener(&port);
    fds[1] = dup(fds[0]);
    assert_int_equal(io_fdpass_send(sv[0], "nospof-upgrade 1", 16, NULL, 0, 100), 0);
    assert_int_equal(io_fdpass_send(sv[0], "fds 2", 5, fds, 2, 100), 0);
    assert_int_equal(io_fdpass_send(sv[0], "vrrp MASTER VI_1", 16, NULL, 0, 100), 0);
    assert_int_equal(io_fdpass_send(sv[0], "rs 0 0 -1 D k1", 14, NULL, 0, 100), 0);
    assert_int_equal(io_fdpass_send(sv[0], "end", 3, NULL, 0, 100), 0);
    assert_int_equal(upgrade_receive(sv[1], &st, err, sizeof(err)), 0);
    assert_int_equal(io_inherit_count(), 2);
    assert_non_null(upgrade_state_vrrp(&st, "VI_1"));
    assert_null(upgrade_state_vrrp(&st, "VI_2"));
    assert_false(upgrade_state_rs(&st, "k1")->up);
    io_inherit_close_rest();
    upgrade_state_free(&st);

    /* A count that does not match the descriptors, then a wrong version: refused. */
    assert_int_equal(io_fdpass_send(sv[0], "nospof-upgrade 1", 16, NULL, 0, 100), 0);
    assert_int_equal(io_fdpass_send(sv[0], "fds 3", 5, fds, 2, 100), 0);
    assert_int_equal(upgrade_receive(sv[1], &st, err, sizeof(err)), -EPROTO);
    assert_string_equal(err, "announced 3 descriptors, received 2");
    assert_int_equal(io_fdpass_send(sv[0], "nospof-upgrade 2", 16, NULL, 0, 100), 0);
    assert_int_equal(upgrade_receive(sv[1], &st, err, sizeof(err)), -EPROTONOSUPPORT);
    assert_int_equal(io_fdpass_send(sv[0], "vrrp MASTER x", 13, NULL, 0, 100), 0);
    assert_int_equal(upgrade_receive(sv[1], &st, err, sizeof(err)), -EPROTO); /* no hello */
    close(sv[0]);
    assert_int_equal(upgrade_receive(sv[1], &st, err, sizeof(err)), -EPIPE);
    assert_int_equal(io_inherit_count(), 0);
    close(sv[1]);
    close(fds[0]);
    close(fds[1]);
    upgrade_state_free(&st);
}

/* The new process (this binary with --child): checks the hand-over and answers. */
static int child_main(const char *want_port)
{
    struct upgrade_state st = {0};
    char err[200];
    struct ip_addr lo;

    ip_addr_parse("127.0.0.1", &lo);
    if (fcntl(UPGRADE_CHILD_FD + 1, F_GETFD) != -1) /* nothing else leaked in */
        return 3;
    if (upgrade_receive(UPGRADE_CHILD_FD, &st, err, sizeof(err)) < 0) {
        upgrade_fail(UPGRADE_CHILD_FD, err);
        return 1;
    }
    int fd = io_inherit_take_inet(SOCK_STREAM, &lo, (uint16_t)atoi(want_port));
    const struct upgrade_rec *r = upgrade_state_vrrp(&st, "VI_1");
    if (fd < 0 || !r || r->vrrp_state != UPGRADE_MASTER) {
        upgrade_fail(UPGRADE_CHILD_FD, "not what was handed over");
        return 1;
    }
    /* Serve one connection queued on the inherited listener before we existed. */
    int c = accept(fd, NULL, NULL);
    if (c < 0 || write(c, "new", 3) != 3)
        return 1;
    close(c);
    upgrade_ready(UPGRADE_CHILD_FD);
    upgrade_state_free(&st);
    return 0;
}

static void start_hands_over_to_a_real_process(void **state)
{
    uint16_t port;
    int l = tcp_listener(&port);
    char portstr[16], err[300], buf[8] = {0};
    struct upgrade_state st = {0};
    struct upgrade_rec r = {.kind = UPGRADE_VRRP, .vrrp_state = UPGRADE_MASTER};
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    snprintf(portstr, sizeof(portstr), "%u", port);
    strcpy(r.text, "VI_1");
    upgrade_state_add(&st, &r);
    assert_int_equal(upgrade_state_add_fd(&st, l), 0);
    int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* queued, never accepted here */
    assert_int_equal(connect(cli, (struct sockaddr *)&sin, sizeof(sin)), 0);
    char *argv[] = {self_exe, "--child", portstr, NULL};
    pid_t pid = upgrade_start(argv, &st, NULL, NULL, err, sizeof(err));
    assert_true(pid > 0);
    assert_int_equal(read(cli, buf, sizeof(buf) - 1), 3);
    assert_string_equal(buf, "new");
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    close(cli);
    close(l);

    /* A binary that never answers ready, and one that does not exist: the caller carries on. */
    char *bad[] = {"/bin/false", NULL};
    assert_int_equal(upgrade_start(bad, &st, NULL, NULL, err, sizeof(err)), -ECHILD);
    assert_string_equal(err, "the new process ended before it was ready (see its log)");
    char *none[] = {"/nonexistent/nospofd", NULL};
    assert_int_equal(upgrade_start(none, &st, NULL, NULL, err, sizeof(err)), -ENOENT);
    upgrade_state_free(&st);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_parse_exactly),
        cmocka_unit_test(records_refuse_malformed),
        cmocka_unit_test(records_round_trip),
        cmocka_unit_test(registry_files_by_kernel_key),
        cmocka_unit_test(receive_files_sockets_and_records),
        cmocka_unit_test(start_hands_over_to_a_real_process),
    };

    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    self_exe[n > 0 ? n : 0] = '\0';
    return cmocka_run_group_tests(tests, NULL, NULL);
}
