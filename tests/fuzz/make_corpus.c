/* make_corpus.c - writes the binary seed files of the fuzz corpora
 * (tests/fuzz/corpus/{image,model,idx}/gen-*): small valid files of every
 * format each loader reads, made by the writers glimpse and its tests use
 * (stb_image_write, model_save, zlib), and the hostile cases of issue 16
 * made from them: truncated PNG/JPEG/BMP/TGA/GIF, BMP and TGA headers
 * declaring 8000x8000 in about 150 bytes, a PNG declaring 65535x65535, model
 * payloads with a bad tensor shape or a zero dimension, IDX files cut short
 * or with impossible sizes.
 *
 *     make fuzz-corpus        (runs build/CC/make_corpus tests/fuzz/corpus)
 *
 * The output depends only on this file, the zlib version and stb's writers;
 * the text seeds (captions, JSON, objects.tsv, score files) are written by
 * hand and not touched here. Exit 1 if a file cannot be written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <stb_image_write.h>

#include "idx.h"
#include "model.h"
#include "modelfile.h"

static const char *out_dir;
static int failed;

/* out_dir/sub/name, in a buffer the next call overwrites. */
static const char *path_of(const char *sub, const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s/%s", out_dir, sub, name);
    return p;
}

static void put(const char *sub, const char *name, const void *data, size_t n)
{
    const char *p = path_of(sub, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s\n", p);
        failed = 1;
    }
}

static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 4096))) abort();
        size_t r = fread(buf + *n, 1, cap - *n, f);
        if (r == 0) break;
        *n += r;
    }
    fclose(f);
    return buf;
}

/* Writes data, and its first half as NAME with "truncated-" in front. */
static void put_with_truncated(const char *sub, const char *name, const void *data, size_t n)
{
    char t[256];
    put(sub, name, data, n);
    snprintf(t, sizeof t, "gen-truncated%s%s", name[3] == '.' ? "" : "-", name + 4 - (name[3] == '.'));   /* name is "gen-..." or "gen.EXT" */
    put(sub, t, data, n / 2);
}

static void be16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v; }
static void be32(unsigned char *p, uint32_t v) { be16(p, v >> 16), be16(p + 2, v & 0xffff); }
static void le16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void le32(unsigned char *p, uint32_t v) { le16(p, v & 0xffff), le16(p + 2, v >> 16); }

/* ---- images -------------------------------------------------------------- */

enum { W = 8, H = 8 };

static void pattern(unsigned char *px, int comp)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < comp; c++) px[(y * W + x) * comp + c] = (unsigned char)(x * 32 + y * 7 + c * 60);
}

/* Writes with an stb_image_write function into the corpus, then reads the
 * bytes back for the truncated copy. */
static void via_stb(const char *name, int comp, int (*write)(const char *, int, int, int, const void *))
{
    unsigned char px[W * H * 4];
    pattern(px, comp);
    const char *p = path_of("image", name);
    if (!write(p, W, H, comp, px)) failed = 1;
    size_t n;
    unsigned char *b = slurp(p, &n);
    if (!b) failed = 1;
    else put_with_truncated("image", name, b, n);
    free(b);
}
static int png_rgb(const char *p, int w, int h, int c, const void *d) { return stbi_write_png(p, w, h, c, d, w * c); }
static int jpg_q90(const char *p, int w, int h, int c, const void *d) { return stbi_write_jpg(p, w, h, c, d, 90); }

/* A PNG by hand: raw is the filtered scanlines (a filter byte per row). */
static size_t png_chunk(unsigned char *out, const char *type, const unsigned char *data, uint32_t n)
{
    be32(out, n);
    memcpy(out + 4, type, 4);
    if (n) memcpy(out + 8, data, n);
    be32(out + 8 + n, (uint32_t)crc32(crc32(0L, Z_NULL, 0), out + 4, n + 4));
    return 12 + n;
}

static void png_by_hand(const char *name, uint32_t w, uint32_t h, int depth, int ctype, const unsigned char *raw,
                        size_t raw_n, const unsigned char *plte, int n_plte, const unsigned char *trns, int n_trns)
{
    static unsigned char out[1 << 16];
    unsigned char ihdr[13];
    be32(ihdr, w);
    be32(ihdr + 4, h);
    ihdr[8] = (unsigned char)depth, ihdr[9] = (unsigned char)ctype, ihdr[10] = ihdr[11] = ihdr[12] = 0;
    unsigned char z[8192];
    uLongf zn = sizeof z;
    if (compress2(z, &zn, raw, (uLong)raw_n, 9) != Z_OK) abort();
    size_t n = 0;
    memcpy(out, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    n += png_chunk(out + n, "IHDR", ihdr, 13);
    if (plte) n += png_chunk(out + n, "PLTE", plte, (uint32_t)(3 * n_plte));
    if (trns) n += png_chunk(out + n, "tRNS", trns, (uint32_t)n_trns);
    n += png_chunk(out + n, "IDAT", z, (uint32_t)zn);
    n += png_chunk(out + n, "IEND", NULL, 0);
    put("image", name, out, n);
}

static void images(void)
{
    via_stb("gen-rgb.png", 3, png_rgb);
    via_stb("gen-grey.png", 1, png_rgb);
    via_stb("gen-grey-alpha.png", 2, png_rgb);
    via_stb("gen-rgba.png", 4, png_rgb);
    via_stb("gen.jpg", 3, jpg_q90);
    via_stb("gen-grey.jpg", 1, jpg_q90);
    via_stb("gen.bmp", 3, stbi_write_bmp);
    via_stb("gen-rgba.bmp", 4, stbi_write_bmp);
    stbi_write_tga_with_rle = 1;
    via_stb("gen-rle.tga", 3, stbi_write_tga);
    stbi_write_tga_with_rle = 0;
    via_stb("gen-raw.tga", 4, stbi_write_tga);
    {
        float f[4 * 4 * 3];
        for (int i = 0; i < 4 * 4 * 3; i++) f[i] = (float)i / 8.0f;
        if (!stbi_write_hdr(path_of("image", "gen.hdr"), 4, 4, 3, f)) failed = 1;
    }

    /* 16-bit RGB, a palette with transparency, 1-bit grey: by hand. */
    unsigned char raw[4 * (1 + 4 * 6)];
    for (int y = 0; y < 4; y++) {
        unsigned char *r = raw + y * (1 + 4 * 6);
        r[0] = (unsigned char)(y % 5);   /* every filter type: none, sub, up, average, paeth */
        for (int i = 0; i < 4 * 6; i++) r[1 + i] = (unsigned char)(y * 40 + i * 9);
    }
    png_by_hand("gen-rgb16.png", 4, 4, 16, 2, raw, sizeof raw, NULL, 0, NULL, 0);
    static const unsigned char plte[4 * 3] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
    static const unsigned char trns[2] = {0, 128};
    unsigned char praw[4 * 2] = {0, 0x1b, 0, 0xe4, 0, 0x6c, 0, 0x93};   /* 4x4, 2 bits per pixel */
    png_by_hand("gen-palette.png", 4, 4, 2, 3, praw, sizeof praw, plte, 4, trns, 2);
    unsigned char braw[4 * 2] = {0, 0xa0, 0, 0x50, 0, 0xf0, 0, 0x00};
    png_by_hand("gen-1bit.png", 4, 4, 1, 0, braw, sizeof braw, NULL, 0, NULL, 0);
    /* IHDR declaring 65535 x 65535 in front of a 1-row IDAT. */
    png_by_hand("gen-65535x65535.png", 65535, 65535, 8, 0, raw, 8, NULL, 0, NULL, 0);

    /* GIF 2x2 by hand: global palette of 2, LZW minimum code size 2, codes
     * clear p0 clear p1 clear p2 clear p3 end, 3 bits each, LSB first. */
    {
        unsigned char g[64];
        size_t n = 0;
        memcpy(g, "GIF89a", 6), n = 6;
        le16(g + n, 2), le16(g + n + 2, 2), n += 4;
        g[n++] = 0x80, g[n++] = 0, g[n++] = 0;
        static const unsigned char pal[6] = {255, 255, 255, 200, 30, 30};
        memcpy(g + n, pal, 6), n += 6;
        g[n++] = ',';
        le16(g + n, 0), le16(g + n + 2, 0), le16(g + n + 4, 2), le16(g + n + 6, 2), n += 8;
        g[n++] = 0;      /* no local palette, not interlaced */
        g[n++] = 2;      /* LZW minimum code size */
        const int codes[] = {4, 0, 4, 1, 4, 1, 4, 0, 5};
        uint32_t bits = 0;
        int nb = 0;
        unsigned char data[8];
        int nd = 0;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            bits |= (uint32_t)codes[i] << nb, nb += 3;
            while (nb >= 8) data[nd++] = (unsigned char)bits, bits >>= 8, nb -= 8;
        }
        if (nb) data[nd++] = (unsigned char)bits;
        g[n++] = (unsigned char)nd;
        memcpy(g + n, data, (size_t)nd), n += (size_t)nd;
        g[n++] = 0;      /* block terminator */
        g[n++] = ';';
        put_with_truncated("image", "gen.gif", g, n);
    }

    /* PSD 2x2 RGB, raw planes. */
    {
        unsigned char p[26 + 4 + 4 + 4 + 2 + 12];
        memset(p, 0, sizeof p);
        memcpy(p, "8BPS", 4);
        be16(p + 4, 1);
        be16(p + 12, 3);
        be32(p + 14, 2);
        be32(p + 18, 2);
        be16(p + 22, 8);
        be16(p + 24, 3);
        for (int i = 0; i < 12; i++) p[40 + i] = (unsigned char)(i * 20);
        put_with_truncated("image", "gen.psd", p, sizeof p);
    }

    /* PNM: 8-bit RGB, 16-bit grey, and a side over IMAGE_MAX_SIDE. */
    {
        char b[256];
        int n = snprintf(b, sizeof b, "P6\n# comment\n2 2\n255\n");
        for (int i = 0; i < 12; i++) b[n++] = (char)(i * 20);
        put_with_truncated("image", "gen.ppm", b, (size_t)n);
        n = snprintf(b, sizeof b, "P5 2 2 65535\n");
        for (int i = 0; i < 8; i++) b[n++] = (char)(i * 31);
        put("image", "gen-16bit.pgm", b, (size_t)n);
        put("image", "gen-16385.ppm", "P6\n16385 1\n255\n", 15);
    }

    /* BMP and TGA headers declaring 8000 x 8000 in 150 bytes. */
    {
        unsigned char b[150];
        memset(b, 0x5a, sizeof b);
        b[0] = 'B', b[1] = 'M';
        le32(b + 2, sizeof b), le32(b + 6, 0), le32(b + 10, 54);
        le32(b + 14, 40), le32(b + 18, 8000), le32(b + 22, 8000);
        le16(b + 26, 1), le16(b + 28, 24), le32(b + 30, 0), le32(b + 34, 0);
        le32(b + 38, 2835), le32(b + 42, 2835), le32(b + 46, 0), le32(b + 50, 0);
        put("image", "gen-8000x8000.bmp", b, sizeof b);
        memset(b, 0x5a, sizeof b);
        memset(b, 0, 18);
        b[2] = 2;   /* uncompressed true colour */
        le16(b + 12, 8000), le16(b + 14, 8000);
        b[16] = 24;
        put("image", "gen-8000x8000.tga", b, sizeof b);
        b[2] = 10;  /* the same, run-length encoded */
        put("image", "gen-8000x8000-rle.tga", b, sizeof b);
    }
}

/* ---- model files ----------------------------------------------------------- */

/* The smallest model the config checks allow, so its payload is a few
 * hundred bytes. */
static ModelConfig tiny_config(void)
{
    ModelConfig c = model_default_config();
    c.feat.input = 8, c.feat.grid = 1, c.feat.window = 4, c.feat.stride = 4;
    c.feat.color_levels = 1, c.feat.hog_cells = 1, c.feat.orient_bins = 2, c.feat.patch = 1;
    c.vocab = 5, c.embed = 1, c.hidden = 1, c.proj = 1, c.att = 1, c.max_len = 3;
    return c;
}

/* The inflated payload of the model file at p. */
static unsigned char *payload_of(const char *p, size_t *n)
{
    size_t fn;
    unsigned char *f = slurp(p, &fn);
    if (!f || fn < 32) abort();
    uLongf raw = f[20] | f[21] << 8 | f[22] << 16 | (uLongf)f[23] << 24;
    unsigned char *out = malloc(raw ? raw : 1);
    if (!out || uncompress(out, &raw, f + 32, (uLong)(fn - 32)) != Z_OK) abort();
    free(f);
    *n = raw;
    return out;
}

/* Writes f as a model file, and its payload as NAME.payload (the form
 * fuzz_model wraps). */
static void put_model_payload(const char *name, const MfFile *f)
{
    const char *tmp = path_of("model", "tmp.glm");
    GlmError err;
    if (mf_write(tmp, f, &err) != GLM_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        failed = 1;
        return;
    }
    size_t n;
    unsigned char *pl = payload_of(tmp, &n);
    remove(tmp);
    char file[256];
    snprintf(file, sizeof file, "%s.payload", name);
    put("model", file, pl, n);
    free(pl);
}

static void models(void)
{
    static const char *const words[] = {"<pad>", "<start>", "<end>", "<unk>", "red"};
    ModelConfig c = tiny_config();
    Model m;
    Rng r;
    GlmError err;
    rng_seed(&r, 1, 0);
    char p[4096];
    snprintf(p, sizeof p, "%s", path_of("model", "gen-tiny.glm"));
    if (model_init(&m, &c, words, &r, &err) != GLM_OK || model_save(&m, p, NULL, 0, &err) != GLM_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        exit(1);
    }
    size_t n;
    unsigned char *file = slurp(p, &n);
    if (!file) abort();
    put("model", "gen-truncated.glm", file, 40);
    put("model", "gen-header-only.glm", file, 32);
    file[n - 3] ^= 0x40;
    put("model", "gen-bad-crc.glm", file, n);
    file[n - 3] ^= 0x40;
    file[8] = 2;
    put("model", "gen-version-2.glm", file, n);
    free(file);

    /* Payloads: the good one, then one thing wrong in each. */
    MfFile f;
    if (mf_read(&f, p, &err) != GLM_OK) {
        fprintf(stderr, "make_corpus: %s\n", err.msg);
        exit(1);
    }
    put_model_payload("gen-tiny", &f);

    MfTensor *t = (MfTensor *)mf_find_tensor(&f, "proj_W");
    int d0 = t->dims[0];
    t->dims[0] = t->dims[1], t->dims[1] = d0;
    put_model_payload("gen-bad-shape", &f);
    t->dims[1] = t->dims[0], t->dims[0] = d0;

    t = (MfTensor *)mf_find_tensor(&f, "att_b");
    t->dims[0] = 0;   /* a zero dimension: no data follows */
    put_model_payload("gen-zero-dim", &f);
    t->dims[0] = 1;

    for (int i = 0; i < f.n_settings; i++)
        if (!strcmp(f.settings[i].key, "model.hidden")) {
            f.settings[i].value = 0;   /* a zero size in the config */
            put_model_payload("gen-zero-hidden", &f);
            f.settings[i].value = 1;
        }

    f.n_tensors--;   /* out_b missing */
    put_model_payload("gen-missing-tensor", &f);
    f.n_tensors++;

    MfTensor *more = calloc((size_t)f.n_tensors + 1, sizeof *more);
    memcpy(more, f.tensors, (size_t)f.n_tensors * sizeof *more);
    float one = 1.0f;
    more[f.n_tensors] = (MfTensor){.name = "train.adam_m", .ndim = 1, .dims = {1}, .data = &one};
    MfFile g = f;
    g.tensors = more;
    g.n_tensors++;
    put_model_payload("gen-checkpoint-tensor", &g);
    more[f.n_tensors] = f.tensors[0];   /* proj_W twice */
    put_model_payload("gen-tensor-twice", &g);
    free(more);

    g = f;
    g.n_words--;
    put_model_payload("gen-vocab-mismatch", &g);

    /* Every size at the top of its range, the tensors still tiny: a model
     * of about 150 G parameters that the file does not hold. */
    static const struct { const char *key; int64_t v; } big[] = {
        {"feat.input", 1024}, {"feat.window", 1024}, {"feat.hog_cells", 1024}, {"feat.orient_bins", 36},
        {"feat.patch", 32}, {"model.proj", 4096}, {"model.hidden", 4096}, {"model.embed", 4096},
    };
    MfSetting *set = malloc((size_t)f.n_settings * sizeof *set);
    memcpy(set, f.settings, (size_t)f.n_settings * sizeof *set);
    for (int i = 0; i < f.n_settings; i++)
        for (size_t k = 0; k < sizeof big / sizeof big[0]; k++)
            if (!strcmp(set[i].key, big[k].key)) set[i].value = big[k].v;
    g = f;
    g.settings = set;
    put_model_payload("gen-huge-config", &g);
    free(set);
    mf_free(&f);
    model_free(&m);
}

/* ---- IDX files --------------------------------------------------------------- */

static void put_gz(const char *name, const unsigned char *data, size_t n)
{
    unsigned char z[1 << 16];
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    s.next_in = (unsigned char *)data, s.avail_in = (uInt)n;
    s.next_out = z, s.avail_out = sizeof z;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END) abort();
    size_t zn = sizeof z - s.avail_out;
    deflateEnd(&s);
    put("idx", name, z, zn);
    if (!strcmp(name, "gen-images.idx.gz")) {
        put("idx", "gen-truncated.idx.gz", z, zn / 2);
        z[zn - 6] ^= 1;   /* the CRC-32 in the trailer */
        put("idx", "gen-bad-crc.idx.gz", z, zn);
    }
}

static void idx_files(void)
{
    /* 3 images of 4x4, with labels. */
    unsigned char im[16 + 3 * 16], lb[8 + 3];
    be32(im, IDX_MAGIC_IMAGES), be32(im + 4, 3), be32(im + 8, 4), be32(im + 12, 4);
    for (int i = 0; i < 48; i++) im[16 + i] = (unsigned char)(i * 5);
    be32(lb, IDX_MAGIC_LABELS), be32(lb + 4, 3);
    lb[8] = 0, lb[9] = 9, lb[10] = 4;
    put("idx", "gen-images.idx", im, sizeof im);
    put("idx", "gen-labels.idx", lb, sizeof lb);
    put_gz("gen-images.idx.gz", im, sizeof im);
    put_gz("gen-labels.idx.gz", lb, sizeof lb);
    put("idx", "gen-images-cut.idx", im, sizeof im - 5);
    put("idx", "gen-header-cut.idx", im, 10);
    unsigned char more[sizeof im + 3];
    memcpy(more, im, sizeof im), memset(more + sizeof im, 7, 3);
    put("idx", "gen-trailing.idx", more, sizeof more);
    be32(im + 8, 0);
    put("idx", "gen-zero-rows.idx", im, sizeof im);
    be32(im + 8, 0xffffffffu);
    put("idx", "gen-huge-rows.idx", im, sizeof im);
    be32(im + 8, 4), be32(im + 4, 10000000);
    put("idx", "gen-huge-count.idx", im, sizeof im);
    be32(im, 0x00000c03u);   /* element type int32 */
    put("idx", "gen-int32.idx", im, sizeof im);
    /* Two gzip members one after the other (zlib reads on). */
    {
        unsigned char z1[256], z2[256];
        size_t n1 = 0, n2 = 0;
        for (int k = 0; k < 2; k++) {
            z_stream s;
            memset(&s, 0, sizeof s);
            if (deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
            s.next_in = k ? lb + 6 : lb, s.avail_in = k ? (uInt)(sizeof lb - 6) : 6;
            s.next_out = k ? z2 : z1, s.avail_out = 256;
            if (deflate(&s, Z_FINISH) != Z_STREAM_END) abort();
            *(k ? &n2 : &n1) = 256 - s.avail_out;
            deflateEnd(&s);
        }
        unsigned char both[512];
        memcpy(both, z1, n1), memcpy(both + n1, z2, n2);
        put("idx", "gen-two-members.idx.gz", both, n1 + n2);
    }
    /* The first 3 photos of Debian's Fashion-MNIST test split, if installed. */
    FashionSet fs;
    GlmError err;
    if (fashion_load(&fs, FASHION_DEFAULT_DIR, "t10k", &err) == GLM_OK) {
        static unsigned char real[16 + 3 * 28 * 28];
        be32(real, IDX_MAGIC_IMAGES), be32(real + 4, 3), be32(real + 8, 28), be32(real + 12, 28);
        memcpy(real + 16, fs.images.pixels, 3 * 28 * 28);
        put_gz("gen-fashion-t10k-3.idx.gz", real, sizeof real);
        fashion_free(&fs);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR   (e.g. tests/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    images();
    models();
    idx_files();
    return failed;
}
