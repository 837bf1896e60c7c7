/*
 * http_raw_db.h — the handler code both raw HTTP baselines share (bench/http_raw.c
 * on libmicrohttpd, bench/http_raw_h2o.c on h2o): one SQLite connection per
 * thread with prepared statements, jansson for the JSON, the bytes kura serve
 * answers with. Only the server library around it differs.
 */
#ifndef KURA_BENCH_HTTP_RAW_DB_H
#define KURA_BENCH_HTTP_RAW_DB_H

/* The database every thread opens (set once, before serving). */
void raw_db_set_path(const char *path);

/*
 * The answer to GET `path` (decoded, without the query) with query parameter
 * `age` (NULL: absent): *status and compact JSON text (malloc'd; the caller
 * frees it), or NULL when the thread's connection cannot be opened or memory
 * runs out.
 */
char *raw_db_answer(const char *path, const char *age, unsigned *status);

/* Inserts the WORKLOAD.md users 1..n into sa_user (the table kura serve
 * creates). 0 on success. */
int raw_db_seed(int n);

#endif
