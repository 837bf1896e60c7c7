/* guide_commands.c — the guide's own commands, as kura_main lists them. */
#include "guide_app.h"
#include "guide_commands.h"

const kura_command guide_commands[] = {
    {"seed", "insert N generated users",
     "Usage: seed N\n\n"
     "Inserts N users (1 <= N <= 10000000), user i being\n"
     "  name user%05d, email user%05d@example.com, age 18 + (i*7919 % 63),\n"
     "  sex M for odd i, F for even i,\n"
     "in transactions of 1000 rows. Run 'migrate' first.\n",
     guide_seed},
    {"users", "list users (filters, table or JSON)",
     "Usage: users [OPTIONS]\n\n"
     "Lists users in id order.\n"
     "  --age N            only users aged N (0-150)\n"
     "  --sex M|F          only users of that sex\n"
     "  --name-prefix P    only users whose name starts with P (literally)\n"
     "  --limit N          at most N users (0-10000, default 100)\n"
     "  --offset N         skip the first N matching users\n"
     "  --json             one JSON object per line instead of a table\n",
     guide_users},
};
const size_t guide_ncommands = sizeof guide_commands / sizeof guide_commands[0];
