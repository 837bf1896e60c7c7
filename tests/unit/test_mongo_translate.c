/*
 * test_mongo_translate.c — the MongoDB driver's translations, without a server:
 * model -> document, document -> model, query -> filter and sort, compared with
 * expected canonical extended JSON (key order included: it matters for sorts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "document/mongo_private.h"

typedef struct t_doc {
    kura_base base;
    char name[KURA_STRING_BYTES(16)];
    int32_t age;
    int64_t score;
    double ratio;
    bool active;
    char *bio;
    kura_time seen;
} t_doc;

static const kura_model doc_model =
    KURA_MODEL(t_doc, "t_doc", KURA_STRING(t_doc, name, 16), KURA_INT32(t_doc, age, .index = true),
               KURA_INT64(t_doc, score), KURA_DOUBLE(t_doc, ratio), KURA_BOOL(t_doc, active),
               KURA_TEXT(t_doc, bio), KURA_DATETIME(t_doc, seen));

/* Canonical extended JSON of b, re-dumped compactly in key order. */
static char *ejson(const bson_t *b)
{
    char *raw = bson_as_canonical_extended_json(b, NULL);
    assert_non_null(raw);
    json_error_t e;
    json_t *j = json_loads(raw, 0, &e);
    bson_free(raw);
    assert_non_null(j);
    char *out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return out;
}

/* expected is written with single quotes for readability. */
static void assert_ejson(const bson_t *b, const char *expected)
{
    char *want = strdup(expected);
    for (char *c = want; *c; c++)
        if (*c == '\'')
            *c = '"';
    json_error_t e;
    json_t *j = json_loads(want, 0, &e);
    if (!j)
        fail_msg("bad expected JSON %s: %s", want, e.text);
    char *norm = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    char *got = ejson(b);
    if (strcmp(got, norm) != 0)
        fail_msg("\n got: %s\nwant: %s", got, norm);
    free(got);
    free(norm);
    free(want);
}

static void assert_filter(const kura_query *q, const char *expected)
{
    bson_t f = BSON_INITIALIZER;
    kura_error err = {0};
    if (!kura_mongo_filter(q, &f, &err))
        fail_msg("filter failed: %s", err.message);
    assert_ejson(&f, expected);
    bson_destroy(&f);
}

static void make(t_doc *d)
{
    kura_init(&doc_model, d);
    d->base.id = 7;
    d->base.created_at = 1700000000123000LL; /* 2023-11-14T22:13:20.123Z */
    d->base.updated_at = 1700000000456789LL; /* .456789: stored as .456 */
    snprintf(d->name, sizeof d->name, "山田");
    d->age = 30;
    d->score = 5000000000LL;
    d->ratio = 0.5;
    d->active = true;
    d->seen = -1500; /* 1969: floor, not truncation toward zero */
}

static void test_model_to_document(void **state)
{
    (void)state;
    t_doc d;
    make(&d);
    kura_set_null(&doc_model, &d, kura_field_named(&doc_model, "bio"), true);
    bson_t b = BSON_INITIALIZER;
    assert_true(kura_mongo_from_model(&doc_model, &d, false, &b, NULL));
    assert_ejson(&b, "{'_id':{'$numberLong':'7'},'name':'山田','age':{'$numberInt':'30'},"
                     "'score':{'$numberLong':'5000000000'},'ratio':{'$numberDouble':'0.5'},"
                     "'active':true,'bio':null,"
                     "'seen':{'$date':{'$numberLong':'-2'}},"
                     "'created_at':{'$date':{'$numberLong':'1700000000123'}},"
                     "'updated_at':{'$date':{'$numberLong':'1700000000456'}}}");
    bson_destroy(&b);

    /* The body of an update's $set: no _id, no created_at (it never changes). */
    bson_init(&b);
    assert_true(kura_mongo_from_model(&doc_model, &d, true, &b, NULL));
    assert_ejson(&b, "{'name':'山田','age':{'$numberInt':'30'},"
                     "'score':{'$numberLong':'5000000000'},'ratio':{'$numberDouble':'0.5'},"
                     "'active':true,'bio':null,'seen':{'$date':{'$numberLong':'-2'}},"
                     "'updated_at':{'$date':{'$numberLong':'1700000000456'}}}");
    bson_destroy(&b);
    kura_clear(&doc_model, &d);
}

static void test_document_to_model(void **state)
{
    (void)state;
    /* Written by another program: an unknown key, a missing field, int32 for int64. */
    bson_t *b = bson_new_from_json(
        (const uint8_t *)"{\"_id\":{\"$numberInt\":\"3\"},\"name\":\"ann\","
                         "\"score\":{\"$numberInt\":\"12\"},\"extra\":{\"nested\":[1,2]},"
                         "\"bio\":\"text\",\"created_at\":{\"$date\":{\"$numberLong\":\"1000\"}}}",
        -1, NULL);
    assert_non_null(b);
    t_doc d;
    memset(&d, 0, sizeof d);
    kura_error err = {0};
    assert_true(kura_mongo_to_model(&doc_model, b, &d, &err));
    assert_int_equal(d.base.id, 3);
    assert_string_equal(d.name, "ann");
    assert_int_equal(d.score, 12);
    assert_string_equal(d.bio, "text");
    assert_int_equal(d.base.created_at, 1000000);
    assert_true(kura_is_null(&doc_model, &d, kura_field_named(&doc_model, "age")));
    assert_false(kura_is_null(&doc_model, &d, kura_field_named(&doc_model, "name")));
    kura_clear(&doc_model, &d);
    bson_destroy(b);

    /* A value of the wrong type is a misfit naming the field, the key already read. */
    b = bson_new_from_json((const uint8_t *)"{\"_id\":1,\"age\":\"thirty\"}", -1, NULL);
    memset(&d, 0, sizeof d);
    assert_false(kura_mongo_to_model(&doc_model, b, &d, &err));
    assert_int_equal(err.code, KURA_MISFIT);
    assert_string_equal(err.field, "age");
    assert_int_equal(d.base.id, 1);
    kura_clear(&doc_model, &d);
    bson_destroy(b);
}

static void test_comparisons(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&doc_model);
    assert_filter(&q, "{}");
    kura_where_int(&q, "age", KURA_EQ, 30);
    assert_filter(&q, "{'age':{'$eq':{'$numberInt':'30'}}}");
    kura_where_int(&q, "score", KURA_GE, 5);
    kura_where_double(&q, "ratio", KURA_LT, 1.5);
    kura_where_bool(&q, "active", KURA_EQ, true);
    kura_where_int(&q, "id", KURA_LE, 9);
    assert_filter(&q, "{'$and':[{'age':{'$eq':{'$numberInt':'30'}}},"
                      "{'score':{'$gte':{'$numberLong':'5'}}},"
                      "{'ratio':{'$lt':{'$numberDouble':'1.5'}}},{'active':{'$eq':true}},"
                      "{'_id':{'$lte':{'$numberLong':'9'}}}]}");

    /* NE as SQL's <>: a NULL or missing field does not match. */
    q = kura_query_for(&doc_model);
    kura_where_str(&q, "name", KURA_NE, "x");
    assert_filter(&q, "{'name':{'$nin':['x',null]}}");
}

static void test_in_null(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&doc_model);
    int64_t ages[] = {1, 2};
    kura_where_in_int(&q, "age", ages, 2);
    assert_filter(&q, "{'age':{'$in':[{'$numberInt':'1'},{'$numberInt':'2'}]}}");
    q = kura_query_for(&doc_model);
    kura_where_in_int(&q, "age", ages, 0);
    assert_filter(&q, "{'age':{'$in':[]}}");
    q = kura_query_for(&doc_model);
    kura_where_null(&q, "bio", true);
    kura_where_null(&q, "name", false);
    assert_filter(&q, "{'$and':[{'bio':{'$eq':null}},{'name':{'$ne':null}}]}");
}

static void test_prefix_and_like(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&doc_model);
    kura_where_str(&q, "name", KURA_PREFIX, "a.b*(x)$");
    assert_filter(
        &q, "{'name':{'$regex':{'$regularExpression':{'pattern':'^a\\\\.b\\\\*\\\\(x\\\\)\\\\$',"
            "'options':''}}}}");
    q = kura_query_for(&doc_model);
    kura_where_str(&q, "name", KURA_LIKE, "a_b%c\\%d.");
    assert_filter(&q, "{'name':{'$regex':{'$regularExpression':{'pattern':'^a.b.*c%d\\\\.$',"
                      "'options':'s'}}}}");
}

static void test_groups(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&doc_model);
    kura_where_int(&q, "age", KURA_LT, 5);
    kura_any_begin(&q);
    kura_where_str(&q, "name", KURA_EQ, "a");
    kura_where_bool(&q, "active", KURA_EQ, true);
    kura_group_end(&q);
    kura_not_begin(&q);
    kura_where_int(&q, "age", KURA_EQ, 0);
    kura_group_end(&q);
    assert_filter(&q, "{'$and':[{'age':{'$lt':{'$numberInt':'5'}}},"
                      "{'$or':[{'name':{'$eq':'a'}},{'active':{'$eq':true}}]},"
                      "{'$nor':[{'$and':[{'age':{'$eq':{'$numberInt':'0'}}}]}]}]}");
    q = kura_query_for(&doc_model);
    kura_all_begin(&q);
    kura_group_end(&q);
    assert_filter(&q, "{}");
    q = kura_query_for(&doc_model);
    kura_any_begin(&q);
    kura_group_end(&q);
    assert_filter(&q, "{'_id':{'$in':[]}}");
}

static void test_datetimes_are_exact(void **state)
{
    (void)state;
    kura_time t = 1700000000000500LL; /* half a millisecond past ...000 ms */
    const struct {
        kura_op op;
        const char *want;
    } cases[] = {
        {KURA_GT, "{'seen':{'$gt':{'$date':{'$numberLong':'1700000000000'}}}}"},
        {KURA_LE, "{'seen':{'$lte':{'$date':{'$numberLong':'1700000000000'}}}}"},
        {KURA_GE, "{'seen':{'$gte':{'$date':{'$numberLong':'1700000000001'}}}}"},
        {KURA_LT, "{'seen':{'$lt':{'$date':{'$numberLong':'1700000000001'}}}}"},
        {KURA_EQ, "{'_id':{'$in':[]}}"},
        {KURA_NE, "{'seen':{'$ne':null}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kura_query q = kura_query_for(&doc_model);
        kura_where_time(&q, "seen", cases[i].op, t);
        assert_filter(&q, cases[i].want);
    }
    kura_query q = kura_query_for(&doc_model);
    kura_where_time(&q, "created_at", KURA_EQ, 1700000000001000LL);
    assert_filter(&q, "{'created_at':{'$eq':{'$date':{'$numberLong':'1700000000001'}}}}");
}

static void test_sort(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&doc_model);
    kura_order_by(&q, "age", true);
    kura_order_by(&q, "name", false);
    bson_t s = BSON_INITIALIZER;
    kura_mongo_sort(&q, &s);
    assert_ejson(&s, "{'age':{'$numberInt':'-1'},'name':{'$numberInt':'1'},"
                     "'_id':{'$numberInt':'1'}}");
    bson_destroy(&s);
    q = kura_query_for(&doc_model);
    kura_order_by(&q, "id", true);
    bson_init(&s);
    kura_mongo_sort(&q, &s);
    assert_ejson(&s, "{'_id':{'$numberInt':'-1'}}");
    bson_destroy(&s);
}

static void test_bulk_set(void **state)
{
    (void)state;
    kura_assign set[] = {{"age", KURA_VINT(3)}, {"ratio", KURA_VINT(2)}, {"bio", KURA_VNULL}};
    bson_t b = BSON_INITIALIZER;
    assert_true(kura_mongo_from_assign(&doc_model, set, 3, 2000, &b, NULL));
    assert_ejson(&b, "{'age':{'$numberInt':'3'},'ratio':{'$numberDouble':'2.0'},'bio':null,"
                     "'updated_at':{'$date':{'$numberLong':'2'}}}");
    bson_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_to_document),
        cmocka_unit_test(test_document_to_model),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_in_null),
        cmocka_unit_test(test_prefix_and_like),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_datetimes_are_exact),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_bulk_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
