/* model_private.h — helpers shared by the model layer's files; not installed. */
#ifndef KURA_MODEL_PRIVATE_H
#define KURA_MODEL_PRIVATE_H

#include "kura/model.h"
#include "kura/query.h"

/*
 * The timestamp columns rows of m have, in the order kura stores them:
 * kura__stamp_column(0) is KURA_COL_CREATED_AT, (1) KURA_COL_UPDATED_AT, and
 * kura__stamp_count(m) is 2, or 0 for a KURA_MODEL_NO_TIMESTAMPS model. Code
 * that lists a row's implicit columns (the key, the fields, the stamps) loops
 * over these instead of naming the stamps, so one flag test decides for all:
 * this one (kura_model_has_timestamps asks it too), inline for the row loops.
 */
static inline int kura__stamp_count(const kura_model *m)
{
    return m->flags & KURA_MODEL_NO_TIMESTAMPS ? 0 : 2;
}

static inline int kura__stamp_column(int i)
{
    return KURA_COL_CREATED_AT - i;
}

/* The kura_base member that holds stamp column `column` (KURA_COL_CREATED_AT or
 * KURA_COL_UPDATED_AT), and its value. */
static inline kura_time *kura__stamp_member(kura_base *b, int column)
{
    return column == KURA_COL_CREATED_AT ? &b->created_at : &b->updated_at;
}

static inline kura_time kura__stamp_value(const kura_base *b, int column)
{
    return column == KURA_COL_CREATED_AT ? b->created_at : b->updated_at;
}

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

/* The key kind named `name` (kura_key_kind_name's: "int64", "uuid", "objectid",
 * "string"); false, leaving *out untouched, for any other name. */
bool kura__key_kind_from_name(const char *name, kura_key_kind *out);

/* A kura_tags as a JSON array of strings (new reference; NULL on out of memory
 * or invalid UTF-8), and back: anything but an array of at most KURA_TAGS_MAX
 * strings that fit an item is KURA_VALIDATION naming the field. Used by the
 * JSON codec and by the SQL store, which keeps tags as JSON text. */
#include <jansson.h>

#include "base/buf.h"
json_t *kura__tags_to_json(const kura_tags *tags);
bool kura__tags_from_json(const kura_field *f, const json_t *v, kura_tags *out, kura_error *err);

/* The object as JSON text appended to b (json_text.c): the bytes of
 * kura_to_json_string, without building a json_t. False where kura_to_json
 * gives NULL (text that is not UTF-8) and on out of memory. */
bool kura__to_json_text(kura_buf *b, const kura_model *model, const void *obj);

#endif
