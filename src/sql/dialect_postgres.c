/*
 * dialect_postgres.c — what PostgreSQL's SQL says its own way (see
 * kura_sql_dialect).
 *
 * Its catalogue is information_schema and pg_indexes in the current schema;
 * ALTER COLUMN ... TYPE changes a column in place; a migration takes an
 * advisory lock. Documents are JSONB, read with -> and ->> and patched with ||.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/sql_private.h"

/* information_schema keeps a VARCHAR's length apart from its type. */
static void live_type(const char *type, int64_t len, char *out, size_t cap)
{
    if (len > 0)
        snprintf(out, cap, "%s(%lld)", type, (long long)len);
    else
        snprintf(out, cap, "%s", type);
}

/* USING converts the values that are there (ALTER refuses those it cannot). */
static void alter_type(kura_buf *b, const kura_model *m, const kura_field *f)
{
    kura_buf_add(b, "ALTER TABLE ");
    kura_buf_ident(b, m->name);
    kura_buf_add(b, " ALTER COLUMN ");
    kura_buf_ident(b, f->name);
    kura_buf_add(b, " TYPE ");
    kura__sql_type(b, KURA_SQL_POSTGRES, f);
    kura_buf_add(b, " USING ");
    kura_buf_ident(b, f->name);
    kura_buf_add(b, "::");
    kura__sql_type(b, KURA_SQL_POSTGRES, f);
}

/* -> keeps the JSON text as written (a number's digits, a string's quotes). */
static void json_as_json(kura_buf *b, const char *doc, const char *field)
{
    kura_buf_addf(b, "NULLIF(\"%s\"->'%s', 'null'::jsonb)", doc, field);
}

/* ->> gives text; the type's cast makes comparisons and order numeric /
 * boolean. Strings and ISO 8601 datetimes compare as text. */
static void json_as_value(kura_buf *b, const char *doc, const char *field, const kura_type_info *ti)
{
    if (ti->pg_json_cast)
        kura_buf_addf(b, "((\"%s\"->>'%s')::%s)", doc, field, ti->pg_json_cast);
    else
        kura_buf_addf(b, "(\"%s\"->>'%s')", doc, field);
}

/* jsonb || replaces top-level keys as they are: the patch goes in whole. */
static bool json_patch(kura_buf *b, kura_sql_params *p, const kura_model *m, json_t *o,
                       kura_error *err)
{
    (void)m;
    char *patch = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    kura_buf_add(b, "\"doc\" || ");
    bool ok = kura_sql_param_owned(b, p, patch);
    kura_buf_add(b, "::jsonb");
    if (!ok || b->oom)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory encoding an update");
    return true;
}

/* What kura_time_parse reads (model.h), as POSIX regular expressions: a
 * document's datetime without an offset is UTC, one with an offset is that
 * instant. */
#define PG_DATE_RE     "[0-9]{4}-[0-9]{2}-[0-9]{2}"
#define PG_DATETIME_RE PG_DATE_RE "[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?"

/*
 * ->> gives text, -> jsonb: each cast to its column's type. A string goes
 * to a VARCHAR(n) or CHAR(n) column as TEXT: an explicit cast to VARCHAR(8)
 * cuts a longer string to 8 characters without a word, where storing it in
 * the column (an assignment) refuses it, failing the upgrade.
 *
 * A decimal is cast only when NUMERIC(p,s) holds it as it is: the cast
 * rounds 1.234 to 1.23 without a word. A date or datetime is cast only in
 * the forms kura reads: PostgreSQL's own
 * input takes 'yesterday' or 'Jan 1 2024' (a misfit to kura, now a value) and
 * drops the offset of "...T09:00:00+09:00" when the type has no zone (nine
 * hours off). Any other text goes to a cast that fails, naming it.
 */
static void json_to_column(kura_buf *b, const char *expr, const kura_type_info *ti,
                           const char *column_type)
{
    int n = (int)strcspn(column_type, "(");
    if (ti == kura__type(KURA_TYPE_DATETIME))
        kura_buf_addf(b,
                      "CASE WHEN %s ~ '^" PG_DATETIME_RE "$' THEN CAST(%s AS %.*s) "
                      "WHEN %s ~ '^" PG_DATETIME_RE "(Z|[+-][0-9]{2}:[0-9]{2})$' "
                      "THEN CAST(%s AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
                      "ELSE CAST('not a datetime kura reads: ' || %s AS %.*s) END",
                      expr, expr, n, column_type, expr, expr, expr, n, column_type);
    else if (ti == kura__type(KURA_TYPE_DECIMAL)) /* whose cast to NUMERIC(p,s) rounds */
        kura_buf_addf(b,
                      "CASE WHEN CAST(%s AS NUMERIC) = CAST(%s AS %s) THEN CAST(%s AS NUMERIC) "
                      "ELSE CAST('not a decimal that fits %s: ' || %s AS NUMERIC) END",
                      expr, expr, column_type, expr, column_type, expr);
    else if (ti == kura__type(KURA_TYPE_DATE))
        kura_buf_addf(b,
                      "CASE WHEN %s ~ '^" PG_DATE_RE "$' THEN CAST(%s AS %.*s) "
                      "ELSE CAST('not a date kura reads: ' || %s AS %.*s) END",
                      expr, expr, n, column_type, expr, n, column_type);
    else if (column_type[n] && (!strncasecmp(column_type, "VARCHAR", (size_t)n) ||
                                !strncasecmp(column_type, "CHAR", (size_t)n)))
        kura_buf_addf(b, "CAST(%s AS TEXT)", expr); /* CHAR alone is CHAR(1) */
    else
        kura_buf_addf(b, "CAST(%s AS %s)", expr, column_type);
}

static void json_strip(kura_buf *b, const char *doc, const char *const *names, size_t n)
{
    kura_buf_addf(b, "NULLIF(\"%s\"", doc);
    if (n) {
        kura_buf_add(b, " - ARRAY[");
        for (size_t i = 0; i < n; i++)
            kura_buf_addf(b, "%s'%s'", i ? ", " : "", names[i]);
        kura_buf_add(b, "]::text[]");
    }
    kura_buf_add(b, ", '{}'::jsonb)");
}

/* pg_sequence_last_value is NULL for a counter never used (and for a key
 * column without one). */
static void json_reseed(kura_buf *b, const char *table, const char *key, const char *old,
                        const char *old_key)
{
    kura_buf_addf(b,
                  "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'), "
                  "GREATEST(COALESCE(MAX(\"%s\"), 0), COALESCE(pg_sequence_last_value("
                  "pg_get_serial_sequence('\"%s\"', '%s')::regclass), 0)) + 1, false) FROM \"%s\"",
                  table, key, key, old, old_key, table);
}

/* A PL/pgSQL block whose variables "_id" and "doc" stand for the columns the
 * expressions name; assigning to a variable of the column's type checks what
 * storing in the column checks (a VARCHAR's length too). Each value is tried
 * on its own, so the failure names its field. */
static void json_refused(kura_buf *b, const char *table, size_t n, const char *const *names,
                         const char *const *values, const char *const *types)
{
    kura_buf_add(b, "DO $kura$DECLARE \"_id\" text; \"doc\" jsonb;");
    for (size_t i = 0; i < n; i++)
        kura_buf_addf(b, " v%zu %s;", i, types[i]);
    kura_buf_addf(b,
                  " BEGIN FOR \"_id\", \"doc\" IN SELECT t.\"_id\", t.\"doc\" FROM \"%s\" t "
                  "ORDER BY t.\"_id\" LOOP",
                  table);
    for (size_t i = 0; i < n; i++)
        kura_buf_addf(b,
                      " BEGIN v%zu := %s; EXCEPTION WHEN others THEN RAISE EXCEPTION USING "
                      "MESSAGE = format('%s: document %%s, field %s, value %%s: %%s', \"_id\", "
                      "left((\"doc\"->'%s')::text, 80), SQLERRM); END;",
                      i, values[i], table, names[i], names[i]);
    kura_buf_add(b, " END LOOP; END$kura$");
}

/* jsonb_build_object writes a timestamp without its zone: kura's are UTC. */
static void json_key_value(kura_buf *b, const char *column, const char *type)
{
    if (!strcasecmp(type, kura__type(KURA_TYPE_DATETIME)->sql[KURA_SQL_POSTGRES]))
        kura_buf_addf(b, "to_char(\"%s\", 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", column);
    else
        kura_buf_addf(b, "\"%s\"", column);
}

const kura_sql_dialect kura__pg_dialect = {
    .id = KURA_SQL_POSTGRES,
    .dollar_params = true,
    .nulls_high = true,
    .returning_id = true,
    .id_type = "SERIAL",
    .key_types = {NULL, "UUID", "TEXT", "TEXT"}, /* a UUID column checks them, in 16 bytes */
    .batch_params = 32767,
    .begin = "BEGIN",
    /* Held until the transaction ends. The key is "kuramigr" in ASCII, a
     * number an application's own advisory locks are unlikely to use. */
    .migrate_lock = "SELECT pg_advisory_xact_lock(7743220897106454386)",
    .columns_sql = "SELECT column_name::text AS name, "
                   /* a NUMERIC's precision and scale are part of its type */
                   "CASE WHEN data_type = 'numeric' AND numeric_precision IS NOT NULL "
                   "THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')' "
                   "ELSE data_type::text END AS type, "
                   "character_maximum_length::bigint AS len "
                   "FROM information_schema.columns "
                   "WHERE table_schema = current_schema() AND table_name = $1 "
                   "ORDER BY ordinal_position",
    .indexes_sql = "SELECT ic.relname::text AS name, CASE WHEN ix.indisunique AND "
                   "ix.indpred IS NULL AND ix.indexprs IS NULL THEN (SELECT "
                   "string_agg(a.attname::text, ',' ORDER BY k.i) FROM "
                   "unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, i) JOIN "
                   "pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) END "
                   "AS cols FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid "
                   "JOIN pg_class t ON t.oid = ix.indrelid "
                   "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = $1",
    .references_sql = "SELECT a.attname::text AS name, rt.relname::text AS type "
                      "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                      "JOIN pg_class rt ON rt.oid = c.confrelid "
                      "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                      "WHERE c.contype = 'f' AND t.relname = $1 "
                      "AND t.relnamespace = current_schema()::regnamespace",
    .add_reference = true,
    .live_type = live_type,
    .alter_type = alter_type,
    .drop_indexed_column = true,
    /* The write position, not the insert position: a replica can only reach
     * what was written, and an idle primary's insert position may sit past a
     * page header no replica ever replays. */
    .wal_position_sql = "SELECT (pg_current_wal_lsn() - '0/0')::int8",
    /* A promoted replica (no longer in recovery) is as current as itself. */
    .replica_state_sql = "SELECT (coalesce(CASE WHEN pg_is_in_recovery() THEN "
                         "pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0') "
                         "- '0/0')::int8",
    .json =
        {
            .driver = "docs-postgresql",
            .extra_type = "JSONB",
            .object_open = "jsonb_build_object(",
            .object_close = ")::text",
            .extra_text = "\"_extra\"::text",
            .key_value = json_key_value,
            .to_column = json_to_column,
            .strip = json_strip,
            .reseed = json_reseed,
            .refused = json_refused,
            .form = KURA_FORM_PG_JSON,
            .id_type = "BIGSERIAL",
            .doc_type = "JSONB NOT NULL",
            .doc_open = "",
            .doc_close = "::jsonb",
            .doc_text = "\"doc\"::text",
            .as_json = json_as_json,
            .as_value = json_as_value,
            .patch = json_patch,
        },
};
