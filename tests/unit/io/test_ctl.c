/* Unit tests for io/ctl_server: request/reply round trip through the real socket, large
 * replies (EPOLLOUT path), refusal of non-root peers, read timeout, stale path handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/ctl_server.h"

struct fixture {
    struct io_loop loop;
    struct io_ctl ctl;
    char dir[64], path[96];
    char last[IO_CTL_MAX_LINE + 1];
    int calls;
};

static void handler(void *ctx, const char *line, struct io_ctl_reply *r)
{
    struct fixture *f = ctx;

    f->calls++;
    snprintf(f->last, sizeof(f->last), "%s", line);
    if (strcmp(line, "big") == 0) {
        io_ctl_reply_printf(r, "ok\n");
        for (int i = 0; i < 100000; i++)
            io_ctl_reply_printf(r, "line %06d\n", i);
        return;
    }
    io_ctl_reply_printf(r, "ok\nyou said: %s\n", line);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || io_loop_init(&f->loop) != 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/nospof-test-ctl-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
    if (io_ctl_listen(&f->loop, &f->ctl, f->path, handler, f) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    io_ctl_close(&f->ctl);
    io_ctl_close(&f->ctl);
    io_loop_fini(&f->loop);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Runs a client in a child process (the server needs this thread's loop). Returns a pipe fd
 * from which the parent reads "rc\n" followed by the reply text. */
static pid_t client_child(struct fixture *f, const char *line, uid_t as_uid, int *rfd)
{
    int p[2];

    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (as_uid != 0 && (setgid(65534) != 0 || setuid(as_uid) != 0))
            _exit(3);
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        int rc = io_ctl_request(f->path, line, mem, 3000);
        fclose(mem);
        FILE *out = fdopen(p[1], "w");
        fprintf(out, "%d\n", rc);
        fwrite(buf, 1, len, out);
        fclose(out);
        _exit(0);
    }
    close(p[1]);
    *rfd = p[0];
    return pid;
}

/* Serves the loop until the child exits, collecting what it reports. */
static char *serve_until_done(struct fixture *f, pid_t pid, int rfd, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int status;
    mono_us end = io_clock_now() + MONO_S(10);

    for (;;) {
        io_loop_run_once(&f->loop, MONO_MS(5));
        char tmp[65536];
        ssize_t n;
        while ((n = read(rfd, tmp, sizeof(tmp))) > 0)
            fwrite(tmp, 1, (size_t)n, mem);
        if (n == 0)
            break;
        assert_true(io_clock_now() < end);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(rfd);
    fclose(mem);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    *rc = atoi(buf);
    char *reply = strdup(nl + 1);
    free(buf);
    return reply;
}

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, O_NONBLOCK);
}

static void round_trip(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    int rfd, rc;

    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    pid_t pid = client_child(f, "status json", 0, &rfd);
    nonblock(rfd);
    char *reply = serve_until_done(f, pid, rfd, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(reply, "ok\nyou said: status json\n");
    assert_string_equal(f->last, "status json");
    assert_int_equal(f->ctl.requests, 1);
    assert_int_equal(f->ctl.nclients, 0);
    free(reply);
}

static void large_reply_is_flushed_completely(void **state)
{
    struct fixture *f = *state;
    int rfd, rc;

    pid_t pid = client_child(f, "big", 0, &rfd);
    nonblock(rfd);
    char *reply = serve_until_done(f, pid, rfd, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(strlen(reply), 3 + 100000 * 12);
    assert_memory_equal(reply, "ok\nline 000000\n", 15);
    assert_string_equal(reply + strlen(reply) - 12, "line 099999\n");
    free(reply);
}

static void non_root_peer_is_refused(void **state)
{
    struct fixture *f = *state;
    int rfd, rc;

    if (getuid() != 0)
        skip();
    chmod(f->dir, 0755);
    /* Mode 0600 keeps others out at connect time... */
    pid_t pid = client_child(f, "status", 65534, &rfd);
    nonblock(rfd);
    char *reply = serve_until_done(f, pid, rfd, &rc);
    assert_int_equal(rc, -EACCES);
    free(reply);
    /* ...and SO_PEERCRED refuses them even when the mode is widened. */
    chmod(f->path, 0666);
    pid = client_child(f, "stop", 65534, &rfd);
    nonblock(rfd);
    reply = serve_until_done(f, pid, rfd, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(reply, "error: permission denied\n");
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->ctl.refused, 1);
    free(reply);
}

static int raw_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void silent_client_times_out(void **state)
{
    struct fixture *f = *state;
    int fd = raw_connect(f->path);

    mono_us t0 = io_clock_now();
    io_loop_run_once(&f->loop, MONO_MS(100)); /* accept */
    assert_int_equal(f->ctl.nclients, 1);
    while (f->ctl.nclients && io_clock_now() - t0 < MONO_S(4))
        io_loop_run_once(&f->loop, MONO_MS(100));
    assert_int_equal(f->ctl.nclients, 0);
    mono_us dt = io_clock_now() - t0;
    assert_true(dt >= MONO_MS(IO_CTL_READ_TIMEOUT_MS) - MONO_MS(10));
    char c;
    assert_int_equal(read(fd, &c, 1), 0); /* closed without a reply */
    close(fd);
    assert_int_equal(f->calls, 0);
}

static void overlong_and_unterminated_requests(void **state)
{
    struct fixture *f = *state;
    char big[IO_CTL_MAX_LINE + 10], reply[256] = {0};

    memset(big, 'x', sizeof(big));
    int fd = raw_connect(f->path);
    assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
    for (int i = 0; i < 20 && f->ctl.refused == 0; i++)
        io_loop_run_once(&f->loop, MONO_MS(20));
    assert_true(read(fd, reply, sizeof(reply) - 1) > 0);
    assert_string_equal(reply, "error: request too long\n");
    close(fd);

    fd = raw_connect(f->path); /* a request ended by EOF instead of '\n' */
    assert_int_equal(write(fd, "reload\r", 7), 7);
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < 20 && f->calls == 0; i++)
        io_loop_run_once(&f->loop, MONO_MS(20));
    memset(reply, 0, sizeof(reply));
    assert_true(read(fd, reply, sizeof(reply) - 1) > 0);
    assert_string_equal(reply, "ok\nyou said: reload\n");
    close(fd);
}

static void listen_handles_stale_live_and_foreign_paths(void **state)
{
    struct fixture *f = *state;
    struct io_ctl other;
    char file[128];

    /* A live server holds the path. */
    assert_int_equal(io_ctl_listen(&f->loop, &other, f->path, handler, f), -EADDRINUSE);
    io_ctl_close(&other);
    /* A stale socket file (no listener) is replaced. */
    int fd = f->ctl.fd;
    io_watch_del(&f->loop, &f->ctl.w);
    close(fd);
    f->ctl.fd = -1; /* leaves the socket file behind, like a crashed daemon */
    free(f->ctl.path);
    f->ctl.path = NULL;
    assert_int_equal(io_ctl_listen(&f->loop, &f->ctl, f->path, handler, f), 0);
    /* A regular file is never unlinked. */
    snprintf(file, sizeof(file), "%s/plain", f->dir);
    fclose(fopen(file, "w"));
    assert_int_equal(io_ctl_listen(&f->loop, &other, file, handler, f), -EEXIST);
    assert_int_equal(other.fd, -1);
    unlink(file);
    /* No daemon: the client reports it. */
    assert_int_equal(io_ctl_request(file, "status", NULL, 500), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(large_reply_is_flushed_completely, setup, teardown),
        cmocka_unit_test_setup_teardown(non_root_peer_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_client_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(overlong_and_unterminated_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(listen_handles_stale_live_and_foreign_paths, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
