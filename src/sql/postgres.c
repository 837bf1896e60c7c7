/*
 * postgres.c — the PostgreSQL driver (libpq): connections and statements for
 * sql_store.c.
 *
 * Statements are named prepared statements ("k1", "k2", ... per connection)
 * run with text-format parameters, so every value reaches the server as a
 * bound parameter and the server infers its type from the column. Results
 * come back as text (datetimes "YYYY-MM-DD HH:MM:SS[.ffffff]" with DateStyle
 * ISO, booleans "t"/"f") and are decoded by the column_* functions.
 *
 * A connection whose server went away while it sat idle in the pool is
 * noticed before a statement is sent on it (its socket turns readable) and is
 * reopened in place, so an application survives a server restart without
 * reopening the store. Inside a transaction it is never reopened: the
 * statement fails with KURA_UNAVAILABLE and the transaction is lost, which
 * the server has already rolled back. A connection lost after a write or a
 * COMMIT was sent is KURA_OUTCOME_UNKNOWN and nothing is ever sent twice
 * (fail_lost).
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/url.h"
#include "sql/pg_wait.h"
#include "sql/sql_private.h"

typedef struct pg_config {
    char *conninfo;    /* the URL with kura's own options removed */
    long connect_ms;   /* 0: no limit */
    long statement_ms; /* 0: the server's default */
    pg_watch *watch;   /* shared by the store's connections */
} pg_config;

struct kura_sql_conn {
    PGconn *pg;
    const pg_config *cfg;
    unsigned gen;        /* bumped on reconnect: named statements must be prepared again */
    unsigned next_id;    /* the next statement name, "k<next_id>" */
    bool in_tx;          /* the last finished command left a transaction open */
    bool closing;        /* the server said FATAL while the connection sat idle */
    kura_sql_stmt *busy; /* a statement streaming rows: the command in flight */
    char gave_up[128];   /* why kura stopped waiting for the server, or "" */
    unsigned *garbage;   /* ids of finalised statements still prepared on the server */
    size_t ngarbage, garbage_cap;
};

typedef struct pg_param {
    char *buf; /* reused across executions; grows as needed */
    size_t cap;
    bool null;
} pg_param;

enum { ST_READY, ST_BUFFERED, ST_STREAMING, ST_DONE };

struct kura_sql_stmt {
    kura_sql_conn *c;
    char *sql;
    unsigned id;
    unsigned gen; /* the connection generation it was prepared in */
    pg_param *params;
    const char **values; /* what PQexecPrepared reads */
    int nparams, cap;
    bool stream;
    int state;
    PGresult *res;
    int row, nrows;
    PGresult **spill; /* streamed results read ahead so the connection could be used */
    size_t nspill, spill_pos, spill_cap;
    int64_t changes;
    /* pg_column_kind's last parse, which pg_column_int and pg_column_double
     * reuse instead of parsing the same text again (the codec asks the kind,
     * then the value, of every number it reads). */
    const PGresult *parsed_res;
    int parsed_row, parsed_col, parsed_kind;
    int64_t parsed_int;
    double parsed_real;
};

/* ---- errors ------------------------------------------------------------------ */

/* libpq messages end with a newline and may run to several lines: keep the first. */
static int first_line(const char *msg)
{
    if (!msg)
        return 0;
    const char *nl = strchr(msg, '\n');
    int n = nl ? (int)(nl - msg) : (int)strlen(msg);
    return n > 200 ? 200 : n;
}

static kura_code code_for_sqlstate(const char *state)
{
    if (!state || strlen(state) != 5)
        return KURA_STORE;
    if (strncmp(state, "23", 2) == 0) /* integrity constraint violation */
        return KURA_CONSTRAINT;
    if (strcmp(state, "28P01") == 0 || strcmp(state, "28000") == 0)
        return KURA_AUTH;
    if (strcmp(state, "3D000") == 0)
        return KURA_CONFIG;
    if (strcmp(state, "57014") == 0) /* query_canceled: statement_timeout */
        return KURA_TIMEOUT;
    if (strcmp(state, "08P01") == 0) /* protocol violation: e.g. too few parameters */
        return KURA_INVALID;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return KURA_UNAVAILABLE;     /* connection exceptions, shutdown, starting up */
    if (strcmp(state, "53300") == 0) /* too_many_connections */
        return KURA_UNAVAILABLE;
    return KURA_STORE;
}

static void note_tx(kura_sql_conn *c)
{
    PGTransactionStatusType t = PQtransactionStatus(c->pg);
    if (t != PQTRANS_ACTIVE && t != PQTRANS_UNKNOWN)
        c->in_tx = t != PQTRANS_IDLE;
}

/* Whether sql starts with the keyword kw (case-insensitive, then a non-letter). */
static bool starts_with(const char *sql, const char *kw)
{
    while (isspace((unsigned char)*sql) || *sql == '(')
        sql++;
    size_t n = strlen(kw);
    return strncasecmp(sql, kw, n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_';
}

/*
 * The connection broke while `sql` ran (NULL: nothing that could write was
 * sent, e.g. a PREPARE). Outside a transaction a read, BEGIN or SET changed
 * nothing, but any other statement may have been applied; in a transaction
 * the server rolls back what it has, unless the statement was the COMMIT.
 * Either way kura never sends it again: only the caller can know whether
 * running it twice is safe.
 */
static bool fail_lost(kura_sql_conn *c, const char *sql, const char *what, const char *msg,
                      kura_error *err)
{
    if (c->gave_up[0])
        msg = c->gave_up;
    bool unknown;
    if (!sql)
        unknown = false;
    else if (c->in_tx)
        unknown = starts_with(sql, "commit") || starts_with(sql, "end");
    else
        unknown = !starts_with(sql, "select") && !starts_with(sql, "begin") &&
                  !starts_with(sql, "set") && !starts_with(sql, "deallocate") &&
                  !starts_with(sql, "rollback");
    if (unknown)
        return kura_fail(err, KURA_OUTCOME_UNKNOWN, NULL,
                         "postgresql: connection lost during %s before the server answered: "
                         "outcome unknown (it may have been applied; not retried): %.*s",
                         c->in_tx ? "COMMIT" : "a write", first_line(msg), msg);
    if (c->in_tx)
        return kura_fail(err, KURA_UNAVAILABLE, NULL,
                         "postgresql: connection lost inside a transaction (the server rolls it "
                         "back): %.*s",
                         first_line(msg), msg);
    return kura_fail(err, KURA_UNAVAILABLE, NULL, "postgresql: connection lost during %s: %.*s",
                     what, first_line(msg), msg);
}

/* Fills err for a failed command `sql` (NULL: one that cannot write, see
 * fail_lost): res may be NULL (no result at all). */
static bool fail_result(kura_sql_conn *c, const PGresult *res, const char *what, const char *sql,
                        kura_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    kura_code code = code_for_sqlstate(state);
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return fail_lost(c, sql, what, msg, err);
    note_tx(c);
    if (code == KURA_CONSTRAINT) {
        const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
        return kura_fail(err, code, NULL, "postgresql: %.*s%s%.64s%s", first_line(msg), msg,
                         cons ? " (" : "", cons ? cons : "", cons ? ")" : "");
    }
    return kura_fail(err, code, NULL, "postgresql: %s: %.*s", what, first_line(msg), msg);
}

/*
 * A failed connection attempt. libpq has no SQLSTATE accessor for these, so
 * the attempt runs with verbose errors, which put the code in the text
 * ("FATAL:  28P01: password authentication failed ..."); English phrases are
 * the fallback for servers that sent none.
 */
static bool fail_connect(PGconn *pg, kura_error *err)
{
    const char *msg = pg ? PQerrorMessage(pg) : "out of memory";
    const char *state = NULL;
    char code_text[6] = "";
    for (const char *p = strstr(msg, ":  "); p; p = strstr(p + 1, ":  ")) {
        const char *q = p + 3;
        if (strlen(q) > 6 && q[5] == ':') {
            bool ok = true;
            for (int i = 0; i < 5; i++)
                ok = ok && ((q[i] >= '0' && q[i] <= '9') || (q[i] >= 'A' && q[i] <= 'Z'));
            if (ok) {
                memcpy(code_text, q, 5);
                state = code_text;
                msg = q + 7; /* the message after the code */
                while (*msg == ' ')
                    msg++;
                break;
            }
        }
    }
    kura_code code = state ? code_for_sqlstate(state) : KURA_UNAVAILABLE;
    if (!state) {
        if (pg && PQconnectionNeedsPassword(pg))
            code = KURA_AUTH;
        else if (strstr(msg, "password authentication failed") ||
                 strstr(msg, "no password supplied") || strstr(msg, "no pg_hba.conf entry"))
            code = KURA_AUTH;
        else if (strstr(msg, "database \"") && strstr(msg, "does not exist"))
            code = KURA_CONFIG;
        else if (strstr(msg, "invalid ") && strstr(msg, " value")) /* libpq: a bad option */
            code = KURA_CONFIG;
    }
    /* Strip libpq's "connection to server ... failed: " prefix for the reader. */
    const char *failed = strstr(msg, "failed: ");
    if (!state && failed)
        msg = failed + 8;
    switch (code) {
    case KURA_AUTH:
        return kura_fail(err, code, NULL, "postgresql: authentication failed: %.*s",
                         first_line(msg), msg);
    case KURA_CONFIG:
        return kura_fail(err, code, NULL, "postgresql: %.*s", first_line(msg), msg);
    case KURA_UNAVAILABLE:
        return kura_fail(err, code, NULL, "postgresql: server unreachable: %.*s", first_line(msg),
                         msg);
    default:
        return kura_fail(err, code, NULL, "postgresql: cannot connect: %.*s", first_line(msg), msg);
    }
}

/* ---- connections ----------------------------------------------------------- */

/* Notices (e.g. "relation already exists, skipping") would go to stderr. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * libpq hands an error the server sends while a connection is idle (FATAL:
 * terminating connection due to administrator command, before a shutdown) to
 * the notice receiver. Noted here, so that the connection is reopened before a
 * statement is sent on it: sent, a write would fail as outcome unknown when
 * nothing can have run.
 */
static void note_fatal(void *arg, const PGresult *res)
{
    kura_sql_conn *c = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        c->closing = true;
}

/* The result of the command just sent on pg, waited for through the store's
 * watch: PQexec's rule (the first error, else the last result); NULL when
 * nothing came. */
static PGresult *collect(pg_watch *w, PGconn *pg, char *why, size_t cap)
{
    PGresult *keep = NULL, *r;
    for (;;) {
        kura__pg_await(w, pg, why, cap);
        if (!(r = PQgetResult(pg)))
            return keep;
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(r);
            continue;
        }
        PQclear(keep);
        keep = r;
    }
}

/* PQexec with bounded waits. */
static PGresult *run(pg_watch *w, PGconn *pg, const char *sql, char *why, size_t cap)
{
    return PQsendQuery(pg, sql) ? collect(w, pg, why, cap) : NULL;
}

static PGconn *pg_open(const pg_config *cfg, kura_error *err)
{
    if (!kura__pg_admit(cfg->watch, "no connection was opened", err))
        return NULL;
    PGconn *pg = PQconnectStart(cfg->conninfo);
    if (!pg) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory connecting to postgresql");
        return NULL;
    }
    PQsetErrorVerbosity(pg, PQERRORS_VERBOSE);
    PQsetNoticeProcessor(pg, ignore_notice, NULL);
    int64_t deadline = cfg->connect_ms > 0 ? kura__pg_now_ms() + cfg->connect_ms : 0;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    if (PQstatus(pg) == CONNECTION_BAD)
        st = PGRES_POLLING_FAILED;
    char why[128] = "";
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        short events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        int rc = kura__pg_wait_fd(cfg->watch, PQsocket(pg), events, deadline, why, sizeof why);
        if (rc <= 0) {
            kura_fail(err, KURA_UNAVAILABLE, NULL, "postgresql: server unreachable: %s", why);
            PQfinish(pg);
            return NULL;
        }
        st = PQconnectPoll(pg);
    }
    if (st == PGRES_POLLING_FAILED) {
        fail_connect(pg, err);
        PQfinish(pg);
        return NULL;
    }
    PQsetErrorVerbosity(pg, PQERRORS_DEFAULT);
    /* Text results kura can parse: ISO datetimes, exact doubles, UTF-8. */
    char setup[256];
    int n = snprintf(setup, sizeof setup,
                     "SET datestyle TO 'ISO, YMD'; SET client_encoding TO 'UTF8'; "
                     "SET extra_float_digits TO 3");
    if (cfg->statement_ms > 0)
        snprintf(setup + n, sizeof setup - (size_t)n, "; SET statement_timeout TO %ld",
                 cfg->statement_ms);
    PGresult *r = run(cfg->watch, pg, setup, why, sizeof why);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *m = why[0] ? why : r ? PQresultErrorMessage(r) : PQerrorMessage(pg);
        kura_fail(err, PQstatus(pg) == CONNECTION_OK ? KURA_STORE : KURA_UNAVAILABLE, NULL,
                  "postgresql: setting up a connection: %.*s", first_line(m), m);
        PQclear(r);
        PQfinish(pg);
        return NULL;
    }
    PQclear(r);
    return pg;
}

static kura_sql_conn *pg_connect(const void *config, kura_error *err)
{
    kura_sql_conn *c = calloc(1, sizeof *c);
    if (!c) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    c->cfg = config;
    c->pg = pg_open(c->cfg, err);
    if (!c->pg) {
        free(c);
        return NULL;
    }
    c->next_id = 1;
    PQsetNoticeReceiver(c->pg, note_fatal, c);
    return c;
}

static void pg_disconnect(kura_sql_conn *c)
{
    if (!c)
        return;
    PQfinish(c->pg);
    free(c->garbage);
    free(c);
}

/* The next result of the command in flight on c, waited for within bounds. */
static PGresult *next_result(kura_sql_conn *c)
{
    kura__pg_await(c->cfg->watch, c->pg, c->gave_up, sizeof c->gave_up);
    return PQgetResult(c->pg);
}

static PGresult *conn_run(kura_sql_conn *c, const char *sql)
{
    return run(c->cfg->watch, c->pg, sql, c->gave_up, sizeof c->gave_up);
}

static void stmt_clear_spill(kura_sql_stmt *st)
{
    for (size_t i = st->spill_pos; i < st->nspill; i++)
        PQclear(st->spill[i]);
    st->nspill = st->spill_pos = 0;
}

/* Reads the rest of a streaming statement's results so the connection can run
 * another command (a query inside a transaction while a cursor is open). */
static void spill(kura_sql_stmt *st)
{
    kura_sql_conn *c = st->c;
    PGresult *r;
    while ((r = next_result(c))) {
        if (st->nspill == st->spill_cap) {
            size_t cap = st->spill_cap ? st->spill_cap * 2 : 64;
            PGresult **n = realloc(st->spill, cap * sizeof *n);
            if (!n) { /* drop the rows rather than leave the connection busy */
                PQclear(r);
                continue;
            }
            st->spill = n;
            st->spill_cap = cap;
        }
        st->spill[st->nspill++] = r;
    }
    c->busy = NULL;
    note_tx(c);
}

/* Deallocates finalised statements (one round trip for all of them). */
static void collect_garbage(kura_sql_conn *c)
{
    if (!c->ngarbage || PQtransactionStatus(c->pg) == PQTRANS_INERROR)
        return;
    char sql[1024];
    size_t len = 0, done = 0;
    while (done < c->ngarbage && len + 32 < sizeof sql) {
        int n = snprintf(sql + len, sizeof sql - len, "DEALLOCATE k%u;", c->garbage[done++]);
        len += (size_t)n;
    }
    PQclear(conn_run(c, sql));
    memmove(c->garbage, c->garbage + done, (c->ngarbage - done) * sizeof *c->garbage);
    c->ngarbage -= done;
}

/*
 * Makes the connection ready for a new command: finishes a streaming
 * statement, and reopens a connection the server closed while it sat idle
 * outside a transaction (nothing has been sent on it, so nothing can run twice).
 */
static bool conn_ready(kura_sql_conn *c, kura_error *err)
{
    if (!kura__pg_admit(c->cfg->watch, "the statement was not sent", err))
        return false;
    if (c->busy)
        spill(c->busy);
    if (PQstatus(c->pg) == CONNECTION_OK && !c->in_tx) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            PQconsumeInput(c->pg);
            PGnotify *n;
            while ((n = PQnotifies(c->pg)))
                PQfreemem(n);
        }
    }
    if (PQstatus(c->pg) != CONNECTION_OK || (c->closing && !c->in_tx)) {
        if (c->in_tx)
            return kura_fail(err, KURA_UNAVAILABLE, NULL,
                             "postgresql: connection lost inside a transaction (the server "
                             "rolled it back)");
        PGconn *pg = pg_open(c->cfg, err);
        if (!pg)
            return false;
        PQfinish(c->pg);
        c->pg = pg;
        c->closing = false;
        c->gave_up[0] = '\0';
        PQsetNoticeReceiver(c->pg, note_fatal, c);
        c->gen++;
        c->ngarbage = 0; /* the old session's statements went with it */
    }
    collect_garbage(c);
    return true;
}

static bool pg_alive(kura_sql_conn *c)
{
    if (c->busy)
        spill(c->busy);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return false;
    PGresult *r = conn_run(c, "SELECT 1");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    note_tx(c);
    return ok;
}

static bool pg_exec(kura_sql_conn *c, const char *sql, kura_error *err)
{
    if (!conn_ready(c, err))
        return false;
    PGresult *r = conn_run(c, sql);
    ExecStatusType s = PQresultStatus(r);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (ok)
        note_tx(c);
    else
        fail_result(c, r, "exec", sql, err);
    PQclear(r);
    return ok;
}

/* ---- statements ---------------------------------------------------------------- */

static bool stmt_prepare_on_server(kura_sql_stmt *st, kura_error *err)
{
    char name[16];
    snprintf(name, sizeof name, "k%u", st->id);
    kura_sql_conn *c = st->c;
    PGresult *r = PQsendPrepare(c->pg, name, st->sql, 0, NULL)
                      ? collect(c->cfg->watch, c->pg, c->gave_up, sizeof c->gave_up)
                      : NULL;
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (ok) {
        st->gen = st->c->gen;
        note_tx(st->c);
    } else {
        fail_result(st->c, r, "prepare", NULL, err);
    }
    PQclear(r);
    return ok;
}

static kura_sql_stmt *pg_prepare(kura_sql_conn *c, const char *sql, kura_error *err)
{
    if (!conn_ready(c, err))
        return NULL;
    kura_sql_stmt *st = calloc(1, sizeof *st);
    if (!st || !(st->sql = strdup(sql))) {
        free(st);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    st->c = c;
    st->id = c->next_id++;
    if (!stmt_prepare_on_server(st, err)) {
        free(st->sql);
        free(st);
        return NULL;
    }
    return st;
}

static void pg_reset(kura_sql_stmt *st);

static void pg_finalize(kura_sql_stmt *st)
{
    if (!st)
        return;
    pg_reset(st);
    kura_sql_conn *c = st->c;
    if (st->gen == c->gen) { /* still prepared on the server: deallocate it later */
        if (c->ngarbage == c->garbage_cap) {
            size_t cap = c->garbage_cap ? c->garbage_cap * 2 : 16;
            unsigned *n = realloc(c->garbage, cap * sizeof *n);
            if (n) {
                c->garbage = n;
                c->garbage_cap = cap;
            }
        }
        if (c->ngarbage < c->garbage_cap)
            c->garbage[c->ngarbage++] = st->id;
    }
    for (int i = 0; i < st->cap; i++)
        free(st->params[i].buf);
    free(st->params);
    free(st->values);
    free(st->spill);
    free(st->sql);
    free(st);
}

static bool grow_params(kura_sql_stmt *st, int need, kura_error *err)
{
    if (need <= st->cap)
        return true;
    int cap = st->cap ? st->cap : 8;
    while (cap < need)
        cap *= 2;
    pg_param *p = realloc(st->params, (size_t)cap * sizeof *p);
    if (!p)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory binding a parameter");
    st->params = p;
    memset(p + st->cap, 0, (size_t)(cap - st->cap) * sizeof *p);
    const char **v = realloc(st->values, (size_t)cap * sizeof *v);
    if (!v)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory binding a parameter");
    st->values = v;
    for (int i = st->cap; i < cap; i++)
        p[i].null = true;
    st->cap = cap;
    return true;
}

static bool pg_bind(kura_sql_stmt *st, int i, const kura_value *v, kura_error *err)
{
    if (i < 0 || !grow_params(st, i + 1, err))
        return i < 0 ? kura_fail(err, KURA_INVALID, NULL, "bad parameter index") : false;
    pg_param *p = &st->params[i];
    if (i + 1 > st->nparams)
        st->nparams = i + 1;
    p->null = v->kind == KURA_VALUE_NULL;
    if (p->null)
        return true;
    size_t need = v->kind == KURA_VALUE_STRING ? strlen(v->as.s) + 1 : 32;
    if (need > p->cap) {
        size_t cap = need < 64 ? 64 : need;
        char *b = realloc(p->buf, cap);
        if (!b) {
            p->null = true;
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory binding a parameter");
        }
        p->buf = b;
        p->cap = cap;
    }
    switch (v->kind) {
    case KURA_VALUE_NULL:
        break;
    case KURA_VALUE_INT:
        snprintf(p->buf, p->cap, "%lld", (long long)v->as.i);
        break;
    case KURA_VALUE_BOOL:
        strcpy(p->buf, v->as.b ? "true" : "false");
        break;
    case KURA_VALUE_DOUBLE:
        snprintf(p->buf, p->cap, "%.17g", v->as.d);
        break;
    case KURA_VALUE_STRING:
        memcpy(p->buf, v->as.s, need);
        break;
    case KURA_VALUE_TIME:
        kura_time_format(v->as.t, p->buf);
        break;
    }
    return true;
}

static void pg_stream(kura_sql_stmt *st)
{
    st->stream = true;
}

static int64_t cmd_tuples(const PGresult *r)
{
    const char *t = PQcmdTuples((PGresult *)r);
    return t && *t ? strtoll(t, NULL, 10) : 0;
}

static bool stmt_send(kura_sql_stmt *st, kura_error *err)
{
    kura_sql_conn *c = st->c;
    if (!conn_ready(c, err))
        return false;
    /* Reopened since it was prepared: the session's statements are gone. */
    if (st->gen != c->gen && !stmt_prepare_on_server(st, err))
        return false;
    for (int i = 0; i < st->nparams; i++)
        st->values[i] = st->params[i].null ? NULL : st->params[i].buf;
    char name[16];
    snprintf(name, sizeof name, "k%u", st->id);
    if (st->stream) {
        if (!PQsendQueryPrepared(c->pg, name, st->nparams, st->values, NULL, NULL, 0))
            return fail_result(c, NULL, "query", st->sql, err);
        PQsetSingleRowMode(c->pg);
        c->busy = st;
        st->state = ST_STREAMING;
        return true;
    }
    PGresult *r = PQsendQueryPrepared(c->pg, name, st->nparams, st->values, NULL, NULL, 0)
                      ? collect(c->cfg->watch, c->pg, c->gave_up, sizeof c->gave_up)
                      : NULL;
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        fail_result(c, r, "query", st->sql, err);
        PQclear(r);
        return false;
    }
    note_tx(c);
    st->res = r;
    st->row = -1;
    st->nrows = PQntuples(r);
    st->changes = cmd_tuples(r);
    st->state = ST_BUFFERED;
    return true;
}

/* The next result of a streaming statement: read ahead, or from the server. */
static PGresult *next_streamed(kura_sql_stmt *st)
{
    if (st->spill_pos < st->nspill)
        return st->spill[st->spill_pos++];
    if (st->c->busy == st) {
        PGresult *r = next_result(st->c);
        if (!r) {
            st->c->busy = NULL;
            note_tx(st->c);
        }
        return r;
    }
    return NULL;
}

static void stream_finish(kura_sql_stmt *st)
{
    if (st->c->busy == st) {
        PGresult *r;
        while ((r = next_result(st->c)))
            PQclear(r);
        st->c->busy = NULL;
        note_tx(st->c);
    }
    stmt_clear_spill(st);
    st->state = ST_DONE;
}

static int pg_step(kura_sql_stmt *st, kura_error *err)
{
    if (st->state == ST_READY && !stmt_send(st, err)) {
        st->state = ST_DONE;
        return -1;
    }
    if (st->state == ST_BUFFERED) {
        if (++st->row < st->nrows)
            return 1;
        st->state = ST_DONE;
        return 0;
    }
    if (st->state == ST_STREAMING) {
        PQclear(st->res);
        st->res = NULL;
        PGresult *r = next_streamed(st);
        if (!r) {
            st->state = ST_DONE;
            return 0;
        }
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE) {
            st->res = r;
            st->row = 0;
            st->nrows = 1;
            return 1;
        }
        int rc = 0;
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
            st->changes = cmd_tuples(r);
        } else {
            /* Drain first so that the connection state (lost? in a failed
             * transaction?) is known when the error is described. */
            stream_finish(st);
            fail_result(st->c, r, "query", st->sql, err);
            rc = -1;
        }
        PQclear(r);
        stream_finish(st);
        return rc;
    }
    return 0;
}

static void pg_reset(kura_sql_stmt *st)
{
    if (st->state == ST_STREAMING)
        stream_finish(st);
    stmt_clear_spill(st);
    PQclear(st->res);
    st->res = NULL;
    st->row = st->nrows = 0;
    for (int i = 0; i < st->nparams; i++)
        st->params[i].null = true;
    st->nparams = 0;
    st->stream = false;
    st->state = ST_READY;
}

static int pg_column_count(kura_sql_stmt *st)
{
    return st->res ? PQnfields(st->res) : 0;
}

static const char *pg_column_name(kura_sql_stmt *st, int i)
{
    return st->res ? PQfname(st->res, i) : NULL;
}

static bool pg_column_null(kura_sql_stmt *st, int i)
{
    return !st->res || PQgetisnull(st->res, st->row, i);
}

/* By its text, as pg_column_int and pg_column_double read it. */
static int pg_column_kind(kura_sql_stmt *st, int i)
{
    if (pg_column_null(st, i))
        return KURA_SQL_KIND_NULL;
    const char *t = PQgetvalue(st->res, st->row, i);
    int kind = KURA_SQL_KIND_OTHER;
    char *end = NULL;
    if ((t[0] == 't' || t[0] == 'f') && t[1] == '\0') {
        kind = KURA_SQL_KIND_INT;
        st->parsed_int = t[0] == 't';
    } else {
        errno = 0;
        st->parsed_int = strtoll(t, &end, 10);
        if (end != t && *end == '\0' && errno == 0) {
            kind = KURA_SQL_KIND_INT;
        } else {
            st->parsed_real = strtod(t, &end);
            if (end != t && *end == '\0')
                kind = KURA_SQL_KIND_REAL;
        }
    }
    if (kind == KURA_SQL_KIND_INT)
        st->parsed_real = (double)st->parsed_int;
    st->parsed_res = st->res;
    st->parsed_row = st->row;
    st->parsed_col = i;
    st->parsed_kind = kind;
    return kind;
}

/* Whether pg_column_kind parsed column i of the current row last, as kind. */
static bool parsed(const kura_sql_stmt *st, int i, int kind)
{
    return st->parsed_res == st->res && st->res && st->parsed_row == st->row &&
           st->parsed_col == i && st->parsed_kind == kind;
}

static int64_t pg_column_int(kura_sql_stmt *st, int i)
{
    if (pg_column_null(st, i))
        return 0;
    if (parsed(st, i, KURA_SQL_KIND_INT))
        return st->parsed_int;
    const char *t = PQgetvalue(st->res, st->row, i);
    if (t[0] == 't' && t[1] == '\0')
        return 1;
    if (t[0] == 'f' && t[1] == '\0')
        return 0;
    return strtoll(t, NULL, 10);
}

static double pg_column_double(kura_sql_stmt *st, int i)
{
    if (pg_column_null(st, i))
        return 0;
    if (parsed(st, i, KURA_SQL_KIND_INT) || parsed(st, i, KURA_SQL_KIND_REAL))
        return st->parsed_real;
    return strtod(PQgetvalue(st->res, st->row, i), NULL);
}

static const char *pg_column_text(kura_sql_stmt *st, int i, size_t *len)
{
    if (pg_column_null(st, i)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = (size_t)PQgetlength(st->res, st->row, i);
    return PQgetvalue(st->res, st->row, i);
}

static int64_t pg_changes(kura_sql_stmt *st)
{
    return st->changes;
}

static int64_t pg_last_insert_id(kura_sql_conn *c)
{
    (void)c;
    return 0; /* the dialect uses RETURNING */
}

static void pg_free_config(void *config)
{
    pg_config *cfg = config;
    if (!cfg)
        return;
    free(cfg->conninfo);
    free(cfg->watch);
    free(cfg);
}

static const kura_sql_driver pg_driver = {
    .name = "postgresql",
    .dialect = &kura__pg_dialect,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .alive = pg_alive,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind = pg_bind,
    .stream = pg_stream,
    .step = pg_step,
    .reset = pg_reset,
    .column_count = pg_column_count,
    .column_name = pg_column_name,
    .column_null = pg_column_null,
    .column_kind = pg_column_kind,
    .column_int = pg_column_int,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .changes = pg_changes,
    .last_insert_id = pg_last_insert_id,
    .free_config = pg_free_config,
};

/* ---- opening ------------------------------------------------------------------- */

/* kura's options; everything else in the query string is libpq's. */
static const char *const kura_options[] = {
    "pool", "pool_timeout", "statement_timeout", "timeout", "stall", "lazy", NULL};

static bool is_kura_option(const char *key, size_t len)
{
    for (const char *const *o = kura_options; *o; o++)
        if (strlen(*o) == len && strncmp(*o, key, len) == 0)
            return true;
    return false;
}

/* The URL without kura's options; connect_timeout defaults to 10 s. */
static char *libpq_url(const char *url, bool add_connect_timeout)
{
    size_t n = strlen(url);
    char *out = malloc(n + 32);
    if (!out)
        return NULL;
    const char *q = strchr(url, '?');
    size_t len = q ? (size_t)(q - url) : n;
    memcpy(out, url, len);
    char sep = '?';
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        if (plen && !is_kura_option(p, klen)) {
            out[len++] = sep;
            sep = '&';
            memcpy(out + len, p, plen);
            len += plen;
        }
        p = end ? end + 1 : NULL;
    }
    if (add_connect_timeout) {
        int w = snprintf(out + len, n + 32 - len, "%cconnect_timeout=10", sep);
        len += (size_t)w;
    }
    out[len] = '\0';
    return out;
}

/* The parsed configuration of url and its pool settings; NULL with err filled. */
static pg_config *pg_config_for(const char *url, kura_sql_pool_opts *popts, kura_error *err)
{
    kura_url u;
    if (!kura_url_parse(url, &u, err))
        return NULL;
    pg_config *cfg = NULL;
    long pool, wait_ms, stmt_ms, connect_s, answer_ms, stall_ms, lazy;
    if (strcmp(u.scheme, "postgresql") != 0 && strcmp(u.scheme, "postgres") != 0) {
        kura_fail(err, KURA_CONFIG, NULL, "malformed PostgreSQL URL '%.64s'", url);
        goto fail;
    }
    if (!kura_url_param_int(&u, "pool", 1, 1024, 8, &pool, err) ||
        !kura_url_param_int(&u, "pool_timeout", 0, 3600000, 5000, &wait_ms, err) ||
        !kura_url_param_int(&u, "statement_timeout", 0, 2147483647L, 0, &stmt_ms, err) ||
        !kura_url_param_int(&u, "connect_timeout", 0, 86400, 10, &connect_s, err) ||
        !kura_url_param_int(&u, "timeout", 0, 2147483647L, 10000, &answer_ms, err) ||
        !kura_url_param_int(&u, "stall", 0, 2147483647L, 1000, &stall_ms, err) ||
        !kura_url_param_int(&u, "lazy", 0, 1, 0, &lazy, err))
        goto fail;
    cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->watch = malloc(sizeof *cfg->watch)) ||
        !(cfg->conninfo = libpq_url(url, !kura_url_param(&u, "connect_timeout")))) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        goto fail;
    }
    cfg->connect_ms = connect_s * 1000;
    cfg->statement_ms = stmt_ms;
    /* A statement the server may run for longer must not be cut by kura first. */
    if (!kura_url_param(&u, "timeout") && stmt_ms > 0 && stmt_ms + 1000 > answer_ms)
        answer_ms = stmt_ms + 1000;
    kura__pg_watch_init(cfg->watch, answer_ms, stall_ms);
    /* libpq's own check: unknown options, bad values. */
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(cfg->conninfo, &why);
    if (!opts) {
        int n = why ? first_line(why) : 0;
        kura_fail(err, why ? KURA_CONFIG : KURA_NOMEM, NULL,
                  "malformed PostgreSQL URL '%.64s': %.*s", url, n, why ? why : "");
        PQfreemem(why);
        goto fail;
    }
    PQconninfoFree(opts);
    *popts = (kura_sql_pool_opts){
        .size = (int)pool, .wait_ms = wait_ms, .init_sql = NULL, .lazy = lazy == 1};
    kura_url_free(&u);
    return cfg;
fail:
    pg_free_config(cfg);
    kura_url_free(&u);
    return NULL;
}

kura_store *kura_pg_store_open(const char *url, kura_error *err)
{
    kura_sql_pool_opts popts;
    pg_config *cfg = pg_config_for(url, &popts, err);
    return cfg ? kura_sql_store_new(&pg_driver, cfg, &popts, err) : NULL;
}

/* "host:port/dbname" of a conninfo, never its password: a node's name. */
static void node_name(const char *conninfo, char *out, size_t cap)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    const char *host = "", *port = "", *db = "";
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "host"))
            host = o->val;
        else if (!strcmp(o->keyword, "port"))
            port = o->val;
        else if (!strcmp(o->keyword, "dbname"))
            db = o->val;
    }
    snprintf(out, cap, "%s%s%s/%s", host, *port ? ":" : "", port, db);
    PQconninfoFree(opts);
}

/* Splits a replica list at white space, and at a comma that starts another URL
 * (a multi-host URL keeps its own commas). Returns the next URL's length. */
static size_t next_replica(const char **p)
{
    while (**p && (isspace((unsigned char)**p) || **p == ','))
        (*p)++;
    const char *s = *p;
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]) &&
           !(s[n] == ',' && (strncmp(s + n + 1, "postgres://", 11) == 0 ||
                             strncmp(s + n + 1, "postgresql://", 13) == 0)))
        n++;
    while (n > 0 && s[n - 1] == ',') /* "url1, url2": the comma is no part of url1 */
        n--;
    return n;
}

kura_store *kura_pg_store_open_replicated(const char *url, const char *replicas,
                                          const kura_sql_replica_opts *opts, kura_error *err)
{
    enum { MAX_REPLICAS = 16 };
    kura_store *nodes[MAX_REPLICAS] = {NULL};
    char names[MAX_REPLICAS][128];
    const char *name_of[MAX_REPLICAS];
    size_t n = 0;
    kura_store *primary = kura_pg_store_open(url, err);
    if (!primary)
        return NULL;
    const char *p = replicas ? replicas : "";
    for (size_t len; (len = next_replica(&p)) > 0; p += len) {
        if (n == MAX_REPLICAS) {
            kura_fail(err, KURA_CONFIG, NULL, "more than %d read replicas", MAX_REPLICAS);
            goto fail;
        }
        char *one = strndup(p, len);
        kura_sql_pool_opts popts;
        pg_config *cfg = one ? pg_config_for(one, &popts, err) : NULL;
        if (!one)
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        free(one);
        if (!cfg)
            goto fail;
        node_name(cfg->conninfo, names[n], sizeof names[n]);
        name_of[n] = names[n];
        /* A replica that is down at start-up is left out until it answers. */
        popts.lazy = true;
        if (!(nodes[n] = kura_sql_store_new(&pg_driver, cfg, &popts, err)))
            goto fail;
        n++;
    }
    if (kura_sql_store_add_replicas(primary, nodes, name_of, n, opts, err))
        return primary;
    n = 0; /* taken, also on failure */
fail:
    for (size_t i = 0; i < n; i++)
        kura_store_close(nodes[i]);
    kura_store_close(primary);
    return NULL;
}
