/*
 * kura/rank.h — leaderboards on a sorted set.
 *
 * A board is a sorted-set key in the key-value store (any name, e.g.
 * "rank:weekly"), holding each member's score as it is, so redis-cli and
 * other Redis clients read the same board.
 *
 * Order: higher score first. Equal scores are ordered by member bytes,
 * the later one first ("bob" before "alice" on 10 points each): this is
 * Redis's own ZREVRANGE order, and the embedded driver keeps it exactly, so
 * a board ranks the same on both. Ranks are positions, 1 for the top; tied
 * members get consecutive ranks, never a shared one.
 *
 * Each call is one or two store round trips; a call that reads a rank and
 * then a window may see a board that changed in between.
 */
#ifndef KURA_RANK_H
#define KURA_RANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kura_rank_entry {
    char *member; /* malloc'd */
    double score;
    int64_t rank; /* 1 for the top */
} kura_rank_entry;

typedef struct kura_rank_list {
    kura_rank_entry *items; /* malloc'd, best first */
    size_t count;
} kura_rank_list;

/* Frees the members and the array; zeroes *list. NULL is a no-op. */
void kura_rank_list_free(kura_rank_list *list);

/* Sets member's score (adding the member when new). */
bool kura_rank_set(kura_kv *kv, const char *board, const char *member, double score,
                   kura_error *err);

/* Adds `by` to member's score (a new member starts at 0); *score (may be
 * NULL) gets the new score. */
bool kura_rank_add(kura_kv *kv, const char *board, const char *member, double by, double *score,
                   kura_error *err);

/* Removes member; *removed (may be NULL) says whether it was there. */
bool kura_rank_remove(kura_kv *kv, const char *board, const char *member, bool *removed,
                      kura_error *err);

/* Number of members on the board. */
bool kura_rank_count(kura_kv *kv, const char *board, int64_t *count, kura_error *err);

/* The best n members, with ranks and scores, into *out (must own nothing). */
bool kura_rank_top(kura_kv *kv, const char *board, size_t n, kura_rank_list *out, kura_error *err);

/* member's rank and score; *found false (rank and score untouched) when the
 * member is not on the board. Read together in one round trip. */
bool kura_rank_get(kura_kv *kv, const char *board, const char *member, int64_t *rank, double *score,
                   bool *found, kura_error *err);

/* The window around member: up to `radius` members above it, the member, and
 * up to `radius` below, best first, into *out (must own nothing). An empty
 * list when the member is not on the board. */
bool kura_rank_around(kura_kv *kv, const char *board, const char *member, size_t radius,
                      kura_rank_list *out, kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
