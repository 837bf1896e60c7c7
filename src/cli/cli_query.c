/*
 * cli_query.c — `--where FIELD=VALUE` and `--order [-]FIELD` on any model.
 *
 * A value is read the way the model reads JSON (kura_from_json), so every
 * field type parses as it does in a request body, in one place: the text is
 * tried as a JSON value (30, true, 1.5) and, when the field does not take
 * that, as a JSON string ("alice", "2026-01-02 03:04:05"). The parsed object
 * is kept until the query has run: string values point into it.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

/* The key and the stamps (of a model that has them): columns that are no field. */
static bool is_base_column(const kura_model *m, const char *name)
{
    int column = kura_column_named(m, name);
    return column != KURA_COL_NONE && column < 0;
}

/* Parses `text` into field f of a fresh object, kept in *keep. */
static bool read_value(const kura_model *m, const kura_field *f, const char *text, void **keep,
                       kura_error *err)
{
    void *obj = calloc(1, m->size);
    if (!obj)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    kura_init(m, obj);
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    json_t *one = v ? json_pack("{s:o}", f->name, v) : NULL;
    bool ok = one && kura_from_json(m, one, obj, false, err);
    json_decref(one);
    if (!ok) {
        one = json_pack("{s:s}", f->name, text);
        ok = one && kura_from_json(m, one, obj, false, err);
        json_decref(one);
    }
    if (!ok) {
        kura_clear(m, obj);
        free(obj);
        if (!one)
            return kura_fail(err, KURA_INVALID, f->name, "%s: the value is not UTF-8 text",
                             f->name);
        return false;
    }
    *keep = obj;
    return true;
}

bool cli_query_where(kura_query *q, const char *arg, cli_kept *kept, kura_error *err)
{
    const kura_model *m = q->model;
    const char *eq = strchr(arg, '=');
    char name[128];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
        return kura_fail(err, KURA_INVALID, NULL, "--where takes FIELD=VALUE, not '%.64s'", arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    const char *text = eq + 1;
    if (is_base_column(m, name)) {
        if (kura_column_named(m, name) == KURA_COL_ID && m->key != KURA_KEY_INT64) {
            kura_where_str(q, name, KURA_EQ, text); /* argv outlives the query */
        } else if (kura_column_named(m, name) == KURA_COL_ID) {
            char *end;
            long long id = strtoll(text, &end, 10);
            if (!*text || *end)
                return kura_fail(err, KURA_INVALID, name, "%s: '%.64s' is not a whole number", name,
                                 text);
            kura_where_int(q, name, KURA_EQ, id);
        } else {
            kura_time t;
            if (!kura_time_parse(text, &t))
                return kura_fail(err, KURA_INVALID, name,
                                 "%s: '%.64s' is not a time (YYYY-MM-DD HH:MM:SS[.ffffff])", name,
                                 text);
            kura_where_time(q, name, KURA_EQ, t);
        }
    } else {
        const kura_field *f = kura_field_named(m, name);
        if (!f)
            return kura_fail(err, KURA_INVALID, NULL, "%.64s has no field '%.64s'", m->name, name);
        if (kept->n >= sizeof kept->objs / sizeof kept->objs[0])
            return kura_fail(err, KURA_INVALID, NULL, "too many --where conditions");
        void *obj = NULL;
        if (!read_value(m, f, text, &obj, err))
            return false;
        kept->objs[kept->n++] = obj;
        kura_value v = kura_value_of(m, obj, f);
        if (v.kind == KURA_VALUE_NULL)
            return kura_fail(err, KURA_INVALID, f->name, "%s cannot be compared with --where",
                             f->name);
        kura_where(q, f->name, KURA_EQ, v);
    }
    if (kura_query_error(q))
        return kura_fail(err, KURA_INVALID, NULL, "%s", kura_query_error(q)->message);
    return true;
}

bool cli_query_order(kura_query *q, const char *arg, kura_error *err)
{
    bool desc = arg[0] == '-';
    const char *name = desc ? arg + 1 : arg;
    if (kura_column_named(q->model, name) == KURA_COL_NONE)
        return kura_fail(err, KURA_INVALID, NULL, "%.64s has no field '%.64s' to order by",
                         q->model->name, name);
    kura_order_by(q, name, desc);
    if (kura_query_error(q))
        return kura_fail(err, KURA_INVALID, NULL, "%s", kura_query_error(q)->message);
    return true;
}

void cli_kept_free(const kura_model *m, cli_kept *kept)
{
    for (size_t i = 0; i < kept->n; i++) {
        kura_clear(m, kept->objs[i]);
        free(kept->objs[i]);
    }
    kept->n = 0;
}
