/* fuzz_model.h — one model with a field of every type, for the codec fuzz targets. */
#ifndef KURA_FUZZ_MODEL_H
#define KURA_FUZZ_MODEL_H

#include <kura/kura.h>

typedef struct fz_thing {
    kura_base base;
    int32_t i32;
    int64_t i64;
    double dbl;
    bool flag;
    char name[KURA_STRING_BYTES(16)];
    char *text;
    char email[KURA_STRING_BYTES(64)];
    kura_time when;
    kura_tags tags;
    char choice[KURA_STRING_BYTES(1)];
    char uid[KURA_UUID_BYTES];
    char oid[KURA_OBJECTID_BYTES];
    char day[KURA_DATE_BYTES];
    char price[KURA_DECIMAL_BYTES(12)];
    char *meta;
} fz_thing;

static const char *const fz_choices[] = {"a", "b", NULL};

static const kura_model fz_thing_model = KURA_MODEL(
    fz_thing, "fz_thing", KURA_INT32(fz_thing, i32, .has_range = true, .min = -5, .max = 500),
    KURA_INT64(fz_thing, i64), KURA_DOUBLE(fz_thing, dbl), KURA_BOOL(fz_thing, flag),
    KURA_STRING(fz_thing, name, 16, .required = true), KURA_TEXT(fz_thing, text),
    KURA_EMAIL(fz_thing, email, 64), KURA_DATETIME(fz_thing, when), KURA_TAGS(fz_thing, tags),
    KURA_STRING(fz_thing, choice, 1, .choices = fz_choices), KURA_UUID(fz_thing, uid),
    KURA_OBJECTID(fz_thing, oid), KURA_DATE(fz_thing, day), KURA_DECIMAL(fz_thing, price, 12, 4),
    KURA_JSON(fz_thing, meta));

#endif
