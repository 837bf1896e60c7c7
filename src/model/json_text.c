/*
 * json_text.c — a model object written straight to JSON text, the bytes
 * json_dumps(kura_to_json(...), JSON_COMPACT) gives, without the jansson tree
 * in between: building and dumping the tree was most of the cost of an HTTP
 * answer. Each field type writes itself (kura_type_info.json_text); a type
 * that does not goes through jansson, so the bytes never differ
 * (tests/unit/test_json.c compares both on every type).
 */
#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"
#include "model/types.h"

/* jansson escapes ", \ and the control characters (the short forms where JSON
 * has them, \u00XX with upper-case digits otherwise) and writes the rest of
 * valid UTF-8 as it is. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

bool kura__json_string(kura_buf *b, const char *s, size_t len)
{
    if (kura_utf8_chars(s, len) < 0)
        return false;
    kura_buf_addn(b, "\"", 1);
    size_t run = 0; /* bytes before i that need no escape, not yet written */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        kura_buf_addn(b, s + i - run, run);
        run = 0;
        const char *e = short_escape(c);
        if (e) {
            kura_buf_addn(b, e, 2);
        } else {
            static const char hex[] = "0123456789ABCDEF";
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            kura_buf_addn(b, u, sizeof u);
        }
    }
    kura_buf_addn(b, s + len - run, run);
    kura_buf_addn(b, "\"", 1);
    return true;
}

static bool json_time(kura_buf *b, kura_time t)
{
    if (t == 0) {
        kura_buf_add(b, "null");
        return true;
    }
    char text[28];
    kura_time_format_iso(t, text);
    return kura__json_string(b, text, strlen(text));
}

/* A type without json_text: its json_t, dumped. */
static bool through_jansson(kura_buf *b, const kura_field *f, const void *m)
{
    json_t *v = kura__type(f->type)->to_json(f, m);
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!text)
        return false;
    kura_buf_add(b, text);
    free(text);
    return true;
}

static bool field_text(kura_buf *b, const kura_model *model, const void *obj, const kura_field *f)
{
    if (kura_is_null(model, obj, f)) {
        kura_buf_add(b, "null");
        return true;
    }
    const kura_type_info *ti = kura__type(f->type);
    const void *m = kura__cmember(obj, f);
    return ti->json_text ? ti->json_text(b, f, m) : through_jansson(b, f, m);
}

static bool name(kura_buf *b, const char *n, bool first)
{
    if (!first)
        kura_buf_addn(b, ",", 1);
    bool ok = kura__json_string(b, n, strlen(n));
    kura_buf_addn(b, ":", 1);
    return ok;
}

bool kura__to_json_text(kura_buf *b, const kura_model *model, const void *obj)
{
    const kura_base *base = obj;
    kura_buf_addn(b, "{", 1);
    bool ok = name(b, kura_key_name(model), true);
    if (model->key == KURA_KEY_INT64)
        kura_buf_add_i64(b, base->id);
    else if (base->key[0] == '\0')
        kura_buf_add(b, "null");
    else
        ok = ok && kura__json_string(b, base->key, strnlen(base->key, sizeof base->key));
    for (size_t i = 0; ok && i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        ok = name(b, f->name, false) && field_text(b, model, obj, f);
    }
    for (int i = 0; ok && i < kura__stamp_count(model); i++) {
        int column = kura__stamp_column(i);
        ok = name(b, kura_column_name(model, column), false) &&
             json_time(b, kura__stamp_value(base, column));
    }
    kura_buf_addn(b, "}", 1);
    return ok && !b->oom;
}

bool kura__json_time_text(kura_buf *b, const kura_field *f, const void *m)
{
    (void)f;
    kura_time t;
    memcpy(&t, m, sizeof t);
    return json_time(b, t);
}
