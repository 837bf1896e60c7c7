/*
 * program.c — a project's own command built on kura_main, for test_cli: the
 * test model t_user in SQL, a copy of it as documents (t_doc), and one
 * command of the project's own (`hello`).
 */
#include <stdio.h>

#include <kura/cli.h>

#include "unit/t_user.h"

static kura_model t_doc_model;

static bool setup(kura_app *app, void *ctx, kura_error *err)
{
    (void)ctx;
    return kura_app_register(app, &t_user_model, KURA_IN_SQL, err) &&
           kura_app_register(app, &t_doc_model, KURA_IN_DOCUMENTS, err);
}

/* `hello [NAME]`: proves a project command runs with the app and its models. */
static int hello(kura_cli *cli, int argc, char **argv)
{
    if (argc > 2)
        return kura_cli_usage_error(cli, argv[0], "unexpected argument '%s'", argv[2]);
    kura_app *app = kura_cli_app(cli);
    if (!app)
        return KURA_EXIT_ERROR;
    printf("hello %s: %zu models, ctx %s\n", argc > 1 ? argv[1] : "world",
           kura_app_model_count(app), (const char *)kura_cli_ctx(cli));
    return KURA_EXIT_OK;
}

int main(int argc, char **argv)
{
    t_doc_model = t_user_model;
    t_doc_model.name = "t_doc";
    static const kura_command commands[] = {
        {"hello", "greet, with the app open", "Usage: hello [NAME]\n", hello}};
    kura_program program = {
        .name = "tprog", .setup = setup, .commands = commands, .ncommands = 1, .ctx = "here"};
    return kura_main(argc, argv, &program);
}
