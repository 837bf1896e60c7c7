/*
 * buf.h — a growable text buffer that starts in storage the caller provides,
 * so that building a statement on a hot path does not allocate.
 */
#ifndef KURA_BUF_H
#define KURA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kura_buf {
    char *data;
    size_t len;
    size_t cap;
    bool heap; /* data was malloc'd by the buffer */
    bool oom;  /* an append failed: the text is incomplete */
} kura_buf;

/* Starts an empty buffer over stack[0..size) (size > 0). */
void kura_buf_init(kura_buf *b, char *stack, size_t size);
void kura_buf_free(kura_buf *b);
void kura_buf_add(kura_buf *b, const char *s);
void kura_buf_addn(kura_buf *b, const char *s, size_t n);
void kura_buf_addf(kura_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal (no printf: the hot paths' numbers). */
void kura_buf_add_i64(kura_buf *b, int64_t v);
/* The text as a malloc'd string the caller frees (the buffer's own heap
 * storage when it has some: no copy), leaving b empty and freed; NULL when an
 * append failed or on out of memory. */
char *kura_buf_take(kura_buf *b);
/* Appends s as a double-quoted SQL identifier ("" doubles an embedded quote). */
void kura_buf_ident(kura_buf *b, const char *s);

#endif
