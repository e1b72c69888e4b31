#include "throttle.h"

#include <stdio.h>
#include <string.h>

static void throttle_keys(const char *scope, const char *ip, const char *account,
                          char ip_key[THROTTLE_KEY_MAX], char acct_key[THROTTLE_KEY_MAX])
{
    snprintf(ip_key, THROTTLE_KEY_MAX, "ownmail:throttle:%s:ip:%s", scope, ip);
    snprintf(acct_key, THROTTLE_KEY_MAX, "ownmail:throttle:%s:acct:%s", scope, account);
}

static redisReply *throttle_run(throttle_cmd_fn *cmd, void *ctx, int argc, const char **argv)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return cmd(ctx, argc, argv, lens);
}

/* Both counters in one atomic step, the window set on the first count. */
static const char throttle_count_script[] =
    "local a = redis.call('INCR', KEYS[1]) "
    "if a == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "local b = redis.call('INCR', KEYS[2]) "
    "if b == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end "
    "return {a, b}";

static const char throttle_undo_script[] =
    "redis.call('DEL', KEYS[2]) "
    "if redis.call('DECR', KEYS[1]) < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end "
    "return 0";

throttle_result throttle_count(throttle_cmd_fn *cmd, void *ctx, const throttle_policy *p,
                               const char *scope, const char *ip, const char *account,
                               long *retry_after_r)
{
    char ip_key[THROTTLE_KEY_MAX], acct_key[THROTTLE_KEY_MAX], window[24];
    throttle_keys(scope, ip, account, ip_key, acct_key);
    snprintf(window, sizeof window, "%lld", p->window);
    const char *argv[] = {"EVAL", throttle_count_script, "2", ip_key, acct_key, window};
    redisReply *rep = throttle_run(cmd, ctx, 6, argv);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER) {
        if (rep != NULL)
            freeReplyObject(rep);
        return THROTTLE_UNAVAILABLE;
    }
    long long by_ip = rep->element[0]->integer, by_acct = rep->element[1]->integer;
    freeReplyObject(rep);
    const char *over = by_ip > p->ip_max ? ip_key : by_acct > p->account_max ? acct_key : NULL;
    if (over == NULL)
        return THROTTLE_OK;
    if (retry_after_r != NULL) {
        *retry_after_r = (long)p->window;
        const char *ttl_argv[] = {"TTL", over};
        rep = throttle_run(cmd, ctx, 2, ttl_argv);
        if (rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
            *retry_after_r = (long)rep->integer;
        if (rep != NULL)
            freeReplyObject(rep);
    }
    return THROTTLE_OVER;
}

void throttle_forgive(throttle_cmd_fn *cmd, void *ctx, const char *scope, const char *ip,
                      const char *account)
{
    char ip_key[THROTTLE_KEY_MAX], acct_key[THROTTLE_KEY_MAX];
    throttle_keys(scope, ip, account, ip_key, acct_key);
    const char *argv[] = {"EVAL", throttle_undo_script, "2", ip_key, acct_key};
    redisReply *rep = throttle_run(cmd, ctx, 5, argv);
    if (rep != NULL)
        freeReplyObject(rep);
}
