/*
 * main.c — the guide's app, translated: open the app, create the table, save
 * users, fetch_30_age, change_sex, and refuse a bad e-mail.
 *
 *   seed_example [DATABASE_URL]     (default: KURA_DATABASE_URL, then sqlite:///kura.db)
 */
#include <stdio.h>
#include <string.h>

#include "sa_user.h"

static int fail(const char *what, const kura_error *err)
{
    fprintf(stderr, "seed_example: %s: %s\n", what, err->message);
    return 1;
}

int main(int argc, char **argv)
{
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    if (!cfg || !kura_config_load_env(cfg, &err) ||
        (argc > 1 && !kura_config_set(cfg, "database_url", argv[1], &err)))
        return fail("configuration", &err);
    kura_app *app = kura_app_open(cfg, &err); /* the guide's app = Flask(__name__); sa = ... */
    kura_config_free(cfg);
    if (!app)
        return fail("open", &err);
    kura_app *previous = kura_app_enter(app); /* current_app from here on */
    kura_store *db = kura_app_db(kura_current_app());

    if (!kura_create(db, &sa_user_model, &err)) /* sa.create_all() */
        return fail("create", &err);

    sa_user alice, bob;
    kura_init(&sa_user_model, &alice);
    kura_copy_string(alice.name, sizeof alice.name, "alice");
    kura_copy_string(alice.email, sizeof alice.email, "alice@example.com");
    alice.age = 30;
    sa_user_change_sex(&alice, "F");
    kura_init(&sa_user_model, &bob);
    kura_copy_string(bob.name, sizeof bob.name, "bob");
    kura_copy_string(bob.email, sizeof bob.email, "bob@example.com");
    bob.age = 41;
    sa_user_change_sex(&bob, "M");
    if (!kura_save(db, &sa_user_model, &alice, &err) || !kura_save(db, &sa_user_model, &bob, &err))
        return fail("save", &err);

    kura_rows thirty = {0};
    if (!sa_user_fetch_30_age(db, &thirty, &err))
        return fail("fetch_30_age", &err);
    int found_alice = 0;
    for (size_t i = 0; i < thirty.count; i++) {
        const sa_user *u = kura_row(&thirty, i);
        printf("age 30: %lld %s <%s> %s\n", (long long)u->base.id, u->name, u->email, u->sex);
        found_alice += u->base.id == alice.base.id;
    }
    kura_rows_free(&thirty);
    if (!found_alice) {
        fprintf(stderr, "seed_example: alice is not among the 30-year-olds\n");
        return 1;
    }

    kura_time before = alice.base.updated_at;
    sa_user_change_sex(&alice, "M");
    if (!kura_save(db, &sa_user_model, &alice, &err))
        return fail("change_sex", &err);
    sa_user again;
    if (!kura_get(db, &sa_user_model, alice.base.id, &again, &err))
        return fail("get", &err);
    printf("change_sex: %s is now %s, updated_at moved: %s\n", again.name, again.sex,
           again.base.updated_at > before ? "yes" : "no");
    if (strcmp(again.sex, "M") != 0 || again.base.updated_at <= before)
        return 1;

    /* MEUser's EmailField: a bad address is refused, nothing is written. */
    sa_user bad;
    kura_init(&sa_user_model, &bad);
    kura_copy_string(bad.name, sizeof bad.name, "mallory");
    kura_copy_string(bad.email, sizeof bad.email, "not-an-address.");
    if (kura_save(db, &sa_user_model, &bad, &err) || err.code != KURA_VALIDATION) {
        fprintf(stderr, "seed_example: a bad e-mail was accepted\n");
        return 1;
    }
    printf("refused: %s (field %s)\n", err.message, err.field);

    kura_app_leave(previous);
    kura_app_close(app);
    return 0;
}
