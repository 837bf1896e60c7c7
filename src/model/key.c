/* key.c — model keys: their names, their text forms, making new ones. */
#include "kura/model.h"
#include "model/model_private.h"

#include <bson/bson.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kura_key_name(const kura_model *model)
{
    /* A declared field named "id" keeps its name; the key steps aside to "_id",
     * the name MongoDB gives it. */
    return kura_field_named(model, "id") ? "_id" : "id";
}

const char *kura_key_kind_name(kura_key_kind kind)
{
    switch (kind) {
    case KURA_KEY_INT64:
        return "int64";
    case KURA_KEY_UUID:
        return "uuid";
    case KURA_KEY_OBJECTID:
        return "objectid";
    case KURA_KEY_STRING:
        return "string";
    }
    return "unknown";
}

bool kura__key_kind_from_name(const char *name, kura_key_kind *out)
{
    for (int k = KURA_KEY_INT64; k <= KURA_KEY_STRING; k++)
        if (strcmp(kura_key_kind_name((kura_key_kind)k), name) == 0) {
            *out = (kura_key_kind)k;
            return true;
        }
    return false;
}

bool kura_key_is_set(const kura_model *model, const void *obj)
{
    const kura_base *b = obj;
    return model->key == KURA_KEY_INT64 ? b->id != 0 : b->key[0] != '\0';
}

void kura_key_text(const kura_model *model, const void *obj, char out[KURA_KEY_BYTES])
{
    const kura_base *b = obj;
    if (model->key != KURA_KEY_INT64) {
        memcpy(out, b->key, KURA_KEY_BYTES);
        out[KURA_KEY_BYTES - 1] = '\0';
    } else if (b->id == 0) {
        /* Not stored, or a document whose `_id` is not an integer: its text,
         * if a driver left it in base.key (kura_misfit.id). */
        memcpy(out, b->key, KURA_KEY_BYTES);
        out[KURA_KEY_BYTES - 1] = '\0';
    } else {
        snprintf(out, KURA_KEY_BYTES, "%lld", (long long)b->id);
    }
}

/* ---- new keys ------------------------------------------------------------------ */

static const char hex[] = "0123456789abcdef";

/* UUIDv7 (RFC 9562 section 5.7): 48 bits of Unix time in milliseconds, the
 * version, 12 bits of sub-millisecond time (section 6.2, method 3: keys made
 * microseconds apart sort in the order they were made), the variant, 62
 * random bits. */
static bool new_uuid7(char out[KURA_KEY_BYTES], kura_error *err)
{
    if (sodium_init() < 0) /* idempotent and thread-safe; randombytes needs it first */
        return kura_fail(err, KURA_IO, NULL, "libsodium cannot start: no randomness for a UUID");
    uint8_t u[16];
    randombytes_buf(u, sizeof u);
    kura_time now = kura_now();
    uint64_t ms = (uint64_t)(now / 1000);
    unsigned frac = (unsigned)(now % 1000) * 4096 / 1000; /* microseconds in 1/4096 ms */
    for (int i = 0; i < 6; i++)
        u[i] = (uint8_t)(ms >> (40 - 8 * i));
    u[6] = (uint8_t)(0x70 | (frac >> 8)); /* version 7 */
    u[7] = (uint8_t)(frac & 0xff);
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f)); /* variant 10 */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 15];
    }
    *p = '\0';
    return true;
}

bool kura_key_new(kura_key_kind kind, char out[KURA_KEY_BYTES], kura_error *err)
{
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL key buffer");
    switch (kind) {
    case KURA_KEY_UUID:
        return new_uuid7(out, err);
    case KURA_KEY_OBJECTID: {
        bson_oid_t oid;
        bson_oid_init(&oid, NULL); /* time, process-unique random, counter: as the drivers */
        bson_oid_to_string(&oid, out);
        return true;
    }
    case KURA_KEY_INT64:
    case KURA_KEY_STRING:
        break;
    }
    return kura_fail(err, KURA_INVALID, "id", "kura makes no new %s keys",
                     kura_key_kind_name(kind));
}

/* ---- reading keys ------------------------------------------------------------------ */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* 8-4-4-4-12 hex digits, lowercased into out. */
static bool uuid_form(const char *s, char out[KURA_KEY_BYTES])
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
        out[i] = lower(s[i]);
    }
    out[36] = '\0';
    return true;
}

/* 24 hex digits, lowercased into out. */
static bool objectid_form(const char *s, char out[KURA_KEY_BYTES])
{
    if (strlen(s) != 24)
        return false;
    for (int i = 0; i < 24; i++) {
        if (!is_hex(s[i]))
            return false;
        out[i] = lower(s[i]);
    }
    out[24] = '\0';
    return true;
}

/* 1..63 bytes of UTF-8 without control characters (keys travel in URLs and
 * log lines, where a control character is never meant). */
static bool string_form(const char *s, char out[KURA_KEY_BYTES])
{
    size_t n = strlen(s);
    if (n == 0 || n >= KURA_KEY_BYTES || kura_utf8_chars(s, n) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    memcpy(out, s, n + 1);
    return true;
}

static bool int_form(const char *s, int64_t *id)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 1)
        return false;
    if (id)
        *id = v;
    return true;
}

bool kura_key_parse(const kura_model *model, const char *text, int64_t *id,
                    char out[KURA_KEY_BYTES], kura_error *err)
{
    char scratch[KURA_KEY_BYTES];
    char *o = out ? out : scratch;
    if (!text)
        text = "";
    switch (model->key) {
    case KURA_KEY_INT64:
        if (int_form(text, id))
            return true;
        return kura_fail(err, KURA_INVALID, "id", "the id of %s must be an integer >= 1",
                         model->name);
    case KURA_KEY_UUID:
        if (uuid_form(text, o))
            return true;
        return kura_fail(err, KURA_INVALID, "id",
                         "the id of %s must be a UUID (8-4-4-4-12 hex digits)", model->name);
    case KURA_KEY_OBJECTID:
    case KURA_KEY_STRING:
        if (model->key == KURA_KEY_OBJECTID && objectid_form(text, o))
            return true;
        if (string_form(text, o))
            return true;
        return kura_fail(err, KURA_INVALID, "id",
                         "the id of %s must be 1 to %d bytes of UTF-8 without control characters",
                         model->name, KURA_KEY_BYTES - 1);
    }
    return kura_fail(err, KURA_INVALID, "id", "%s has an unknown key kind %d", model->name,
                     (int)model->key);
}

bool kura_key_check_new(const kura_model *model, kura_base *base, kura_error *err)
{
    char text[KURA_KEY_BYTES];
    memcpy(text, base->key, sizeof text);
    text[KURA_KEY_BYTES - 1] = '\0';
    switch (model->key) {
    case KURA_KEY_INT64:
        return true;
    case KURA_KEY_UUID:
        if (uuid_form(text, base->key))
            return true;
        return kura_fail(err, KURA_VALIDATION, "id", "id must be a UUID (8-4-4-4-12 hex digits)");
    case KURA_KEY_OBJECTID:
        if (objectid_form(text, base->key))
            return true;
        return kura_fail(err, KURA_VALIDATION, "id", "id must be an ObjectId (24 hex digits)");
    case KURA_KEY_STRING:
        if (string_form(text, base->key))
            return true;
        return kura_fail(err, KURA_VALIDATION, "id",
                         "id must be 1 to %d bytes of UTF-8 without control characters",
                         KURA_KEY_BYTES - 1);
    }
    return kura_fail(err, KURA_INVALID, "id", "%s has an unknown key kind %d", model->name,
                     (int)model->key);
}

/* ---- MongoEngine's names ----------------------------------------------------------- */

bool kura_mongoengine_collection(const char *class_name, char *out, size_t out_size)
{
    /* MongoEngine: "".join("_%s" % c if c.isupper() else c for c in name)
     * .strip("_").lower(): an underscore before every capital, then the
     * underscores at both ends (the one before the first capital, and any the
     * class name itself begins or ends with) go. */
    if (out_size == 0 || !out || !class_name) /* no name has no collection */
        return false;
    const char *s = class_name;
    while (*s == '_')
        s++;
    size_t end = strlen(s);
    while (end > 0 && s[end - 1] == '_')
        end--;
    size_t n = 0;
    bool fits = true;
    for (size_t i = 0; i < end; i++) {
        char c = s[i];
        bool upper = c >= 'A' && c <= 'Z';
        size_t need = upper && n > 0 ? 2 : 1;
        if (n + need >= out_size) {
            fits = false;
            break;
        }
        if (upper && n > 0)
            out[n++] = '_';
        out[n++] = lower(c);
    }
    out[n] = '\0';
    return fits;
}
