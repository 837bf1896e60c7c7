/*
 * fuzz_json_model.c — JSON into a model with every field type (kura_from_json_string),
 * then what a service does with the result: validate it, write it back as JSON, and
 * check that the JSON it writes reads back.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_thing t;
    kura_init(&fz_thing_model, &t);
    kura_error err = {0};
    if (kura_from_json_string(&fz_thing_model, (const char *)data, size, &t, true, &err)) {
        kura_field_error errors[8];
        (void)kura_validate_all(&fz_thing_model, &t, errors, 8);
        char *text = kura_to_json_string(&fz_thing_model, &t);
        if (text) {
            fz_thing back;
            kura_init(&fz_thing_model, &back);
            /* What kura writes, kura reads. */
            if (!kura_from_json_string(&fz_thing_model, text, strlen(text), &back, false, &err))
                abort();
            kura_clear(&fz_thing_model, &back);
            free(text);
        }
    }
    kura_clear(&fz_thing_model, &t);
    return 0;
}
