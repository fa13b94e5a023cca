/* The HTTP status listener and the event stream (see status_http.h).
 *
 * The event stream is the one piece of process-wide state here: events come from the manager
 * threads through functions that do not know the daemon (lbm_rs_health, vmgr_event), so the
 * stream (main loop, control socket, queue) is a static object set up by status_http_init and
 * torn down by status_http_fini. Posting takes its mutex; delivery runs on the main loop. */
#include "status_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/addr.h"
#include "base/json.h"
#include "io/log.h"
#include "lbmgr.h"
#include "vmgr.h"

extern const char status_dashboard_html[];
extern const size_t status_dashboard_html_len;
extern const char status_nospof_version[]; /* generated with the page (meson project version) */

#define RECENT_EVENTS 128

struct ev_item {
    struct ev_item *next;
    char *json, *text; /* owned, without the sequence number and newline */
};

static struct {
    pthread_mutex_t mu;
    struct io_loop *loop; /* NULL: stream not running */
    struct io_ctl *ctl;
    struct ev_item *head, *tail;
    bool posted; /* a delivery is queued on the loop */
    uint64_t seq;
    char *recent[RECENT_EVENTS]; /* JSON lines (main thread only) */
} ev = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- Prometheus helpers ---- */

void status_prom_family(struct io_ctl_reply *r, const char *name, const char *type,
                        const char *help)
{
    io_ctl_reply_printf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void status_prom_str(struct io_ctl_reply *r, const char *s)
{
    io_ctl_reply_append(r, "\"", 1);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            io_ctl_reply_printf(r, "\\%c", *s);
        else if (*s == '\n')
            io_ctl_reply_append(r, "\\n", 2);
        else
            io_ctl_reply_append(r, s, 1);
    }
    io_ctl_reply_append(r, "\"", 1);
}

/* ---- event stream ---- */

static void ev_free(struct ev_item *e)
{
    free(e->json);
    free(e->text);
    free(e);
}

/* Keeps the JSON line of a delivered event for /events.json. */
static void ev_remember(const char *json)
{
    free(ev.recent[ev.seq % RECENT_EVENTS]);
    ev.recent[ev.seq % RECENT_EVENTS] = strdup(json);
}

static void ev_deliver_one(struct ev_item *e)
{
    struct io_ctl_reply line = {0};

    ev.seq++;
    io_ctl_reply_printf(&line, "{\"seq\":%llu,%s", (unsigned long long)ev.seq, e->json + 1);
    ev_remember(line.buf);
    io_ctl_reply_append(&line, "\n", 1);
    io_ctl_publish(ev.ctl, STATUS_EV_JSON, line.buf, line.len);
    line.len = 0;
    io_ctl_reply_printf(&line, "%s\n", e->text);
    io_ctl_publish(ev.ctl, STATUS_EV_TEXT, line.buf, line.len);
    free(line.buf);
}

/* Runs on the main loop: delivers everything queued, in posting order. */
static void ev_deliver(void *unused)
{
    pthread_mutex_lock(&ev.mu);
    struct ev_item *list = ev.head;
    ev.head = ev.tail = NULL;
    ev.posted = false;
    pthread_mutex_unlock(&ev.mu);
    while (list) {
        struct ev_item *next = list->next;
        if (ev.ctl)
            ev_deliver_one(list);
        ev_free(list);
        list = next;
    }
}

static void ev_enqueue(struct ev_item *e)
{
    bool post;

    pthread_mutex_lock(&ev.mu);
    if (!ev.loop) {
        pthread_mutex_unlock(&ev.mu);
        ev_free(e);
        return;
    }
    *(ev.tail ? &ev.tail->next : &ev.head) = e;
    ev.tail = e;
    post = !ev.posted;
    ev.posted = true;
    if (post)
        io_loop_post(ev.loop, ev_deliver, NULL);
    pthread_mutex_unlock(&ev.mu);
}

/* Starts an event object: {"time":...,"ts_ms":...,"source":...,"kind":... */
static void ev_begin(struct json_w *w, char *stamp, size_t cap, const char *source,
                     const char *kind)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
    json_w_init(w);
    json_obj_begin(w);
    json_key(w, "time");
    json_str(w, stamp);
    json_key(w, "ts_ms");
    json_int(w, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    json_key(w, "source");
    json_str(w, source);
    json_key(w, "kind");
    json_str(w, kind);
}

/* Ends the object with its "text" and queues it (text line: "TIME SOURCE TEXT"). */
static void ev_end(struct json_w *w, const char *stamp, const char *source, const char *text)
{
    struct ev_item *e = calloc(1, sizeof(*e));
    struct io_ctl_reply t = {0};

    if (!e)
        abort();
    json_key(w, "text");
    json_str(w, text);
    json_obj_end(w);
    e->json = json_w_take(w, NULL);
    io_ctl_reply_printf(&t, "%s %-6s %s", stamp, source, text);
    e->text = t.buf;
    ev_enqueue(e);
}

static bool ev_running(void)
{
    pthread_mutex_lock(&ev.mu);
    bool on = ev.loop != NULL;
    pthread_mutex_unlock(&ev.mu);
    return on;
}

void status_event_vrrp(const char *text)
{
    char stamp[40], name[128], from[16], to[16], reason[48];
    unsigned prio;
    struct json_w w;

    if (!ev_running())
        return;
    bool tr = sscanf(text, "%127[^:]: %15s -> %15s (%47[^,], priority %u)", name, from, to, reason,
                     &prio) == 5;
    ev_begin(&w, stamp, sizeof(stamp), "vrrp", tr ? "transition" : "event");
    if (tr) {
        json_key(&w, "instance");
        json_str(&w, name);
        json_key(&w, "from");
        json_str(&w, from);
        json_key(&w, "to");
        json_str(&w, to);
        json_key(&w, "reason");
        json_str(&w, reason);
        json_key(&w, "priority");
        json_uint(&w, prio);
    }
    ev_end(&w, stamp, "vrrp", text);
}

void status_event_rs(const char *vs, const char *rs, bool up, const char *why)
{
    char stamp[40], text[400];
    struct json_w w;

    if (!ev_running())
        return;
    ev_begin(&w, stamp, sizeof(stamp), "lb", "real_server");
    json_key(&w, "virtual_server");
    json_str(&w, vs);
    json_key(&w, "real_server");
    json_str(&w, rs);
    json_key(&w, "state");
    json_str(&w, up ? "UP" : "DOWN");
    json_key(&w, "why");
    up || !why ? json_null(&w) : json_str(&w, why);
    snprintf(text, sizeof(text), "%s: real server %s is %s%s%s", vs, rs, up ? "UP" : "DOWN",
             up || !why ? "" : ": ", up || !why ? "" : why);
    ev_end(&w, stamp, "lb", text);
}

void status_event_quorum(const char *vs, bool up)
{
    char stamp[40], text[200];
    struct json_w w;

    if (!ev_running())
        return;
    ev_begin(&w, stamp, sizeof(stamp), "lb", "quorum");
    json_key(&w, "virtual_server");
    json_str(&w, vs);
    json_key(&w, "state");
    json_str(&w, up ? "UP" : "DOWN");
    snprintf(text, sizeof(text), "%s: quorum %s", vs, up ? "gained" : "lost");
    ev_end(&w, stamp, "lb", text);
}

void status_event_reload(bool applied, const char *config)
{
    char stamp[40], text[300];
    struct json_w w;

    if (!ev_running())
        return;
    ev_begin(&w, stamp, sizeof(stamp), "daemon", "reload");
    json_key(&w, "applied");
    json_bool(&w, applied);
    snprintf(text, sizeof(text), "reload of %s %s", config,
             applied ? "applied" : "refused (the running configuration stays)");
    ev_end(&w, stamp, "daemon", text);
}

bool status_events_request(const char *line, struct io_ctl_reply *r)
{
    if (strcmp(line, "events") != 0 && strcmp(line, "events json") != 0)
        return false;
    io_ctl_reply_printf(r, "ok\n");
    r->subscribe = line[6] ? STATUS_EV_JSON : STATUS_EV_TEXT;
    return true;
}

/* ---- routes ---- */

static void route_dashboard(void *ctx, const char *query, struct http_resp *resp)
{
    resp->content_type = "text/html; charset=utf-8";
    /* The page is self-contained: the browser may fetch nothing but this origin. */
    resp->headers = "Content-Security-Policy: default-src 'none'; connect-src 'self'; "
                    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\r\n";
    io_ctl_reply_append(&resp->body, status_dashboard_html, status_dashboard_html_len);
}

static void route_status(void *ctx, const char *query, struct http_resp *resp)
{
    struct status_http *sh = ctx;

    resp->content_type = "application/json";
    sh->status_json(sh->status_ctx, &resp->body);
}

static void route_events(void *ctx, const char *query, struct http_resp *resp)
{
    size_t n = ev.seq < RECENT_EVENTS ? (size_t)ev.seq : RECENT_EVENTS;

    resp->content_type = "application/json";
    io_ctl_reply_printf(&resp->body, "[");
    for (size_t k = 0; k < n; k++)
        io_ctl_reply_printf(&resp->body, "%s%s", k ? ",\n" : "",
                            ev.recent[(ev.seq - n + k + 1) % RECENT_EVENTS]);
    io_ctl_reply_printf(&resp->body, "]\n");
}

static void self_metrics(struct status_http *sh, struct io_ctl_reply *r)
{
    const struct http_counters *c = &sh->srv.cnt;

    status_prom_family(r, "nospof_build_info", "gauge", "nospofd version (value 1).");
    io_ctl_reply_printf(r, "nospof_build_info{version=\"%s\"} 1\n", status_nospof_version);
    status_prom_family(r, "nospof_events_total", "counter",
                       "Events delivered to the event stream (nospofctl events).");
    io_ctl_reply_printf(r, "nospof_events_total %llu\n", (unsigned long long)ev.seq);
    status_prom_family(r, "nospof_status_http_responses_total", "counter",
                       "Responses of the status listener by status code.");
    io_ctl_reply_printf(r,
                        "nospof_status_http_responses_total{code=\"200\"} %llu\n"
                        "nospof_status_http_responses_total{code=\"400\"} %llu\n"
                        "nospof_status_http_responses_total{code=\"404\"} %llu\n"
                        "nospof_status_http_responses_total{code=\"405\"} %llu\n",
                        (unsigned long long)c->ok, (unsigned long long)c->bad_request,
                        (unsigned long long)c->not_found, (unsigned long long)c->bad_method);
}

static void route_metrics(void *ctx, const char *query, struct http_resp *resp)
{
    struct status_http *sh = ctx;

    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    self_metrics(sh, &resp->body);
    vmgr_metrics(sh->vmgr, &resp->body);
    if (*sh->lb_running)
        lbmgr_metrics(sh->lbmgr, &resp->body);
}

/* ---- lifecycle ---- */

void status_http_init(struct status_http *sh, struct io_loop *loop, struct io_ctl *ctl,
                      struct vmgr *vmgr, struct lbmgr *lbmgr, const bool *lb_running,
                      status_json_fn *status_json, void *status_ctx)
{
    *sh = (struct status_http){.loop = loop,
                               .vmgr = vmgr,
                               .lbmgr = lbmgr,
                               .lb_running = lb_running,
                               .status_json = status_json,
                               .status_ctx = status_ctx};
    sh->srv.fd = -1;
    http_server_route(&sh->srv, "/", route_dashboard, sh);
    http_server_route(&sh->srv, "/metrics", route_metrics, sh);
    http_server_route(&sh->srv, "/status.json", route_status, sh);
    http_server_route(&sh->srv, "/events.json", route_events, sh);
    pthread_mutex_lock(&ev.mu);
    ev.loop = loop;
    ev.ctl = ctl;
    pthread_mutex_unlock(&ev.mu);
}

static bool same_listen(const struct status_http *sh, const struct cfg_global *g)
{
    return sh->addr.family == g->status_listen.addr.family &&
           (sh->addr.family == IP_NONE ||
            (ip_addr_eq(&sh->addr, &g->status_listen.addr) && sh->port == g->status_listen.port));
}

int status_http_apply(struct status_http *sh, const struct cfg_global *g)
{
    char a[IP_ADDR_STRLEN];

    if (same_listen(sh, g) && (sh->addr.family == IP_NONE || sh->srv.fd >= 0))
        return 0;
    http_server_close(&sh->srv);
    sh->addr = g->status_listen.addr;
    sh->port = g->status_listen.port;
    if (sh->addr.family == IP_NONE)
        return 0;
    ip_addr_format(&sh->addr, a, sizeof(a));
    int rc = http_server_listen(&sh->srv, sh->loop, &sh->addr, sh->port);
    if (rc < 0)
        log_err("status listener %s port %u: %s", a, sh->port, strerror(-rc));
    else
        log_notice("status listener on %s port %u (/metrics, /status.json, /)", a, sh->port);
    return rc;
}

void status_http_fini(struct status_http *sh)
{
    http_server_close(&sh->srv);
    sh->addr.family = IP_NONE;
    pthread_mutex_lock(&ev.mu);
    ev.loop = NULL;
    ev.ctl = NULL;
    while (ev.head) {
        struct ev_item *e = ev.head;
        ev.head = e->next;
        ev_free(e);
    }
    ev.tail = NULL;
    pthread_mutex_unlock(&ev.mu);
    for (size_t i = 0; i < RECENT_EVENTS; i++) {
        free(ev.recent[i]);
        ev.recent[i] = NULL;
    }
}
