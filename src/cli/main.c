#include <string.h>

#include "cli/cmd_serve.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "serve") == 0) /* placeholder dispatcher (branch cli) */
        return kura_cmd_serve(argc - 1, argv + 1);
    return 0;
}
