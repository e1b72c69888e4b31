/* relay: publishes the events of control.db, in order, to the Redis stream
 * that workers follow (XADD with the event's seq as the entry id, so a
 * repeated publish after a crash is refused by Redis rather than duplicated). */
#ifndef OWNMAIL_API_RELAY_H
#define OWNMAIL_API_RELAY_H

#include <stdint.h>

#define RELAY_STREAM "ownmail:feed"
#define RELAY_STREAM_MAXLEN 100000 /* entries kept in Redis (approximately) */
#define RELAY_EVENTS_KEEP 100000   /* published rows kept in control.db */

typedef struct relay_status {
    int64_t last_seq;      /* newest event in control.db */
    int64_t published_seq; /* newest event known to be in Redis */
    int64_t lag_seconds;   /* age of the oldest unpublished event, 0 if none */
    int redis_ok;
} relay_status;

int relay_start(void);
void relay_stop(void);
/* Tells the relay that a transaction may have appended events. */
void relay_wake(void);
void relay_get_status(relay_status *st);

#endif
