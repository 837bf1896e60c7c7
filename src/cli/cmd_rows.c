/*
 * cmd_rows.c — `rows MODEL` and `count MODEL`: any registered model through
 * the query builder, filtered by --where, as a table or JSON lines.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     10000 /* rows are loaded to align the table */
#define MAX_FLAGS     32    /* --where and --order flags a line may give */

static void rows_usage(FILE *out)
{
    fputs("Usage: rows MODEL [OPTIONS]\n\n"
          "Lists rows of a registered model, in id order unless --order says otherwise.\n"
          "  --where FIELD=VALUE  only rows whose FIELD equals VALUE (repeatable; the value\n"
          "                       is read as the field's type, as in a JSON body)\n"
          "  --order [-]FIELD     order by FIELD, descending with '-' (repeatable)\n"
          "  --limit N            at most N rows (0-10000, default 100)\n"
          "  --offset N           skip the first N matching rows\n"
          "  --json               one JSON object per line instead of a table\n",
          out);
}

static void count_usage(FILE *out)
{
    fputs("Usage: count MODEL [--where FIELD=VALUE ...]\n\n"
          "Prints how many rows of a registered model match.\n",
          out);
}

enum { OPT_WHERE = 0x200, OPT_ORDER, OPT_LIMIT, OPT_OFFSET, OPT_JSON };

typedef struct rows_args {
    const char *model;
    const char *where[MAX_FLAGS];
    size_t nwhere;
    const char *order[MAX_FLAGS];
    size_t norder;
    int64_t limit, offset;
    bool json;
} rows_args;

/* Parses the line; `full` allows rows' own flags (count takes --where only). */
static int parse(kura_cli *c, int argc, char **argv, bool full, rows_args *a)
{
    static const struct option all[] = {{"where", required_argument, NULL, OPT_WHERE},
                                        {"order", required_argument, NULL, OPT_ORDER},
                                        {"limit", required_argument, NULL, OPT_LIMIT},
                                        {"offset", required_argument, NULL, OPT_OFFSET},
                                        {"json", no_argument, NULL, OPT_JSON},
                                        {0}};
    static const struct option where_only[] = {{"where", required_argument, NULL, OPT_WHERE}, {0}};
    int opt;
    while ((opt = getopt_long(argc, argv, ":", full ? all : where_only, NULL)) != -1) {
        switch (opt) {
        case OPT_WHERE:
            if (a->nwhere == MAX_FLAGS)
                return kura_cli_usage_error(c, argv[0], "at most %d --where", MAX_FLAGS);
            a->where[a->nwhere++] = optarg;
            break;
        case OPT_ORDER:
            if (a->norder == MAX_FLAGS)
                return kura_cli_usage_error(c, argv[0], "at most %d --order", MAX_FLAGS);
            a->order[a->norder++] = optarg;
            break;
        case OPT_LIMIT:
            if (!kura_cli_parse_int(c, argv[0], "--limit", optarg, 0, LIMIT_MAX, &a->limit))
                return CLI_USAGE;
            break;
        case OPT_OFFSET:
            if (!kura_cli_parse_int(c, argv[0], "--offset", optarg, 0, INT32_MAX, &a->offset))
                return CLI_USAGE;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        default:
            return cli_bad_option(c, argv, opt);
        }
    }
    if (optind >= argc)
        return kura_cli_usage_error(c, argv[0], "which model? (%s MODEL)", argv[0]);
    if (argc - optind > 1)
        return kura_cli_usage_error(c, argv[0], "unexpected argument '%s'", argv[optind + 1]);
    a->model = argv[optind];
    return CLI_OK;
}

/* Builds the query over the registered model; false after printing why
 * (*rc: a bad --where or --order is a usage error). */
static bool build(kura_cli *c, const char *cmd, const rows_args *a, const kura_model *m,
                  kura_query *q, cli_kept *kept, int *rc)
{
    *q = kura_query_for(m);
    kura_error err = {0};
    for (size_t i = 0; i < a->nwhere; i++)
        if (!cli_query_where(q, a->where[i], kept, &err)) {
            *rc = kura_cli_usage_error(c, cmd, "--where %s: %s", a->where[i], err.message);
            return false;
        }
    for (size_t i = 0; i < a->norder; i++)
        if (!cli_query_order(q, a->order[i], &err)) {
            *rc = kura_cli_usage_error(c, cmd, "--order %s: %s", a->order[i], err.message);
            return false;
        }
    return true;
}

static int rows_or_count(kura_cli *c, int argc, char **argv, bool rows)
{
    rows_args a = {.limit = LIMIT_DEFAULT};
    int rc = parse(c, argc, argv, rows, &a);
    if (rc != CLI_OK)
        return rc;
    if (!cli_models_possible(c, a.model))
        return CLI_ERROR;
    kura_app *app = kura_cli_app(c);
    if (!app)
        return CLI_ERROR;
    const kura_model *m = cli_model(c, app, a.model);
    if (!m)
        return CLI_ERROR;
    /* A kura_query is several KiB: on the heap, beside the kept values. */
    kura_query *q = malloc(sizeof *q);
    cli_kept kept = {0};
    kura_error err = {0};
    kura_store *store = kura_app_model_store(app, m);
    if (!q) {
        kura_fail(&err, KURA_NOMEM, NULL, "out of memory");
        return kura_cli_fail(c, &err);
    }
    if (!build(c, argv[0], &a, m, q, &kept, &rc))
        goto out;
    if (!rows) {
        int64_t n = 0;
        if (kura_count(store, q, &n, &err))
            printf("%lld\n", (long long)n);
        else
            rc = kura_cli_fail(c, &err);
        goto out;
    }
    if (a.norder == 0) /* pages must be stable: id order unless asked otherwise */
        kura_order_by(q, "id", false);
    kura_limit(q, a.limit);
    kura_offset(q, a.offset);
    kura_rows found = {0};
    if (!kura_find(store, q, &found, &err))
        rc = kura_cli_fail(c, &err);
    else if (a.json)
        rc = cli_print_json(&found, &err) ? CLI_OK : kura_cli_fail(c, &err);
    else if (found.model)
        cli_print_table(&found);
    else /* nothing found: still the header */
        cli_print_table(&(kura_rows){.model = m});
    kura_rows_free(&found);
out:
    cli_kept_free(m, &kept);
    free(q);
    return rc;
}

static int run_rows(kura_cli *c, int argc, char **argv)
{
    return rows_or_count(c, argc, argv, true);
}

static int run_count(kura_cli *c, int argc, char **argv)
{
    return rows_or_count(c, argc, argv, false);
}

const cli_command cli_cmd_rows = {"rows", "list a model's rows (filters, table or JSON)",
                                  rows_usage, run_rows};
const cli_command cli_cmd_count = {"count", "count a model's rows (filters)", count_usage,
                                   run_count};
