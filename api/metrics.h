/* metrics: Prometheus text exposition of the api's counters. */
#ifndef OWNMAIL_API_METRICS_H
#define OWNMAIL_API_METRICS_H

#include <civetweb.h>

void metrics_record(const char *prefix, const char *route, const char *method, int status,
                    double seconds);
/* Serves GET /metrics. */
int metrics_handler(struct mg_connection *conn, void *cbdata);

#endif
