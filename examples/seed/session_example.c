/*
 * session_example.c — the guide's Session in use: save a value, read it back
 * through current_app.
 *
 *   session_example [DATABASE_URL [REDIS_URL]]   (default: the environment)
 */
#include <stdio.h>
#include <string.h>

#include "session.h"

int main(int argc, char **argv)
{
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    if (!cfg || !kura_config_load_env(cfg, &err) ||
        (argc > 1 && !kura_config_set(cfg, "database_url", argv[1], &err)) ||
        (argc > 2 && !kura_config_set(cfg, "redis_url", argv[2], &err))) {
        fprintf(stderr, "session_example: configuration: %s\n", err.message);
        return 1;
    }
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    if (!app) {
        fprintf(stderr, "session_example: open: %s\n", err.message);
        return 1;
    }
    kura_app *previous = kura_app_enter(app);

    int rc = 1;
    kura_bytes got = {0};
    if (!session_save("session:alice", "{\"user\":\"alice\",\"cart\":[1,2]}", &err) ||
        !session_get("session:alice", &got, &err)) {
        fprintf(stderr, "session_example: %s\n", err.message);
    } else if (!got.data || strcmp(got.data, "{\"user\":\"alice\",\"cart\":[1,2]}") != 0) {
        fprintf(stderr, "session_example: read back something else\n");
    } else {
        printf("session:alice = %s (%s store)\n", got.data,
               kura_kv_driver(kura_app_kv(kura_current_app())));
        rc = 0;
    }
    kura_bytes_free(&got);
    kura_app_leave(previous);
    kura_app_close(app);
    return rc;
}
