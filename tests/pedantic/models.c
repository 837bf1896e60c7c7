/*
 * models.c — compiled, never run: every field macro, with options and without,
 * under -std=c11 -Wpedantic -Werror (tests/CMakeLists.txt). A user who builds
 * with -Wpedantic must not get a warning from a model declared as the README
 * shows, so a change to the macros that brings one back fails the build.
 */
#include <kura/kura.h>

typedef struct every {
    kura_base base;
    int32_t i32;
    int64_t i64;
    double d;
    bool b;
    kura_time t;
    char *text;
    kura_tags tags;
    char *json;
    char s[KURA_STRING_BYTES(8)];
    char e[KURA_STRING_BYTES(64)];
    char uuid[KURA_UUID_BYTES];
    char oid[KURA_OBJECTID_BYTES];
    char date[KURA_DATE_BYTES];
    char dec[KURA_DECIMAL_BYTES(10)];
} every;

static const char *const letters[] = {"a", "b", NULL};

const kura_model pedantic_bare_model =
    KURA_MODEL(every, "pedantic_bare", KURA_INT32(every, i32), KURA_INT64(every, i64),
               KURA_DOUBLE(every, d), KURA_BOOL(every, b), KURA_DATETIME(every, t),
               KURA_TEXT(every, text), KURA_TAGS(every, tags), KURA_JSON(every, json),
               KURA_STRING(every, s, 8), KURA_EMAIL(every, e, 64), KURA_UUID(every, uuid),
               KURA_OBJECTID(every, oid), KURA_DATE(every, date), KURA_DECIMAL(every, dec, 10, 2));

const kura_model pedantic_options_model = KURA_MODEL_KEYED(
    every, "pedantic_options", KURA_KEY_UUID, KURA_INT32(every, i32, .index = true),
    KURA_INT64(every, i64, .has_range = true, .min = 0, .max = 9),
    KURA_STRING(every, s, 8, .choices = letters, .required = true),
    KURA_STRING(every, e, 8, .choices = (const char *const[]){"x", "y", NULL}),
    KURA_DECIMAL(every, dec, 10, 2, .required = true), KURA_UUID(every, uuid, .unique = true));

/* References: to another model, and to the model itself. */
const kura_model pedantic_refs_model =
    KURA_MODEL(every, "pedantic_refs", KURA_INT64(every, i64, .references = &pedantic_bare_model),
               KURA_INT32(every, i32, .references = &pedantic_refs_model,
                          .on_delete = KURA_ON_DELETE_SET_NULL),
               KURA_UUID(every, uuid, .references = &pedantic_options_model,
                         .on_delete = KURA_ON_DELETE_CASCADE));
