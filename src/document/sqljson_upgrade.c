/*
 * sqljson_upgrade.c — rewriting a JSON-layout collection ("_id", "doc") into
 * the columns layout (kura_document_upgrade, run by kura migrate).
 *
 * One transaction: the new table is made beside the old one, filled with one
 * INSERT ... SELECT that reads each declared field as the JSON layout reads it
 * (the same expressions its queries use) and keeps every other key in
 * "_extra", then takes the old table's name; the indexes are made again on the
 * columns. A value its column cannot hold (PostgreSQL: text in an integer
 * field) fails the statement, and nothing is changed; a second pass, on that
 * path only, finds which document, field and value it was.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "document/sqljson_private.h"
#include "model/model_private.h"

/* Made, filled, next id set, old one dropped, renamed. */
#define MAX_STMTS 5
#define INSERT    1 /* fills the new table: where a value is refused */
#define RESEED    2 /* a query of one row: run as one, skipped when empty */

/* The columns the upgrade fills: m's fields, then its stamps. */
static int column_at(const kura_model *m, size_t i)
{
    return i < m->nfields ? (int)i : kura__stamp_column((int)(i - m->nfields));
}

static void insert_select(kura_buf *b, const doc_store *s, const kura_model *m, const char *tmp)
{
    size_t ncols = m->nfields + (size_t)kura__stamp_count(m);
    kura_buf_add(b, "INSERT INTO ");
    kura_buf_ident(b, tmp);
    kura_buf_add(b, " (");
    kura_buf_ident(b, kura_key_name(m));
    for (size_t i = 0; i < ncols; i++) {
        kura_buf_add(b, ", ");
        kura_buf_ident(b, kura_column_name(m, column_at(m, i)));
    }
    kura_buf_add(b, ", \"" KURA_DOC_EXTRA "\") SELECT \"_id\"");
    const char *names[KURA_MAX_FIELDS + 2];
    for (size_t i = 0; i < ncols; i++) {
        char tstack[64];
        kura_buf type;
        kura_buf_init(&type, tstack, sizeof tstack);
        kura_buf_add(b, ", ");
        kura__docj_value(b, &type, s, m, column_at(m, i), "doc");
        kura_buf_free(&type);
        names[i] = kura_column_name(m, column_at(m, i));
    }
    kura_buf_add(b, ", ");
    s->d->json.strip(b, "doc", names, ncols);
    kura_buf_add(b, " FROM ");
    kura_buf_ident(b, m->name);
}

/*
 * The INSERT ... SELECT was refused (a value its column cannot hold): the
 * database's message names the value at best, never the document or the
 * field. The dialect's search, run after the rollback, fails with one that
 * names all three; err keeps the first message when the search finds none.
 */
static void name_refused(doc_store *s, const kura_model *m, kura_error *err)
{
    size_t ncols = m->nfields + (size_t)kura__stamp_count(m);
    const char *names[KURA_MAX_FIELDS + 2];
    kura_buf values[KURA_MAX_FIELDS + 2], types[KURA_MAX_FIELDS + 2];
    char vstack[KURA_MAX_FIELDS + 2][128], tstack[KURA_MAX_FIELDS + 2][32];
    const char *vtext[KURA_MAX_FIELDS + 2], *ttext[KURA_MAX_FIELDS + 2];
    bool oom = false;
    for (size_t i = 0; i < ncols; i++) {
        kura_buf_init(&values[i], vstack[i], sizeof vstack[i]);
        kura_buf_init(&types[i], tstack[i], sizeof tstack[i]);
        kura__docj_value(&values[i], &types[i], s, m, column_at(m, i), "doc");
        oom = oom || values[i].oom || types[i].oom;
        names[i] = kura_column_name(m, column_at(m, i));
        vtext[i] = values[i].data;
        ttext[i] = types[i].data;
    }
    char stack[2048];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    if (!oom)
        s->d->json.refused(&b, m->name, ncols, names, vtext, ttext);
    kura_error found;
    kura_error_clear(&found);
    if (!oom && !b.oom && !kura_sql_exec(s->sql, b.data, NULL, 0, NULL, &found) && err)
        *err = found;
    kura_buf_free(&b);
    for (size_t i = 0; i < ncols; i++) {
        kura_buf_free(&values[i]);
        kura_buf_free(&types[i]);
    }
}

/* The statements, one kura_buf each; false on out of memory. */
static bool statements(const doc_store *s, const kura_model *m, kura_buf *st)
{
    char tmp[128];
    if (strlen(m->name) + sizeof "__kura_upgrade" > sizeof tmp)
        return false;
    strcpy(tmp, m->name);
    strcat(tmp, "__kura_upgrade");
    kura__doc_table_ddl(&st[0], s, m, tmp);
    insert_select(&st[1], s, m, tmp);
    /* While the old table (and its counter) is still there. */
    if (m->key == KURA_KEY_INT64 && s->d->json.reseed)
        s->d->json.reseed(&st[RESEED], tmp, kura_key_name(m), m->name, "_id");
    kura_buf_add(&st[3], "DROP TABLE ");
    kura_buf_ident(&st[3], m->name);
    kura_buf_add(&st[4], "ALTER TABLE ");
    kura_buf_ident(&st[4], tmp);
    kura_buf_add(&st[4], " RENAME TO ");
    kura_buf_ident(&st[4], m->name);
    for (int i = 0; i < MAX_STMTS; i++)
        if (st[i].oom)
            return false;
    return true;
}

/* Whether m's collection is of the JSON layout. */
static bool json_layout(doc_store *s, const kura_model *m, bool *json, kura_error *err)
{
    kura_rows cols = {0};
    if (!kura__doc_columns(s, m->name, &cols, err))
        return false;
    *json = kura__doc_json_layout(&cols);
    kura_rows_free(&cols);
    return true;
}

/* Runs the statements; *ran is false when, by the time this migration held
 * the migrations' lock, another one (a second `kura migrate`) had already
 * rewritten the collection: nothing is left to do. */
static bool run(doc_store *s, const kura_model *m, kura_buf *st, bool *ran, kura_error *err)
{
    *ran = false;
    if (!kura_begin(s->sql, err))
        return false;
    bool json = false;
    bool ok =
        (!s->d->migrate_lock || kura_sql_exec(s->sql, s->d->migrate_lock, NULL, 0, NULL, err)) &&
        json_layout(s, m, &json, err);
    if (ok && !json) {
        kura_error ignored;
        kura_rollback(s->sql, &ignored);
        return true;
    }
    *ran = true;
    bool refused = false;
    int64_t next = 0;
    for (int i = 0; ok && i < MAX_STMTS; i++) {
        if (i == RESEED)
            ok = !st[i].len || kura_sql_scalar(s->sql, st[i].data, NULL, 0, &next, err);
        else
            ok = kura_sql_exec(s->sql, st[i].data, NULL, 0, NULL, err);
        refused = !ok && i == INSERT;
    }
    ok = ok && kura__doc_indexes(s, m, err);
    if (ok)
        return kura_commit(s->sql, err);
    kura_error ignored;
    kura_rollback(s->sql, &ignored);
    if (refused && s->d->json.refused)
        name_refused(s, m, err);
    return false;
}

bool kura__sqljson_upgrade(kura_store *store, const kura_model *m, bool dry_run, char **sql,
                           kura_error *err)
{
    doc_store *s = (doc_store *)store;
    *sql = NULL;
    if (!kura__doc_model(s, m, err))
        return false;
    bool json = false;
    if (!json_layout(s, m, &json, err))
        return false;
    kura_buf st[MAX_STMTS], script;
    char stacks[MAX_STMTS][1024], sstack[2048];
    for (int i = 0; i < MAX_STMTS; i++)
        kura_buf_init(&st[i], stacks[i], sizeof stacks[i]);
    kura_buf_init(&script, sstack, sizeof sstack);
    bool ok = true;
    if (json) {
        ok = statements(s, m, st);
        for (int i = 0; ok && i < MAX_STMTS; i++)
            if (st[i].len)
                kura_buf_addf(&script, "%s;\n", st[i].data);
        for (size_t i = 0; ok && i < m->nfields; i++) /* what kura__doc_indexes runs */
            if (m->fields[i].index || m->fields[i].unique) {
                kura_sql_index_ddl(&script, s->d, m, &m->fields[i]);
                kura_buf_add(&script, ";\n");
            }
        for (size_t i = 0; ok && i < m->nfields; i++)
            if (kura_sql_unique_with_ddl(&script, m, &m->fields[i]))
                kura_buf_add(&script, ";\n");
        ok = ok && !script.oom;
        if (!ok)
            kura_fail(err, KURA_NOMEM, NULL, "out of memory upgrading %s", m->name);
    }
    if (ok && json && !dry_run) {
        bool ran = false;
        ok = run(s, m, st, &ran, err);
        kura__doc_forget(s, m->name);
        if (!ran)
            script.len = 0;
    }
    if (ok) {
        *sql = strdup(script.len ? script.data : "");
        if (!*sql)
            ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    }
    for (int i = 0; i < MAX_STMTS; i++)
        kura_buf_free(&st[i]);
    kura_buf_free(&script);
    return ok;
}
