#include "metrics.h"

#include "buf.h"
#include "relay.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define METRICS_SERIES_MAX 512 /* distinct (route, method, status) triples */
#define METRICS_ROUTES_MAX 128
#define METRICS_OUTPUT_MAX (1024 * 1024)

static const double metrics_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
#define METRICS_NBUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

typedef struct {
    char route[160];
    char method[8];
    int status;
    unsigned long long count;
} metrics_series;

typedef struct {
    char route[160];
    unsigned long long buckets[METRICS_NBUCKETS];
    unsigned long long count;
    double sum;
} metrics_histogram;

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static metrics_series metrics_counts[METRICS_SERIES_MAX];
static int metrics_ncounts;
static metrics_histogram metrics_hist[METRICS_ROUTES_MAX];
static int metrics_nhist;

void metrics_record(const char *prefix, const char *route, const char *method, int status,
                    double seconds)
{
    char full[160];
    snprintf(full, sizeof(full), "%s%s", prefix, route);
    pthread_mutex_lock(&metrics_lock);
    int i;
    for (i = 0; i < metrics_ncounts; i++)
        if (metrics_counts[i].status == status && strcmp(metrics_counts[i].route, full) == 0 &&
            strcmp(metrics_counts[i].method, method) == 0)
            break;
    if (i == metrics_ncounts && i < METRICS_SERIES_MAX) {
        snprintf(metrics_counts[i].route, sizeof(metrics_counts[i].route), "%s", full);
        snprintf(metrics_counts[i].method, sizeof(metrics_counts[i].method), "%s", method);
        metrics_counts[i].status = status;
        metrics_ncounts++;
    }
    if (i < METRICS_SERIES_MAX)
        metrics_counts[i].count++;
    for (i = 0; i < metrics_nhist; i++)
        if (strcmp(metrics_hist[i].route, full) == 0)
            break;
    if (i == metrics_nhist && i < METRICS_ROUTES_MAX) {
        snprintf(metrics_hist[i].route, sizeof(metrics_hist[i].route), "%s", full);
        metrics_nhist++;
    }
    if (i < METRICS_ROUTES_MAX) {
        metrics_histogram *h = &metrics_hist[i];
        for (size_t b = 0; b < METRICS_NBUCKETS; b++)
            if (seconds <= metrics_buckets[b])
                h->buckets[b]++;
        h->count++;
        h->sum += seconds;
    }
    pthread_mutex_unlock(&metrics_lock);
}

static void metrics_write(buf *b)
{
    buf_append_str(b, "# HELP ownmail_http_requests_total HTTP requests by route, method and "
                      "status.\n# TYPE ownmail_http_requests_total counter\n");
    pthread_mutex_lock(&metrics_lock);
    for (int i = 0; i < metrics_ncounts; i++)
        buf_printf(b,
                   "ownmail_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                   metrics_counts[i].route, metrics_counts[i].method, metrics_counts[i].status,
                   metrics_counts[i].count);
    buf_append_str(b, "# HELP ownmail_http_request_duration_seconds Time to answer a request.\n"
                      "# TYPE ownmail_http_request_duration_seconds histogram\n");
    for (int i = 0; i < metrics_nhist; i++) {
        const metrics_histogram *h = &metrics_hist[i];
        for (size_t k = 0; k < METRICS_NBUCKETS; k++)
            buf_printf(b,
                       "ownmail_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                       "%llu\n",
                       h->route, metrics_buckets[k], h->buckets[k]);
        buf_printf(b,
                   "ownmail_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                   "ownmail_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                   "ownmail_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                   h->route, h->count, h->route, h->sum, h->route, h->count);
    }
    pthread_mutex_unlock(&metrics_lock);
    relay_status st;
    relay_get_status(&st);
    buf_printf(b,
               "# HELP ownmail_feed_last_seq Newest change-feed event in control.db.\n"
               "# TYPE ownmail_feed_last_seq gauge\nownmail_feed_last_seq %lld\n"
               "# HELP ownmail_feed_published_seq Newest event published to Redis.\n"
               "# TYPE ownmail_feed_published_seq gauge\nownmail_feed_published_seq %lld\n"
               "# HELP ownmail_feed_lag_events Events written but not yet published.\n"
               "# TYPE ownmail_feed_lag_events gauge\nownmail_feed_lag_events %lld\n"
               "# HELP ownmail_feed_lag_seconds Age of the oldest unpublished event.\n"
               "# TYPE ownmail_feed_lag_seconds gauge\nownmail_feed_lag_seconds %lld\n",
               (long long)st.last_seq, (long long)st.published_seq,
               (long long)(st.last_seq - st.published_seq), (long long)st.lag_seconds);
}

int metrics_handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    buf b;
    buf_init(&b, METRICS_OUTPUT_MAX);
    metrics_write(&b);
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
              b.len);
    mg_write(conn, b.data, b.len);
    buf_free(&b);
    return 200;
}
