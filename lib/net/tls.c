/* tls: OpenSSL 3 server contexts, their reload, and STARTTLS.
 *
 * A net_tls_ctx holds the current SSL_CTX. A reload builds a whole new
 * SSL_CTX from the files and swaps it in only if it loaded; the old one is
 * released by the swap but lives on while SSL objects made from it exist
 * (SSL_new takes a reference), so open sessions are never dropped. */
#include "net_internal.h"

#include "log.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TLS 1.2 suites: forward secrecy and AEAD only, ECDSA and RSA keys (the
 * "intermediate" profile); TLS 1.3 keeps OpenSSL's defaults, all AEAD. */
#define NET_TLS12_CIPHERS                                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

static void tls_error(char *err, size_t errlen, const char *what)
{
    if (err == NULL || errlen == 0)
        return;
    unsigned long e = ERR_peek_last_error();
    char detail[160] = "";
    if (e != 0)
        ERR_error_string_n(e, detail, sizeof(detail));
    snprintf(err, errlen, "%s%s%s", what, e != 0 ? ": " : "", detail);
    ERR_clear_error();
}

void net_tls_log_errors(const char *session, const char *what)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        log_info(session, "net: %s failed (connection reset or closed)", what);
        return;
    }
    char detail[160];
    ERR_error_string_n(e, detail, sizeof(detail));
    log_info(session, "net: %s failed: %s", what, detail);
    ERR_clear_error();
}

static SSL_CTX *tls_load(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_error(err, errlen, "SSL_CTX_new");
        return NULL;
    }
    /* RFC 8996: no TLS 1.0 or 1.1. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_dh_auto(ctx, 1);
    if (SSL_CTX_set_cipher_list(ctx, NET_TLS12_CIPHERS) != 1) {
        tls_error(err, errlen, "cipher list");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        tls_error(err, errlen, "certificate");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_error(err, errlen, "private key");
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_error(err, errlen, "the key does not match the certificate");
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int net_tls_ctx_new(const char *cert_file, const char *key_file, net_tls_ctx **r, char *err,
                    size_t errlen)
{
    *r = NULL;
    net_tls_ctx *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    t->cert_file = strdup(cert_file);
    t->key_file = strdup(key_file);
    if (t->cert_file == NULL || t->key_file == NULL) {
        net_tls_ctx_free(&t);
        return -1;
    }
    t->ctx = tls_load(cert_file, key_file, err, errlen);
    if (t->ctx == NULL) {
        net_tls_ctx_free(&t);
        return -1;
    }
    *r = t;
    return 0;
}

int net_tls_ctx_reload(net_tls_ctx *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_load(t->cert_file, t->key_file, err, errlen);
    if (ctx == NULL)
        return -1;
    SSL_CTX_free(t->ctx); /* drops our reference; open sessions hold theirs */
    t->ctx = ctx;
    return 0;
}

void net_tls_ctx_free(net_tls_ctx **tp)
{
    if (tp == NULL || *tp == NULL)
        return;
    net_tls_ctx *t = *tp;
    SSL_CTX_free(t->ctx);
    free(t->cert_file);
    free(t->key_file);
    free(t);
    *tp = NULL;
}

SSL *net_tls_new_ssl(net_tls_ctx *t, int fd)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(t->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        net_tls_log_errors(NULL, "SSL_new");
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

int net_conn_starttls(net_conn *c)
{
    /* Not under compression: TLS would have to go below a DEFLATE stream
     * that has already begun (RFC 4978 section 3 puts TLS under COMPRESS). */
    if (c->tls == NULL || c->tls_state != NET_TLS_NONE || c->closing || c->z != NULL)
        return -1;
    /* RFC 3207 section 6 and RFC 2595 section 3.1: what the client sent
     * after the STARTTLS command came in plaintext and must never be read as
     * commands of the TLS session (CVE-2011-0411). Keep the bytes themselves
     * in place: the protocol may still hold the STARTTLS line. */
    size_t dropped = c->in.len - c->in_pos;
    if (dropped > 0)
        log_warn(c->session,
                 "net: discarded %zu bytes of plaintext sent after STARTTLS (RFC 3207 section 6)",
                 dropped);
    c->in.len = 0;
    c->in_pos = 0;
    c->skipping = false;
    c->want_data = false;
    c->out_plain = c->out.len - c->out_pos;
    c->tls_state = NET_TLS_STARTING;
    net_conn_schedule(c);
    return 0;
}

bool net_conn_is_tls(const net_conn *c)
{
    return c->tls_state == NET_TLS_ON && c->ssl != NULL;
}

const char *net_conn_tls_version(const net_conn *c)
{
    return net_conn_is_tls(c) ? SSL_get_version(c->ssl) : NULL;
}

const char *net_conn_tls_cipher(const net_conn *c)
{
    return net_conn_is_tls(c) ? SSL_get_cipher_name(c->ssl) : NULL;
}

int net_conn_tls_bits(const net_conn *c)
{
    return net_conn_is_tls(c) ? SSL_get_cipher_bits(c->ssl, NULL) : 0;
}
