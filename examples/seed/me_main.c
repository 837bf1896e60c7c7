/*
 * me_main.c — the guide's MEUser, stored as documents: save users, fetch the
 * 30-year-olds, change_sex, and refuse a bad e-mail with a clear error while
 * writing nothing.
 *
 *   me_user_example [DOCUMENT_URL]   (default: KURA_DOCUMENT_URL, then the app's database file)
 */
#include <stdio.h>
#include <string.h>

#include "me_user.h"

static int fail(const char *what, const kura_error *err)
{
    fprintf(stderr, "me_user_example: %s: %s\n", what, err->message);
    return 1;
}

static int64_t count_users(kura_store *docs, const kura_model *m, kura_error *err)
{
    kura_query q = kura_query_for(m);
    int64_t n = -1;
    if (!kura_count(docs, &q, &n, err))
        return -1;
    return n;
}

int main(int argc, char **argv)
{
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    if (!cfg || !kura_config_load_env(cfg, &err) ||
        (argc > 1 && !kura_config_set(cfg, "document_url", argv[1], &err)) ||
        (argc > 1 && !kura_config_get(cfg, "database_url") &&
         !kura_config_set(cfg, "database_url", "sqlite://:memory:", &err)))
        return fail("configuration", &err);
    kura_app *app = kura_app_open(cfg, &err); /* the guide's mongo = MongoEngine(app) */
    kura_config_free(cfg);
    if (!app)
        return fail("open", &err);
    kura_app *previous = kura_app_enter(app);
    kura_store *docs = kura_app_documents(kura_current_app());
    const kura_model *m = me_user_model();
    printf("document store: %s\n", kura_store_driver(docs));

    /* Not needed (the first use of a model creates its collection and the
     * index on age), but a deployment does it once, in `kura migrate`. */
    if (!kura_create(docs, m, &err))
        return fail("create", &err);

    me_user alice, bob;
    kura_init(m, &alice);
    kura_copy_string(alice.name, sizeof alice.name, "alice");
    kura_copy_string(alice.email, sizeof alice.email, "alice@example.com");
    alice.age = 30;
    me_user_change_sex(&alice, "F");
    kura_init(m, &bob);
    kura_copy_string(bob.name, sizeof bob.name, "bob");
    kura_copy_string(bob.email, sizeof bob.email, "bob@example.com");
    bob.age = 41;
    me_user_change_sex(&bob, "M");
    if (!kura_save(docs, m, &alice, &err) || !kura_save(docs, m, &bob, &err))
        return fail("save", &err);

    kura_rows thirty = {0};
    if (!me_user_fetch_30_age(docs, &thirty, &err))
        return fail("fetch_30_age", &err);
    int found_alice = 0;
    for (size_t i = 0; i < thirty.count; i++) {
        const me_user *u = kura_row(&thirty, i);
        printf("age 30: _id %s %s <%s> %s\n", u->base.key, u->name, u->email, u->sex);
        found_alice += strcmp(u->base.key, alice.base.key) == 0;
    }
    kura_rows_free(&thirty);
    if (!found_alice) {
        fprintf(stderr, "me_user_example: alice is not among the 30-year-olds\n");
        return 1;
    }

    kura_time before = alice.base.updated_at;
    me_user_change_sex(&alice, "M");
    if (!kura_save(docs, m, &alice, &err))
        return fail("change_sex", &err);
    me_user again;
    if (!kura_get_key(docs, m, alice.base.key, &again, &err))
        return fail("get", &err);
    printf("change_sex: %s is now %s, updated_at moved: %s\n", again.name, again.sex,
           again.base.updated_at > before ? "yes" : "no");
    if (strcmp(again.sex, "M") != 0 || again.base.updated_at <= before)
        return 1;

    /* MEUser's EmailField: a bad address is refused, and nothing is written. */
    int64_t n_before = count_users(docs, m, &err);
    me_user bad;
    kura_init(m, &bad);
    kura_copy_string(bad.name, sizeof bad.name, "mallory");
    kura_copy_string(bad.email, sizeof bad.email, "not-an-address.");
    bad.age = 30;
    if (kura_save(docs, m, &bad, &err) || err.code != KURA_VALIDATION ||
        strcmp(err.field, "email") != 0) {
        fprintf(stderr, "me_user_example: a bad e-mail was accepted\n");
        return 1;
    }
    printf("refused: %s (field %s)\n", err.message, err.field);
    kura_error cerr = {0};
    int64_t n_after = count_users(docs, m, &cerr);
    if (n_before < 0 || n_after != n_before || bad.base.key[0] != '\0') {
        fprintf(stderr, "me_user_example: the refused user was written\n");
        return 1;
    }
    printf("documents: %lld before and after the refused save\n", (long long)n_after);

    kura_app_leave(previous);
    kura_app_close(app);
    return 0;
}
