/*
 * guide_service.c — the guide's application as a program: every kura command
 * (migrate, serve, rows, get, count) over its models, plus its own seed and
 * users. `guide_service serve` is the guide's Flask app as a JSON web service.
 */
#include "guide_app.h"

int main(int argc, char **argv)
{
    kura_program program = {.name = "guide_service",
                            .setup = guide_setup,
                            .mount = guide_mount,
                            .commands = guide_commands,
                            .ncommands = guide_ncommands};
    return kura_main(argc, argv, &program);
}
