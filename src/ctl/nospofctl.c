/* nospofctl: the control client of nospofd. Sends one request over the control socket and
 * prints the reply; the daemon renders both the human table and the JSON, so the client
 * stays a thin pipe. Exit status: 0 on "ok", 1 when the daemon answered an error, 2 when it
 * could not be reached. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ctl_server.h"

#define DEFAULT_SOCKET "/run/nospofd.sock"

static void usage(FILE *f)
{
    fprintf(f, "usage: nospofctl [-S SOCKET] COMMAND\n"
               "commands:\n"
               "  status [--json]          VRRP instances and virtual servers\n"
               "  lb [--stats|--rate|--http] [--json]\n"
               "                           virtual and real servers, like ipvsadm -L -n\n"
               "  lb --persist|--flows [--json]\n"
               "                           persistence templates, or the flows (proxy: UDP;\n"
               "                           packet data plane: TCP and UDP), like ipvsadm -Lc\n"
               "  weight VS RS N           set a real server's weight (0..65535)\n"
               "  drain VS RS              weight 0: no new connections, existing ones stay\n"
               "  disable VS RS            take a real server out of scheduling\n"
               "  enable VS RS             back to its configured weight, in service\n"
               "  events [--json]          follow transitions, check changes and reloads as they\n"
               "                           happen (one JSON object per line with --json)\n"
               "  reload                   re-read the configuration (refused if it has errors)\n"
               "  upgrade [BINARY]         replace the running daemon by BINARY (default: the\n"
               "                           one it runs) without dropping a connection or a VIP\n"
               "  stop                     stop the daemon (a master hands over gracefully)\n"
               "VS and RS are IP:PORT or [IPv6]:PORT; a VS may be prefixed tcp: or udp:.\n");
}

static bool is_admin(const char *cmd)
{
    return strcmp(cmd, "weight") == 0 || strcmp(cmd, "drain") == 0 || strcmp(cmd, "disable") == 0 ||
           strcmp(cmd, "enable") == 0;
}

/* Turns the command line into the control request line (docs/dev/control.md). */
static int build_request(const char *cmd, int argc, char **argv, bool json, char *out, size_t cap)
{
    size_t n;

    if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "status") == 0) {
        for (int i = 0; i < argc; i++)
            if (strcmp(argv[i], "--json") != 0 && strcmp(argv[i], "-j") != 0)
                return -1;
        json = json || argc > 0;
        snprintf(out, cap, "%s%s", cmd, json && strcmp(cmd, "status") == 0 ? " json" : "");
        return 0;
    }
    if (strcmp(cmd, "upgrade") == 0) { /* the daemon runs in /: give it an absolute path */
        char path[PATH_MAX];
        if (argc > 1)
            return -1;
        if (argc == 1 && !realpath(argv[0], path)) /* the daemon will say what is wrong */
            snprintf(path, sizeof(path), "%s", argv[0]);
        n = (size_t)snprintf(out, cap, "upgrade%s%s", argc ? " " : "", argc ? path : "");
        return n < cap ? 0 : -1;
    }
    if (strcmp(cmd, "events") == 0) {
        for (int i = 0; i < argc; i++)
            if (strcmp(argv[i], "--json") != 0 && strcmp(argv[i], "-j") != 0)
                return -1;
        snprintf(out, cap, "events%s", json || argc > 0 ? " json" : "");
        return 0;
    }
    if (strcmp(cmd, "lb") == 0) {
        static const char *const flags[] = {"--stats", "--rate", "--http", "--persist", "--flows"};
        n = (size_t)snprintf(out, cap, "lb list");
        for (int i = 0; i < argc; i++) {
            bool known = strcmp(argv[i], "list") == 0;
            json |= strcmp(argv[i], "--json") == 0;
            known |= strcmp(argv[i], "--json") == 0;
            for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
                if (strcmp(argv[i], flags[k]) == 0) {
                    n += (size_t)snprintf(out + n, cap > n ? cap - n : 0, " %s", flags[k] + 2);
                    known = true;
                }
            if (!known)
                return -1;
        }
        if (json)
            n += (size_t)snprintf(out + n, cap > n ? cap - n : 0, " json");
        return n < cap ? 0 : -1;
    }
    if (!is_admin(cmd) || argc < 2 || argc > 3 || (strcmp(cmd, "weight") == 0) != (argc == 3))
        return -1;
    n = (size_t)snprintf(out, cap, "lb %s", cmd);
    for (int i = 0; i < argc && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, " %s", argv[i]);
    return n < cap ? 0 : -1;
}

/* Splits the reply: its first line is "ok" or "error: ..."; prints the rest to stdout. */
static int print_reply(char *reply, size_t len)
{
    char *nl = memchr(reply, '\n', len);
    size_t head = nl ? (size_t)(nl - reply) : len;
    bool ok = head == 2 && strncmp(reply, "ok", 2) == 0;

    if (!ok)
        fprintf(stderr, "nospofctl: %.*s\n", (int)head, reply);
    if (nl)
        fwrite(nl + 1, 1, len - head - 1, ok ? stdout : stderr);
    return ok ? 0 : 1;
}

/* The event stream: the first line ("ok" or "error: ...") is consumed here, every later byte
 * goes to stdout at once (line-buffered consumers such as tests see each event as it comes). */
struct stream_state {
    char head[256];
    size_t hlen;
    bool head_done, ok;
};

static ssize_t stream_write(void *cookie, const char *buf, size_t n)
{
    struct stream_state *st = cookie;
    size_t off = 0;

    while (!st->head_done && off < n) {
        char ch = buf[off++];
        if (ch == '\n') {
            st->head_done = true;
            st->ok = st->hlen == 2 && strncmp(st->head, "ok", 2) == 0;
            if (!st->ok)
                fprintf(stderr, "nospofctl: %.*s\n", (int)st->hlen, st->head);
        } else if (st->hlen < sizeof(st->head)) {
            st->head[st->hlen++] = ch;
        }
    }
    if (off < n) {
        fwrite(buf + off, 1, n - off, st->ok ? stdout : stderr);
        fflush(st->ok ? stdout : stderr);
    }
    return (ssize_t)n;
}

static int follow_events(const char *sock, const char *request)
{
    struct stream_state st = {0};
    cookie_io_functions_t fns = {.write = stream_write};
    FILE *f = fopencookie(&st, "w", fns);

    if (!f)
        return 2;
    setvbuf(f, NULL, _IONBF, 0);
    int rc = io_ctl_stream(sock, request, f);
    fclose(f);
    if (rc < 0) {
        fprintf(stderr, "nospofctl: cannot talk to nospofd at %s: %s\n", sock, strerror(-rc));
        return 2;
    }
    return st.ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *sock = DEFAULT_SOCKET;
    char request[IO_CTL_MAX_LINE];
    bool json = false;
    char *reply = NULL;
    size_t len = 0;
    int c, rc;

    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "+S:jh", longopts, NULL)) != -1) {
        if (c == 'S')
            sock = optarg;
        else if (c == 'j')
            json = true;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind];
    if (build_request(cmd, argc - optind - 1, argv + optind + 1, json, request, sizeof(request)) <
        0) {
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "events") == 0)
        return follow_events(sock, request);
    FILE *mem = open_memstream(&reply, &len);
    if (!mem)
        return 2;
    /* An upgrade waits for the new process to be ready (upgrade.h: up to 30 s). */
    rc = io_ctl_request(sock, request, mem, strcmp(cmd, "upgrade") == 0 ? 45000 : 10000);
    fclose(mem);
    if (rc < 0) {
        fprintf(stderr, "nospofctl: cannot talk to nospofd at %s: %s\n", sock, strerror(-rc));
        free(reply);
        return 2;
    }
    rc = print_reply(reply, len);
    free(reply);
    return rc;
}
