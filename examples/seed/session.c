/* session.c — the guide's Session: get and save through current_app's store. */
#include "session.h"

#include <string.h>

static kura_kv *current_kv(kura_error *err)
{
    kura_kv *kv = kura_app_kv(kura_current_app());
    if (!kv)
        kura_fail(err, KURA_INVALID, NULL, "no current app (kura_app_enter first)");
    return kv;
}

bool session_get(const char *key, kura_bytes *out, kura_error *err)
{
    kura_kv *kv = current_kv(err);
    return kv && kura_kv_get(kv, key, out, err);
}

bool session_save(const char *key, const char *value, kura_error *err)
{
    kura_kv *kv = current_kv(err);
    if (!kv)
        return false;
    if (!value)
        return kura_fail(err, KURA_INVALID, NULL, "NULL session value");
    return kura_kv_set(kv, key, value, strlen(value), 0, err);
}
