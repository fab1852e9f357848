/* test_idx.c - the IDX reader on the real Fashion-MNIST files and on small
 * files written here (gzip through zlib) that are wrong in one way each. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "idx.h"
#include "test.h"

/* Writes an IDX header (magic, dims) plus n_data bytes of data to path,
 * gzip-compressed when gz, plain otherwise. Returns 1 on success. */
static int write_idx(const char *path, int gz, uint32_t magic, const uint32_t *dims, int ndim,
                     size_t n_data)
{
    uint8_t buf[4096];
    size_t len = 0;
    uint32_t words[4] = {magic, 0, 0, 0};
    for (int d = 0; d < ndim; d++) words[1 + d] = dims[d];
    for (int w = 0; w < 1 + ndim; w++) {
        buf[len++] = (uint8_t)(words[w] >> 24);
        buf[len++] = (uint8_t)(words[w] >> 16);
        buf[len++] = (uint8_t)(words[w] >> 8);
        buf[len++] = (uint8_t)words[w];
    }
    if (len + n_data > sizeof buf) return 0;
    for (size_t i = 0; i < n_data; i++) buf[len++] = (uint8_t)(i * 37 % 10);   /* valid labels too */
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f) return 0;
        int ok = gzwrite(f, buf, (unsigned)len) == (int)len;
        return gzclose(f) == Z_OK && ok;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static char *tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", test_tmpdir(), name);
    return buf;
}

TEST(idx_real_fashion_mnist_counts_and_sizes)
{
    FashionSet tr, te;
    GlmError err = {0};
    int rc = fashion_load(&tr, FASHION_DEFAULT_DIR, "train", &err);
    if (rc) test_failed(__FILE__, __LINE__, "%s", err.msg);
    REQUIRE(rc == GLM_OK);
    CHECK_EQ_INT(tr.images.count, 60000);
    CHECK_EQ_INT(tr.images.rows, 28);
    CHECK_EQ_INT(tr.images.cols, 28);
    CHECK_EQ_INT(tr.labels.count, 60000);
    /* Fashion-MNIST is balanced: 6000 photos per class in train. */
    int per_class[FASHION_CLASSES] = {0};
    for (int i = 0; i < tr.labels.count; i++) per_class[tr.labels.labels[i]]++;
    for (int c = 0; c < FASHION_CLASSES; c++) CHECK_EQ_INT(per_class[c], 6000);
    /* Photos are item-bright on black: corners dark, some pixel bright. */
    const uint8_t *p0 = tr.images.pixels;
    CHECK(p0[0] < 32);
    int mx = 0;
    for (int i = 0; i < 28 * 28; i++) mx = p0[i] > mx ? p0[i] : mx;
    CHECK(mx > 200);
    fashion_free(&tr);
    rc = fashion_load(&te, FASHION_DEFAULT_DIR, "t10k", &err);
    REQUIRE(rc == GLM_OK);
    CHECK_EQ_INT(te.images.count, 10000);
    CHECK_EQ_INT(te.labels.count, 10000);
    fashion_free(&te);
}

TEST(idx_small_valid_files_gz_and_plain)
{
    char p[512];
    uint32_t dims[3] = {3, 2, 4};
    GlmError err = {0};
    IdxImages im;
    REQUIRE(write_idx(tmp_path(p, sizeof p, "ok.idx3.gz"), 1, IDX_MAGIC_IMAGES, dims, 3, 24));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_OK);
    CHECK_EQ_INT(im.count, 3);
    CHECK_EQ_INT(im.rows, 2);
    CHECK_EQ_INT(im.cols, 4);
    REQUIRE(im.pixels);
    CHECK_EQ_INT(im.pixels[23], 23 * 37 % 10);
    idx_images_free(&im);
    REQUIRE(write_idx(tmp_path(p, sizeof p, "ok.idx3"), 0, IDX_MAGIC_IMAGES, dims, 3, 24));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_OK);
    CHECK_EQ_INT(im.count, 3);
    idx_images_free(&im);
}

TEST(idx_wrong_magic_names_file_and_offset)
{
    char p[512];
    uint32_t dims[3] = {3, 2, 2};
    GlmError err = {0};
    IdxImages im;
    IdxLabels lb;
    /* An images file where labels are expected, and a float-typed file. */
    REQUIRE(write_idx(tmp_path(p, sizeof p, "magic.gz"), 1, IDX_MAGIC_IMAGES, dims, 3, 12));
    CHECK_EQ_INT(idx_load_labels(&lb, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "magic.gz");
    CHECK_STR_CONTAINS(err.msg, "bad magic 0x00000803");
    CHECK_STR_CONTAINS(err.msg, "byte offset 0");
    CHECK(lb.labels == NULL);
    REQUIRE(write_idx(tmp_path(p, sizeof p, "float.gz"), 1, 0x00000d03u, dims, 3, 12));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "bad magic 0x00000d03");
    CHECK(im.pixels == NULL);
}

TEST(idx_count_larger_than_data_is_truncation)
{
    char p[512];
    uint32_t dims[3] = {5, 2, 2};   /* promises 20 bytes, holds 12 */
    GlmError err = {0};
    IdxImages im;
    REQUIRE(write_idx(tmp_path(p, sizeof p, "short.gz"), 1, IDX_MAGIC_IMAGES, dims, 3, 12));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "short.gz");
    CHECK_STR_CONTAINS(err.msg, "truncated");
    CHECK_STR_CONTAINS(err.msg, "byte offset 28");   /* 16 header + 12 data */
    /* And a header cut short. */
    REQUIRE(write_idx(tmp_path(p, sizeof p, "head.gz"), 1, IDX_MAGIC_IMAGES, dims, 0, 0));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "truncated");
    CHECK_STR_CONTAINS(err.msg, "header");
}

TEST(idx_count_smaller_than_data_is_rejected)
{
    char p[512];
    uint32_t dims[1] = {10};
    GlmError err = {0};
    IdxLabels lb;
    REQUIRE(write_idx(tmp_path(p, sizeof p, "long.gz"), 1, IDX_MAGIC_LABELS, dims, 1, 11));
    CHECK_EQ_INT(idx_load_labels(&lb, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "long.gz");
    CHECK_STR_CONTAINS(err.msg, "byte offset 18");
    CHECK_STR_CONTAINS(err.msg, "unexpected data");
}

TEST(idx_zero_or_huge_dimension_is_rejected)
{
    char p[512];
    uint32_t zero[3] = {0, 28, 28}, huge[3] = {4, 100000, 28};
    GlmError err = {0};
    IdxImages im;
    REQUIRE(write_idx(tmp_path(p, sizeof p, "zero.gz"), 1, IDX_MAGIC_IMAGES, zero, 3, 0));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "dimension 0 is 0");
    REQUIRE(write_idx(tmp_path(p, sizeof p, "huge.gz"), 1, IDX_MAGIC_IMAGES, huge, 3, 0));
    CHECK_EQ_INT(idx_load_images(&im, p, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "dimension 1 is 100000");
}

/* Reads a file, lets f damage it, writes it back under another name. */
static int damage(const char *src, const char *dst, size_t keep, size_t flip_at)
{
    size_t len;
    char *data = test_slurp(src, &len);
    if (!data) return 0;
    if (keep < len) len = keep;
    if (flip_at < len) {
        for (size_t i = flip_at; i < len && i < flip_at + 16; i++) data[i] ^= 0x5a;
    }
    FILE *f = fopen(dst, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    free(data);
    return ok;
}

TEST(idx_truncated_and_corrupt_gzip_give_errors)
{
    char good[512], bad[512];
    uint32_t dims[3] = {4, 20, 20};   /* 1600 bytes: a deflate stream worth cutting */
    GlmError err = {0};
    IdxImages im;
    REQUIRE(write_idx(tmp_path(good, sizeof good, "good.gz"), 1, IDX_MAGIC_IMAGES, dims, 3, 1600));
    size_t len;
    char *all = test_slurp(good, &len);
    REQUIRE(all);
    free(all);
    REQUIRE(len > 40);

    /* Cut the compressed file in half: the data ends early. */
    REQUIRE(damage(good, tmp_path(bad, sizeof bad, "cut.gz"), len / 2, (size_t)-1));
    CHECK_EQ_INT(idx_load_images(&im, bad, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "cut.gz");
    CHECK_STR_CONTAINS(err.msg, "gzip data");
    CHECK_STR_CONTAINS(err.msg, "byte offset");
    CHECK(im.pixels == NULL);

    /* Drop only the gzip trailer (CRC + size): all data there, stream unfinished. */
    REQUIRE(damage(good, tmp_path(bad, sizeof bad, "notrailer.gz"), len - 8, (size_t)-1));
    CHECK_EQ_INT(idx_load_images(&im, bad, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "notrailer.gz");
    CHECK_STR_CONTAINS(err.msg, "gzip data");

    /* Scramble bytes inside the deflate stream. */
    REQUIRE(damage(good, tmp_path(bad, sizeof bad, "corrupt.gz"), len, 12));
    CHECK_EQ_INT(idx_load_images(&im, bad, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "corrupt.gz");
    CHECK_STR_CONTAINS(err.msg, "corrupt gzip data");
    CHECK(im.pixels == NULL);

    /* Missing file: a system error, not bad input. */
    CHECK_EQ_INT(idx_load_images(&im, tmp_path(bad, sizeof bad, "missing.gz"), &err), GLM_EIO);
    CHECK_STR_CONTAINS(err.msg, "missing.gz: cannot open");
}

TEST(idx_fashion_load_checks_labels_and_counts)
{
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/fmnist", test_tmpdir());
    REQUIRE(test_run("mkdir -p '%s'", dir) == 0);
    uint32_t ldims[1] = {4};
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    /* 3*784 bytes exceed write_idx's buffer, so write the images with zlib here. */
    gzFile f = gzopen(p, "wb");
    REQUIRE(f);
    uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28};
    static uint8_t px[3 * 784];
    CHECK(gzwrite(f, head, 16) == 16);
    CHECK(gzwrite(f, px, sizeof px) == (int)sizeof px);
    CHECK(gzclose(f) == Z_OK);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    REQUIRE(write_idx(p, 1, IDX_MAGIC_LABELS, ldims, 1, 4));   /* 4 labels, 3 images */
    FashionSet fs;
    GlmError err = {0};
    CHECK_EQ_INT(fashion_load(&fs, dir, "train", &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "4 labels for 3 images");
    CHECK(fs.images.pixels == NULL);
    /* Right count, but a label of 10. */
    f = gzopen(p, "wb");
    REQUIRE(f);
    uint8_t lhead[8] = {0, 0, 8, 1, 0, 0, 0, 3}, labels[3] = {1, 10, 2};
    CHECK(gzwrite(f, lhead, 8) == 8);
    CHECK(gzwrite(f, labels, 3) == 3);
    CHECK(gzclose(f) == Z_OK);
    CHECK_EQ_INT(fashion_load(&fs, dir, "train", &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "byte offset 9: label 10");
}
