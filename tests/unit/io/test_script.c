/* Unit tests for io/script: word splitting and shell detection, exit codes, extra args,
 * signals, exec failure, timeout kill, non-blocking start, users and script security. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/log.h"
#include "io/script.h"

struct result {
    int value;
    int calls;
};

static void done_cb(void *ctx, int result)
{
    struct result *r = ctx;

    r->value = result;
    r->calls++;
}

struct fixture {
    struct io_loop loop;
    struct io_scripts s;
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || io_loop_init(&f->loop) != 0)
        return -1;
    io_scripts_init(&f->loop, &f->s);
    snprintf(f->dir, sizeof(f->dir), "/tmp/nospof-test-script-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    io_scripts_fini(&f->s);
    io_loop_fini(&f->loop);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Runs cmdline with args and waits (bounded) for done(). */
static int run(struct fixture *f, const char *cmdline, const char *const *args, size_t nargs,
               mono_us timeout_us)
{
    struct result r = {.value = -12345};
    struct io_script_req req = {.cmdline = cmdline,
                                .extra_args = args,
                                .nextra = nargs,
                                .uid = getuid(),
                                .gid = getgid(),
                                .timeout_us = timeout_us,
                                .done = done_cb,
                                .ctx = &r};

    assert_int_equal(io_script_run(&f->s, &req), 0);
    assert_int_equal(r.calls, 0); /* never synchronous */
    mono_us end = io_clock_now() + MONO_S(5);
    while (r.calls == 0 && io_clock_now() < end)
        io_loop_run_once(&f->loop, MONO_MS(100));
    assert_int_equal(r.calls, 1);
    assert_int_equal(f->s.running, 0);
    return r.value;
}

static void split_words(const char *cmd, int want_n, const char *const *want, bool want_meta)
{
    char buf[256], *words[16];
    bool meta;
    int n = io_script_split(cmd, buf, sizeof(buf), words, 16, &meta);

    assert_int_equal(n, want_n);
    for (int i = 0; i < n; i++)
        assert_string_equal(words[i], want[i]);
    assert_int_equal(meta, want_meta);
}

static void split_honours_quotes_escapes_and_detects_meta(void **state)
{
    split_words("/bin/echo  a\tb", 3, (const char *const[]){"/bin/echo", "a", "b"}, false);
    split_words("x 'a b' \"c d\" e\\ f", 4, (const char *const[]){"x", "a b", "c d", "e f"}, false);
    split_words("x 'a'\"b\"c ''", 3, (const char *const[]){"x", "abc", ""}, false);
    split_words("x \"q\\\"q\" '$HOME' \\$y", 4, (const char *const[]){"x", "q\"q", "$HOME", "$y"},
                false);
    split_words("x 'a|b' \"c;d\"", 3, (const char *const[]){"x", "a|b", "c;d"}, false);
    split_words("a|b", 1, (const char *const[]){"a|b"}, true);
    split_words("a > /dev/null", 3, (const char *const[]){"a", ">", "/dev/null"}, true);
    split_words("echo \"$HOME\"", 2, (const char *const[]){"echo", "$HOME"}, true);
    split_words("ls *.c", 2, (const char *const[]){"ls", "*.c"}, true);
    split_words("cd ~", 2, (const char *const[]){"cd", "~"}, true);

    char buf[8], *words[2];
    bool meta;
    assert_int_equal(io_script_split("x 'open", buf, sizeof(buf), words, 2, &meta), -EINVAL);
    assert_int_equal(io_script_split("a b c", buf, sizeof(buf), words, 2, &meta), -ENOSPC);
    assert_int_equal(io_script_split("abcdefghij", buf, sizeof(buf), words, 2, &meta), -ENOSPC);
}

static void program_resolves_through_path(void **state)
{
    char p[256];

    assert_int_equal(io_script_program("true --x", p, sizeof(p)), 0);
    assert_true(strcmp(p, "/usr/bin/true") == 0 || strcmp(p, "/bin/true") == 0);
    assert_int_equal(io_script_program("/x/y 1", p, sizeof(p)), 0);
    assert_string_equal(p, "/x/y");
    assert_int_equal(io_script_program("a | b", p, sizeof(p)), 0);
    assert_string_equal(p, "/bin/sh");
    assert_int_equal(io_script_program("no-such-prog-nospof", p, sizeof(p)), -ENOENT);
    assert_int_equal(io_script_program("", p, sizeof(p)), -EINVAL);
}

static void exit_status_is_reported(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "/bin/true", NULL, 0, 0), 0);
    assert_int_equal(run(f, "false", NULL, 0, 0), 1);
    assert_int_equal(run(f, "/bin/sh -c 'exit 42'", NULL, 0, 0), 42);
    assert_int_equal(run(f, "exit 7", NULL, 0, 0), 127); /* no meta: "exit" is no program */
}

static void exec_failure_is_127_and_logged(void **state)
{
    struct fixture *f = *state;
    char logpath[128], buf[512] = {0};

    snprintf(logpath, sizeof(logpath), "%s/log", f->dir);
    int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    log_init("nospofd", true, false);
    log_set_fd(fd);
    assert_int_equal(run(f, "/nonexistent/script.sh arg", NULL, 0, 0), 127);
    log_set_fd(-1);
    assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
    close(fd);
    assert_non_null(strstr(buf, "ERROR: script /nonexistent/script.sh: exec failed"));
    assert_non_null(strstr(buf, "No such file or directory"));
    assert_int_equal(f->s.exec_failed, 1);
}

/* The script writes its argv to a file; extra args follow the command line's words. */
static void extra_args_are_appended(void **state)
{
    struct fixture *f = *state;
    char script[128], out[128], cmd[512], buf[256] = {0};
    static const char *const args[] = {"INSTANCE", "VI 1", "MASTER", "100"};

    snprintf(script, sizeof(script), "%s/args.sh", f->dir);
    snprintf(out, sizeof(out), "%s/args.out", f->dir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\nfor a in \"$@\"; do printf '[%%s]' \"$a\"; done > \"$OUT\"\n");
    fclose(fp);
    chmod(script, 0755);
    setenv("OUT", out, 1);

    snprintf(cmd, sizeof(cmd), "%s 'first arg' second", script);
    assert_int_equal(run(f, cmd, args, 4, 0), 0);
    fp = fopen(out, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "[first arg][second][INSTANCE][VI 1][MASTER][100]");

    /* The same through the shell path ("$@" appended). */
    snprintf(cmd, sizeof(cmd), "%s 'first arg' second; true", script);
    assert_int_equal(run(f, cmd, args, 2, 0), 0);
    fp = fopen(out, "r");
    assert_non_null(fp);
    memset(buf, 0, sizeof(buf));
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "[first arg][second]"); /* args went to "true" */
    snprintf(cmd, sizeof(cmd), "true; %s 'first arg' second", script);
    assert_int_equal(run(f, cmd, args, 2, 0), 0);
    fp = fopen(out, "r");
    assert_non_null(fp);
    memset(buf, 0, sizeof(buf));
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "[first arg][second][INSTANCE][VI 1]");
    unsetenv("OUT");
}

static void shell_metachars_run_through_sh(void **state)
{
    struct fixture *f = *state;
    char cmd[256], path[128];

    snprintf(path, sizeof(path), "%s/redir", f->dir);
    snprintf(cmd, sizeof(cmd), "echo hi > %s && exit 3", path);
    assert_int_equal(run(f, cmd, NULL, 0, 0), 3);
    assert_int_equal(access(path, F_OK), 0);
}

static void killed_by_signal_is_128_plus_signo(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "/bin/sh -c 'kill -TERM $$'", NULL, 0, 0), 128 + 15);
}

/* Signals blocked in the daemon (for its signalfd) are unblocked in scripts. */
static void child_gets_empty_signal_mask(void **state)
{
    struct fixture *f = *state;
    sigset_t set, old;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int rc = run(f, "/bin/sh -c 'kill -USR1 $$; exit 0'", NULL, 0, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    assert_int_equal(rc, 128 + SIGUSR1);
}

static void child_has_devnull_stdio_and_no_extra_fds(void **state)
{
    struct fixture *f = *state;
    int pfd[2];

    assert_int_equal(pipe(pfd), 0); /* not close-on-exec: must still not leak */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "/bin/sh -c '[ \"$(readlink /proc/self/fd/0)\" = /dev/null ] && "
             "[ ! -e /proc/self/fd/%d ] && [ ! -e /proc/self/fd/3 ]'",
             pfd[1]);
    assert_int_equal(run(f, cmd, NULL, 0, 0), 0);
    close(pfd[0]);
    close(pfd[1]);
}

static void timeout_kills_process_group_in_bounded_time(void **state)
{
    struct fixture *f = *state;
    char pidfile[128], cmd[256], buf[32] = {0};

    snprintf(pidfile, sizeof(pidfile), "%s/grandchild", f->dir);
    /* A shell that starts a sleeping grandchild in the same group, then sleeps itself. */
    snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; sleep 30", pidfile);
    mono_us t0 = io_clock_now();
    assert_int_equal(run(f, cmd, NULL, 0, MONO_MS(200)), -ETIMEDOUT);
    mono_us dt = io_clock_now() - t0;
    assert_true(dt >= MONO_MS(190));
    assert_true(dt < MONO_S(3));
    assert_int_equal(f->s.timed_out, 1);
    FILE *fp = fopen(pidfile, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    pid_t gc = (pid_t)atoi(buf);
    assert_true(gc > 0);
    /* The grandchild got SIGKILL too (it may linger as a zombie until init reaps it). */
    char stat_path[64], st[256] = {0};
    snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)gc);
    for (int i = 0; i < 100; i++) {
        fp = fopen(stat_path, "r");
        if (!fp)
            break;
        char *line = fgets(st, sizeof(st), fp);
        fclose(fp);
        if (line && strstr(st, ") Z "))
            break;
        usleep(10000);
    }
    assert_true(access(stat_path, F_OK) != 0 || strstr(st, ") Z ") != NULL);
}

static void start_does_not_block_the_loop(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    struct io_script_req req = {
        .cmdline = "sleep 0.3", .uid = getuid(), .gid = getgid(), .done = done_cb, .ctx = &r};

    mono_us t0 = io_clock_now();
    assert_int_equal(io_script_run(&f->s, &req), 0);
    assert_int_equal(io_script_run(&f->s, &req), 0);
    assert_true(io_clock_now() - t0 < MONO_MS(200));
    assert_int_equal(f->s.running, 2);
    io_loop_run_once(&f->loop, MONO_MS(50)); /* returns while both still run */
    assert_int_equal(r.calls, 0);
    assert_true(io_clock_now() - t0 < MONO_MS(280));
    mono_us end = io_clock_now() + MONO_S(5);
    while (r.calls < 2 && io_clock_now() < end)
        io_loop_run_once(&f->loop, MONO_MS(100));
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.value, 0);
}

static void fini_kills_running_children_without_done(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    struct io_script_req req = {
        .cmdline = "sleep 30", .uid = getuid(), .gid = getgid(), .done = done_cb, .ctx = &r};

    assert_int_equal(io_script_run(&f->s, &req), 0);
    mono_us t0 = io_clock_now();
    io_scripts_fini(&f->s);
    assert_true(io_clock_now() - t0 < MONO_S(2));
    assert_int_equal(f->s.running, 0);
    assert_int_equal(r.calls, 0);
}

static void runs_as_requested_user(void **state)
{
    struct fixture *f = *state;
    uid_t uid;
    gid_t gid;

    if (getuid() != 0)
        skip();
    assert_int_equal(io_script_resolve_user("nobody", NULL, &uid, &gid), 0);
    assert_int_equal(uid, 65534);
    struct result r = {.value = -1};
    struct io_script_req req = {.cmdline =
                                    "/bin/sh -c '[ $(id -u) = 65534 ] && [ $(id -G) = 65534 ]'",
                                .uid = uid,
                                .gid = 65534,
                                .done = done_cb,
                                .ctx = &r};
    assert_int_equal(io_script_run(&f->s, &req), 0);
    mono_us end = io_clock_now() + MONO_S(5);
    while (r.calls == 0 && io_clock_now() < end)
        io_loop_run_once(&f->loop, MONO_MS(100));
    assert_int_equal(r.value, 0);
}

static void resolve_user_rules(void **state)
{
    uid_t uid = 99;
    gid_t gid = 99;

    assert_int_equal(io_script_resolve_user("root", NULL, &uid, &gid), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(gid, 0);
    assert_int_equal(io_script_resolve_user("nobody", "nogroup", &uid, &gid), 0);
    assert_int_equal(uid, 65534);
    assert_int_equal(gid, 65534);
    assert_int_equal(io_script_resolve_user("0", "123", &uid, &gid), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(gid, 123);
    assert_int_equal(io_script_resolve_user("no-such-user-nospof", NULL, &uid, &gid), -ENOENT);
    assert_int_equal(io_script_resolve_user("root", "no-such-group-nospof", &uid, &gid), -ENOENT);
    assert_int_equal(io_script_resolve_user(NULL, NULL, &uid, &gid), 0);
    uid_t want = 0;
    gid_t wgid = 0;
    if (io_script_resolve_user("keepalived_script", NULL, &want, &wgid) != 0)
        want = wgid = 0;
    assert_int_equal(uid, want);
    assert_int_equal(gid, wgid);
}

static void insecure_detects_writable_paths_and_links(void **state)
{
    struct fixture *f = *state;
    char why[256], d[128], file[160], link[160];

    if (getuid() != 0)
        skip();
    assert_false(io_script_insecure("/bin/sh", why, sizeof(why)));
    assert_string_equal(why, "");
    snprintf(d, sizeof(d), "%s/sec", f->dir); /* /tmp is sticky: allowed */
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(file, sizeof(file), "%s/s.sh", d);
    close(open(file, O_CREAT | O_WRONLY, 0755));
    assert_false(io_script_insecure(file, why, sizeof(why)));

    chmod(file, 0757);
    assert_true(io_script_insecure(file, why, sizeof(why)));
    assert_non_null(strstr(why, "world-writable"));
    chmod(file, 0775);
    assert_false(io_script_insecure(file, why, sizeof(why))); /* group root */
    assert_int_equal(chown(file, 0, 65534), 0);
    assert_true(io_script_insecure(file, why, sizeof(why)));
    assert_non_null(strstr(why, "writable by group 65534"));
    chmod(file, 0755);
    assert_int_equal(chown(d, 65534, 0), 0); /* a parent directory owned by nobody */
    assert_true(io_script_insecure(file, why, sizeof(why)));
    assert_non_null(strstr(why, "owned by uid 65534"));
    assert_int_equal(chown(d, 0, 0), 0);

    snprintf(link, sizeof(link), "%s/link.sh", f->dir);
    assert_int_equal(symlink(file, link), 0);
    assert_false(io_script_insecure(link, why, sizeof(why)));
    assert_int_equal(lchown(link, 65534, 65534), 0);
    assert_true(io_script_insecure(link, why, sizeof(why)));
    assert_non_null(strstr(why, "symlink"));
    assert_true(io_script_insecure("/nonexistent/x", why, sizeof(why)));
    assert_non_null(strstr(why, "cannot"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_honours_quotes_escapes_and_detects_meta),
        cmocka_unit_test(program_resolves_through_path),
        cmocka_unit_test_setup_teardown(exit_status_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(exec_failure_is_127_and_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(extra_args_are_appended, setup, teardown),
        cmocka_unit_test_setup_teardown(shell_metachars_run_through_sh, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_by_signal_is_128_plus_signo, setup, teardown),
        cmocka_unit_test_setup_teardown(child_gets_empty_signal_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(child_has_devnull_stdio_and_no_extra_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(timeout_kills_process_group_in_bounded_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(start_does_not_block_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(fini_kills_running_children_without_done, setup, teardown),
        cmocka_unit_test_setup_teardown(runs_as_requested_user, setup, teardown),
        cmocka_unit_test(resolve_user_rules),
        cmocka_unit_test_setup_teardown(insecure_detects_writable_paths_and_links, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
