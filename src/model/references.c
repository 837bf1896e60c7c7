/*
 * references.c — what a field's reference to another model's key may be, the
 * one table of ON DELETE actions, and the order in which a set of models'
 * tables can be made: every store, migration and schema file asks here.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"

/* The actions, by kura_on_delete: the schema file's name and the SQL.
 * restrict is NO ACTION, which refuses at the end of the statement rather than
 * row by row: deleting every row of a self-referencing table at once (a
 * kura_delete_where, the DROP TABLE of kura_drop on SQLite) is no dangling
 * reference, and RESTRICT refused it as soon as a parent went before its child. */
static const struct {
    const char *name;
    const char *sql;
} on_delete[] = {
    [KURA_ON_DELETE_RESTRICT] = {"restrict", "NO ACTION"},
    [KURA_ON_DELETE_CASCADE] = {"cascade", "CASCADE"},
    [KURA_ON_DELETE_SET_NULL] = {"set_null", "SET NULL"},
};
#define N_ON_DELETE (sizeof on_delete / sizeof on_delete[0])

static bool on_delete_known(kura_on_delete a)
{
    return (unsigned)a < N_ON_DELETE;
}

const char *kura__on_delete_name(kura_on_delete a)
{
    return on_delete_known(a) ? on_delete[a].name : NULL;
}

const char *kura__on_delete_sql(kura_on_delete a)
{
    return on_delete_known(a) ? on_delete[a].sql : "NO ACTION";
}

bool kura__on_delete_from_name(const char *name, kura_on_delete *out)
{
    for (size_t i = 0; i < N_ON_DELETE; i++)
        if (strcmp(name, on_delete[i].name) == 0) {
            *out = (kura_on_delete)i;
            return true;
        }
    return false;
}

/* Whether a field of type t can hold a key of kind k. */
static bool holds_key(kura_type t, kura_key_kind k)
{
    switch (k) {
    case KURA_KEY_INT64:
        return t == KURA_TYPE_INT64 || t == KURA_TYPE_INT32;
    case KURA_KEY_UUID:
        return t == KURA_TYPE_UUID;
    case KURA_KEY_OBJECTID:
        return t == KURA_TYPE_OBJECTID;
    case KURA_KEY_STRING:
        return t == KURA_TYPE_STRING;
    }
    return false;
}

bool kura__reference_check(const kura_model *m, const kura_field *f, kura_error *err)
{
    const kura_model *r = f->references;
    if (!r && f->on_delete == KURA_ON_DELETE_RESTRICT)
        return true;
    if (!r)
        return kura_fail(err, KURA_INVALID, f->name,
                         "%.64s.%.64s: on_delete is set but the field references no model", m->name,
                         f->name);
    if (!r->name || !*r->name)
        return kura_fail(err, KURA_INVALID, f->name,
                         "%.64s.%.64s references a model without a name", m->name, f->name);
    if (!on_delete_known(f->on_delete))
        return kura_fail(err, KURA_INVALID, f->name, "%.64s.%.64s: on_delete %d is no action",
                         m->name, f->name, (int)f->on_delete);
    if (!holds_key(f->type, r->key))
        return kura_fail(err, KURA_INVALID, f->name,
                         "%.64s.%.64s is a %s field and cannot hold a key of %.64s, which is %s "
                         "(an int64 key: int64 or int32; a uuid, objectid or string key: a field "
                         "of that type)",
                         m->name, f->name, kura_type_name(f->type), r->name,
                         kura_key_kind_name(r->key));
    if (f->on_delete == KURA_ON_DELETE_SET_NULL && f->required)
        return kura_fail(err, KURA_INVALID, f->name,
                         "%.64s.%.64s is required, so deleting a %.64s cannot set it to NULL "
                         "(on_delete set_null)",
                         m->name, f->name, r->name);
    return true;
}

bool kura__declaration_check(const kura_model *m, kura_error *err)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (!kura__reference_check(m, &m->fields[i], err) ||
            !kura__unique_with_check(m, &m->fields[i], err))
            return false;
    return true;
}

bool kura__model_cascades(const kura_model *m)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].references && m->fields[i].on_delete != KURA_ON_DELETE_RESTRICT)
            return true;
    return false;
}

bool kura__cascades_from(const kura_model *m, const kura_model *target)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (f->references && f->on_delete != KURA_ON_DELETE_RESTRICT && f->references->name &&
            target->name && strcmp(f->references->name, target->name) == 0)
            return true;
    }
    return false;
}

/* Whether m references, other than itself, a model of in[0..n) not yet placed. */
static bool waits(const kura_model *m, const kura_model *const *in, const bool *placed, size_t n)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_model *r = m->fields[i].references;
        if (!r || !r->name || strcmp(r->name, m->name) == 0)
            continue;
        for (size_t k = 0; k < n; k++)
            if (!placed[k] && strcmp(in[k]->name, r->name) == 0)
                return true;
    }
    return false;
}

const kura_model **kura__models_by_references(const kura_model *const *in, size_t n)
{
    const kura_model **out = malloc((n ? n : 1) * sizeof *out);
    bool *placed = calloc(n ? n : 1, sizeof *placed);
    if (!out || !placed) {
        free(out);
        free(placed);
        return NULL;
    }
    size_t done = 0;
    while (done < n) {
        size_t before = done;
        for (size_t i = 0; i < n; i++)
            if (!placed[i] && !waits(in[i], in, placed, n)) {
                placed[i] = true;
                out[done++] = in[i];
            }
        if (done == before) /* a cycle: the rest in the order given, the database decides */
            for (size_t i = 0; i < n; i++)
                if (!placed[i]) {
                    placed[i] = true;
                    out[done++] = in[i];
                }
    }
    free(placed);
    return out;
}
