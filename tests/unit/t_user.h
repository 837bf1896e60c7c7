/* t_user.h — one model with every field type, for the unit tests. */
#ifndef KURA_T_USER_H
#define KURA_T_USER_H

#include <kura/model.h>

typedef struct t_user {
    kura_base base;
    char name[KURA_STRING_BYTES(128)];
    char email[KURA_STRING_BYTES(128)];
    int32_t age;
    char sex[KURA_STRING_BYTES(1)];
    int64_t score;
    double ratio;
    bool active;
    char *bio;
    kura_time born;
    char nick[KURA_STRING_BYTES(8)];
} t_user;

/* static: each test program gets its own copy; every program uses it. */
static const kura_model t_user_model =
    KURA_MODEL(t_user, "t_user", KURA_STRING(t_user, name, 128, .required = true),
               KURA_EMAIL(t_user, email, 128, .required = true),
               KURA_INT32(t_user, age, .index = true, .has_range = true, .min = 0, .max = 150),
               KURA_STRING(t_user, sex, 1, .choices = (const char *const[]){"M", "F", NULL}),
               KURA_INT64(t_user, score, .has_default = true, .default_int = 10),
               KURA_DOUBLE(t_user, ratio, .has_range = true, .min = 0, .max = 1),
               KURA_BOOL(t_user, active, .has_default = true, .default_int = 1),
               KURA_TEXT(t_user, bio, .has_default = true, .default_string = "hello"),
               KURA_DATETIME(t_user, born), KURA_STRING(t_user, nick, 8));

#endif
