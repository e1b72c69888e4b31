/* log: one line per event on stderr, "<time> <level> <program>[<session>] message".
 *
 * The session id names a connection or request so that every line it causes
 * can be found again; pass NULL where there is none.
 */
#ifndef OWNMAIL_LOG_H
#define OWNMAIL_LOG_H

typedef enum { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR } log_level;

void log_init(const char *program, log_level min_level);
void log_msg(log_level level, const char *session, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(sess, ...) log_msg(LOG_LEVEL_DEBUG, (sess), __VA_ARGS__)
#define log_info(sess, ...) log_msg(LOG_LEVEL_INFO, (sess), __VA_ARGS__)
#define log_warn(sess, ...) log_msg(LOG_LEVEL_WARN, (sess), __VA_ARGS__)
#define log_error(sess, ...) log_msg(LOG_LEVEL_ERROR, (sess), __VA_ARGS__)

/* A bug: logs and aborts. */
_Noreturn void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The environment is broken (a missing file, no memory): logs and exits 1. */
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
