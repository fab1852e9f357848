/* test_png.c - the PNG encoder: read back by stb_image pixel for pixel, the
 * chunk layout and CRCs checked independently with zlib, sizes refused. */
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <zlib.h>

#include "png.h"
#include "rng.h"
#include "test.h"

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunks of png[0..len): each CRC right, IHDR first with w, h,
 * 8-bit RGB, IEND last and at the very end. Returns the number of chunks,
 * or -1 after reporting what was wrong. */
static int check_chunks(const uint8_t *png, size_t len, int w, int h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < 8 || memcmp(png, sig, 8)) {
        test_failed(__FILE__, __LINE__, "no PNG signature");
        return -1;
    }
    size_t at = 8;
    int n = 0;
    while (at + 12 <= len) {
        uint32_t clen = get_be32(png + at);
        if (at + 12 + clen > len) break;
        const uint8_t *type = png + at + 4;
        uint32_t want = (uint32_t)crc32(0L, type, 4 + clen);
        if (get_be32(type + 4 + clen) != want) {
            test_failed(__FILE__, __LINE__, "chunk %d (%.4s): bad CRC", n, (const char *)type);
            return -1;
        }
        if (n == 0) {
            if (memcmp(type, "IHDR", 4) || clen != 13 || get_be32(type + 4) != (uint32_t)w ||
                get_be32(type + 8) != (uint32_t)h || type[12] != 8 || type[13] != 2 || type[16] != 0) {
                test_failed(__FILE__, __LINE__, "first chunk is not IHDR %dx%d 8-bit RGB", w, h);
                return -1;
            }
        }
        at += 12 + clen;
        n++;
        if (!memcmp(type, "IEND", 4)) break;
    }
    if (at != len || memcmp(png + len - 8, "IEND", 4)) {
        test_failed(__FILE__, __LINE__, "IEND is not the last %zu bytes' end (stopped at %zu)", len, at);
        return -1;
    }
    return n;
}

TEST(png_round_trip_exact_pixels_and_valid_chunks)
{
    static const int sizes[][2] = {{1, 1}, {7, 3}, {3, 7}, {64, 64}, {200, 31}};
    static const int levels[] = {0, PNG_LEVEL_FAST, PNG_LEVEL_SMALL, 9};
    Rng r;
    rng_seed(&r, 17, 0);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int w = sizes[si][0], h = sizes[si][1];
        uint8_t *rgb = malloc((size_t)w * h * 3);   /* (h, w, 3) */
        size_t cap = png_work_size(w, h);
        uint8_t *work = malloc(cap);
        REQUIRE(rgb && cap > 0 && work);
        /* Half noise, half flat, so deflate has both kinds of rows. */
        for (size_t i = 0; i < (size_t)w * h * 3; i++)
            rgb[i] = i < (size_t)w * h * 3 / 2 ? (uint8_t)rng_u32(&r) : (uint8_t)(i / 97);
        for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
            size_t len = 0;
            GlmError err = {0};
            REQUIRE(png_encode(work, &len, rgb, w, h, levels[li], &err) == GLM_OK);
            CHECK(len > 0 && len <= cap);
            CHECK_EQ_INT(check_chunks(work, len, w, h), 3);   /* IHDR, IDAT, IEND */
            int gw, gh, ch;
            uint8_t *px = stbi_load_from_memory(work, (int)len, &gw, &gh, &ch, 3);
            REQUIRE(px);
            CHECK_EQ_INT(gw, w);
            CHECK_EQ_INT(gh, h);
            CHECK_EQ_INT(ch, 3);
            if (memcmp(px, rgb, (size_t)w * h * 3))
                test_failed(__FILE__, __LINE__, "%dx%d level %d: decoded pixels differ", w, h, levels[li]);
            stbi_image_free(px);
        }
        free(work);
        free(rgb);
    }
}

TEST(png_same_pixels_same_bytes_and_work_reused)
{
    /* A buffer sized for the larger picture serves the smaller one too, and
     * the bytes do not depend on what the buffer held before. */
    uint8_t rgb[16 * 9 * 3];   /* (9, 16, 3) */
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 7);
    size_t cap = png_work_size(64, 64);
    uint8_t *a = malloc(cap), *b = malloc(cap);
    REQUIRE(a && b);
    memset(a, 0, cap);
    memset(b, 0xab, cap);
    size_t la, lb;
    GlmError err = {0};
    REQUIRE(png_encode(a, &la, rgb, 16, 9, PNG_LEVEL_FAST, &err) == GLM_OK);
    REQUIRE(png_encode(b, &lb, rgb, 16, 9, PNG_LEVEL_FAST, &err) == GLM_OK);
    CHECK_EQ_INT(la, lb);
    CHECK(la == lb && !memcmp(a, b, la));
    free(a);
    free(b);
}

TEST(png_refuses_bad_sizes_and_levels)
{
    CHECK_EQ_INT(png_work_size(0, 5), 0);
    CHECK_EQ_INT(png_work_size(5, -1), 0);
    CHECK_EQ_INT(png_work_size(1 << 30, 1 << 30), 0);   /* over one IDAT chunk */
    CHECK(png_work_size(1, 1) > 0);
    uint8_t work[256], px[3] = {1, 2, 3};
    size_t len = 99;
    GlmError err = {0};
    CHECK_EQ_INT(png_encode(work, &len, px, 0, 1, PNG_LEVEL_FAST, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "0x1");
    CHECK_EQ_INT(len, 0);
    CHECK(png_work_size(1, 1) <= sizeof work);
    CHECK_EQ_INT(png_encode(work, &len, px, 1, 1, 10, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "level 10");
}
