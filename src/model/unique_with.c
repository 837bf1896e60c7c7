/*
 * unique_with.c — fields unique together (kura_field.unique_with): the check of
 * a declaration, and the name of its index, which the SQL stores, the document
 * stores and migrations all use (a migration finds the index by this name).
 */
#include <stdio.h>
#include <string.h>

#include "model/model_private.h"

bool kura__unique_with_check(const kura_model *m, const kura_field *f, kura_error *err)
{
    const char *const *w = f->unique_with;
    if (!w)
        return true;
    if (!w[0])
        return kura_fail(err, KURA_INVALID, f->name, "%.64s.%.64s: unique_with names no field",
                         m->name, f->name);
    if (!kura_type_takes(f->type, KURA_EQ))
        return kura_fail(err, KURA_INVALID, f->name,
                         "%.64s.%.64s: a %s field cannot be unique with others", m->name, f->name,
                         kura_type_name(f->type));
    for (size_t i = 0; w[i]; i++) {
        if (i == KURA_UNIQUE_WITH_MAX)
            return kura_fail(err, KURA_INVALID, f->name,
                             "%.64s.%.64s: unique_with names more than %d fields", m->name, f->name,
                             KURA_UNIQUE_WITH_MAX);
        const kura_field *o = kura_field_named(m, w[i]);
        if (!o)
            return kura_fail(err, KURA_INVALID, f->name,
                             "%.64s.%.64s: unique_with names '%.64s', which is no field of %.64s",
                             m->name, f->name, w[i], m->name);
        if (o == f)
            return kura_fail(err, KURA_INVALID, f->name,
                             "%.64s.%.64s: unique_with names the field itself", m->name, f->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(w[j], w[i]) == 0)
                return kura_fail(err, KURA_INVALID, f->name,
                                 "%.64s.%.64s: unique_with names '%.64s' twice", m->name, f->name,
                                 w[i]);
        if (!kura_type_takes(o->type, KURA_EQ))
            return kura_fail(err, KURA_INVALID, f->name,
                             "%.64s.%.64s: unique_with names %.64s, a %s field, which cannot be "
                             "unique with others",
                             m->name, f->name, o->name, kura_type_name(o->type));
    }
    return true;
}

void kura__unique_with_name(const kura_model *m, const kura_field *f, char out[64])
{
    char full[1024];
    int n = snprintf(full, sizeof full, "uq_%s_%s", m->name, f->name);
    for (size_t i = 0; f->unique_with && f->unique_with[i] && n > 0 && (size_t)n < sizeof full; i++)
        n += snprintf(full + n, sizeof full - (size_t)n, "_%s", f->unique_with[i]);
    kura__index_name_cut(full, out);
}
