/*
 * index_name.c — the names of the indexes kura makes, cut as PostgreSQL keeps
 * them. Every store, migrations and inspect take a name from here, so that the
 * name one looks for is the one another made.
 */
#include <stdio.h>
#include <string.h>

#include "model/model_private.h"

/* PostgreSQL cuts identifiers at 63 bytes: a longer name is cut here first, with
 * a hash of the whole, so that the name a migration looks for is the one the
 * database keeps, and two long names that share their start stay apart. */
#define NAME_MAX_BYTES 63

void kura__index_name_cut(const char *full, char out[64])
{
    if (strlen(full) <= NAME_MAX_BYTES) {
        memcpy(out, full, strlen(full) + 1);
        return;
    }
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = full; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(out, 64, "%.54s_%08x", full, (unsigned)h);
}

void kura__index_name(const char *table, const char *column, char out[64])
{
    char full[1100];
    snprintf(full, sizeof full, "ix_%s_%s", table, column);
    kura__index_name_cut(full, out);
}
