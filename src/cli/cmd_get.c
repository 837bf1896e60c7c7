/* cmd_get.c — `get MODEL ID`: one row of a registered model. */
#include "cli/cli.h"

#include <stdlib.h>

static void usage(FILE *out)
{
    fputs("Usage: get MODEL ID [--json]\n\n"
          "Prints one row of a registered model: a field per line, or with --json\n"
          "one JSON object. ID is the row's key: a number, or for a model keyed by\n"
          "UUID, ObjectId or string that text. A missing row is an error (exit 1).\n",
          out);
}

enum { OPT_JSON = 0x200 };

static int run(kura_cli *c, int argc, char **argv)
{
    static const struct option options[] = {{"json", no_argument, NULL, OPT_JSON}, {0}};
    bool json = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (opt != OPT_JSON)
            return cli_bad_option(c, argv, opt);
        json = true;
    }
    if (argc - optind != 2)
        return kura_cli_usage_error(c, argv[0], "give a model and an id (get MODEL ID)");
    if (!cli_models_possible(c, argv[optind]))
        return CLI_ERROR;
    kura_app *app = kura_cli_app(c);
    if (!app)
        return CLI_ERROR;
    const kura_model *m = cli_model(c, app, argv[optind]);
    if (!m)
        return CLI_ERROR;
    /* The id is read by the model's key kind: a number, or a UUID, ObjectId or string. */
    const char *key = argv[optind + 1];
    int64_t id = 0;
    if (m->key == KURA_KEY_INT64 && !kura_cli_parse_int(c, argv[0], "ID", key, 1, INT64_MAX, &id))
        return CLI_USAGE;
    kura_error err = {0};
    /* An id no key could be ('' or a control character) is the command line's
     * mistake, as 'abc' for a number is: exit 2, not the store's 1. */
    if (m->key != KURA_KEY_INT64 && !kura_key_parse(m, key, NULL, NULL, &err))
        return kura_cli_usage_error(c, argv[0], "%s", err.message);
    void *obj = calloc(1, m->size);
    int rc = CLI_OK;
    if (!obj) {
        kura_fail(&err, KURA_NOMEM, NULL, "out of memory");
        return kura_cli_fail(c, &err);
    }
    kura_store *store = kura_app_model_store(app, m);
    bool found = m->key == KURA_KEY_INT64 ? kura_get(store, m, id, obj, &err)
                                          : kura_get_key(store, m, key, obj, &err);
    if (!found) {
        rc = kura_cli_fail(c, &err);
    } else if (json) {
        char *text = kura_to_json_string(m, obj);
        if (text)
            puts(text);
        else
            rc = kura_cli_fail(c, &(kura_error){KURA_NOMEM, "", "cannot encode the row as JSON"});
        free(text);
    } else {
        cli_print_object(m, obj);
    }
    kura_clear(m, obj);
    free(obj);
    return rc;
}

const cli_command cli_cmd_get = {"get", "print one row of a model", usage, run};
