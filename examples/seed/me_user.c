/* me_user.c — MEUser: SAUser's descriptor under another collection name. */
#include "me_user.h"

#include <pthread.h>

static kura_model model;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A copy of the descriptor, not a second declaration: the fields, their
 * bounds, the e-mail rule and the index are SAUser's own. */
static void build(void)
{
    model = sa_user_model;
    model.name = "me_user";
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
    sa_user_change_sex(u, sex);
}
