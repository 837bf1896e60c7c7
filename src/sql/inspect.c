/*
 * inspect.c — the schema of an existing SQL database (kura_inspect).
 *
 * The catalogue is read through the store's raw-SQL path (kura_sql_query into
 * small internal models, as migrate.c does), so no driver needs an
 * introspection entry point. What differs between databases is the text of
 * three catalogue queries, one table per driver below; everything after them
 * (type mapping, keys, defaults, indexes, warnings) is shared. Where a column's
 * type cannot tell (a text key: int64-free, but uuid, objectid or any string?
 * a CHAR(36) or CHAR(24) column: kura's own uuid and objectid), a sample of
 * its values decides (inspect_sample.c).
 */
#include <kura/schema.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/model_private.h"
#include "sql/inspect_private.h"
#include "sql/sql_private.h"

/* ---- catalogue rows ------------------------------------------------------------ */

typedef struct cat_table {
    kura_base base;
    char *name;
} cat_table;
static const kura_model cat_table_model =
    KURA_MODEL(cat_table, "kura_cat_table", KURA_TEXT(cat_table, name));

typedef struct cat_column {
    kura_base base;
    char *name;
    char *type;    /* as declared (SQLite) or information_schema's data_type (PostgreSQL) */
    int64_t len;   /* PostgreSQL: character_maximum_length; SQLite: in the type text */
    int64_t prec;  /* PostgreSQL: numeric_precision; SQLite: in the type text */
    int64_t scale; /* PostgreSQL: numeric_scale */
    bool notnull;
    char *dflt; /* the default's SQL text, or NULL */
    int64_t pk; /* > 0: part of the primary key */
    bool ident; /* PostgreSQL identity column */
} cat_column;
static const kura_model cat_column_model = KURA_MODEL(
    cat_column, "kura_cat_column", KURA_TEXT(cat_column, name), KURA_TEXT(cat_column, type),
    KURA_INT64(cat_column, len), KURA_INT64(cat_column, prec), KURA_INT64(cat_column, scale),
    KURA_BOOL(cat_column, notnull), KURA_TEXT(cat_column, dflt), KURA_INT64(cat_column, pk),
    KURA_BOOL(cat_column, ident));

/* One sampled value, as text. */
typedef struct cat_sample {
    kura_base base;
    char *k;
} cat_sample;
static const kura_model cat_sample_model =
    KURA_MODEL(cat_sample, "kura_cat_sample", KURA_TEXT(cat_sample, k));

typedef struct cat_index {
    kura_base base;
    char *name;
    bool uniq;
    bool pk;      /* the primary key's own index */
    bool cons;    /* made by a UNIQUE constraint, not CREATE INDEX */
    bool special; /* partial, or on an expression */
    char *cols;   /* column names, ", "-separated */
    int64_t ncols;
} cat_index;
static const kura_model cat_index_model =
    KURA_MODEL(cat_index, "kura_cat_index", KURA_TEXT(cat_index, name), KURA_BOOL(cat_index, uniq),
               KURA_BOOL(cat_index, pk), KURA_BOOL(cat_index, cons), KURA_BOOL(cat_index, special),
               KURA_TEXT(cat_index, cols), KURA_INT64(cat_index, ncols));

/* A foreign key of one column: the referenced table and column, and what
 * deleting a referenced row does, as the catalogue says it. */
typedef struct cat_fkey {
    kura_base base;
    char *col;
    char *ref;
    char *refcol; /* NULL: the referenced table's primary key (SQLite) */
    char *action; /* "CASCADE", "SET NULL", "RESTRICT", "NO ACTION", "SET DEFAULT" */
    int64_t ncols;
} cat_fkey;
static const kura_model cat_fkey_model = KURA_MODEL(
    cat_fkey, "kura_cat_fkey", KURA_TEXT(cat_fkey, col), KURA_TEXT(cat_fkey, ref),
    KURA_TEXT(cat_fkey, refcol), KURA_TEXT(cat_fkey, action), KURA_INT64(cat_fkey, ncols));

/* ---- what differs per database -------------------------------------------------- */

typedef struct catalogue {
    const char *driver;   /* kura_store_driver() */
    const char *tables;   /* name, in name order */
    const char *columns;  /* one parameter: the table; cat_column's columns */
    const char *indexes;  /* one parameter: the table; cat_index's columns */
    const char *id_type;  /* the only id type that numbers rows by itself; NULL: see `serial` */
    const char *datetime; /* DDL type of the stamps, for the ALTER TABLE a warning suggests */
    bool pads_char;       /* CHAR(n) values read back padded with blanks to n */
    bool numeric_double;  /* NUMERIC(p,s) values are kept as integers or doubles (affinity) */
    const char *doc_expr; /* a document collection's "doc" column as JSON text */
    const char *fkeys;    /* one parameter: the table; cat_fkey's columns */
} catalogue;

static const catalogue catalogues[] = {
    {
        .driver = "sqlite",
        .tables = "SELECT name FROM sqlite_master WHERE type = 'table' "
                  "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        .columns = "SELECT name, type, \"notnull\" AS \"notnull\", dflt_value AS dflt, pk "
                   "FROM pragma_table_info(?) ORDER BY cid",
        .indexes = "SELECT il.name AS name, il.\"unique\" AS uniq, il.origin = 'pk' AS pk, "
                   "il.origin = 'u' AS cons, "
                   "il.partial OR EXISTS (SELECT 1 FROM pragma_index_info(il.name) "
                   "WHERE cid < 0) AS special, "
                   "(SELECT group_concat(name, ', ') FROM (SELECT name FROM "
                   "pragma_index_info(il.name) ORDER BY seqno)) AS cols, "
                   "(SELECT count(*) FROM pragma_index_info(il.name)) AS ncols "
                   "FROM pragma_index_list(?) il ORDER BY il.name",
        /* Only INTEGER PRIMARY KEY is the rowid, numbered by SQLite on insert. */
        .id_type = "INTEGER",
        .datetime = "DATETIME",
        .numeric_double = true,
        .doc_expr = "\"doc\"",
        .fkeys = "SELECT f.\"from\" AS col, f.\"table\" AS ref, f.\"to\" AS refcol, "
                 "f.on_delete AS action, (SELECT count(*) FROM pragma_foreign_key_list(?1) g "
                 "WHERE g.id = f.id) AS ncols FROM pragma_foreign_key_list(?1) f",
    },
    {
        .driver = "postgresql",
        .tables = "SELECT table_name::text AS name FROM information_schema.tables "
                  "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
                  "ORDER BY table_name",
        .columns = "SELECT c.column_name::text AS name, "
                   "CASE WHEN c.data_type IN ('USER-DEFINED', 'ARRAY') THEN c.udt_name::text "
                   "ELSE c.data_type::text END AS type, "
                   "c.character_maximum_length::bigint AS len, "
                   "c.numeric_precision::bigint AS prec, c.numeric_scale::bigint AS scale, "
                   "(c.is_nullable = 'NO') AS notnull, "
                   "c.column_default::text AS dflt, (c.is_identity = 'YES') AS ident, "
                   "(SELECT count(*) FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
                   "JOIN pg_namespace n ON n.oid = t.relnamespace "
                   "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (k.conkey) "
                   "WHERE k.contype = 'p' AND n.nspname = current_schema() AND t.relname = $1 "
                   "AND a.attname = c.column_name)::bigint AS pk "
                   "FROM information_schema.columns c "
                   "WHERE c.table_schema = current_schema() AND c.table_name = $1 "
                   "ORDER BY c.ordinal_position",
        .indexes =
            "SELECT ic.relname::text AS name, ix.indisunique AS uniq, ix.indisprimary AS pk, "
            "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid "
            "AND k.contype = 'u') AS cons, "
            "(ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL) AS special, "
            "(SELECT string_agg(a.attname::text, ', ' ORDER BY k.i) "
            "FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, i) "
            "JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) "
            "AS cols, ix.indnatts::bigint AS ncols "
            "FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid "
            "JOIN pg_class t ON t.oid = ix.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relname = $1 ORDER BY ic.relname",
        .id_type = NULL, /* any integer type, numbered by a sequence or identity */
        .datetime = "TIMESTAMP WITHOUT TIME ZONE",
        .pads_char = true,
        .doc_expr = "\"doc\"::text",
        .fkeys = "SELECT a.attname::text AS col, rt.relname::text AS ref, ra.attname::text AS "
                 "refcol, CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' "
                 "WHEN 'r' THEN 'RESTRICT' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END "
                 "AS action, cardinality(k.conkey)::bigint AS ncols "
                 "FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
                 "JOIN pg_namespace n ON n.oid = t.relnamespace "
                 "JOIN pg_class rt ON rt.oid = k.confrelid "
                 "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
                 "JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1] "
                 "WHERE k.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1",
    },
};

/* ---- column types ------------------------------------------------------------------ */

/* Declared type names (upper case, without "(n)") and the kura type they map to. */
static const struct {
    const char *sql;
    kura_type type;
    bool fixed; /* CHAR(n): blank-padded where the database pads (catalogue.pads_char) */
} type_map[] = {
    {"INTEGER", KURA_TYPE_INT32},
    {"INT", KURA_TYPE_INT32},
    {"INT4", KURA_TYPE_INT32},
    {"SMALLINT", KURA_TYPE_INT32},
    {"INT2", KURA_TYPE_INT32},
    {"MEDIUMINT", KURA_TYPE_INT32},
    {"TINYINT", KURA_TYPE_INT32},
    {"BIGINT", KURA_TYPE_INT64},
    {"INT8", KURA_TYPE_INT64},
    /* "(n)" gives a string's max_chars; without it the column is text */
    {"VARCHAR", KURA_TYPE_STRING},
    {"CHARACTER VARYING", KURA_TYPE_STRING},
    {"NVARCHAR", KURA_TYPE_STRING},
    {"CHAR", KURA_TYPE_STRING, true},
    {"CHARACTER", KURA_TYPE_STRING, true},
    {"NCHAR", KURA_TYPE_STRING, true},
    {"TEXT", KURA_TYPE_TEXT},
    {"CLOB", KURA_TYPE_TEXT},
    {"REAL", KURA_TYPE_DOUBLE},
    {"FLOAT", KURA_TYPE_DOUBLE},
    {"FLOAT4", KURA_TYPE_DOUBLE},
    {"FLOAT8", KURA_TYPE_DOUBLE},
    {"DOUBLE", KURA_TYPE_DOUBLE},
    {"DOUBLE PRECISION", KURA_TYPE_DOUBLE},
    {"BOOLEAN", KURA_TYPE_BOOL},
    {"BOOL", KURA_TYPE_BOOL},
    {"DATETIME", KURA_TYPE_DATETIME},
    {"TIMESTAMP", KURA_TYPE_DATETIME},
    {"TIMESTAMP WITHOUT TIME ZONE", KURA_TYPE_DATETIME},
    /* Not TIMESTAMP WITH TIME ZONE: PostgreSQL prints it with a "+00" offset
     * that kura's datetime parser refuses, so such a column cannot be read. */
    {"DATE", KURA_TYPE_DATE},
    {"UUID", KURA_TYPE_UUID},
    /* "(p,s)", or PostgreSQL's numeric_precision and numeric_scale */
    {"NUMERIC", KURA_TYPE_DECIMAL},
    {"DECIMAL", KURA_TYPE_DECIMAL},
    {"JSON", KURA_TYPE_JSON},
    {"JSONB", KURA_TYPE_JSON},
};

/* A column's type as kura maps it. */
typedef struct col_type {
    kura_type type;
    int max_chars, precision, scale;
    bool fixed;
} col_type;

/* The numbers in "(a)" or "(a, b)" after a type name: how many there are (0
 * without parentheses), or -1 for anything else in them. */
static int type_numbers(const char *paren, long long out[2])
{
    if (!paren)
        return 0;
    const char *p = paren + 1;
    int n = 0;
    for (;;) {
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (end == p || n == 2)
            return -1;
        out[n++] = v;
        while (*end == ' ')
            end++;
        if (*end == ')')
            return end[1] == '\0' ? n : -1;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
}

/*
 * Maps a column's type to a kura type, with its numbers: "VARCHAR(128)" and
 * "NUMERIC(10, 2)" give them in the text (SQLite); PostgreSQL gives them in
 * c->len, c->prec and c->scale. Returns NULL, or why the column cannot be a
 * field (for a warning: "which kura cannot map").
 */
static const char *map_column(const cat_column *c, col_type *out)
{
    static const char *const unmapped = "which kura cannot map";
    char name[64];
    const char *t = c->type ? c->type : "";
    size_t n = 0;
    for (; t[n] && t[n] != '(' && n + 1 < sizeof name; n++)
        name[n] = (char)toupper((unsigned char)t[n]);
    while (n && name[n - 1] == ' ')
        n--;
    name[n] = '\0';
    long long num[2] = {0, 0};
    int nums = type_numbers(strchr(t, '('), num);
    size_t i = 0;
    while (i < sizeof type_map / sizeof type_map[0] && strcmp(type_map[i].sql, name) != 0)
        i++;
    if (nums < 0 || i == sizeof type_map / sizeof type_map[0])
        return unmapped;
    *out = (col_type){.type = type_map[i].type, .fixed = type_map[i].fixed};
    if (out->type == KURA_TYPE_TEXT && nums == 2)
        out->type = KURA_TYPE_DECIMAL; /* TEXT(p,s): kura's own decimal column on SQLite */
    switch (kura__type(out->type)->args) {
    case KURA_ARGS_CHARS: {
        long long len = nums ? num[0] : c->len;
        if (nums > 1)
            return unmapped;
        if (len > 0 && len <= KURA__MAX_CHARS)
            out->max_chars = (int)len;
        else
            out->type = KURA_TYPE_TEXT; /* unbounded (or too long for a fixed member) */
        return NULL;
    }
    case KURA_ARGS_DECIMAL: {
        long long p = nums ? num[0] : c->prec, s = nums > 1 ? num[1] : nums ? 0 : c->scale;
        if (p <= 0)
            return "without a precision, which a kura decimal needs (1 to 34 digits)";
        if (p > KURA_DECIMAL_MAX_PRECISION || s < 0 || s > p)
            return "more digits than a kura decimal holds (34), or a scale it cannot keep";
        out->precision = (int)p;
        out->scale = (int)s;
        return NULL;
    }
    case KURA_ARGS_NONE:
        break;
    }
    /* "FLOAT(53)", "TIMESTAMP(6)" say a precision kura's type has; "INTEGER(3)" a
     * width kura would not keep. */
    if (nums && out->type != KURA_TYPE_DOUBLE && out->type != KURA_TYPE_DATETIME)
        return unmapped;
    return NULL;
}

static bool maps_to(const cat_column *c, kura_type type)
{
    col_type ct;
    return !map_column(c, &ct) && ct.type == type;
}

/* ---- defaults ------------------------------------------------------------------------ */

/* Copies the default's SQL text without enclosing parentheses and a trailing
 * PostgreSQL cast ("'x'::character varying", "(-1)", "'5'::integer"). */
static void strip_default(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in);
    size_t n = strlen(out);
    while (n >= 2 && out[0] == '(' && out[n - 1] == ')') {
        memmove(out, out + 1, n - 2);
        out[n -= 2] = '\0';
    }
    bool quoted = false;
    for (size_t i = 0; i + 1 < n; i++) {
        if (out[i] == '\'')
            quoted = !quoted;
        else if (!quoted && out[i] == ':' && out[i + 1] == ':') {
            out[i] = '\0';
            break;
        }
    }
}

/* A quoted SQL literal's text ('' is one quote) into out; false when s is not one. */
static bool unquote(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), o = 0;
    if (n < 2 || s[0] != '\'' || s[n - 1] != '\'')
        return false;
    for (size_t i = 1; i + 1 < n && o + 1 < cap; i++) {
        if (s[i] == '\'') {
            if (s[i + 1] != '\'' || i + 2 >= n)
                return false;
            i++;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return true;
}

/* A number or boolean literal as the JSON the field's type reads: what its
 * query-parameter parser makes of it, with SQL's boolean spellings (t, f, 1, 0). */
static json_t *scalar_json(const kura_field *f, const char *text)
{
    const kura_type_info *ti = kura__type(f->type);
    kura_value v = KURA_VNULL;
    char scratch[8];
    bool parsed = ti->parse(f, text, &v, scratch, sizeof scratch);
    if (!parsed && (!strcasecmp(text, "t") || !strcasecmp(text, "true") || !strcmp(text, "1")))
        parsed = ti->parse(f, "true", &v, scratch, sizeof scratch);
    else if (!parsed &&
             (!strcasecmp(text, "f") || !strcasecmp(text, "false") || !strcmp(text, "0")))
        parsed = ti->parse(f, "false", &v, scratch, sizeof scratch);
    if (!parsed)
        return NULL;
    switch (v.kind) {
    case KURA_VALUE_INT:
        return json_integer(v.as.i);
    case KURA_VALUE_BOOL:
        return json_boolean(v.as.b);
    case KURA_VALUE_DOUBLE:
        return json_real(v.as.d);
    default:
        return NULL;
    }
}

/*
 * Sets f's default from the column's default text; false when it is not a
 * literal kura keeps. The literal becomes the JSON a schema file would hold and
 * is read as the loader reads it (kura__default_from_json): the field's type
 * decides what it accepts. An unquoted word is an expression (now(),
 * CURRENT_DATE), unless the type's canonical text can be one (a numeric's 0.00).
 */
static bool map_default(kura_field *f, const char *dflt, bool *oom)
{
    char raw[512], text[512];
    strip_default(dflt, raw, sizeof raw);
    bool quoted = unquote(raw, text, sizeof text);
    const char *v = quoted ? text : raw;
    const kura_type_info *ti = kura__type(f->type);
    json_t *j = NULL;
    if (ti->dflt == KURA_DEFAULT_STRING && ti->json_raw) /* JSON text: '{}'::jsonb */
        j = quoted ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
    else if (ti->dflt == KURA_DEFAULT_STRING)
        j = quoted || ti->canon ? json_string(v) : NULL;
    else if (ti->dflt != KURA_DEFAULT_NONE)
        j = scalar_json(f, v);
    if (!j)
        return false;
    kura_error e;
    kura_error_clear(&e);
    bool ok = kura__default_from_json(f, j, &e);
    json_decref(j);
    *oom = !ok && e.code == KURA_NOMEM;
    return ok;
}

/* ---- one table ------------------------------------------------------------------------ */

static bool oom_fail(kura_error *err)
{
    return kura_fail(err, KURA_NOMEM, NULL, "out of memory inspecting the database");
}

static const cat_column *column_named(const kura_rows *cols, const char *name)
{
    for (size_t i = 0; i < cols->count; i++) {
        const cat_column *c = kura_row(cols, i);
        if (c->name && strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* What a key column's type says of the key: an integer (KURA_KEY_INT64), a
 * uuid (KURA_KEY_UUID), text (KURA_KEY_STRING, to be sampled); false for another. */
static bool key_declared(const cat_column *c, kura_key_kind *kind)
{
    col_type ct;
    if (map_column(c, &ct))
        return false;
    if (ct.type == KURA_TYPE_INT32 || ct.type == KURA_TYPE_INT64)
        *kind = KURA_KEY_INT64;
    else if (ct.type == KURA_TYPE_UUID)
        *kind = KURA_KEY_UUID;
    else if (ct.type == KURA_TYPE_STRING || ct.type == KURA_TYPE_TEXT)
        *kind = KURA_KEY_STRING;
    else
        return false;
    return true;
}

/* Why the table cannot be a kura model, or NULL when its key is one kura has
 * (what its column says of the key in *kind). */
/* The key column: "id", or "_id" when "id" is an ordinary column beside it
 * (kura's own name for the key of a model with a field named id). */
static const char *key_column(const kura_rows *cols)
{
    const cat_column *id = column_named(cols, "id");
    const cat_column *under = column_named(cols, "_id");
    return id && id->pk <= 0 && under && under->pk > 0 ? "_id" : "id";
}

static const char *key_problem(const catalogue *cat, const kura_rows *cols, kura_key_kind *kind,
                               char *why, size_t cap)
{
    const cat_column *id = column_named(cols, key_column(cols));
    size_t pk_cols = 0;
    for (size_t i = 0; i < cols->count; i++)
        pk_cols += ((const cat_column *)kura_row(cols, i))->pk > 0;
    if (!id) {
        snprintf(why, cap, "has no column \"id\"");
        return why;
    }
    if (id->pk <= 0 || pk_cols != 1) {
        snprintf(why, cap, "%s",
                 pk_cols > 1 ? "has a primary key of several columns"
                             : "has an \"id\" column that is not its primary key");
        return why;
    }
    /* On SQLite only INTEGER PRIMARY KEY is the rowid, numbered on insert. */
    if (!key_declared(id, kind) ||
        (*kind == KURA_KEY_INT64 && cat->id_type && strcasecmp(id->type, cat->id_type) != 0)) {
        snprintf(why, cap, "has an \"id\" of type %s, not %s PRIMARY KEY, uuid or text",
                 id->type ? id->type : "?", cat->id_type ? cat->id_type : "an integer");
        return why;
    }
    return NULL;
}

/* Up to KURA__INSPECT_SAMPLE non-NULL values of table.column as text, into out. */
static bool sample_column(kura_store *store, const char *table, const char *column, kura_rows *out,
                          kura_error *err)
{
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "SELECT CAST(");
    kura_buf_ident(&b, column);
    kura_buf_add(&b, " AS TEXT) AS k FROM ");
    kura_buf_ident(&b, table);
    kura_buf_add(&b, " WHERE ");
    kura_buf_ident(&b, column);
    kura_buf_addf(&b, " IS NOT NULL LIMIT %d", KURA__INSPECT_SAMPLE);
    bool ok =
        b.oom ? oom_fail(err) : kura_sql_query(store, &cat_sample_model, b.data, NULL, 0, out, err);
    kura_buf_free(&b);
    return ok;
}

/* The sampled texts of a column, as a list (owned by `rows`; free the list). */
static const char **sample_texts(const kura_rows *rows, size_t *n)
{
    const char **texts = calloc(rows->count + 1, sizeof *texts);
    *n = 0;
    for (size_t i = 0; texts && i < rows->count; i++) {
        const cat_sample *r = kura_row(rows, i);
        if (r->k)
            texts[(*n)++] = r->k;
    }
    return texts;
}

/* The table's key kind: the column's, or for text what a sample of keys says. */
static bool table_key(kura_store *store, kura__smodel *m, kura_key_kind declared, const char *table,
                      const char *column, kura_error *err)
{
    kura_rows rows = {0};
    if (declared == KURA_KEY_STRING && !sample_column(store, table, column, &rows, err))
        return false;
    size_t n = 0;
    const char **texts = sample_texts(&rows, &n);
    char what[160];
    snprintf(what, sizeof what, "table %s", table);
    bool ok =
        texts ? kura__inspect_key(m, declared, texts, n, what) || oom_fail(err) : oom_fail(err);
    free(texts);
    kura_rows_free(&rows);
    return ok;
}

/*
 * A string column of 36 or 24 characters (kura's own uuid and objectid columns
 * are CHAR(36) and CHAR(24); other programs write VARCHAR(36)) is that type
 * when every sampled value is its canonical text; ct is changed then.
 */
static bool sample_fixed(kura_store *store, const char *table, const char *column, col_type *ct,
                         kura_error *err)
{
    kura_type as = ct->max_chars == KURA_UUID_BYTES - 1       ? KURA_TYPE_UUID
                   : ct->max_chars == KURA_OBJECTID_BYTES - 1 ? KURA_TYPE_OBJECTID
                                                              : KURA_TYPE_STRING;
    if (ct->type != KURA_TYPE_STRING || as == KURA_TYPE_STRING)
        return true;
    kura_rows rows = {0};
    if (!sample_column(store, table, column, &rows, err))
        return false;
    size_t n = 0;
    const char **texts = sample_texts(&rows, &n);
    bool all = texts && n > 0;
    for (size_t i = 0; all && i < n; i++)
        all = kura__inspect_canonical(as, texts[i]);
    if (all)
        *ct = (col_type){.type = as};
    free(texts);
    kura_rows_free(&rows);
    return texts ? true : oom_fail(err);
}

/* A unique index over several columns: the first of its columns' fields that
 * is not yet unique with others (a field holds one set; migrations know the
 * index by its columns, in any order) is unique with the rest, or a warning
 * says why none can be. */
static bool apply_unique_with(kura__smodel *m, const cat_index *ix, const char *table,
                              const char *name)
{
    char **list = calloc((size_t)ix->ncols + 1, sizeof *list);
    if (!list)
        return false;
    size_t n = 0;
    bool ok = true;
    for (const char *p = ix->cols; ok && *p && n < (size_t)ix->ncols;) {
        const char *end = strstr(p, ", ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        ok = (list[n++] = strndup(p, len)) != NULL;
        p += end ? len + 2 : len;
    }
    kura_error why = {0};
    bool taken = false;
    for (size_t c = 0; ok && n > 1 && c < n; c++) {
        kura_field *f = (kura_field *)kura_field_named(&m->model, list[c]);
        if (!f || f->unique_with) {
            taken = taken || f;
            continue;
        }
        char *own = list[c];
        memmove(list + c, list + c + 1, (n - c) * sizeof *list); /* the others, NULL-terminated */
        f->unique_with = (const char *const *)list;
        if (kura__unique_with_check(&m->model, f, &why)) {
            free(own);
            return true;
        }
        f->unique_with = NULL;
        memmove(list + c + 1, list + c, (n - c) * sizeof *list);
        list[c] = own;
    }
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    if (!ok)
        return false;
    if (why.message[0])
        return kura__strs_addf(&m->warnings,
                               "unique index %s on table %s spans columns (%s) that cannot be "
                               "unique together: %s: left out (it stays in the database)",
                               name, table, ix->cols, why.message);
    return kura__strs_addf(&m->warnings,
                           "unique index %s on table %s spans columns (%s) %s: left out (it "
                           "stays in the database)",
                           name, table, ix->cols,
                           taken ? "each of whose fields is already unique with others (a field "
                                   "holds one such set)"
                                 : "that are not all fields of the model");
}

/* Applies one index to the model's fields, or says why it cannot be. */
static bool apply_index(kura__smodel *m, const cat_index *ix, const char *table)
{
    if (ix->pk)
        return true;
    const char *name = ix->name ? ix->name : "?";
    if (ix->special || !ix->cols)
        return kura__strs_addf(&m->warnings,
                               "index %s on table %s is partial or on an expression: left out "
                               "(it stays in the database)",
                               name, table);
    if (ix->ncols > 1 && ix->uniq)
        return apply_unique_with(m, ix, table, name);
    if (ix->ncols > 1)
        return kura__strs_addf(&m->warnings,
                               "index %s on table %s spans several columns (%s): kura models "
                               "index single columns, so it is left out (it stays in the database)",
                               name, table, ix->cols);
    int column = kura_column_named(&m->model, ix->cols);
    if (column != KURA_COL_NONE && column < 0)
        return true; /* on the key or a stamp: kura_base's, not a field's */
    kura_field *f = (kura_field *)kura_field_named(&m->model, ix->cols);
    if (!f)
        return true; /* on a column left out: its warning says so */
    f->unique = f->unique || ix->uniq;
    if (ix->cons)
        return true; /* a UNIQUE constraint: kura_create makes one the same way */
    f->index = true;
    char want[64];
    kura__index_name(table, f->name, want);
    return strcmp(want, name) == 0 ||
           kura__strs_addf(&m->warnings,
                           "index %s on %s.%s is not named %s as kura names it: kura_create "
                           "and kura_migrate would add %s beside it",
                           name, table, f->name, want, want);
}

/*
 * The stamps. Both present: the model has them (a warning when one is not a
 * datetime). Neither: a model without timestamps, as a plain Flask-SQLAlchemy
 * table is. One alone: a model without timestamps whose field of that name is
 * an ordinary column (read by the field loop), and a warning saying so.
 */
static void decide_stamps(kura__smodel *m, const kura_rows *cols)
{
    if (!column_named(cols, "created_at") || !column_named(cols, "updated_at"))
        m->model.flags |= KURA_MODEL_NO_TIMESTAMPS;
}

static bool warn_stamps(const catalogue *cat, kura__smodel *m, const kura_rows *cols,
                        const char *table)
{
    const char *names[2] = {"created_at", "updated_at"};
    const cat_column *have[2] = {column_named(cols, names[0]), column_named(cols, names[1])};
    if (have[0] && have[1]) {
        for (int i = 0; i < 2; i++) {
            if (!maps_to(have[i], KURA_TYPE_DATETIME) &&
                !kura__strs_addf(&m->warnings,
                                 "column %s.%s is %s, not a datetime: kura reads it as one and "
                                 "fails on values that are not",
                                 table, names[i], have[i]->type ? have[i]->type : "untyped"))
                return false;
        }
        return true;
    }
    if (!have[0] && !have[1])
        return true; /* "timestamps": false says it all */
    int alone = have[0] ? 0 : 1;
    return kura__strs_addf(
        &m->warnings,
        "table %s has %s but no %s: the model has no timestamps, and %s is an ordinary field "
        "kura does not maintain (written as the caller sets it, NULL on insert otherwise); for "
        "kura to stamp both, add the other with ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s; and "
        "inspect again",
        table, names[alone], names[1 - alone], names[alone], table, names[1 - alone],
        cat->datetime);
}

/* kura's own tables in an SQLite file (the embedded key-value store). */
static bool kura_internal(const char *table)
{
    return !strcmp(table, "kura_kv") || !strcmp(table, "kura_kv_zset") ||
           !strcmp(table, "kura_kv_hash");
}

/* A table kura's embedded JSON document store made: ("_id" INTEGER PRIMARY KEY, "doc"). */
static bool document_collection(const kura_rows *cols)
{
    return cols->count == 2 && column_named(cols, "_id") && column_named(cols, "doc");
}

/* A document collection: its index names (ix_<table>_<field> marks a field) and its sample. */
static bool inspect_collection(kura_store *store, const catalogue *cat, kura_schema *s,
                               const char *table, const kura_rows *cols, const kura_rows *idx,
                               kura_error *err)
{
    kura_key_kind key = KURA_KEY_STRING; /* a type kura does not make: text, sampled */
    if (!key_declared(column_named(cols, "_id"), &key))
        key = KURA_KEY_STRING;
    const char **names = calloc(idx->count + 1, sizeof *names);
    bool *uniq = calloc(idx->count + 1, sizeof *uniq);
    bool ok = names && uniq;
    for (size_t i = 0, n = 0; ok && i < idx->count; i++) {
        const cat_index *ix = kura_row(idx, i);
        if (ix->name) {
            names[n] = ix->name;
            uniq[n++] = ix->uniq;
        }
    }
    if (!kura__schema_ident(table))
        ok = ok && (kura__strs_addf(&s->warnings,
                                    "collection \"%s\": its name is not one a schema accepts "
                                    "(letters, digits and _), so it is not a model",
                                    table) ||
                    oom_fail(err));
    else
        ok = ok ? kura__inspect_collection(store, s, table, cat->doc_expr, key, names, uniq, err)
                : oom_fail(err);
    free(names);
    free(uniq);
    return ok;
}

/* Keys a collection's documents have that no column holds are not fields: say
 * how many documents have any. */
static bool warn_extra(kura_store *store, kura__smodel *m, const char *table, kura_error *err)
{
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "SELECT COUNT(*) FROM ");
    kura_buf_ident(&b, table);
    kura_buf_add(&b, " WHERE \"" KURA_DOC_EXTRA "\" IS NOT NULL");
    int64_t n = 0;
    bool ok = b.oom ? oom_fail(err) : kura_sql_scalar(store, b.data, NULL, 0, &n, err);
    kura_buf_free(&b);
    if (ok && n > 0)
        ok = kura__strs_addf(&m->warnings,
                             "collection %s: %lld documents have keys no field declares (kept in "
                             "its " KURA_DOC_EXTRA " column): they are not fields of the model, "
                             "and kura keeps them as they are",
                             table, (long long)n);
    return ok;
}

static bool inspect_table(kura_store *store, const catalogue *cat, kura_schema *s,
                          const char *table, kura_error *err)
{
    kura_error_clear(err); /* what fails below without saying so is out of memory */
    kura_value t = KURA_VSTR(table);
    kura_rows cols = {0}, idx = {0};
    bool ok = kura_sql_query(store, &cat_column_model, cat->columns, &t, 1, &cols, err) &&
              kura_sql_query(store, &cat_index_model, cat->indexes, &t, 1, &idx, err);
    if (!ok)
        goto out;
    if (cols.count == 0)
        goto out; /* dropped while we looked */
    char why[200];
    if (document_collection(&cols)) {
        ok = inspect_collection(store, cat, s, table, &cols, &idx, err);
        goto out;
    }
    kura_key_kind key = KURA_KEY_INT64;
    if (key_problem(cat, &cols, &key, why, sizeof why)) {
        ok = kura__strs_addf(&s->warnings,
                             "table %s %s: kura models need a primary key column named id (an "
                             "integer, a uuid or text), so it is not a model",
                             table, why) ||
             oom_fail(err);
        goto out;
    }
    if (!kura__schema_ident(table)) {
        ok = kura__strs_addf(&s->warnings,
                             "table \"%s\": its name is not one a schema accepts (letters, "
                             "digits and _), so it is not a model",
                             table) ||
             oom_fail(err);
        goto out;
    }
    kura__smodel *m = kura__schema_add_model(s, table);
    if (!m) {
        ok = oom_fail(err);
        goto out;
    }
    decide_stamps(m, &cols);
    /* A collection of kura's document store (columns layout): its columns are
     * its declared fields, "_extra" holds the keys none declares. */
    bool collection = column_named(&cols, KURA_DOC_EXTRA) != NULL;
    if (collection)
        m->store = KURA_SCHEMA_DOCUMENTS;
    const char *keycol = key_column(&cols);
    const cat_column *id = column_named(&cols, keycol);
    ok = table_key(store, m, key, table, keycol, err);
    if (ok && key == KURA_KEY_INT64 && !cat->id_type && !id->ident &&
        (!id->dflt || !strstr(id->dflt, "nextval(")))
        ok = kura__strs_addf(&m->warnings,
                             "column %s.id has no sequence or identity: kura leaves the id to the "
                             "database, so kura_insert fails until it has one",
                             table);
    for (size_t i = 0; ok && i < cols.count; i++) {
        const cat_column *c = kura_row(&cols, i);
        const char *cn = c->name ? c->name : "";
        int base = kura_column_named(&m->model, cn); /* the key, and stamps the model has */
        bool stamp = base != KURA_COL_NONE && base < 0 && base != KURA_COL_ID;
        if (stamp || !strcmp(cn, keycol) || (collection && !strcmp(cn, KURA_DOC_EXTRA)))
            continue; /* "id" beside a key "_id" is a field */
        if (!kura__schema_ident(cn) || !strcmp(cn, "base") || !strcmp(cn, "_id")) {
            ok = kura__strs_addf(
                &m->warnings, "column %s.\"%s\": not a name a field can have: left out", table, cn);
            continue;
        }
        col_type ct;
        const char *unmapped = map_column(c, &ct);
        if (unmapped) {
            ok = kura__strs_addf(&m->warnings,
                                 "column %s.%s has type %s, %s: left out (kura_insert then "
                                 "fails if it is NOT NULL without a default)",
                                 table, cn, c->type && *c->type ? c->type : "(none)", unmapped);
            continue;
        }
        if (!sample_fixed(store, table, cn, &ct, err)) {
            ok = false;
            break;
        }
        if (m->model.nfields >= KURA_MAX_FIELDS) {
            ok = kura__strs_addf(&m->warnings,
                                 "column %s.%s: past the %d fields a model can have: left out",
                                 table, cn, KURA_MAX_FIELDS);
            continue;
        }
        kura_field *f = kura__smodel_add_field(m, cn, ct.type);
        if (!f) {
            ok = false;
            break;
        }
        f->max_chars = ct.max_chars;
        f->precision = ct.precision;
        f->scale = ct.scale;
        f->required = c->notnull;
        if (ct.fixed && cat->pads_char)
            ok = kura__strs_addf(&m->warnings,
                                 "column %s.%s is %s(%d): the database pads shorter values with "
                                 "blanks, so they read back longer than kura wrote them",
                                 table, cn, c->type, ct.max_chars);
        if (ok && ct.type == KURA_TYPE_DECIMAL && cat->numeric_double && ct.precision > 15)
            ok = kura__strs_addf(&m->warnings,
                                 "column %s.%s is %s: SQLite keeps NUMERIC values as integers "
                                 "or doubles, exact to 15 significant digits, so a decimal of %d "
                                 "digits may read back rounded",
                                 table, cn, c->type, ct.precision);
        bool oom = false;
        if (c->dflt && strcasecmp(c->dflt, "NULL") != 0 && !map_default(f, c->dflt, &oom))
            ok = !oom && kura__strs_addf(&m->warnings,
                                         "column %s.%s: its default %s is not a literal kura "
                                         "keeps, so it is left out (kura writes every column on "
                                         "insert: the database's default never applies)",
                                         table, cn, c->dflt);
    }
    for (size_t i = 0; ok && i < idx.count; i++)
        ok = apply_index(m, kura_row(&idx, i), table);
    ok = ok && warn_stamps(cat, m, &cols, table);
    ok = ok && (!collection || warn_extra(store, m, table, err));
    ok = ok && kura__smodel_layout(m, err);
    if (!ok && err && err->code == KURA_OK) /* a warning or a field not added */
        oom_fail(err);
out:
    kura_rows_free(&cols);
    kura_rows_free(&idx);
    return ok;
}

/* What deleting a referenced row does, from the catalogue's words; false for
 * one kura does not declare (SET DEFAULT). NO ACTION is RESTRICT but for when
 * it is checked, which kura's one-statement writes cannot tell apart. */
static bool map_action(const char *action, kura_on_delete *out)
{
    static const struct {
        const char *sql;
        kura_on_delete action;
    } actions[] = {{"NO ACTION", KURA_ON_DELETE_RESTRICT},
                   {"RESTRICT", KURA_ON_DELETE_RESTRICT},
                   {"CASCADE", KURA_ON_DELETE_CASCADE},
                   {"SET NULL", KURA_ON_DELETE_SET_NULL}};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (action && strcasecmp(action, actions[i].sql) == 0) {
            *out = actions[i].action;
            return true;
        }
    return false;
}

/* The foreign key fk of model m's table as the reference of its field, or a
 * warning saying why it is left out. False on out of memory only. */
static bool apply_fkey(kura_schema *s, kura__smodel *m, const cat_fkey *fk)
{
    const char *col = fk->col ? fk->col : "", *ref = fk->ref ? fk->ref : "";
    kura_field *f = NULL;
    for (size_t i = 0; i < m->model.nfields; i++)
        if (strcmp(m->fields[i].name, col) == 0)
            f = &m->fields[i];
    if (!f)
        return true; /* the key, or a column left out: its warning says so */
    const kura_model *target = NULL;
    for (size_t i = 0; i < s->count; i++)
        if (s->models[i]->store == KURA_SCHEMA_SQL && strcmp(s->models[i]->name, ref) == 0)
            target = &s->models[i]->model;
    const char *why = fk->ncols > 1 ? "it spans several columns"
                      : !target     ? "the table it references is not a model"
                      : fk->refcol && strcmp(fk->refcol, kura_key_name(target)) != 0
                          ? "it references a column other than that table's key"
                      : !map_action(fk->action, &f->on_delete) ? "its ON DELETE is SET DEFAULT"
                                                               : NULL;
    if (!why) {
        f->references = target;
        kura_error e;
        if (kura__reference_check(&m->model, f, &e))
            return true;
        f->references = NULL;
        f->on_delete = KURA_ON_DELETE_RESTRICT;
        return kura__strs_addf(&m->warnings,
                               "column %s.%s references %s, which a field of its type cannot "
                               "declare: the reference is left out",
                               m->name, col, ref);
    }
    f->on_delete = KURA_ON_DELETE_RESTRICT;
    return kura__strs_addf(&m->warnings,
                           "column %s.%s references %s, but %s: the reference is left out "
                           "(the database still enforces it)",
                           m->name, col, ref, why);
}

/* The references of every table model, once all are known: a table may
 * reference one inspected after it. */
static bool inspect_references(kura_store *store, const catalogue *cat, kura_schema *s,
                               kura_error *err)
{
    bool ok = true;
    for (size_t i = 0; ok && i < s->count; i++) {
        kura__smodel *m = s->models[i];
        if (m->store != KURA_SCHEMA_SQL)
            continue;
        kura_value t = KURA_VSTR(m->name);
        kura_rows fks = {0};
        ok = kura_sql_query(store, &cat_fkey_model, cat->fkeys, &t, 1, &fks, err);
        for (size_t k = 0; ok && k < fks.count; k++)
            ok = apply_fkey(s, m, kura_row(&fks, k)) || oom_fail(err);
        kura_rows_free(&fks);
    }
    return ok;
}

kura_schema *kura_inspect_store(kura_store *store, kura_error *err)
{
    const catalogue *cat = NULL;
    const char *driver = store ? kura_store_driver(store) : "";
    for (size_t i = 0; kura_sql_store_dialect(store) && i < sizeof catalogues / sizeof *catalogues;
         i++)
        if (strcmp(catalogues[i].driver, driver) == 0)
            cat = &catalogues[i];
    if (!cat) {
        kura_fail(err, KURA_UNSUPPORTED, NULL, "inspect reads SQL databases only, not %s",
                  store ? driver : "(no store)");
        return NULL;
    }
    kura_schema *s = kura__schema_new();
    if (!s) {
        oom_fail(err);
        return NULL;
    }
    kura_rows tables = {0};
    bool ok = kura_sql_query(store, &cat_table_model, cat->tables, NULL, 0, &tables, err);
    for (size_t i = 0; ok && i < tables.count; i++) {
        const cat_table *t = kura_row(&tables, i);
        if (t->name && !kura_internal(t->name))
            ok = inspect_table(store, cat, s, t->name, err);
    }
    kura_rows_free(&tables);
    ok = ok && inspect_references(store, cat, s, err);
    if (!ok) {
        kura_schema_free(s);
        return NULL;
    }
    return s;
}
