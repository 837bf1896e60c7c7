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

#include <kura/kura.h>

#include "pg_env.h"

/* The guide's SAUser, plus one field of each other type, with padding on both sides. */
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
               KURA_INT32(rt_user, small));

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
    "  {\"name\": \"small\", \"type\": \"int32\"}]},\n"
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
    assert_int_equal(a->nfields, b->nfields);
    for (size_t i = 0; i < a->nfields; i++) {
        const kura_field *x = &a->fields[i], *y = &b->fields[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->max_chars, y->max_chars);
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

/* The full example of docs/schema-file.md (its first json block) loads as documented. */
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
    assert_int_equal(kura_schema_count(s), 2);
    const kura_model *u = kura_schema_find(s, "sa_user");
    assert_non_null(u);
    assert_int_equal(u->nfields, 10);
    assert_string_equal(kura_schema_path(s, 0), "/users");
    assert_int_equal(kura_schema_store_of(s, 1), KURA_SCHEMA_DOCUMENTS);
    assert_string_equal(kura_schema_path(s, 1), "/me_user");
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
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_documented_example_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
