/* error.c — error codes and the caller-owned kura_error struct. */
#include "kura/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *kura_code_name(kura_code code)
{
    switch (code) {
#define KURA_X_NAME(name, text)                                                                    \
    case KURA_##name:                                                                              \
        return #name;
        KURA_ERROR_LIST(KURA_X_NAME)
#undef KURA_X_NAME
    }
    /* Reached for values cast from outside the list, e.g. from a foreign int. */
    return "UNKNOWN";
}

const char *kura_code_text(kura_code code)
{
    switch (code) {
#define KURA_X_TEXT(name, text)                                                                    \
    case KURA_##name:                                                                              \
        return text;
        KURA_ERROR_LIST(KURA_X_TEXT)
#undef KURA_X_TEXT
    }
    return "unknown error";
}

/* Truncation may cut a multibyte character in half; drop the orphaned bytes so the
 * message stays valid UTF-8 (it ends up in JSON responses and logs). */
static void trim_partial_utf8(char *s)
{
    size_t n = strlen(s);
    size_t back = 0;
    while (back < n && back < 4 && ((unsigned char)s[n - 1 - back] & 0xC0) == 0x80)
        back++;
    if (back == n)
        return;
    unsigned char lead = (unsigned char)s[n - 1 - back];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (want > back + 1)
        s[n - 1 - back] = '\0';
}

bool kura_fail(kura_error *err, kura_code code, const char *field, const char *fmt, ...)
{
    if (err == NULL)
        return false;
    err->code = code;
    /* snprintf rather than strncpy: always terminates, never pads. */
    if (field != err->field) /* a caller may re-raise with the field already there */
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* An encoding error leaves the buffer unspecified; the message must never be garbage. */
    if (n < 0)
        snprintf(err->message, sizeof err->message, "%s", kura_code_text(code));
    else if ((size_t)n >= sizeof err->message)
        trim_partial_utf8(err->message);
    return false;
}

void kura_error_clear(kura_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof *err);
    err->code = KURA_OK;
}
