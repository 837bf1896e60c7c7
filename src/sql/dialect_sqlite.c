/*
 * dialect_sqlite.c — what SQLite's SQL says its own way (see kura_sql_dialect).
 *
 * Its catalogue is PRAGMA table functions; a column's type cannot be changed
 * in place; BEGIN IMMEDIATE takes the database's one write lock at once,
 * which also makes migrations run one after the other. Documents are JSON
 * text checked by json_valid, read with JSON1 (json_extract, and -> since
 * 3.38).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "sql/sql_private.h"

/* Declared types as written (PRAGMA table_info has no separate length). */
static void live_type(const char *type, int64_t len, char *out, size_t cap)
{
    (void)len;
    snprintf(out, cap, "%s", type);
}

/* The value as JSON text, as written: json_extract would unquote a string and
 * turn numbers into SQL numbers (0.30000000000000004 came back as 0.3); ->
 * does not. */
static void json_as_json(kura_buf *b, const char *doc, const char *field)
{
    kura_buf_addf(b, "NULLIF(\"%s\" -> '$.%s', 'null')", doc, field);
}

/* json_extract gives SQL integers, reals and text, which compare as the
 * types do: no cast is needed. */
static void json_as_value(kura_buf *b, const char *doc, const char *field, const kura_type_info *ti)
{
    (void)ti;
    kura_buf_addf(b, "json_extract(\"%s\", '$.%s')", doc, field);
}

/*
 * json_patch (RFC 7396) would merge a JSON field's object into the old one and
 * drop the nulls inside it, so a field read as raw JSON (json_raw) is taken
 * out of the patch and set whole with json_set.
 */
static bool json_patch(kura_buf *b, kura_sql_params *p, const kura_model *m, json_t *o,
                       kura_error *err)
{
    bool ok = true;
    const char *raw[KURA_MAX_FIELDS];
    json_t *raw_value[KURA_MAX_FIELDS];
    size_t nraw = 0;
    for (size_t i = 0; i < m->nfields && nraw < KURA_MAX_FIELDS; i++) {
        const kura_field *f = &m->fields[i];
        json_t *v = json_object_get(o, f->name);
        if (!v || !kura__type(f->type)->json_raw)
            continue;
        raw[nraw] = f->name;
        raw_value[nraw++] = json_incref(v);
        json_object_del(o, f->name);
    }
    char *patch = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (nraw)
        kura_buf_add(b, "json_set(");
    kura_buf_add(b, "json_patch(\"doc\", ");
    ok = kura_sql_param_owned(b, p, patch);
    kura_buf_add(b, ")");
    for (size_t i = 0; i < nraw; i++) {
        /* names are plain identifiers (checked by the document store) */
        kura_buf_addf(b, ", '$.%s', json(", raw[i]);
        ok = kura_sql_param_owned(b, p, json_dumps(raw_value[i], JSON_COMPACT | JSON_ENCODE_ANY)) &&
             ok;
        kura_buf_add(b, ")");
    }
    if (nraw)
        kura_buf_add(b, ")");
    for (size_t i = 0; i < nraw; i++)
        json_decref(raw_value[i]);
    if (!ok || b->oom)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory encoding an update");
    return true;
}

/* A datetime is ISO 8601 text in a document ("...T12:00:00.000001Z") and
 * kura_time_format's in a column ("... 12:00:00.000001"): columns compare as
 * text, so the upgrade writes the column's form. The others are already the
 * SQL values a column holds (json_extract's integers, reals, text). */
static void json_to_column(kura_buf *b, const char *expr, const kura_type_info *ti,
                           const char *column_type)
{
    (void)column_type;
    if (ti == kura__type(KURA_TYPE_DATETIME))
        kura_buf_addf(b, "replace(rtrim(%s, 'Z'), 'T', ' ')", expr);
    else
        kura_buf_add(b, expr);
}

static void json_strip(kura_buf *b, const char *doc, const char *const *names, size_t n)
{
    kura_buf_addf(b, "NULLIF(json_remove(\"%s\"", doc);
    for (size_t i = 0; i < n; i++)
        kura_buf_addf(b, ", '$.%s'", names[i]);
    kura_buf_add(b, "), '{}')");
}

/* A boolean is stored 1/0, a datetime as kura_time_format's text: a value
 * of another type (SQLite keeps any) stays as it is. */
static void json_key_value(kura_buf *b, const char *column, const char *type)
{
    if (!strcasecmp(type, kura__type(KURA_TYPE_BOOL)->sql[KURA_SQL_SQLITE]))
        kura_buf_addf(b,
                      "CASE \"%s\" WHEN 1 THEN json('true') WHEN 0 THEN json('false') "
                      "ELSE \"%s\" END",
                      column, column);
    else if (!strcasecmp(type, kura__type(KURA_TYPE_DATETIME)->sql[KURA_SQL_SQLITE]))
        kura_buf_addf(b,
                      "CASE WHEN typeof(\"%s\") = 'text' THEN replace(\"%s\", ' ', 'T') || 'Z' "
                      "ELSE \"%s\" END",
                      column, column, column);
    else
        kura_buf_addf(b, "\"%s\"", column);
}

const kura_sql_dialect kura__sqlite_dialect = {
    .id = KURA_SQL_SQLITE,
    .dollar_params = false,
    .returning_id = false,
    .id_type = "INTEGER",
    .key_types = {NULL, "TEXT", "TEXT", "TEXT"},
    .batch_params = 0,
    /* The write lock now, not at the first write: a deferred transaction that
     * read first can fail to upgrade (SQLITE_BUSY) halfway through. */
    .begin = "BEGIN IMMEDIATE",
    .migrate_lock = NULL, /* the write lock BEGIN IMMEDIATE took */
    .columns_sql = "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
    .indexes_sql = "SELECT il.name AS name, CASE WHEN il.\"unique\" AND NOT il.partial AND NOT "
                   "EXISTS (SELECT 1 FROM pragma_index_info(il.name) WHERE cid < 0) THEN "
                   "(SELECT group_concat(name, ',') FROM (SELECT name FROM "
                   "pragma_index_info(il.name) ORDER BY seqno)) END AS cols "
                   "FROM pragma_index_list(?) il",
    .references_sql = "SELECT \"from\" AS name, \"table\" AS type FROM pragma_foreign_key_list(?)",
    .add_reference = false, /* a foreign key is part of the table: it is rebuilt */
    /* Its triggers too: they go with the table. */
    .rebuild_indexes_sql = "SELECT name, sql AS cols FROM sqlite_schema WHERE type IN ('index', "
                           "'trigger') AND tbl_name = ? AND sql IS NOT NULL ORDER BY type, name",
    .fk_enforced_sql = "SELECT foreign_keys FROM pragma_foreign_keys",
    .fk_off = "PRAGMA foreign_keys = OFF",
    .fk_on = "PRAGMA foreign_keys = ON",
    .fk_violations_sql = "SELECT l.\"from\" AS name, c.parent AS type, c.rowid AS len FROM "
                         "pragma_foreign_key_check(?1) c JOIN pragma_foreign_key_list(?1) l ON "
                         "l.id = c.fkid LIMIT 1",
    .live_type = live_type,
    .alter_type = NULL, /* SQLite has no ALTER COLUMN */
    .drop_indexed_column = false,
    .json =
        {
            .driver = "docs-sqlite",
            .extra_type = "TEXT CHECK (\"_extra\" IS NULL OR json_valid(\"_extra\"))",
            .object_open = "json_object(",
            .object_close = ")",
            .extra_text = "\"_extra\"",
            .key_value = json_key_value,
            .to_column = json_to_column,
            .strip = json_strip,
            .reseed = NULL,  /* an INTEGER PRIMARY KEY goes on from the largest rowid */
            .refused = NULL, /* a column takes a value of any type */
            .form = KURA_FORM_SQLITE_JSON,
            .id_type = "INTEGER",
            .doc_type = "TEXT NOT NULL CHECK (json_valid(\"doc\"))",
            /* The bound text is jansson's compact output, already minified
             * JSON (the CHECK still refuses any other): json() around it only
             * parsed and re-wrote it, a third of an insert's cost. */
            .doc_open = "",
            .doc_close = "",
            .doc_text = "\"doc\"",
            .as_json = json_as_json,
            .as_value = json_as_value,
            .patch = json_patch,
        },
};
