/* Unit tests for lib/keys/keys_gen.c: recovery keys, app passwords, generated
 * passwords and key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"

static void assert_recovery_format(const char *r)
{
    assert_int_equal(strlen(r), KEYS_RECOVERY_STRLEN);
    for (size_t i = 0; i < KEYS_RECOVERY_STRLEN; i++) {
        if (i % 5 == 4)
            assert_int_equal(r[i], '-');
        else
            assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", r[i]));
    }
}

static void test_recovery_new(void **state)
{
    (void)state;
    char a[KEYS_RECOVERY_STRLEN + 1], b[KEYS_RECOVERY_STRLEN + 1];
    char norm[KEYS_RECOVERY_STRLEN + 1];
    assert_int_equal(keys_recovery_new(a), KEYS_OK);
    assert_int_equal(keys_recovery_new(b), KEYS_OK);
    assert_recovery_format(a);
    assert_recovery_format(b);
    assert_string_not_equal(a, b);
    assert_int_equal(keys_recovery_normalize(a, norm), 0);
    assert_string_equal(norm, a);
    /* Every symbol shows up over enough keys (the 5-bit split is right). */
    int seen[256] = {0};
    for (int n = 0; n < 200; n++) {
        assert_int_equal(keys_recovery_new(a), KEYS_OK);
        for (const char *p = a; *p; p++)
            seen[(unsigned char)*p] = 1;
    }
    for (const char *p = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; *p; p++)
        assert_true(seen[(unsigned char)*p]);
}

static void test_recovery_normalize(void **state)
{
    (void)state;
    static const char canon[] = "7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRS";
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
    } cases[] = {
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRS", canon},
        {"7kq2-m9xd-0000-1111-abcd-efgh-jkmn-pqrs", canon},
        {"7KQ2M9XD00001111ABCDEFGHJKMNPQRS", canon},
        {"7KQ2 M9XD 0000 1111 ABCD EFGH JKMN PQRS", canon},
        {"  7kq2 - m9xd0000-1111abcd efgh-jkmn-pqrs  ", canon},
        {"7KQ2-M9XD-OOOO-IIII-ABCD-EFGH-JKMN-PQRS", canon},
        {"7KQ2-M9XD-oOo0-iLl1-ABCD-EFGH-JKMN-PQRS", canon},
        {"7KQ2\tM9XD-0000-1111-ABCD-EFGH-JKMN-PQRS", canon},
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQR", NULL},   /* 31 symbols */
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRST", NULL}, /* 33 symbols */
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQRU", NULL},  /* U is not Crockford */
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQR!", NULL},
        {"7KQ2-M9XD-0000-1111-ABCD-EFGH-JKMN-PQR\xc3\xa9", NULL},
        {"7KQ2_M9XD-0000-1111-ABCD-EFGH-JKMN-PQRS", NULL},
        {"", NULL},
        {"----", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[KEYS_RECOVERY_STRLEN + 1];
        int rc = keys_recovery_normalize(cases[i].in, out);
        if (cases[i].out == NULL) {
            if (rc != -1)
                fail_msg("case %zu accepted: %s", i, out);
            assert_string_equal(out, "");
        } else {
            if (rc != 0)
                fail_msg("case %zu rejected", i);
            assert_string_equal(out, cases[i].out);
        }
    }
    /* Over the input limit, even if it is only spaces around a valid key. */
    char big[KEYS_RECOVERY_INPUT_MAX + 64];
    memset(big, ' ', sizeof(big));
    memcpy(big, canon, strlen(canon));
    big[sizeof(big) - 1] = '\0';
    char out[KEYS_RECOVERY_STRLEN + 1];
    assert_int_equal(keys_recovery_normalize(big, out), -1);
    big[KEYS_RECOVERY_INPUT_MAX] = '\0';
    assert_int_equal(keys_recovery_normalize(big, out), 0);
    assert_string_equal(out, canon);
}

/* ---- app passwords, passwords, hex ---- */

static void test_app_password(void **state)
{
    (void)state;
    char pw[KEYS_APP_PASSWORD_STRLEN + 1], norm[KEYS_APP_PASSWORD_LEN + 1];
    assert_int_equal(keys_app_password_new(pw), KEYS_OK);
    assert_int_equal(strlen(pw), KEYS_APP_PASSWORD_STRLEN);
    for (size_t i = 0; i < KEYS_APP_PASSWORD_STRLEN; i++) {
        if (i % 5 == 4)
            assert_int_equal(pw[i], ' ');
        else
            assert_true(pw[i] >= 'a' && pw[i] <= 'z');
    }
    assert_int_equal(keys_app_password_normalize(pw, norm), 0);
    assert_int_equal(strlen(norm), KEYS_APP_PASSWORD_LEN);

    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"abcd efgh ijkl mnop", "abcdefghijklmnop"},
        {"abcdefghijklmnop", "abcdefghijklmnop"},
        {"ABCD EFGH ijkl Mnop", "abcdefghijklmnop"},
        {"  abcdefgh  ijklmnop ", "abcdefghijklmnop"},
        {"abcd efgh ijkl mno", NULL},
        {"abcd efgh ijkl mnopq", NULL},
        {"abcd-efgh-ijkl-mnop", NULL},
        {"abcd efgh ijkl mn0p", NULL},
        {"", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = keys_app_password_normalize(cases[i].in, norm);
        if (cases[i].out == NULL) {
            assert_int_equal(rc, -1);
            assert_string_equal(norm, "");
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(norm, cases[i].out);
        }
    }
}

static void test_password_and_hex(void **state)
{
    (void)state;
    char pw[KEYS_PASSWORD_MAX_LEN + 1];
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_DEFAULT_LEN), KEYS_OK);
    assert_int_equal(strlen(pw), KEYS_PASSWORD_DEFAULT_LEN);
    for (const char *p = pw; *p; p++)
        assert_null(strchr("0Oo1lI", *p));
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_MAX_LEN), KEYS_OK);
    assert_int_equal(strlen(pw), KEYS_PASSWORD_MAX_LEN);
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_MIN_LEN - 1), KEYS_ERR_INVALID);
    assert_int_equal(keys_password_generate(pw, KEYS_PASSWORD_MAX_LEN + 1), KEYS_ERR_INVALID);

    char hex[2 * KEYS_RANDOM_HEX_MAX + 1], hex2[33];
    assert_int_equal(keys_random_hex(hex, 16), KEYS_OK);
    assert_int_equal(strlen(hex), 32);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
    assert_int_equal(keys_random_hex(hex2, 16), KEYS_OK);
    assert_string_not_equal(hex, hex2);
    assert_int_equal(keys_random_hex(hex, KEYS_RANDOM_HEX_MAX), KEYS_OK);
    assert_int_equal(strlen(hex), 2 * KEYS_RANDOM_HEX_MAX);
    assert_int_equal(keys_random_hex(hex, 0), KEYS_ERR_INVALID);
    assert_int_equal(keys_random_hex(hex, KEYS_RANDOM_HEX_MAX + 1), KEYS_ERR_INVALID);
}

/* ---- key files ---- */

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_keys.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[KEYS_FILE_ERR_LEN];
    snprintf(path, sizeof(path), "%s/server.key", dir);

    keys_secret *a = NULL, *b = NULL;
    assert_int_equal(keys_file_load(path, 32, &a, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "server.key"));
    assert_null(a);

    mode_t old = umask(0); /* the file is 0600 whatever the umask */
    assert_int_equal(keys_file_load_or_create(path, 32, &a, err, sizeof(err)), KEYS_OK);
    umask(old);
    assert_string_equal(err, "");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */

    assert_int_equal(keys_file_load_or_create(path, 32, &b, err, sizeof(err)), KEYS_OK);
    assert_memory_equal(keys_secret_bytes(a), keys_secret_bytes(b), 32);
    keys_secret_free(&b);
    assert_int_equal(keys_file_load(path, 32, &b, NULL, 0), KEYS_OK);
    assert_memory_equal(keys_secret_bytes(a), keys_secret_bytes(b), 32);
    keys_secret_free(&b);

    /* Wrong size, in both directions. */
    assert_int_equal(keys_file_load_or_create(path, 64, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "expected 64"));
    assert_int_equal(keys_file_load(path, 16, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_null(b);

    /* Group or world access refused. */
    static const mode_t bad_modes[] = {0644, 0640, 0604, 0620, 0602};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        assert_int_equal(chmod(path, bad_modes[i]), 0);
        assert_int_equal(keys_file_load_or_create(path, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
        assert_non_null(strstr(err, "mode"));
        assert_null(b);
    }
    assert_int_equal(chmod(path, 0400), 0); /* read-only for the owner is fine */
    assert_int_equal(keys_file_load(path, 32, &b, err, sizeof(err)), KEYS_OK);
    keys_secret_free(&b);

    /* A short file someone else wrote. */
    char path2[300];
    snprintf(path2, sizeof(path2), "%s/worker.secret", dir);
    write_file(path2, "short", 5, 0600);
    assert_int_equal(keys_file_load_or_create(path2, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "is 5 bytes"));
    assert_null(b);

    /* A FIFO is refused without blocking. */
    snprintf(path2, sizeof(path2), "%s/fifo.key", dir);
    assert_int_equal(mkfifo(path2, 0600), 0);
    assert_int_equal(keys_file_load_or_create(path2, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path2);

    /* A directory is not a key file; a missing directory is an error. */
    assert_int_equal(keys_file_load_or_create(dir, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    snprintf(path2, sizeof(path2), "%s/nodir/jwt.key", dir);
    assert_int_equal(keys_file_load_or_create(path2, 32, &b, err, sizeof(err)), KEYS_ERR_FILE);
    assert_null(b);
    assert_int_equal(keys_file_load_or_create(path, 0, &b, err, sizeof(err)), KEYS_ERR_INVALID);

    keys_secret_free(&a);
    assert_null(a);
    unlink(path);
    snprintf(path2, sizeof(path2), "%s/worker.secret", dir);
    unlink(path2);
    assert_int_equal(rmdir(dir), 0);
}

/* Processes racing to create the same key file all end up with one key. */
static void test_key_file_race(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_keys.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/worker.secret", dir);
    enum { RACERS = 4, ROUNDS = 10 };
    for (int round = 0; round < ROUNDS; round++) {
        int fds[RACERS][2];
        pid_t pids[RACERS];
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(pipe(fds[i]), 0);
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                keys_secret *s = NULL;
                int ok = keys_file_load_or_create(path, 32, &s, NULL, 0) == KEYS_OK &&
                         write(fds[i][1], keys_secret_bytes(s), 32) == 32;
                _exit(ok ? 0 : 1);
            }
            close(fds[i][1]);
        }
        keys_secret *file = NULL;
        for (int i = 0; i < RACERS; i++) {
            int status = 0;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            unsigned char got[32];
            assert_int_equal(read(fds[i][0], got, sizeof(got)), 32);
            close(fds[i][0]);
            if (file == NULL)
                assert_int_equal(keys_file_load(path, 32, &file, NULL, 0), KEYS_OK);
            assert_memory_equal(got, keys_secret_bytes(file), 32);
        }
        keys_secret_free(&file);
        assert_int_equal(count_entries(dir), 1);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_new),
        cmocka_unit_test(test_recovery_normalize),
        cmocka_unit_test(test_app_password),
        cmocka_unit_test(test_password_and_hex),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_key_file_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
