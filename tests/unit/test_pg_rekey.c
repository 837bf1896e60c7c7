/*
 * test_pg_rekey.c — a table dropped and made again with another key kind, in the
 * same store: the store's connections must not run statements they prepared for
 * the old table. PostgreSQL fixes a prepared statement's parameter types when it
 * prepares it; the statement cache is keyed by SQL text, and "get by key" reads
 * the same for an int64 and a uuid key ("invalid input syntax for type bigint").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "pg_env.h"

typedef struct rekeyed {
    kura_base base;
    char title[KURA_STRING_BYTES(32)];
} rekeyed;

static const kura_model by_int =
    KURA_MODEL_EX(rekeyed, "pg_rekeyed", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(rekeyed, title, 32));
static const kura_model by_uuid =
    KURA_MODEL_EX(rekeyed, "pg_rekeyed", KURA_KEY_UUID, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(rekeyed, title, 32));

/* Makes the table for m, writes a row and reads it back (which caches the
 * statements on the connection), all through the one store. */
static void round_trip(kura_store *s, const kura_model *m)
{
    kura_error err = {0};
    if (!kura_create(s, m, &err))
        fail_msg("create: %s", err.message);
    rekeyed r, back;
    kura_init(m, &r);
    kura_copy_string(r.title, sizeof r.title, "row");
    if (!kura_insert(s, m, &r, &err))
        fail_msg("insert: %s", err.message);
    char key[KURA_KEY_BYTES];
    kura_key_text(m, &r, key);
    kura_init(m, &back);
    if (!kura_get_key(s, m, key, &back, &err))
        fail_msg("get %s: %s", key, err.message);
    assert_string_equal(back.title, "row");
    kura_clear(m, &back);
    kura_clear(m, &r);
}

static void test_rekeyed_table(void **state)
{
    (void)state;
    const char *url = pg_test_url();
    if (!url) {
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set");
        return;
    }
    kura_error err = {0};
    kura_store *s = kura_store_open(url, &err);
    assert_non_null(s);
    kura_drop(s, &by_int, &err);
    for (int round = 0; round < 2; round++) {
        round_trip(s, &by_int);
        assert_true(kura_drop(s, &by_int, &err));
        round_trip(s, &by_uuid);
        assert_true(kura_drop(s, &by_uuid, &err));
    }
    kura_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rekeyed_table)};
    return cmocka_run_group_tests_name("postgresql: a table made again with another key", tests,
                                       NULL, NULL);
}
