/* TLS for SSL_GET over memory BIOs: OpenSSL never touches the socket. Ciphertext the engine
 * produces is drained from the write BIO to the non-blocking socket, and whatever the socket
 * delivers is pushed into the read BIO, so the handshake and the records are driven by the
 * probe's loop callbacks and never block. Also the shared client SSL_CTX (TLS 1.2 or later;
 * no certificate verification unless the SSL block gives a CA). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/addr.h"
#include "io/probe_priv.h"

struct probe_tls {
    SSL_CTX *own_ctx; /* when the checker needs its own CA/cert/key */
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool eof;
};

static void ossl_why(const char *what, char *why, size_t cap)
{
    unsigned long e = ERR_get_error();
    char buf[160];

    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(why, cap, "%s: %s", what, e ? buf : "error");
    ERR_clear_error();
}

void *probe_ssl_ctx_new(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        return NULL;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* a server that closes without close_notify after the response is not an error here */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ctx;
}

void probe_ssl_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

/* A dedicated context for a checker whose SSL block names a CA, a certificate or a key. */
static SSL_CTX *own_ctx(const struct probe_http_cfg *cfg, char *why, size_t cap)
{
    SSL_CTX *ctx = probe_ssl_ctx_new();

    if (ctx == NULL) {
        ossl_why("SSL_CTX_new", why, cap);
        return NULL;
    }
    if ((cfg->ca_file && !SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)) ||
        (cfg->cert_file && !SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file)) ||
        (cfg->key_file && !SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM))) {
        ossl_why("SSL files", why, cap);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->tls_verify && cfg->ca_file == NULL && !SSL_CTX_set_default_verify_paths(ctx)) {
        ossl_why("default CA paths", why, cap);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->tls_verify)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

static int setup_ssl(struct probe_tls *t, const struct probe_http_cfg *cfg, const char *host)
{
    struct ip_addr literal;
    const char *sni = cfg->sni_name ? cfg->sni_name : host;

    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->rbio == NULL || t->wbio == NULL) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        return -ENOMEM;
    }
    BIO_set_mem_eof_return(t->rbio, -1); /* empty: "retry", not EOF */
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_connect_state(t->ssl);
    /* RFC 6066 section 3: SNI carries a host name, never an IP literal */
    if (cfg->enable_sni && sni && !ip_addr_parse(sni, &literal) &&
        !SSL_set_tlsext_host_name(t->ssl, sni))
        return -EPROTO;
    if (cfg->tls_verify && host && !SSL_set1_host(t->ssl, host))
        return -EPROTO;
    return 0;
}

int probe_tls_new(struct probe_env *env, const struct probe_http_cfg *cfg, const char *host,
                  struct probe_tls **out, char *why, size_t cap)
{
    struct probe_tls *t = calloc(1, sizeof(*t));
    SSL_CTX *ctx = env->ssl_ctx;
    int rc;

    *out = NULL;
    if (t == NULL)
        return -ENOMEM;
    if (cfg->ca_file || cfg->cert_file || cfg->key_file || cfg->tls_verify) {
        if ((t->own_ctx = own_ctx(cfg, why, cap)) == NULL) {
            free(t);
            return -EPROTO;
        }
        ctx = t->own_ctx;
    }
    if (ctx == NULL || (t->ssl = SSL_new(ctx)) == NULL) {
        ossl_why("SSL_new", why, cap);
        probe_tls_free(t);
        return -EPROTO;
    }
    if ((rc = setup_ssl(t, cfg, host)) < 0) {
        ossl_why("SSL setup", why, cap);
        probe_tls_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void probe_tls_free(struct probe_tls *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    SSL_CTX_free(t->own_ctx);
    free(t);
}

enum probe_tls_rc probe_tls_flush(struct probe_tls *t, int fd, char *why, size_t cap)
{
    char *data;
    long pending;

    while ((pending = BIO_get_mem_data(t->wbio, &data)) > 0) {
        ssize_t n = send(fd, data, (size_t)pending, MSG_NOSIGNAL);
        char sink[4096];

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return PROBE_TLS_WANT_WRITE;
        if (n < 0) {
            snprintf(why, cap, "send: %s", strerror(errno));
            return PROBE_TLS_ERROR;
        }
        for (ssize_t left = n; left > 0;) { /* drop what was sent */
            int r = BIO_read(t->wbio, sink,
                             left > (ssize_t)sizeof(sink) ? (int)sizeof(sink) : (int)left);
            if (r <= 0)
                break;
            left -= r;
        }
    }
    return PROBE_TLS_OK;
}

/* Moves what the socket holds into the read BIO: OK when bytes arrived, WANT_READ, EOF. */
static enum probe_tls_rc fill(struct probe_tls *t, int fd, char *why, size_t cap)
{
    char buf[16384];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);

    if (n > 0) {
        BIO_write(t->rbio, buf, (int)n);
        return PROBE_TLS_OK;
    }
    if (n == 0) {
        t->eof = true;
        BIO_set_mem_eof_return(t->rbio, 0);
        return PROBE_TLS_EOF;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return PROBE_TLS_WANT_READ;
    snprintf(why, cap, "recv: %s", strerror(errno));
    return PROBE_TLS_ERROR;
}

/* After an SSL call returned rc <= 0: flush, then read more if the engine wants input. */
static enum probe_tls_rc after_call(struct probe_tls *t, int fd, int rc, const char *what,
                                    char *why, size_t cap)
{
    int err = SSL_get_error(t->ssl, rc);
    enum probe_tls_rc f;

    if (err == SSL_ERROR_ZERO_RETURN)
        return PROBE_TLS_EOF;
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        ossl_why(what, why, cap);
        return PROBE_TLS_ERROR;
    }
    if ((f = probe_tls_flush(t, fd, why, cap)) != PROBE_TLS_OK)
        return f;
    if (err == SSL_ERROR_WANT_WRITE)
        return PROBE_TLS_OK; /* the write BIO never fills; try again */
    if (t->eof) {
        snprintf(why, cap, "%s: connection closed", what);
        return PROBE_TLS_EOF;
    }
    return fill(t, fd, why, cap);
}

enum probe_tls_rc probe_tls_handshake(struct probe_tls *t, int fd, char *why, size_t cap)
{
    for (;;) {
        int rc = SSL_do_handshake(t->ssl);
        enum probe_tls_rc r;

        if (rc == 1)
            return probe_tls_flush(t, fd, why, cap);
        r = after_call(t, fd, rc, "TLS handshake", why, cap);
        if (r != PROBE_TLS_OK)
            return r;
    }
}

enum probe_tls_rc probe_tls_write(struct probe_tls *t, int fd, const void *buf, size_t len,
                                  char *why, size_t cap)
{
    size_t written = 0;

    /* a memory write BIO takes every record, so SSL_write completes in one call */
    if (len > 0 && SSL_write_ex(t->ssl, buf, len, &written) != 1) {
        ossl_why("SSL_write", why, cap);
        return PROBE_TLS_ERROR;
    }
    return probe_tls_flush(t, fd, why, cap);
}

enum probe_tls_rc probe_tls_read(struct probe_tls *t, int fd, void *buf, size_t cap_buf,
                                 size_t *got, char *why, size_t cap)
{
    *got = 0;
    for (;;) {
        int rc = SSL_read_ex(t->ssl, buf, cap_buf, got);
        enum probe_tls_rc r;

        if (rc == 1)
            return PROBE_TLS_OK;
        r = after_call(t, fd, rc, "TLS read", why, cap);
        if (r != PROBE_TLS_OK)
            return r;
    }
}
