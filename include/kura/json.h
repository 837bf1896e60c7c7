/*
 * kura/json.h — models to and from JSON (jansson).
 *
 * A model becomes an object with its key, every user field by name,
 * "created_at" and "updated_at" (ISO 8601 UTC strings with microseconds; a
 * KURA_MODEL_NO_TIMESTAMPS model has neither, and reading treats them as
 * unknown keys).
 * NULL fields become JSON null. The key is named kura_key_name(): "id", or
 * "_id" when the model declares a field named "id" (MongoEngine's MEUser);
 * it is a JSON integer for KURA_KEY_INT64 models and a JSON string for the
 * other kinds (null before the row is stored).
 */
#ifndef KURA_JSON_H
#define KURA_JSON_H

#include <jansson.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A new JSON object for *obj; the caller owns it (json_decref). NULL on out of
 * memory, for a NULL model or object, or when a string member is not valid
 * UTF-8 (kura_validate reports that; JSON cannot carry it). A non-finite double becomes null.
 */
json_t *kura_to_json(const kura_model *model, const void *obj);

/* The same as a compact JSON text, malloc'd; the caller frees it. NULL as kura_to_json. */
char *kura_to_json_string(const kura_model *model, const void *obj);

/*
 * Sets the fields of *obj named in the JSON object `json`; fields it does not
 * name keep their values. Unknown keys are an error (KURA_INVALID naming the
 * key) unless `ignore_unknown`. A value of the wrong JSON type, a string too
 * long for its member, or invalid UTF-8 is KURA_VALIDATION naming the field;
 * constraint checks (choices, e-mail, ranges) are kura_validate's job.
 * The key (a string for non-int64 keys, at most KURA_KEY_BYTES - 1 bytes;
 * its form is checked when inserting), "created_at" and "updated_at" (models
 * with timestamps) are read when present. On failure *obj may
 * be partly updated; TEXT members it set are owned by *obj (kura_clear).
 */
bool kura_from_json(const kura_model *model, const json_t *json, void *obj, bool ignore_unknown,
                    kura_error *err);

/* Parses `text` (len bytes, need not be NUL-terminated) and applies kura_from_json.
 * Broken JSON is KURA_INVALID with the parser's line and column. */
bool kura_from_json_string(const kura_model *model, const char *text, size_t len, void *obj,
                           bool ignore_unknown, kura_error *err);

/*
 * The JSON Schema (2020-12, the dialect of OpenAPI 3.1) of field f's value in
 * kura's JSON: "type" (with "null" beside it unless f->required), "format",
 * "pattern", "maxLength", "enum" for choices, "minimum"/"maximum" for a range,
 * "items" for tags, "default", and for a field that references another model
 * a "description" naming it. A JSON field has no "type": any JSON value. The
 * caller owns the result (json_decref); NULL for a NULL field or no memory.
 */
json_t *kura_field_json_schema(const kura_field *f);

/* A value field f accepts (its first choice, a number within its range, a
 * string within its length), for documentation and tests; caller owns it. */
json_t *kura_field_example(const kura_field *f);

#ifdef __cplusplus
}
#endif
#endif
