/* users: what h_users.c shares with h_credentials.c. */
#ifndef OWNMAIL_API_USERS_H
#define OWNMAIL_API_USERS_H

#include "http.h"

#include <stddef.h>

#define USER_PASSWORD_MIN 10
#define USER_PASSWORD_MAX 1024

typedef struct user_wrap {
    unsigned char *blob;
    size_t len;
} user_wrap;

/* Finds a user of a domain by its local part; 0 or -1 (no reply sent). */
int user_lookup(req *r, int64_t domain_id, const char *local, int64_t *id_r);
/* Adds a 422 error when field is present and not 10..1024 bytes. */
void user_check_password(const cJSON *body, const char *field, cJSON **errors);
/* Inserts a credential row (a wrap of the store key). id_r may be NULL. */
int user_insert_credential(req *r, int64_t user_id, const char *kind, const char *name,
                           const user_wrap *w, char id_r[17]);

#endif
