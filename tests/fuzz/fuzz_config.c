/* fuzz_config.c — the config file reader (kura_config_load_file), fed through a memfd. */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kura/app.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("kura-fuzz-config", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        kura_config *cfg = kura_config_new();
        kura_error err = {0};
        if (cfg && kura_config_load_file(cfg, path, &err))
            (void)kura_config_get(cfg, "database_url");
        kura_config_free(cfg);
    }
    close(fd);
    return 0;
}
