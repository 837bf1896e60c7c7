/*
 * migrate.c — additive schema migrations for SQL stores (see kura/migrate.h).
 *
 * The live schema is read through the store's own raw-SQL path
 * (kura_sql_query with a small internal model), so no driver needs an
 * introspection entry point; the DDL comes from the same functions as
 * kura_create, so a migrated table is the table kura_create would make.
 */
#include <kura/migrate.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"
#include "sql/sql_private.h"

/* One row of introspection: a column (name, type, length) or an index (name,
 * and for a unique one on plain columns its columns, ','-separated). */
typedef struct live_col {
    kura_base base;
    char name[KURA_STRING_BYTES(128)];
    char type[KURA_STRING_BYTES(64)];
    int64_t len;
    char *cols;
} live_col;

static const kura_model live_col_model = KURA_MODEL(
    live_col, "kura_live_col", KURA_STRING(live_col, name, 128), KURA_STRING(live_col, type, 64),
    KURA_INT64(live_col, len), KURA_TEXT(live_col, cols));

typedef struct change {
    kura_change_kind kind;
    const char *table; /* the model's name */
    char *column;
    char *detail;
    char **stmts; /* run in order; none: impossible (unless rebuilt) */
    size_t nstmts;
    char *sql; /* stmts joined, for the report */
    bool destructive;
    /* Made by the table's rebuild, whose statements another change of it
     * carries (plan_rebuild). */
    bool rebuilt;
} change;

typedef struct plan {
    change *items;
    size_t count, cap;
    bool oom;
    bool rebuild; /* a table is rebuilt: foreign keys are checked before commit */
} plan;

static change *plan_add(plan *p, kura_change_kind kind, const char *table, const char *column)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        change *n = realloc(p->items, cap * sizeof *n);
        if (!n) {
            p->oom = true;
            return NULL;
        }
        p->items = n;
        p->cap = cap;
    }
    change *c = &p->items[p->count++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->table = table;
    c->column = column ? strdup(column) : NULL;
    if (column && !c->column)
        p->oom = true;
    c->destructive = kind == KURA_CHANGE_DROP_COLUMN || kind == KURA_CHANGE_ALTER_TYPE;
    return c;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->count; i++) {
        change *c = &p->items[i];
        free(c->column);
        free(c->detail);
        for (size_t k = 0; k < c->nstmts; k++)
            free(c->stmts[k]);
        free(c->stmts);
        free(c->sql);
    }
    free(p->items);
}

/* Takes the buffer's text as a malloc'd string (NULL on out of memory). */
static char *take(kura_buf *b, plan *p)
{
    char *s = kura_buf_take(b);
    if (!s)
        p->oom = true;
    return s;
}

/* Appends the buffer's text as the change's next statement. */
static void add_stmt(change *c, kura_buf *b, plan *p)
{
    char *sql = take(b, p);
    char **n = sql ? realloc(c->stmts, (c->nstmts + 1) * sizeof *n) : NULL;
    if (!n) {
        free(sql);
        p->oom = true;
        return;
    }
    c->stmts = n;
    c->stmts[c->nstmts++] = sql;
}

/* ---- reading the live schema ------------------------------------------------- */

/* The live columns, indexes and foreign keys of `table`, from the dialect's catalogue. */
static bool live_schema(kura_store *s, const kura_sql_dialect *d, const char *table,
                        kura_rows *cols, kura_rows *idx, kura_rows *refs, kura_error *err)
{
    kura_value t = KURA_VSTR(table);
    return kura_sql_query(s, &live_col_model, d->columns_sql, &t, 1, cols, err) &&
           kura_sql_query(s, &live_col_model, d->indexes_sql, &t, 1, idx, err) &&
           kura_sql_query(s, &live_col_model, d->references_sql, &t, 1, refs, err);
}

static const live_col *find_named(const kura_rows *rows, const char *name)
{
    for (size_t i = 0; i < rows->count; i++) {
        const live_col *c = kura_row(rows, i);
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* ---- types -------------------------------------------------------------------- */

/* The type a field's column has in the live schema's own spelling, lower case. */
static void expected_type(const kura_sql_dialect *d, const kura_field *f, char *out, size_t cap)
{
    kura__sql_catalog_type(d->id, f, out, cap);
}

static void live_type(const kura_sql_dialect *d, const live_col *c, char *out, size_t cap)
{
    d->live_type(c->type, c->len, out, cap);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* ---- planning ------------------------------------------------------------------ */

static void plan_index(plan *p, const kura_sql_dialect *d, const kura_model *m, const kura_field *f)
{
    change *c = plan_add(p, KURA_CHANGE_ADD_INDEX, m->name, f->name);
    if (!c)
        return;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_index_ddl(&b, d, m, f);
    add_stmt(c, &b, p);
}

/* The unique index over f and its unique_with fields, when idx (the live
 * indexes; NULL for a new table) lacks it. After the columns: it may span a
 * column this migration adds. */
/* Whether `cols` (','-separated) are f and its unique_with fields, in any order. */
static bool same_columns(const char *cols, const kura_field *f)
{
    size_t n = 1, want = 1;
    for (const char *c = cols; *c; c++)
        n += *c == ',';
    for (const char *const *w = f->unique_with; *w; w++)
        want++;
    if (n != want)
        return false;
    for (size_t i = 0; i < want; i++) {
        const char *name = i ? f->unique_with[i - 1] : f->name;
        size_t len = strlen(name);
        bool found = false;
        for (const char *c = cols; c && !found;) {
            found = strncmp(c, name, len) == 0 && (c[len] == ',' || c[len] == '\0');
            c = strchr(c, ',');
            c = c ? c + 1 : NULL;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Whether idx holds f's unique index: by kura's name, or a unique index or
 * constraint of another name over the same columns (another tool's). */
static bool has_unique_with(const kura_rows *idx, const kura_model *m, const kura_field *f)
{
    char name[64];
    kura__unique_with_name(m, f, name);
    for (size_t i = 0; i < idx->count; i++) {
        const live_col *ix = kura_row(idx, i);
        if (strcmp(ix->name, name) == 0 || (ix->cols && same_columns(ix->cols, f)))
            return true;
    }
    return false;
}

static void plan_unique_with(plan *p, const kura_model *m, const kura_field *f,
                             const kura_rows *idx)
{
    if (!f->unique_with || (idx && has_unique_with(idx, m, f)))
        return;
    change *c = plan_add(p, KURA_CHANGE_ADD_INDEX, m->name, f->name);
    if (!c)
        return;
    char detail[600];
    int n = snprintf(detail, sizeof detail, "unique with");
    for (size_t i = 0; f->unique_with[i] && n > 0 && (size_t)n < sizeof detail; i++)
        n += snprintf(detail + n, sizeof detail - (size_t)n, "%s %s", i ? "," : "",
                      f->unique_with[i]);
    if (!(c->detail = strdup(detail)))
        p->oom = true;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_unique_with_ddl(&b, m, f);
    add_stmt(c, &b, p);
}

/* The change that gives f's column, which exists, its foreign key (no statement yet). */
static change *plan_reference_change(plan *p, const kura_model *m, const kura_field *f)
{
    change *c = plan_add(p, KURA_CHANGE_REFERENCE, m->name, f->name);
    if (!c)
        return NULL;
    char detail[300];
    snprintf(detail, sizeof detail, "references %s (%s) on delete %s", f->references->name,
             kura_key_name(f->references), kura__on_delete_name(f->on_delete));
    if (!(c->detail = strdup(detail)))
        p->oom = true;
    return c;
}

/* The foreign key of f's column, which exists without it. */
static void plan_reference(plan *p, const kura_sql_dialect *d, const kura_model *m,
                           const kura_field *f)
{
    change *c = plan_reference_change(p, m, f);
    if (!c || !d->add_reference) /* no statement: impossible */
        return;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "ALTER TABLE ");
    kura_buf_ident(&b, m->name);
    kura_buf_add(&b, " ADD FOREIGN KEY (");
    kura_buf_ident(&b, f->name);
    kura_buf_add(&b, ")");
    kura_sql_references_ddl(&b, f);
    add_stmt(c, &b, p);
}

/* Whether a field's column of m lacks the foreign key the field declares. */
static bool lacks_reference(const kura_field *f, const kura_rows *cols, const kura_rows *refs)
{
    return f->references && find_named(cols, f->name) && !find_named(refs, f->name);
}

/* Every column of m, in its table's order: the key, the fields, the stamps. */
static void column_list(kura_buf *b, const kura_model *m)
{
    kura_buf_ident(b, kura_key_name(m));
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(b, ", ");
        kura_buf_ident(b, m->fields[i].name);
    }
    for (int i = 0; i < kura__stamp_count(m); i++) {
        kura_buf_add(b, ", ");
        kura_buf_ident(b, kura_column_name(m, kura__stamp_column(i)));
    }
}

/* Whether a live index is made again from m rather than from its own text:
 * kura's index of a field (m's own, made below, or of a column m no longer
 * has, which cannot be made again) or a unique_with index of m's. */
static bool index_made_from_model(const kura_model *m, const char *name)
{
    size_t len = strlen(m->name);
    if (strncmp(name, "ix_", 3) == 0 && strncmp(name + 3, m->name, len) == 0 &&
        name[3 + len] == '_') {
        const kura_field *f = kura_field_named(m, name + 4 + len);
        return (f && f->index) || kura_column_named(m, name + 4 + len) == KURA_COL_NONE;
    }
    for (size_t i = 0; i < m->nfields; i++) {
        char uq[64];
        if (!m->fields[i].unique_with)
            continue;
        kura__unique_with_name(m, &m->fields[i], uq);
        if (strcmp(uq, name) == 0)
            return true;
    }
    return false;
}

/*
 * The foreign keys that columns of m which exist lack, on a database that
 * cannot add one to a table (SQLite): the table is made anew under another
 * name from m, its rows copied with their keys, the old one dropped, the new
 * one renamed to it and its indexes made again (SQLite's "other kinds of
 * table schema changes"). Planned after every other change of m, so the
 * table then has exactly m's columns: one that m lacks is a DROP_COLUMN
 * before, refused without force, so no data goes with the old table. The
 * first change carries the statements, the others are made by them. The
 * migration runs with foreign keys off and checks them before it commits
 * (migrate_locked).
 */
static bool plan_rebuild(kura_store *s, const kura_sql_dialect *d, const kura_model *m,
                         const kura_rows *cols, const kura_rows *refs, plan *p, kura_error *err)
{
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < m->nfields; i++) {
        if (!lacks_reference(&m->fields[i], cols, refs))
            continue;
        change *c = plan_reference_change(p, m, &m->fields[i]);
        if (!c)
            return true; /* p->oom says it */
        if (first == SIZE_MAX)
            first = p->count - 1;
        else
            c->rebuilt = true;
    }
    if (first == SIZE_MAX)
        return true;
    kura_rows live = {0};
    kura_value t = KURA_VSTR(m->name);
    if (!kura_sql_query(s, &live_col_model, d->rebuild_indexes_sql, &t, 1, &live, err))
        return false;
    p->rebuild = true;
    change *c = &p->items[first];
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s__kura_rebuild", m->name);
    char stack[2048];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_table_ddl_as(&b, d, m, tmp);
    add_stmt(c, &b, p);
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "INSERT INTO ");
    kura_buf_ident(&b, tmp);
    kura_buf_add(&b, " (");
    column_list(&b, m);
    kura_buf_add(&b, ") SELECT ");
    column_list(&b, m);
    kura_buf_add(&b, " FROM ");
    kura_buf_ident(&b, m->name);
    add_stmt(c, &b, p);
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DROP TABLE ");
    kura_buf_ident(&b, m->name);
    add_stmt(c, &b, p);
    /* The new table takes the old one's name: the references of other tables
     * name it, and were never rewritten (it is renamed, never the old one). */
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "ALTER TABLE ");
    kura_buf_ident(&b, tmp);
    kura_buf_add(&b, " RENAME TO ");
    kura_buf_ident(&b, m->name);
    add_stmt(c, &b, p);
    /* Its indexes and triggers as they were made (another tool's too), then
     * kura's indexes that this migration adds (IF NOT EXISTS: made above when
     * they were there). A view on the table makes the rename fail (SQLite
     * checks every view), and so the migration, changing nothing. */
    for (size_t i = 0; i < live.count; i++) {
        const live_col *ix = kura_row(&live, i);
        if (!ix->cols || index_made_from_model(m, ix->name))
            continue;
        kura_buf_init(&b, stack, sizeof stack);
        kura_buf_add(&b, ix->cols);
        add_stmt(c, &b, p);
    }
    kura_rows_free(&live);
    for (size_t i = 0; i < m->nfields; i++) {
        if (!m->fields[i].index)
            continue;
        kura_buf_init(&b, stack, sizeof stack);
        kura_sql_index_ddl(&b, d, m, &m->fields[i]);
        add_stmt(c, &b, p);
    }
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_init(&b, stack, sizeof stack);
        if (kura_sql_unique_with_ddl(&b, m, &m->fields[i]))
            add_stmt(c, &b, p);
        else
            kura_buf_free(&b);
    }
    return true;
}

static bool plan_model(kura_store *s, const kura_sql_dialect *d, const kura_model *m, plan *p,
                       kura_error *err)
{
    kura_rows cols = {0}, idx = {0}, refs = {0};
    bool ok = live_schema(s, d, m->name, &cols, &idx, &refs, err);
    if (!ok)
        goto out;
    char stack[1024];
    kura_buf b;
    /* A foreign key the database cannot add to the table: it is rebuilt. */
    bool rebuilds = !d->add_reference && d->fk_violations_sql;
    if (cols.count == 0) {
        change *c = plan_add(p, KURA_CHANGE_CREATE_TABLE, m->name, NULL);
        if (!c)
            goto out;
        kura_buf_init(&b, stack, sizeof stack);
        kura_sql_table_ddl(&b, d, m);
        add_stmt(c, &b, p);
        for (size_t i = 0; i < m->nfields; i++)
            if (m->fields[i].index)
                plan_index(p, d, m, &m->fields[i]);
        for (size_t i = 0; i < m->nfields; i++)
            plan_unique_with(p, m, &m->fields[i], NULL);
        goto out;
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        const live_col *lc = find_named(&cols, f->name);
        char want[320], have[320];
        expected_type(d, f, want, sizeof want);
        if (!lc) {
            change *c = plan_add(p, KURA_CHANGE_ADD_COLUMN, m->name, f->name);
            if (!c)
                continue;
            kura_buf_init(&b, stack, sizeof stack);
            kura_buf_add(&b, "ALTER TABLE ");
            kura_buf_ident(&b, m->name);
            kura_buf_add(&b, " ADD COLUMN ");
            kura_sql_column_def(&b, d, f);
            if (f->required && !f->has_default)
                kura_buf_add(&b, kura__type(f->type)->zero_default);
            add_stmt(c, &b, p);
            c->detail = strdup(want);
            /* A new unique column gets a unique index: ADD COLUMN cannot carry
             * UNIQUE in SQLite. */
            if (f->index || f->unique)
                plan_index(p, d, m, f);
            continue;
        }
        live_type(d, lc, have, sizeof have);
        if (strcmp(want, have) != 0) {
            change *c = plan_add(p, KURA_CHANGE_ALTER_TYPE, m->name, f->name);
            if (!c)
                continue;
            char detail[700];
            snprintf(detail, sizeof detail, "%s -> %s", have, want);
            c->detail = strdup(detail);
            if (d->alter_type) { /* else stmts[0] stays NULL: impossible */
                kura_buf_init(&b, stack, sizeof stack);
                d->alter_type(&b, m, f);
                add_stmt(c, &b, p);
            }
        }
        char ixname[1100];
        kura__index_name(m->name, f->name, ixname);
        if (f->index && !find_named(&idx, ixname))
            plan_index(p, d, m, f);
        if (f->references && !find_named(&refs, f->name) && !rebuilds)
            plan_reference(p, d, m, f);
    }
    /* The stamps of a model that has them, added when missing (a model
     * without them neither adds nor expects them). */
    for (int i = 0; i < kura__stamp_count(m); i++) {
        const char *name = kura_column_name(m, kura__stamp_column(i));
        if (find_named(&cols, name))
            continue;
        change *c = plan_add(p, KURA_CHANGE_ADD_COLUMN, m->name, name);
        if (!c)
            continue;
        const char *type = kura__type(KURA_TYPE_DATETIME)->sql[d->id];
        kura_buf_init(&b, stack, sizeof stack);
        kura_buf_add(&b, "ALTER TABLE ");
        kura_buf_ident(&b, m->name);
        kura_buf_add(&b, " ADD COLUMN ");
        kura_buf_ident(&b, name);
        kura_buf_addf(&b, " %s", type);
        add_stmt(c, &b, p);
        c->detail = strdup(type);
        if (!c->detail)
            p->oom = true;
    }
    for (size_t i = 0; i < m->nfields; i++)
        plan_unique_with(p, m, &m->fields[i], &idx);
    /* What the table has and the model does not: the key (its column is "id",
     * or "_id" beside a user field named id), the stamps of a model that has
     * them and the fields are the model's (kura_column_named). */
    for (size_t i = 0; i < cols.count; i++) {
        const live_col *lc = kura_row(&cols, i);
        if (kura_column_named(m, lc->name) != KURA_COL_NONE)
            continue;
        change *c = plan_add(p, KURA_CHANGE_DROP_COLUMN, m->name, lc->name);
        if (!c)
            continue;
        c->detail = strdup("not in the model");
        char ixname[1100];
        kura__index_name(m->name, lc->name, ixname);
        if (!d->drop_indexed_column && find_named(&idx, ixname)) {
            kura_buf_init(&b, stack, sizeof stack);
            kura_buf_add(&b, "DROP INDEX IF EXISTS ");
            kura_buf_ident(&b, ixname);
            add_stmt(c, &b, p);
        }
        kura_buf_init(&b, stack, sizeof stack);
        kura_buf_add(&b, "ALTER TABLE ");
        kura_buf_ident(&b, m->name);
        kura_buf_add(&b, " DROP COLUMN ");
        kura_buf_ident(&b, lc->name);
        add_stmt(c, &b, p);
    }
    if (rebuilds)
        ok = plan_rebuild(s, d, m, &cols, &refs, p, err);
out:
    kura_rows_free(&cols);
    kura_rows_free(&idx);
    kura_rows_free(&refs);
    return ok;
}

/* ---- reporting ----------------------------------------------------------------- */

/* What a plan would do: the script, the changes the caller is shown, the
 * first refused and the first impossible change, the statements that run. */
typedef struct report {
    const change *refused, *impossible;
    size_t runnable;
} report;

static bool report_plan(plan *p, bool force, kura_migrate_plan_fn plan_fn, void *ctx, char **script,
                        report *r, kura_error *err)
{
    char stack[2048];
    kura_buf text;
    kura_buf_init(&text, stack, sizeof stack);
    for (size_t i = 0; i < p->count; i++) {
        change *c = &p->items[i];
        bool no_sql = !c->nstmts && !c->rebuilt;
        bool refuse = no_sql || (c->destructive && !force);
        if (no_sql && !r->impossible)
            r->impossible = c;
        if (refuse && !r->refused)
            r->refused = c;
        kura_buf joined;
        char jstack[512];
        kura_buf_init(&joined, jstack, sizeof jstack);
        for (size_t k = 0; k < c->nstmts; k++)
            kura_buf_addf(&joined, "%s%s", k ? "; " : "", c->stmts[k]);
        c->sql = no_sql ? NULL : take(&joined, p);
        if (no_sql)
            kura_buf_free(&joined);
        if (refuse) {
            kura_buf_addf(&text, "-- refused: %s.%s (%s)%s\n", c->table, c->column,
                          c->detail ? c->detail : "",
                          no_sql ? ": the database cannot make this change"
                                 : ": destructive, needs force");
        } else if (c->rebuilt) {
            kura_buf_addf(&text, "-- %s.%s (%s): made by the rebuild of %s above\n", c->table,
                          c->column, c->detail ? c->detail : "", c->table);
        } else {
            bool rebuild = c->kind == KURA_CHANGE_REFERENCE && c->nstmts > 1;
            if (rebuild)
                kura_buf_addf(&text,
                              "-- %s.%s (%s): %s is rebuilt, with foreign keys off (set "
                              "before the transaction, restored after it)\n",
                              c->table, c->column, c->detail ? c->detail : "", c->table);
            for (size_t k = 0; k < c->nstmts; k++)
                kura_buf_addf(&text, "%s;\n", c->stmts[k]);
            if (rebuild)
                kura_buf_addf(&text, "-- then, before commit, no row found by PRAGMA "
                                     "foreign_key_check of each migrated table\n");
            r->runnable += c->nstmts;
        }
        if (plan_fn) {
            kura_change pub = {
                .kind = c->kind,
                .table = c->table,
                .column = c->column,
                .detail = c->detail ? c->detail : "",
                .sql = c->rebuilt ? "" : c->sql,
                .destructive = c->destructive,
                .refused = refuse,
            };
            plan_fn(&pub, ctx);
        }
    }
    bool ok = !text.oom && !p->oom && (!script || (*script = strdup(text.data)));
    kura_buf_free(&text);
    if (!ok)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory planning a migration");
    return true;
}

/* ---- running ----------------------------------------------------------------- */

/*
 * Opens the migration's transaction and takes the dialect's migration lock in
 * it, before the live schema is read: a second migration of the same
 * database waits here until the first has committed, then plans against what
 * the first made (and so finds nothing left to do) instead of planning the
 * same changes twice.
 */
static bool lock_schema(kura_store *s, const kura_sql_dialect *d, bool fk_off, kura_error *err)
{
    if (fk_off && !kura__sql_tx_begin_with(s, d->fk_off, d->fk_on, err))
        return err && err->code == KURA_INVALID
                   ? kura_fail(err, KURA_INVALID, NULL,
                               "a table is rebuilt with foreign keys off, which cannot change "
                               "inside the caller's transaction: migrate outside one (nothing "
                               "was changed)")
                   : false;
    if (!fk_off && !kura_begin(s, err))
        return false;
    int64_t on = 0;
    if (fk_off && (!kura_sql_scalar(s, d->fk_enforced_sql, NULL, 0, &on, err) ||
                   (on && !kura_fail(err, KURA_STORE, NULL,
                                     "foreign keys could not be turned off to rebuild a table "
                                     "(nothing was changed)"))))
        goto fail;
    if (!d->migrate_lock || kura_sql_exec(s, d->migrate_lock, NULL, 0, NULL, err))
        return true;
fail:;
    kura_error ignored;
    kura_rollback(s, &ignored);
    return false;
}

/* Whether the connection of the migration's transaction enforces foreign
 * keys, which a rebuild must not (lock_schema turns them off before). */
static bool fk_enforced(kura_store *s, const kura_sql_dialect *d, bool *on, kura_error *err)
{
    int64_t v = 0;
    if (!kura_sql_scalar(s, d->fk_enforced_sql, NULL, 0, &v, err))
        return false;
    *on = v != 0;
    return true;
}

/* After a rebuild, which ran with foreign keys off: a row of a migrated table
 * that breaks one of its foreign keys refuses the migration. */
static bool check_references(kura_store *s, const kura_sql_dialect *d,
                             const kura_model *const *models, size_t n, kura_error *err)
{
    for (size_t i = 0; i < n; i++) {
        kura_rows bad = {0};
        kura_value t = KURA_VSTR(models[i]->name);
        if (!kura_sql_query(s, &live_col_model, d->fk_violations_sql, &t, 1, &bad, err))
            return false;
        if (bad.count) {
            const live_col *v = kura_row(&bad, 0);
            kura_fail(err, KURA_CONSTRAINT, v->name,
                      "migrating %s.%s: the row of rowid %lld references no row of %s (nothing "
                      "was changed)",
                      models[i]->name, v->name, (long long)v->len, v->type);
            kura_rows_free(&bad);
            return false;
        }
        kura_rows_free(&bad);
    }
    return true;
}

/* Ends the migration's transaction: commits when ok, else rolls back. */
static bool unlock_schema(kura_store *s, bool ok, kura_error *err)
{
    if (ok)
        return kura_commit(s, err);
    kura_error ignored;
    kura_rollback(s, &ignored);
    return false;
}

/* Runs every statement; the first that fails says which table and column it
 * changed (the database's own message rarely does: "bigint out of range"). */
static bool apply(kura_store *s, const plan *p, kura_error *err)
{
    for (size_t i = 0; i < p->count; i++)
        for (size_t k = 0; k < p->items[i].nstmts; k++) {
            kura_error e = {0};
            if (kura_sql_exec(s, p->items[i].stmts[k], NULL, 0, NULL, &e))
                continue;
            const change *c = &p->items[i];
            char what[300];
            snprintf(what, sizeof what, "%s%s%s", c->table, c->column ? "." : "",
                     c->column ? c->column : "");
            kura_fail(err, e.code, e.field[0] ? e.field : NULL, "migrating %s: %s", what,
                      e.message);
            return false;
        }
    return true;
}

static bool migrate_locked(kura_store *store, const kura_sql_dialect *d,
                           const kura_model *const *models, size_t n, bool dry, bool force,
                           bool fk_off, bool *again, kura_migrate_plan_fn plan_fn, void *ctx,
                           char **script, size_t *changes, kura_error *err);

bool kura_migrate(kura_store *store, const kura_model *const *models, size_t n, unsigned flags,
                  kura_migrate_plan_fn plan_fn, void *ctx, char **script, size_t *changes,
                  kura_error *err)
{
    if (script)
        *script = NULL;
    if (changes)
        *changes = 0;
    if (!store || (n && !models))
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    const kura_sql_dialect *d = kura_sql_store_dialect(store);
    if (!d)
        return kura_fail(err, KURA_UNSUPPORTED, NULL, "the %s store has no SQL schema to migrate",
                         kura_store_driver(store));
    bool dry = flags & KURA_MIGRATE_DRY_RUN;
    bool force = flags & KURA_MIGRATE_FORCE;
    /* An index built on a large table, or another migration's lock, keeps the
     * server silent longer than a request's answer timeout. */
    bool was_patient = kura__sql_patient(true);
    /* A table to rebuild on a connection that enforces foreign keys: once
     * more on one that does not (again), as the first pass left nothing. */
    bool again = false;
    bool ok = migrate_locked(store, d, models, n, dry, force, false, &again, plan_fn, ctx, script,
                             changes, err);
    if (again)
        ok = migrate_locked(store, d, models, n, dry, force, true, &again, plan_fn, ctx, script,
                            changes, err);
    kura__sql_patient(was_patient);
    return ok;
}

static bool migrate_locked(kura_store *store, const kura_sql_dialect *d,
                           const kura_model *const *models, size_t n, bool dry, bool force,
                           bool fk_off, bool *again, kura_migrate_plan_fn plan_fn, void *ctx,
                           char **script, size_t *changes, kura_error *err)
{
    *again = false;
    if (!dry && !lock_schema(store, d, fk_off, err))
        return false;
    /* A dry run reads the catalogue in a transaction of its own when the store has
     * read replicas: migrations plan against the primary, never a lagging copy. */
    bool dry_tx = dry && kura_store_nodes(store, NULL, 0) > 0;
    if (dry_tx && !kura_begin(store, err))
        return false;
    plan p = {0};
    const kura_model **order = kura__models_by_references(models, n);
    bool ok = order || kura_fail(err, KURA_NOMEM, NULL, "out of memory planning a migration");
    for (size_t i = 0; ok && i < n; i++)
        ok = kura__declaration_check(order[i], err);
    for (size_t i = 0; ok && i < n; i++)
        ok = plan_model(store, d, order[i], &p, err);
    free(order);
    if (ok && p.oom)
        ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory planning a migration");
    bool enforced = false;
    if (ok && !dry && p.rebuild && !fk_off && (ok = fk_enforced(store, d, &enforced, err)) &&
        enforced) {
        plan_free(&p);
        unlock_schema(store, false, err);
        *again = true;
        return false;
    }
    report r = {NULL, NULL, 0};
    ok = ok && report_plan(&p, force, plan_fn, ctx, script, &r, err);
    if (dry_tx) {
        kura_error ignored;
        kura_rollback(store, &ignored);
    }
    if (!ok) {
        plan_free(&p);
        if (!dry)
            unlock_schema(store, false, err);
        return false;
    }
    if (changes)
        *changes = r.runnable;

    if (!dry) {
        bool conflict = false;
        if (r.impossible && (force || r.impossible->kind == KURA_CHANGE_REFERENCE)) {
            conflict = !force;
            ok = kura_fail(err, force ? KURA_UNSUPPORTED : KURA_CONFLICT, r.impossible->column,
                           "%s.%s: %s: the database cannot %s (nothing was changed)",
                           r.impossible->table, r.impossible->column, r.impossible->detail,
                           r.impossible->kind == KURA_CHANGE_REFERENCE
                               ? "add a foreign key to a column that exists (make the table "
                                 "anew with it, or declare the reference on a new field)"
                               : "change a column's type in place");
        } else if (r.refused) {
            conflict = true;
            ok = kura_fail(err, KURA_CONFLICT, r.refused->column,
                           "%s.%s: %s: a destructive change, refused without force (nothing "
                           "was changed)",
                           r.refused->table, r.refused->column, r.refused->detail);
        } else if (r.runnable) {
            ok = apply(store, &p, err) &&
                 (!(p.rebuild || fk_off) || check_references(store, d, models, n, err));
        }
        ok = unlock_schema(store, ok, err);
        if (!ok && !conflict && script) { /* the script is kept only to show what was refused */
            free(*script);
            *script = NULL;
        }
    }
    plan_free(&p);
    return ok;
}
