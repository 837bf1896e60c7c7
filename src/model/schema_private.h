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

/* ---- field types: the one place the schema code knows them -------------------
 * Name <-> kura_type, and the C size and alignment of a member of that type.
 * schema_types.c holds them in one table, to be replaced by the project's
 * field-type table (kura_type_name / kura_type_from_name) when it lands. */
const char *kura__schema_type_name(kura_type type); /* NULL for an unknown type */
bool kura__schema_type_from_name(const char *name, kura_type *out);
/* Bytes of a member of `type`; max_chars sizes STRING and EMAIL. */
size_t kura__schema_type_size(kura_type type, int max_chars);
size_t kura__schema_type_align(kura_type type);
/* The C type of a member, for generated declarations ("int32_t", "char *", ...);
 * STRING and EMAIL are "char" with an array bound. */
const char *kura__schema_type_c(kura_type type);
/* The KURA_... macro declaring a field of the type ("KURA_INT32"). */
const char *kura__schema_type_macro(kura_type type);

/* Largest max_chars the loader accepts for string and email (a 4 MiB member). */
#define KURA__SCHEMA_MAX_CHARS (1 << 20)

#endif
