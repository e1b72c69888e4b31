/* The registry of open stores: the sessions of one user in this process
 * share one mailbox (imapd.h). */
#include "imapd.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Finds or adds the entry of store_id with a reference (users_lock held). */
static imapd_user *user_ref(imapd_server *srv, const worker_login *l)
{
    imapd_user *u;
    for (u = srv->users; u != NULL; u = u->next) {
        if (strcmp(u->store_id, l->store_id) == 0) {
            u->refs++;
            return u;
        }
    }
    u = calloc(1, sizeof *u);
    if (u == NULL)
        return NULL;
    snprintf(u->store_id, sizeof u->store_id, "%s", l->store_id);
    snprintf(u->account, sizeof u->account, "%s", l->account);
    u->srv = srv;
    pthread_mutex_init(&u->lock, NULL);
    u->refs = 1;
    u->next = srv->users;
    srv->users = u;
    return u;
}

imapd_user *imapd_user_acquire(imapd_server *srv, const worker_login *l, char *err, size_t errlen)
{
    pthread_mutex_lock(&srv->users_lock);
    imapd_user *u = user_ref(srv, l);
    pthread_mutex_unlock(&srv->users_lock);
    if (u == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_lock(&u->lock);
    mailbox_result r = MAILBOX_OK;
    if (u->mbx == NULL) {
        r = mailbox_open(srv->cfg.data_dir, l->store_id, l->store_key, l->pk, l->sealed_sk,
                         l->sealed_len, &u->mbx, err, errlen);
        if (r == MAILBOX_OK)
            net_metric_add(srv->m.stores_open, 1);
    }
    if (r == MAILBOX_OK) {
        /* The directory's quota, as the store enforces it (RFC 9208). */
        uint64_t used = 0, limit = 0;
        if (store_quota_get(mailbox_db(u->mbx), &used, &limit) == STORE_OK && limit != l->quota)
            store_quota_set_limit(mailbox_db(u->mbx), l->quota);
        size_t moved = 0;
        mailbox_result d = mailbox_drain(u->mbx, srv->spool_dir, &moved);
        if (d != MAILBOX_OK) /* what did not move stays spooled: the next drain takes it */
            log_warn(NULL, "%s: spool drain: %s", u->account, mailbox_strerror(d));
        imapd_user_used(u, false);
    }
    pthread_mutex_unlock(&u->lock);
    if (r != MAILBOX_OK) {
        imapd_user_release(srv, &u);
        return NULL;
    }
    return u;
}

void imapd_user_release(imapd_server *srv, imapd_user **up)
{
    imapd_user *u = *up;
    if (u == NULL)
        return;
    *up = NULL;
    pthread_mutex_lock(&srv->users_lock);
    bool last = --u->refs == 0;
    if (last) {
        imapd_user **pp = &srv->users;
        while (*pp != u)
            pp = &(*pp)->next;
        *pp = u->next;
    }
    pthread_mutex_unlock(&srv->users_lock);
    if (!last)
        return;
    if (u->mbx != NULL) {
        mailbox_close(&u->mbx);
        net_metric_sub(srv->m.stores_open, 1);
    }
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static uint64_t user_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void imapd_user_used(imapd_user *u, bool release)
{
    u->last_used = user_now_ms();
    if (release && u->mbx != NULL) {
        sqlite3_db_release_memory(mailbox_db(u->mbx));
        u->cached = false;
    } else {
        u->cached = true;
    }
}

void imapd_users_trim(imapd_server *srv)
{
    uint64_t now = user_now_ms();
    pthread_mutex_lock(&srv->users_lock);
    for (imapd_user *u = srv->users; u != NULL; u = u->next) {
        if (pthread_mutex_trylock(&u->lock) != 0)
            continue; /* in use: not idle */
        if (u->cached && u->mbx != NULL && now - u->last_used >= IMAPD_TRIM_MS) {
            sqlite3_db_release_memory(mailbox_db(u->mbx));
            u->cached = false;
        }
        pthread_mutex_unlock(&u->lock);
    }
    pthread_mutex_unlock(&srv->users_lock);
}

void imapd_user_attach(imapd_user *u, imapd_session *s)
{
    s->user_next = u->sessions;
    u->sessions = s;
}

void imapd_user_detach(imapd_user *u, imapd_session *s)
{
    for (imapd_session **pp = &u->sessions; *pp != NULL; pp = &(*pp)->user_next) {
        if (*pp == s) {
            *pp = s->user_next;
            s->user_next = NULL;
            return;
        }
    }
}

void imapd_user_wake(imapd_server *srv, const char *store_id)
{
    /* Under the registry's lock: an entry is freed only after it left the
     * list, so the one found here stays valid while its sessions are woken. */
    pthread_mutex_lock(&srv->users_lock);
    for (imapd_user *u = srv->users; u != NULL; u = u->next) {
        if (store_id != NULL && strcmp(u->store_id, store_id) != 0)
            continue;
        for (imapd_session *s = u->sessions; s != NULL; s = s->user_next)
            imapd_idle_wake(s);
    }
    pthread_mutex_unlock(&srv->users_lock);
}

unsigned imapd_user_sessions(const imapd_user *u)
{
    unsigned n = 0;
    for (const imapd_session *s = u->sessions; s != NULL; s = s->user_next)
        n++;
    return n;
}
