/* type_canon.c — what the text-valued types share: canonical text in a char array. */
#include <stdio.h>
#include <string.h>

#include "model/types.h"

static bool canon_of(const kura_field *f, const char *text, size_t len, char *out, size_t cap)
{
    return kura__type(f->type)->canon(f, text, len, out, cap);
}

/* Query values must already be canonical: the query borrows them, so there is
 * nowhere to keep a rewritten copy, and text equality needs one spelling. */
bool kura__canon_fit(const kura_field *f, kura_value *v)
{
    if (v->kind != KURA_VALUE_STRING || !v->as.s || !f)
        return false;
    char tmp[64];
    size_t len = strlen(v->as.s);
    return canon_of(f, v->as.s, len, tmp, sizeof tmp) && strcmp(tmp, v->as.s) == 0;
}

bool kura__canon_parse(const kura_field *f, const char *text, kura_value *out, char *scratch,
                       size_t scratch_size)
{
    if (!f || !canon_of(f, text, strlen(text), scratch, scratch_size))
        return false;
    *out = KURA_VSTR(scratch);
    return true;
}

void kura__canon_init(const kura_field *f, void *m)
{
    /* A default that is no such value leaves the member empty (validation says so
     * for a required field). */
    if (f->default_string && !canon_of(f, f->default_string, strlen(f->default_string), m, f->size))
        memset(m, 0, f->size);
}

bool kura__canon_check(const kura_field *f, const void *m, kura_reason r)
{
    size_t len = strnlen(m, f->size);
    if (len == f->size)
        return kura__reason(r, "is not NUL-terminated");
    if (len == 0)
        return f->required ? kura__reason(r, "is required") : true;
    char tmp[64];
    if (!canon_of(f, m, len, tmp, sizeof tmp))
        return kura__reason(r, "is not %s", kura__type(f->type)->form);
    if (strcmp(tmp, m) != 0)
        return kura__reason(r, "must be written in canonical form: \"%s\"", tmp);
    return true;
}

kura_value kura__canon_value(const kura_field *f, const void *m)
{
    (void)f;
    const char *s = m;
    return s[0] ? KURA_VSTR(s) : KURA_VNULL; /* "" is no value: NULL in every store */
}

bool kura__canon_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    if (v->kind != KURA_VALUE_STRING || !v->as.s)
        return false;
    size_t len = strlen(v->as.s);
    if (len >= f->size)
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is not %s", f->name,
                         kura__type(f->type)->form);
    memcpy(m, v->as.s, len + 1); /* validation then checks the form */
    return true;
}

json_t *kura__canon_to_json(const kura_field *f, const void *m)
{
    size_t len = strnlen(m, f->size);
    return len ? json_stringn(m, len) : json_null();
}

bool kura__canon_json_text(kura_buf *b, const kura_field *f, const void *m)
{
    size_t len = strnlen(m, f->size);
    if (len)
        return kura__json_string(b, m, len);
    kura_buf_add(b, "null");
    return true;
}

bool kura__canon_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    char tmp[64];
    if (!json_is_string(v) ||
        !canon_of(f, json_string_value(v), json_string_length(v), tmp, sizeof tmp) ||
        strlen(tmp) >= f->size)
        return kura__json_type_error(err, f->name, kura__type(f->type)->form);
    memset(m, 0, f->size);
    memcpy(m, tmp, strlen(tmp));
    return true;
}

void kura__canon_default(kura_buf *b, const kura_field *f)
{
    char tmp[64];
    /* Canonical text has no quote, so it is a literal as it is. */
    if (f->default_string &&
        canon_of(f, f->default_string, strlen(f->default_string), tmp, sizeof tmp))
        kura_buf_addf(b, " DEFAULT '%s'", tmp);
}

bool kura__canon_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                          kura_time_memo *memo, kura_error *err)
{
    (void)memo;
    char *p = m;
    if (!txt) {
        p[0] = '\0';
        return true;
    }
    if (!canon_of(f, txt, len, p, f->size)) {
        p[0] = '\0';
        return kura_fail(err, KURA_MISFIT, f->name, "%s: stored value '%.40s' is not %s", f->name,
                         txt, kura__type(f->type)->form);
    }
    return true;
}

bool kura__canon_from_bson_utf8(const kura_field *f, const bson_iter_t *it, void *m,
                                kura_error *err)
{
    uint32_t len;
    const char *s = bson_iter_utf8(it, &len);
    return kura__canon_from_sql(f, s, len, m, NULL, err);
}
