/* test_image.c - image_load on every pixel layout and bit depth, the size
 * limits, corrupt and truncated files, and resizing. The images are made
 * here: 8-bit ones with stb_image_write, 16-bit PNG and PNM by hand (stb
 * writes only 8 bits). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <stb_image_write.h>

#include "image.h"
#include "test.h"

/* One pixel of the test pattern, layout-independent: x, y in a 5 x 3 image. */
static void pattern(int x, int y, float rgba[4])
{
    rgba[0] = (float)x / 4.0f;
    rgba[1] = (float)y / 2.0f;
    rgba[2] = (float)((x + y) % 3) / 2.0f;
    rgba[3] = (float)((x * 7 + y * 3) % 5) / 4.0f;   /* 0 .. 1, includes 0 and 1 */
}
#define PW 5
#define PH 3

static float grey_of(const float p[4]) { return p[0]; }

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The background transparent pixels are composited on: per channel, the
 * median (the lower one of an even count) of the border pixels whose alpha
 * is at least 1/2, at 8-bit precision; white when there are none or no
 * alpha. Every pixel of the 5 x 3 pattern is on its border but (1..3, 1). */
static void expected_background(int comp, float bg[3])
{
    bg[0] = bg[1] = bg[2] = 1.0f;
    if (comp != 2 && comp != 4) return;
    float v[3][PW * PH];
    int n = 0;
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++) {
            float p[4];
            pattern(x, y, p);
            if ((y == 1 && x > 0 && x < PW - 1) || p[3] < 0.5f) continue;
            for (int c = 0; c < 3; c++) v[c][n] = roundf((comp <= 2 ? grey_of(p) : p[c]) * 255.0f) / 255.0f;
            n++;
        }
    for (int c = 0; c < 3 && n; c++) {
        qsort(v[c], (size_t)n, sizeof(float), cmp_float);
        bg[c] = v[c][(n + 1) / 2 - 1];
    }
}

/* What image_load must give for a pixel stored with `comp` channels:
 * alpha composited over the picture's own background (image.h). */
static void expected_rgb(int comp, const float p[4], float out[3])
{
    float c[3], a = 1.0f, bg[3];
    if (comp <= 2) c[0] = c[1] = c[2] = grey_of(p);
    else memcpy(c, p, sizeof c);
    if (comp == 2 || comp == 4) a = p[3];
    expected_background(comp, bg);
    for (int i = 0; i < 3; i++) out[i] = c[i] * a + bg[i] * (1.0f - a);
}

static void fill8(unsigned char *buf, int comp)
{
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++) {
            float p[4];
            pattern(x, y, p);
            unsigned char *o = buf + (y * PW + x) * comp;
            if (comp <= 2) o[0] = (unsigned char)(grey_of(p) * 255.0f + 0.5f);
            else for (int i = 0; i < 3; i++) o[i] = (unsigned char)(p[i] * 255.0f + 0.5f);
            if (comp == 2) o[1] = (unsigned char)(p[3] * 255.0f + 0.5f);
            if (comp == 4) o[3] = (unsigned char)(p[3] * 255.0f + 0.5f);
        }
}

static void check_pattern(const Image *img, int comp, double tol, const char *what)
{
    REQUIRE(img->w == PW && img->h == PH);
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++) {
            float p[4], want[3];
            pattern(x, y, p);
            expected_rgb(comp, p, want);
            for (int i = 0; i < 3; i++) {
                double got = img->data[(y * PW + x) * 3 + i];
                if (fabs(got - want[i]) > tol)
                    test_failed(__FILE__, __LINE__, "%s: pixel (%d,%d) channel %d = %g, want %g", what, x, y,
                                i, got, want[i]);
            }
        }
}

static const char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", test_tmpdir(), name);
    return buf[k];
}

/* 8-bit rounding: half a step of 1/255, plus alpha compositing of two rounded values. */
#define TOL_8BIT (1.5 / 255.0)
/* 16-bit: half a step of 1/65535 with room for float rounding. */
#define TOL_16BIT (2.0 / 65535.0)

TEST(image_load_png_every_layout_8bit)
{
    for (int comp = 1; comp <= 4; comp++) {
        unsigned char buf[PW * PH * 4];
        fill8(buf, comp);
        char name[64];
        snprintf(name, sizeof name, "p8_%d.png", comp);
        REQUIRE(stbi_write_png(tmp_path(name), PW, PH, comp, buf, PW * comp));
        Image img;
        GlmError err;
        REQUIRE(image_load(&img, tmp_path(name), &err) == GLM_OK);
        check_pattern(&img, comp, TOL_8BIT, name);
        image_free(&img);
    }
}

TEST(image_load_bmp_tga_jpg)
{
    unsigned char buf[PW * PH * 4];
    Image img;
    GlmError err;
    /* BMP: stb writes RGB (comp 3) or RGBA (comp 4). */
    fill8(buf, 3);
    REQUIRE(stbi_write_bmp(tmp_path("p.bmp"), PW, PH, 3, buf));
    REQUIRE(image_load(&img, tmp_path("p.bmp"), &err) == GLM_OK);
    check_pattern(&img, 3, TOL_8BIT, "bmp");
    image_free(&img);
    /* TGA with alpha, grey+alpha. */
    for (int comp = 2; comp <= 4; comp += 2) {
        fill8(buf, comp);
        REQUIRE(stbi_write_tga(tmp_path("p.tga"), PW, PH, comp, buf));
        REQUIRE(image_load(&img, tmp_path("p.tga"), &err) == GLM_OK);
        check_pattern(&img, comp, TOL_8BIT, "tga");
        image_free(&img);
    }
    /* JPEG is lossy: a flat colour must come back close. */
    for (int i = 0; i < PW * PH; i++) buf[3 * i] = 200, buf[3 * i + 1] = 40, buf[3 * i + 2] = 90;
    REQUIRE(stbi_write_jpg(tmp_path("p.jpg"), PW, PH, 3, buf, 95));
    REQUIRE(image_load(&img, tmp_path("p.jpg"), &err) == GLM_OK);
    CHECK_NEAR(img.data[0], 200 / 255.0, 0.03);
    CHECK_NEAR(img.data[1], 40 / 255.0, 0.03);
    CHECK_NEAR(img.data[2], 90 / 255.0, 0.03);
    image_free(&img);
}

/* --- a minimal 16-bit PNG writer (one IDAT, filter 0 on every row) --- */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static int write_chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len)
{
    unsigned char hdr[8];
    put_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len) crc = crc32(crc, data, len);
    unsigned char c[4];
    put_be32(c, (uint32_t)crc);
    return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) && fwrite(c, 1, 4, f) == 4;
}

/* colour types: 0 grey, 4 grey+alpha, 2 RGB, 6 RGBA */
static int write_png16(const char *path, int comp)
{
    static const int ctype[5] = {0, 0, 4, 2, 6};
    size_t row = 1 + (size_t)PW * comp * 2, raw_len = row * PH;
    unsigned char raw[1 + PW * 4 * 2 * PH + PH], z[1024];
    for (int y = 0; y < PH; y++) {
        unsigned char *o = raw + y * row;
        *o++ = 0;
        for (int x = 0; x < PW; x++) {
            float p[4];
            pattern(x, y, p);
            float ch[4] = {grey_of(p), p[3], 0, 0};
            if (comp >= 3) ch[0] = p[0], ch[1] = p[1], ch[2] = p[2], ch[3] = p[3];
            for (int i = 0; i < comp; i++) {
                unsigned v = (unsigned)(ch[i] * 65535.0f + 0.5f);
                *o++ = (unsigned char)(v >> 8);
                *o++ = (unsigned char)v;
            }
        }
    }
    uLongf zlen = sizeof z;
    if (compress(z, &zlen, raw, (uLong)raw_len) != Z_OK) return 0;
    unsigned char ihdr[13];
    put_be32(ihdr, PW);
    put_be32(ihdr + 4, PH);
    ihdr[8] = 16, ihdr[9] = (unsigned char)ctype[comp], ihdr[10] = ihdr[11] = ihdr[12] = 0;
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) &&
             write_chunk(f, "IDAT", z, (uint32_t)zlen) && write_chunk(f, "IEND", NULL, 0);
    return fclose(f) == 0 && ok;
}

TEST(image_load_png_every_layout_16bit)
{
    for (int comp = 1; comp <= 4; comp++) {
        char name[64];
        snprintf(name, sizeof name, "p16_%d.png", comp);
        REQUIRE(write_png16(tmp_path(name), comp));
        Image img;
        GlmError err;
        int rc = image_load(&img, tmp_path(name), &err);
        if (rc) test_failed(__FILE__, __LINE__, "%s: %s", name, err.msg);
        REQUIRE(rc == GLM_OK);
        check_pattern(&img, comp, TOL_16BIT, name);
        image_free(&img);
    }
}

TEST(image_load_pnm_8_and_16bit)
{
    for (int bits = 8; bits <= 16; bits += 8) {
        const char *path = tmp_path(bits == 8 ? "p8.ppm" : "p16.ppm");
        FILE *f = fopen(path, "wb");
        REQUIRE(f);
        int maxval = bits == 8 ? 255 : 65535;
        fprintf(f, "P6\n# a comment\n%d %d\n%d\n", PW, PH, maxval);
        for (int y = 0; y < PH; y++)
            for (int x = 0; x < PW; x++) {
                float p[4];
                pattern(x, y, p);
                for (int i = 0; i < 3; i++) {
                    unsigned v = (unsigned)(p[i] * (float)maxval + 0.5f);
                    if (bits == 16) fputc((int)(v >> 8), f);
                    fputc((int)(v & 255), f);
                }
            }
        REQUIRE(fclose(f) == 0);
        Image img;
        GlmError err;
        REQUIRE(image_load(&img, path, &err) == GLM_OK);
        check_pattern(&img, 3, bits == 8 ? TOL_8BIT : TOL_16BIT, path);
        image_free(&img);
    }
}

TEST(image_size_limits_refused_from_the_header)
{
    /* Headers only: no pixel data follows, so a decode would fail differently. */
    struct { const char *hdr, *why; } cases[] = {
        {"P6\n20000 10\n255\n", "on a side"},
        {"P6\n10 16385\n255\n", "on a side"},
        {"P6\n9000 9000\n255\n", "Mpx"},
    };
    for (int i = 0; i < 3; i++) {
        const char *path = tmp_path("big.ppm");
        REQUIRE(test_write(path, cases[i].hdr, strlen(cases[i].hdr)));
        Image img;
        GlmError err = {0};
        CHECK_EQ_INT(image_load(&img, path, &err), GLM_EINPUT);
        CHECK_STR_CONTAINS(err.msg, cases[i].why);
        CHECK_STR_CONTAINS(err.msg, path);
        CHECK(img.data == NULL);
    }
    /* Exactly at the limit on a side passes the header check (then fails to
     * decode, since there is no data). */
    const char *path = tmp_path("edge.ppm");
    REQUIRE(test_write(path, "P6\n16384 1\n255\n", 15));
    Image img;
    GlmError err = {0};
    CHECK_EQ_INT(image_load(&img, path, &err), GLM_EINPUT);
    CHECK(strstr(err.msg, "on a side") == NULL);
}

/* A run-length TGA of grey runs 128 pixels long, 2 bytes each: the most
 * pixels a TGA can hold per byte. n_runs of them make a w x h image when
 * w * h = 128 * n_runs; pad adds that many junk bytes (0 for a whole file). */
static unsigned char *tga_runs(size_t *len, int w, int h, size_t n_runs, size_t pad)
{
    *len = 18 + 2 * n_runs + pad;
    unsigned char *t = calloc(*len, 1);
    if (!t) return NULL;
    t[2] = 11;   /* run-length grey */
    t[12] = (unsigned char)w, t[13] = (unsigned char)(w >> 8);
    t[14] = (unsigned char)h, t[15] = (unsigned char)(h >> 8);
    t[16] = 8;
    for (size_t i = 0; i < n_runs; i++) t[18 + 2 * i] = 0xff, t[19 + 2 * i] = 200;   /* 128 x grey 200 */
    memset(t + 18 + 2 * n_runs, 0x5a, pad);
    return t;
}

/* Found by fuzz_image (a timeout): a 7.7 KB run-length TGA declaring
 * 8000x8000 passed the plausibility check, whose bound (16384 pixels a
 * byte) is PNG's; stb then allocated 192 MB and decoded for a second (ten
 * in the fuzz build) before noticing the data ended. A run-length TGA
 * holds at most 64 pixels a byte, and the densest one still loads. */
TEST(image_rle_header_claiming_more_than_the_file_can_hold)
{
    size_t n;
    unsigned char *t = tga_runs(&n, 8000, 8000, 64, 7560);
    REQUIRE(t);
    REQUIRE(test_write(tmp_path("claims.tga"), t, n));
    free(t);
    Image img;
    GlmError err = {0};
    CHECK_EQ_INT(image_load(&img, tmp_path("claims.tga"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "implausible");
    CHECK(img.data == NULL);

    /* 1536 x 1536 = 2.4 Mpx from 18 432 runs in 36 882 bytes: at the bound, loads. */
    t = tga_runs(&n, 1536, 1536, 1536 * 1536 / 128, 0);
    REQUIRE(t);
    REQUIRE(test_write(tmp_path("dense.tga"), t, n));
    free(t);
    REQUIRE(image_load(&img, tmp_path("dense.tga"), &err) == GLM_OK);
    CHECK(img.w == 1536 && img.h == 1536);
    CHECK_NEAR(img.data[3 * (1536 * 1536 - 1)], 200.0 / 255.0, 1e-6);
    image_free(&img);
}

/* A JPEG that is only SOI, junk, one Huffman table of `codes` codes (2 of
 * 15 bits, the rest of 16: a valid prefix code up to 65536) and EOI. */
static size_t jpeg_with_table(unsigned char *out, int codes, const char *junk)
{
    size_t n = 0, k = strlen(junk);
    memcpy(out, "\xff\xff\xd8", 3), n = 3;   /* a fill byte before SOI, as stb allows */
    memcpy(out + n, junk, k), n += k;
    const size_t len = 2 + 17 + (size_t)codes;
    out[n++] = 0xff, out[n++] = 0xc4, out[n++] = (unsigned char)(len >> 8), out[n++] = (unsigned char)len;
    out[n++] = 0x00;   /* DC table 0 */
    for (int i = 1; i <= 16; i++) out[n++] = i == 15 ? 2 : i == 16 ? (unsigned char)(codes - 2) : 0;
    for (int i = 0; i < codes; i++) out[n++] = (unsigned char)i;
    out[n++] = 0xff, out[n++] = 0xd9;
    return n;
}

/* Found by fuzz_image (UBSan: index 257 out of bounds in stb's
 * stbi__build_huffman): Debian's stb_image 2.27 writes a table's codes into
 * 256- and 257-entry arrays before checking their count, so one table of
 * 257 or more codes overwrote the decoder's memory. image_load refuses such
 * a table before stb reads the file, wherever stb would find it. */
TEST(image_jpeg_huffman_table_over_256_codes_refused)
{
    unsigned char buf[600];
    Image img;
    GlmError err = {0};
    const char *junks[] = {"", "\x00\x01junk\xff"};
    for (int j = 0; j < 2; j++) {
        size_t n = jpeg_with_table(buf, 257, junks[j]);
        REQUIRE(test_write(tmp_path("dht.jpg"), buf, n));
        CHECK_EQ_INT(image_load(&img, tmp_path("dht.jpg"), &err), GLM_EINPUT);
        CHECK_STR_CONTAINS(err.msg, "Huffman table of more than 256 codes");
        CHECK(img.data == NULL);
    }
    /* 256 codes fit: refused by stb later, for having no image. */
    size_t n = jpeg_with_table(buf, 256, "");
    REQUIRE(test_write(tmp_path("dht256.jpg"), buf, n));
    CHECK_EQ_INT(image_load(&img, tmp_path("dht256.jpg"), &err), GLM_EINPUT);
    CHECK(strstr(err.msg, "Huffman") == NULL);
}

/* Found by fuzz_image (UBSan: signed integer overflow in stb's
 * stbi__pnm_getinteger): stb 2.27 reads a PNM header's numbers into an int
 * unchecked, so a width of 2^32 + 2 came out as 2 and the file loaded as a
 * 2x1 picture. Numbers out of range are refused before stb reads them; the
 * separators and comments stb accepts still work. */
TEST(image_pnm_header_numbers_out_of_range_refused)
{
    static const char wrap[] = "P6\n4294967298 1\n255\n\x10\x20\x30\x40\x50\x60";
    REQUIRE(test_write(tmp_path("wrap.ppm"), wrap, sizeof wrap - 1));
    Image img;
    GlmError err = {0};
    CHECK_EQ_INT(image_load(&img, tmp_path("wrap.ppm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "PNM header");
    CHECK(img.data == NULL);

    static const char seps[] = "P5\v2\f# a comment to CR\r1 # another\n255\n\x00\xff";
    REQUIRE(test_write(tmp_path("seps.pgm"), seps, sizeof seps - 1));
    REQUIRE(image_load(&img, tmp_path("seps.pgm"), &err) == GLM_OK);
    CHECK(img.w == 2 && img.h == 1);
    CHECK_NEAR(img.data[3], 1.0, 1e-6);
    image_free(&img);
}

TEST(image_corrupt_truncated_missing)
{
    unsigned char buf[PW * PH * 3];
    fill8(buf, 3);
    REQUIRE(stbi_write_png(tmp_path("good.png"), PW, PH, 3, buf, PW * 3));
    size_t len;
    char *png = test_slurp(tmp_path("good.png"), &len);
    REQUIRE(png && len > 40);

    Image img;
    GlmError err = {0};
    REQUIRE(test_write(tmp_path("trunc.png"), png, len / 2));
    CHECK_EQ_INT(image_load(&img, tmp_path("trunc.png"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "trunc.png");

    /* stb 2.27 alone would return a truncated PNM as a whole image of garbage. */
    REQUIRE(test_write(tmp_path("trunc.ppm"), "P6\n4 4\n255\nabcdefgh", 19));
    CHECK_EQ_INT(image_load(&img, tmp_path("trunc.ppm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "truncated");

    REQUIRE(test_write(tmp_path("junk.png"), "this is not an image at all", 27));
    CHECK_EQ_INT(image_load(&img, tmp_path("junk.png"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "not an image glimpse reads");

    REQUIRE(test_write(tmp_path("empty.png"), "", 0));
    CHECK_EQ_INT(image_load(&img, tmp_path("empty.png"), &err), GLM_EINPUT);

    CHECK_EQ_INT(image_load(&img, tmp_path("no-such-file.png"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "No such file");

    /* The command line: one line per bad file, exit 2, good files still done. */
    int st = test_run("%s regions %s %s %s", test_glimpse_bin(), tmp_path("trunc.png"),
                      tmp_path("good.png"), tmp_path("junk.png"));
    CHECK_EQ_INT(st, 2);
    char path[600];
    snprintf(path, sizeof path, "%s/last.err", test_tmpdir());
    char *errs = test_slurp(path, NULL);
    snprintf(path, sizeof path, "%s/last.out", test_tmpdir());
    char *outs = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(errs, "glimpse: ");
    CHECK_STR_CONTAINS(errs, "trunc.png");
    CHECK_STR_CONTAINS(errs, "junk.png");
    CHECK_STR_CONTAINS(outs, "good.png: 4x4 regions");
    int lines = 0;
    for (const char *p = errs; p && *p; p++) lines += *p == '\n';
    CHECK_EQ_INT(lines, 2);
    free(errs);
    free(outs);
    free(png);
}

TEST(image_resize_area_and_bilinear)
{
    Image src, dst;
    GlmError err;
    REQUIRE(image_init(&src, 4, 2, &err) == GLM_OK);
    for (int i = 0; i < 8; i++) src.data[3 * i] = (float)i;   /* red = 0..7, row-major */
    /* 4x2 -> 2x1: each output is the mean of a 2x2 block. */
    REQUIRE(image_resize(&dst, &src, 2, 1, &err) == GLM_OK);
    CHECK_NEAR(dst.data[0], (0 + 1 + 4 + 5) / 4.0, 1e-6);
    CHECK_NEAR(dst.data[3], (2 + 3 + 6 + 7) / 4.0, 1e-6);
    image_free(&dst);
    /* 4 -> 3 columns: fractional coverage (4/3 source pixels per output). */
    REQUIRE(image_resize(&dst, &src, 3, 2, &err) == GLM_OK);
    CHECK_NEAR(dst.data[0], (0 * 1.0 + 1 * (1.0 / 3)) / (4.0 / 3), 1e-5);
    CHECK_NEAR(dst.data[3], (1 * (2.0 / 3) + 2 * (2.0 / 3)) / (4.0 / 3), 1e-5);
    image_free(&dst);
    /* 4x2 -> 8x2: bilinear with aligned centres; x = (j + 0.5) / 2 - 0.5. */
    REQUIRE(image_resize(&dst, &src, 8, 2, &err) == GLM_OK);
    CHECK_NEAR(dst.data[0 * 3], 0.0, 1e-6);          /* clamped at the edge */
    CHECK_NEAR(dst.data[1 * 3], 0.25, 1e-6);         /* x = 0.25 */
    CHECK_NEAR(dst.data[2 * 3], 0.75, 1e-6);         /* x = 0.75 */
    CHECK_NEAR(dst.data[7 * 3], 3.0, 1e-6);          /* clamped */
    CHECK_NEAR(dst.data[(8 + 3) * 3], 5.25, 1e-6);   /* row 1, x = 1.25 */
    image_free(&dst);
    image_free(&src);
    /* A flat image stays flat in both directions. */
    REQUIRE(image_init(&src, 37, 23, &err) == GLM_OK);
    for (int i = 0; i < 37 * 23 * 3; i++) src.data[i] = 0.625f;
    int sizes[][2] = {{64, 64}, {10, 50}, {5, 3}};
    for (int s = 0; s < 3; s++) {
        REQUIRE(image_resize(&dst, &src, sizes[s][0], sizes[s][1], &err) == GLM_OK);
        for (int i = 0; i < dst.w * dst.h * 3; i++)
            if (fabsf(dst.data[i] - 0.625f) > 1e-5f) {
                test_failed(__FILE__, __LINE__, "flat %dx%d: value %g at %d", dst.w, dst.h, dst.data[i], i);
                break;
            }
        image_free(&dst);
    }
    image_free(&src);
}
