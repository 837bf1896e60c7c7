/*
 * fuzz_cookie.c — session cookie verification (kura_session_load): whatever a browser
 * sends, a cookie kura did not sign is refused before any store round trip, and
 * nothing crashes. The sessions live in an in-memory embedded store made once.
 */
#include <stdlib.h>
#include <string.h>

#include <kura/kura.h>

#include "fuzz.h"

static kura_sessions *sessions(void)
{
    static kura_kv *kv;
    static kura_sessions *s;
    if (!s) {
        static const unsigned char secret[32] = "kura fuzz secret, not a real one";
        kura_error err = {0};
        kv = kura_kv_open("embedded://:memory:", &err);
        if (!kv || !(s = kura_sessions_new(kv, secret, sizeof secret, 60000, &err)))
            abort();
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *cookie = malloc(size + 1);
    if (!cookie)
        return 0;
    memcpy(cookie, data, size);
    cookie[size] = '\0';
    json_t *got = NULL;
    kura_error err = {0};
    /* No session was ever made: nothing may load. */
    if (kura_session_load(sessions(), cookie, &got, &err))
        abort();
    json_decref(got);
    free(cookie);
    return 0;
}
