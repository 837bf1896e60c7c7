/* fuzz_url.c — store URLs: kura_url_parse and its parameter readers. */
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    kura_url u;
    kura_error err = {0};
    if (kura_url_parse(text, &u, &err)) {
        long v;
        static const char *const allowed[] = {"pool", "timeout", NULL};
        (void)kura_url_param(&u, "pool");
        (void)kura_url_param_int(&u, "pool", 1, 64, 8, &v, &err);
        (void)kura_url_check_params(&u, allowed, &err);
        kura_url_free(&u);
    }
    free(text);
    return 0;
}
