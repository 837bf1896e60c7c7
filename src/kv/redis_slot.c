/*
 * redis_slot.c — which of the 16384 cluster slots a key belongs to.
 *
 * The Redis Cluster specification: HASH_SLOT = CRC16(key) mod 16384, where
 * CRC16 is the XMODEM variant (polynomial 0x1021, initial value 0, no
 * reflection), and a key holding "{...}" with at least one byte between the
 * first '{' and the first '}' after it hashes only those bytes (its hash tag),
 * so keys that must meet in one command can be made to share a slot.
 */
#include "kv/redis_private.h"

#include <string.h>

uint16_t redis_crc16(const char *buf, size_t len)
{
    /* Bit by bit: a key is a few dozen bytes, and a 512-byte table would be one
     * more thing to get right. */
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int redis_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return redis_crc16(open + 1, (size_t)(close - open - 1)) & (REDIS_SLOTS - 1);
    }
    return redis_crc16(key, len) & (REDIS_SLOTS - 1);
}
