/* metrics: a fixed registry of named counters and gauges, rendered in the
 * Prometheus text exposition format 0.0.4. Metrics never move once made (a
 * fixed array), so a net_metric pointer is valid for the loop's life. */
#include "net_internal.h"

#include "log.h"

#include <string.h>

static bool metric_name_ok(const char *name)
{
    size_t n = strnlen(name, NET_METRIC_NAME_MAX);
    if (n == 0 || n == NET_METRIC_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
            return false;
    }
    return true;
}

static net_metric *metric_make(net_loop *l, const char *name, const char *help,
                               net_metric_type type)
{
    if (name == NULL || !metric_name_ok(name))
        return NULL;
    for (size_t i = 0; i < l->nmetrics; i++) {
        net_metric *m = &l->metrics[i];
        if (strcmp(m->name, name) == 0)
            return m->type == type ? m : NULL;
    }
    if (l->nmetrics == NET_METRICS_MAX) {
        log_warn(NULL, "net: metrics registry full, not adding %s", name);
        return NULL;
    }
    net_metric *m = &l->metrics[l->nmetrics++];
    memcpy(m->name, name, strlen(name) + 1);
    /* Truncating a help text loses nothing that matters. */
    size_t hl = help != NULL ? strnlen(help, NET_METRIC_HELP_MAX - 1) : 0;
    memcpy(m->help, help != NULL ? help : "", hl);
    m->help[hl] = '\0';
    m->type = type;
    atomic_init(&m->value, 0);
    return m;
}

net_metric *net_metric_counter(net_loop *l, const char *name, const char *help)
{
    return metric_make(l, name, help, NET_METRIC_COUNTER);
}

net_metric *net_metric_gauge(net_loop *l, const char *name, const char *help)
{
    return metric_make(l, name, help, NET_METRIC_GAUGE);
}

void net_metric_add(net_metric *m, uint64_t n)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
}

void net_metric_sub(net_metric *m, uint64_t n)
{
    if (m == NULL)
        return;
    uint64_t v = atomic_load_explicit(&m->value, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&m->value, &v, v > n ? v - n : 0,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void net_metric_set(net_metric *m, uint64_t v)
{
    if (m != NULL)
        atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

uint64_t net_metric_get(const net_metric *m)
{
    return m != NULL ? atomic_load_explicit(&m->value, memory_order_relaxed) : 0;
}

uint64_t net_metric_value(net_loop *l, const char *name)
{
    for (size_t i = 0; i < l->nmetrics; i++) {
        if (strcmp(l->metrics[i].name, name) == 0)
            return net_metric_get(&l->metrics[i]);
    }
    return 0;
}

void net_metrics_init(net_loop *l)
{
    l->m_conns_total = net_metric_counter(l, "connections_total", "Connections accepted.");
    l->m_conns_open = net_metric_gauge(l, "connections_open", "Connections open now.");
    l->m_refused = net_metric_counter(l, "connections_refused_total",
                                      "Connections refused by a connection limit.");
    l->m_timed_out = net_metric_counter(l, "connections_timed_out_total",
                                        "Connections closed by an idle or session timeout.");
    l->m_tls_total = net_metric_counter(l, "tls_handshakes_total", "TLS handshakes completed.");
    l->m_tls_failed =
        net_metric_counter(l, "tls_handshakes_failed_total", "TLS handshakes that failed.");
    l->m_jobs = net_metric_counter(l, "pool_jobs_total", "Jobs submitted to the thread pool.");
}

/* HELP text escapes backslash and line feed (exposition format 0.0.4). */
static int render_help(buf *out, const char *help)
{
    for (const char *p = help; *p != '\0'; p++) {
        int r = *p == '\\'   ? buf_append_str(out, "\\\\")
                : *p == '\n' ? buf_append_str(out, "\\n")
                             : buf_append_char(out, *p);
        if (r < 0)
            return -1;
    }
    return 0;
}

int net_metrics_render(net_loop *l, buf *out)
{
    for (size_t i = 0; i < l->nmetrics; i++) {
        const net_metric *m = &l->metrics[i];
        if (buf_printf(out, "# HELP %s ", m->name) < 0 || render_help(out, m->help) < 0 ||
            buf_printf(out, "\n# TYPE %s %s\n%s %llu\n", m->name,
                       m->type == NET_METRIC_COUNTER ? "counter" : "gauge", m->name,
                       (unsigned long long)net_metric_get(m)) < 0)
            return -1;
    }
    return 0;
}
