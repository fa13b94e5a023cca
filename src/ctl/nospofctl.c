/* nospofctl: the control client of nospofd. Sends one request over the control socket and
 * prints the reply; the daemon renders both the human table and the JSON, so the client
 * stays a thin pipe. Exit status: 0 on "ok", 1 when the daemon answered an error, 2 when it
 * could not be reached. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ctl_server.h"

#define DEFAULT_SOCKET "/run/nospofd.sock"

static void usage(FILE *f)
{
    fprintf(f, "usage: nospofctl [-S SOCKET] COMMAND\n"
               "commands:\n"
               "  status [--json]   VRRP instances: state, priorities, master, counters\n"
               "  reload            re-read the configuration (refused if it has errors)\n"
               "  stop              stop the daemon (a master hands over gracefully)\n");
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

int main(int argc, char **argv)
{
    const char *sock = DEFAULT_SOCKET;
    char request[256];
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
    for (int i = optind + 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
            json = true;
        else {
            fprintf(stderr, "nospofctl: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (strcmp(cmd, "status") != 0 && strcmp(cmd, "reload") != 0 && strcmp(cmd, "stop") != 0) {
        fprintf(stderr, "nospofctl: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    snprintf(request, sizeof(request), "%s%s", cmd,
             json && strcmp(cmd, "status") == 0 ? " json" : "");
    FILE *mem = open_memstream(&reply, &len);
    if (!mem)
        return 2;
    rc = io_ctl_request(sock, request, mem, 10000);
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
