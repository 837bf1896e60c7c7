/* model_private.h — helpers shared by the model layer's files; not installed. */
#ifndef KURA_MODEL_PRIVATE_H
#define KURA_MODEL_PRIVATE_H

#include "kura/model.h"

/* The member a descriptor points at. Models are plain structs, so the member is
 * correctly aligned for its type and may be accessed through a typed pointer. */
static inline void *kura__member(void *obj, const kura_field *field)
{
    return (char *)obj + field->offset;
}

static inline const void *kura__cmember(const void *obj, const kura_field *field)
{
    return (const char *)obj + field->offset;
}

/* A kura_tags as a JSON array of strings (new reference; NULL on out of memory
 * or invalid UTF-8), and back: anything but an array of at most KURA_TAGS_MAX
 * strings that fit an item is KURA_VALIDATION naming the field. Used by the
 * JSON codec and by the SQL store, which keeps tags as JSON text. */
#include <jansson.h>
json_t *kura__tags_to_json(const kura_tags *tags);
bool kura__tags_from_json(const kura_field *f, const json_t *v, kura_tags *out, kura_error *err);

#endif
