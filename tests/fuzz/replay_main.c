/* Replay driver for libFuzzer harnesses, so CTest (under ASan/UBSan) runs
 * every harness without clang: each file of the corpus directory is fed as
 * is, then a fixed number of deterministic mutations of it (bit flips,
 * truncations, duplications), so the run is the same on every machine. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1024 * 1024)
#define REPLAY_MUTATIONS 500

static uint64_t replay_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t replay_next(void)
{
    replay_rng ^= replay_rng << 13;
    replay_rng ^= replay_rng >> 7;
    replay_rng ^= replay_rng << 17;
    return replay_rng;
}

static void replay_mutate(const uint8_t *seed, size_t len)
{
    uint8_t *m = malloc(len * 2 + 16);
    if (m == NULL)
        abort();
    for (int i = 0; i < REPLAY_MUTATIONS; i++) {
        size_t n = len;
        memcpy(m, seed, len);
        switch (replay_next() % 4) {
        case 0: /* flip some bits */
            for (int k = 0; k < 4 && n > 0; k++)
                m[replay_next() % n] ^= (uint8_t)(1u << (replay_next() % 8));
            break;
        case 1: /* truncate */
            n = len == 0 ? 0 : replay_next() % len;
            break;
        case 2: /* duplicate the tail */
            if (len > 0) {
                size_t at = replay_next() % len;
                memcpy(m + len, seed + at, len - at);
                n = len + (len - at);
            }
            break;
        default: /* overwrite a byte with an interesting value */
            if (n > 0) {
                static const uint8_t v[] = {0, '\r', '\n', '"', '\\', '.', '@', 0x80, 0xff, '%'};
                m[replay_next() % n] = v[replay_next() % sizeof(v)];
            }
            break;
        }
        LLVMFuzzerTestOneInput(m, n);
    }
    free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t data[REPLAY_MAX_INPUT];
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        size_t n = fread(data, 1, sizeof(data), f);
        fclose(f);
        LLVMFuzzerTestOneInput(data, n);
        replay_mutate(data, n);
        files++;
    }
    closedir(d);
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    printf("replayed %d corpus files with %d mutations each\n", files, REPLAY_MUTATIONS);
    return files > 0 ? 0 : 1;
}
