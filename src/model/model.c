/* model.c — lifetime of model values: init, clear, copy, null markers. */
#include "kura/model.h"

#include <stdlib.h>
#include <string.h>

#include "model/model_private.h"

void kura_init(const kura_model *model, void *obj)
{
    memset(obj, 0, model->size);
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (!f->has_default)
            continue;
        void *m = kura__member(obj, f);
        switch (f->type) {
        case KURA_TYPE_INT32:
            *(int32_t *)m = (int32_t)f->default_int;
            break;
        case KURA_TYPE_INT64:
            *(int64_t *)m = f->default_int;
            break;
        case KURA_TYPE_BOOL:
            *(bool *)m = f->default_int != 0;
            break;
        case KURA_TYPE_DOUBLE:
            *(double *)m = f->default_double;
            break;
        case KURA_TYPE_STRING:
        case KURA_TYPE_EMAIL:
            if (f->default_string)
                kura_copy_string(m, f->size, f->default_string);
            break;
        case KURA_TYPE_TEXT:
            /* kura_init cannot fail; out of memory leaves NULL, which reads as "". */
            if (f->default_string)
                *(char **)m = strdup(f->default_string);
            break;
        case KURA_TYPE_DATETIME:
        case KURA_TYPE_TAGS: /* no default for a list: it starts empty */
            break;
        }
    }
}

bool kura_tags_add(kura_tags *tags, const char *tag)
{
    if (tags->count >= KURA_TAGS_MAX || strlen(tag) >= sizeof tags->items[0])
        return false;
    memcpy(tags->items[tags->count], tag, strlen(tag) + 1);
    tags->count++;
    return true;
}

bool kura_tags_has(const kura_tags *tags, const char *tag)
{
    for (uint32_t i = 0; i < tags->count && i < KURA_TAGS_MAX; i++)
        if (strcmp(tags->items[i], tag) == 0)
            return true;
    return false;
}

void kura_clear(const kura_model *model, void *obj)
{
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (f->type != KURA_TYPE_TEXT)
            continue;
        char **m = kura__member(obj, f);
        free(*m);
        *m = NULL;
    }
}

bool kura_copy(const kura_model *model, void *dst, const void *src, kura_error *err)
{
    memcpy(dst, src, model->size);
    /* Until duplicated, dst's TEXT pointers alias src's; detach them all first so
     * a failure part-way can clear dst without freeing src's strings. */
    for (size_t i = 0; i < model->nfields; i++)
        if (model->fields[i].type == KURA_TYPE_TEXT)
            *(char **)kura__member(dst, &model->fields[i]) = NULL;
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (f->type != KURA_TYPE_TEXT)
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
