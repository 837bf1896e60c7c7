/*
 * inspect_sample.c — what sampled values say, where no declared type does.
 *
 * A text column or a JSON string holds UUIDs, ObjectIds or dates only by
 * convention, so inspect reads a sample and decides the strict way: a type
 * when every sampled value is already that type's canonical text (what kura
 * writes), and plain text otherwise. The forms are the type table's own
 * (its canon functions), not a second spelling of them here.
 */
#include <string.h>

#include "model/types.h"
#include "sql/inspect_private.h"

bool kura__inspect_canonical(kura_type type, const char *s)
{
    const kura_type_info *ti = kura__type(type);
    /* A field of the type with room for any canonical text: UUID, ObjectId and
     * date canon read no other part of it. */
    kura_field f = {.name = "", .type = type, .size = 64};
    char out[64];
    size_t len = strlen(s);
    return ti->canon && len > 0 && len < sizeof out && ti->canon(&f, s, len, out, sizeof out) &&
           strcmp(out, s) == 0;
}

kura_key_kind kura__inspect_text_key(const char *const *keys, size_t n)
{
    bool uuid = n > 0, oid = n > 0;
    for (size_t i = 0; i < n; i++) {
        uuid = uuid && kura__inspect_canonical(KURA_TYPE_UUID, keys[i]);
        oid = oid && kura__inspect_canonical(KURA_TYPE_OBJECTID, keys[i]);
    }
    return uuid ? KURA_KEY_UUID : oid ? KURA_KEY_OBJECTID : KURA_KEY_STRING;
}

bool kura__inspect_key(kura__smodel *m, kura_key_kind declared, const char *const *keys, size_t n,
                       const char *what)
{
    m->model.key = declared == KURA_KEY_STRING ? kura__inspect_text_key(keys, n) : declared;
    if (declared == KURA_KEY_STRING && n == 0 &&
        !kura__strs_addf(&m->warnings,
                         "%s has no rows to tell what its text keys are: a string key (kura "
                         "then never makes one); when kura's own uuid or objectid keys are what "
                         "it holds, say \"key\": \"uuid\" or \"objectid\"",
                         what))
        return false;
    for (size_t i = 0; i < n; i++)
        if (strlen(keys[i]) >= KURA_KEY_BYTES)
            return kura__strs_addf(&m->warnings,
                                   "%s has keys longer than the %d bytes a kura key holds: kura "
                                   "fails to read those rows",
                                   what, KURA_KEY_BYTES - 1);
    return true;
}
