/* type_uuid.c — the identifier types: uuid (16 bytes) and objectid (12 bytes), as hex text. */
#include <sodium.h>
#include <string.h>

#include "model/types.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char hex_digits[] = "0123456789abcdef";

/* n bytes as 2n lowercase hex digits; out gets a NUL after them. */
static void to_hex(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = hex_digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- uuid ------------------------------------------------------------------------ */

/* The 16 bytes of a UUID written with dashes (8-4-4-4-12, any case) or as 32
 * hex digits (SQLAlchemy's Uuid on SQLite). */
static bool uuid_bytes(const char *text, size_t len, uint8_t out[16])
{
    bool dashed = len == 36;
    if (!dashed && len != 32)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (text[i] != '-')
                return false;
            continue;
        }
        int h = hex_value(text[i]), l = i + 1 < len ? hex_value(text[i + 1]) : -1;
        if (h < 0 || l < 0)
            return false;
        out[k++] = (uint8_t)(h << 4 | l);
        i++;
    }
    return k == 16;
}

static void uuid_text(const uint8_t b[16], char out[KURA_UUID_BYTES])
{
    to_hex(b, 4, out);
    out[8] = '-';
    to_hex(b + 4, 2, out + 9);
    out[13] = '-';
    to_hex(b + 6, 2, out + 14);
    out[18] = '-';
    to_hex(b + 8, 2, out + 19);
    out[23] = '-';
    to_hex(b + 10, 6, out + 24);
}

static bool uuid_canon(const kura_field *f, const char *text, size_t len, char *out, size_t cap)
{
    (void)f;
    uint8_t b[16];
    if (cap < KURA_UUID_BYTES || !uuid_bytes(text, len, b))
        return false;
    uuid_text(b, out);
    return true;
}

bool kura_uuid_new(char out[KURA_UUID_BYTES])
{
    if (!out)
        return false;
    if (sodium_init() < 0) {
        out[0] = '\0';
        return false;
    }
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4: random */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
    uuid_text(b, out);
    return true;
}

static bool uuid_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                         kura_error *err)
{
    uint8_t bytes[16];
    const char *s = m;
    if (!s[0])
        return bson_append_null(b, key, -1);
    if (!uuid_bytes(s, strnlen(s, f->size), bytes))
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is not a UUID", f->name);
    return bson_append_binary(b, key, -1, BSON_SUBTYPE_UUID, bytes, 16);
}

static bool uuid_value_bson(bson_t *b, const char *key, const kura_value *v)
{
    uint8_t bytes[16];
    if (v->kind != KURA_VALUE_STRING || !uuid_bytes(v->as.s, strlen(v->as.s), bytes))
        return false;
    return bson_append_binary(b, key, -1, BSON_SUBTYPE_UUID, bytes, 16);
}

static bool uuid_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    if (BSON_ITER_HOLDS_UTF8(it))
        return kura__canon_from_bson_utf8(f, it, m, err);
    bson_subtype_t sub;
    uint32_t len;
    const uint8_t *data;
    if (!BSON_ITER_HOLDS_BINARY(it))
        return kura__bson_wrong_type(err, f->name, it);
    bson_iter_binary(it, &sub, &len, &data);
    /* Subtype 3 is the legacy UUID some drivers wrote; its byte order is the
     * driver's own, so only subtype 4 is read. */
    if (sub != BSON_SUBTYPE_UUID || len != 16)
        return kura_fail(err, KURA_MISFIT, f->name,
                         "%s: stored binary is not a UUID (subtype 4, 16 bytes)", f->name);
    uuid_text(data, m);
    return true;
}

static size_t uuid_member_bytes(const kura_field *f, kura_buf *bound)
{
    (void)f;
    if (bound)
        kura_buf_add(bound, "KURA_UUID_BYTES");
    return KURA_UUID_BYTES;
}

const kura_type_info kura__type_uuid = {
    .js_type = "string",
    .js_format = "uuid",
    .js_example = "\"01890a5d-ac96-774b-bcce-b302099a8057\"",
    KURA__CANON_ENTRY,
    .name = "uuid",
    .c_macro = "KURA_UUID",
    .array_bytes = uuid_member_bytes,
    .canon = uuid_canon,
    .form = "a UUID (8-4-4-4-12 hex digits)",
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .from_json = kura__canon_from_json,
    .sql = {"CHAR(36)", "UUID"},
    .catalog = {NULL, "uuid"},
    .zero_default = " DEFAULT '00000000-0000-0000-0000-000000000000'",
    .bson_alias = "binData",
    .to_bson = uuid_to_bson,
    .from_bson = uuid_from_bson,
    .value_bson = uuid_value_bson,
};

/* ---- objectid -------------------------------------------------------------------- */

static bool oid_canon(const kura_field *f, const char *text, size_t len, char *out, size_t cap)
{
    (void)f;
    if (cap < KURA_OBJECTID_BYTES || len != 24)
        return false;
    for (size_t i = 0; i < 24; i++) {
        int v = hex_value(text[i]);
        if (v < 0)
            return false;
        out[i] = hex_digits[v];
    }
    out[24] = '\0';
    return true;
}

void kura_objectid_new(char out[KURA_OBJECTID_BYTES])
{
    bson_oid_t oid;
    bson_oid_init(&oid, NULL); /* the default context is thread-safe */
    bson_oid_to_string(&oid, out);
}

static bool oid_to_bson(bson_t *b, const char *key, const kura_field *f, const void *m,
                        kura_error *err)
{
    const char *s = m;
    if (!s[0])
        return bson_append_null(b, key, -1);
    if (!bson_oid_is_valid(s, strnlen(s, f->size)))
        return kura_fail(err, KURA_VALIDATION, f->name, "%s is not an ObjectId", f->name);
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, s);
    return bson_append_oid(b, key, -1, &oid);
}

static bool oid_value_bson(bson_t *b, const char *key, const kura_value *v)
{
    if (v->kind != KURA_VALUE_STRING || !bson_oid_is_valid(v->as.s, strlen(v->as.s)))
        return false;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, v->as.s);
    return bson_append_oid(b, key, -1, &oid);
}

static bool oid_from_bson(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err)
{
    if (BSON_ITER_HOLDS_UTF8(it))
        return kura__canon_from_bson_utf8(f, it, m, err);
    if (!BSON_ITER_HOLDS_OID(it))
        return kura__bson_wrong_type(err, f->name, it);
    bson_oid_to_string(bson_iter_oid(it), m);
    return true;
}

static size_t oid_bytes(const kura_field *f, kura_buf *bound)
{
    (void)f;
    if (bound)
        kura_buf_add(bound, "KURA_OBJECTID_BYTES");
    return KURA_OBJECTID_BYTES;
}

const kura_type_info kura__type_objectid = {
    .js_type = "string",
    .js_pattern = "^[0-9a-f]{24}$",
    .js_example = "\"6750a1c2e4b0c3d2a1f00001\"",
    KURA__CANON_ENTRY,
    .name = "objectid",
    .c_macro = "KURA_OBJECTID",
    .array_bytes = oid_bytes,
    .canon = oid_canon,
    .form = "an ObjectId (24 hex digits)",
    .ops = KURA_OPS_ORDER,
    .orders = KURA_FORM_ALL,
    .from_json = kura__canon_from_json,
    .sql = {"CHAR(24)", "CHAR(24)"},
    .catalog = {NULL, "character(24)"},
    .zero_default = " DEFAULT '000000000000000000000000'",
    .bson_alias = "objectId",
    .to_bson = oid_to_bson,
    .from_bson = oid_from_bson,
    .value_bson = oid_value_bson,
};
