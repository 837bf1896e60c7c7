/*
 * cmd_users.c — `kura users`: lists users through the query builder, as an
 * aligned table or as JSON lines.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sa_user.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     10000 /* rows are loaded to align the table: ~1.1 KB each */

static void usage(FILE *out)
{
    fputs("Usage: kura users [OPTIONS]\n\n"
          "Lists users in id order.\n"
          "  --age N            only users aged N (0-150)\n"
          "  --sex M|F          only users of that sex\n"
          "  --name-prefix P    only users whose name starts with P (literally)\n"
          "  --limit N          at most N users (0-10000, default 100)\n"
          "  --offset N         skip the first N matching users\n"
          "  --json             one JSON object per line instead of a table\n\n" CLI_GLOBAL_USAGE,
          out);
}

enum { OPT_AGE = 0x200, OPT_SEX, OPT_NAME_PREFIX, OPT_LIMIT, OPT_OFFSET, OPT_JSON };

typedef struct users_args {
    kura_query q;
    bool json;
} users_args;

/* Turns the flags into a query; prints a usage error and returns false on a bad value. */
static bool parse_filter(const char *cmd, int opt, const char *arg, users_args *a)
{
    int64_t v;
    switch (opt) {
    case OPT_AGE:
        if (!cli_parse_int(cmd, "--age", arg, 0, 150, &v))
            return false;
        kura_where_int(&a->q, "age", KURA_EQ, v);
        return true;
    case OPT_SEX:
        if (strcmp(arg, "M") != 0 && strcmp(arg, "F") != 0) {
            cli_usage_error(cmd, "--sex must be M or F, not '%s'", arg);
            return false;
        }
        kura_where_str(&a->q, "sex", KURA_EQ, arg);
        return true;
    case OPT_NAME_PREFIX: {
        long chars = kura_utf8_chars(arg, strlen(arg));
        if (chars < 0 || chars > 128) {
            cli_usage_error(cmd, "--name-prefix must be UTF-8 text of at most 128 characters");
            return false;
        }
        kura_where_str(&a->q, "name", KURA_PREFIX, arg); /* argv outlives the query */
        return true;
    }
    case OPT_LIMIT:
        if (!cli_parse_int(cmd, "--limit", arg, 0, LIMIT_MAX, &v))
            return false;
        kura_limit(&a->q, v);
        return true;
    case OPT_OFFSET:
        if (!cli_parse_int(cmd, "--offset", arg, 0, INT32_MAX, &v))
            return false;
        kura_offset(&a->q, v);
        return true;
    case OPT_JSON:
        a->json = true;
        return true;
    }
    cli_usage_error(cmd, "unhandled option");
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

static int print_json(const kura_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++) {
        char *text = kura_to_json_string(&sa_user_model, kura_row(rows, i));
        if (!text) {
            kura_error err;
            kura_fail(&err, KURA_NOMEM, NULL, "cannot encode user %lld as JSON",
                      (long long)((const sa_user *)kura_row(rows, i))->base.id);
            return cli_fail(&err);
        }
        puts(text);
        free(text);
    }
    return CLI_OK;
}

static int run(cli *c, int argc, char **argv)
{
    static const struct option options[] = {
        {"age", required_argument, NULL, OPT_AGE},
        {"sex", required_argument, NULL, OPT_SEX},
        {"name-prefix", required_argument, NULL, OPT_NAME_PREFIX},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"json", no_argument, NULL, OPT_JSON},
        CLI_GLOBAL_OPTIONS,
        {0}};
    users_args a = {.q = kura_query_for(&sa_user_model)};
    kura_limit(&a.q, LIMIT_DEFAULT);
    int rc = CLI_OK, opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, ":", options, usage, &rc)) != -1) {
        if (opt == CLI_STOP)
            return rc;
        if (!parse_filter(argv[0], opt, optarg, &a))
            return CLI_USAGE;
    }
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    kura_order_by(&a.q, "id", false);

    kura_app *app = cli_open_app(c);
    if (!app)
        return CLI_ERROR;
    kura_rows rows = {0};
    kura_error err = {0};
    if (!kura_find(kura_app_db(app), &a.q, &rows, &err))
        rc = cli_fail(&err);
    else if (a.json)
        rc = print_json(&rows);
    else
        print_table(&rows);
    kura_rows_free(&rows);
    cli_close_app(app);
    return rc;
}

const cli_command cli_cmd_users = {"users", "list users (filters, table or JSON)", run};
