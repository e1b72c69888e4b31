/* What a user's mail takes, as the server can see it without the key: the
 * encrypted store file (and its WAL) plus the sealed spool files. The RCPT
 * quota check asks for it on every recipient, so the spool's total is kept
 * in a small cache: a spool directory is scanned at most once every
 * SMTPD_QUOTA_RESCAN_S seconds per store, and copies this worker spools
 * are added as they are written. A drain (a session opening the store)
 * shrinks the spool; the cache sees that at its next scan, so for at most
 * that long a recipient may get a 452 it would not get otherwise (a
 * temporary refusal: the sender tries again). Thread-safe. */
#include "smtpd.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct quota_slot {
    char store_id[SPOOL_STORE_ID_MAX + 1]; /* "" = empty */
    uint64_t spool;                        /* bytes of its sealed spool files */
    int64_t scanned;                       /* Unix time of the scan */
} quota_slot;

struct smtpd_quota {
    pthread_mutex_t mu;
    quota_slot slots[SMTPD_QUOTA_SLOTS];
};

smtpd_quota *smtpd_quota_new(void)
{
    smtpd_quota *q = calloc(1, sizeof *q);
    if (q != NULL)
        pthread_mutex_init(&q->mu, NULL);
    return q;
}

void smtpd_quota_free(smtpd_quota **q)
{
    if (q == NULL || *q == NULL)
        return;
    pthread_mutex_destroy(&(*q)->mu);
    free(*q);
    *q = NULL;
}

/* FNV-1a: the slot of a store (a collision only costs a rescan). */
static quota_slot *quota_slot_of(smtpd_quota *q, const char *store_id)
{
    uint32_t h = 2166136261u;
    for (const char *p = store_id; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &q->slots[h % SMTPD_QUOTA_SLOTS];
}

static uint64_t quota_scan(const char *spool_dir, const char *store_id)
{
    char path[SMTPD_PATH_MAX + 160];
    snprintf(path, sizeof path, "%s/%s", spool_dir, store_id);
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    uint64_t total = 0;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    closedir(d);
    return total;
}

uint64_t smtpd_quota_usage(smtpd_quota *q, const char *stores_dir, const char *spool_dir,
                           const char *store_id, int64_t now)
{
    char path[SMTPD_PATH_MAX + 160];
    struct stat st;
    uint64_t total = 0;
    snprintf(path, sizeof path, "%s/%s.db", stores_dir, store_id);
    if (stat(path, &st) == 0)
        total += (uint64_t)st.st_size;
    snprintf(path, sizeof path, "%s/%s.db-wal", stores_dir, store_id);
    if (stat(path, &st) == 0)
        total += (uint64_t)st.st_size;
    quota_slot *s = quota_slot_of(q, store_id);
    pthread_mutex_lock(&q->mu);
    bool fresh = strcmp(s->store_id, store_id) == 0 && now - s->scanned < SMTPD_QUOTA_RESCAN_S &&
                 now >= s->scanned;
    uint64_t spool = s->spool;
    pthread_mutex_unlock(&q->mu);
    if (!fresh) {
        spool = quota_scan(spool_dir, store_id);
        pthread_mutex_lock(&q->mu);
        snprintf(s->store_id, sizeof s->store_id, "%s", store_id);
        s->spool = spool;
        s->scanned = now;
        pthread_mutex_unlock(&q->mu);
    }
    return total + spool;
}

void smtpd_quota_spooled(smtpd_quota *q, const char *store_id, uint64_t bytes)
{
    quota_slot *s = quota_slot_of(q, store_id);
    pthread_mutex_lock(&q->mu);
    if (strcmp(s->store_id, store_id) == 0)
        s->spool += bytes;
    pthread_mutex_unlock(&q->mu);
}
