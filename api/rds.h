/* rds: the api's Redis connections, one per thread, reconnected on demand. */
#ifndef OWNMAIL_API_RDS_H
#define OWNMAIL_API_RDS_H

#include <hiredis/hiredis.h>

void rds_configure(const char *host, int port);
/* Runs a command on this thread's connection, reconnecting once if the
 * connection was lost. Returns the reply (freeReplyObject it) or NULL when
 * Redis cannot be reached. */
redisReply *rds_command(const char *fmt, ...);
redisReply *rds_command_argv(int argc, const char **argv, const size_t *lens);
void rds_thread_close(void);

#endif
