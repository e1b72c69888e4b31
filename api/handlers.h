/* handlers: one file per resource; routes.c lists them all. */
#ifndef OWNMAIL_API_HANDLERS_H
#define OWNMAIL_API_HANDLERS_H

#include "http.h"

/* h_auth.c */
void h_auth_token(req *r);
void h_auth_refresh(req *r);
void h_me(req *r);
/* h_admins.c */
void h_admins_list(req *r);
void h_admins_create(req *r);
void h_admins_get(req *r);
void h_admins_update(req *r);
void h_admins_delete(req *r);
/* h_apikeys.c */
void h_apikeys_list(req *r);
void h_apikeys_create(req *r);
void h_apikeys_delete(req *r);
/* h_domains.c */
void h_domains_list(req *r);
void h_domains_create(req *r);
void h_domains_get(req *r);
void h_domains_update(req *r);
void h_domains_delete(req *r);
/* h_users.c */
void h_users_list(req *r);
void h_users_create(req *r);
void h_users_get(req *r);
void h_users_update(req *r);
void h_users_delete(req *r);
/* h_credentials.c */
void h_users_password(req *r);
void h_users_password_reset(req *r);
void h_apppw_list(req *r);
void h_apppw_create(req *r);
void h_apppw_delete(req *r);
/* h_aliases.c */
void h_aliases_list(req *r);
void h_aliases_create(req *r);
void h_aliases_get(req *r);
void h_aliases_update(req *r);
void h_aliases_delete(req *r);
/* h_dkim.c */
void h_dkim_list(req *r);
void h_dkim_create(req *r);
void h_dkim_rotate(req *r);
void h_dkim_delete(req *r);
/* h_dns.c */
void h_dns_get(req *r);
/* h_system.c */
void h_healthz(req *r);
void h_readyz(req *r);
void h_internal_directory(req *r);

/* Shared by the domain-scoped handlers (h_domains.c): resolves the {domain}
 * path parameter (U-label or A-label) to a domain the caller may see. On
 * failure replies 404 and returns -1. name_r gets the A-label. */
int domain_lookup(req *r, const char *param, int64_t *id_r, char name_r[254]);

/* h_domains.c: BEGIN IMMEDIATE, then checks that the row the request is
 * about (in table "domains", "users" or "aliases") still exists: it may have
 * been deleted since it was looked up. Replies (404 or 500) and returns -1. */
int begin_checked(req *r, const char *table, int64_t id);

/* h_admins.c: the domains an admin is limited to, as a JSON array of names. */
cJSON *admin_domains_json(sqlite3 *db, int64_t admin_id);

/* h_users.c: a deleted user's store and spool, removed after the commit. */
void user_store_remove(req *r, const char *store_id);
int store_list_add(char ***list, int *n, const char *store_id);
void store_list_free(char **list, int n);

#endif
