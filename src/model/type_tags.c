/* type_tags.c — the tags type: kura_tags, a fixed list of short strings. */
#include <string.h>

#include "model/model_private.h"
#include "model/types.h"

bool kura_tags_add(kura_tags *tags, const char *tag)
{
    if (!tags || !tag || tags->count >= KURA_TAGS_MAX || strlen(tag) >= sizeof tags->items[0])
        return false;
    memcpy(tags->items[tags->count], tag, strlen(tag) + 1);
    tags->count++;
    return true;
}

bool kura_tags_has(const kura_tags *tags, const char *tag)
{
    for (uint32_t i = 0; i < tags->count && i < KURA_TAGS_MAX; i++)
        if (strcmp(tags->items[i], tag) == 0)
            return true;
    return false;
}

json_t *kura__tags_to_json(const kura_tags *tags)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < tags->count && i < KURA_TAGS_MAX; i++) {
        const char *s = tags->items[i];
        if (json_array_append_new(a, json_stringn(s, strnlen(s, sizeof tags->items[i]))) != 0) {
            json_decref(a); /* invalid UTF-8 (json_stringn refuses it) or no memory */
            return NULL;
        }
    }
    return a;
}

bool kura__tags_from_json(const kura_field *f, const json_t *v, kura_tags *out, kura_error *err)
{
    if (!json_is_array(v))
        return kura__json_type_error(err, f->name, "an array of strings");
    if (json_array_size(v) > KURA_TAGS_MAX)
        return kura_fail(err, KURA_VALIDATION, f->name, "%s has more than %d tags", f->name,
                         KURA_TAGS_MAX);
    kura_tags t;
    memset(&t, 0, sizeof t);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item))
            return kura__json_type_error(err, f->name, "an array of strings");
        size_t len = json_string_length(item);
        if (len >= sizeof t.items[0] || memchr(json_string_value(item), '\0', len))
            return kura_fail(err, KURA_VALIDATION, f->name, "%s: tag %zu is too long", f->name, i);
        memcpy(t.items[i], json_string_value(item), len);
        t.count++;
    }
    *out = t;
    return true;
}

static bool tags_no_value(const kura_field *f, kura_value *v)
{
    (void)f, (void)v;
    return false; /* no kura_value carries a tag list: "contains" is not offered yet */
}

static bool tags_parse(const kura_field *f, const char *text, kura_value *out, char *s, size_t n)
{
    (void)f, (void)text, (void)out, (void)s, (void)n;
    return false;
}

static bool tags_check(const kura_field *f, const void *m, kura_reason r)
{
    const kura_tags *t = m;
    if (t->count > KURA_TAGS_MAX)
        return kura__reason(r, "has more than %d tags", KURA_TAGS_MAX);
    if (t->count == 0)
        return f->required ? kura__reason(r, "is required") : true;
    int max = f->max_chars > 0 && f->max_chars < KURA_TAG_CHARS ? f->max_chars : KURA_TAG_CHARS;
    for (uint32_t i = 0; i < t->count; i++) {
        const char *s = t->items[i];
        if (memchr(s, '\0', sizeof t->items[i]) == NULL)
            return kura__reason(r, "tag %u is not NUL-terminated", (unsigned)i);
        long chars = kura_utf8_chars(s, strlen(s));
        if (chars < 0)
            return kura__reason(r, "tag %u is not valid UTF-8", (unsigned)i);
        if (chars == 0)
            return kura__reason(r, "tag %u is empty", (unsigned)i);
        if (chars > max)
            return kura__reason(r, "tag %u is longer than %d character%s", (unsigned)i, max,
                                kura__plural(max));
        if (f->choices != NULL && !kura__check_choices(f, s, r))
            return false;
    }
    return true;
}

static kura_value tags_value(const kura_field *f, const void *m)
{
    (void)f, (void)m;
    return KURA_VNULL; /* no kura_value carries a tag list */
}

static bool tags_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err)
{
    (void)f, (void)v, (void)m, (void)err;
    return false;
}

static json_t *tags_to_json(const kura_field *f, const void *m)
{
    (void)f;
    return kura__tags_to_json(m);
}

static bool tags_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err)
{
    return kura__tags_from_json(f, v, m, err);
}

/* SQL tables keep the list as a TEXT column holding the JSON array. */
static char *tags_sql_text(const kura_field *f, const void *m, kura_error *err)
{
    json_t *a = kura__tags_to_json(m);
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!text)
        kura_fail(err, KURA_VALIDATION, f->name, "%s: cannot encode the tags", f->name);
    return text;
}

static bool tags_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                          kura_time_memo *memo, kura_error *err)
{
    (void)memo;
    if (!txt) {
        memset(m, 0, sizeof(kura_tags));
        return true;
    }
    json_error_t jerr;
    json_t *a = json_loadb(txt, len, 0, &jerr);
    kura_error e;
    kura_error_clear(&e);
    bool ok = a && kura__tags_from_json(f, a, m, &e);
    json_decref(a);
    if (!ok)
        return kura_fail(err, KURA_MISFIT, f->name, "%s: stored value is not a tag list%s%s",
                         f->name, e.message[0] ? ": " : "", e.message);
    return true;
}

static bool tags_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                         kura_error *err)
{
    const kura_tags *t = m;
    bson_t arr;
    bson_append_array_begin(b, key, -1, &arr);
    for (uint32_t i = 0; i < t->count && i < KURA_TAGS_MAX; i++) {
        char idx[16];
        const char *ikey;
        size_t len = strnlen(t->items[i], sizeof t->items[i]);
        if (!bson_utf8_validate(t->items[i], len, false)) {
            bson_append_array_end(b, &arr);
            return kura_fail(err, KURA_VALIDATION, f->name, "%s: tag %u is not valid UTF-8",
                             f->name, (unsigned)i);
        }
        bson_uint32_to_string(i, &ikey, idx, sizeof idx);
        bson_append_utf8(&arr, ikey, -1, t->items[i], (int)len);
    }
    return bson_append_array_end(b, &arr);
}

static bool tags_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    bson_iter_t child;
    if (!BSON_ITER_HOLDS_ARRAY(it) || !bson_iter_recurse(it, &child))
        return kura__bson_wrong_type(err, f->name, it);
    kura_tags t;
    memset(&t, 0, sizeof t);
    while (bson_iter_next(&child)) {
        uint32_t len;
        const char *s = BSON_ITER_HOLDS_UTF8(&child) ? bson_iter_utf8(&child, &len) : NULL;
        if (!s || t.count >= KURA_TAGS_MAX || len >= sizeof t.items[0] || memchr(s, 0, len))
            return kura_fail(err, KURA_MISFIT, f->name,
                             "%s: stored value is not a list of at most %d short strings", f->name,
                             KURA_TAGS_MAX);
        memcpy(t.items[t.count++], s, len);
    }
    memcpy(m, &t, sizeof t);
    return true;
}

const kura_type_info kura__type_tags = {
    .js_type = "array",
    .js_example = "[\"c\", \"databases\"]",
    .name = "tags",
    .size = sizeof(kura_tags),
    .align = _Alignof(kura_tags),
    .c_type = "kura_tags",
    .c_macro = "KURA_TAGS",
    .chars_limit = KURA_TAG_CHARS,
    .choices = true,
    .ops = 0,
    .orders = 0,
    .fit = tags_no_value,
    .parse = tags_parse,
    .check = tags_check,
    .value = tags_value,
    .from_value = tags_from_value,
    .to_json = tags_to_json,
    .from_json = tags_from_json,
    .sql = {"TEXT", "TEXT"},
    .zero_default = " DEFAULT '[]'",
    .sql_text = tags_sql_text,
    .sql_read = KURA_SQL_READ_TEXT,
    .sql_text_len = true,
    .from_sql_text = tags_from_sql,
    .bson_alias = "array",
    .to_bson = tags_to_bson,
    .from_bson = tags_from_bson,
};
