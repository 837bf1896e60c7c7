/*
 * kura/model.h — models: a plain C struct plus one static descriptor.
 *
 * A model struct starts with a `kura_base` member named `base` (id and the two
 * timestamps) followed by its own fields. Fields are fixed-size members (no
 * allocation per row) except KURA_TEXT and KURA_JSON, `char *` text the struct owns.
 *
 *     typedef struct sa_user {
 *         kura_base base;
 *         char name[KURA_STRING_BYTES(128)];
 *         int32_t age;
 *     } sa_user;
 *
 *     const kura_model sa_user_model = KURA_MODEL(sa_user, "sa_user",
 *         KURA_STRING(sa_user, name, 128, .required = true),
 *         KURA_INT32(sa_user, age, .index = true, .min = 0, .max = 150, .has_range = true));
 *
 * The descriptor drives the table definition, binding, decoding, JSON and
 * validation. The field macros check at compile time that the member has the
 * declared type and, for strings, room for the declared number of characters.
 */
#ifndef KURA_MODEL_H
#define KURA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A UTC instant in microseconds since 1970-01-01T00:00:00Z. 0 means "unset". */
typedef int64_t kura_time;

/* Embedded first in every model struct as `kura_base base;`. */
typedef struct kura_base {
    int64_t id;           /* primary key, assigned by the store on insert; 0 = not stored yet */
    kura_time created_at; /* set on insert */
    kura_time updated_at; /* set on insert and on every write path */
    uint64_t nulls;       /* bit i set: user field i is NULL (SQL NULL / JSON null) */
} kura_base;

/*
 * The field types. Each has one entry in the library's table of types
 * (src/model/types.c): its name, C member, validation, JSON, SQL column per
 * database, BSON and the queries it takes. The lowercase name in quotes is the
 * one schema files use (kura_type_name, kura_type_from_name).
 */
typedef enum kura_type {
    KURA_TYPE_INT32,    /* "int32"    int32_t */
    KURA_TYPE_INT64,    /* "int64"    int64_t */
    KURA_TYPE_DOUBLE,   /* "double"   double */
    KURA_TYPE_BOOL,     /* "bool"     bool */
    KURA_TYPE_STRING,   /* "string"   char[KURA_STRING_BYTES(n)]: at most n characters of UTF-8 */
    KURA_TYPE_TEXT,     /* "text"     char *: unbounded UTF-8, malloc'd, owned by the struct */
    KURA_TYPE_EMAIL,    /* "email"    like STRING, and a WHATWG valid e-mail address */
    KURA_TYPE_DATETIME, /* "datetime" kura_time */
    KURA_TYPE_TAGS,     /* "tags"     kura_tags: a list of short strings (see below) */
    KURA_TYPE_UUID,     /* "uuid"     char[KURA_UUID_BYTES]: canonical text (see below) */
    KURA_TYPE_OBJECTID, /* "objectid" char[KURA_OBJECTID_BYTES]: 24 hex digits (see below) */
    KURA_TYPE_DATE,     /* "date"     char[KURA_DATE_BYTES]: "YYYY-MM-DD" (see below) */
    KURA_TYPE_DECIMAL,  /* "decimal"  char[KURA_DECIMAL_BYTES(p)]: exact decimal text (see below) */
    KURA_TYPE_JSON,     /* "json"     char *: any JSON value as text, owned (see below) */
} kura_type;

/* The number of field types: kura_type values are 0 .. KURA_TYPE_COUNT - 1. */
#define KURA_TYPE_COUNT (KURA_TYPE_JSON + 1)

/* The lowercase name of a type ("int32", "uuid", ...), as schema files spell it;
 * static storage. NULL for a value that is no kura_type. */
const char *kura_type_name(kura_type type);

/* The type named `name` (exact, lowercase: "int32", "datetime", "decimal", ...).
 * Returns false, leaving *out untouched, for NULL or an unknown name. */
bool kura_type_from_name(const char *name, kura_type *out);

/* Bytes a char array needs to hold n characters of UTF-8 and the terminating NUL. */
#define KURA_STRING_BYTES(n) ((n)*4 + 1)

/*
 * A list-of-strings field ("tags"). Fixed capacity, like STRING: the struct
 * owns no memory, copies with =, and kura_clear has nothing to free. Each tag
 * is 1..KURA_TAG_CHARS characters of UTF-8 (`.max_chars = n` may lower it;
 * choices apply to every tag; `.required` means at least one tag). Stored as a JSON array of
 * strings in documents, a BSON array in MongoDB, and in SQL tables as a TEXT column holding that
 * JSON array. Queries on a tags field ("contains tag") are not offered yet:
 * the builder refuses the field.
 */
#define KURA_TAGS_MAX  16
#define KURA_TAG_CHARS 32
typedef struct kura_tags {
    uint32_t count; /* tags in use: items[0..count) */
    char items[KURA_TAGS_MAX][KURA_STRING_BYTES(KURA_TAG_CHARS)];
} kura_tags;

/* Appends a copy of tag; false (nothing changed) when the list is full or tag
 * is too long for an item. Validation checks the rest (UTF-8, length, choices). */
bool kura_tags_add(kura_tags *tags, const char *tag);

/* Whether tag is in the list. */
bool kura_tags_has(const kura_tags *tags, const char *tag);

/*
 * Text-valued types: UUID, OBJECTID, DATE and DECIMAL members are fixed-size
 * char arrays holding the value's canonical text, like STRING: the struct owns
 * no memory and copies with =. An empty string means "no value": it is written
 * as NULL (SQL NULL, JSON null) and `.required` refuses it. Validation accepts
 * only the canonical form below, so that equal values are equal text in every
 * store; what comes from outside (kura_from_json, HTTP query parameters, rows
 * other programs wrote) is read leniently and canonicalised on the way in. The
 * query builder takes them as strings (kura_where_str) in canonical form; any
 * other form is KURA_INVALID.
 *
 * UUID: 36 characters, lowercase, "8-4-4-4-12" hex with dashes
 * ("123e4567-e89b-42d3-a456-426614174000"). Stored as UUID on PostgreSQL,
 * CHAR(36) text on SQLite, a JSON string in documents and BSON binary subtype
 * 4 on MongoDB. Reads also accept upper case and 32 hex digits without dashes
 * (what SQLAlchemy's Uuid type writes on SQLite); an equality query compares
 * the canonical text, so it does not match such rows until kura rewrites them.
 * Every operator but PREFIX/LIKE.
 */
#define KURA_UUID_BYTES 37

/* Writes a new random (version 4) UUID in canonical form. Uses libsodium's
 * randombytes; returns false only when libsodium cannot be initialised. */
bool kura_uuid_new(char out[KURA_UUID_BYTES]);

/*
 * OBJECTID: MongoDB's 12-byte ObjectId as 24 lowercase hex digits. A real
 * ObjectId on MongoDB, CHAR(24) text in SQL tables and a string in JSON and
 * the other document stores. Reads accept upper case. Every operator but
 * PREFIX/LIKE (hex text orders as the bytes do).
 */
#define KURA_OBJECTID_BYTES 25

/* Writes a new ObjectId (libbson's generator: time, process, counter). */
void kura_objectid_new(char out[KURA_OBJECTID_BYTES]);

/*
 * DATE: a calendar date without time, "YYYY-MM-DD" (years 0001..9999, a day
 * that exists). DATE on PostgreSQL, DATE-declared text on SQLite (what
 * SQLAlchemy's Date stores), a JSON string in documents. MongoDB has no
 * date-only type: kura stores a BSON date at 00:00:00 UTC of that day (and
 * reads back only dates at midnight UTC, or "YYYY-MM-DD" strings). The text
 * orders as the dates do, so every operator but PREFIX/LIKE works everywhere.
 */
#define KURA_DATE_BYTES 11

/*
 * DECIMAL: an exact decimal number with at most `precision` digits, `scale` of
 * them after the point (KURA_DECIMAL(T, m, precision, scale), 1 <= precision
 * <= 34 so that MongoDB's Decimal128 holds it exactly, 0 <= scale <=
 * precision). Canonical text: an optional '-', the integer digits without
 * leading zeros ("0" when there are none), then, when scale > 0, '.' and
 * exactly `scale` digits: "12.50", "-0.05", "7" (scale 0). Never through a
 * double: NUMERIC(p,s) on PostgreSQL, TEXT on SQLite (NUMERIC affinity would
 * make it a double), a JSON string in documents, Decimal128 on MongoDB.
 * kura_from_json accepts a string in any decimal notation ("1.5", "1.5e2")
 * that fits exactly, and a JSON integer; a JSON number with a fraction or an
 * exponent is refused (KURA_VALIDATION), because the JSON parser turns it into
 * a double. Equality works everywhere; ordering (LT, LE, GT, GE, and sorting)
 * only where the stored form sorts as numbers do: PostgreSQL tables and JSONB
 * documents, and MongoDB. On SQLite tables and SQLite documents the query
 * fails with KURA_UNSUPPORTED.
 */
#define KURA_DECIMAL_BYTES(precision) ((precision) + 4)

/* Writes `text` (any decimal notation, e.g. "1.5", "-3", "2.50e1") as the
 * canonical text of a DECIMAL(precision, scale) into out (out_size bytes).
 * Returns false when it is not a decimal, does not fit exactly, or out is too
 * small; out is then "". */
bool kura_decimal_canonical(const char *text, int precision, int scale, char *out, size_t out_size);

/*
 * JSON: any JSON value (object, array, string, number, true, false) held as
 * its JSON text in a malloc'd `char *` the struct owns, like TEXT (kura_clear
 * frees it; kura_set_text sets it). Validated as JSON on write. A NULL member,
 * or the text "null", is the field's NULL: JSON null and a missing value are
 * one thing in documents, so kura makes them one thing everywhere. TEXT on
 * SQLite, JSONB on PostgreSQL (which normalises spacing and key order), the
 * value itself (not a string) in kura's JSON, in JSON documents and as BSON on
 * MongoDB (integers as int32/int64, other numbers as doubles; a stored BSON
 * type JSON cannot say, such as a date, is refused when read). Numbers pass
 * through jansson, which keeps integers exactly and other numbers as doubles.
 * A JSON field cannot be filtered or sorted on (KURA_INVALID from the query
 * builder), only tested for NULL.
 */

/* At most this many user fields per model (one bit each in kura_base.nulls). */
#define KURA_MAX_FIELDS 64

typedef struct kura_field {
    const char *name; /* column / document key; also the C member name */
    kura_type type;
    size_t offset; /* offsetof(struct, member) */
    size_t size;   /* sizeof(member) */
    int max_chars; /* STRING and EMAIL: the bound in characters */
    int precision; /* DECIMAL: digits in all */
    int scale;     /* DECIMAL: digits after the point */

    bool index;    /* create a (non-unique) index with the table */
    bool unique;   /* values are unique (a unique constraint) */
    bool required; /* NOT NULL; strings must also be non-empty */

    const char *const *choices; /* strings: NULL-terminated list of allowed values */

    bool has_range; /* integers and doubles: min <= value <= max */
    int64_t min;
    int64_t max;

    /* Applied by kura_init(); also written as the column's DEFAULT. */
    bool has_default;
    int64_t default_int;        /* INT32, INT64, BOOL */
    double default_double;      /* DOUBLE */
    const char *default_string; /* STRING, EMAIL, TEXT, and the text types (canonical) */
} kura_field;

typedef struct kura_model {
    const char *name;         /* table / collection name */
    size_t size;              /* sizeof the model struct */
    const kura_field *fields; /* user fields, in declaration order; the base is implicit */
    size_t nfields;
} kura_model;

/* --- declaring fields ---------------------------------------------------- */

/* Compile-time checks folded into the field initialisers: zero, or a compile error. */
#define KURA__CHECK(cond)  (0 * sizeof(char[(cond) ? 1 : -1]))
#define KURA__MEMBER(T, m) (((T *)0)->m)
#define KURA__FIELD(T, m, kind)                                                                    \
    .name = #m, .type = (kind), .offset = offsetof(T, m), .size = sizeof(KURA__MEMBER(T, m))

#define KURA_INT32(T, m, ...)                                                                      \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_INT32) + 0 * _Generic(KURA__MEMBER(T, m), int32_t : 0),        \
            __VA_ARGS__                                                                            \
    }
#define KURA_INT64(T, m, ...)                                                                      \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_INT64) + 0 * _Generic(KURA__MEMBER(T, m), int64_t : 0),        \
            __VA_ARGS__                                                                            \
    }
#define KURA_DOUBLE(T, m, ...)                                                                     \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_DOUBLE) + 0 * _Generic(KURA__MEMBER(T, m), double : 0),        \
            __VA_ARGS__                                                                            \
    }
#define KURA_BOOL(T, m, ...)                                                                       \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_BOOL) + 0 * _Generic(KURA__MEMBER(T, m), bool : 0),            \
            __VA_ARGS__                                                                            \
    }
#define KURA_DATETIME(T, m, ...)                                                                   \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_DATETIME) + 0 * _Generic(KURA__MEMBER(T, m), kura_time : 0),   \
            __VA_ARGS__                                                                            \
    }
#define KURA_TEXT(T, m, ...)                                                                       \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_TEXT) + 0 * _Generic(KURA__MEMBER(T, m), char * : 0),          \
            __VA_ARGS__                                                                            \
    }
#define KURA_TAGS(T, m, ...)                                                                       \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_TAGS) + 0 * _Generic(KURA__MEMBER(T, m), kura_tags : 0),       \
            __VA_ARGS__                                                                            \
    }
#define KURA_STRING(T, m, n, ...)                                                                  \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_STRING) +                                                      \
            KURA__CHECK(sizeof(KURA__MEMBER(T, m)) >= KURA_STRING_BYTES(n)),                       \
            .max_chars = (n), __VA_ARGS__                                                          \
    }
#define KURA_EMAIL(T, m, n, ...)                                                                   \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_EMAIL) +                                                       \
            KURA__CHECK(sizeof(KURA__MEMBER(T, m)) >= KURA_STRING_BYTES(n)),                       \
            .max_chars = (n), __VA_ARGS__                                                          \
    }

/* The text-valued types check that the member is char text with room for the
 * canonical form (a `char *` member fails that check, but for a DECIMAL of precision 4 or less). */
#define KURA__TEXT_FIELD(T, m, kind, bytes)                                                        \
    KURA__FIELD(T, m, kind) + KURA__CHECK(sizeof(KURA__MEMBER(T, m)) >= (bytes)) +                 \
        0 * _Generic(&KURA__MEMBER(T, m)[0], char * : 0)
#define KURA_UUID(T, m, ...)                                                                       \
    {                                                                                              \
        KURA__TEXT_FIELD(T, m, KURA_TYPE_UUID, KURA_UUID_BYTES), __VA_ARGS__                       \
    }
#define KURA_OBJECTID(T, m, ...)                                                                   \
    {                                                                                              \
        KURA__TEXT_FIELD(T, m, KURA_TYPE_OBJECTID, KURA_OBJECTID_BYTES), __VA_ARGS__               \
    }
#define KURA_DATE(T, m, ...)                                                                       \
    {                                                                                              \
        KURA__TEXT_FIELD(T, m, KURA_TYPE_DATE, KURA_DATE_BYTES), __VA_ARGS__                       \
    }
#define KURA_DECIMAL(T, m, p, s, ...)                                                              \
    {                                                                                              \
        KURA__TEXT_FIELD(T, m, KURA_TYPE_DECIMAL, KURA_DECIMAL_BYTES(p)) +                         \
            KURA__CHECK((p) >= 1 && (p) <= 34 && (s) >= 0 && (s) <= (p)),                          \
            .precision = (p), .scale = (s), __VA_ARGS__                                            \
    }
#define KURA_JSON(T, m, ...)                                                                       \
    {                                                                                              \
        KURA__FIELD(T, m, KURA_TYPE_JSON) + 0 * _Generic(KURA__MEMBER(T, m), char * : 0),          \
            __VA_ARGS__                                                                            \
    }

/* The descriptor of struct T stored as `table`; checks that `base` comes first and
 * that the fields fit the NULL bitmap. */
#define KURA__NFIELDS(...) (sizeof((const kura_field[]){__VA_ARGS__}) / sizeof(kura_field))
#define KURA_MODEL(T, table, ...)                                                                  \
    {                                                                                              \
        .name = (table), .size = sizeof(T) + KURA__CHECK(offsetof(T, base) == 0),                  \
        .fields = (const kura_field[]){__VA_ARGS__},                                               \
        .nfields = KURA__NFIELDS(__VA_ARGS__) +                                                    \
                   KURA__CHECK(KURA__NFIELDS(__VA_ARGS__) <= KURA_MAX_FIELDS)                      \
    }

/* --- working with model values ------------------------------------------- */

/* Zeroes *obj (model->size bytes) and applies every field's default. A TEXT default
 * is strdup'd (owned by *obj); out of memory leaves it NULL, which reads as "". */
void kura_init(const kura_model *model, void *obj);

/* Frees what *obj owns (KURA_TEXT and KURA_JSON members) and sets those members to NULL.
 * Does not free obj itself. Safe on a zeroed or already-cleared struct. */
void kura_clear(const kura_model *model, void *obj);

/* Deep copy: *dst becomes an independent copy of *src (TEXT and JSON members duplicated).
 * *dst must not own anything (call kura_clear first). KURA_NOMEM on failure. */
bool kura_copy(const kura_model *model, void *dst, const void *src, kura_error *err);

/* The user field named `name`, or NULL. The base columns are not user fields. */
const kura_field *kura_field_named(const kura_model *model, const char *name);

/* Index of `field` in model->fields. */
size_t kura_field_index(const kura_model *model, const kura_field *field);

/* NULL markers (kura_base.nulls). A NULL field is stored as SQL NULL / JSON null. */
bool kura_is_null(const kura_model *model, const void *obj, const kura_field *field);
void kura_set_null(const kura_model *model, void *obj, const kura_field *field, bool is_null);

/*
 * Copies the UTF-8 string src into dst (a char array of dst_size bytes).
 * When src does not fit, copies as much as fits without splitting a character
 * and returns false; dst is always NUL-terminated (when dst_size > 0).
 */
bool kura_copy_string(char *dst, size_t dst_size, const char *src);

/* Replaces a KURA_TEXT or KURA_JSON member (*member, malloc'd or NULL) with a copy of src
 * (NULL clears it). Returns false on out of memory, leaving *member as it was. */
bool kura_set_text(char **member, const char *src);

/* --- validation ---------------------------------------------------------- */

/*
 * Checks every field of *obj against its descriptor: valid UTF-8, bounded
 * lengths counted in characters, e-mail syntax, required, choices, ranges.
 * Returns true when all pass; otherwise fills err with KURA_VALIDATION, the
 * first failing field's name in err->field and the reason in err->message.
 */
bool kura_validate(const kura_model *model, const void *obj, kura_error *err);

typedef struct kura_field_error {
    const char *field; /* static storage: the descriptor's name */
    char reason[96];
} kura_field_error;

/* Like kura_validate, but records up to `cap` failures in out[]; returns the
 * total number of failing fields (which may exceed cap). */
size_t kura_validate_all(const kura_model *model, const void *obj, kura_field_error *out,
                         size_t cap);

/* Checks one field's value (as stored in *obj). Returns true or fills err. */
bool kura_validate_field(const kura_model *model, const void *obj, const kura_field *field,
                         kura_error *err);

/* The WHATWG HTML "valid e-mail address" (what <input type=email> accepts). */
bool kura_email_valid(const char *s);

/* Number of characters in a UTF-8 string, or -1 when s is not valid UTF-8. */
long kura_utf8_chars(const char *s, size_t len);

/* --- time ---------------------------------------------------------------- */

/* Now, in UTC microseconds. */
kura_time kura_now(void);

/* Bytes needed by kura_time_format: "YYYY-MM-DD HH:MM:SS.ffffff" and NUL. */
#define KURA_TIME_TEXT 27

/* Writes t as "YYYY-MM-DD HH:MM:SS.ffffff" (the text Flask-SQLAlchemy stores in SQLite).
 * Four-digit years only: t outside years 0000..9999 is clamped to that range. */
void kura_time_format(kura_time t, char out[KURA_TIME_TEXT]);

/* Writes t as ISO 8601 "YYYY-MM-DDTHH:MM:SS.ffffffZ" (JSON). out needs 28 bytes. */
void kura_time_format_iso(kura_time t, char out[28]);

/*
 * Parses "YYYY-MM-DD HH:MM:SS[.f{1,6}]", with 'T' accepted for the space and
 * an optional trailing "Z" or "+00:00" (other offsets are converted to UTC).
 * Returns false on anything else (including instants kura_time_format would clamp),
 * leaving *out untouched.
 */
bool kura_time_parse(const char *s, kura_time *out);

#ifdef __cplusplus
}
#endif
#endif
