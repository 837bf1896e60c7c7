/*
 * schema_private.h — the schema object and how loader, inspect and writers
 * build and read it; not installed.
 *
 * A schema owns one schema_model per model. The kura_model is the first member
 * of its (separately allocated) schema_model, so the pointer handed out stays
 * put while more models are added. Every string a kura_field points at (name,
 * default_string, choices and their items) is malloc'd and owned by the model.
 */
#ifndef KURA_SCHEMA_PRIVATE_H
#define KURA_SCHEMA_PRIVATE_H

#include <jansson.h>
#include <kura/schema.h>

/* A growable list of malloc'd strings. */
typedef struct kura__strs {
    char **items;
    size_t count, cap;
} kura__strs;

typedef struct kura__smodel {
    kura_model model; /* fields and nfields point into `fields` once laid out */
    kura_field *fields;
    size_t cap;
    char *name;
    char *path; /* NULL: "/<name>" */
    char *default_path;
    kura_schema_store store;
    kura__strs warnings;
} kura__smodel;

struct kura_schema {
    kura__smodel **models;
    size_t count, cap;
    kura__strs warnings;
};

/* Appends a printf-formatted string; false on out of memory. */
bool kura__strs_addf(kura__strs *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kura__strs_free(kura__strs *l);

/* A malloc'd printf-formatted string; NULL on out of memory. */
char *kura__strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

kura_schema *kura__schema_new(void);

/* Adds an empty model named `name` (copied); NULL on out of memory. */
kura__smodel *kura__schema_add_model(kura_schema *s, const char *name);

/* Appends a zeroed field named `name` (copied) of `type`; NULL on out of memory.
 * The pointer is valid until the next field is added. */
kura_field *kura__smodel_add_field(kura__smodel *m, const char *name, kura_type type);

/* Sets each field's offset and size and the model's size as a C compiler lays
 * out the struct (kura_base first); KURA_CONFIG when a field is too big. */
bool kura__smodel_layout(kura__smodel *m, kura_error *err);

/* Whether s is a name the schema accepts for a model or a field: an ASCII
 * identifier ([A-Za-z_][A-Za-z0-9_]*) of 1..63 characters. */
bool kura__schema_ident(const char *s);

/* ---- what varies by field type comes from the type table (model/types.h) ----------
 * Type names are kura_type_name / kura_type_from_name; a member's size and
 * alignment, its C declaration and the options a field takes are the type's entry.
 * A default is read and written through the type's own JSON codec: */

/* Sets f's default (has_default and the slot its type keeps it in) from v, the
 * schema file's "default", as the type reads JSON, and checks it as validation
 * would (without `required`). f's max_chars, precision, scale, range and
 * choices must be set. False with err: KURA_VALIDATION with a message about the
 * default ("default is longer than 2 characters", "datetime fields take no
 * default"), KURA_NOMEM. */
bool kura__default_from_json(kura_field *f, const json_t *v, kura_error *err);

/* f's default as the JSON a schema file holds (a new reference), as kura_init
 * applies it; NULL when f has none (or one that is no value of its type). */
json_t *kura__default_to_json(const kura_field *f);

#endif
