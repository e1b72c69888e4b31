#include "rds.h"

#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>

#define RDS_TIMEOUT_MS 1000

static char rds_host[256] = "127.0.0.1";
static int rds_port = 6379;
static _Thread_local redisContext *rds_conn;
/* Its destructor frees the connection of a thread that ends without
 * rds_thread_close (pool threads). */
static pthread_key_t rds_key;
static pthread_once_t rds_key_once = PTHREAD_ONCE_INIT;

static void rds_key_destroy(void *c)
{
    redisFree(c);
}

static void rds_key_init(void)
{
    pthread_key_create(&rds_key, rds_key_destroy);
}

void rds_configure(const char *host, int port)
{
    snprintf(rds_host, sizeof(rds_host), "%s", host);
    rds_port = port;
}

void rds_thread_close(void)
{
    if (rds_conn != NULL) {
        pthread_setspecific(rds_key, NULL);
        redisFree(rds_conn);
        rds_conn = NULL;
    }
}

static redisContext *rds_get(void)
{
    if (rds_conn != NULL)
        return rds_conn;
    struct timeval tv = {RDS_TIMEOUT_MS / 1000, (RDS_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(rds_host, rds_port, tv);
    if (c == NULL || c->err) {
        if (c != NULL)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    rds_conn = c;
    pthread_once(&rds_key_once, rds_key_init);
    pthread_setspecific(rds_key, c);
    return c;
}

redisReply *rds_command_argv(int argc, const char **argv, const size_t *lens)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = rds_get();
        if (c == NULL)
            return NULL;
        redisReply *rep = redisCommandArgv(c, argc, argv, lens);
        if (rep != NULL)
            return rep;
        rds_thread_close(); /* the connection is broken: try a fresh one once */
    }
    return NULL;
}

redisReply *rds_command(const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = rds_get();
        if (c == NULL)
            return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(c, fmt, ap);
        va_end(ap);
        if (rep != NULL)
            return rep;
        rds_thread_close();
    }
    return NULL;
}
