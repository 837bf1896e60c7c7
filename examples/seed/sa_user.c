/* sa_user.c — the guide's SAUser: one descriptor, one finder, one mutator. */
#include "sa_user.h"

static const char *const sexes[] = {"M", "F", NULL};

const kura_model sa_user_model = KURA_MODEL(
    sa_user, "sa_user", KURA_STRING(sa_user, name, 128), KURA_EMAIL(sa_user, email, 128),
    KURA_INT32(sa_user, age, .index = true), KURA_STRING(sa_user, sex, 1, .choices = sexes));

bool sa_user_fetch_30_age(kura_store *db, kura_rows *out, kura_error *err)
{
    kura_query q = kura_query_for(&sa_user_model);
    kura_where_int(&q, "age", KURA_EQ, 30);
    return kura_find(db, &q, out, err);
}

void sa_user_change_sex(sa_user *u, const char *sex)
{
    kura_copy_string(u->sex, sizeof u->sex, sex ? sex : "");
}
