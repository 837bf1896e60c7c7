/* utf8.c — strict UTF-8 (RFC 3629): string bounds are counted in characters. */
#include "kura/model.h"

#include <stdint.h>
#include <string.h>

#include "model/model_private.h"

/*
 * Length of the well-formed sequence at p (at most `avail` bytes), or 0.
 * The second-byte ranges follow RFC 3629's table, which is what rules out
 * overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90.., F5..FF).
 */
static size_t sequence_length(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < len)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

long kura_utf8_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    long chars = 0;
    size_t i = 0;

    while (i < len) {
        /* Most text is ASCII: take 8 bytes at a time while none has its high bit. */
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, sizeof w);
            if ((w & UINT64_C(0x8080808080808080)) == 0) {
                i += 8;
                chars += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            chars++;
            continue;
        }
        size_t n = sequence_length(p + i, len - i);
        if (n == 0)
            return -1;
        i += n;
        chars++;
    }
    return chars;
}

long kura__utf8_array_chars_rest(const char *s, size_t size, size_t i, size_t *len)
{
    *len = strnlen(s, size);
    if (*len == size)
        return -2;
    long rest = kura_utf8_chars(s + i, *len - i);
    return rest < 0 ? -1 : (long)i + rest;
}

bool kura_copy_string(char *dst, size_t dst_size, const char *src)
{
    if (dst_size == 0)
        return false;
    if (!src)
        src = ""; /* as kura_set_text: NULL is no text */
    size_t n = strlen(src);
    if (n < dst_size) {
        memcpy(dst, src, n + 1);
        return true;
    }
    /* src[cut] is the first byte left out; when it continues a character, that
     * character's earlier bytes go too. At most 3 steps back, so that garbage
     * input (long runs of continuation bytes) cannot empty the copy. */
    size_t cut = dst_size - 1;
    for (int back = 0; back < 3 && cut > 0 && ((unsigned char)src[cut] & 0xC0) == 0x80; back++)
        cut--;
    if (cut > 0 && ((unsigned char)src[cut] & 0xC0) == 0x80)
        cut = dst_size - 1;
    memcpy(dst, src, cut);
    dst[cut] = '\0';
    return false;
}
