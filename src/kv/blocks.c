/*
 * blocks.c — memory handed out from blocks that never move, given back all at
 * once: a batch's queued strings and its replies' values, which live exactly
 * from one run to the next. One bump of a pointer instead of a malloc and a
 * free per string, and the blocks are kept for the next run.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kv/kv_private.h"

/* Strings go into blocks of this size (a larger one gets a block its own size). */
#define BLOCK_SIZE 65536

struct kura_kv_block {
    kura_kv_block *next;
    size_t cap, used;
    char data[];
};

char *kura__kv_blocks_alloc(kura_kv_blocks *b, size_t n)
{
    kura_kv_block *k = b->cur;
    if (!k || k->cap - k->used < n) {
        /* The blocks after the current one are empty: the next fits or a new one goes there. */
        if (k && k->next && k->next->cap >= n) {
            k = k->next;
        } else {
            size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
            kura_kv_block *fresh = malloc(sizeof *fresh + cap);
            if (!fresh)
                return NULL;
            fresh->cap = cap;
            fresh->used = 0;
            if (k) {
                fresh->next = k->next;
                k->next = fresh;
            } else {
                fresh->next = NULL;
                b->first = fresh;
            }
            k = fresh;
        }
        b->cur = k;
    }
    char *p = k->data + k->used;
    k->used += n;
    return p;
}

bool kura__kv_blocks_own(const kura_kv_blocks *b, const void *p)
{
    uintptr_t at = (uintptr_t)p;
    for (const kura_kv_block *k = b->first; p && k; k = k->next)
        if (at >= (uintptr_t)k->data && at < (uintptr_t)k->data + k->cap)
            return true;
    return false;
}

void kura__kv_blocks_reset(kura_kv_blocks *b)
{
    for (kura_kv_block *k = b->first; k; k = k->next)
        k->used = 0;
    b->cur = b->first;
}

void kura__kv_blocks_free(kura_kv_blocks *b)
{
    for (kura_kv_block *k = b->first, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    b->first = b->cur = NULL;
}
