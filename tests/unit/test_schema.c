/*
 * test_schema.c — models declared at run time from a schema file.
 *
 * The runtime model must be the C model: the same layout (offsets, sizes,
 * struct size) and the same rows, written by one and read by the other on
 * SQLite, PostgreSQL (with KURA_TEST_PG_URL) and the embedded document store.
 * Then the loader's errors, and the writer read back by the loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <kura/kura.h>

#include "pg_env.h"

/* The guide's SAUser, plus one field of every other type, with padding on both sides
 * (char arrays of odd sizes before 8-byte members). */
typedef struct rt_user {
    kura_base base;
    char name[KURA_STRING_BYTES(128)];
    char email[KURA_STRING_BYTES(128)];
    int32_t age;
    char sex[KURA_STRING_BYTES(1)];
    int64_t score;
    bool active;
    double ratio;
    char *bio;
    bool flag;
    kura_time born;
    kura_tags tags;
    int32_t small;
    char uid[KURA_UUID_BYTES];
    char price[KURA_DECIMAL_BYTES(10)];
    char *meta;
    char day[KURA_DATE_BYTES];
    char oid[KURA_OBJECTID_BYTES];
    double weight;
    char cents[KURA_DECIMAL_BYTES(34)];
} rt_user;

static const kura_model c_model =
    KURA_MODEL(rt_user, "rt_user", KURA_STRING(rt_user, name, 128, .required = true),
               KURA_EMAIL(rt_user, email, 128, .unique = true),
               KURA_INT32(rt_user, age, .index = true, .has_range = true, .min = 0, .max = 150),
               KURA_STRING(rt_user, sex, 1, .choices = (const char *const[]){"M", "F", NULL}),
               KURA_INT64(rt_user, score, .has_default = true, .default_int = 10),
               KURA_BOOL(rt_user, active, .has_default = true, .default_int = 1),
               KURA_DOUBLE(rt_user, ratio, .has_default = true, .default_double = 0.5),
               KURA_TEXT(rt_user, bio, .has_default = true, .default_string = "it's me"),
               KURA_BOOL(rt_user, flag), KURA_DATETIME(rt_user, born), KURA_TAGS(rt_user, tags),
               KURA_INT32(rt_user, small), KURA_UUID(rt_user, uid, .index = true),
               KURA_DECIMAL(rt_user, price, 10, 2, .has_default = true, .default_string = "9.90"),
               KURA_JSON(rt_user, meta, .has_default = true, .default_string = "{\"a\":[1,true]}"),
               KURA_DATE(rt_user, day, .has_default = true, .default_string = "2024-02-29"),
               KURA_OBJECTID(rt_user, oid, .unique = true), KURA_DOUBLE(rt_user, weight),
               KURA_DECIMAL(rt_user, cents, 34, 0));

static const char schema_text[] =
    "{\"models\": [{\"name\": \"rt_user\", \"store\": \"documents\", \"path\": \"/users\",\n"
    " \"fields\": [\n"
    "  {\"name\": \"name\", \"type\": \"string\", \"max_chars\": 128, \"required\": true},\n"
    "  {\"name\": \"email\", \"type\": \"email\", \"max_chars\": 128, \"unique\": true},\n"
    "  {\"name\": \"age\", \"type\": \"int32\", \"index\": true, \"min\": 0, \"max\": 150},\n"
    "  {\"name\": \"sex\", \"type\": \"string\", \"max_chars\": 1, \"choices\": [\"M\", \"F\"]},\n"
    "  {\"name\": \"score\", \"type\": \"int64\", \"default\": 10},\n"
    "  {\"name\": \"active\", \"type\": \"bool\", \"default\": true},\n"
    "  {\"name\": \"ratio\", \"type\": \"double\", \"default\": 0.5},\n"
    "  {\"name\": \"bio\", \"type\": \"text\", \"default\": \"it's me\"},\n"
    "  {\"name\": \"flag\", \"type\": \"bool\"},\n"
    "  {\"name\": \"born\", \"type\": \"datetime\"},\n"
    "  {\"name\": \"tags\", \"type\": \"tags\"},\n"
    "  {\"name\": \"small\", \"type\": \"int32\"},\n"
    "  {\"name\": \"uid\", \"type\": \"uuid\", \"index\": true},\n"
    "  {\"name\": \"price\", \"type\": \"decimal\", \"precision\": 10, \"scale\": 2, "
    "\"default\": \"9.9\"},\n"
    "  {\"name\": \"meta\", \"type\": \"json\", \"default\": {\"a\": [1, true]}},\n"
    "  {\"name\": \"day\", \"type\": \"date\", \"default\": \"2024-02-29\"},\n"
    "  {\"name\": \"oid\", \"type\": \"objectid\", \"unique\": true},\n"
    "  {\"name\": \"weight\", \"type\": \"double\"},\n"
    "  {\"name\": \"cents\", \"type\": \"decimal\", \"precision\": 34}]},\n"
    " {\"name\": \"note\", \"fields\": [{\"name\": \"body\", \"type\": \"text\"}]}]}\n";

static kura_schema *load(void)
{
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(schema_text, &err);
    if (!s)
        fail_msg("load: %s", err.message);
    return s;
}

static void same_model(const kura_model *a, const kura_model *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->key, b->key);
    assert_int_equal(a->nfields, b->nfields);
    for (size_t i = 0; i < a->nfields; i++) {
        const kura_field *x = &a->fields[i], *y = &b->fields[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->max_chars, y->max_chars);
        assert_int_equal(x->precision, y->precision);
        assert_int_equal(x->scale, y->scale);
        assert_int_equal(x->index, y->index);
        assert_int_equal(x->unique, y->unique);
        assert_int_equal(x->required, y->required);
        assert_int_equal(x->has_range, y->has_range);
        if (x->has_range) {
            assert_int_equal(x->min, y->min);
            assert_int_equal(x->max, y->max);
        }
        assert_int_equal(x->has_default, y->has_default);
        assert_int_equal(x->default_int, y->default_int);
        assert_true(x->default_double == y->default_double);
        assert_int_equal(!x->default_string, !y->default_string);
        if (x->default_string)
            assert_string_equal(x->default_string, y->default_string);
        assert_int_equal(!x->choices, !y->choices);
        for (size_t c = 0; x->choices && (x->choices[c] || y->choices[c]); c++) {
            assert_non_null(x->choices[c]);
            assert_non_null(y->choices[c]);
            assert_string_equal(x->choices[c], y->choices[c]);
        }
    }
}

static void test_layout_is_the_c_layout(void **state)
{
    (void)state;
    kura_schema *s = load();
    assert_int_equal(kura_schema_count(s), 2);
    const kura_model *m = kura_schema_model(s, 0);
    same_model(m, &c_model);
    assert_ptr_equal(kura_schema_find(s, "rt_user"), m);
    assert_null(kura_schema_find(s, "nope"));
    assert_null(kura_schema_model(s, 2));
    assert_int_equal(kura_schema_store_of(s, 0), KURA_SCHEMA_DOCUMENTS);
    assert_string_equal(kura_schema_path(s, 0), "/users");
    assert_int_equal(kura_schema_store_of(s, 1), KURA_SCHEMA_SQL);
    assert_string_equal(kura_schema_path(s, 1), "/note");
    assert_int_equal(kura_schema_model(s, 1)->size, sizeof(kura_base) + sizeof(char *));

    /* kura_init applies the same defaults; JSON and validation agree. */
    rt_user a, b;
    kura_init(&c_model, &a);
    kura_init(m, &b);
    assert_int_equal(b.score, 10);
    assert_true(b.active);
    assert_string_equal(b.bio, "it's me");
    assert_string_equal(b.price, "9.90"); /* the file's "9.9", in canonical form */
    assert_string_equal(b.meta, "{\"a\":[1,true]}");
    assert_string_equal(b.day, "2024-02-29");
    assert_string_equal(b.uid, "");
    b.age = 200;
    kura_error err = {0};
    assert_false(kura_validate(m, &b, &err));
    assert_string_equal(err.field, "name");
    kura_copy_string(b.name, sizeof b.name, "x");
    assert_false(kura_validate(m, &b, &err));
    assert_string_equal(err.field, "age");
    b.age = 20;
    kura_copy_string(a.name, sizeof a.name, "x");
    a.age = 20;
    char *ja = kura_to_json_string(&c_model, &a), *jb = kura_to_json_string(m, &b);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
    kura_clear(&c_model, &a);
    kura_clear(m, &b);
    kura_schema_free(s);
}

static void fill(rt_user *u, const kura_model *m, int i)
{
    kura_init(m, u);
    snprintf(u->name, sizeof u->name, "user %d", i);
    snprintf(u->email, sizeof u->email, "u%d@example.com", i);
    u->age = 20 + i;
    kura_copy_string(u->sex, sizeof u->sex, i % 2 ? "M" : "F");
    u->score = 1000000000000LL + i;
    u->ratio = 0.25 * i;
    kura_set_text(&u->bio, "héllo");
    u->flag = i % 2;
    u->born = 1700000000123456LL + i;
    kura_tags_add(&u->tags, "a");
    kura_tags_add(&u->tags, "日本");
    u->small = -i;
    char digit = (char)('0' + i % 10); /* one character: the arrays are exactly sized */
    snprintf(u->uid, sizeof u->uid, "123e4567-e89b-42d3-a456-42661417400%c", digit);
    snprintf(u->price, sizeof u->price, "-1234567.8%c", digit);
    kura_set_text(&u->meta,
                  i == 1 ? "{\"k\": [1, 2.5, \"x\", null, {\"n\": false}]}" : "[\"é\", 7]");
    snprintf(u->day, sizeof u->day, "1999-12-2%c", digit);
    snprintf(u->oid, sizeof u->oid, "6750a1c2e4b0c3d2a1f0000%c", digit);
    u->weight = 1.5 * i;
    kura_copy_string(u->cents, sizeof u->cents, "9999999999999999999999999999999999");
    if (i == 2) { /* a NULL reads back as NULL and 0 */
        u->small = 0;
        kura_set_null(m, u, kura_field_named(m, "small"), true);
    }
}

static void same_row(const rt_user *x, const rt_user *y)
{
    assert_int_equal(x->base.id, y->base.id);
    assert_int_equal(x->base.created_at, y->base.created_at);
    assert_int_equal(x->base.updated_at, y->base.updated_at);
    assert_int_equal(x->base.nulls, y->base.nulls);
    assert_string_equal(x->name, y->name);
    assert_string_equal(x->email, y->email);
    assert_int_equal(x->age, y->age);
    assert_string_equal(x->sex, y->sex);
    assert_int_equal(x->score, y->score);
    assert_int_equal(x->active, y->active);
    assert_true(x->ratio == y->ratio);
    assert_string_equal(x->bio, y->bio);
    assert_int_equal(x->flag, y->flag);
    assert_int_equal(x->born, y->born);
    assert_int_equal(x->tags.count, y->tags.count);
    for (uint32_t t = 0; t < x->tags.count; t++)
        assert_string_equal(x->tags.items[t], y->tags.items[t]);
    assert_int_equal(x->small, y->small);
    assert_string_equal(x->uid, y->uid);
    assert_string_equal(x->price, y->price);
    assert_string_equal(x->day, y->day);
    assert_string_equal(x->oid, y->oid);
    assert_true(x->weight == y->weight);
    assert_string_equal(x->cents, y->cents);
    /* JSONB normalises spacing: the same JSON value, not the same text. */
    json_t *a = json_loads(x->meta, JSON_DECODE_ANY, NULL),
           *b = json_loads(y->meta, JSON_DECODE_ANY, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

/* Rows written through one model read back identically through the other, both ways. */
static void round_trip(kura_store *db)
{
    kura_schema *s = load();
    const kura_model *rt = kura_schema_model(s, 0);
    kura_error err = {0};
    assert_true(kura_drop(db, &c_model, &err));
    assert_true(kura_create(db, rt, &err));
    assert_true(kura_create(db, &c_model, &err)); /* the same table: nothing to do */

    const kura_model *writers[2] = {&c_model, rt};
    for (int w = 0; w < 2; w++) {
        const kura_model *wm = writers[w], *rm = writers[1 - w];
        rt_user u;
        fill(&u, wm, w + 1);
        if (!kura_insert(db, wm, &u, &err))
            fail_msg("insert: %s", err.message);
        rt_user back;
        assert_true(kura_get(db, rm, u.base.id, &back, &err));
        same_row(&u, &back);
        char *ju = kura_to_json_string(wm, &u), *jb = kura_to_json_string(rm, &back);
        assert_string_equal(ju, jb);
        free(ju);
        free(jb);
        kura_clear(rm, &back);

        /* A query through the reader's model finds it by an indexed field. */
        kura_query q = kura_query_for(rm);
        kura_where_int(&q, "age", KURA_EQ, u.age);
        kura_rows rows = {0};
        assert_true(kura_find(db, &q, &rows, &err));
        assert_int_equal(rows.count, 1);
        same_row(&u, kura_row(&rows, 0));
        kura_rows_free(&rows);
        kura_clear(wm, &u);
    }
    /* The unique e-mail holds through the runtime model too. */
    rt_user dup;
    fill(&dup, rt, 1);
    assert_false(kura_insert(db, rt, &dup, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    kura_clear(rt, &dup);
    assert_true(kura_drop(db, rt, &err));
    kura_schema_free(s);
}

static void test_rows_sqlite(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_store *db = kura_store_open("sqlite://:memory:", &err);
    assert_non_null(db);
    round_trip(db);
    kura_store_close(db);
}

static void test_rows_documents(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_store *db = kura_document_store_open("sqlite://:memory:", &err);
    assert_non_null(db);
    round_trip(db);
    kura_store_close(db);
}

static void test_rows_postgresql(void **state)
{
    (void)state;
    const char *url = pg_test_url();
    if (!url)
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set");
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("%s", err.message);
    round_trip(db);
    kura_store_close(db);
    db = kura_document_store_open(url, &err);
    if (!db)
        fail_msg("%s", err.message);
    round_trip(db);
    kura_store_close(db);
}

/* Loads text and expects KURA_CONFIG with a message containing `want`. */
static void refused(const char *text, const char *want)
{
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(text, &err);
    if (s)
        fail_msg("loaded: %s", text);
    assert_int_equal(err.code, KURA_CONFIG);
    if (!strstr(err.message, want))
        fail_msg("message '%s' lacks '%s'", err.message, want);
}

#define M(fields) "{\"models\": [{\"name\": \"m\", \"fields\": [" fields "]}]}"

static void test_errors_name_model_and_field(void **state)
{
    (void)state;
    refused(M("{\"name\": \"a\", \"type\": \"int\"}"), "model m, field a: unknown type 'int'");
    refused(M("{\"name\": \"a\", \"type\": \"string\"}"),
            "model m, field a: a string field needs max_chars");
    refused(M("{\"name\": \"a\", \"type\": \"int32\"}, {\"name\": \"a\", \"type\": \"bool\"}"),
            "model m, field a: duplicate field");
    refused(M("{\"name\": \"a\", \"type\": \"int32\", \"indexed\": true}"),
            "model m, field a: unknown key 'indexed'");
    refused(M("{\"name\": \"id\", \"type\": \"int64\"}"), "field id: 'id' is reserved");
    refused(M("{\"name\": \"a b\", \"type\": \"int64\"}"), "is not a field name");
    refused(M("{\"name\": \"a\", \"type\": \"bool\", \"max_chars\": 3}"), "max_chars applies to");
    refused(M("{\"name\": \"a\", \"type\": \"text\", \"min\": 3}"), "min and max apply to");
    refused(M("{\"name\": \"a\", \"type\": \"int32\", \"min\": 3, \"max\": 1}"),
            "greater than max");
    refused(M("{\"name\": \"a\", \"type\": \"int32\", \"default\": \"x\"}"), "default must be");
    refused(M("{\"name\": \"a\", \"type\": \"int32\", \"default\": 5000000000}"),
            "default is out of range for a 32-bit integer");
    refused(M("{\"name\": \"a\", \"type\": \"string\", \"max_chars\": 2, \"default\": \"abc\"}"),
            "model m, field a: default is longer than 2 characters");
    refused(M("{\"name\": \"a\", \"type\": \"datetime\", \"default\": 1}"), "take no default");
    refused(M("{\"name\": \"a\", \"type\": \"bool\", \"choices\": [\"x\"]}"), "choices apply");
    refused("{\"models\": [{\"name\": \"m\", \"store\": \"kv\", \"fields\": []}]}",
            "model m: store must be");
    refused("{\"models\": [{\"name\": \"m\", \"path\": \"x\", \"fields\": []}]}", "path must be");
    refused("{\"models\": [{\"name\": \"m\", \"fields\": []}, {\"name\": \"m\", \"fields\": []}]}",
            "model m: duplicate model");
    refused("{\"models\": [{\"fields\": []}]}", "model #1: a model needs a \"name\"");
    refused("{\"models\": [{\"name\": \"m\"}]}", "model m: a model needs \"fields\"");
    refused("{\"modles\": []}", "unknown key 'modles'");
    refused("{\"models\": [\n{\"name\": \"m\",, }]}", "schema: line 2, column 14");

    /* KURA_MAX_FIELDS fields load; one more is refused, naming the field. */
    char text[8192];
    size_t n =
        (size_t)snprintf(text, sizeof text, "{\"models\": [{\"name\": \"wide\", \"fields\": [");
    for (int i = 0; i <= KURA_MAX_FIELDS; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "%s{\"name\": \"f%d\", \"type\": \"bool\"}", i ? ", " : "", i);
    snprintf(text + n, sizeof text - n, "]}]}");
    refused(text, "model wide, field f64: too many fields (at most 64 per model)");

    kura_error err = {0};
    assert_null(kura_schema_load_file("/nonexistent/schema.json", &err));
    assert_int_equal(err.code, KURA_IO);

    /* A file's errors name the file, with the line and column. */
    char path[] = "/tmp/kura-schema-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"models\": [\n  {\"name\": }]}", 27), 27);
    close(fd);
    assert_null(kura_schema_load_file(path, &err));
    assert_int_equal(err.code, KURA_CONFIG);
    char want[128];
    snprintf(want, sizeof want, "%s: line 2, column 12", path);
    assert_non_null(strstr(err.message, want));
    unlink(path);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/kura-schema-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, schema_text, strlen(schema_text)), (ssize_t)strlen(schema_text));
    close(fd);
    kura_error err = {0};
    kura_schema *s = kura_schema_load_file(path, &err);
    unlink(path);
    if (!s)
        fail_msg("%s", err.message);
    same_model(kura_schema_model(s, 0), &c_model);
    kura_schema_free(s);
}

static void test_writer_round_trips(void **state)
{
    (void)state;
    kura_schema *s = load();
    kura_error err = {0};
    char *text = kura_schema_to_string(s, &err);
    assert_non_null(text);
    kura_schema *again = kura_schema_load_string(text, &err);
    if (!again)
        fail_msg("%s\n%s", err.message, text);
    same_model(kura_schema_model(again, 0), kura_schema_model(s, 0));
    assert_string_equal(kura_schema_path(again, 0), "/users");
    assert_int_equal(kura_schema_store_of(again, 0), KURA_SCHEMA_DOCUMENTS);
    char *text2 = kura_schema_to_string(again, &err);
    assert_string_equal(text, text2);
    assert_non_null(strstr(text, "{\"name\": \"age\", \"type\": \"int32\", \"index\": true, "
                                 "\"min\": 0, \"max\": 150}"));

    /* The C model writes the same file as its runtime twin. */
    kura_schema_entry e = {&c_model, KURA_SCHEMA_DOCUMENTS, "/users"};
    char *from_c = kura_schema_write(&e, 1, &err);
    assert_non_null(from_c);
    assert_int_equal(strncmp(text, from_c, strlen(from_c) - strlen("\n  ]\n}\n")), 0);
    kura_schema *from_c_loaded = kura_schema_load_string(from_c, &err);
    assert_non_null(from_c_loaded);
    same_model(kura_schema_model(from_c_loaded, 0), &c_model);
    free(text);
    free(text2);
    free(from_c);
    kura_schema_free(from_c_loaded);
    kura_schema_free(again);
    kura_schema_free(s);
}

/* A plain Flask-SQLAlchemy model: no created_at / updated_at, and a datetime
 * field named like a stamp, which is an ordinary name in such a model. */
typedef struct post {
    kura_base base;
    char title[KURA_STRING_BYTES(80)];
    kura_time created_at;
} post;
static const kura_model post_model =
    KURA_MODEL_EX(post, "post", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(post, title, 80, .required = true), KURA_DATETIME(post, created_at));

static void test_timestamps_false(void **state)
{
    (void)state;
    static const char text[] =
        "{\"models\": [{\"name\": \"post\", \"timestamps\": false, \"fields\": [\n"
        "  {\"name\": \"title\", \"type\": \"string\", \"max_chars\": 80, \"required\": true},\n"
        "  {\"name\": \"created_at\", \"type\": \"datetime\"}]},\n"
        " {\"name\": \"stamped\", \"timestamps\": true, \"fields\": []}]}\n";
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(text, &err);
    if (!s)
        fail_msg("%s", err.message);
    const kura_model *m = kura_schema_find(s, "post");
    assert_false(kura_model_has_timestamps(m));
    assert_int_equal(m->flags, KURA_MODEL_NO_TIMESTAMPS);
    assert_true(kura_model_has_timestamps(kura_schema_find(s, "stamped")));
    same_model(m, &post_model);

    /* Written back: "timestamps": false, and only where it is not the default. */
    char *out = kura_schema_to_string(s, &err);
    assert_non_null(out);
    const char *at = strstr(out, "\"path\": \"/post\",\n      \"timestamps\": false,\n");
    assert_non_null(at);
    assert_null(strstr(strstr(at, "timestamps") + 1, "timestamps"));
    kura_schema *again = kura_schema_load_string(out, &err);
    assert_non_null(again);
    same_model(kura_schema_find(again, "post"), &post_model);
    assert_true(kura_model_has_timestamps(kura_schema_find(again, "stamped")));
    char *out2 = kura_schema_to_string(again, &err);
    assert_string_equal(out, out2);

    /* The C model writes the same model; the C text declares it with KURA_MODEL_EX. */
    kura_schema_entry e = {&post_model, KURA_SCHEMA_SQL, NULL};
    char *from_c = kura_schema_write(&e, 1, &err);
    assert_non_null(from_c);
    assert_int_equal(strncmp(out, from_c, strlen(from_c) - strlen("\n  ]\n}\n")), 0);
    char *c = kura_schema_to_c(s, &err);
    assert_non_null(c);
    assert_non_null(strstr(c, "const kura_model post_model = KURA_MODEL_EX(\n    post, \"post\", "
                              "KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,\n"));
    assert_non_null(strstr(c, "    kura_time created_at;\n"));
    free(c);
    free(from_c);
    free(out);
    free(out2);
    kura_schema_free(again);
    kura_schema_free(s);

    /* With timestamps (the default) the two names stay kura_base's. */
    refused(M("{\"name\": \"created_at\", \"type\": \"datetime\"}"),
            "model m, field created_at: 'created_at' is reserved: the model has created_at and "
            "updated_at");
    refused("{\"models\": [{\"name\": \"m\", \"timestamps\": true, \"fields\": "
            "[{\"name\": \"updated_at\", \"type\": \"datetime\"}]}]}",
            "'updated_at' is reserved");
    refused("{\"models\": [{\"name\": \"m\", \"timestamps\": \"no\", \"fields\": []}]}",
            "model m: timestamps must be true or false");
    refused("{\"models\": [{\"name\": \"m\", \"timestamps\": false, \"fields\": "
            "[{\"name\": \"id\", \"type\": \"int64\"}]}]}",
            "field id: 'id' is reserved");
}

/* A model of nothing but its key (the schema format allows no fields): rows are
 * inserted with the database's defaults, and updated and deleted by key. */
static void key_only_rows(kura_store *db)
{
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(
        "{\"models\": [{\"name\": \"key_only\", \"timestamps\": false, \"fields\": []}]}", &err);
    assert_non_null(s);
    const kura_model *m = kura_schema_model(s, 0);
    assert_true(kura_drop(db, m, &err));
    assert_true(kura_create(db, m, &err));
    kura_base rows[3];
    memset(rows, 0, sizeof rows);
    if (!kura_insert(db, m, &rows[0], &err))
        fail_msg("insert: %s", err.message);
    assert_int_equal(rows[0].id, 1);
    assert_true(kura_insert_many(db, m, &rows[1], 2, &err));
    assert_int_equal(rows[2].id, 3);
    kura_base got;
    assert_true(kura_get(db, m, 2, &got, &err));
    assert_int_equal(got.id, 2);
    assert_true(kura_update(db, m, &got, &err));
    got.id = 99;
    assert_false(kura_update(db, m, &got, &err));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_true(kura_delete(db, m, 2, &err));
    kura_query q = kura_query_for(m);
    int64_t n = 0;
    assert_true(kura_count(db, &q, &n, &err));
    assert_int_equal(n, 2);
    assert_true(kura_drop(db, m, &err));
    kura_schema_free(s);
}

static void test_key_only_model(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_store *db = kura_store_open("sqlite://:memory:", &err);
    assert_non_null(db);
    key_only_rows(db);
    kura_store_close(db);
    const char *url = pg_test_url();
    if (!url)
        return; /* no PostgreSQL: test_rows_postgresql prints the skip */
    db = kura_store_open(url, &err);
    if (!db)
        fail_msg("%s", err.message);
    key_only_rows(db);
    kura_store_close(db);
}

/* One model per key kind other than int64, declared in C and in a schema file
 * (the string-keyed one also without timestamps). */
typedef struct rt_keyed {
    kura_base base;
    char title[KURA_STRING_BYTES(20)];
    char day[KURA_DATE_BYTES];
} rt_keyed;

#define KEYED_FIELDS KURA_STRING(rt_keyed, title, 20, .index = true), KURA_DATE(rt_keyed, day)
static const kura_model keyed_c[] = {
    KURA_MODEL_KEYED(rt_keyed, "rt_key_uuid", KURA_KEY_UUID, KEYED_FIELDS),
    KURA_MODEL_KEYED(rt_keyed, "rt_key_objectid", KURA_KEY_OBJECTID, KEYED_FIELDS),
    KURA_MODEL_EX(rt_keyed, "rt_key_string", KURA_KEY_STRING, KURA_MODEL_NO_TIMESTAMPS,
                  KEYED_FIELDS),
};
static const char *const keyed_kind[] = {"uuid", "objectid", "string"};

static kura_schema *load_keyed(size_t k)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"models\": [{\"name\": \"rt_key_%s\", \"key\": \"%s\",%s \"fields\": ["
             "{\"name\": \"title\", \"type\": \"string\", \"max_chars\": 20, \"index\": true}, "
             "{\"name\": \"day\", \"type\": \"date\"}]}]}",
             keyed_kind[k], keyed_kind[k], k == 2 ? " \"timestamps\": false," : "");
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(text, &err);
    if (!s)
        fail_msg("%s: %s", text, err.message);
    same_model(kura_schema_model(s, 0), &keyed_c[k]);
    return s;
}

/* Rows keyed by text: written through one model, read by key through the other.
 * The schemas outlive the store (it remembers models by address). */
static void keyed_rows(kura_store *db, kura_schema *const *schemas)
{
    for (size_t k = 0; k < sizeof keyed_c / sizeof keyed_c[0]; k++) {
        const kura_model *rt = kura_schema_model(schemas[k], 0);
        const kura_model *writers[2] = {&keyed_c[k], rt};
        kura_error err = {0};
        assert_true(kura_drop(db, rt, &err));
        if (!kura_create(db, rt, &err))
            fail_msg("create %s: %s", keyed_kind[k], err.message);
        for (int w = 0; w < 2; w++) {
            const kura_model *wm = writers[w], *rm = writers[1 - w];
            rt_keyed x, back;
            kura_init(wm, &x);
            snprintf(x.title, sizeof x.title, "title %d", w);
            kura_copy_string(x.day, sizeof x.day,
                             "2026-01-0"
                             "1");
            if (k == 2) /* string keys are the caller's */
                snprintf(x.base.key, sizeof x.base.key, "clé-%d", w);
            if (!kura_insert(db, wm, &x, &err))
                fail_msg("insert %s: %s", keyed_kind[k], err.message);
            assert_int_equal(x.base.id, 0);
            assert_int_equal(strlen(x.base.key), k == 0 ? 36 : k == 1 ? 24 : strlen("clé-0"));
            if (!kura_get_key(db, rm, x.base.key, &back, &err))
                fail_msg("get %s: %s", keyed_kind[k], err.message);
            assert_string_equal(back.base.key, x.base.key);
            assert_string_equal(back.title, x.title);
            assert_string_equal(back.day, "2026-01-01");
            assert_int_equal(back.base.created_at, x.base.created_at);
            char *jx = kura_to_json_string(wm, &x), *jb = kura_to_json_string(rm, &back);
            assert_string_equal(jx, jb);
            free(jx);
            free(jb);
        }
        kura_query q = kura_query_for(rt);
        int64_t n = 0;
        assert_true(kura_count(db, &q, &n, &err));
        assert_int_equal(n, 2);
        assert_true(kura_drop(db, rt, &err));
    }
}

static void test_key_kinds(void **state)
{
    (void)state;
    kura_error err = {0};
    for (size_t k = 0; k < sizeof keyed_c / sizeof keyed_c[0]; k++) {
        kura_schema *s = load_keyed(k);
        /* Written back with its key, and as C with KURA_MODEL_KEYED / KURA_MODEL_EX. */
        char *text = kura_schema_to_string(s, &err);
        assert_non_null(text);
        char want[128];
        snprintf(want, sizeof want, "\"path\": \"/rt_key_%s\",\n      \"key\": \"%s\",\n",
                 keyed_kind[k], keyed_kind[k]);
        assert_non_null(strstr(text, want));
        kura_schema *again = kura_schema_load_string(text, &err);
        assert_non_null(again);
        same_model(kura_schema_model(again, 0), &keyed_c[k]);
        kura_schema_entry e = {&keyed_c[k], KURA_SCHEMA_SQL, NULL};
        char *from_c = kura_schema_write(&e, 1, &err);
        assert_string_equal(text, from_c);
        char *c = kura_schema_to_c(s, &err);
        assert_non_null(c);
        static const char *const decl[] = {
            "KURA_MODEL_KEYED(\n    rt_key_uuid, \"rt_key_uuid\", KURA_KEY_UUID,\n",
            "KURA_MODEL_KEYED(\n    rt_key_objectid, \"rt_key_objectid\", KURA_KEY_OBJECTID,\n",
            "KURA_MODEL_EX(\n    rt_key_string, \"rt_key_string\", KURA_KEY_STRING, "
            "KURA_MODEL_NO_TIMESTAMPS,\n",
        };
        if (!strstr(c, decl[k]))
            fail_msg("%s lacks %s", c, decl[k]);
        free(c);
        free(from_c);
        free(text);
        kura_schema_free(again);
        kura_schema_free(s);
    }
    /* int64, the default, is written as nothing. */
    kura_schema *s = kura_schema_load_string(
        "{\"models\": [{\"name\": \"m\", \"key\": \"int64\", \"fields\": []}]}", &err);
    assert_non_null(s);
    assert_int_equal(kura_schema_model(s, 0)->key, KURA_KEY_INT64);
    char *text = kura_schema_to_string(s, &err);
    assert_null(strstr(text, "\"key\""));
    free(text);
    kura_schema_free(s);
    refused("{\"models\": [{\"name\": \"m\", \"key\": \"int\", \"fields\": []}]}",
            "model m: key must be \"int64\", \"uuid\", \"objectid\" or \"string\"");
    refused("{\"models\": [{\"name\": \"m\", \"key\": 1, \"fields\": []}]}", "key must be");

    kura_schema *schemas[3];
    for (size_t k = 0; k < 3; k++)
        schemas[k] = load_keyed(k);
    kura_store *db = kura_store_open("sqlite://:memory:", &err);
    assert_non_null(db);
    keyed_rows(db, schemas);
    kura_store_close(db);
    db = kura_document_store_open("sqlite://:memory:", &err);
    assert_non_null(db);
    keyed_rows(db, schemas);
    kura_store_close(db);
    const char *url = pg_test_url();
    if (url) { /* else test_rows_postgresql prints the skip */
        db = kura_store_open(url, &err);
        if (!db)
            fail_msg("%s", err.message);
        keyed_rows(db, schemas);
        kura_store_close(db);
        db = kura_document_store_open(url, &err);
        if (!db)
            fail_msg("%s", err.message);
        keyed_rows(db, schemas);
        kura_store_close(db);
    }
    for (size_t k = 0; k < 3; k++)
        kura_schema_free(schemas[k]);
}

/* The options of the text-valued and JSON types, checked as their C macros and
 * validation check them. */
static void test_new_type_options(void **state)
{
    (void)state;
    refused(M("{\"name\": \"a\", \"type\": \"decimal\"}"),
            "model m, field a: a decimal field needs precision");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 0}"),
            "precision must be from 1 to 34");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 35}"),
            "precision must be from 1 to 34");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 4, \"scale\": 5}"),
            "scale must be from 0 to precision (4)");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 4, \"scale\": -1}"),
            "scale must be from 0");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 4, \"max_chars\": 4}"),
            "max_chars applies to string, email and tags fields only");
    refused(M("{\"name\": \"a\", \"type\": \"string\", \"max_chars\": 4, \"scale\": 1}"),
            "precision and scale apply to decimal fields only");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 4, \"scale\": 2, "
              "\"default\": \"1.234\"}"),
            "model m, field a: default must be a decimal string with at most 4 digits, 2 after the "
            "point");
    refused(M("{\"name\": \"a\", \"type\": \"decimal\", \"precision\": 4, \"scale\": 2, "
              "\"default\": 100}"),
            "default does not fit DECIMAL(4,2)");
    refused(M("{\"name\": \"a\", \"type\": \"uuid\", \"default\": \"nope\"}"),
            "default must be a UUID");
    refused(M("{\"name\": \"a\", \"type\": \"uuid\", \"choices\": [\"x\"]}"),
            "choices apply to string, text, email and tags fields only");
    refused(M("{\"name\": \"a\", \"type\": \"objectid\", \"min\": 1}"),
            "min and max apply to int32, int64 and double fields only");
    refused(M("{\"name\": \"a\", \"type\": \"date\", \"default\": \"2023-02-29\"}"),
            "default must be a date");
    refused(M("{\"name\": \"a\", \"type\": \"json\", \"default\": null}"),
            "default must be a value, not empty or null");
    refused(M("{\"name\": \"a\", \"type\": \"tags\", \"default\": []}"),
            "tags fields take no default");
    refused(M("{\"name\": \"a\", \"type\": \"email\", \"max_chars\": 40, \"default\": \"x\"}"),
            "default is not a valid e-mail address");

    /* Lenient spellings are read as the type reads JSON, and kept canonical. */
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(
        M("{\"name\": \"u\", \"type\": \"uuid\", \"default\": "
          "\"123E4567E89B42D3A456426614174000\"},"
          "{\"name\": \"o\", \"type\": \"objectid\", \"default\": \"6750A1C2E4B0C3D2A1F00001\"},"
          "{\"name\": \"d\", \"type\": \"decimal\", \"precision\": 5, \"scale\": 1, \"default\": "
          "\"2.5e1\"},"
          "{\"name\": \"j\", \"type\": \"json\", \"default\": \"a string\"}"),
        &err);
    if (!s)
        fail_msg("%s", err.message);
    const kura_model *m = kura_schema_model(s, 0);
    assert_string_equal(m->fields[0].default_string, "123e4567-e89b-42d3-a456-426614174000");
    assert_string_equal(m->fields[1].default_string, "6750a1c2e4b0c3d2a1f00001");
    assert_string_equal(m->fields[2].default_string, "25.0");
    assert_string_equal(m->fields[3].default_string, "\"a string\"");
    assert_int_equal(m->fields[2].size, KURA_DECIMAL_BYTES(5));
    char *text = kura_schema_to_string(s, &err);
    assert_non_null(strstr(text, "{\"name\": \"d\", \"type\": \"decimal\", \"precision\": 5, "
                                 "\"scale\": 1, \"default\": \"25.0\"}"));
    assert_non_null(
        strstr(text, "{\"name\": \"j\", \"type\": \"json\", \"default\": \"a string\"}"));
    free(text);
    kura_schema_free(s);
}

/* docs/schema-file.md's invoice, as the page writes it in C. */
typedef struct invoice {
    kura_base base;
    char total[KURA_DECIMAL_BYTES(10)];
    char due[KURA_DATE_BYTES];
    char customer[KURA_OBJECTID_BYTES];
    char payment[KURA_UUID_BYTES];
    char *lines;
} invoice;

static const kura_model invoice_model = KURA_MODEL_EX(
    invoice, "invoice", KURA_KEY_UUID, KURA_MODEL_NO_TIMESTAMPS,
    KURA_DECIMAL(invoice, total, 10, 2, .has_default = true, .default_string = "0.00"),
    KURA_DATE(invoice, due, .index = true), KURA_OBJECTID(invoice, customer),
    KURA_UUID(invoice, payment, .unique = true),
    KURA_JSON(invoice, lines, .has_default = true, .default_string = "[]"));

/* The full example of docs/schema-file.md (its first json block) loads as documented. */
/* "references": a model of the same file, before or after, or itself; the
 * writers give it back; what cannot be a reference is refused by name. */
static const char refs_text[] =
    "{\"models\": [\n"
    "  {\"name\": \"post\", \"fields\": [\n"
    "    {\"name\": \"author_id\", \"type\": \"int64\", \"index\": true, \"references\": "
    "\"author\", "
    "\"on_delete\": \"cascade\"}]},\n"
    "  {\"name\": \"author\", \"fields\": [{\"name\": \"name\", \"type\": \"string\", "
    "\"max_chars\": 20}]},\n"
    "  {\"name\": \"comment\", \"fields\": [\n"
    "    {\"name\": \"post_id\", \"type\": \"int32\", \"required\": true, \"references\": "
    "\"post\"},\n"
    "    {\"name\": \"parent_id\", \"type\": \"int64\", \"references\": \"comment\", "
    "\"on_delete\": "
    "\"set_null\"}]}\n"
    "]}";

static void test_references(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(refs_text, &err);
    if (!s)
        fail_msg("%s", err.message);
    const kura_model *p = kura_schema_find(s, "post"), *author = kura_schema_find(s, "author"),
                     *comment = kura_schema_find(s, "comment");
    assert_ptr_equal(p->fields[0].references, author);
    assert_int_equal(p->fields[0].on_delete, KURA_ON_DELETE_CASCADE);
    assert_ptr_equal(comment->fields[0].references, p);
    assert_int_equal(comment->fields[0].on_delete, KURA_ON_DELETE_RESTRICT);
    assert_ptr_equal(comment->fields[1].references, comment);
    assert_int_equal(comment->fields[1].on_delete, KURA_ON_DELETE_SET_NULL);

    char *text = kura_schema_to_string(s, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"references\": \"author\", \"on_delete\": \"cascade\""));
    assert_non_null(strstr(text, "\"required\": true, \"references\": \"post\"}"));
    kura_schema *again = kura_schema_load_string(text, &err);
    if (!again)
        fail_msg("%s\n%s", err.message, text);
    char *text2 = kura_schema_to_string(again, &err);
    assert_string_equal(text, text2);

    /* C: the referenced models declared first, then the options. */
    char *c = kura_schema_to_c(s, &err);
    assert_non_null(c);
    assert_non_null(strstr(c, "\nextern const kura_model post_model;\n"
                              "extern const kura_model author_model;\n"
                              "extern const kura_model comment_model;\n"));
    assert_non_null(strstr(c, "KURA_INT64(post, author_id, .index = true, .references = "
                              "&author_model, .on_delete = KURA_ON_DELETE_CASCADE)"));
    assert_non_null(strstr(c, ".references = &comment_model, .on_delete = "
                              "KURA_ON_DELETE_SET_NULL)"));
    free(c);
    free(text);
    free(text2);
    kura_schema_free(again);
    kura_schema_free(s);

    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"references\": \"nobody\"}"),
            "model m, field a: references 'nobody', which is no model of this schema");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"references\": 3}"),
            "references must be the name of a model");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"on_delete\": \"cascade\"}"),
            "on_delete applies to a field with \"references\"");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"references\": \"m\", \"on_delete\": "
              "\"nullify\"}"),
            "on_delete must be");
    refused(M("{\"name\": \"a\", \"type\": \"string\", \"max_chars\": 9, \"references\": \"m\"}"),
            "cannot hold a key of m, which is int64");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"required\": true, \"references\": \"m\", "
              "\"on_delete\": \"set_null\"}"),
            "cannot set it to NULL");
    refused("{\"models\": [{\"name\": \"d\", \"store\": \"documents\", \"fields\": []},"
            "{\"name\": \"m\", \"fields\": [{\"name\": \"a\", \"type\": \"int64\", "
            "\"references\": \"d\"}]}]}",
            "references 'd', a documents model: a sql model's reference is a foreign key");
    /* A documents model may reference any model: documents enforce nothing. */
    kura_schema *mixed = kura_schema_load_string(
        "{\"models\": [{\"name\": \"d\", \"store\": \"documents\", \"fields\": [{\"name\": "
        "\"a\", \"type\": \"int64\", \"references\": \"m\"}]}, {\"name\": \"m\", \"fields\": "
        "[]}]}",
        &err);
    if (!mixed)
        fail_msg("%s", err.message);
    kura_schema_free(mixed);
}

/* "unique_with": a name or a list, read back by both writers, and refused
 * with the model and field named when it names no other field of the model. */
static void test_unique_with(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(
        M("{\"name\": \"site\", \"type\": \"int64\"},"
          "{\"name\": \"lang\", \"type\": \"string\", \"max_chars\": 8},"
          "{\"name\": \"slug\", \"type\": \"string\", \"max_chars\": 32, "
          "\"unique_with\": [\"site\", \"lang\"]},"
          "{\"name\": \"n\", \"type\": \"int32\", \"unique_with\": \"site\"}"),
        &err);
    if (!s)
        fail_msg("%s", err.message);
    const kura_model *m = kura_schema_find(s, "m");
    assert_string_equal(m->fields[2].unique_with[0], "site");
    assert_string_equal(m->fields[2].unique_with[1], "lang");
    assert_null(m->fields[2].unique_with[2]);
    assert_string_equal(m->fields[3].unique_with[0], "site");
    assert_null(m->fields[3].unique_with[1]);
    assert_null(m->fields[0].unique_with);

    char *text = kura_schema_to_string(s, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"unique_with\": [\"site\", \"lang\"]"));
    kura_schema *again = kura_schema_load_string(text, &err);
    if (!again)
        fail_msg("%s\n%s", err.message, text);
    char *text2 = kura_schema_to_string(again, &err);
    assert_string_equal(text, text2);
    char *c = kura_schema_to_c(s, &err);
    assert_non_null(c);
    assert_non_null(
        strstr(c, "KURA_STRING(m, slug, 32, .unique_with = (const char *const[]){\"site\", "
                  "\"lang\", NULL})"));
    free(c);
    free(text);
    free(text2);
    kura_schema_free(again);
    kura_schema_free(s);

    refused(M("{\"name\": \"a\", \"type\": \"string\", \"max_chars\": 2, \"choices\": "
              "[\"ok\", \"toolong\"]}"),
            "model m, field a: choice 'toolong' is longer than max_chars (2)");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"unique_with\": \"b\"}"),
            "model m, field a: m.a: unique_with names 'b', which is no field of m");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"unique_with\": [\"a\"]}"),
            "unique_with names the field itself");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"unique_with\": []}"),
            "unique_with must be a non-empty array of strings");
    refused(M("{\"name\": \"a\", \"type\": \"int64\", \"unique_with\": [3]}"),
            "unique_with must be a non-empty array of strings");
    refused(M("{\"name\": \"a\", \"type\": \"int64\"}, {\"name\": \"t\", \"type\": "
              "\"tags\", \"unique_with\": \"a\"}"),
            "a tags field cannot be unique with others");
}

static void test_documented_example_loads(void **state)
{
    (void)state;
    FILE *f = fopen(KURA_SCHEMA_DOC, "r");
    assert_non_null(f);
    static char page[1 << 16];
    size_t n = fread(page, 1, sizeof page - 1, f);
    fclose(f);
    page[n] = '\0';
    char *start = strstr(page, "```json\n");
    assert_non_null(start);
    start += strlen("```json\n");
    char *end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    kura_error err = {0};
    kura_schema *s = kura_schema_load_string(start, &err);
    if (!s)
        fail_msg("%s", err.message);
    assert_int_equal(kura_schema_count(s), 3);
    const kura_model *u = kura_schema_find(s, "sa_user");
    assert_non_null(u);
    assert_int_equal(u->nfields, 10);
    assert_string_equal(kura_schema_path(s, 0), "/users");
    assert_int_equal(kura_schema_store_of(s, 1), KURA_SCHEMA_DOCUMENTS);
    assert_string_equal(kura_schema_path(s, 1), "/me_user");
    assert_int_equal(kura_schema_model(s, 1)->key, KURA_KEY_OBJECTID);
    /* The page's invoice struct and descriptor, with the layout of the file's. */
    same_model(kura_schema_find(s, "invoice"), &invoice_model);
    kura_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_is_the_c_layout),
        cmocka_unit_test(test_rows_sqlite),
        cmocka_unit_test(test_rows_documents),
        cmocka_unit_test(test_rows_postgresql),
        cmocka_unit_test(test_errors_name_model_and_field),
        cmocka_unit_test(test_writer_round_trips),
        cmocka_unit_test(test_timestamps_false),
        cmocka_unit_test(test_key_only_model),
        cmocka_unit_test(test_key_kinds),
        cmocka_unit_test(test_new_type_options),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_documented_example_loads),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_unique_with),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
