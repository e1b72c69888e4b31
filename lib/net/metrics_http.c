/* metrics_http: GET /metrics over HTTP/1.x on a loopback listener of the
 * loop, served by lib/net's own connections (see net.h for why loopback). */
#include "net_internal.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

typedef struct metrics_req {
    bool have_request_line;
    unsigned headers;
    int status;
} metrics_req;

static bool is_tchar(char ch)
{
    /* RFC 9110 section 5.6.2 token characters. */
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int net_http_request_parse(const char *line, size_t len, const char **method_r,
                           size_t *method_len_r, const char **target_r, size_t *target_len_r)
{
    /* RFC 9112 section 3: method SP request-target SP HTTP-version. */
    size_t i = 0;
    while (i < len && is_tchar(line[i]))
        i++;
    if (i == 0 || i >= len || line[i] != ' ')
        return -1;
    *method_r = line;
    *method_len_r = i;
    size_t t = ++i;
    while (i < len && (unsigned char)line[i] > ' ' && (unsigned char)line[i] != 0x7f)
        i++;
    if (i == t || i >= len || line[i] != ' ')
        return -1;
    *target_r = line + t;
    *target_len_r = i - t;
    i++;
    static const char v10[] = "HTTP/1.0", v11[] = "HTTP/1.1";
    if (len - i != sizeof(v10) - 1 || (memcmp(line + i, v10, sizeof(v10) - 1) != 0 &&
                                       memcmp(line + i, v11, sizeof(v11) - 1) != 0))
        return -1;
    return 0;
}

static int request_status(const net_line *line)
{
    const char *method, *target;
    size_t ml, tl;
    if (net_http_request_parse(line->data, line->len, &method, &ml, &target, &tl) < 0)
        return 400;
    if (!(ml == 3 && memcmp(method, "GET", 3) == 0))
        return 405;
    const char *q = memchr(target, '?', tl);
    size_t path_len = q != NULL ? (size_t)(q - target) : tl;
    if (path_len != 8 || memcmp(target, "/metrics", 8) != 0)
        return 404;
    return 200;
}

static void respond(net_conn *c, int status)
{
    buf body;
    buf_init(&body, NET_METRICS_OUT_MAX / 2);
    const char *reason = "OK";
    if (status == 200 && net_metrics_render(net_conn_loop(c), &body) < 0) {
        status = 500;
        buf_reset(&body);
    }
    switch (status) {
    case 400:
        reason = "Bad Request";
        break;
    case 404:
        reason = "Not Found";
        break;
    case 405:
        reason = "Method Not Allowed";
        break;
    case 500:
        reason = "Internal Server Error";
        break;
    default:
        break;
    }
    if (status != 200)
        buf_printf(&body, "%d %s\n", status, reason);
    net_conn_printf(c,
                    "HTTP/1.0 %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                    status, reason, body.len, status == 405 ? "Allow: GET\r\n" : "");
    if (body.len > 0)
        net_conn_write(c, body.data, body.len);
    buf_free(&body);
    net_conn_close(c);
}

static void metrics_open(net_conn *c)
{
    metrics_req *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        net_conn_abort(c);
        return;
    }
    net_conn_set_data(c, r);
    net_conn_set_timeouts(c, NET_METRICS_TIMEOUT_MS, NET_METRICS_TIMEOUT_MS);
}

static void metrics_data(net_conn *c)
{
    metrics_req *r = net_conn_data(c);
    net_line line;
    int rc;
    while ((rc = net_conn_read_line(c, NET_METRICS_LINE_MAX, &line)) != 0) {
        if (rc < 0) {
            respond(c, 400);
            return;
        }
        if (!r->have_request_line) {
            r->have_request_line = true;
            r->status = request_status(&line);
            continue;
        }
        if (line.len == 0) { /* the end of the header section */
            respond(c, r->status);
            return;
        }
        if (++r->headers > NET_METRICS_HEADERS_MAX) {
            respond(c, 400);
            return;
        }
    }
}

static void metrics_close(net_conn *c, net_close_reason why)
{
    (void)why;
    free(net_conn_data(c));
}

static const net_handler metrics_handler = {
    .on_open = metrics_open,
    .on_data = metrics_data,
    .on_close = metrics_close,
};

int net_metrics_listen(net_loop *l, const char *addr, net_listener **r)
{
    net_listen_opts o = {.addr = addr, .handler = &metrics_handler};
    return net_listen_internal(l, &o, true, r);
}
