/*
 * test_types.c — the field types added by issue 9 (uuid, objectid, date, decimal,
 * json), without a store: names, validation both ways, canonical forms, the JSON
 * codec and what the query builder takes. The stores are checked by the
 * conformance suites.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kura/json.h>
#include <kura/kura.h>

typedef struct t_new {
    kura_base base;
    char uid[KURA_UUID_BYTES];
    char oid[KURA_OBJECTID_BYTES];
    char day[KURA_DATE_BYTES];
    char price[KURA_DECIMAL_BYTES(6)];
    char *meta;
    char *must;
} t_new;

static const kura_model new_model = KURA_MODEL(
    t_new, "t_new", KURA_UUID(t_new, uid), KURA_OBJECTID(t_new, oid), KURA_DATE(t_new, day),
    KURA_DECIMAL(t_new, price, 6, 2, .has_default = true, .default_string = "1.5"),
    KURA_JSON(t_new, meta),
    KURA_JSON(t_new, must, .required = true, .has_default = true, .default_string = "{}"));

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"int32",    "int64", "double",   "bool", "string",
                                        "text",     "email", "datetime", "tags", "uuid",
                                        "objectid", "date",  "decimal",  "json"};
    assert_int_equal(sizeof names / sizeof names[0], KURA_TYPE_COUNT);
    for (int t = 0; t < KURA_TYPE_COUNT; t++) {
        assert_string_equal(kura_type_name((kura_type)t), names[t]);
        kura_type back = KURA_TYPE_INT32;
        assert_true(kura_type_from_name(names[t], &back));
        assert_int_equal(back, t);
    }
    kura_type untouched = KURA_TYPE_TEXT;
    assert_false(kura_type_from_name("UUID", &untouched)); /* exact, lowercase */
    assert_false(kura_type_from_name("varchar", &untouched));
    assert_false(kura_type_from_name(NULL, &untouched));
    assert_int_equal(untouched, KURA_TYPE_TEXT);
    assert_null(kura_type_name((kura_type)KURA_TYPE_COUNT));
}

static void valid(t_new *t)
{
    kura_init(&new_model, t);
    strcpy(t->uid, "123e4567-e89b-42d3-a456-426614174000");
    strcpy(t->oid, "65a1b2c3d4e5f6a7b8c9d0e1");
    strcpy(t->day, "2024-02-29");
    strcpy(t->price, "-1234.56");
    assert_true(kura_set_text(&t->meta, "[1, \"two\", {\"three\": null}]"));
}

/* Sets member `field` of a valid value to text and returns kura_validate's verdict. */
static bool accepts(const char *field, const char *text, kura_error *err)
{
    t_new t;
    valid(&t);
    const kura_field *f = kura_field_named(&new_model, field);
    if (f->type == KURA_TYPE_JSON)
        assert_true(kura_set_text((char **)((char *)&t + f->offset), text));
    else
        snprintf((char *)&t + f->offset, f->size, "%s", text);
    bool ok = kura_validate(&new_model, &t, err);
    kura_clear(&new_model, &t);
    return ok;
}

static void test_validation_both_ways(void **state)
{
    (void)state;
    static const struct {
        const char *field, *text;
        bool ok;
    } cases[] = {
        {"uid", "00000000-0000-0000-0000-000000000000", true},
        {"uid", "", true},                                      /* no value: NULL */
        {"uid", "123E4567-E89B-42D3-A456-426614174000", false}, /* capitals: not canonical */
        {"uid", "123e4567e89b42d3a456426614174000", false},     /* no dashes: not canonical */
        {"uid", "123e4567-e89b-42d3-a456-42661417400g", false},
        {"uid", "123e4567-e89b-42d3-a456_426614174000", false},
        {"oid", "ffffffffffffffffffffffff", true},
        {"oid", "65a1b2c3d4e5f6a7b8c9d0e", false},
        {"oid", "65A1B2C3D4E5F6A7B8C9D0E1", false},
        {"day", "0001-01-01", true},
        {"day", "9999-12-31", true},
        {"day", "2000-02-29", true},
        {"day", "1900-02-29", false},
        {"day", "2024-13-01", false},
        {"day", "2024-1-01", false},
        {"day", "0000-01-01", false},
        {"price", "9999.99", true},
        {"price", "-0.01", true},
        {"price", "0.00", true},
        {"price", "10000.00", false}, /* five digits before the point: precision 6, scale 2 */
        {"price", "1.5", false},      /* a decimal, not canonical ("1.50") */
        {"price", "01.50", false},
        {"price", "-0.00", false},
        {"price", "1.50e0", false},
        {"price", "abc", false},
        {"meta", "{}", true},
        {"meta", "\"a string\"", true},
        {"meta", "42", true},
        {"meta", "null", true}, /* the field's NULL */
        {"meta", "{\"a\":}", false},
        {"meta", "[1,", false},
        {"meta", "{\"a\":1,\"a\":2}", false}, /* a duplicate key: which one counts? */
        {"must", "null", false},              /* required */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kura_error err = {0};
        bool ok = accepts(cases[i].field, cases[i].text, &err);
        if (ok != cases[i].ok)
            fail_msg("%s = '%s': %s (%s)", cases[i].field, cases[i].text,
                     ok ? "accepted" : "refused", err.message);
        if (!ok) {
            assert_int_equal(err.code, KURA_VALIDATION);
            assert_string_equal(err.field, cases[i].field);
        }
    }
    /* The refusal of a non-canonical value says what to write instead. */
    kura_error err = {0};
    assert_false(accepts("price", "1.5", &err));
    assert_non_null(strstr(err.message, "\"1.50\""));
}

static void test_defaults_and_helpers(void **state)
{
    (void)state;
    t_new t;
    kura_init(&new_model, &t);
    assert_string_equal(t.price, "1.50"); /* defaults are canonicalised */
    assert_string_equal(t.must, "{}");
    assert_string_equal(t.uid, "");
    assert_null(t.meta);
    kura_error err = {0};
    assert_true(kura_validate(&new_model, &t, &err));

    char u1[KURA_UUID_BYTES], u2[KURA_UUID_BYTES];
    assert_true(kura_uuid_new(u1));
    assert_true(kura_uuid_new(u2));
    assert_string_not_equal(u1, u2);
    assert_int_equal(strlen(u1), 36);
    assert_int_equal(u1[14], '4');           /* version 4 */
    assert_non_null(strchr("89ab", u1[19])); /* RFC 4122 variant */
    strcpy(t.uid, u1);
    char o1[KURA_OBJECTID_BYTES];
    kura_objectid_new(o1);
    assert_int_equal(strlen(o1), 24);
    strcpy(t.oid, o1);
    assert_true(kura_validate(&new_model, &t, &err));

    static const struct {
        const char *in;
        int p, s;
        const char *out; /* NULL: refused */
    } dec[] = {
        {"1.5", 10, 2, "1.50"},
        {"+1.230", 10, 2, "1.23"},
        {"1.234", 10, 2, NULL},
        {"-0.000", 10, 2, "0.00"},
        {".5", 3, 2, "0.50"},
        {"5.", 3, 0, "5"},
        {"12345678.9", 10, 2, "12345678.90"},
        {"123456789", 10, 2, NULL},
        {"2.5e1", 4, 1, "25.0"},
        {"1E-7", 10, 8, "0.00000010"},
        {"1500E-3", 3, 1, "1.5"},
        {"0.12", 2, 2, "0.12"},
        {"1.2", 2, 2, NULL},
        {"000000000000000000000000000000000000000042", 2, 0, "42"},
        {"99999999999999999999999999999999.99", 34, 2, "99999999999999999999999999999999.99"},
        {"", 10, 2, NULL},
        {"-", 10, 2, NULL},
        {"1e", 10, 2, NULL},
        {"1.5.5", 10, 2, NULL},
        {"0x10", 10, 2, NULL},
        {"1e99999", 10, 2, NULL},
        {" 1", 10, 2, NULL},
    };
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        char out[64];
        bool ok = kura_decimal_canonical(dec[i].in, dec[i].p, dec[i].s, out, sizeof out);
        if (ok != (dec[i].out != NULL) || (ok && strcmp(out, dec[i].out) != 0))
            fail_msg("decimal(%d,%d) '%s' -> %s '%s', expected %s", dec[i].p, dec[i].s, dec[i].in,
                     ok ? "ok" : "refused", out, dec[i].out ? dec[i].out : "refused");
    }
    char small[4];
    assert_false(kura_decimal_canonical("12.50", 10, 2, small, sizeof small));
    assert_string_equal(small, "");
    kura_clear(&new_model, &t);
}

static void test_json_codec(void **state)
{
    (void)state;
    t_new t;
    valid(&t);
    json_t *j = kura_to_json(&new_model, &t);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "uid")), t.uid);
    assert_string_equal(json_string_value(json_object_get(j, "price")), "-1234.56"); /* exact */
    assert_string_equal(json_string_value(json_object_get(j, "day")), "2024-02-29");
    /* A JSON field is a JSON value, not a string holding one. */
    json_t *meta = json_object_get(j, "meta");
    assert_true(json_is_array(meta));
    assert_int_equal(json_array_size(meta), 3);
    assert_true(json_is_object(json_object_get(j, "must")));
    json_decref(j);
    kura_clear(&new_model, &t);

    /* Reading is lenient and canonicalises. */
    kura_init(&new_model, &t);
    kura_error err = {0};
    const char *in = "{\"uid\":\"123E4567E89B42D3A456426614174000\","
                     "\"oid\":\"65A1B2C3D4E5F6A7B8C9D0E1\",\"day\":\"2024-02-29\","
                     "\"price\":\"12e2\",\"meta\":{\"k\":[true,null]},\"must\":\"s\"}";
    if (!kura_from_json_string(&new_model, in, strlen(in), &t, false, &err))
        fail_msg("%s", err.message);
    assert_string_equal(t.uid, "123e4567-e89b-42d3-a456-426614174000");
    assert_string_equal(t.oid, "65a1b2c3d4e5f6a7b8c9d0e1");
    assert_string_equal(t.price, "1200.00");
    assert_string_equal(t.meta, "{\"k\":[true,null]}");
    assert_string_equal(t.must, "\"s\"");
    assert_true(kura_validate(&new_model, &t, &err));

    /* A JSON integer is exact; a JSON number with a fraction went through a double. */
    const char *num = "{\"price\":12}";
    assert_true(kura_from_json_string(&new_model, num, strlen(num), &t, false, &err));
    assert_string_equal(t.price, "12.00");
    num = "{\"price\":12.5}";
    assert_false(kura_from_json_string(&new_model, num, strlen(num), &t, false, &err));
    assert_int_equal(err.code, KURA_VALIDATION);
    assert_string_equal(err.field, "price");
    assert_non_null(strstr(err.message, "string"));
    num = "{\"price\":\"1.005\"}";
    assert_false(kura_from_json_string(&new_model, num, strlen(num), &t, false, &err));
    assert_string_equal(err.field, "price");

    static const char *const bad[] = {"{\"uid\":\"nope\"}",
                                      "{\"uid\":7}",
                                      "{\"oid\":\"123\"}",
                                      "{\"day\":\"2023-02-29\"}",
                                      "{\"day\":\"2024-01-01T00:00:00\"}",
                                      "{\"day\":20240101}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kura_error e = {0};
        if (kura_from_json_string(&new_model, bad[i], strlen(bad[i]), &t, false, &e))
            fail_msg("%s was accepted", bad[i]);
        assert_int_equal(e.code, KURA_VALIDATION);
    }

    /* null: the NULL marker, and the member emptied. */
    const char *nulls = "{\"uid\":null,\"meta\":null}";
    assert_true(kura_from_json_string(&new_model, nulls, strlen(nulls), &t, false, &err));
    assert_true(kura_is_null(&new_model, &t, kura_field_named(&new_model, "uid")));
    assert_true(kura_is_null(&new_model, &t, kura_field_named(&new_model, "meta")));
    assert_string_equal(t.uid, "");
    assert_null(t.meta);
    kura_clear(&new_model, &t);
}

static void test_values_and_queries(void **state)
{
    (void)state;
    t_new t;
    valid(&t);
    const kura_field *uid = kura_field_named(&new_model, "uid");
    const kura_field *meta = kura_field_named(&new_model, "meta");
    kura_value v = kura_value_of(&new_model, &t, uid);
    assert_int_equal(v.kind, KURA_VALUE_STRING);
    assert_ptr_equal(v.as.s, t.uid); /* borrowed */
    t.uid[0] = '\0';
    assert_int_equal(kura_value_of(&new_model, &t, uid).kind, KURA_VALUE_NULL);
    assert_true(kura_set_text(&t.meta, " null "));
    assert_int_equal(kura_value_of(&new_model, &t, meta).kind, KURA_VALUE_NULL);
    kura_clear(&new_model, &t);

    kura_query q = kura_query_for(&new_model);
    kura_where_str(&q, "uid", KURA_EQ, "123e4567-e89b-42d3-a456-426614174000");
    kura_where_str(&q, "day", KURA_LT, "2024-02-29");
    kura_where_str(&q, "price", KURA_GE, "-0.50");
    const char *oids[] = {"65a1b2c3d4e5f6a7b8c9d0e1"};
    kura_where_in_str(&q, "oid", oids, 1);
    kura_where_null(&q, "meta", true);
    kura_order_by(&q, "day", true);
    assert_null(kura_query_error(&q));

    static const struct {
        const char *field;
        kura_op op;
        const char *value;
    } refused[] = {
        {"uid", KURA_EQ, "123E4567-E89B-42D3-A456-426614174000"}, /* not canonical */
        {"uid", KURA_PREFIX, "123e"},
        {"day", KURA_LIKE, "2024-%"},
        {"price", KURA_EQ, "1.5"},
        {"meta", KURA_EQ, "{}"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        q = kura_query_for(&new_model);
        kura_where_str(&q, refused[i].field, refused[i].op, refused[i].value);
        const kura_error *e = kura_query_error(&q);
        if (!e)
            fail_msg("%s %d '%s' was accepted", refused[i].field, refused[i].op, refused[i].value);
        assert_int_equal(e->code, KURA_INVALID);
    }
    q = kura_query_for(&new_model);
    kura_where_int(&q, "price", KURA_EQ, 1);
    assert_non_null(kura_query_error(&q));
    q = kura_query_for(&new_model);
    kura_order_by(&q, "meta", false);
    assert_non_null(kura_query_error(&q));
    assert_int_equal(kura_query_error(&q)->code, KURA_INVALID);
}

/* What an HTTP query parameter (?field=value) becomes: kura_value_parse. */
static void test_query_parameters(void **state)
{
    (void)state;
    static const struct {
        const char *field, *text, *want; /* want NULL: refused */
    } cases[] = {
        {"uid", "123E4567E89B42D3A456426614174000", "123e4567-e89b-42d3-a456-426614174000"},
        {"uid", "x", NULL},
        {"oid", "65A1B2C3D4E5F6A7B8C9D0E1", "65a1b2c3d4e5f6a7b8c9d0e1"},
        {"day", "2024-02-29", "2024-02-29"},
        {"day", "2024-02-30", NULL},
        {"price", "1.5", "1.50"},
        {"price", "1.555", NULL},
        {"meta", "{}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const kura_field *f = kura_field_named(&new_model, cases[i].field);
        char scratch[64];
        kura_value v = KURA_VNULL;
        bool ok = kura_value_parse(f, cases[i].text, &v, scratch, sizeof scratch);
        if (ok != (cases[i].want != NULL))
            fail_msg("%s=%s: %s", cases[i].field, cases[i].text, ok ? "accepted" : "refused");
        if (ok) {
            assert_int_equal(v.kind, KURA_VALUE_STRING);
            assert_string_equal(v.as.s, cases[i].want);
        }
    }
    char tiny[8];
    kura_value v;
    const kura_field *uid = kura_field_named(&new_model, "uid");
    assert_false(kura_value_parse(uid, "123e4567-e89b-42d3-a456-426614174000", &v, tiny,
                                  sizeof tiny)); /* no room: refused */
    /* The id column (no field) is an int64. */
    assert_true(kura_value_parse(NULL, "-9223372036854775808", &v, tiny, 8));
    assert_int_equal(v.as.i, INT64_MIN);
    assert_false(kura_value_parse(NULL, "9223372036854775808", &v, tiny, 8));
    assert_true(kura_type_takes(KURA_TYPE_STRING, KURA_PREFIX));
    assert_false(kura_type_takes(KURA_TYPE_UUID, KURA_PREFIX));
    assert_true(kura_type_takes(KURA_TYPE_DECIMAL, KURA_GT));
    assert_false(kura_type_takes(KURA_TYPE_JSON, KURA_EQ));
    assert_false(kura_type_takes(KURA_TYPE_TAGS, KURA_EQ));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validation_both_ways),
        cmocka_unit_test(test_defaults_and_helpers),
        cmocka_unit_test(test_json_codec),
        cmocka_unit_test(test_values_and_queries),
        cmocka_unit_test(test_query_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
