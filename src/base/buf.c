/* buf.c — see buf.h. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kura_buf_init(kura_buf *b, char *stack, size_t size)
{
    b->data = stack;
    b->cap = size;
    b->len = 0;
    b->heap = false;
    b->oom = false;
    b->data[0] = '\0';
}

void kura_buf_free(kura_buf *b)
{
    if (b->heap)
        free(b->data);
    b->data = NULL;
    b->heap = false;
}

void kura_buf_add_i64(kura_buf *b, int64_t v)
{
    char digits[24];
    char *p = digits + sizeof digits;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    kura_buf_addn(b, p, (size_t)(digits + sizeof digits - p));
}

char *kura_buf_take(kura_buf *b)
{
    char *text = NULL;
    if (!b->oom)
        text = b->heap ? b->data : strdup(b->data);
    if (text && b->heap)
        b->heap = false; /* handed over */
    kura_buf_free(b);
    return text;
}

static bool reserve(kura_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap * 2;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *d = b->heap ? realloc(b->data, cap) : malloc(cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    if (!b->heap)
        memcpy(d, b->data, b->len + 1);
    b->data = d;
    b->cap = cap;
    b->heap = true;
    return true;
}

void kura_buf_addn(kura_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kura_buf_add(kura_buf *b, const char *s)
{
    kura_buf_addn(b, s, strlen(s));
}

void kura_buf_addf(kura_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        kura_buf_addn(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kura_buf_ident(kura_buf *b, const char *s)
{
    kura_buf_addn(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            kura_buf_addn(b, "\"", 1);
        kura_buf_addn(b, p, 1);
    }
    kura_buf_addn(b, "\"", 1);
}
