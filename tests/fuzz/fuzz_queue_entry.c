/* libFuzzer harness for the queue's plaintext decoders (lib/queue): an
 * entry (envelope + message) and a delivery state. Whatever the bytes, the
 * decoders return 0 or -1 without reading out of bounds, and what decodes
 * encodes again to the same bytes. */
#include "queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    queue_entry *e = NULL;
    const char *why = NULL;
    if (queue_envelope_decode(data, size, NULL, &e, &why) == 0) {
        unsigned char *again = NULL;
        size_t len = 0;
        if (queue_envelope_encode(e->id, &e->env, e->msg, e->msg_len, &again, &len, &why) != 0 ||
            len != size || memcmp(again, data, size) != 0)
            abort();
        free(again);
        queue_entry_free(&e);
    } else if (e != NULL) {
        abort();
    }
    queue_state st;
    if (queue_state_decode(data, size, 0, &st, &why) == 0) {
        unsigned char *again = NULL;
        size_t len = 0;
        if (queue_state_encode(&st, &again, &len) != 0 || len != size ||
            memcmp(again, data, size) != 0)
            abort();
        free(again);
        queue_state_free(&st);
    }
    return 0;
}
