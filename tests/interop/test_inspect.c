/*
 * test_inspect.c — kura_inspect on databases kura did not make.
 *
 *  - SQLite: a file made by a Flask-SQLAlchemy app of its own
 *    (library_app.py), inspected into exactly library_expected.json; the
 *    tables without created_at/updated_at (or with one) served as models
 *    without timestamps;
 *    the --c declarations compiled with the system compiler and laid out as
 *    the runtime models are.
 *  - PostgreSQL (with KURA_TEST_PG_URL): tables made with plain SQL through libpq,
 *    and the tables of a Flask-SQLAlchemy app (shop_app.py prints their DDL);
 *  - document collections kura wrote, keyed by int64, uuid, objectid and string.
 * Needs Debian's python3-flask-sqlalchemy; without it the SQLite part skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "pg_env.h"

#define PYTHON "/usr/bin/python3"

static char dir[64], db_path[128], db_url[160];
static bool have_flask;

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/kura-inspect-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/library.db", dir);
    snprintf(db_url, sizeof db_url, "sqlite:///%s", db_path);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' 2>&1", PYTHON, KURA_LIBRARY_SCRIPT, db_path);
    have_flask = access(PYTHON, X_OK) == 0 && system(cmd) == 0;
    if (!have_flask)
        printf("skipped: %s cannot run the Flask-SQLAlchemy app (python3-flask-sqlalchemy)\n",
               PYTHON);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static kura_schema *inspect(const char *url)
{
    kura_error err = {0};
    kura_schema *s = kura_inspect(url, &err);
    if (!s)
        fail_msg("inspect %s: %s", url, err.message);
    return s;
}

static void test_flask_file_gives_the_expected_schema(void **state)
{
    (void)state;
    if (!have_flask)
        skip();
    kura_schema *s = inspect(db_url);
    kura_error err = {0};
    char *text = kura_schema_to_string(s, &err);
    char *want = read_all(KURA_LIBRARY_EXPECTED);
    assert_non_null(text);
    assert_non_null(want);
    if (strcmp(text, want) != 0) {
        printf("inspected:\n%s\nexpected:\n%s", text, want);
        fail();
    }

    /* It is a schema file: it loads back, warnings kept, and writes the same text. */
    kura_schema *again = kura_schema_load_string(text, &err);
    assert_non_null(again);
    assert_int_equal(kura_schema_warning_count(again, (size_t)-1), 1);
    char *text2 = kura_schema_to_string(again, &err);
    assert_string_equal(text, text2);
    free(text);
    free(text2);
    free(want);
    kura_schema_free(again);
    kura_schema_free(s);
}

typedef struct blob {
    char bytes[4096]; /* room for any inspected row in this test */
} blob;

/* Sets a text-valued member (uuid, date, decimal ...) of a runtime model's object. */
static void set_text_field(const kura_model *m, blob *obj, const char *name, const char *text)
{
    const kura_field *f = kura_field_named(m, name);
    assert_non_null(f);
    assert_true(kura_copy_string(obj->bytes + f->offset, f->size, text));
}

static char kura_loan_key[KURA_KEY_BYTES], kura_visit_key[KURA_KEY_BYTES];

/* The tables keyed by text: Flask's rows read by key, kura's inserted with the
 * key kind inspect found (uuid and objectid made by kura, a string given). */
static void keyed_tables(kura_store *db, const kura_schema *s)
{
    kura_error err = {0};
    const kura_model *loan = kura_schema_find(s, "loan"), *genre = kura_schema_find(s, "genre"),
                     *visit = kura_schema_find(s, "visit");
    assert_int_equal(loan->key, KURA_KEY_UUID);
    assert_int_equal(genre->key, KURA_KEY_STRING);
    assert_int_equal(visit->key, KURA_KEY_OBJECTID);
    blob row;
    assert_true(kura_get_key(db, loan, "0189e1c2-7f3a-7b4c-9d5e-000000000001", &row, &err));
    char *json = kura_to_json_string(loan, &row);
    assert_string_equal(json,
                        "{\"id\":\"0189e1c2-7f3a-7b4c-9d5e-000000000001\",\"due\":\"2024-06-01\"}");
    free(json);
    kura_init(loan, &row);
    set_text_field(loan, &row, "due", "2031-01-31");
    if (!kura_insert(db, loan, &row, &err))
        fail_msg("insert loan: %s", err.message);
    kura_copy_string(kura_loan_key, sizeof kura_loan_key, ((kura_base *)&row)->key);
    assert_int_equal(strlen(kura_loan_key), 36);

    assert_true(kura_get_key(db, genre, "fantasy", &row, &err));
    json = kura_to_json_string(genre, &row);
    assert_string_equal(json, "{\"id\":\"fantasy\",\"about\":\"dragons\"}");
    free(json);
    kura_clear(genre, &row);
    kura_init(genre, &row);
    assert_false(kura_insert(db, genre, &row, &err)); /* a string key is the caller's */
    snprintf(((kura_base *)&row)->key, KURA_KEY_BYTES, "sf");
    char **about = (char **)(row.bytes + kura_field_named(genre, "about")->offset);
    assert_true(kura_set_text(about, "robots"));
    if (!kura_insert(db, genre, &row, &err))
        fail_msg("insert genre: %s", err.message);
    kura_clear(genre, &row);

    assert_true(kura_get_key(db, visit, "6750a1c2e4b0c3d2a1f00001", &row, &err));
    json = kura_to_json_string(visit, &row);
    assert_string_equal(json, "{\"id\":\"6750a1c2e4b0c3d2a1f00001\",\"hours\":\"2.5\"}");
    free(json);
    kura_init(visit, &row);
    set_text_field(visit, &row, "hours", "0.5");
    if (!kura_insert(db, visit, &row, &err))
        fail_msg("insert visit: %s", err.message);
    kura_copy_string(kura_visit_key, sizeof kura_visit_key, ((kura_base *)&row)->key);
    assert_int_equal(strlen(kura_visit_key), 24);
}

/* What works on the Flask tables, exactly as inspect's warnings say. */
static void test_tables_through_the_store(void **state)
{
    (void)state;
    if (!have_flask)
        skip();
    kura_schema *s = inspect(db_url);
    const kura_model *author = kura_schema_find(s, "author");
    const kura_model *book = kura_schema_find(s, "book");
    assert_non_null(author);
    assert_non_null(book);
    assert_true(book->size <= sizeof(blob) && author->size <= sizeof(blob));
    kura_error err = {0};
    kura_store *db = kura_store_open(db_url, &err);
    assert_non_null(db);

    /* A table with kura's base columns: read Flask's row, write one of ours. */
    blob a;
    assert_true(kura_get(db, author, 1, &a, &err));
    char *json = kura_to_json_string(author, &a);
    assert_non_null(strstr(json, "\"name\":\"Ursula\""));
    free(json);
    kura_copy_string(a.bytes + kura_field_named(author, "email")->offset,
                     kura_field_named(author, "email")->size, "le.guin@example.com");
    a.bytes[0] = 0;
    memset(&a, 0, sizeof(kura_base));
    assert_true(kura_insert(db, author, &a, &err));
    assert_int_equal(((kura_base *)&a)->id, 2);
    kura_clear(author, &a);

    /* A table without created_at/updated_at: a model without timestamps, served as it is. */
    assert_false(kura_model_has_timestamps(book));
    blob b;
    kura_init(book, &b);
    kura_copy_string(b.bytes + kura_field_named(book, "title")->offset,
                     kura_field_named(book, "title")->size, "Tehanu");
    set_text_field(book, &b, "price", "7.25");
    set_text_field(book, &b, "published", "1990-02-01");
    set_text_field(book, &b, "token", "0189e1c2-7f3a-7b4c-9d5e-6f708192a3b5");
    char **extra = (char **)(b.bytes + kura_field_named(book, "extra")->offset);
    assert_true(kura_set_text(extra, "{\"series\":\"Earthsea\",\"volumes\":[4]}"));
    assert_true(kura_insert(db, book, &b, &err));
    assert_int_equal(((kura_base *)&b)->id, 2);
    assert_int_equal(((kura_base *)&b)->created_at, 0);
    blob back;
    assert_true(kura_get(db, book, 1, &back, &err)); /* Flask's row */
    json = kura_to_json_string(book, &back);
    assert_string_equal(json,
                        "{\"id\":1,\"title\":\"A Wizard of Earthsea\",\"isbn\":\"9780553383041\","
                        "\"pages\":100,\"copies\":3,\"summary\":\"it's short\",\"price\":\"12.50\","
                        "\"published\":\"1968-11-01\",\"extra\":{\"series\":\"Earthsea\","
                        "\"volumes\":[1,2]},\"token\":\"0189e1c2-7f3a-7b4c-9d5e-6f708192a3b4\"}");
    free(json);
    kura_clear(book, &back);
    kura_query q = kura_query_for(book);
    kura_order_by(&q, "title", true);
    kura_rows rows = {0};
    assert_true(kura_find(db, &q, &rows, &err));
    assert_int_equal(rows.count, 2);
    assert_int_equal(((kura_base *)kura_row(&rows, 0))->id, 2); /* Tehanu first */
    kura_rows_free(&rows);
    kura_assign set = {"pages", KURA_VINT(7)};
    int64_t n = 0;
    assert_true(kura_update_where(db, &q, &set, 1, &n, &err));
    assert_int_equal(n, 2);
    kura_query by_stamp = kura_query_for(book);
    kura_order_by(&by_stamp, "created_at", false);
    assert_non_null(kura_query_error(&by_stamp));
    assert_int_equal(kura_query_error(&by_stamp)->code, KURA_INVALID);
    /* kura added no column: the table is still Flask's. */
    assert_false(kura_sql_exec(db, "SELECT created_at FROM book", NULL, 0, NULL, &err));
    assert_non_null(strstr(err.message, "created_at"));
    kura_clear(book, &b);

    /* A table with created_at alone: a field of a model without timestamps. */
    const kura_model *review = kura_schema_find(s, "review");
    assert_non_null(review);
    assert_false(kura_model_has_timestamps(review));
    const kura_field *created = kura_field_named(review, "created_at");
    assert_non_null(created);
    blob r;
    assert_true(kura_get(db, review, 1, &r, &err));
    kura_time t;
    memcpy(&t, r.bytes + created->offset, sizeof t);
    kura_time want_t;
    assert_true(kura_time_parse("2024-05-06 07:08:09.123456", &want_t));
    assert_int_equal(t, want_t);
    kura_clear(review, &r);
    kura_init(review, &r);
    int32_t stars = 3;
    memcpy(r.bytes + kura_field_named(review, "stars")->offset, &stars, sizeof stars);
    kura_set_null(review, &r, created, true);
    assert_true(kura_insert(db, review, &r, &err));
    assert_true(kura_get(db, review, ((kura_base *)&r)->id, &back, &err));
    json = kura_to_json_string(review, &back);
    assert_string_equal(json, "{\"id\":2,\"stars\":3,\"created_at\":null}");
    free(json);
    kura_query recent = kura_query_for(review); /* the field, not a stamp */
    kura_where_time(&recent, "created_at", KURA_GE, want_t);
    assert_true(kura_count(db, &recent, &n, &err));
    assert_int_equal(n, 1);
    kura_clear(review, &back);
    kura_clear(review, &r);

    keyed_tables(db, s);

    /* The Flask app reads what kura wrote: its own types parse every value. */
    char cmd[512], out[2048];
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' read 2>/dev/null", PYTHON, KURA_LIBRARY_SCRIPT,
             db_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    assert_int_equal(pclose(p), 0);
    static const char *const lines[] = {
        "loan 0189e1c2-7f3a-7b4c-9d5e-000000000001 2024-06-01\n",
        "loan %s 2031-01-31\n", /* kura's, keyed by a UUID kura made */
        "genre fantasy dragons\ngenre sf robots\n",
        "visit 6750a1c2e4b0c3d2a1f00001 2.5\nvisit %s 0.5\n",
        "book 2 7.25 1990-02-01 [('series', 'Earthsea'), ('volumes', [4])] "
        "0189e1c2-7f3a-7b4c-9d5e-6f708192a3b5\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, lines[i], i == 1 ? kura_loan_key : kura_visit_key);
        if (!strstr(out, want))
            fail_msg("the Flask app read:\n%s\nwithout:\n%s", out, want);
    }
    assert_true(kura_delete(db, book, 2, &err));

    /* Flask's author, review, loan and genre tables are what kura_migrate would
     * make of the inspected models: nothing missing, no stamps expected of review,
     * the keys as they are. */
    const kura_model *mine[] = {author, review, kura_schema_find(s, "loan"),
                                kura_schema_find(s, "genre")};
    char *script = NULL;
    size_t changes = 99;
    if (!kura_migrate(db, mine, 4, KURA_MIGRATE_DRY_RUN, NULL, NULL, &script, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(changes, 0);
    assert_string_equal(script, "");
    free(script);
    kura_store_close(db);
    kura_schema_free(s);
}

/* A program that prints each model's layout (and its key kind and flags) as the C
 * compiler sees it. */
static void layout_lines(const kura_schema *s, FILE *out, bool as_c)
{
    for (size_t i = 0; i < kura_schema_count(s); i++) {
        const kura_model *m = kura_schema_model(s, i);
        if (as_c)
            fprintf(out, "    printf(\"%s %%zu\\n\", sizeof(%s));\n", m->name, m->name);
        else
            fprintf(out, "%s %zu\n", m->name, m->size);
        for (size_t j = 0; j < m->nfields; j++) {
            const kura_field *f = &m->fields[j];
            if (as_c)
                fprintf(out,
                        "    printf(\"%s.%s %%zu %%zu\\n\", offsetof(%s, %s), "
                        "sizeof(((%s *)0)->%s));\n",
                        m->name, f->name, m->name, f->name, m->name, f->name);
            else
                fprintf(out, "%s.%s %zu %zu\n", m->name, f->name, f->offset, f->size);
        }
        if (as_c)
            fprintf(out,
                    "    printf(\"%%zu %%d %%u\\n\", %s_model.nfields, (int)%s_model.key, "
                    "%s_model.flags);\n",
                    m->name, m->name, m->name);
        else
            fprintf(out, "%zu %d %u\n", m->nfields, (int)m->key, m->flags);
    }
}

static void compiles_with_runtime_layout(const kura_schema *s, const char *name)
{
    kura_error err = {0};
    char *c = kura_schema_to_c(s, &err);
    if (!c)
        fail_msg("to_c: %s", err.message);
    char src[128], bin[128], got[128], want[128], cmd[1024];
    snprintf(src, sizeof src, "%s/%s.c", dir, name);
    snprintf(bin, sizeof bin, "%s/%s", dir, name);
    snprintf(got, sizeof got, "%s/%s.got", dir, name);
    snprintf(want, sizeof want, "%s/%s.want", dir, name);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fprintf(f, "%s\n#include <stdio.h>\n\nint main(void)\n{\n", c);
    layout_lines(s, f, true);
    fprintf(f, "    return 0;\n}\n");
    fclose(f);
    f = fopen(want, "w");
    assert_non_null(f);
    layout_lines(s, f, false);
    fclose(f);
    free(c);
    snprintf(cmd, sizeof cmd,
             "'%s' -std=c11 -Wall -Wextra -Werror -Wno-missing-field-initializers -I '%s' "
             "-o '%s' '%s' && '%s' > '%s' && cmp '%s' '%s'",
             KURA_CC, KURA_INCLUDE_DIR, bin, src, bin, got, got, want);
    if (system(cmd) != 0)
        fail_msg("generated C did not compile or differs in layout: %s", cmd);
}

static void test_c_declarations_compile_with_the_same_layout(void **state)
{
    (void)state;
    if (!have_flask)
        skip();
    kura_schema *s = inspect(db_url);
    compiles_with_runtime_layout(s, "library");
    kura_schema_free(s);

    /* Every type and option, from a schema file. */
    kura_error err = {0};
    s = kura_schema_load_string(
        "{\"models\": [{\"name\": \"every\", \"fields\": ["
        "{\"name\": \"b\", \"type\": \"bool\", \"default\": true},"
        "{\"name\": \"s\", \"type\": \"string\", \"max_chars\": 3, \"choices\": [\"a\\\"?\", "
        "\"\\n\"], \"default\": \"a\\\"?\"},"
        "{\"name\": \"i\", \"type\": \"int32\", \"min\": -5, \"max\": 5, \"default\": -1},"
        "{\"name\": \"j\", \"type\": \"int64\", \"min\": -9223372036854775808, \"unique\": true},"
        "{\"name\": \"d\", \"type\": \"double\", \"default\": 0.1, \"required\": true},"
        "{\"name\": \"t\", \"type\": \"text\", \"default\": \"*/\"},"
        "{\"name\": \"e\", \"type\": \"email\", \"max_chars\": 50, \"index\": true},"
        "{\"name\": \"w\", \"type\": \"datetime\"},"
        "{\"name\": \"g\", \"type\": \"tags\", \"max_chars\": 10, \"choices\": [\"x\"]},"
        "{\"name\": \"z\", \"type\": \"bool\"},"
        "{\"name\": \"u\", \"type\": \"uuid\", \"default\": "
        "\"123e4567-e89b-42d3-a456-426614174000\"},"
        "{\"name\": \"o\", \"type\": \"objectid\", \"unique\": true},"
        "{\"name\": \"dt\", \"type\": \"date\", \"default\": \"2024-02-29\"},"
        "{\"name\": \"p\", \"type\": \"decimal\", \"precision\": 7, \"scale\": 3, "
        "\"default\": \"-1.5\"},"
        "{\"name\": \"js\", \"type\": \"json\", \"default\": {\"k\": [\"*/\", 1]}},"
        "{\"name\": \"q\", \"type\": \"decimal\", \"precision\": 34}]},"
        "{\"name\": \"by_uuid\", \"key\": \"uuid\", \"fields\": ["
        "{\"name\": \"n\", \"type\": \"int32\"}]},"
        "{\"name\": \"by_oid\", \"key\": \"objectid\", \"store\": \"documents\", \"fields\": ["
        "{\"name\": \"d\", \"type\": \"date\"}]},"
        "{\"name\": \"by_name\", \"key\": \"string\", \"timestamps\": false, \"fields\": ["
        "{\"name\": \"c\", \"type\": \"decimal\", \"precision\": 3, \"scale\": 3}]}],"
        "\"warnings\": [\"a */ comment\"]}",
        &err);
    if (!s)
        fail_msg("%s", err.message);
    compiles_with_runtime_layout(s, "every");
    kura_schema_free(s);
}

static void test_postgresql_tables(void **state)
{
    (void)state;
    PGconn *pg = pg_admin();
    if (!pg)
        KURA_SKIP_NO_SERVER("no PostgreSQL: KURA_TEST_PG_URL not set or not answering");
    PGresult *r = PQexec(
        pg, "DROP TABLE IF EXISTS insp_film, insp_pair;"
            "CREATE TABLE insp_film (id SERIAL PRIMARY KEY, title VARCHAR(100) NOT NULL, "
            "code CHAR(4) UNIQUE, year SMALLINT DEFAULT 2000, gross BIGINT, "
            "score DOUBLE PRECISION DEFAULT 0.5, seen BOOLEAN NOT NULL DEFAULT false, "
            "notes TEXT DEFAULT 'it''s', released TIMESTAMP, budget NUMERIC(12, 2), meta JSONB, "
            "rank INTEGER DEFAULT -1, shown TIMESTAMPTZ DEFAULT now(), "
            "created_at TIMESTAMP, updated_at TIMESTAMP);"
            "CREATE INDEX ix_insp_film_year ON insp_film (year);"
            "CREATE INDEX insp_film_title_year ON insp_film (title, year);"
            "CREATE UNIQUE INDEX insp_film_lower ON insp_film (lower(title));"
            "CREATE TABLE insp_pair (id INT, b INT, PRIMARY KEY (id, b));"
            "DROP TABLE IF EXISTS insp_plain;"
            "CREATE TABLE insp_plain (id SERIAL PRIMARY KEY, title VARCHAR(20) NOT NULL);"
            "INSERT INTO insp_plain (title) VALUES ('psql''s');");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s", PQerrorMessage(pg));
    PQclear(r);

    kura_schema *s = inspect(pg_test_url());
    kura_error err = {0};
    char *text = kura_schema_to_string(s, &err);
    assert_non_null(text);
    const char *want =
        "      \"name\": \"insp_film\",\n"
        "      \"store\": \"sql\",\n"
        "      \"path\": \"/insp_film\",\n"
        "      \"fields\": [\n"
        "        {\"name\": \"title\", \"type\": \"string\", \"max_chars\": 100, \"required\": "
        "true},\n"
        "        {\"name\": \"code\", \"type\": \"string\", \"max_chars\": 4, \"unique\": true},\n"
        "        {\"name\": \"year\", \"type\": \"int32\", \"index\": true, \"default\": 2000},\n"
        "        {\"name\": \"gross\", \"type\": \"int64\"},\n"
        "        {\"name\": \"score\", \"type\": \"double\", \"default\": 0.5},\n"
        "        {\"name\": \"seen\", \"type\": \"bool\", \"required\": true, \"default\": "
        "false},\n"
        "        {\"name\": \"notes\", \"type\": \"text\", \"default\": \"it's\"},\n"
        "        {\"name\": \"released\", \"type\": \"datetime\"},\n"
        "        {\"name\": \"budget\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2},\n"
        "        {\"name\": \"meta\", \"type\": \"json\"},\n"
        "        {\"name\": \"rank\", \"type\": \"int32\", \"default\": -1}\n"
        "      ],\n"
        "      \"warnings\": [\n"
        "        \"column insp_film.code is character(4): the database pads shorter values "
        "with blanks, so they read back longer than kura wrote them\",\n"
        "        \"column insp_film.shown has type timestamp with time zone, which kura cannot "
        "map: left out (kura_insert then fails if it is NOT NULL without a default)\",\n"
        "        \"index insp_film_lower on table insp_film is partial or on an expression: left "
        "out (it stays in the database)\",\n"
        "        \"index insp_film_title_year on table insp_film spans several columns (title, "
        "year): kura models index single columns, so it is left out (it stays in the "
        "database)\"\n"
        "      ]\n";
    if (!strstr(text, want)) {
        printf("inspected:\n%s\nexpected within:\n%s", text, want);
        fail();
    }
    assert_non_null(strstr(text, "\"table insp_pair has a primary key of several columns: kura "
                                 "models need a primary key column named id (an integer, a uuid "
                                 "or text), so it is not a model\""));

    /* The runtime model works on the table: insert (SERIAL id), read back. */
    const kura_model *film = kura_schema_find(s, "insp_film");
    kura_store *db = kura_store_open(pg_test_url(), &err);
    assert_non_null(db);
    blob f, back;
    kura_init(film, &f);
    kura_copy_string(f.bytes + kura_field_named(film, "title")->offset, 101, "Ran");
    kura_copy_string(f.bytes + kura_field_named(film, "code")->offset, 5, "R4N1");
    if (!kura_insert(db, film, &f, &err))
        fail_msg("insert: %s", err.message);
    if (!kura_get(db, film, ((kura_base *)&f)->id, &back, &err))
        fail_msg("get: %s", err.message);
    char *a = kura_to_json_string(film, &f), *b = kura_to_json_string(film, &back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    kura_clear(film, &f);
    kura_clear(film, &back);

    /* A table without stamps: "timestamps": false, and the model writes and reads it. */
    assert_non_null(strstr(text, "      \"path\": \"/insp_plain\",\n      \"timestamps\": false,\n"
                                 "      \"fields\": [\n        {\"name\": \"title\", \"type\": "
                                 "\"string\", \"max_chars\": 20, \"required\": true}\n      ]\n"));
    const kura_model *plain = kura_schema_find(s, "insp_plain");
    kura_init(plain, &f);
    kura_copy_string(f.bytes + kura_field_named(plain, "title")->offset, 21, "kura's");
    if (!kura_insert(db, plain, &f, &err))
        fail_msg("insert: %s", err.message);
    kura_query q = kura_query_for(plain);
    kura_order_by(&q, "id", false);
    kura_rows rows = {0};
    assert_true(kura_find(db, &q, &rows, &err));
    assert_int_equal(rows.count, 2);
    char *j0 = kura_to_json_string(plain, kura_row(&rows, 0));
    char *j1 = kura_to_json_string(plain, kura_row(&rows, 1));
    assert_string_equal(j0, "{\"id\":1,\"title\":\"psql's\"}");
    assert_string_equal(j1, "{\"id\":2,\"title\":\"kura's\"}");
    free(j0);
    free(j1);
    kura_rows_free(&rows);
    kura_clear(plain, &f);
    kura_store_close(db);
    free(text);
    kura_schema_free(s);
    r = PQexec(pg, "DROP TABLE IF EXISTS insp_film, insp_pair, insp_plain");
    PQclear(r);
    PQfinish(pg);
}

/* Runs sql (statements separated by ";") on the admin connection; fails the test on error. */
static void pg_run(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
}

/* A Flask-SQLAlchemy app's PostgreSQL tables (shop_app.py prints their DDL, compiled
 * by SQLAlchemy's postgresql dialect): UUID, NUMERIC(p,s), DATE, JSONB and JSON
 * columns, and tables keyed by a UUID, a name and ObjectId-shaped text. */
static void test_postgresql_flask_types_and_keys(void **state)
{
    (void)state;
    if (!have_flask)
        skip();
    PGconn *pg = pg_admin();
    if (!pg)
        KURA_SKIP_NO_SERVER("no PostgreSQL: KURA_TEST_PG_URL not set or not answering");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s '%s' 2>/dev/null", PYTHON, KURA_SHOP_SCRIPT);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char ddl[8192];
    size_t n = fread(ddl, 1, sizeof ddl - 1, p);
    ddl[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(
        strstr(ddl, "CREATE TABLE shop_gadget ( id UUID NOT NULL, price NUMERIC(12, 2)"));
    pg_run(pg, "DROP TABLE IF EXISTS shop_gadget, shop_label, shop_trip");
    pg_run(pg, ddl);
    pg_run(pg, "INSERT INTO shop_gadget (id, price, made, spec, notes, serial) VALUES "
               "('0189E1C2-7F3A-7B4C-9D5E-6F708192A3B4', 19.99, '2024-03-01', '{\"w\": [1, 2]}', "
               "'{\"x\": \"y\"}', '123e4567-e89b-42d3-a456-426614174000');"
               "INSERT INTO shop_label VALUES ('red', '#ff0000');"
               "INSERT INTO shop_trip VALUES ('6750a1c2e4b0c3d2a1f00001', '2024-01-02', "
               "'6750a1c2e4b0c3d2a1f000ff')");

    kura_schema *s = inspect(pg_test_url());
    kura_error err = {0};
    char *text = kura_schema_to_string(s, &err);
    assert_non_null(text);
    static const char *const want[] = {
        "      \"name\": \"shop_gadget\",\n"
        "      \"store\": \"sql\",\n"
        "      \"path\": \"/shop_gadget\",\n"
        "      \"key\": \"uuid\",\n"
        "      \"timestamps\": false,\n"
        "      \"fields\": [\n"
        "        {\"name\": \"price\", \"type\": \"decimal\", \"precision\": 12, \"scale\": 2, "
        "\"required\": true, \"default\": \"0.00\"},\n"
        "        {\"name\": \"made\", \"type\": \"date\"},\n"
        "        {\"name\": \"spec\", \"type\": \"json\"},\n"
        "        {\"name\": \"notes\", \"type\": \"json\"},\n"
        "        {\"name\": \"serial\", \"type\": \"uuid\", \"unique\": true}\n"
        "      ],\n"
        "      \"warnings\": [\n"
        "        \"column shop_gadget.made: its default CURRENT_DATE is not a literal kura keeps, "
        "so "
        "it is left out (kura writes every column on insert: the database's default never "
        "applies)\",\n"
        "        \"column shop_gadget.weight has type numeric, without a precision, which a kura "
        "decimal needs (1 to 34 digits): left out (kura_insert then fails if it is NOT NULL "
        "without a default)\"\n"
        "      ]\n",
        "      \"name\": \"shop_label\",\n"
        "      \"store\": \"sql\",\n"
        "      \"path\": \"/shop_label\",\n"
        "      \"key\": \"string\",\n"
        "      \"timestamps\": false,\n"
        "      \"fields\": [\n"
        "        {\"name\": \"color\", \"type\": \"string\", \"max_chars\": 7, \"default\": "
        "\"#ffffff\"}\n"
        "      ]\n",
        "      \"name\": \"shop_trip\",\n"
        "      \"store\": \"sql\",\n"
        "      \"path\": \"/shop_trip\",\n"
        "      \"key\": \"objectid\",\n"
        "      \"timestamps\": false,\n"
        "      \"fields\": [\n"
        "        {\"name\": \"day\", \"type\": \"date\", \"index\": true},\n"
        "        {\"name\": \"owner\", \"type\": \"objectid\"}\n"
        "      ]\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i])) {
            printf("inspected:\n%s\nexpected within:\n%s", text, want[i]);
            fail();
        }

    /* The models work on the tables: the app's rows read by key, kura's inserted. */
    const kura_model *gadget = kura_schema_find(s, "shop_gadget"),
                     *label = kura_schema_find(s, "shop_label"),
                     *trip = kura_schema_find(s, "shop_trip");
    kura_store *db = kura_store_open(pg_test_url(), &err);
    assert_non_null(db);
    blob row, back;
    if (!kura_get_key(db, gadget, "0189e1c2-7f3a-7b4c-9d5e-6f708192a3b4", &row, &err))
        fail_msg("get: %s", err.message);
    char *json = kura_to_json_string(gadget, &row);
    assert_string_equal(json,
                        "{\"id\":\"0189e1c2-7f3a-7b4c-9d5e-6f708192a3b4\",\"price\":\"19.99\","
                        "\"made\":\"2024-03-01\",\"spec\":{\"w\":[1,2]},\"notes\":{\"x\":\"y\"},"
                        "\"serial\":\"123e4567-e89b-42d3-a456-426614174000\"}");
    free(json);
    kura_clear(gadget, &row);
    kura_init(gadget, &row);
    set_text_field(gadget, &row, "made", "2025-01-01");
    char **spec = (char **)(row.bytes + kura_field_named(gadget, "spec")->offset);
    assert_true(kura_set_text(spec, "{\"a\": [true, null]}"));
    if (!kura_insert(db, gadget, &row, &err))
        fail_msg("insert: %s", err.message);
    if (!kura_get_key(db, gadget, ((kura_base *)&row)->key, &back, &err))
        fail_msg("get: %s", err.message);
    json = kura_to_json_string(gadget, &back);
    char want_json[256];
    snprintf(want_json, sizeof want_json,
             "{\"id\":\"%.63s\",\"price\":\"0.00\",\"made\":\"2025-01-01\",\"spec\":{\"a\":[true,"
             "null]},\"notes\":null,\"serial\":null}",
             ((kura_base *)&row)->key);
    assert_string_equal(json, want_json);
    free(json);
    kura_clear(gadget, &row);
    kura_clear(gadget, &back);

    assert_true(kura_get_key(db, label, "red", &row, &err));
    json = kura_to_json_string(label, &row);
    assert_string_equal(json, "{\"id\":\"red\",\"color\":\"#ff0000\"}");
    free(json);
    kura_init(label, &row);
    snprintf(((kura_base *)&row)->key, KURA_KEY_BYTES, "blue");
    assert_true(kura_insert(db, label, &row, &err));
    assert_true(kura_get_key(db, label, "blue", &back, &err));
    json = kura_to_json_string(label, &back);
    assert_string_equal(json, "{\"id\":\"blue\",\"color\":\"#ffffff\"}");
    free(json);

    assert_true(kura_get_key(db, trip, "6750a1c2e4b0c3d2a1f00001", &row, &err));
    json = kura_to_json_string(trip, &row);
    assert_string_equal(json, "{\"id\":\"6750a1c2e4b0c3d2a1f00001\",\"day\":\"2024-01-02\","
                              "\"owner\":\"6750a1c2e4b0c3d2a1f000ff\"}");
    free(json);
    kura_init(trip, &row);
    kura_objectid_new(row.bytes + kura_field_named(trip, "owner")->offset);
    assert_true(kura_insert(db, trip, &row, &err));
    assert_int_equal(strlen(((kura_base *)&row)->key), 24);
    kura_query q = kura_query_for(trip);
    int64_t count = 0;
    assert_true(kura_count(db, &q, &count, &err));
    assert_int_equal(count, 2);
    kura_store_close(db);

    /* Their C declarations compile with the runtime layout and key kinds. */
    kura_schema_entry e[] = {{gadget, KURA_SCHEMA_SQL, NULL},
                             {label, KURA_SCHEMA_SQL, NULL},
                             {trip, KURA_SCHEMA_SQL, NULL}};
    char *mine = kura_schema_write(e, 3, &err);
    assert_non_null(mine);
    kura_schema *only = kura_schema_load_string(mine, &err);
    if (!only)
        fail_msg("%s\n%s", err.message, mine);
    compiles_with_runtime_layout(only, "shop");
    kura_schema_free(only);
    free(mine);
    free(text);
    kura_schema_free(s);
    pg_run(pg, "DROP TABLE IF EXISTS shop_gadget, shop_label, shop_trip");
    PQfinish(pg);
}

/* A table kura made (kura_create: the columns kura_migrate makes too) with a field of
 * each text-valued type and json, keyed by ObjectIds. */
typedef struct own {
    kura_base base;
    char u[KURA_UUID_BYTES];
    char o[KURA_OBJECTID_BYTES];
    char d[KURA_DATE_BYTES];
    char p[KURA_DECIMAL_BYTES(9)];
    char *j;
} own;
static const kura_model own_model = KURA_MODEL_KEYED(
    own, "insp_own", KURA_KEY_OBJECTID, KURA_UUID(own, u), KURA_OBJECTID(own, o),
    KURA_DATE(own, d, .index = true),
    KURA_DECIMAL(own, p, 9, 3, .has_default = true, .default_string = "1.500"), KURA_JSON(own, j));

static void kura_table_reads_back(const char *url, const char *json_type)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("%s", err.message);
    assert_true(kura_drop(db, &own_model, &err));
    assert_true(kura_create(db, &own_model, &err));
    for (int i = 0; i < 2; i++) {
        own x;
        kura_init(&own_model, &x);
        kura_uuid_new(x.u);
        kura_objectid_new(x.o);
        snprintf(x.d, sizeof x.d, "2020-01-0%c", (char)('1' + i % 9));
        kura_set_text(&x.j, "{\"n\": 1}");
        if (!kura_insert(db, &own_model, &x, &err))
            fail_msg("%s", err.message);
        kura_clear(&own_model, &x);
    }
    kura_schema *s = inspect(url);
    char *text = kura_schema_to_string(s, &err);
    char want[1024];
    snprintf(want, sizeof want,
             "      \"name\": \"insp_own\",\n"
             "      \"store\": \"sql\",\n"
             "      \"path\": \"/insp_own\",\n"
             "      \"key\": \"objectid\",\n"
             "      \"fields\": [\n"
             "        {\"name\": \"u\", \"type\": \"uuid\"},\n"
             "        {\"name\": \"o\", \"type\": \"objectid\"},\n"
             "        {\"name\": \"d\", \"type\": \"date\", \"index\": true},\n"
             "        {\"name\": \"p\", \"type\": \"decimal\", \"precision\": 9, \"scale\": 3, "
             "\"default\": \"1.500\"},\n"
             "        {\"name\": \"j\", \"type\": \"%s\"}\n"
             "      ]\n",
             json_type);
    if (!text || !strstr(text, want))
        fail_msg("inspected:\n%s\nexpected within:\n%s", text ? text : err.message, want);
    /* kura_migrate finds the table as the inspected model would make it. */
    const kura_model *m = kura_schema_find(s, "insp_own");
    char *script = NULL;
    size_t changes = 99;
    if (!kura_migrate(db, &m, 1, KURA_MIGRATE_DRY_RUN, NULL, NULL, &script, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(changes, 0);
    free(script);
    assert_true(kura_drop(db, &own_model, &err));
    kura_store_close(db);
    free(text);
    kura_schema_free(s);
}

/* kura's own columns read back as their types: SQLite's CHAR(36), CHAR(24),
 * DATE and TEXT(p,s) (json is TEXT there: text), PostgreSQL's UUID, CHAR(24),
 * DATE, NUMERIC(p,s) and JSONB; the ObjectId key from its values. */
static void test_kura_tables_read_back(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/own.db", dir);
    kura_table_reads_back(url, "text");
    if (pg_test_url())
        kura_table_reads_back(pg_test_url(), "json");
}

/* Foreign keys read back as references, kura's own and others' made in SQL;
 * those a field cannot declare are left out with a warning. */
static void references_read_back(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("%s", err.message);
    static const char *const drop[] = {
        "DROP TABLE IF EXISTS ifk_pair", "DROP TABLE IF EXISTS ifk_dflt",
        "DROP TABLE IF EXISTS ifk_byname", "DROP TABLE IF EXISTS ifk_child",
        "DROP TABLE IF EXISTS ifk_parent"};
    static const char *const make[] = {
        "CREATE TABLE ifk_parent (id INTEGER PRIMARY KEY, code VARCHAR(8) UNIQUE, "
        "a INTEGER, b INTEGER, c INTEGER, UNIQUE (a, b), UNIQUE (a, c))",
        "CREATE TABLE ifk_child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
        "REFERENCES ifk_parent (id) ON DELETE CASCADE, up_id INTEGER REFERENCES ifk_child "
        "(id) ON DELETE SET NULL, other_id INTEGER REFERENCES ifk_parent (id))",
        "CREATE TABLE ifk_byname (id INTEGER PRIMARY KEY, code VARCHAR(8) REFERENCES "
        "ifk_parent (code))",
        "CREATE TABLE ifk_dflt (id INTEGER PRIMARY KEY, parent_id INTEGER DEFAULT 1 "
        "REFERENCES ifk_parent (id) ON DELETE SET DEFAULT)",
        "CREATE TABLE ifk_pair (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, FOREIGN KEY "
        "(a, b) REFERENCES ifk_parent (a, b))"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        assert_true(kura_sql_exec(db, drop[i], NULL, 0, NULL, &err));
    for (size_t i = 0; i < sizeof make / sizeof make[0]; i++)
        if (!kura_sql_exec(db, make[i], NULL, 0, NULL, &err))
            fail_msg("%s: %s", make[i], err.message);
    kura_schema *s = inspect(url);
    char *text = kura_schema_to_string(s, &err);
    assert_non_null(text);
    static const char *const want[] = {
        "{\"name\": \"parent_id\", \"type\": \"int32\", \"required\": true, \"references\": "
        "\"ifk_parent\", \"on_delete\": \"cascade\"}",
        "{\"name\": \"up_id\", \"type\": \"int32\", \"references\": \"ifk_child\", "
        "\"on_delete\": \"set_null\"}",
        "{\"name\": \"other_id\", \"type\": \"int32\", \"references\": \"ifk_parent\"}",
        "column ifk_byname.code references ifk_parent, but it references a column other than "
        "that table's key",
        "column ifk_dflt.parent_id references ifk_parent, but its ON DELETE is SET DEFAULT",
        "column ifk_pair.a references ifk_parent, but it spans several columns",
        /* UNIQUE (a, b), as Flask-SQLAlchemy's UniqueConstraint makes it: a field
         * unique with another, which the migration below finds by its columns. */
        "{\"name\": \"a\", \"type\": \"int32\", \"unique_with\": [\"b\"]}"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("inspected:\n%s\nlacks:\n%s", text, want[i]);
    /* UNIQUE (a, c) too: a field holds one set, so c, which holds none, takes
     * it (the warning said (a, c) were "not all fields" and the model lost it). */
    if (!strstr(text, "{\"name\": \"c\", \"type\": \"int32\", \"unique_with\": [\"a\"]}") ||
        strstr(text, "left out (it stays"))
        fail_msg("inspected:\n%s\nlacks c unique with a", text);
    /* The model of the table migrates to nothing: its reference is there. */
    const kura_model *m[] = {kura_schema_find(s, "ifk_child"), kura_schema_find(s, "ifk_parent")};
    size_t changes = 99;
    if (!kura_migrate(db, m, 2, KURA_MIGRATE_DRY_RUN, NULL, NULL, NULL, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(changes, 0);
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        assert_true(kura_sql_exec(db, drop[i], NULL, 0, NULL, &err));
    free(text);
    kura_schema_free(s);
    kura_store_close(db);
}

static void test_references_read_back(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/fk.db", dir);
    references_read_back(url);
    if (pg_test_url())
        references_read_back(pg_test_url());
}

/* Runs `kura ARGS` with KURA_DATABASE_URL unset; returns its exit status, stdout in out. */
static int kura_cli(const char *args, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "env -u KURA_DATABASE_URL '%s' %s 2>/dev/null", KURA_BIN, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    if (!have_flask)
        skip();
    static char out[1 << 16];
    char args[256];
    snprintf(args, sizeof args, "inspect '%s'", db_url);
    assert_int_equal(kura_cli(args, out, sizeof out), 0);
    /* The library's text (earlier tests changed the file: compare with now). */
    kura_schema *s = inspect(db_url);
    kura_error err = {0};
    char *want = kura_schema_to_string(s, &err);
    assert_string_equal(out, want);
    free(want);
    kura_schema_free(s);
    snprintf(args, sizeof args, "--database-url '%s' inspect --c", db_url);
    assert_int_equal(kura_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "typedef struct author {\n    kura_base base;\n"));
    assert_non_null(strstr(out, "const kura_model book_model = KURA_MODEL_EX(\n    book, \"book\", "
                                "KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,"));
    assert_int_equal(kura_cli("inspect", out, sizeof out), 2);
    assert_int_equal(kura_cli("inspect --nope x", out, sizeof out), 2);
    assert_int_equal(kura_cli("inspect 'sqlite:////nonexistent/dir/x.db'", out, sizeof out), 1);
}

/* A document collection, as kura's document store writes it. */
typedef struct me_doc {
    kura_base base;
    char name[KURA_STRING_BYTES(64)];
    char email[KURA_STRING_BYTES(128)];
    int32_t age;
    double ratio;
    bool on;
    kura_time born;
    kura_tags tags;
    int64_t big;
} me_doc;
static const kura_model me_doc_model = KURA_MODEL(
    me_doc, "me_doc", KURA_STRING(me_doc, name, 64),
    KURA_EMAIL(me_doc, email, 128, .index = true, .unique = true),
    KURA_INT32(me_doc, age, .index = true), KURA_DOUBLE(me_doc, ratio), KURA_BOOL(me_doc, on),
    KURA_DATETIME(me_doc, born), KURA_TAGS(me_doc, tags), KURA_INT64(me_doc, big));

/*
 * Makes `name` a collection of the JSON layout ("_id", "doc": what kura's
 * document store made before declared fields had columns), which the store
 * keeps using: inspect infers such a collection's fields from its documents.
 */
static void json_collection(const char *url, const char *name, kura_key_kind key)
{
    kura_error err = {0};
    kura_store *sql = kura_store_open(url, &err);
    if (!sql)
        fail_msg("%s", err.message);
    bool pg = strncmp(url, "postgres", 8) == 0;
    char stmt[256];
    snprintf(stmt, sizeof stmt, "DROP TABLE IF EXISTS \"%s\"", name);
    assert_true(kura_sql_exec(sql, stmt, NULL, 0, NULL, &err));
    snprintf(stmt, sizeof stmt, "CREATE TABLE \"%s\" (\"_id\" %s PRIMARY KEY, \"doc\" %s)", name,
             key != KURA_KEY_INT64 ? "TEXT"
             : pg                  ? "BIGSERIAL"
                                   : "INTEGER",
             pg ? "JSONB NOT NULL" : "TEXT NOT NULL");
    if (!kura_sql_exec(sql, stmt, NULL, 0, NULL, &err))
        fail_msg("%s", err.message);
    kura_store_close(sql);
}

static void collection_sampled(const char *url, const char *fields)
{
    kura_error err = {0};
    kura_store *docs = kura_document_store_open(url, &err);
    if (!docs)
        fail_msg("%s", err.message);
    assert_true(kura_drop(docs, &me_doc_model, &err));
    json_collection(url, "me_doc", KURA_KEY_INT64);
    for (int i = 0; i < 3; i++) {
        me_doc m;
        kura_init(&me_doc_model, &m);
        snprintf(m.name, sizeof m.name, "n%d", i);
        snprintf(m.email, sizeof m.email, "a%d@example.org", i);
        m.age = i;
        m.ratio = i + 0.5;
        m.born = kura_now();
        kura_tags_add(&m.tags, "t");
        m.big = 5000000000LL;
        if (i == 1) /* a null is no evidence against a type */
            kura_set_null(&me_doc_model, &m, kura_field_named(&me_doc_model, "age"), true);
        if (!kura_insert(docs, &me_doc_model, &m, &err))
            fail_msg("%s", err.message);
    }
    kura_schema *s = inspect(url);
    char *text = kura_schema_to_string(s, &err);
    char want[2048];
    snprintf(
        want, sizeof want,
        "      \"name\": \"me_doc\",\n"
        "      \"store\": \"documents\",\n"
        "      \"path\": \"/me_doc\",\n"
        "      \"fields\": [\n%s"
        "      ],\n"
        "      \"warnings\": [\n"
        "        \"collection me_doc: fields inferred from 3 sampled documents (of at most 100); "
        "none is marked required or bounded, and strings are text (e-mail addresses email; "
        "uuid, objectid or date when every value is one in canonical form): check them\"\n"
        "      ]\n",
        fields);
    if (!text || !strstr(text, want)) {
        printf("inspected:\n%s\nexpected within:\n%s", text ? text : err.message, want);
        fail();
    }
    /* The inferred model reads the documents kura wrote. */
    const kura_model *m = kura_schema_find(s, "me_doc");
    kura_query q = kura_query_for(m);
    kura_where_int(&q, "age", KURA_EQ, 2);
    kura_rows rows = {0};
    assert_true(kura_find(docs, &q, &rows, &err));
    assert_int_equal(rows.count, 1);
    char *json = kura_to_json_string(m, kura_row(&rows, 0));
    assert_non_null(strstr(json, "\"name\":\"n2\""));
    assert_non_null(strstr(json, "\"email\":\"a2@example.org\""));
    assert_non_null(strstr(json, "\"age\":2,"));
    free(json);
    kura_rows_free(&rows);
    assert_true(kura_drop(docs, &me_doc_model, &err));
    kura_store_close(docs);
    free(text);
    kura_schema_free(s);
}

#define FIELDS_IN_ORDER                                                                            \
    "        {\"name\": \"name\", \"type\": \"text\"},\n"                                          \
    "        {\"name\": \"email\", \"type\": \"email\", \"max_chars\": 254, \"index\": true, "     \
    "\"unique\": true},\n"                                                                         \
    "        {\"name\": \"age\", \"type\": \"int32\", \"index\": true},\n"                         \
    "        {\"name\": \"ratio\", \"type\": \"double\"},\n"                                       \
    "        {\"name\": \"on\", \"type\": \"bool\"},\n"                                            \
    "        {\"name\": \"born\", \"type\": \"datetime\"},\n"                                      \
    "        {\"name\": \"tags\", \"type\": \"tags\"},\n"                                          \
    "        {\"name\": \"big\", \"type\": \"int64\"}\n"

#define FIELDS_JSONB_ORDER                                                                         \
    "        {\"name\": \"on\", \"type\": \"bool\"},\n"                                            \
    "        {\"name\": \"age\", \"type\": \"int32\", \"index\": true},\n"                         \
    "        {\"name\": \"big\", \"type\": \"int64\"},\n"                                          \
    "        {\"name\": \"born\", \"type\": \"datetime\"},\n"                                      \
    "        {\"name\": \"name\", \"type\": \"text\"},\n"                                          \
    "        {\"name\": \"tags\", \"type\": \"tags\"},\n"                                          \
    "        {\"name\": \"email\", \"type\": \"email\", \"max_chars\": 254, \"index\": true, "     \
    "\"unique\": true},\n"                                                                         \
    "        {\"name\": \"ratio\", \"type\": \"double\"}\n"

static void test_document_collections_are_sampled(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/docs.db", dir);
    collection_sampled(url, FIELDS_IN_ORDER);
    if (pg_test_url()) /* JSONB keeps its keys shortest first: the fields follow */
        collection_sampled(pg_test_url(), FIELDS_JSONB_ORDER);
}

/* Documents another program wrote, without created_at/updated_at (a model
 * without timestamps writes them so): a collection of a model without them. */
typedef struct plain_doc {
    kura_base base;
    char title[KURA_STRING_BYTES(32)];
    int32_t n;
} plain_doc;
static const kura_model plain_doc_model =
    KURA_MODEL_EX(plain_doc, "plain_doc", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(plain_doc, title, 32), KURA_INT32(plain_doc, n));

static void collection_without_stamps(const char *url)
{
    kura_error err = {0};
    kura_store *docs = kura_document_store_open(url, &err);
    if (!docs)
        fail_msg("%s", err.message);
    assert_true(kura_drop(docs, &plain_doc_model, &err));
    json_collection(url, "plain_doc", KURA_KEY_INT64);
    for (int i = 0; i < 2; i++) {
        plain_doc d;
        kura_init(&plain_doc_model, &d);
        snprintf(d.title, sizeof d.title, "t%d", i);
        d.n = i;
        if (!kura_insert(docs, &plain_doc_model, &d, &err))
            fail_msg("%s", err.message);
    }
    kura_schema *s = inspect(url);
    const kura_model *m = kura_schema_find(s, "plain_doc");
    assert_non_null(m);
    assert_false(kura_model_has_timestamps(m));
    assert_int_equal(m->nfields, 2);
    char *text = kura_schema_to_string(s, &err);
    assert_non_null(strstr(text, "\"path\": \"/plain_doc\",\n      \"timestamps\": false,\n"));
    free(text);
    kura_query q = kura_query_for(m);
    kura_where_int(&q, "n", KURA_EQ, 1);
    kura_rows rows = {0};
    assert_true(kura_find(docs, &q, &rows, &err));
    assert_int_equal(rows.count, 1);
    char *json = kura_to_json_string(m, kura_row(&rows, 0));
    /* (JSONB keeps keys shortest first: the field order is the sample's.) */
    assert_non_null(strstr(json, "\"title\":\"t1\""));
    assert_non_null(strstr(json, "\"n\":1"));
    assert_null(strstr(json, "_at"));
    free(json);
    kura_rows_free(&rows);
    assert_true(kura_drop(docs, &plain_doc_model, &err));
    kura_store_close(docs);
    kura_schema_free(s);
}

static void test_collection_without_stamps(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/plain.db", dir);
    collection_without_stamps(url);
    if (pg_test_url())
        collection_without_stamps(pg_test_url());
}

/* Collections keyed by text, with fields of the text-valued and JSON types. */
typedef struct kdoc {
    kura_base base;
    char u[KURA_UUID_BYTES];
    char o[KURA_OBJECTID_BYTES];
    char d[KURA_DATE_BYTES];
    char p[KURA_DECIMAL_BYTES(6)];
    char *j;
    char *mixed;
    char s[KURA_STRING_BYTES(40)];
} kdoc;
#define KDOC_FIELDS                                                                                \
    KURA_UUID(kdoc, u), KURA_OBJECTID(kdoc, o), KURA_DATE(kdoc, d), KURA_DECIMAL(kdoc, p, 6, 2),   \
        KURA_JSON(kdoc, j), KURA_JSON(kdoc, mixed), KURA_STRING(kdoc, s, 40)
static const kura_model kdoc_models[] = {
    KURA_MODEL_KEYED(kdoc, "kdoc_uuid", KURA_KEY_UUID, KDOC_FIELDS),
    KURA_MODEL_KEYED(kdoc, "kdoc_oid", KURA_KEY_OBJECTID, KDOC_FIELDS),
    KURA_MODEL_KEYED(kdoc, "kdoc_str", KURA_KEY_STRING, KDOC_FIELDS),
    KURA_MODEL_KEYED(kdoc, "kdoc_empty", KURA_KEY_OBJECTID, KDOC_FIELDS),
};

static void keyed_collections(const char *url)
{
    kura_error err = {0};
    kura_store *docs = kura_document_store_open(url, &err);
    if (!docs)
        fail_msg("%s", err.message);
    char first[3][KURA_KEY_BYTES];
    for (size_t k = 0; k < 4; k++) {
        const kura_model *m = &kdoc_models[k];
        assert_true(kura_drop(docs, m, &err));
        json_collection(url, m->name, m->key);
        assert_true(kura_create(docs, m, &err));
        for (int i = 0; k < 3 && i < 3; i++) {
            kdoc d;
            kura_init(m, &d);
            if (k == 2)
                snprintf(d.base.key, sizeof d.base.key, "doc-%d", i);
            char digit = (char)('0' + i % 10); /* one character: the arrays are exactly sized */
            snprintf(d.u, sizeof d.u, "123e4567-e89b-42d3-a456-42661417400%c", digit);
            snprintf(d.o, sizeof d.o, "6750a1c2e4b0c3d2a1f0000%c", digit);
            snprintf(d.d, sizeof d.d, "2024-02-2%c", (char)(digit + 7));
            snprintf(d.p, sizeof d.p, "%c.50", digit);
            kura_set_text(&d.j, "{\"k\": [1, \"two\"]}");
            kura_set_text(&d.mixed, i == 0 ? "5" : i == 1 ? "\"five\"" : "{\"n\": 5}");
            /* UUID-shaped, but one is not canonical (upper case): text */
            snprintf(d.s, sizeof d.s,
                     i == 1 ? "123E4567-E89B-42D3-A456-426614174000"
                            : "123e4567-e89b-42d3-a456-426614174000");
            if (!kura_insert(docs, m, &d, &err))
                fail_msg("%s: %s", m->name, err.message);
            if (i == 0)
                kura_copy_string(first[k], sizeof first[k], d.base.key);
            kura_clear(m, &d);
        }
    }
    kura_schema *s = inspect(url);
    char *text = kura_schema_to_string(s, &err);
    static const char *const key_lines[] = {
        "\"path\": \"/kdoc_uuid\",\n      \"key\": \"uuid\",\n      \"fields\": [\n",
        "\"path\": \"/kdoc_oid\",\n      \"key\": \"objectid\",\n      \"fields\": [\n",
        "\"path\": \"/kdoc_str\",\n      \"key\": \"string\",\n      \"fields\": [\n",
        "\"path\": \"/kdoc_empty\",\n      \"key\": \"string\",\n      \"fields\": [",
        "\"collection kdoc_empty has no rows to tell what its text keys are: a string key (kura "
        "then never makes one); when kura's own uuid or objectid keys are what it holds, say "
        "\\\"key\\\": \\\"uuid\\\" or \\\"objectid\\\"\"",
        "\"key kdoc_str.mixed holds values of several kinds (not one kura type): a json field, "
        "which takes any JSON value\"",
    };
    static const char *const field_lines[] = {
        "{\"name\": \"u\", \"type\": \"uuid\"}", "{\"name\": \"o\", \"type\": \"objectid\"}",
        "{\"name\": \"d\", \"type\": \"date\"}", "{\"name\": \"p\", \"type\": \"text\"}",
        "{\"name\": \"j\", \"type\": \"json\"}", "{\"name\": \"mixed\", \"type\": \"json\"}",
        "{\"name\": \"s\", \"type\": \"text\"}",
    };
    for (size_t i = 0; i < sizeof key_lines / sizeof key_lines[0]; i++)
        if (!text || !strstr(text, key_lines[i]))
            fail_msg("inspected:\n%s\nwithout:\n%s", text ? text : err.message, key_lines[i]);
    for (size_t k = 0; k < 3; k++) {
        const char *at = strstr(text, kdoc_models[k].name);
        const char *end = strstr(at, "\"warnings\"");
        for (size_t i = 0; i < sizeof field_lines / sizeof field_lines[0]; i++) {
            const char *f = strstr(at, field_lines[i]);
            if (!f || f > end)
                fail_msg("inspected:\n%s\n%s lacks %s", text, kdoc_models[k].name, field_lines[i]);
        }
        /* The inferred model reads kura's documents by key. */
        const kura_model *m = kura_schema_find(s, kdoc_models[k].name);
        assert_int_equal(m->key, kdoc_models[k].key);
        blob b;
        if (!kura_get_key(docs, m, first[k], &b, &err))
            fail_msg("%s: %s", m->name, err.message);
        char *json = kura_to_json_string(m, &b);
        assert_non_null(strstr(json, "\"u\":\"123e4567-e89b-42d3-a456-426614174000\""));
        assert_non_null(strstr(json, "\"d\":\"2024-02-27\""));
        assert_non_null(strstr(json, "\"mixed\":5"));
        assert_non_null(strstr(json, "\"j\":{\"k\":[1,\"two\"]}"));
        free(json);
        kura_clear(m, &b);
    }
    for (size_t k = 0; k < 4; k++)
        assert_true(kura_drop(docs, &kdoc_models[k], &err));
    kura_store_close(docs);
    free(text);
    kura_schema_free(s);
}

/* A document holding a number beyond int64 (JSON allows it; PostgreSQL writes
 * a double such as 1e20 as its digits) is sampled like any other: jansson's
 * plain reading refuses the whole text, and its keys went unseen. */
static void collection_with_big_number(const char *url)
{
    kura_error err = {0};
    json_collection(url, "big_doc", KURA_KEY_INT64);
    kura_store *sql = kura_store_open(url, &err);
    if (!sql)
        fail_msg("%s", err.message);
    if (!kura_sql_exec(sql,
                       "INSERT INTO big_doc (doc) VALUES ('{\"title\": \"t\", \"huge\": "
                       "123456789012345678901234567890, \"far\": 1e20}')",
                       NULL, 0, NULL, &err))
        fail_msg("%s", err.message);
    kura_schema *s = inspect(url);
    const kura_model *m = kura_schema_find(s, "big_doc");
    assert_non_null(m);
    assert_non_null(kura_field_named(m, "title"));
    assert_non_null(kura_field_named(m, "huge"));
    assert_int_equal(kura_field_named(m, "huge")->type, KURA_TYPE_DOUBLE);
    assert_non_null(kura_field_named(m, "far"));
    char *text = kura_schema_to_string(s, &err);
    assert_null(strstr(text, "not a JSON object"));
    free(text);
    kura_schema_free(s);
    assert_true(kura_sql_exec(sql, "DROP TABLE big_doc", NULL, 0, NULL, &err));
    kura_store_close(sql);
}

static void test_collection_with_big_number(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/docs.db", dir);
    collection_with_big_number(url);
    if (pg_test_url())
        collection_with_big_number(pg_test_url());
}

static void test_collections_keyed_by_text(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/keyed.db", dir);
    keyed_collections(url);
    if (pg_test_url())
        keyed_collections(pg_test_url());
}

/* MongoEngine's own "id" beside kura's key (the guide's MEUser): the key column is "_id". */
typedef struct id_doc {
    kura_base base;
    char id[KURA_STRING_BYTES(24)];
    char name[KURA_STRING_BYTES(16)];
} id_doc;
static const kura_model id_doc_model =
    KURA_MODEL_KEYED(id_doc, "id_doc", KURA_KEY_OBJECTID, KURA_STRING(id_doc, id, 24),
                     KURA_STRING(id_doc, name, 16));

/* A collection of the columns layout (what kura's document store makes): its
 * columns are the fields, typed as a table's; keys kept in "_extra" are said. */
static void columns_collection(const char *url)
{
    kura_error err = {0};
    kura_store *docs = kura_document_store_open(url, &err);
    if (!docs)
        fail_msg("%s", err.message);
    assert_true(kura_drop(docs, &me_doc_model, &err));
    for (int i = 0; i < 2; i++) {
        me_doc m;
        kura_init(&me_doc_model, &m);
        snprintf(m.name, sizeof m.name, "n%d", i);
        snprintf(m.email, sizeof m.email, "c%d@example.org", i);
        m.age = 20 + i;
        if (!kura_insert(docs, &me_doc_model, &m, &err))
            fail_msg("%s", err.message);
        kura_clear(&me_doc_model, &m);
    }
    kura_store *sql = kura_store_open(url, &err);
    assert_non_null(sql);
    assert_true(kura_sql_exec(sql,
                              strncmp(url, "postgres", 8) == 0
                                  ? "UPDATE me_doc SET _extra = '{\"pet\": \"cat\"}' WHERE age = 20"
                                  : "UPDATE me_doc SET _extra = json('{\"pet\": \"cat\"}') "
                                    "WHERE age = 20",
                              NULL, 0, NULL, &err));
    kura_store_close(sql);
    assert_true(kura_drop(docs, &id_doc_model, &err));
    id_doc d;
    kura_init(&id_doc_model, &d);
    snprintf(d.id, sizeof d.id, "me-1");
    snprintf(d.name, sizeof d.name, "ann");
    assert_true(kura_insert(docs, &id_doc_model, &d, &err));
    kura_schema *s = inspect(url);
    char *text = kura_schema_to_string(s, &err);
    const kura_model *idm = kura_schema_find(s, "id_doc");
    if (!idm)
        fail_msg("id_doc not inspected:\n%s", text ? text : err.message);
    assert_int_equal(idm->key, KURA_KEY_OBJECTID);
    assert_int_equal(idm->nfields, 2);
    assert_string_equal(idm->fields[0].name, "id");
    const char *at = text ? strstr(text, "\"name\": \"me_doc\"") : NULL;
    if (!at || !strstr(at, "\"store\": \"documents\"") ||
        !strstr(at, "{\"name\": \"age\", \"type\": \"int32\", \"index\": true}") ||
        !strstr(at, "collection me_doc: 1 documents have keys no field declares") ||
        strstr(at, "\"_extra\""))
        fail_msg("inspected:\n%s", text ? text : err.message);
    const kura_model *m = kura_schema_find(s, "me_doc");
    assert_true(kura_model_has_timestamps(m));
    kura_query q = kura_query_for(m);
    kura_where_int(&q, "age", KURA_EQ, 21);
    kura_rows rows = {0};
    assert_true(kura_find(docs, &q, &rows, &err));
    assert_int_equal(rows.count, 1);
    kura_rows_free(&rows);
    assert_true(kura_drop(docs, &me_doc_model, &err));
    assert_true(kura_drop(docs, &id_doc_model, &err));
    kura_store_close(docs);
    free(text);
    kura_schema_free(s);
}

static void test_columns_collections_read_as_tables(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s/columns.db", dir);
    columns_collection(url);
    if (pg_test_url())
        columns_collection(pg_test_url());
}

static void test_refuses_document_stores(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_store *docs = kura_document_store_open("sqlite://:memory:", &err);
    assert_non_null(docs);
    assert_null(kura_inspect_store(docs, &err));
    assert_int_equal(err.code, KURA_UNSUPPORTED);
    kura_store_close(docs);
    assert_null(kura_inspect("nosuch://x", &err));
    assert_int_equal(err.code, KURA_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flask_file_gives_the_expected_schema),
        cmocka_unit_test(test_tables_through_the_store),
        cmocka_unit_test(test_c_declarations_compile_with_the_same_layout),
        cmocka_unit_test(test_postgresql_tables),
        cmocka_unit_test(test_postgresql_flask_types_and_keys),
        cmocka_unit_test(test_kura_tables_read_back),
        cmocka_unit_test(test_references_read_back),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_document_collections_are_sampled),
        cmocka_unit_test(test_collection_without_stamps),
        cmocka_unit_test(test_collections_keyed_by_text),
        cmocka_unit_test(test_collection_with_big_number),
        cmocka_unit_test(test_columns_collections_read_as_tables),
        cmocka_unit_test(test_refuses_document_stores),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
