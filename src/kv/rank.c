/* rank.c — leaderboards over the sorted-set commands (see kura/rank.h). */
#include <kura/rank.h>

#include <stdlib.h>
#include <string.h>

#include "kv/kv_private.h"

void kura_rank_list_free(kura_rank_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].member);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

bool kura_rank_set(kura_kv *kv, const char *board, const char *member, double score,
                   kura_error *err)
{
    return kura_kv_zadd(kv, board, member, score, NULL, err);
}

bool kura_rank_add(kura_kv *kv, const char *board, const char *member, double by, double *score,
                   kura_error *err)
{
    return kura_kv_zincr(kv, board, member, by, score, err);
}

bool kura_rank_remove(kura_kv *kv, const char *board, const char *member, bool *removed,
                      kura_error *err)
{
    return kura_kv_zrem(kv, board, member, removed, err);
}

bool kura_rank_count(kura_kv *kv, const char *board, int64_t *count, kura_error *err)
{
    return kura_kv_zcard(kv, board, count, err);
}

/* Positions first..last of the descending order, as a rank list. */
static bool window(kura_kv *kv, const char *board, int64_t first, int64_t last, kura_rank_list *out,
                   kura_error *err)
{
    kura_kv_entries e = {0};
    if (!kura_kv_zrange(kv, board, first, last, true, &e, err))
        return false;
    out->count = 0;
    out->items = e.count ? malloc(e.count * sizeof *out->items) : NULL;
    if (e.count && !out->items) {
        kura_kv_entries_free(&e);
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < e.count; i++) {
        out->items[i].member = e.items[i].name; /* moved */
        e.items[i].name = NULL;
        out->items[i].score = e.items[i].score;
        out->items[i].rank = first + (int64_t)i + 1;
    }
    out->count = e.count;
    kura_kv_entries_free(&e);
    return true;
}

bool kura_rank_top(kura_kv *kv, const char *board, size_t n, kura_rank_list *out, kura_error *err)
{
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    out->items = NULL;
    out->count = 0;
    if (n == 0)
        return kv && board ? true : kura_fail(err, KURA_INVALID, NULL, "NULL store or board");
    if (n > INT64_MAX)
        n = INT64_MAX;
    return window(kv, board, 0, (int64_t)n - 1, out, err);
}

bool kura_rank_get(kura_kv *kv, const char *board, const char *member, int64_t *rank, double *score,
                   bool *found, kura_error *err)
{
    if (!kv || !board || !member || !rank || !score || !found)
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    kura_kv_cmd cmds[2] = {{.op = KV_ZRANK, .key = board, .name = member, .reverse = true},
                           {.op = KV_ZSCORE, .key = board, .name = member}};
    kura_kv_reply r[2];
    memset(r, 0, sizeof r);
    bool ok = kura__kv_run(kv, cmds, 2, r, err);
    for (int i = 0; ok && i < 2; i++)
        if (r[i].code != KURA_OK)
            ok = kura_fail(err, r[i].code, NULL, "%s: %s", kura_kv_driver(kv),
                           r[i].error ? r[i].error : "");
    if (ok) {
        /* Both or neither, unless the member came or went between the two. */
        *found = r[0].found && r[1].found;
        if (*found) {
            *rank = r[0].integer + 1;
            *score = r[1].score;
        }
    }
    kura_kv_reply_clear(&r[0]);
    kura_kv_reply_clear(&r[1]);
    return ok;
}

bool kura_rank_around(kura_kv *kv, const char *board, const char *member, size_t radius,
                      kura_rank_list *out, kura_error *err)
{
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    out->items = NULL;
    out->count = 0;
    int64_t pos;
    if (!kura_kv_zrank(kv, board, member, true, &pos, err))
        return false;
    if (pos < 0)
        return true;
    int64_t r = radius > (size_t)INT32_MAX ? INT32_MAX : (int64_t)radius;
    int64_t first = pos > r ? pos - r : 0;
    return window(kv, board, first, pos + r, out, err);
}
