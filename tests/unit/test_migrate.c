/*
 * test_migrate.c — kura_migrate on SQLite (always) and PostgreSQL (with
 * KURA_TEST_PG_URL): one table through four versions of its model.
 *
 *   v1  name, age (indexed)                      created from nothing
 *   v2  + nick (required, no default), level (indexed)   added; rows kept
 *   v3  - level                                  refused; forced: dropped
 *   v4  age becomes a string                     refused; forced: altered
 *                                                (PostgreSQL) / unsupported (SQLite)
 * Then the stamps: a model without timestamps neither adds nor expects them,
 * the same table under a model with them gets both added.
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

#include <kura/migrate.h>
#include <kura/store.h>

#include "pg_env.h"

typedef struct mig_v1 {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t age;
} mig_v1;
static const kura_model v1_model =
    KURA_MODEL(mig_v1, "mig_user", KURA_STRING(mig_v1, name, 32, .required = true),
               KURA_INT32(mig_v1, age, .index = true));

typedef struct mig_v2 {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t age;
    char nick[KURA_STRING_BYTES(8)];
    int32_t level;
} mig_v2;
static const kura_model v2_model = KURA_MODEL(
    mig_v2, "mig_user", KURA_STRING(mig_v2, name, 32, .required = true),
    KURA_INT32(mig_v2, age, .index = true), KURA_STRING(mig_v2, nick, 8, .required = true),
    KURA_INT32(mig_v2, level, .index = true));

typedef struct mig_v3 {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    int32_t age;
    char nick[KURA_STRING_BYTES(8)];
} mig_v3;
static const kura_model v3_model = KURA_MODEL(
    mig_v3, "mig_user", KURA_STRING(mig_v3, name, 32, .required = true),
    KURA_INT32(mig_v3, age, .index = true), KURA_STRING(mig_v3, nick, 8, .required = true));

typedef struct mig_v4 {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
    char age[KURA_STRING_BYTES(10)];
    char nick[KURA_STRING_BYTES(8)];
} mig_v4;
static const kura_model v4_model = KURA_MODEL(
    mig_v4, "mig_user", KURA_STRING(mig_v4, name, 32, .required = true),
    KURA_STRING(mig_v4, age, 10, .index = true), KURA_STRING(mig_v4, nick, 8, .required = true));

typedef struct seen {
    int n, destructive, refused;
    kura_change_kind kinds[16];
} seen;

static void record(const kura_change *c, void *ctx)
{
    seen *s = ctx;
    if (s->n < 16)
        s->kinds[s->n] = c->kind;
    s->n++;
    s->destructive += c->destructive;
    s->refused += c->refused;
}

static bool migrate(kura_store *db, const kura_model *m, unsigned flags, seen *s, char **script,
                    size_t *changes, kura_error *err)
{
    const kura_model *models[] = {m};
    memset(s, 0, sizeof *s);
    return kura_migrate(db, models, 1, flags, record, s, script, changes, err);
}

static int64_t rows_in(kura_store *db, const kura_model *m)
{
    kura_query q = kura_query_for(m);
    int64_t n = -1;
    kura_error err = {0};
    if (!kura_count(db, &q, &n, &err))
        return -1;
    return n;
}

static void scenario(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    bool pg = strcmp(kura_store_driver(db), "postgresql") == 0;
    assert_true(kura_drop(db, &v1_model, &err));
    seen s;
    char *script = NULL;
    size_t changes = 0;

    /* v1 from nothing: a dry run shows the table and its index, makes nothing. */
    assert_true(migrate(db, &v1_model, KURA_MIGRATE_DRY_RUN, &s, &script, &changes, &err));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.kinds[0], KURA_CHANGE_CREATE_TABLE);
    assert_int_equal(s.kinds[1], KURA_CHANGE_ADD_INDEX);
    assert_int_equal(changes, 2);
    assert_non_null(strstr(script, "CREATE TABLE IF NOT EXISTS \"mig_user\""));
    assert_non_null(strstr(script, "\"ix_mig_user_age\""));
    free(script);
    assert_int_equal(rows_in(db, &v1_model), -1); /* no table yet */

    assert_true(migrate(db, &v1_model, 0, &s, &script, &changes, &err));
    assert_int_equal(changes, 2);
    free(script);
    /* Idempotent: the table kura_create would make, so nothing more to do. */
    assert_true(migrate(db, &v1_model, 0, &s, &script, &changes, &err));
    assert_int_equal(s.n, 0);
    assert_int_equal(changes, 0);
    assert_string_equal(script, "");
    free(script);
    assert_true(kura_create(db, &v1_model, &err));
    for (int i = 0; i < 3; i++) {
        mig_v1 u;
        kura_init(&v1_model, &u);
        snprintf(u.name, sizeof u.name, "old%d", i);
        u.age = 20 + i;
        assert_true(kura_insert(db, &v1_model, &u, &err));
    }

    /* v2: two columns and an index added; the rows stay. */
    assert_true(migrate(db, &v2_model, 0, &s, &script, &changes, &err));
    assert_int_equal(s.n, 3); /* nick, level, ix_mig_user_level */
    assert_int_equal(s.destructive, 0);
    assert_non_null(strstr(script, "ADD COLUMN \"nick\""));
    free(script);
    assert_true(migrate(db, &v2_model, 0, &s, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    mig_v2 got2;
    assert_true(kura_get(db, &v2_model, 1, &got2, &err));
    assert_string_equal(got2.name, "old0");
    assert_string_equal(got2.nick, ""); /* the zero default of a required column */
    assert_int_equal(got2.level, 0);
    kura_init(&v2_model, &got2);
    snprintf(got2.name, sizeof got2.name, "new");
    snprintf(got2.nick, sizeof got2.nick, "nn");
    got2.level = 7;
    assert_true(kura_insert(db, &v2_model, &got2, &err));
    assert_int_equal(rows_in(db, &v2_model), 4);

    /* v3: level is gone from the model. Refused, listed, nothing changed. */
    assert_true(migrate(db, &v3_model, KURA_MIGRATE_DRY_RUN, &s, &script, &changes, &err));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.kinds[0], KURA_CHANGE_DROP_COLUMN);
    assert_int_equal(s.refused, 1);
    assert_non_null(strstr(script, "-- refused: mig_user.level"));
    free(script);
    assert_false(migrate(db, &v3_model, 0, &s, &script, &changes, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    assert_string_equal(err.field, "level");
    assert_non_null(script); /* kept, to show what was refused */
    free(script);
    kura_query q = kura_query_for(&v2_model);
    kura_where_int(&q, "level", KURA_EQ, 7);
    int64_t n = 0;
    assert_true(kura_count(db, &q, &n, &err)); /* the column is still there */
    assert_int_equal(n, 1);
    /* Forced: dropped (with its index), the rest kept. */
    assert_true(migrate(db, &v3_model, KURA_MIGRATE_FORCE, &s, NULL, &changes, &err));
    assert_int_equal(s.destructive, 1);
    assert_int_equal(s.refused, 0);
    assert_true(migrate(db, &v3_model, 0, &s, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    assert_int_equal(rows_in(db, &v3_model), 4);
    /* No level column any more: PostgreSQL refuses the query; SQLite reads an
     * unknown "level" as the string 'level' (its double-quote quirk), so the
     * row that had level 7 is simply not found. */
    n = 0;
    if (kura_count(db, &q, &n, &err) && n == 1)
        fail_msg("the level column is still there");

    /* v4: age changes type. */
    assert_false(migrate(db, &v4_model, 0, &s, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    assert_int_equal(s.kinds[0], KURA_CHANGE_ALTER_TYPE);
    bool forced = migrate(db, &v4_model, KURA_MIGRATE_FORCE, &s, NULL, &changes, &err);
    if (pg) {
        if (!forced)
            fail_msg("forced type change: %s", err.message);
        mig_v4 got4;
        assert_true(kura_get(db, &v4_model, 2, &got4, &err));
        assert_string_equal(got4.age, "21");
        assert_true(migrate(db, &v4_model, 0, &s, NULL, &changes, &err));
        assert_int_equal(changes, 0);
    } else {
        assert_false(forced);
        assert_int_equal(err.code, KURA_UNSUPPORTED);
    }
    assert_true(kura_drop(db, &v1_model, &err));
    kura_store_close(db);
}

/* A table with every field type, as kura_create makes it, is what the model says:
 * no spurious retype (decimal precision and scale included). Required columns of
 * the new types can be added to a table with rows (each has a zero default). */
typedef struct mig_all {
    kura_base base;
    int32_t i32;
    int64_t i64;
    double dbl;
    bool flag;
    char str[KURA_STRING_BYTES(12)];
    char *text;
    char email[KURA_STRING_BYTES(40)];
    kura_time when;
    kura_tags tags;
    char uid[KURA_UUID_BYTES];
    char oid[KURA_OBJECTID_BYTES];
    char *meta;
    char day[KURA_DATE_BYTES];
    char price[KURA_DECIMAL_BYTES(12)];
} mig_all;
static const kura_model all_model = KURA_MODEL(
    mig_all, "mig_all", KURA_INT32(mig_all, i32), KURA_INT64(mig_all, i64),
    KURA_DOUBLE(mig_all, dbl), KURA_BOOL(mig_all, flag), KURA_STRING(mig_all, str, 12),
    KURA_TEXT(mig_all, text), KURA_EMAIL(mig_all, email, 40), KURA_DATETIME(mig_all, when),
    KURA_TAGS(mig_all, tags), KURA_UUID(mig_all, uid, .required = true),
    KURA_OBJECTID(mig_all, oid, .required = true), KURA_JSON(mig_all, meta, .required = true),
    KURA_DATE(mig_all, day, .required = true),
    KURA_DECIMAL(mig_all, price, 12, 3, .required = true));
/* The same table before the new types. */
static const kura_model all_before =
    KURA_MODEL(mig_all, "mig_all", KURA_INT32(mig_all, i32), KURA_INT64(mig_all, i64),
               KURA_DOUBLE(mig_all, dbl), KURA_BOOL(mig_all, flag), KURA_STRING(mig_all, str, 12),
               KURA_TEXT(mig_all, text), KURA_EMAIL(mig_all, email, 40),
               KURA_DATETIME(mig_all, when), KURA_TAGS(mig_all, tags));

static void every_type(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    seen s;
    size_t changes = 9;
    assert_true(kura_drop(db, &all_model, &err));
    assert_true(kura_create(db, &all_model, &err));
    if (!migrate(db, &all_model, 0, &s, NULL, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(changes, 0);

    assert_true(kura_drop(db, &all_model, &err));
    assert_true(kura_create(db, &all_before, &err));
    mig_all row;
    kura_init(&all_before, &row);
    assert_true(kura_insert(db, &all_before, &row, &err));
    if (!migrate(db, &all_model, 0, &s, NULL, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(changes, 5);
    assert_int_equal(s.destructive, 0);
    assert_true(migrate(db, &all_model, 0, &s, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    if (!kura_get(db, &all_model, row.base.id, &row, &err))
        fail_msg("get: %s", err.message);
    assert_string_equal(row.uid, "00000000-0000-0000-0000-000000000000");
    assert_string_equal(row.oid, "000000000000000000000000");
    assert_string_equal(row.meta, "{}");
    assert_string_equal(row.day, "1970-01-01");
    assert_string_equal(row.price, "0.000");
    kura_clear(&all_model, &row);
    assert_true(kura_drop(db, &all_model, &err));
    kura_store_close(db);
}

/* One table without created_at/updated_at, then with them. */
typedef struct mig_plain {
    kura_base base;
    char title[KURA_STRING_BYTES(20)];
} mig_plain;
static const kura_model plain_model =
    KURA_MODEL_EX(mig_plain, "mig_plain", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS,
                  KURA_STRING(mig_plain, title, 20));
static const kura_model plain_stamped =
    KURA_MODEL(mig_plain, "mig_plain", KURA_STRING(mig_plain, title, 20));

static void stamps(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    seen s;
    char *script = NULL;
    size_t changes = 9;
    assert_true(kura_drop(db, &plain_model, &err));

    /* Created without them, and then nothing is missing. */
    assert_true(migrate(db, &plain_model, 0, &s, &script, &changes, &err));
    assert_int_equal(changes, 1);
    assert_null(strstr(script, "created_at"));
    free(script);
    assert_true(migrate(db, &plain_model, 0, &s, &script, &changes, &err));
    assert_int_equal(changes, 0);
    assert_string_equal(script, "");
    free(script);
    assert_false(kura_sql_exec(db, "SELECT created_at FROM mig_plain", NULL, 0, NULL, &err));
    mig_plain p;
    kura_init(&plain_model, &p);
    snprintf(p.title, sizeof p.title, "old");
    assert_true(kura_insert(db, &plain_model, &p, &err));

    /* A model with stamps over that table: both added, as columns, rows kept. */
    assert_true(migrate(db, &plain_stamped, KURA_MIGRATE_DRY_RUN, &s, &script, &changes, &err));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.kinds[0], KURA_CHANGE_ADD_COLUMN);
    assert_int_equal(s.kinds[1], KURA_CHANGE_ADD_COLUMN);
    assert_int_equal(s.destructive, 0);
    assert_non_null(strstr(script, "ADD COLUMN \"created_at\""));
    assert_non_null(strstr(script, "ADD COLUMN \"updated_at\""));
    free(script);
    assert_true(migrate(db, &plain_stamped, 0, &s, NULL, &changes, &err));
    assert_int_equal(changes, 2);
    assert_true(migrate(db, &plain_stamped, 0, &s, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    mig_plain got;
    assert_true(kura_get(db, &plain_stamped, p.base.id, &got, &err));
    assert_string_equal(got.title, "old");
    assert_int_equal(got.base.created_at, 0); /* NULL: the row predates them */
    kura_init(&plain_stamped, &got);
    assert_true(kura_insert(db, &plain_stamped, &got, &err));
    assert_true(got.base.created_at > 0);

    /* The model without them over the stamped table: two columns it does not
     * have, so dropping them is destructive and refused without force. */
    assert_true(migrate(db, &plain_model, KURA_MIGRATE_DRY_RUN, &s, NULL, &changes, &err));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.kinds[0], KURA_CHANGE_DROP_COLUMN);
    assert_int_equal(s.refused, 2);
    assert_false(migrate(db, &plain_model, 0, &s, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    assert_true(kura_drop(db, &plain_model, &err));
    kura_store_close(db);
}

/* References: tables made in the order they need whatever the order given; a
 * new column carries its reference; an existing column gains one (PostgreSQL:
 * ALTER TABLE, SQLite: the table rebuilt, see rebuild() below). */
typedef struct mig_team {
    kura_base base;
    char name[KURA_STRING_BYTES(20)];
} mig_team;
static const kura_model team_model =
    KURA_MODEL(mig_team, "mig_team", KURA_STRING(mig_team, name, 20));

typedef struct mig_member {
    kura_base base;
    int64_t team_id;
    int64_t mentor_id;
} mig_member;
static const kura_model member_v1 =
    KURA_MODEL(mig_member, "mig_member", KURA_INT64(mig_member, team_id));
static const kura_model member_v2 =
    KURA_MODEL(mig_member, "mig_member", KURA_INT64(mig_member, team_id),
               KURA_INT64(mig_member, mentor_id, .references = &member_v2,
                          .on_delete = KURA_ON_DELETE_SET_NULL));
static const kura_model member_v3 =
    KURA_MODEL(mig_member, "mig_member", KURA_INT64(mig_member, team_id, .references = &team_model),
               KURA_INT64(mig_member, mentor_id, .references = &member_v3,
                          .on_delete = KURA_ON_DELETE_SET_NULL));

static void references(const char *url, bool pg)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    const kura_model *both[] = {&member_v3, &team_model}; /* the referencing one first */
    assert_true(kura_drop_all(db, both, 2, &err));

    /* From nothing: the referenced table is made first, and the reference holds. */
    size_t changes = 0;
    char *script = NULL;
    assert_true(kura_migrate(db, both, 2, 0, NULL, NULL, &script, &changes, &err));
    assert_true(strstr(script, "\"mig_team\" (") < strstr(script, "\"mig_member\" ("));
    assert_non_null(strstr(script, "REFERENCES \"mig_team\" (\"id\") ON DELETE NO ACTION"));
    free(script);
    assert_true(kura_migrate(db, both, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0); /* the live foreign keys are seen: nothing left */
    mig_member m = {.team_id = 42};
    kura_set_null(&member_v3, &m, kura_field_named(&member_v3, "mentor_id"), true);
    assert_false(kura_insert(db, &member_v3, &m, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_true(kura_drop_all(db, both, 2, &err));

    /* v1, then v2 adds mentor_id with its reference. */
    const kura_model *v1[] = {&member_v1}, *v2[] = {&member_v2}, *v3[] = {&team_model, &member_v3};
    assert_true(kura_migrate(db, v1, 1, 0, NULL, NULL, NULL, &changes, &err));
    assert_true(kura_migrate(db, v2, 1, 0, NULL, NULL, &script, &changes, &err));
    assert_int_equal(changes, 1);
    assert_non_null(strstr(script, "ADD COLUMN \"mentor_id\" BIGINT REFERENCES \"mig_member\""));
    free(script);
    mig_member a = {.team_id = 1}, b = {.team_id = 1};
    kura_set_null(&member_v2, &a, kura_field_named(&member_v2, "mentor_id"), true);
    assert_true(kura_insert(db, &member_v2, &a, &err));
    b.mentor_id = a.base.id + 99;
    assert_false(kura_insert(db, &member_v2, &b, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);

    /* v3 declares a reference on team_id, which exists. */
    seen s;
    memset(&s, 0, sizeof s);
    assert_true(kura_migrate(db, v3, 2, KURA_MIGRATE_DRY_RUN, record, &s, NULL, &changes, &err));
    assert_int_equal(s.n, 2); /* mig_team made, mig_member.team_id's reference */
    assert_int_equal(s.kinds[0], KURA_CHANGE_CREATE_TABLE);
    assert_int_equal(s.kinds[1], KURA_CHANGE_REFERENCE);
    assert_int_equal(s.refused, 0);
    /* Rows whose team_id no team has: the database refuses the key, and the
     * migration changes nothing (mig_team is not left behind either). */
    assert_false(kura_migrate(db, v3, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_false(kura_sql_exec(db, "SELECT 1 FROM mig_team", NULL, 0, NULL, &err));
    assert_true(kura_sql_exec(db, "UPDATE mig_member SET team_id = NULL", NULL, 0, NULL, &err));
    assert_true(kura_migrate(db, v3, 2, 0, NULL, NULL, NULL, &changes, &err));
    /* SQLite: the table made, then rebuilt (create, copy, drop, rename). */
    assert_int_equal(changes, pg ? 2 : 5);
    assert_true(kura_migrate(db, v3, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    b.mentor_id = a.base.id;
    b.team_id = 7; /* no such team */
    assert_false(kura_insert(db, &member_v3, &b, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    const kura_model *all[] = {&member_v3, &team_model};
    assert_true(kura_drop_all(db, all, 2, &err));
    kura_store_close(db);
}

/* Fields unique together: made with a new table, added to a table that lacks
 * the index (refused, changing nothing, while its rows repeat a combination),
 * found again by name, also when that name is longer than PostgreSQL keeps. */
typedef struct mig_slot {
    kura_base base;
    int64_t room_with_a_rather_long_name_for_an_identifier;
    int64_t hour_of_the_day_that_is_also_long;
    char label[KURA_STRING_BYTES(10)];
} mig_slot;
static const kura_model slot_v1 = KURA_MODEL(
    mig_slot, "mig_slot", KURA_INT64(mig_slot, room_with_a_rather_long_name_for_an_identifier),
    KURA_INT64(mig_slot, hour_of_the_day_that_is_also_long));
static const kura_model slot_v2 = KURA_MODEL(
    mig_slot, "mig_slot", KURA_INT64(mig_slot, room_with_a_rather_long_name_for_an_identifier),
    KURA_INT64(mig_slot, hour_of_the_day_that_is_also_long,
               .unique_with =
                   (const char *const[]){"room_with_a_rather_long_name_for_an_identifier", NULL}),
    KURA_STRING(mig_slot, label, 10,
                .unique_with = (const char *const[]){"hour_of_the_day_that_is_also_long", NULL}));

static void unique_with(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    const kura_model *v1[] = {&slot_v1}, *v2[] = {&slot_v2};
    assert_true(kura_drop_all(db, v2, 1, &err));
    size_t changes = 0;
    char *script = NULL;

    /* From nothing: the table and both indexes; then nothing is left to do. */
    assert_true(kura_migrate(db, v2, 1, 0, NULL, NULL, &script, &changes, &err));
    assert_int_equal(changes, 3);
    assert_non_null(strstr(
        script,
        "CREATE UNIQUE INDEX IF NOT EXISTS \"uq_mig_slot_label_hour_of_the_day_that_is_also_long\" "
        "ON \"mig_slot\" (\"label\", \"hour_of_the_day_that_is_also_long\")"));
    free(script);
    assert_true(kura_migrate(db, v2, 1, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0); /* the long name was found as the database keeps it */
    assert_true(kura_drop_all(db, v2, 1, &err));

    /* v1's table with rows that repeat a combination: v2 cannot add the index. */
    assert_true(kura_migrate(db, v1, 1, 0, NULL, NULL, NULL, &changes, &err));
    mig_slot a = {.room_with_a_rather_long_name_for_an_identifier = 1,
                  .hour_of_the_day_that_is_also_long = 9};
    mig_slot b = a;
    assert_true(kura_insert(db, &slot_v1, &a, &err));
    assert_true(kura_insert(db, &slot_v1, &b, &err));
    seen s;
    memset(&s, 0, sizeof s);
    assert_true(kura_migrate(db, v2, 1, KURA_MIGRATE_DRY_RUN, record, &s, NULL, &changes, &err));
    assert_int_equal(s.n, 3); /* label, then the two indexes after it */
    assert_int_equal(s.kinds[0], KURA_CHANGE_ADD_COLUMN);
    assert_int_equal(s.kinds[1], KURA_CHANGE_ADD_INDEX);
    assert_int_equal(s.kinds[2], KURA_CHANGE_ADD_INDEX);
    assert_false(kura_migrate(db, v2, 1, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    /* The database's message, and which change it refused. */
    assert_non_null(strstr(err.message, "migrating mig_slot.hour_of_the_day_that_is_also_long: "));
    assert_false(kura_sql_exec(db, "SELECT label FROM mig_slot", NULL, 0, NULL, &err));
    assert_true(kura_delete(db, &slot_v1, b.base.id, &err));
    assert_true(kura_migrate(db, v2, 1, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 3);
    mig_slot c = a;
    assert_false(kura_insert(db, &slot_v2, &c, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_true(kura_drop_all(db, v2, 1, &err));
    kura_store_close(db);
}

/*
 * SQLite gains a foreign key on a column that exists by rebuilding the table:
 * every row and key, every index (kura's, unique_with, another tool's) and its
 * other references stay; rows of other tables that reference it stay too,
 * ON DELETE CASCADE included (the rebuild drops the old table with foreign
 * keys off, else the drop would delete them); a row breaking the new key
 * refuses the migration and changes nothing; foreign keys are on again after.
 */
typedef struct rb_team {
    kura_base base;
    char name[KURA_STRING_BYTES(20)];
} rb_team;
static const kura_model rb_team_model =
    KURA_MODEL(rb_team, "rb_team", KURA_STRING(rb_team, name, 20));

typedef struct rb_member {
    kura_base base;
    int64_t team_id;
    int64_t mentor_id;
    char email[KURA_STRING_BYTES(40)];
    char nick[KURA_STRING_BYTES(20)];
    int32_t level;
} rb_member;
#define RB_MEMBER_FIELDS(self)                                                                     \
    KURA_INT64(rb_member, mentor_id, .references = self, .on_delete = KURA_ON_DELETE_SET_NULL),    \
        KURA_STRING(rb_member, email, 40, .unique = true),                                         \
        KURA_STRING(rb_member, nick, 20, .unique_with = (const char *const[]){"level", NULL}),     \
        KURA_INT32(rb_member, level, .index = true)
static const kura_model rb_member_v1 = KURA_MODEL(
    rb_member, "rb_member", KURA_INT64(rb_member, team_id), RB_MEMBER_FIELDS(&rb_member_v1));
static const kura_model rb_member_v2 =
    KURA_MODEL(rb_member, "rb_member", KURA_INT64(rb_member, team_id, .references = &rb_team_model),
               RB_MEMBER_FIELDS(&rb_member_v2));

typedef struct rb_task {
    kura_base base;
    int64_t member_id;
    char title[KURA_STRING_BYTES(20)];
} rb_task;
static const kura_model rb_task_model =
    KURA_MODEL(rb_task, "rb_task",
               KURA_INT64(rb_task, member_id, .references = &rb_member_v1,
                          .on_delete = KURA_ON_DELETE_CASCADE),
               KURA_STRING(rb_task, title, 20));

typedef struct rb_count {
    kura_base base;
    int64_t n;
} rb_count;
static const kura_model rb_count_model = KURA_MODEL(rb_count, "rb_count", KURA_INT64(rb_count, n));

/* The integer n of the first row of sql (-1 when it fails). */
static int64_t scalar(kura_store *db, const char *sql)
{
    kura_rows rows = {0};
    kura_error err = {0};
    if (!kura_sql_query(db, &rb_count_model, sql, NULL, 0, &rows, &err) || rows.count == 0) {
        kura_rows_free(&rows);
        return -1;
    }
    int64_t n = ((const rb_count *)kura_row(&rows, 0))->n;
    kura_rows_free(&rows);
    return n;
}

static const char rb_member_refs[] =
    "SELECT count(*) AS n FROM pragma_foreign_key_list('rb_member')";

static rb_member rb_new_member(int64_t team, const char *email, const char *nick, int32_t level)
{
    rb_member m = {.team_id = team, .level = level};
    snprintf(m.email, sizeof m.email, "%s", email);
    snprintf(m.nick, sizeof m.nick, "%s", nick);
    return m;
}

static void rebuild_setup(kura_store *db, rb_member *m, rb_task *t, int64_t team_of_c)
{
    kura_error err = {0};
    const kura_model *all[] = {&rb_task_model, &rb_member_v2, &rb_team_model};
    assert_true(kura_drop_all(db, all, 3, &err));
    const kura_model *v1[] = {&rb_task_model, &rb_member_v1, &rb_team_model};
    size_t changes = 0;
    if (!kura_migrate(db, v1, 3, 0, NULL, NULL, NULL, &changes, &err))
        fail_msg("migrate v1: %s", err.message);
    rb_team t1 = {.name = "one"}, t2 = {.name = "two"};
    assert_true(kura_insert(db, &rb_team_model, &t1, &err));
    assert_true(kura_insert(db, &rb_team_model, &t2, &err));
    const kura_field *mentor = kura_field_named(&rb_member_v1, "mentor_id");
    rb_member gone = rb_new_member(t1.base.id, "gone@x", "gone", 9);
    m[0] = rb_new_member(t1.base.id, "a@x", "a", 1);
    m[1] = rb_new_member(t2.base.id, "b@x", "b", 2);
    m[2] = rb_new_member(team_of_c, "c@x", "c", 2);
    kura_set_null(&rb_member_v1, &m[0], mentor, true);
    kura_set_null(&rb_member_v1, &gone, mentor, true);
    assert_true(kura_insert(db, &rb_member_v1, &m[0], &err));
    assert_true(kura_insert(db, &rb_member_v1, &gone, &err));
    m[1].mentor_id = m[0].base.id;
    assert_true(kura_insert(db, &rb_member_v1, &m[1], &err));
    m[2].mentor_id = m[1].base.id;
    /* team_id has no reference yet: a team that does not exist is taken. */
    assert_true(kura_insert(db, &rb_member_v1, &m[2], &err));
    /* A gap in the keys: the rebuild must keep them, not renumber. */
    assert_true(kura_delete(db, &rb_member_v1, gone.base.id, &err));
    for (int i = 0; i < 3; i++) {
        t[i] = (rb_task){.member_id = m[i].base.id};
        snprintf(t[i].title, sizeof t[i].title, "task %d", i);
        assert_true(kura_insert(db, &rb_task_model, &t[i], &err));
    }
    /* Another tool's index and trigger. */
    assert_true(kura_sql_exec(db, "CREATE INDEX other_nick ON rb_member (nick, email)", NULL, 0,
                              NULL, &err));
    assert_true(kura_sql_exec(
        db,
        "CREATE TRIGGER rb_member_level AFTER UPDATE OF level ON rb_member WHEN new.level = 5 "
        "BEGIN UPDATE rb_member SET nick = nick || '+' WHERE id = new.id; END",
        NULL, 0, NULL, &err));
}

static void rebuild(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    rb_member m[3];
    rb_task t[3];
    rebuild_setup(db, m, t, 99); /* m[2]'s team does not exist */
    const kura_model *v2[] = {&rb_team_model, &rb_member_v2};
    size_t changes = 0;
    char *script = NULL;

    /* The row that breaks the new key refuses the migration; nothing changed. */
    assert_false(kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_string_equal(err.field, "team_id");
    char rowid[64];
    snprintf(rowid, sizeof rowid, "rowid %lld references no row of rb_team",
             (long long)m[2].base.id);
    assert_non_null(strstr(err.message, rowid));
    assert_int_equal(scalar(db, rb_member_refs), 1); /* mentor_id's only */
    assert_int_equal(rows_in(db, &rb_member_v1), 3);
    assert_int_equal(rows_in(db, &rb_task_model), 3);
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM sqlite_schema WHERE name LIKE "
                                "'%kura_rebuild%'"),
                     0);
    /* Foreign keys are on again on every connection. */
    rb_task dangling = {.member_id = 999};
    assert_false(kura_insert(db, &rb_task_model, &dangling, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);

    m[2].team_id = m[0].team_id;
    assert_true(kura_update(db, &rb_member_v1, &m[2], &err));

    /* A dry run lists the rebuild with its statements and changes nothing. */
    seen s;
    memset(&s, 0, sizeof s);
    assert_true(kura_migrate(db, v2, 2, KURA_MIGRATE_DRY_RUN, record, &s, &script, &changes, &err));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.kinds[0], KURA_CHANGE_REFERENCE);
    assert_int_equal(s.refused, 0);
    assert_non_null(strstr(script, "CREATE TABLE \"rb_member__kura_rebuild\" ("));
    assert_non_null(strstr(script, "INSERT INTO \"rb_member__kura_rebuild\" (\"id\", \"team_id\", "
                                   "\"mentor_id\", \"email\", \"nick\", \"level\", \"created_at\", "
                                   "\"updated_at\") SELECT \"id\", "));
    assert_non_null(strstr(script, "DROP TABLE \"rb_member\";\nALTER TABLE "
                                   "\"rb_member__kura_rebuild\" RENAME TO \"rb_member\";\n"));
    assert_non_null(strstr(script, "foreign keys off"));
    free(script);
    size_t planned = changes;
    assert_int_equal(scalar(db, rb_member_refs), 1);

    /* The migration: the table rebuilt with every row, key and index. */
    if (!kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(changes, planned);
    assert_int_equal(scalar(db, rb_member_refs), 2);
    assert_int_equal(rows_in(db, &rb_member_v2), 3);
    for (int i = 0; i < 3; i++) {
        rb_member got;
        assert_true(kura_get(db, &rb_member_v2, m[i].base.id, &got, &err));
        assert_int_equal(got.team_id, m[i].team_id);
        assert_string_equal(got.email, m[i].email);
        assert_string_equal(got.nick, m[i].nick);
        assert_int_equal(got.level, m[i].level);
        assert_int_equal(got.base.created_at, m[i].base.created_at);
        const kura_field *mentor = kura_field_named(&rb_member_v2, "mentor_id");
        assert_int_equal(kura_is_null(&rb_member_v2, &got, mentor), i == 0);
        if (i)
            assert_int_equal(got.mentor_id, m[i].mentor_id);
    }
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'index' AND "
                                "tbl_name = 'rb_member' AND (name IN ('ix_rb_member_level', "
                                "'other_nick') OR name LIKE 'uq_rb_member_%' OR name LIKE "
                                "'sqlite_autoindex_rb_member_%')"),
                     4);
    /* Its trigger was made again, and acts. */
    assert_true(
        kura_sql_exec(db, "UPDATE rb_member SET level = 5 WHERE nick = 'c'", NULL, 0, NULL, &err));
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM rb_member WHERE nick = 'c+'"), 1);
    /* The rows of the table that references it are all there. */
    assert_int_equal(rows_in(db, &rb_task_model), 3);
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'rb_task' "
                                "AND sql LIKE '%REFERENCES \"rb_member\" (\"id\") ON DELETE "
                                "CASCADE%'"),
                     1);
    /* Nothing is left to do. */
    assert_true(kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0);

    /* Foreign keys are enforced again: the new key, and the old ones. */
    rb_member bad = rb_new_member(77, "d@x", "d", 3);
    kura_set_null(&rb_member_v2, &bad, kura_field_named(&rb_member_v2, "mentor_id"), true);
    assert_false(kura_insert(db, &rb_member_v2, &bad, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_false(kura_insert(db, &rb_task_model, &dangling, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    /* Uniqueness holds: the column's and unique_with's. */
    rb_member dup = rb_new_member(m[0].team_id, "a@x", "e", 4);
    kura_set_null(&rb_member_v2, &dup, kura_field_named(&rb_member_v2, "mentor_id"), true);
    assert_false(kura_insert(db, &rb_member_v2, &dup, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    dup = rb_new_member(m[0].team_id, "e@x", "a", 1);
    kura_set_null(&rb_member_v2, &dup, kura_field_named(&rb_member_v2, "mentor_id"), true);
    assert_false(kura_insert(db, &rb_member_v2, &dup, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    /* The references into the rebuilt table act on it: deleting m[1] deletes
     * its task (CASCADE) and sets m[2]'s mentor NULL. */
    assert_true(kura_delete(db, &rb_member_v2, m[1].base.id, &err));
    assert_int_equal(rows_in(db, &rb_task_model), 2);
    rb_member got;
    assert_true(kura_get(db, &rb_member_v2, m[2].base.id, &got, &err));
    assert_true(kura_is_null(&rb_member_v2, &got, kura_field_named(&rb_member_v2, "mentor_id")));

    /* A column the model does not have: refused without force (its data would
     * go with the old table), forced: dropped, then the table rebuilt. */
    rebuild_setup(db, m, t, 0);
    assert_true(kura_sql_exec(db, "ALTER TABLE rb_member ADD COLUMN legacy TEXT DEFAULT 'kept'",
                              NULL, 0, NULL, &err));
    assert_true(kura_sql_exec(db, "UPDATE rb_member SET team_id = 1", NULL, 0, NULL, &err));
    assert_false(kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONFLICT);
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM rb_member WHERE legacy = 'kept'"), 3);
    assert_int_equal(scalar(db, rb_member_refs), 1);
    if (!kura_migrate(db, v2, 2, KURA_MIGRATE_FORCE, NULL, NULL, NULL, &changes, &err))
        fail_msg("forced migrate: %s", err.message);
    assert_int_equal(scalar(db, rb_member_refs), 2);
    assert_int_equal(rows_in(db, &rb_member_v2), 3);
    assert_int_equal(rows_in(db, &rb_task_model), 3);
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM pragma_table_info('rb_member') WHERE "
                                "name = 'legacy'"),
                     0);

    const kura_model *all[] = {&rb_task_model, &rb_member_v2, &rb_team_model};
    assert_true(kura_drop_all(db, all, 3, &err));
    kura_store_close(db);
}

/* The trap on its own: a table without a reference of its own, which a
 * table references ON DELETE CASCADE. Dropped with foreign keys on, the old
 * table would take the rows of the other with it, and the migration would
 * still succeed. */
typedef struct rb_owner {
    kura_base base;
    int64_t team_id;
} rb_owner;
static const kura_model rb_owner_v1 =
    KURA_MODEL(rb_owner, "rb_owner", KURA_INT64(rb_owner, team_id));
static const kura_model rb_owner_v2 =
    KURA_MODEL(rb_owner, "rb_owner", KURA_INT64(rb_owner, team_id, .references = &rb_team_model));
typedef struct rb_pet {
    kura_base base;
    int64_t owner_id;
} rb_pet;
static const kura_model rb_pet_model = KURA_MODEL(
    rb_pet, "rb_pet",
    KURA_INT64(rb_pet, owner_id, .references = &rb_owner_v1, .on_delete = KURA_ON_DELETE_CASCADE));

static void rebuild_cascade(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    const kura_model *all[] = {&rb_pet_model, &rb_owner_v2, &rb_team_model};
    assert_true(kura_drop_all(db, all, 3, &err));
    const kura_model *v1[] = {&rb_pet_model, &rb_owner_v1, &rb_team_model};
    size_t changes = 0;
    assert_true(kura_migrate(db, v1, 3, 0, NULL, NULL, NULL, &changes, &err));
    rb_team team = {.name = "t"};
    assert_true(kura_insert(db, &rb_team_model, &team, &err));
    for (int i = 0; i < 4; i++) {
        rb_owner o = {.team_id = team.base.id};
        assert_true(kura_insert(db, &rb_owner_v1, &o, &err));
        rb_pet pet = {.owner_id = o.base.id};
        assert_true(kura_insert(db, &rb_pet_model, &pet, &err));
    }
    const kura_model *v2[] = {&rb_team_model, &rb_owner_v2};
    /* Inside the caller's transaction foreign keys cannot be turned off:
     * refused, and that transaction goes on. */
    assert_true(kura_begin(db, &err));
    assert_false(kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_non_null(strstr(err.message, "inside the caller's transaction"));
    assert_int_equal(rows_in(db, &rb_pet_model), 4);
    assert_true(kura_commit(db, &err));
    if (!kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(scalar(db, "SELECT count(*) AS n FROM pragma_foreign_key_list('rb_owner')"),
                     1);
    assert_int_equal(rows_in(db, &rb_owner_v2), 4);
    assert_int_equal(rows_in(db, &rb_pet_model), 4);
    assert_true(kura_drop_all(db, all, 3, &err));
    kura_store_close(db);
}

/* A database opened with foreign_keys=off: the rebuild still checks the new
 * key, and leaves the setting as the URL asked. */
static void rebuild_foreign_keys_off(const char *path)
{
    char url[160];
    snprintf(url, sizeof url, "sqlite:///%s?foreign_keys=off", path);
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    rb_member m[3];
    rb_task t[3];
    rebuild_setup(db, m, t, 99);
    const kura_model *v2[] = {&rb_team_model, &rb_member_v2};
    size_t changes = 0;
    assert_false(kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_int_equal(scalar(db, rb_member_refs), 1);
    assert_true(kura_sql_exec(db, "UPDATE rb_member SET team_id = 1", NULL, 0, NULL, &err));
    if (!kura_migrate(db, v2, 2, 0, NULL, NULL, NULL, &changes, &err))
        fail_msg("migrate: %s", err.message);
    assert_int_equal(scalar(db, rb_member_refs), 2);
    assert_int_equal(rows_in(db, &rb_task_model), 3);
    assert_int_equal(scalar(db, "SELECT foreign_keys AS n FROM pragma_foreign_keys"), 0);
    const kura_model *all[] = {&rb_task_model, &rb_member_v2, &rb_team_model};
    assert_true(kura_drop_all(db, all, 3, &err));
    kura_store_close(db);
}

/* A table name so long that "ix_<table>_<column>" passes the 63 bytes
 * PostgreSQL keeps of a name: every index of it once got the same cut name, so
 * CREATE INDEX IF NOT EXISTS made only the first (the second unique field took
 * repeats), and each migration planned the indexes again. */
typedef struct mig_long {
    kura_base base;
    char code[KURA_STRING_BYTES(8)];
    char handle[KURA_STRING_BYTES(8)];
    int64_t rank;
} mig_long;
#define LONG_TABLE "a_table_whose_name_takes_up_most_of_the_sixty_three_bytes_xx"
static const kura_model long_model =
    KURA_MODEL(mig_long, LONG_TABLE, KURA_STRING(mig_long, code, 8, .index = true, .unique = true),
               KURA_STRING(mig_long, handle, 8, .index = true, .unique = true),
               KURA_INT64(mig_long, rank, .index = true));

static void long_names(const char *url)
{
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        fail_msg("open %s: %s", url, err.message);
    const kura_model *models[] = {&long_model};
    assert_true(kura_drop_all(db, models, 1, &err));
    size_t changes = 0;
    assert_true(kura_migrate(db, models, 1, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 4); /* the table and three indexes */
    assert_true(kura_migrate(db, models, 1, 0, NULL, NULL, NULL, &changes, &err));
    assert_int_equal(changes, 0);
    mig_long a = {.rank = 1}, b = {.rank = 2};
    snprintf(a.code, sizeof a.code, "a");
    snprintf(a.handle, sizeof a.handle, "same");
    snprintf(b.code, sizeof b.code, "b");
    snprintf(b.handle, sizeof b.handle, "same");
    assert_true(kura_insert(db, &long_model, &a, &err));
    assert_false(kura_insert(db, &long_model, &b, &err)); /* handle is unique too */
    assert_int_equal(err.code, KURA_CONSTRAINT);
    assert_true(kura_drop_all(db, models, 1, &err));
    kura_store_close(db);
}

static void test_migrate_sqlite(void **state)
{
    (void)state;
    char path[] = "/tmp/kura_migrate_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char url[128];
    snprintf(url, sizeof url, "sqlite:///%s", path);
    scenario(url);
    every_type(url);
    stamps(url);
    references(url, false);
    rebuild(url);
    rebuild_cascade(url);
    rebuild_foreign_keys_off(path);
    unique_with(url);
    long_names(url);
    unlink(path);
    char side[160];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void test_migrate_postgresql(void **state)
{
    (void)state;
    const char *url = pg_test_url();
    if (!url)
        KURA_SKIP_NO_SERVER("KURA_TEST_PG_URL not set or the test database unreachable");
    scenario(url);
    every_type(url);
    stamps(url);
    references(url, true);
    unique_with(url);
    long_names(url);
}

static void test_migrate_refuses_bad_calls(void **state)
{
    (void)state;
    kura_error err = {0};
    assert_false(kura_migrate(NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_refuses_bad_calls),
        cmocka_unit_test(test_migrate_sqlite),
        cmocka_unit_test(test_migrate_postgresql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
