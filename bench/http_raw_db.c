/*
 * http_raw_db.c — the raw baselines' handler: what a hand-written C service
 * does to answer GET /users/{id} and GET /users?age=N as kura serve does (the
 * same bytes), with no routing table, no validation, no metrics and no log.
 */
#include "http_raw_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#define LIMIT 100 /* kura serve's default page */

static const char *db_path;

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *by_id, *count_age, *by_age;
} conn;

static _Thread_local conn *tl; /* per server thread, never freed: the process ends with it */

void raw_db_set_path(const char *path)
{
    db_path = path;
}

static conn *get_conn(void)
{
    if (tl)
        return tl;
    conn *c = calloc(1, sizeof *c);
    if (!c || sqlite3_open_v2(db_path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_busy_timeout(c->db, 5000);
    const char *cols = "SELECT id, name, email, age, sex, created_at, updated_at FROM sa_user ";
    char sql[256];
    snprintf(sql, sizeof sql, "%sWHERE id = ?", cols);
    sqlite3_prepare_v2(c->db, sql, -1, &c->by_id, NULL);
    sqlite3_prepare_v2(c->db, "SELECT COUNT(*) FROM sa_user WHERE age = ?", -1, &c->count_age,
                       NULL);
    snprintf(sql, sizeof sql, "%sWHERE age = ? ORDER BY id LIMIT ? OFFSET 0", cols);
    sqlite3_prepare_v2(c->db, sql, -1, &c->by_age, NULL);
    if (!c->by_id || !c->count_age || !c->by_age)
        return NULL;
    return tl = c;
}

/* "YYYY-MM-DD HH:MM:SS.ffffff" as stored -> "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
static json_t *iso(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (!t)
        return json_null();
    char out[40];
    snprintf(out, sizeof out, "%.10sT%.15sZ", t, t + 11);
    return json_string(out);
}

static json_t *row(sqlite3_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(o, "email", json_string((const char *)sqlite3_column_text(st, 2)));
    json_object_set_new(o, "age", json_integer(sqlite3_column_int(st, 3)));
    json_object_set_new(o, "sex", json_string((const char *)sqlite3_column_text(st, 4)));
    json_object_set_new(o, "created_at", iso(st, 5));
    json_object_set_new(o, "updated_at", iso(st, 6));
    return o;
}

static char *text(json_t *j)
{
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return t;
}

char *raw_db_answer(const char *path, const char *age, unsigned *status)
{
    conn *c = get_conn();
    if (!c)
        return NULL;
    if (strncmp(path, "/users/", 7) == 0) {
        sqlite3_bind_int64(c->by_id, 1, atoll(path + 7));
        json_t *j = NULL;
        if (sqlite3_step(c->by_id) == SQLITE_ROW)
            j = row(c->by_id);
        sqlite3_reset(c->by_id);
        *status = j ? 200 : 404;
        return text(j ? j : json_object());
    }
    if (strcmp(path, "/users") == 0 && age) {
        int a = atoi(age);
        sqlite3_bind_int(c->count_age, 1, a);
        long long total =
            sqlite3_step(c->count_age) == SQLITE_ROW ? sqlite3_column_int64(c->count_age, 0) : 0;
        sqlite3_reset(c->count_age);
        json_t *items = json_array();
        sqlite3_bind_int(c->by_age, 1, a);
        sqlite3_bind_int(c->by_age, 2, LIMIT);
        while (sqlite3_step(c->by_age) == SQLITE_ROW)
            json_array_append_new(items, row(c->by_age));
        sqlite3_reset(c->by_age);
        *status = 200;
        return text(json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total,
                              "limit", LIMIT, "offset", 0));
    }
    *status = 404;
    return text(json_object());
}

int raw_db_seed(int n)
{
    sqlite3 *db;
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        return 1;
    char now[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(now + k, sizeof now - k, ".%06ld", ts.tv_nsec / 1000);
    sqlite3_stmt *st;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO sa_user (id, name, email, age, sex, created_at, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "seed: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    for (int i = 1; i <= n; i++) {
        char name[32], email[64];
        snprintf(name, sizeof name, "user%05d", i);
        snprintf(email, sizeof email, "user%05d@example.com", i);
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, 18 + (int)((long long)i * 7919 % 63));
        sqlite3_bind_text(st, 5, i % 2 ? "M" : "F", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "seed: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}
