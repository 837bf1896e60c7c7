/* main.c — the installed `kura` command: every command, models from --models FILE. */
#include <kura/cli.h>

int main(int argc, char **argv)
{
    return kura_main(argc, argv, NULL);
}
