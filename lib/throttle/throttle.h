/* throttle: failed-login counters in Redis, shared by the api and the
 * workers (DESIGN.md: "rate-limit and auth-failure counters").
 *
 * Two counters per attempt, both with the same window:
 *   ownmail:throttle:<scope>:ip:<client address>
 *   ownmail:throttle:<scope>:acct:<account>
 * throttle_count counts the attempt on both in one atomic step (a Lua
 * script) BEFORE the credential is checked, so concurrent guesses cannot all
 * slip past the limit; throttle_forgive then forgets the account's count
 * and takes the attempt back from the address's. A failure needs no call:
 * the attempt stays counted.
 *
 * Redis is reached through a caller-supplied command function, so the api
 * (one connection per thread, reconnecting) and the workers (a connection
 * per pool thread) keep their own connection handling.
 */
#ifndef OWNMAIL_THROTTLE_H
#define OWNMAIL_THROTTLE_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define THROTTLE_KEY_MAX 400 /* bytes of a counter key */

/* Runs one command (argv form) and returns its reply (the caller frees it
 * with freeReplyObject) or NULL when Redis cannot be reached. */
typedef redisReply *throttle_cmd_fn(void *ctx, int argc, const char **argv, const size_t *lens);

typedef struct {
    long long window;      /* seconds a failure is remembered */
    long long ip_max;      /* attempts per client address within the window */
    long long account_max; /* attempts per account within the window */
} throttle_policy;

typedef enum {
    THROTTLE_OK = 0,          /* go on and check the credential */
    THROTTLE_OVER = 1,        /* too many: refuse without checking */
    THROTTLE_UNAVAILABLE = 2, /* no Redis: refuse (fail closed, no limit otherwise) */
} throttle_result;

/* Counts an attempt of account from ip in scope ("admin", "user", "smtp",
 * ...). On THROTTLE_OVER, *retry_after_r (may be NULL) is the seconds until
 * the counter that is over expires. */
throttle_result throttle_count(throttle_cmd_fn *cmd, void *ctx, const throttle_policy *p,
                               const char *scope, const char *ip, const char *account,
                               long *retry_after_r);

/* After a successful check: forgets the account's failures and takes this
 * attempt back from the address's count (never below zero). */
void throttle_forgive(throttle_cmd_fn *cmd, void *ctx, const char *scope, const char *ip,
                      const char *account);

#endif
