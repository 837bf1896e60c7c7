/*
 * fuzz_json_model.c — JSON into a model with every field type (kura_from_json_string),
 * then what a service does with the result: validate it, write it back as JSON, and
 * check that the JSON it writes reads back; with an int64 key and with each text key kind,
 * each with and without timestamps (KURA_MODEL_NO_TIMESTAMPS).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int run = 0; run <= 2 * KURA_KEY_STRING + 1; run++) {
        kura_model m = fz_thing_model;
        m.key = (kura_key_kind)(run / 2);
        m.flags = run % 2 ? KURA_MODEL_NO_TIMESTAMPS : 0u;
        fz_thing t;
        kura_init(&m, &t);
        kura_error err = {0};
        if (kura_from_json_string(&m, (const char *)data, size, &t, true, &err)) {
            kura_field_error errors[8];
            (void)kura_validate_all(&m, &t, errors, 8);
            char *text = kura_to_json_string(&m, &t);
            if (text) {
                fz_thing back;
                kura_init(&m, &back);
                /* What kura writes, kura reads. */
                if (!kura_from_json_string(&m, text, strlen(text), &back, false, &err))
                    abort();
                kura_clear(&m, &back);
                free(text);
            }
        }
        kura_clear(&m, &t);
    }
    return 0;
}
