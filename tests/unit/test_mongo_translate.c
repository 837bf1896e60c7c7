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

/* ---- uuid, objectid, date, decimal, json (issue 9) ---------------------------------- */

typedef struct t_new {
    kura_base base;
    char uid[KURA_UUID_BYTES];
    char oid[KURA_OBJECTID_BYTES];
    char day[KURA_DATE_BYTES];
    char price[KURA_DECIMAL_BYTES(10)];
    char *meta;
} t_new;

static const kura_model new_model =
    KURA_MODEL(t_new, "t_new", KURA_UUID(t_new, uid), KURA_OBJECTID(t_new, oid),
               KURA_DATE(t_new, day), KURA_DECIMAL(t_new, price, 10, 2), KURA_JSON(t_new, meta));

static void test_new_types_to_document(void **state)
{
    (void)state;
    t_new d;
    kura_init(&new_model, &d);
    d.base.id = 1;
    snprintf(d.uid, sizeof d.uid, "00112233-4455-6677-8899-aabbccddeeff");
    snprintf(d.oid, sizeof d.oid, "65a1b2c3d4e5f6a7b8c9d0e1");
    snprintf(d.day, sizeof d.day, "1969-12-31");
    snprintf(d.price, sizeof d.price, "-12.50");
    assert_true(kura_set_text(&d.meta, "{\"a\":[1,5000000000,2.5,\"x\",null,true],\"b\":{}}"));
    bson_t b = BSON_INITIALIZER;
    assert_true(kura_mongo_from_model(&new_model, &d, true, &b, NULL));
    /* UUID: binary subtype 4; a real ObjectId; the date at midnight UTC; Decimal128;
     * the JSON value as a subdocument, integers as int32 or int64 by size. */
    assert_ejson(&b, "{'uid':{'$binary':{'base64':'ABEiM0RVZneImaq7zN3u/w==','subType':'04'}},"
                     "'oid':{'$oid':'65a1b2c3d4e5f6a7b8c9d0e1'},"
                     "'day':{'$date':{'$numberLong':'-86400000'}},"
                     "'price':{'$numberDecimal':'-12.50'},"
                     "'meta':{'a':[{'$numberInt':'1'},{'$numberLong':'5000000000'},"
                     "{'$numberDouble':'2.5'},'x',null,true],'b':{}},"
                     "'updated_at':null}");

    /* And back, the same values. */
    t_new out;
    kura_init(&new_model, &out);
    bson_append_int64(&b, "_id", -1, 1);
    kura_error err = {0};
    if (!kura_mongo_to_model(&new_model, &b, &out, &err))
        fail_msg("to_model: %s", err.message);
    assert_string_equal(out.uid, d.uid);
    assert_string_equal(out.oid, d.oid);
    assert_string_equal(out.day, "1969-12-31");
    assert_string_equal(out.price, "-12.50");
    assert_string_equal(out.meta, "{\"a\":[1,5000000000,2.5,\"x\",null,true],\"b\":{}}");
    assert_int_equal(out.base.nulls, 0);
    bson_destroy(&b);
    kura_clear(&new_model, &out);

    /* Empty values are NULL. */
    kura_clear(&new_model, &d);
    kura_init(&new_model, &d);
    bson_init(&b);
    assert_true(kura_mongo_from_model(&new_model, &d, true, &b, NULL));
    assert_ejson(&b, "{'uid':null,'oid':null,'day':null,'price':null,'meta':null,"
                     "'updated_at':null}");
    bson_destroy(&b);
}

static void test_new_types_from_other_programs(void **state)
{
    (void)state;
    /* What another program may have written: a Decimal128 with an exponent or an
     * integer, ids and dates as strings. */
    bson_t *b = bson_new_from_json(
        (const uint8_t *)"{\"_id\":{\"$numberLong\":\"3\"},"
                         "\"uid\":\"00112233445566778899AABBCCDDEEFF\","
                         "\"oid\":\"65A1B2C3D4E5F6A7B8C9D0E1\",\"day\":\"2024-02-29\","
                         "\"price\":{\"$numberDecimal\":\"1.5E+3\"},\"meta\":\"text\"}",
        -1, NULL);
    assert_non_null(b);
    t_new out;
    kura_init(&new_model, &out);
    kura_error err = {0};
    if (!kura_mongo_to_model(&new_model, b, &out, &err))
        fail_msg("to_model: %s", err.message);
    assert_string_equal(out.uid, "00112233-4455-6677-8899-aabbccddeeff");
    assert_string_equal(out.oid, "65a1b2c3d4e5f6a7b8c9d0e1");
    assert_string_equal(out.day, "2024-02-29");
    assert_string_equal(out.price, "1500.00");
    assert_string_equal(out.meta, "\"text\"");
    bson_destroy(b);
    kura_clear(&new_model, &out);

    /* A decimal that does not fit, a date not at midnight: refused, not rounded. */
    b = bson_new_from_json((const uint8_t *)"{\"price\":{\"$numberDecimal\":\"0.001\"}}", -1, NULL);
    kura_init(&new_model, &out);
    assert_false(kura_mongo_to_model(&new_model, b, &out, &err));
    assert_int_equal(err.code, KURA_MISFIT);
    bson_destroy(b);
    b = bson_new_from_json((const uint8_t *)"{\"day\":{\"$date\":{\"$numberLong\":\"1000\"}}}", -1,
                           NULL);
    assert_false(kura_mongo_to_model(&new_model, b, &out, &err));
    assert_int_equal(err.code, KURA_MISFIT);
    bson_destroy(b);
    kura_clear(&new_model, &out);
}

static void test_new_types_filters(void **state)
{
    (void)state;
    kura_query q = kura_query_for(&new_model);
    kura_where_str(&q, "uid", KURA_EQ, "00112233-4455-6677-8899-aabbccddeeff");
    assert_filter(&q, "{'uid':{'$eq':{'$binary':{'base64':'ABEiM0RVZneImaq7zN3u/w==',"
                      "'subType':'04'}}}}");
    q = kura_query_for(&new_model);
    kura_where_str(&q, "oid", KURA_NE, "65a1b2c3d4e5f6a7b8c9d0e1");
    assert_filter(&q, "{'oid':{'$nin':[{'$oid':'65a1b2c3d4e5f6a7b8c9d0e1'},null]}}");
    q = kura_query_for(&new_model);
    kura_where_str(&q, "day", KURA_GE, "1970-01-02");
    assert_filter(&q, "{'day':{'$gte':{'$date':{'$numberLong':'86400000'}}}}");
    q = kura_query_for(&new_model);
    kura_where_str(&q, "price", KURA_GT, "9.50");
    assert_filter(&q, "{'price':{'$gt':{'$numberDecimal':'9.50'}}}");

    kura_assign set[] = {{"meta", KURA_VSTR("[1,{\"k\":null}]")}, {"price", KURA_VSTR("0.10")}};
    bson_t b = BSON_INITIALIZER;
    assert_true(kura_mongo_from_assign(&new_model, set, 2, 0, &b, NULL));
    assert_ejson(&b, "{'meta':[{'$numberInt':'1'},{'k':null}],"
                     "'price':{'$numberDecimal':'0.10'},'updated_at':null}");
    bson_destroy(&b);
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
        cmocka_unit_test(test_new_types_to_document),
        cmocka_unit_test(test_new_types_from_other_programs),
        cmocka_unit_test(test_new_types_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
