/*
 * schema_types.c — field type names, C sizes and alignments for runtime models.
 *
 * THE ONE TABLE the schema code reads a type from. It stands in for the
 * project's field-type table (kura_type_name / kura_type_from_name in
 * model.h): when that lands, these functions become calls into it and this
 * table goes. Sizes and alignments come from the compiler that builds kura,
 * so a runtime layout is the layout of the equivalent C struct on this ABI.
 */
#include "model/schema_private.h"

#include <string.h>

typedef struct type_info {
    const char *name;
    size_t size;  /* 0: sized by max_chars (STRING, EMAIL) */
    size_t align; /* _Alignof the member's C type */
    const char *c_type;
    const char *macro;
} type_info;

static const type_info types[] = {
    [KURA_TYPE_INT32] = {"int32", sizeof(int32_t), _Alignof(int32_t), "int32_t", "KURA_INT32"},
    [KURA_TYPE_INT64] = {"int64", sizeof(int64_t), _Alignof(int64_t), "int64_t", "KURA_INT64"},
    [KURA_TYPE_DOUBLE] = {"double", sizeof(double), _Alignof(double), "double", "KURA_DOUBLE"},
    [KURA_TYPE_BOOL] = {"bool", sizeof(bool), _Alignof(bool), "bool", "KURA_BOOL"},
    [KURA_TYPE_STRING] = {"string", 0, 1, "char", "KURA_STRING"},
    [KURA_TYPE_TEXT] = {"text", sizeof(char *), _Alignof(char *), "char *", "KURA_TEXT"},
    [KURA_TYPE_EMAIL] = {"email", 0, 1, "char", "KURA_EMAIL"},
    [KURA_TYPE_DATETIME] = {"datetime", sizeof(kura_time), _Alignof(kura_time), "kura_time",
                            "KURA_DATETIME"},
    [KURA_TYPE_TAGS] = {"tags", sizeof(kura_tags), _Alignof(kura_tags), "kura_tags", "KURA_TAGS"},
};
#define NTYPES (sizeof types / sizeof types[0])

static const type_info *info(kura_type type)
{
    return (size_t)type < NTYPES && types[type].name ? &types[type] : NULL;
}

const char *kura__schema_type_name(kura_type type)
{
    const type_info *t = info(type);
    return t ? t->name : NULL;
}

bool kura__schema_type_from_name(const char *name, kura_type *out)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].name && strcmp(types[i].name, name) == 0) {
            *out = (kura_type)i;
            return true;
        }
    return false;
}

size_t kura__schema_type_size(kura_type type, int max_chars)
{
    const type_info *t = info(type);
    if (!t)
        return 0;
    return t->size ? t->size : (size_t)KURA_STRING_BYTES(max_chars);
}

size_t kura__schema_type_align(kura_type type)
{
    const type_info *t = info(type);
    return t ? t->align : 1;
}

const char *kura__schema_type_c(kura_type type)
{
    const type_info *t = info(type);
    return t ? t->c_type : NULL;
}

const char *kura__schema_type_macro(kura_type type)
{
    const type_info *t = info(type);
    return t ? t->macro : NULL;
}
