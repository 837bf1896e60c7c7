/*
 * schema_default.c — a field's default as schema files and inspect hold it.
 *
 * No type is named here: a default is read into a scratch member by the
 * type's own from_json, checked by its own validation, and kept in the slot
 * its entry names (model/types.h); written back, it is the member kura_init
 * makes, encoded by the type's to_json. So a default the loader accepts is one
 * kura_init applies and kura_validate passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/schema_private.h"
#include "model/types.h"

/* A zeroed member for f, and in *tmp f with the member's size and without
 * `required` (a default need not be a value a required field accepts: "" is one). */
static void *scratch(const kura_field *f, kura_field *tmp)
{
    *tmp = *f;
    tmp->size = kura__member_bytes(f);
    tmp->required = false;
    return calloc(1, tmp->size ? tmp->size : 1);
}

static void scratch_free(const kura_type_info *ti, void *m)
{
    if (ti->owns) {
        char *p;
        memcpy(&p, m, sizeof p);
        free(p);
    }
    free(m);
}

/* A reason about the field ("a must be an integer") said of its default instead. */
static bool reason(kura_error *err, const char *name, const char *msg)
{
    size_t n = strlen(name);
    if (strncmp(msg, name, n) == 0 && msg[n] == ' ')
        return kura_fail(err, KURA_VALIDATION, NULL, "default%s", msg + n);
    return kura_fail(err, KURA_VALIDATION, NULL, "default: %s", msg);
}

/* Keeps the member's value in the slot of f's type. */
static bool keep(kura_field *f, const kura_type_info *ti, kura_value v, kura_error *err)
{
    switch (ti->dflt) {
    case KURA_DEFAULT_INT:
        if (v.kind != KURA_VALUE_INT && v.kind != KURA_VALUE_BOOL)
            break;
        f->default_int = v.kind == KURA_VALUE_BOOL ? v.as.b : v.as.i;
        f->has_default = true;
        return true;
    case KURA_DEFAULT_DOUBLE:
        if (v.kind != KURA_VALUE_DOUBLE)
            break;
        f->default_double = v.as.d;
        f->has_default = true;
        return true;
    case KURA_DEFAULT_STRING: {
        if (v.kind != KURA_VALUE_STRING || !v.as.s)
            break;
        char *s = strdup(v.as.s);
        if (!s)
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        free((char *)f->default_string);
        f->default_string = s;
        f->has_default = true;
        return true;
    }
    case KURA_DEFAULT_NONE:
        break;
    }
    return kura_fail(err, KURA_VALIDATION, NULL, "default must be a value, not empty or null");
}

bool kura__default_from_json(kura_field *f, const json_t *v, kura_error *err)
{
    const kura_type_info *ti = kura__type(f->type);
    if (ti->dflt == KURA_DEFAULT_NONE)
        return kura_fail(err, KURA_VALIDATION, NULL, "%s fields take no default", ti->name);
    kura_field tmp;
    void *m = scratch(f, &tmp);
    if (!m)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    kura_error e;
    kura_error_clear(&e);
    char why[128] = "";
    bool ok = false;
    if (!ti->from_json(&tmp, v, m, &e)) {
        if (e.code == KURA_NOMEM)
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        else
            reason(err, f->name, e.message);
    } else if (!ti->check(&tmp, m, (kura_reason){why, sizeof why}))
        kura_fail(err, KURA_VALIDATION, NULL, "default %s", why);
    else
        ok = keep(f, ti, ti->value(&tmp, m), err);
    scratch_free(ti, m);
    return ok;
}

json_t *kura__default_to_json(const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    if (!f->has_default || ti->dflt == KURA_DEFAULT_NONE || !ti->init ||
        (ti->dflt == KURA_DEFAULT_STRING && !f->default_string))
        return NULL;
    kura_field tmp;
    void *m = scratch(f, &tmp);
    if (!m)
        return NULL;
    ti->init(&tmp, m);
    /* A default that is no value of the type (a C descriptor's, unchecked) is not written. */
    json_t *j = ti->value(&tmp, m).kind == KURA_VALUE_NULL ? NULL : ti->to_json(&tmp, m);
    scratch_free(ti, m);
    return j;
}
