/* rds: Redis connections for the api's request threads and the workers'
 * pool threads: one blocking connection per thread (1 s timeouts), made on
 * first use, made again once when a command finds it broken, and freed when
 * its thread ends (or by rds_thread_close). */
#ifndef OWNMAIL_RDS_H
#define OWNMAIL_RDS_H

#include <hiredis/hiredis.h>

void rds_configure(const char *host, int port);
/* Runs a command on this thread's connection, reconnecting once if the
 * connection was lost. Returns the reply (freeReplyObject it) or NULL when
 * Redis cannot be reached. */
redisReply *rds_command(const char *fmt, ...);
redisReply *rds_command_argv(int argc, const char **argv, const size_t *lens);
void rds_thread_close(void);

#endif
