/* Unit tests for io/fifo, io/sys (pidfile, priority) and io/log (line format, detail). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/fifo.h"
#include "io/log.h"
#include "io/sys.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/nospof-test-io-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void fifo_writes_lines_and_drops_when_full(void **state)
{
    char path[128], buf[256] = {0};
    struct io_fifo f;
    struct stat st;

    snprintf(path, sizeof(path), "%s/notify", dir);
    assert_int_equal(io_fifo_open(&f, path), 0); /* no reader: still opens */
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    assert_int_equal(io_fifo_write_line(&f, "INSTANCE \"VI_1\" MASTER 100"), 0);
    assert_int_equal(io_fifo_write_line(&f, "INSTANCE \"VI_1\" BACKUP 100"), 0);
    assert_int_equal(read(rd, buf, sizeof(buf) - 1), 54);
    assert_string_equal(buf, "INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" BACKUP 100\n");
    close(rd);

    char line[200];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    int rc = 0, ok = 0;
    for (int i = 0; i < 10000 && rc == 0; i++) { /* nobody reads: fills up */
        rc = io_fifo_write_line(&f, line);
        ok += rc == 0;
    }
    assert_int_equal(rc, -EAGAIN);
    assert_int_equal(f.drops, 1);
    assert_int_equal(f.lines, 2 + (uint64_t)ok);

    char huge[PIPE_BUF + 1];
    memset(huge, 'y', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(io_fifo_write_line(&f, huge), -EMSGSIZE);
    io_fifo_close(&f);
    io_fifo_close(&f);
    assert_int_equal(io_fifo_write_line(&f, "x"), -EBADF);

    assert_int_equal(io_fifo_open(&f, path), 0); /* reopening an existing FIFO */
    io_fifo_close(&f);
    snprintf(path, sizeof(path), "%s/regular", dir);
    fclose(fopen(path, "w"));
    assert_int_equal(io_fifo_open(&f, path), -EEXIST);
    assert_int_equal(f.fd, -1);
}

static void pidfile_write_remove_and_refuse_live_twin(void **state)
{
    char path[128], buf[32] = {0}, want[32];

    snprintf(path, sizeof(path), "%s/nospofd.pid", dir);
    assert_int_equal(io_pidfile_remove(path), -ENOENT);
    assert_int_equal(io_pidfile_write(path, 0), 0);
    FILE *fp = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    snprintf(want, sizeof(want), "%d\n", (int)getpid());
    assert_string_equal(buf, want);
    assert_int_equal(io_pidfile_write(path, 0), 0); /* our own pid: fine */

    /* A live process with our name (a forked twin) holds it. */
    pid_t twin = fork();
    if (twin == 0) {
        pause();
        _exit(0);
    }
    fp = fopen(path, "w");
    fprintf(fp, "%d\n", (int)twin);
    fclose(fp);
    assert_int_equal(io_pidfile_write(path, 0), -EEXIST);
    assert_int_equal(io_pidfile_remove(path), -ESRCH);
    assert_int_equal(io_pidfile_write(path, twin + 1), -EEXIST);
    assert_int_equal(io_pidfile_write(path, twin), 0); /* an upgrade takes over from it */
    fp = fopen(path, "w");
    fprintf(fp, "%d\n", (int)twin);
    fclose(fp);
    kill(twin, SIGKILL);
    waitpid(twin, NULL, 0);
    assert_int_equal(io_pidfile_write(path, 0), 0); /* stale now */

    fp = fopen(path, "w"); /* pid 1 is not us: a foreign pid is overwritten */
    fprintf(fp, "1\n");
    fclose(fp);
    assert_int_equal(io_pidfile_write(path, 0), 0);
    assert_int_equal(io_pidfile_remove(path), 0);
    assert_int_equal(access(path, F_OK), -1);
}

static void rt_priority_rejects_out_of_range(void **state)
{
    assert_int_equal(io_rt_priority(-1), -EINVAL);
    assert_int_equal(io_rt_priority(100), -EINVAL);
    assert_int_equal(io_rt_priority(0), 0); /* SCHED_OTHER is always allowed */
}

/* Captures the log output of fn into buf. */
static void capture(char *buf, size_t cap, void (*fn)(void))
{
    char path[128];

    snprintf(path, sizeof(path), "%s/log", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    log_set_fd(fd);
    fn();
    log_set_fd(-1);
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

static void emit_all(void)
{
    errno = EPIPE;
    log_err("e %d", 1);
    assert_int_equal(errno, EPIPE); /* logging keeps errno */
    log_warn("w");
    log_notice("n");
    log_info("i\n");
    log_debug("d");
}

static void log_lines_have_the_documented_format(void **state)
{
    char buf[2048];
    regex_t re;

    log_init("nospofd", true, false);
    capture(buf, sizeof(buf), emit_all);
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
                             "nospofd\\[[0-9]+\\]: ERROR: e 1\n",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regexec(&re, buf, 0, NULL, 0), 0);
    regfree(&re);
    assert_non_null(strstr(buf, "]: WARNING: w\n"));
    assert_non_null(strstr(buf, "]: NOTICE: n\n"));
    assert_non_null(strstr(buf, "]: INFO: i\n")); /* the caller's newline is not doubled */
    assert_null(strstr(buf, "DEBUG"));
    char pid[32];
    snprintf(pid, sizeof(pid), "nospofd[%d]: ", (int)getpid());
    assert_non_null(strstr(buf, pid));

    log_init("nospof-test", true, true);
    assert_true(log_debug_enabled());
    capture(buf, sizeof(buf), emit_all);
    assert_non_null(strstr(buf, " nospof-test["));
    assert_non_null(strstr(buf, "]: DEBUG: d\n"));
    log_set_detail(false);
    assert_false(log_debug_enabled());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_writes_lines_and_drops_when_full),
        cmocka_unit_test(pidfile_write_remove_and_refuse_live_twin),
        cmocka_unit_test(rt_priority_rejects_out_of_range),
        cmocka_unit_test(log_lines_have_the_documented_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
