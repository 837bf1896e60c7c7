/*
 * fuzz_bson_model.c — a BSON document from a MongoDB server (or another program) into a
 * model with every field type (kura_mongo_to_model), and back to BSON; once with an
 * int64 key and once with each text key kind (whatever BSON type _id has).
 */
#include <string.h>

#include "document/mongo_private.h"
#include "fuzz.h"
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bson_t doc;
    if (!bson_init_static(&doc, data, size) || !bson_validate(&doc, BSON_VALIDATE_NONE, NULL))
        return 0;
    for (int kind = KURA_KEY_INT64; kind <= KURA_KEY_STRING; kind++) {
        kura_model m = fz_thing_model;
        m.key = (kura_key_kind)kind;
        fz_thing t;
        memset(&t, 0, sizeof t);
        kura_error err = {0};
        if (kura_mongo_to_model(&m, &doc, &t, &err)) {
            bson_t out = BSON_INITIALIZER;
            (void)kura_mongo_from_model(&m, &t, false, &out, &err);
            bson_destroy(&out);
        }
        kura_clear(&m, &t);
    }
    return 0;
}
