/* test_query.c — the query builder and its SQL translation: names checked, values bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kura/query.h>

#include "query/to_sql.h"
#include "unit/t_user.h"

/* The WHERE + ORDER text of q with ? placeholders, and its parameters. */
static char sql[2048];
static kura_sql_params params;

static bool render(const kura_query *q, kura_error *err)
{
    char stack[64];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_params_free(&params);
    kura_sql_params_init(&params, false);
    bool ok = kura_sql_where(&b, q, &params, NULL, NULL, err);
    if (ok)
        kura_sql_order_limit(&b, q, false, NULL, NULL);
    snprintf(sql, sizeof sql, "%s", b.data);
    kura_buf_free(&b);
    return ok;
}

static void test_values_are_parameters(void **state)
{
    (void)state;
    const char *evil = "'; DROP TABLE t_user; --";
    kura_query q = kura_query_for(&t_user_model);
    kura_where_str(&q, "name", KURA_EQ, evil);
    kura_where_int(&q, "age", KURA_GE, 30);
    kura_error err = {0};
    assert_true(render(&q, &err));
    assert_string_equal(sql, " WHERE \"name\" = ? AND \"age\" >= ? ORDER BY \"id\" ASC");
    assert_null(strstr(sql, "DROP"));
    assert_int_equal(params.count, 2);
    assert_ptr_equal(params.values[0].as.s, evil);
    assert_int_equal(params.values[1].as.i, 30);
    kura_sql_params_free(&params);
}

static void test_unknown_fields_are_errors(void **state)
{
    (void)state;
    const char *names[] = {"nope", "age; DROP TABLE t_user", "\"age\"", "", "AGE", "name--"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        kura_query q = kura_query_for(&t_user_model);
        kura_where_int(&q, names[i], KURA_EQ, 1);
        const kura_error *e = kura_query_error(&q);
        assert_non_null(e);
        assert_int_equal(e->code, KURA_INVALID);
        kura_error err = {0};
        assert_false(render(&q, &err));
        assert_int_equal(err.code, KURA_INVALID);
    }
    kura_query q = kura_query_for(&t_user_model);
    kura_order_by(&q, "age desc", false);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where_null(&q, NULL, true);
    assert_non_null(kura_query_error(&q));
}

static void test_value_types_are_checked(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_str(&q, "age", KURA_EQ, "30"); /* a string for an integer */
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where_int(&q, "name", KURA_EQ, 1);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where_str(&q, "age", KURA_PREFIX, "3");
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where(&q, "name", KURA_EQ, KURA_VNULL);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where_str(&q, "name", KURA_EQ, NULL);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where_int(&q, "ratio", KURA_LT, 1); /* ints widen to doubles */
    assert_null(kura_query_error(&q));
    assert_int_equal(q.values[0].kind, KURA_VALUE_DOUBLE);
    q = kura_query_for(&t_user_model);
    kura_where(&q, "age", (kura_op)99, KURA_VINT(1));
    assert_non_null(kura_query_error(&q));
}

static void test_first_error_is_kept(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "first_bad", KURA_EQ, 1);
    kura_where_int(&q, "second_bad", KURA_EQ, 1);
    kura_where_int(&q, "age", KURA_EQ, 1);
    assert_non_null(strstr(kura_query_error(&q)->message, "first_bad"));
    assert_int_equal(q.nterms, 0);
}

static void test_groups_render(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "age", KURA_LT, 5);
    kura_any_begin(&q);
    kura_where_str(&q, "sex", KURA_EQ, "M");
    kura_not_begin(&q);
    kura_where_null(&q, "bio", true);
    kura_group_end(&q);
    kura_group_end(&q);
    int64_t in[] = {1, 2};
    kura_where_in_int(&q, "score", in, 2);
    kura_where_in_int(&q, "score", in, 0);
    kura_order_by(&q, "age", true);
    kura_limit(&q, 10);
    kura_offset(&q, 20);
    kura_error err = {0};
    assert_true(render(&q, &err));
    assert_string_equal(
        sql, " WHERE \"age\" < ? AND (\"sex\" = ? OR ((\"bio\" IS NULL) IS NOT TRUE)) AND "
             "\"score\" IN (?, ?) AND 1 = 0 ORDER BY \"age\" DESC, \"id\" ASC "
             "LIMIT 10 OFFSET 20");
    assert_int_equal(params.count, 4);
    kura_sql_params_free(&params);
}

static void test_prefix_escapes_wildcards(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_str(&q, "name", KURA_PREFIX, "50%_off\\");
    kura_error err = {0};
    assert_true(render(&q, &err));
    assert_string_equal(sql, " WHERE \"name\" LIKE ? ESCAPE '\\' ORDER BY \"id\" ASC");
    assert_string_equal(params.values[0].as.s, "50\\%\\_off\\\\%");
    kura_sql_params_free(&params);
}

static void test_unbalanced_groups(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_any_begin(&q);
    assert_non_null(kura_query_error(&q)); /* unclosed */
    q = kura_query_for(&t_user_model);
    kura_group_end(&q);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    for (int i = 0; i < KURA_QUERY_MAX_DEPTH + 1; i++)
        kura_all_begin(&q);
    assert_non_null(kura_query_error(&q));
}

static void test_capacity_is_an_error_not_an_overflow(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    for (int i = 0; i < KURA_QUERY_MAX_TERMS + 5; i++)
        kura_where_int(&q, "age", KURA_EQ, i);
    assert_non_null(kura_query_error(&q));
    assert_int_equal(q.nterms, KURA_QUERY_MAX_TERMS);
    q = kura_query_for(&t_user_model);
    int64_t many[KURA_QUERY_MAX_VALUES + 1] = {0};
    kura_where_in_int(&q, "age", many, KURA_QUERY_MAX_VALUES + 1);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_limit(&q, -1);
    assert_non_null(kura_query_error(&q));
}

/* A NULL list with a length is a building error, as kura_where_in has it, not
 * a read through NULL. */
static void test_null_in_lists_are_errors(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_in_int(&q, "age", NULL, 3);
    assert_non_null(kura_query_error(&q));
    assert_int_equal(kura_query_error(&q)->code, KURA_INVALID);
    q = kura_query_for(&t_user_model);
    kura_where_in_str(&q, "name", NULL, 2);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model);
    kura_where_in(&q, "age", NULL, 1);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&t_user_model); /* an empty list may be NULL: it matches nothing */
    kura_where_in_str(&q, "name", NULL, 0);
    kura_where_in_int(&q, "age", NULL, 0);
    assert_null(kura_query_error(&q));
}

static void test_base_columns(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "id", KURA_GT, 3);
    kura_where_time(&q, "created_at", KURA_LT, 1);
    kura_order_by(&q, "id", true);
    kura_error err = {0};
    assert_true(render(&q, &err));
    assert_string_equal(sql, " WHERE \"id\" > ? AND \"created_at\" < ? ORDER BY \"id\" DESC");
    kura_sql_params_free(&params);
}

/* A model without timestamps: the two names are unknown, unless they are fields. */
typedef struct q_plain {
    kura_base base;
    int32_t n;
    kura_time updated_at; /* a field of its own */
} q_plain;
static const kura_model q_plain_model =
    KURA_MODEL_EX(q_plain, "q_plain", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_INT32(q_plain, n), KURA_DATETIME(q_plain, updated_at));

static void test_no_timestamps_columns(void **state)
{
    (void)state;
    assert_int_equal(kura_column_named(&t_user_model, "created_at"), KURA_COL_CREATED_AT);
    assert_int_equal(kura_column_named(&q_plain_model, "created_at"), KURA_COL_NONE);
    assert_int_equal(kura_column_named(&q_plain_model, "updated_at"), 1);
    assert_int_equal(kura_column_named(&q_plain_model, "id"), KURA_COL_ID);
    assert_int_equal(kura_column_named(&q_plain_model, NULL), KURA_COL_NONE);

    kura_query q = kura_query_for(&q_plain_model);
    kura_where_time(&q, "created_at", KURA_LT, 1);
    const kura_error *e = kura_query_error(&q);
    assert_non_null(e);
    assert_int_equal(e->code, KURA_INVALID);
    assert_string_equal(e->message, "q_plain has no field 'created_at'");
    assert_string_equal(e->field, "created_at"); /* a caller can point at it */
    q = kura_query_for(&q_plain_model);
    kura_order_by(&q, "created_at", false);
    assert_non_null(kura_query_error(&q));

    q = kura_query_for(&q_plain_model);
    kura_where_time(&q, "updated_at", KURA_LT, 1); /* the field */
    kura_order_by(&q, "updated_at", true);
    kura_error err = {0};
    assert_true(render(&q, &err));
    assert_string_equal(sql, " WHERE \"updated_at\" < ? ORDER BY \"updated_at\" DESC, \"id\" ASC");
    kura_sql_params_free(&params);
}

static void test_dollar_placeholders(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&t_user_model);
    kura_where_int(&q, "age", KURA_EQ, 1);
    kura_where_str(&q, "name", KURA_EQ, "x");
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_params p;
    kura_sql_params_init(&p, true);
    kura_error err = {0};
    assert_true(kura_sql_where(&b, &q, &p, NULL, NULL, &err));
    assert_string_equal(b.data, " WHERE \"age\" = $1 AND \"name\" = $2");
    kura_sql_params_free(&p);
    kura_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_are_parameters),
        cmocka_unit_test(test_unknown_fields_are_errors),
        cmocka_unit_test(test_value_types_are_checked),
        cmocka_unit_test(test_first_error_is_kept),
        cmocka_unit_test(test_groups_render),
        cmocka_unit_test(test_prefix_escapes_wildcards),
        cmocka_unit_test(test_unbalanced_groups),
        cmocka_unit_test(test_capacity_is_an_error_not_an_overflow),
        cmocka_unit_test(test_null_in_lists_are_errors),
        cmocka_unit_test(test_base_columns),
        cmocka_unit_test(test_no_timestamps_columns),
        cmocka_unit_test(test_dollar_placeholders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
