/* Redis from the pool threads (lib/rds keeps one connection per thread):
 * the throttle counters of AUTH and the "new mail" notices that wake the
 * sessions of a user (DESIGN.md "Mail flow"). The loop thread never talks
 * to Redis. */
#include "smtpd.h"

#include "rds.h"

#include <string.h>

redisReply *smtpd_rds_command(void *ctx, int argc, const char **argv, const size_t *lens)
{
    (void)ctx;
    return rds_command_argv(argc, argv, lens);
}

int smtpd_rds_new_mail(const char *store_id)
{
    const char *argv[] = {"PUBLISH", SMTPD_NEW_MAIL_CHANNEL, store_id};
    size_t lens[] = {7, strlen(SMTPD_NEW_MAIL_CHANNEL), strlen(store_id)};
    redisReply *r = rds_command_argv(3, argv, lens);
    int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
    if (r != NULL)
        freeReplyObject(r);
    return ok ? 0 : -1;
}
