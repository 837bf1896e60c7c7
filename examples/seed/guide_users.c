/*
 * guide_users.c — `users`: lists the guide's users through the query builder,
 * as an aligned table or as JSON lines (kura's generic `rows sa_user` shows
 * any model; this is the guide's own view, with its own filters).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guide_commands.h"
#include "sa_user.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     10000 /* rows are loaded to align the table: ~1.1 KB each */

enum { OPT_AGE = 0x200, OPT_SEX, OPT_NAME_PREFIX, OPT_LIMIT, OPT_OFFSET, OPT_JSON };

typedef struct users_args {
    kura_query q;
    bool json;
} users_args;

/* Turns the flags into a query; prints a usage error and returns false on a bad value. */
static bool parse_filter(kura_cli *cli, const char *cmd, int opt, const char *arg, users_args *a)
{
    int64_t v;
    switch (opt) {
    case OPT_AGE:
        if (!kura_cli_parse_int(cli, cmd, "--age", arg, 0, 150, &v))
            return false;
        kura_where_int(&a->q, "age", KURA_EQ, v);
        return true;
    case OPT_SEX:
        if (strcmp(arg, "M") != 0 && strcmp(arg, "F") != 0) {
            kura_cli_usage_error(cli, cmd, "--sex must be M or F, not '%s'", arg);
            return false;
        }
        kura_where_str(&a->q, "sex", KURA_EQ, arg);
        return true;
    case OPT_NAME_PREFIX: {
        long chars = kura_utf8_chars(arg, strlen(arg));
        if (chars < 0 || chars > 128) {
            kura_cli_usage_error(cli, cmd,
                                 "--name-prefix must be UTF-8 text of at most 128 characters");
            return false;
        }
        kura_where_str(&a->q, "name", KURA_PREFIX, arg); /* argv outlives the query */
        return true;
    }
    case OPT_LIMIT:
        if (!kura_cli_parse_int(cli, cmd, "--limit", arg, 0, LIMIT_MAX, &v))
            return false;
        kura_limit(&a->q, v);
        return true;
    case OPT_OFFSET:
        if (!kura_cli_parse_int(cli, cmd, "--offset", arg, 0, INT32_MAX, &v))
            return false;
        kura_offset(&a->q, v);
        return true;
    case OPT_JSON:
        a->json = true;
        return true;
    }
    kura_cli_usage_error(cli, cmd, "unhandled option");
    return false;
}

/* Width on a terminal, counted in characters (names may be any UTF-8). */
static int text_width(const char *s)
{
    long n = kura_utf8_chars(s, strlen(s));
    return n < 0 ? (int)strlen(s) : (int)n;
}

static void pad(int n)
{
    for (; n > 0; n--)
        putchar(' ');
}

static void print_table(const kura_rows *rows)
{
    int wid = 2, wname = 4, wemail = 5;
    for (size_t i = 0; i < rows->count; i++) {
        const sa_user *u = kura_row(rows, i);
        int w = snprintf(NULL, 0, "%lld", (long long)u->base.id);
        wid = w > wid ? w : wid;
        w = text_width(u->name);
        wname = w > wname ? w : wname;
        w = text_width(u->email);
        wemail = w > wemail ? w : wemail;
    }
    printf("%*s  %-*s  %-*s  %3s  %-3s  %s\n", wid, "id", wname, "name", wemail, "email", "age",
           "sex", "created_at");
    for (size_t i = 0; i < rows->count; i++) {
        const sa_user *u = kura_row(rows, i);
        char created[KURA_TIME_TEXT];
        kura_time_format(u->base.created_at, created);
        printf("%*lld  %s", wid, (long long)u->base.id, u->name);
        pad(wname - text_width(u->name) + 2);
        printf("%s", u->email);
        pad(wemail - text_width(u->email) + 2);
        printf("%3d  %-3s  %s\n", (int)u->age, u->sex, created);
    }
}

static int print_json(kura_cli *cli, const kura_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++) {
        char *text = kura_to_json_string(&sa_user_model, kura_row(rows, i));
        if (!text) {
            kura_error err;
            kura_fail(&err, KURA_NOMEM, NULL, "cannot encode user %lld as JSON",
                      (long long)((const sa_user *)kura_row(rows, i))->base.id);
            return kura_cli_fail(cli, &err);
        }
        puts(text);
        free(text);
    }
    return KURA_EXIT_OK;
}

int guide_users(kura_cli *cli, int argc, char **argv)
{
    static const struct option options[] = {
        {"age", required_argument, NULL, OPT_AGE},
        {"sex", required_argument, NULL, OPT_SEX},
        {"name-prefix", required_argument, NULL, OPT_NAME_PREFIX},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"json", no_argument, NULL, OPT_JSON},
        {0}};
    users_args a = {.q = kura_query_for(&sa_user_model)};
    kura_limit(&a.q, LIMIT_DEFAULT);
    int opt;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            return kura_cli_usage_error(cli, argv[0], "%s '%s'",
                                        opt == ':' ? "a value is needed after" : "unknown option",
                                        argv[optind - 1]);
        if (!parse_filter(cli, argv[0], opt, optarg, &a))
            return KURA_EXIT_USAGE;
    }
    if (optind < argc)
        return kura_cli_usage_error(cli, argv[0], "unexpected argument '%s'", argv[optind]);
    kura_order_by(&a.q, "id", false);

    kura_app *app = kura_cli_app(cli);
    if (!app)
        return KURA_EXIT_ERROR;
    kura_rows rows = {0};
    kura_error err = {0};
    int rc = KURA_EXIT_OK;
    if (!kura_find(kura_app_model_store(app, &sa_user_model), &a.q, &rows, &err))
        rc = kura_cli_fail(cli, &err);
    else if (a.json)
        rc = print_json(cli, &rows);
    else
        print_table(&rows);
    kura_rows_free(&rows);
    return rc;
}
