/*
 * fuzz_schema.c — a schema file (kura_schema_load_string) into runtime models.
 * A model that loads is then used: written back (which must load again),
 * printed as C, and one zeroed object of it initialised, encoded and cleared,
 * so a wrong layout shows up as an access outside the object.
 */
#include <stdlib.h>
#include <string.h>

#include <kura/json.h>
#include <kura/schema.h>

#include "fuzz.h"

static void use(const kura_schema *s)
{
    kura_error err = {0};
    char *text = kura_schema_to_string(s, &err);
    if (text) {
        kura_schema *again = kura_schema_load_string(text, &err);
        if (!again)
            abort(); /* what the writer writes, the loader must read */
        kura_schema_free(again);
    }
    free(text);
    free(kura_schema_to_c(s, &err));
    for (size_t i = 0; i < kura_schema_count(s); i++) {
        const kura_model *m = kura_schema_model(s, i);
        void *obj = malloc(m->size); /* exactly the size: ASan sees any overrun */
        if (!obj)
            continue;
        kura_init(m, obj);
        (void)kura_validate(m, obj, &err);
        free(kura_to_json_string(m, obj));
        kura_clear(m, obj);
        free(obj);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(text, &err);
    if (s)
        use(s);
    kura_schema_free(s);
    free(text);
    return 0;
}
