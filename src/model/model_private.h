/* model_private.h — helpers shared by the model layer's files; not installed. */
#ifndef KURA_MODEL_PRIVATE_H
#define KURA_MODEL_PRIVATE_H

#include "kura/model.h"
#include "kura/query.h"

#include <stdint.h>
#include <string.h>

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

/* kura__utf8_array_chars past its first i bytes, which are ASCII and not NUL. */
long kura__utf8_array_chars_rest(const char *s, size_t size, size_t i, size_t *len);

/*
 * The text in a char array member of `size` bytes: its characters (as
 * kura_utf8_chars counts them), and its length in bytes into *len; -1 when it
 * is not valid UTF-8, -2 when no NUL ends it within the array. One pass over
 * ASCII text, where strnlen and kura_utf8_chars take two; inline, and the rest
 * out of line, as every string of every row written is checked here.
 */
static inline long kura__utf8_array_chars(const char *s, size_t size, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    /* 8 bytes at a time while each is in 1..127: a byte that is 0 or has its
     * high bit sets the high bit of (byte | byte - 1), and no borrow crosses
     * the bytes before the first such one, so the test is exact. */
    while (size - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        uint64_t stop = (w | (w - UINT64_C(0x0101010101010101))) & UINT64_C(0x8080808080808080);
        if (stop != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t)__builtin_ctzll(stop) / 8; /* to that byte: its bit is the lowest */
#endif
            break;
        }
        i += 8;
    }
    while (i < size && p[i] != 0 && p[i] < 0x80)
        i++;
    if (i < size && p[i] == 0) {
        *len = i; /* all ASCII: one character a byte */
        return (long)i;
    }
    return kura__utf8_array_chars_rest(s, size, i, len);
}

/* The key kind named `name` (kura_key_kind_name's: "int64", "uuid", "objectid",
 * "string"); false, leaving *out untouched, for any other name. */
bool kura__key_kind_from_name(const char *name, kura_key_kind *out);

/* --- references (references.c) --- */

/* ON DELETE actions: the schema file's name ("restrict", "cascade",
 * "set_null"; NULL for no action), the SQL ("SET NULL"), and back from a name. */
const char *kura__on_delete_name(kura_on_delete a);
const char *kura__on_delete_sql(kura_on_delete a);
bool kura__on_delete_from_name(const char *name, kura_on_delete *out);

/* Whether field f of m may reference what it references (model.h,
 * "References"): its type holds the referenced key, the action is one, a
 * required field is not set to NULL. KURA_INVALID naming both models. */
bool kura__reference_check(const kura_model *m, const kura_field *f, kura_error *err);

/* Whether deleting a row of some model may change rows of m in the database:
 * a field of m references a model with ON DELETE CASCADE or SET NULL; and
 * whether one references `target` (matched by name) so. */
bool kura__model_cascades(const kura_model *m);
bool kura__cascades_from(const kura_model *m, const kura_model *target);

/* kura__reference_check and kura__unique_with_check on every field of m: what
 * of a declaration kura_create and migrations check before any store acts. */
bool kura__declaration_check(const kura_model *m, kura_error *err);

/* --- index names (index_name.c) --- */

/* full as the name of an index: itself when it has at most 63 bytes, else its
 * first 54 bytes, '_' and 8 hex digits of a hash of the whole (PostgreSQL
 * keeps 63 bytes of a name, so two long names of one start were one). */
void kura__index_name_cut(const char *full, char out[64]);

/* The name of the index of one column, ix_<table>_<column> (Flask-SQLAlchemy's),
 * cut by kura__index_name_cut. */
void kura__index_name(const char *table, const char *column, char out[64]);

/* --- fields unique together (unique_with.c) --- */

/* Whether f's unique_with is one (model.h): names of other fields of m, each
 * once, of types that compare; KURA_INVALID naming the field. */
bool kura__unique_with_check(const kura_model *m, const kura_field *f, kura_error *err);

/* The name of f's unique index: uq_<table>_<field>_<others>, at most 63 bytes. */
void kura__unique_with_name(const kura_model *m, const kura_field *f, char out[64]);

/* in[0..n) in a new array (malloc'd, the caller frees it) so that a model
 * comes after the models of in it references (matched by name; a model may
 * reference itself); a cycle keeps the order given. NULL on out of memory. */
const kura_model **kura__models_by_references(const kura_model *const *in, size_t n);

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
/* A stored JSON object's text (another program's document) as a new jansson
 * object; a number jansson cannot hold as an integer (beyond int64) reads as
 * the nearest real, where a plain json_loads refuses the whole text. NULL
 * when it is not a JSON object. */
json_t *kura__json_load_object(const char *text);

#endif
