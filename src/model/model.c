/* model.c — lifetime of model values: init, clear, copy, null markers; model flags. */
#include "kura/model.h"

#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"
#include "model/types.h"

bool kura_model_has_timestamps(const kura_model *model)
{
    return kura__stamp_count(model) != 0;
}

void kura_init(const kura_model *model, void *obj)
{
    memset(obj, 0, model->size);
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        const kura_type_info *ti = kura__type(f->type);
        if (f->has_default && ti->init)
            ti->init(f, kura__member(obj, f));
    }
}

void kura_clear(const kura_model *model, void *obj)
{
    if (!model || !obj)
        return;
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (!kura__type(f->type)->owns)
            continue;
        char **m = kura__member(obj, f);
        free(*m);
        *m = NULL;
    }
}

bool kura_copy(const kura_model *model, void *dst, const void *src, kura_error *err)
{
    if (!model || !dst || !src)
        return kura_fail(err, KURA_INVALID, NULL, "NULL model, destination or source to copy");
    memcpy(dst, src, model->size);
    /* Until duplicated, dst's owned pointers alias src's; detach them all first so
     * a failure part-way can clear dst without freeing src's strings. */
    for (size_t i = 0; i < model->nfields; i++)
        if (kura__type(model->fields[i].type)->owns)
            *(char **)kura__member(dst, &model->fields[i]) = NULL;
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (!kura__type(f->type)->owns)
            continue;
        const char *s = *(char *const *)kura__cmember(src, f);
        if (!kura_set_text(kura__member(dst, f), s)) {
            kura_clear(model, dst);
            return kura_fail(err, KURA_NOMEM, f->name, "out of memory copying %s", f->name);
        }
    }
    return true;
}

const kura_field *kura_field_named(const kura_model *model, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < model->nfields; i++)
        if (strcmp(model->fields[i].name, name) == 0)
            return &model->fields[i];
    return NULL;
}

size_t kura_field_index(const kura_model *model, const kura_field *field)
{
    return (size_t)(field - model->fields);
}

bool kura_is_null(const kura_model *model, const void *obj, const kura_field *field)
{
    size_t i = kura_field_index(model, field);
    /* Beyond the bitmap a field has no NULL marker (and a shift by >= 64 is undefined). */
    if (i >= KURA_MAX_FIELDS)
        return false;
    return (((const kura_base *)obj)->nulls >> i) & 1u;
}

void kura_set_null(const kura_model *model, void *obj, const kura_field *field, bool is_null)
{
    size_t i = kura_field_index(model, field);
    if (i >= KURA_MAX_FIELDS)
        return;
    kura_base *base = obj;
    if (is_null)
        base->nulls |= UINT64_C(1) << i;
    else
        base->nulls &= ~(UINT64_C(1) << i);
}

bool kura_set_text(char **member, const char *src)
{
    char *copy = NULL;
    /* Copy before freeing: src may be *member itself. */
    if (src != NULL && (copy = strdup(src)) == NULL)
        return false;
    free(*member);
    *member = copy;
    return true;
}
