/* me_user.c — MEUser: SAUser's descriptors, a field named id, an ObjectId key. */
#include "me_user.h"

#include <pthread.h>
#include <stddef.h>

/* SAUser's descriptors point into me_user only if the shared members sit
 * where they sit in sa_user. */
#define SAME_PLACE(m) _Static_assert(offsetof(me_user, m) == offsetof(sa_user, m), #m " moved")
SAME_PLACE(name);
SAME_PLACE(email);
SAME_PLACE(age);
SAME_PLACE(sex);

static kura_field fields[5];
static char collection[16];
static kura_model model;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    static const kura_field id = KURA_STRING(me_user, id, ME_USER_ID_CHARS);
    _Static_assert(sizeof fields / sizeof fields[0] == 5, "SAUser's four fields and id");
    for (size_t i = 0; i < sa_user_model.nfields && i < 4; i++)
        fields[i] = sa_user_model.fields[i];
    fields[4] = id;
    kura_mongoengine_collection("MEUser", collection, sizeof collection);
    model = sa_user_model;
    model.name = collection;
    model.size = sizeof(me_user);
    model.fields = fields;
    model.nfields = 5;
    model.key = KURA_KEY_OBJECTID;
}

const kura_model *me_user_model(void)
{
    pthread_once(&once, build);
    return &model;
}

bool me_user_fetch_30_age(kura_store *docs, kura_rows *out, kura_error *err)
{
    kura_query q = kura_query_for(me_user_model());
    kura_where_int(&q, "age", KURA_EQ, 30);
    return kura_find(docs, &q, out, err);
}

void me_user_change_sex(me_user *u, const char *sex)
{
    kura_copy_string(u->sex, sizeof u->sex, sex ? sex : "");
}
