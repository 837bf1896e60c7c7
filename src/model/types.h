/*
 * types.h — THE table of field types: everything that varies by kura_type.
 *
 * One entry per type (src/model/types.c and the type_*.c files it draws on):
 * C storage, defaults, ownership, validation, JSON, the SQL column per
 * dialect, binding and decoding, BSON, and the queries a field of the type
 * takes. The stores, the query builder and the HTTP layer look entries up
 * here instead of switching on the type, so adding a type is one entry (and
 * its functions) plus a field macro in include/kura/model.h. Runtime models
 * (schema files, inspect) read the same entries: the C member's alignment and
 * declaration, the options a field of the type takes, how its default is held.
 *
 * Functions take the field (its descriptor: sizes, bounds, precision) and the
 * member (obj + field->offset). `f` may be NULL only where said: the base
 * columns (id, created_at, updated_at) have a type but no field.
 */
#ifndef KURA_MODEL_TYPES_H
#define KURA_MODEL_TYPES_H

#include <bson/bson.h>
#include <jansson.h>
#include <kura/query.h>

#include "base/buf.h"
#include "base/time_private.h"

/* SQL dialect ids: a dialect (sql/sql_private.h) says its id, an entry holds one
 * column type per id. */
typedef enum kura_sql_id { KURA_SQL_SQLITE, KURA_SQL_POSTGRES, KURA_SQL_DIALECTS } kura_sql_id;

/* The stored form of a SQL dialect's table columns. */
#define kura__sql_form(id) (1u << (id))

/* The stored forms a value can have, for "does this form sort as the values do". */
enum {
    KURA_FORM_SQLITE = 1u << KURA_SQL_SQLITE,     /* a SQLite table column */
    KURA_FORM_POSTGRES = 1u << KURA_SQL_POSTGRES, /* a PostgreSQL table column */
    KURA_FORM_SQLITE_JSON = 1u << 2,              /* json_extract from a SQLite JSON document */
    KURA_FORM_PG_JSON = 1u << 3, /* ->> (with the entry's cast) from a JSONB document */
    KURA_FORM_BSON = 1u << 4,    /* a MongoDB document */
    KURA_FORM_ALL = (1u << 5) - 1,
};

/* Operator sets (bit 1 << kura_op). */
#define KURA_OPS_EQ ((1u << KURA_EQ) | (1u << KURA_NE))
#define KURA_OPS_ORDER                                                                             \
    (KURA_OPS_EQ | (1u << KURA_LT) | (1u << KURA_LE) | (1u << KURA_GT) | (1u << KURA_GE))
#define KURA_OPS_TEXT (KURA_OPS_ORDER | (1u << KURA_PREFIX) | (1u << KURA_LIKE))

/* How a SQL result column is read for the type. */
typedef enum kura_sql_read {
    KURA_SQL_READ_INT,    /* column_int, after column_null */
    KURA_SQL_READ_DOUBLE, /* column_double, after column_null */
    KURA_SQL_READ_TEXT,   /* column_text: NULL text is SQL NULL */
} kura_sql_read;

/* The numbers a declaration of a type carries, wherever it is written (kura_type_info.args):
 * CHARS is max_chars (SQL "VARCHAR(n)", the field macro's ", n", a schema file's required
 * "max_chars", at most KURA__MAX_CHARS); DECIMAL is precision and scale ("NUMERIC(p,s)",
 * ", p, s", a schema file's "precision" and "scale"). */
typedef enum kura_type_args { KURA_ARGS_NONE, KURA_ARGS_CHARS, KURA_ARGS_DECIMAL } kura_type_args;

/* The largest max_chars of a CHARS type declared at run time (a 4 MiB member). */
#define KURA__MAX_CHARS (1 << 20)

/* Which member of kura_field holds a default of the type (kura_type_info.dflt). */
typedef enum kura_default_slot {
    KURA_DEFAULT_NONE,   /* the type takes no default */
    KURA_DEFAULT_INT,    /* default_int (integers, and bool as 0 / 1) */
    KURA_DEFAULT_DOUBLE, /* default_double */
    KURA_DEFAULT_STRING, /* default_string: the text, or the canonical text, or JSON text */
} kura_default_slot;

/* A validation reason is written into a caller's buffer (kura_validate's error
 * or one kura_field_error). kura__reason formats it and returns false. */
typedef struct kura_reason {
    char *buf;
    size_t cap;
} kura_reason;
bool kura__reason(kura_reason r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "s" unless n is 1: "longer than 1 character", "longer than 2 characters". */
static inline const char *kura__plural(long long n)
{
    return n == 1 ? "" : "s";
}

typedef struct kura_type_info {
    const char *name; /* kura_type_name */
    size_t size;      /* sizeof the member; 0: per field (char arrays: field->size) */
    bool owns;        /* the member is a malloc'd char * the struct owns (clear, copy) */

    /* --- declaring a field: the C member, which runtime models lay out as the
     * compiler would and kura_schema_to_c writes, and what a declaration says */
    size_t align;        /* _Alignof the member's C type */
    const char *c_type;  /* the member's type as declared: "int32_t", "char *"; "char" for arrays */
    const char *c_macro; /* the field macro of include/kura/model.h: "KURA_INT32" */
    /* Char arrays (size 0): the bytes f's member needs; when `bound` is not NULL, also
     * the array bound as C writes it into bound ("KURA_STRING_BYTES(128)", "KURA_UUID_BYTES"). */
    size_t (*array_bytes)(const kura_field *f, kura_buf *bound);
    kura_type_args args; /* the numbers a declaration carries (see kura_type_args) */
    int chars_limit; /* max_chars may be 1..chars_limit (required when args is CHARS); 0: none */
    bool choices;    /* takes choices (kura_field.choices) */
    bool range;      /* takes min and max (kura_field.has_range) */
    kura_default_slot dflt; /* where a default is held; NONE: the type takes none */

    /* --- queries */
    unsigned ops;    /* KURA_OPS_*: operators the builder accepts; 0: not filterable */
    unsigned orders; /* KURA_FORM_*: stored forms that sort as the values do (LT.., sort) */
    /* Whether a query value fits the field (converting INT to DOUBLE / BOOL where the
     * field wants it). f may be NULL (base columns). */
    bool (*fit)(const kura_field *f, kura_value *v);
    /* A query parameter's text (HTTP ?field=value) as a value for the field; text
     * forms are canonicalised into scratch (scratch_size bytes). f may be NULL. */
    bool (*parse)(const kura_field *f, const char *text, kura_value *out, char *scratch,
                  size_t scratch_size);

    /* Text-valued types: the canonical text of `text` (len bytes) for f into out (cap
     * bytes); false when it is no such value or does not fit. NULL for the others. */
    bool (*canon)(const kura_field *f, const char *text, size_t len, char *out, size_t cap);
    const char *form; /* what canon accepts, for messages: "a UUID" */

    /* --- the member */
    void (*init)(const kura_field *f, void *m); /* applies f's default (has_default is set) */
    bool (*check)(const kura_field *f, const void *m, kura_reason r); /* validation */
    kura_value (*value)(const kura_field *f, const void *m); /* the member as a value; not NULL */
    /* Writes a value into a zeroed scratch member (bulk-update checks): owned text
     * is BORROWED from v, never freed. */
    bool (*from_value)(const kura_field *f, const kura_value *v, void *m, kura_error *err);

    /* --- JSON (kura/json.h, JSON documents) */
    json_t *(*to_json)(const kura_field *f, const void *m); /* NULL: out of memory, bad text */
    bool (*from_json)(const kura_field *f, const json_t *v, void *m, kura_error *err);
    /* A bulk-update value as the JSON a document holds; NULL: as its kind says. */
    json_t *(*value_json)(const kura_value *v);
    /* Appends the member's JSON text to b, byte for byte what json_dumps of
     * to_json writes (JSON_COMPACT), without building it: the HTTP answers.
     * False where to_json gives NULL (text that is not UTF-8). NULL: to_json
     * and json_dumps are used. */
    bool (*json_text)(kura_buf *b, const kura_field *f, const void *m);

    /* --- SQL */
    const char *sql[KURA_SQL_DIALECTS];     /* column type; "(n)" or "(p,s)" per args */
    const char *catalog[KURA_SQL_DIALECTS]; /* the live schema's spelling, lower case */
    const char *zero_default; /* a DEFAULT that lets a NOT NULL column be added to rows */
    void (*ddl_default)(kura_buf *b, const kura_field *f); /* " DEFAULT v"; has_default set */
    /* Text to bind instead of value() (malloc'd; NULL and err set on failure): for a
     * member no kura_value carries (tags). NULL: bind value(). */
    char *(*sql_text)(const kura_field *f, const void *m, kura_error *err);
    kura_sql_read sql_read;
    bool sql_text_len; /* READ_TEXT: wants the length (else SIZE_MAX, one call less) */
    /* Decoding into a member that owns nothing: KURA_MISFIT for a stored value the
     * type cannot hold. For READ_TEXT, txt NULL is SQL NULL (zero the member). */
    bool (*from_sql_int)(const kura_field *f, int64_t v, void *m, kura_error *err);
    bool (*from_sql_double)(const kura_field *f, double v, void *m, kura_error *err);
    bool (*from_sql_text)(const kura_field *f, const char *txt, size_t len, void *m,
                          kura_time_memo *memo, kura_error *err);

    /* --- documents */
    const char *pg_json_cast; /* JSONB: cast of ->> text so it compares as the type; NULL: text */
    bool json_raw;            /* JSON documents: read the field as JSON text, not its scalar */

    /* --- JSON Schema (kura_field_json_schema, OpenAPI): the JSON value's "type"
     * (NULL: any JSON value), "format" and "pattern" (NULL: none), and the JSON
     * text of a valid example (kura_field_example adjusts it to the field's
     * choices, range and length). */
    const char *js_type;
    const char *js_format;
    const char *js_pattern;
    const char *js_example;

    /* --- BSON (MongoDB) */
    const char *bson_alias; /* $type alias of the stored form (partial unique indexes) */
    bool (*to_bson)(bson_t *b, const char *key, const kura_field *f, const void *m,
                    kura_error *err);
    /* Reads a non-null element into the member; an owned member's old text is freed. */
    bool (*from_bson)(const kura_field *f, const bson_iter_t *it, void *m, kura_error *err);
    /* A query or bulk-update value (never NULL kind) as the stored BSON; NULL: as
     * its kind says. */
    bool (*value_bson)(bson_t *b, const char *key, const kura_value *v);
} kura_type_info;

/* The table, indexed by kura_type (types.c); each entry lives beside its functions. */
extern const kura_type_info *const kura__types[KURA_TYPE_COUNT];

/* The entry of a type; callers hold a kura_type from a descriptor. */
static inline const kura_type_info *kura__type(kura_type t)
{
    return kura__types[(unsigned)t < KURA_TYPE_COUNT ? t : KURA_TYPE_INT64];
}

/* Bytes of f's member: the entry's size, or what its array needs for f (max_chars,
 * precision). */
size_t kura__member_bytes(const kura_field *f);

/* The column type of f in a dialect ("VARCHAR(32)", "NUMERIC(10,2)") into b. */
void kura__sql_type(kura_buf *b, kura_sql_id dialect, const kura_field *f);
/* The same as the live schema spells it (lower case), into out. */
void kura__sql_catalog_type(kura_sql_id dialect, const kura_field *f, char *out, size_t cap);

/* Whether every comparison and sort key of q can be answered on the stored form
 * `form` (KURA_FORM_*); else KURA_UNSUPPORTED naming the field. */
bool kura__query_fits_form(const kura_query *q, unsigned form, kura_error *err);

/* --- helpers the type files share (types_*.c) ------------------------------- */

/* A string of len bytes as jansson's json_dumps writes it (json_text.c):
 * quoted and escaped; false when it is not UTF-8. */
bool kura__json_string(kura_buf *b, const char *s, size_t len);
/* json_text of a kura_time member: ISO 8601 text, null for 0 (datetime). */
bool kura__json_time_text(kura_buf *b, const kura_field *f, const void *m);
/* json_text of a canonical-text member (uuid, objectid, date): null when empty. */
bool kura__canon_json_text(kura_buf *b, const kura_field *f, const void *m);

/* A JSON type error: "<name> must be <expected>", KURA_VALIDATION. */
bool kura__json_type_error(kura_error *err, const char *name, const char *expected);
bool kura__bson_wrong_type(kura_error *err, const char *name, const bson_iter_t *it);
/* An integer from an int32, an int64 or an integral double (other programs write any);
 * false for anything else (type_number.c). */
bool kura__bson_int(const bson_iter_t *it, int64_t *out);

/* Validation of a string against f->choices (strings and tags). */
bool kura__check_choices(const kura_field *f, const char *s, kura_reason r);
/* from_sql_text for owned text (TEXT, JSON): a malloc'd copy; NULL txt stays NULL. */
bool kura__text_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                         kura_time_memo *memo, kura_error *err);
/* Milliseconds (floor) of a kura_time: MongoDB dates hold milliseconds. */
int64_t kura__time_ms_floor(kura_time t);

/*
 * The text-valued types (UUID, OBJECTID, DATE, DECIMAL) share their functions
 * (type_canon.c): each entry says only how its text is canonicalised (`canon`)
 * and how it meets BSON. "" is "no value", written as NULL.
 */
/* The members every text-valued entry shares; each entry adds its canon, form, SQL,
 * BSON and from_json (decimal reads JSON numbers too). */
#define KURA__CANON_ENTRY                                                                          \
    .size = 0, .align = 1, .c_type = "char", .dflt = KURA_DEFAULT_STRING, .fit = kura__canon_fit,  \
    .parse = kura__canon_parse, .init = kura__canon_init, .check = kura__canon_check,              \
    .value = kura__canon_value, .from_value = kura__canon_from_value,                              \
    .to_json = kura__canon_to_json, .json_text = kura__canon_json_text,                            \
    .ddl_default = kura__canon_default, .sql_read = KURA_SQL_READ_TEXT, .sql_text_len = true,      \
    .from_sql_text = kura__canon_from_sql

bool kura__canon_fit(const kura_field *f, kura_value *v);
bool kura__canon_parse(const kura_field *f, const char *text, kura_value *out, char *scratch,
                       size_t scratch_size);
void kura__canon_init(const kura_field *f, void *m);
bool kura__canon_check(const kura_field *f, const void *m, kura_reason r);
kura_value kura__canon_value(const kura_field *f, const void *m);
bool kura__canon_from_value(const kura_field *f, const kura_value *v, void *m, kura_error *err);
json_t *kura__canon_to_json(const kura_field *f, const void *m);
bool kura__canon_from_json(const kura_field *f, const json_t *v, void *m, kura_error *err);
void kura__canon_default(kura_buf *b, const kura_field *f);
bool kura__canon_from_sql(const kura_field *f, const char *txt, size_t len, void *m,
                          kura_time_memo *memo, kura_error *err);
/* Canonical text of a string element (what another program may have written). */
bool kura__canon_from_bson_utf8(const kura_field *f, const bson_iter_t *it, void *m,
                                kura_error *err);

/* Days since 1970-01-01 of a canonical "YYYY-MM-DD", and back. */
int64_t kura__date_days(const char *date);
void kura__date_from_days(int64_t days, char out[KURA_DATE_BYTES]);

/* The entries, one file per family: type_number.c (int32 int64 double bool),
 * type_string.c (string text email), type_datetime.c, type_tags.c, type_uuid.c
 * (uuid objectid), type_date.c, type_decimal.c, type_json.c. */
extern const kura_type_info kura__type_int32, kura__type_int64, kura__type_double, kura__type_bool,
    kura__type_string, kura__type_text, kura__type_email, kura__type_datetime, kura__type_tags;
extern const kura_type_info kura__type_uuid, kura__type_objectid;
extern const kura_type_info kura__type_date;
extern const kura_type_info kura__type_decimal;
extern const kura_type_info kura__type_json;

#endif
