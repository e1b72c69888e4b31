/* ownmail-mbox: opens a user's mailbox as a worker with a live session does,
 * for integration tests.
 *
 *   ownmail-mbox DATA_DIR < user.json
 *
 * user.json: {"password": "...", "entity": <the user entity of the internal
 * directory snapshot>}. The tool unwraps the store key with the password,
 * opens (creating) the encrypted store, drains the spool into INBOX
 * (lib/mailbox) and prints one JSON object:
 *   {"drained": N, "messages": [{"uid": U, "size": S, "raw": "<base64>"}]}
 * listing INBOX. Exit status 0, 1 on a failure (a sentence on stderr). */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "mailbox.h"
#include "store.h"
#include "vfs.h"

#define MBOX_INPUT_MAX (1024 * 1024)

static _Noreturn void fail(const char *what, const char *why)
{
    fprintf(stderr, "ownmail-mbox: %s: %s\n", what, why);
    exit(1);
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v))
        fail("input", name);
    return v->valuestring;
}

static const char *password_wrap(const cJSON *user)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(user, "credentials"))
    {
        if (strcmp(str(c, "kind"), "password") == 0)
            return str(c, "wrap");
    }
    fail("input", "no password credential");
}

typedef struct {
    cJSON *list;
    sqlite3 *db;
    int64_t inbox;
} list_ctx;

static int list_one(void *arg, const store_msg_row *row)
{
    list_ctx *c = arg;
    unsigned char *data = NULL;
    size_t len = 0;
    if (store_fetch_raw(c->db, c->inbox, row->uid, 0, row->size, &data, &len) != STORE_OK)
        fail("fetch", "store_fetch_raw");
    char *b64 = NULL;
    if (keys_b64_encode(data, len, &b64) != KEYS_OK)
        fail("fetch", "base64");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "uid", row->uid);
    cJSON_AddNumberToObject(m, "size", (double)row->size);
    cJSON_AddStringToObject(m, "raw", b64);
    cJSON_AddItemToArray(c->list, m);
    free(b64);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ownmail-mbox DATA_DIR < user.json\n");
        return 2;
    }
    static char input[MBOX_INPUT_MAX];
    size_t n = fread(input, 1, sizeof input - 1, stdin);
    input[n] = '\0';
    cJSON *in = cJSON_Parse(input);
    if (in == NULL || sodium_init() < 0 || vfs_register() != VFS_OK)
        fail("input", "not JSON, or no libsodium / VFS");
    const char *password = str(in, "password");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(in, "entity");
    keys_secret *store_key = NULL;
    if (keys_unwrap_b64(password_wrap(user), password, strlen(password), &store_key) != KEYS_OK)
        fail("unwrap", "wrong password");
    unsigned char *pk = NULL, *sealed = NULL;
    size_t pk_len = 0, sealed_len = 0;
    if (keys_b64_decode(str(user, "public_key"), 64, &pk, &pk_len) != KEYS_OK ||
        pk_len != KEYS_X25519_PK_LEN ||
        keys_b64_decode(str(user, "x25519_sealed_sk"), 1024, &sealed, &sealed_len) != KEYS_OK)
        fail("input", "public_key / x25519_sealed_sk");
    char err[MAILBOX_ERR_LEN], spool[4096];
    mailbox *m = NULL;
    const char *data_dir = argv[1];
    if (mailbox_open(data_dir, str(user, "store_id"), store_key, pk, sealed, sealed_len, &m, err,
                     sizeof err) != MAILBOX_OK)
        fail("open", err);
    keys_secret_free(&store_key);
    snprintf(spool, sizeof spool, "%s/spool", data_dir);
    size_t moved = 0;
    mailbox_result r = mailbox_drain(m, spool, &moved);
    if (r != MAILBOX_OK)
        fail("drain", mailbox_strerror(r));
    store_mailbox inbox;
    if (store_mailbox_get(mailbox_db(m), "INBOX", &inbox) != STORE_OK)
        fail("INBOX", "missing");
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "drained", (double)moved);
    list_ctx c = {cJSON_AddArrayToObject(out, "messages"), mailbox_db(m), inbox.id};
    if (store_msg_foreach(mailbox_db(m), inbox.id, 0, list_one, &c) != STORE_OK)
        fail("list", "store_msg_foreach");
    char *text = cJSON_PrintUnformatted(out);
    puts(text);
    free(text);
    cJSON_Delete(out);
    cJSON_Delete(in);
    free(pk);
    free(sealed);
    mailbox_close(&m);
    return 0;
}
