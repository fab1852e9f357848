/* png.c - PNG encoding around zlib's deflate (png.h): the chunks, their
 * CRC-32s, the unfiltered rows. Not here: files, reading PNGs. */
#include "png.h"

#include <string.h>

#include <zlib.h>

/* A PNG chunk is its length (4 bytes), type (4), data, CRC (4). */
#define CHUNK_OVERHEAD 12
#define SIG_LEN 8
#define IHDR_LEN 13
/* Signature, IHDR chunk, the IDAT chunk without its data, IEND chunk. */
#define PNG_OVERHEAD (SIG_LEN + CHUNK_OVERHEAD + IHDR_LEN + CHUNK_OVERHEAD + CHUNK_OVERHEAD)
/* A chunk's length field is at most 2^31 - 1 (the PNG specification). */
#define CHUNK_MAX 0x7fffffffUL

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes the chunk whose len data bytes already sit at p + 8: its length
 * and type before them, its CRC (over type and data) after. Returns the
 * chunk's total size. */
static size_t put_chunk(uint8_t *p, const char *type, uint32_t len)
{
    put_be32(p, len);
    memcpy(p + 4, type, 4);
    uLong crc = crc32(0L, p + 4, 4 + len);
    put_be32(p + 8 + len, (uint32_t)crc);
    return CHUNK_OVERHEAD + (size_t)len;
}

/* Bytes of the raw rows (a filter byte, then w RGB pixels, per row) and
 * zlib's bound on their compressed size; 0 when out of range. */
static size_t raw_size(int w, int h, uLong *bound)
{
    if (w < 1 || h < 1) return 0;
    /* Both sides below 2^31 and the product checked in 64 bits first, so
     * nothing overflows on the way. */
    unsigned long long raw = (unsigned long long)h * (1 + 3ULL * (unsigned long long)w);
    if (raw > CHUNK_MAX) return 0;
    *bound = compressBound((uLong)raw);
    if (*bound > CHUNK_MAX) return 0;
    return (size_t)raw;
}

size_t png_work_size(int w, int h)
{
    uLong bound;
    size_t raw = raw_size(w, h, &bound);
    return raw ? PNG_OVERHEAD + (size_t)bound + raw : 0;
}

int png_encode(uint8_t *work, size_t *len, const uint8_t *rgb, int w, int h, int level, GlmError *err)
{
    *len = 0;
    uLong bound;
    size_t raw_len = raw_size(w, h, &bound);
    if (!raw_len) return glm_fail(err, GLM_EINPUT, "a %dx%d picture cannot be one PNG", w, h);
    if (level < 0 || level > 9) return glm_fail(err, GLM_EINPUT, "PNG level %d is not a zlib level 0..9", level);
    /* work: [the PNG, at most PNG_OVERHEAD + bound bytes][raw rows]. The
     * deflate output goes straight into the IDAT chunk's place. */
    uint8_t *raw = work + PNG_OVERHEAD + bound;   /* (h, 1 + 3 w) */
    const size_t row = 1 + (size_t)w * 3;
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * row] = 0;   /* filter: none */
        memcpy(raw + (size_t)y * row + 1, rgb + (size_t)y * w * 3, (size_t)w * 3);
    }
    static const uint8_t sig[SIG_LEN] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *p = work;
    memcpy(p, sig, SIG_LEN);
    p += SIG_LEN;
    uint8_t *ihdr = p + 8;
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;    /* bits per channel */
    ihdr[9] = 2;    /* colour type: RGB */
    ihdr[10] = 0;   /* deflate */
    ihdr[11] = 0;   /* adaptive filtering (per-row filter byte) */
    ihdr[12] = 0;   /* no interlace */
    p += put_chunk(p, "IHDR", IHDR_LEN);
    uLongf z_len = bound;
    if (compress2(p + 8, &z_len, raw, (uLong)raw_len, level) != Z_OK)
        return glm_fail(err, GLM_ENOMEM, "zlib could not compress a %dx%d picture", w, h);
    p += put_chunk(p, "IDAT", (uint32_t)z_len);
    p += put_chunk(p, "IEND", 0);
    *len = (size_t)(p - work);
    return GLM_OK;
}
