/*
 * pg_env.h — what the PostgreSQL tests need from their environment.
 *
 * KURA_TEST_PG_URL   a libpq URL to a throwaway database (tests skip without it)
 * KURA_TEST_PG_BIN   the directory of pg_ctl (restart tests)
 * KURA_TEST_PG_DATA  the cluster's data directory (restart tests)
 *
 * Header-only (static functions) so each test program takes what it uses.
 */
#ifndef KURA_TEST_PG_ENV_H
#define KURA_TEST_PG_ENV_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "servers.h"

#define PG_SKIP_LINE                                                                               \
    "skipped: KURA_TEST_PG_URL not set (postgresql tests need the test command's throwaway "       \
    "cluster)"

/* The test database's URL, or NULL (after printing the skip line once). */
static inline const char *pg_test_url(void)
{
    static int said;
    const char *u = getenv("KURA_TEST_PG_URL");
    if (u && *u)
        return u;
    if (!said++)
        printf("%s\n", PG_SKIP_LINE);
    return NULL;
}

static inline void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A raw libpq connection to the test database (for checks behind kura's back). */
static inline PGconn *pg_admin(void)
{
    const char *u = pg_test_url();
    if (!u)
        return NULL;
    PGconn *c = PQconnectdb(u);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_admin: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, pg_quiet, NULL);
    return c;
}

/* Runs sql on c; returns the first value of the first row as a number (or -1). */
static inline long long pg_admin_value(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "pg_admin_value(%s): %s", sql, PQerrorMessage(c));
    PQclear(r);
    return v;
}

/*
 * A URL to the test server with its connection keywords replaced: dbname,
 * user, password (NULL: keep the test URL's), extra appended as "&k=v...".
 * Built in query form (postgresql:///db?host=...&port=...), which libpq and
 * kura both read. Returns a malloc'd string.
 */
static inline char *pg_url_with(const char *dbname, const char *user, const char *password,
                                const char *extra)
{
    const char *base = pg_test_url();
    if (!base)
        return NULL;
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(base, &why);
    if (!opts) {
        PQfreemem(why);
        return NULL;
    }
    const char *host = NULL, *port = NULL, *u = NULL, *pw = NULL, *db = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "host"))
            host = o->val;
        else if (!strcmp(o->keyword, "port"))
            port = o->val;
        else if (!strcmp(o->keyword, "user"))
            u = o->val;
        else if (!strcmp(o->keyword, "password"))
            pw = o->val;
        else if (!strcmp(o->keyword, "dbname"))
            db = o->val;
    }
    size_t cap = 1024;
    char *out = malloc(cap);
    int n = snprintf(out, cap, "postgresql:///%s?", dbname ? dbname : db ? db : "");
    /* extra may set its own connect_timeout: kura refuses an option given twice */
    if (!extra || !strstr(extra, "connect_timeout="))
        n += snprintf(out + n, cap - (size_t)n, "connect_timeout=5&");
    if (host)
        n += snprintf(out + n, cap - (size_t)n, "host=%s&", host);
    if (port)
        n += snprintf(out + n, cap - (size_t)n, "port=%s&", port);
    if (user || u)
        n += snprintf(out + n, cap - (size_t)n, "user=%s&", user ? user : u);
    if (password || pw)
        n += snprintf(out + n, cap - (size_t)n, "password=%s&", password ? password : pw);
    if (extra)
        n += snprintf(out + n, cap - (size_t)n, "%s", extra);
    if (out[n - 1] == '&' || out[n - 1] == '?')
        out[n - 1] = '\0';
    PQconninfoFree(opts);
    return out;
}

/* Runs `pg_ctl <args>` on the test cluster (as postgres when we are root).
 * Returns the exit status, or -1 when KURA_TEST_PG_BIN/DATA are not set. */
static inline int pg_ctl(const char *args)
{
    const char *bin = getenv("KURA_TEST_PG_BIN");
    const char *data = getenv("KURA_TEST_PG_DATA");
    if (!bin || !data || !*bin || !*data)
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s'%s/pg_ctl' -D '%s' %s >/dev/null 2>&1",
             geteuid() == 0 ? "runuser -u postgres -- " : "", bin, data, args);
    return system(cmd);
}

/*
 * Starts the cluster again with the options it last ran with: postmaster.opts
 * holds its command line ("/usr/.../postgres" "-D" "dir" "-k" "/sock" ...);
 * everything after the data directory goes to pg_ctl -o.
 */
static inline int pg_ctl_start_again(const char *saved_opts)
{
    char args[1536];
    snprintf(args, sizeof args, "-w -t 60 -l '%s/kura_test_restart.log' -o '%s' start",
             getenv("KURA_TEST_PG_DATA"), saved_opts);
    return pg_ctl(args);
}

/* The options of the running cluster (see pg_ctl_start_again) into out. */
static inline int pg_saved_opts(char *out, size_t cap)
{
    const char *data = getenv("KURA_TEST_PG_DATA");
    if (!data)
        return -1;
    char path[1024];
    snprintf(path, sizeof path, "%s/postmaster.opts", data);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1536];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    /* Skip the program, then drop "-D" "dir" wherever it is. */
    char *p = strchr(line, ' ');
    out[0] = '\0';
    size_t len = 0;
    while (p && *p) {
        while (*p == ' ')
            p++;
        char *end = p;
        if (*end == '"') {
            end = strchr(end + 1, '"');
            end = end ? end + 1 : p + strlen(p);
        } else {
            end += strcspn(end, " ");
        }
        size_t tlen = (size_t)(end - p);
        if (tlen == 4 && strncmp(p, "\"-D\"", 4) == 0) {
            p = end;
            while (*p == ' ')
                p++;
            p += *p == '"' ? (strchr(p + 1, '"') ? (size_t)(strchr(p + 1, '"') - p) + 1 : 0)
                           : strcspn(p, " ");
            continue;
        }
        if (tlen && len + tlen + 2 < cap) {
            memcpy(out + len, p, tlen);
            len += tlen;
            out[len++] = ' ';
            out[len] = '\0';
        }
        p = end;
    }
    return 0;
}

#endif
