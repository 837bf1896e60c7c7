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

static inline bool kura__is_string(kura_type type)
{
    return type == KURA_TYPE_STRING || type == KURA_TYPE_EMAIL;
}

#endif
