/* idx.c - IDX (MNIST) reader over zlib, and the Fashion-MNIST loader.
 *
 * Reads the whole file into memory after checking the header; it does not
 * memory-map, stream, or accept element types other than unsigned byte
 * (the only one (Fashion-)MNIST uses). See idx.h for the format.
 */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Limits far above any MNIST-like file, so that a corrupt header cannot ask
 * for gigabytes before the truncation check gets a chance to notice. */
#define IDX_MAX_COUNT 10000000u
#define IDX_MAX_SIDE 4096u
#define IDX_MAX_BYTES (1u << 30)

/* zlib's message, without the "PATH: " it puts in front of it. */
static const char *gz_msg(gzFile f, const char *path, int *zerr)
{
    const char *msg = gzerror(f, zerr);
    if (!msg) return "unknown zlib error";
    size_t n = strlen(path);
    if (!strncmp(msg, path, n) && !strncmp(msg + n, ": ", 2)) msg += n + 2;
    return msg;
}

/* Reads exactly n bytes at uncompressed offset *off. On a short read it tells
 * truncation (clean end of stream) from a corrupt gzip stream. */
static int read_exact(gzFile f, const char *path, uint8_t *dst, size_t n, size_t *off,
                      const char *what, GlmError *err)
{
    size_t got = 0;
    while (got < n) {
        size_t want = GLM_MIN(n - got, (size_t)1 << 24);
        int r = gzread(f, dst + got, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gz_msg(f, path, &zerr);
            return glm_fail(err, GLM_EINPUT, "%s: corrupt gzip data near byte offset %zu: %s",
                            path, *off + got, msg);
        }
        if (r == 0) {
            int zerr = Z_OK;
            const char *msg = gz_msg(f, path, &zerr);
            if (zerr != Z_OK && zerr != Z_STREAM_END)
                return glm_fail(err, GLM_EINPUT,
                                "%s: truncated or corrupt gzip data at byte offset %zu: %s",
                                path, *off + got, msg);
            return glm_fail(err, GLM_EINPUT,
                            "%s: truncated: file ends at byte offset %zu, %s needs %zu bytes more",
                            path, *off + got, what, n - got);
        }
        got += (size_t)r;
    }
    *off += n;
    return GLM_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Loads an IDX file whose magic must be `magic` (which fixes the number of
 * dimensions). dims[] receives the sizes, *data the elements (malloc'd). */
static int idx_load(uint8_t **data, uint32_t *dims, const char *path, uint32_t magic,
                    GlmError *err)
{
    *data = NULL;
    int ndim = (int)(magic & 0xffu);
    GLM_ASSERT(ndim >= 1 && ndim <= 3);
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return glm_fail(err, GLM_EIO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "zlib could not start");
    int rc = GLM_OK;
    size_t off = 0;
    uint8_t head[4 + 4 * 3];
    uint8_t *buf = NULL;
    rc = read_exact(f, path, head, 4 + 4 * (size_t)ndim, &off, "the header", err);
    if (rc) goto done;
    uint32_t got_magic = be32(head);
    if (got_magic != magic) {
        rc = glm_fail(err, GLM_EINPUT,
                      "%s: byte offset 0: bad magic 0x%08x, want 0x%08x (IDX unsigned-byte, %d dimension%s)",
                      path, got_magic, magic, ndim, ndim > 1 ? "s" : "");
        goto done;
    }
    size_t total = 1;
    for (int d = 0; d < ndim; d++) {
        dims[d] = be32(head + 4 + 4 * d);
        uint32_t lim = d == 0 ? IDX_MAX_COUNT : IDX_MAX_SIDE;
        if (dims[d] == 0 || dims[d] > lim) {
            rc = glm_fail(err, GLM_EINPUT, "%s: byte offset %d: dimension %d is %u (want 1..%u)",
                          path, 4 + 4 * d, d, dims[d], lim);
            goto done;
        }
        total *= dims[d];
        if (total > IDX_MAX_BYTES) {
            rc = glm_fail(err, GLM_EINPUT, "%s: byte offset %d: data larger than %u bytes",
                          path, 4 + 4 * d, IDX_MAX_BYTES);
            goto done;
        }
    }
    buf = glm_malloc_array(total, 1);
    if (!buf) {
        rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory for %zu bytes", path, total);
        goto done;
    }
    rc = read_exact(f, path, buf, total, &off, "the data", err);
    if (rc) goto done;
    /* The stream must end here; reading on also makes zlib check the CRC. */
    uint8_t extra;
    int r = gzread(f, &extra, 1);
    int zerr = Z_OK;
    const char *msg = gz_msg(f, path, &zerr);
    if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: corrupt gzip data near byte offset %zu: %s", path,
                      off, msg);
        goto done;
    }
    if (r > 0) {
        rc = glm_fail(err, GLM_EINPUT, "%s: byte offset %zu: unexpected data after the %zu bytes the header announces",
                      path, off, total);
        goto done;
    }
done:
    if (gzclose(f) != Z_OK && rc == GLM_OK)
        rc = glm_fail(err, GLM_EINPUT, "%s: corrupt gzip stream (checked on close)", path);
    if (rc) {
        free(buf);
        buf = NULL;
    }
    *data = buf;
    return rc;
}

int idx_load_images(IdxImages *out, const char *path, GlmError *err)
{
    memset(out, 0, sizeof *out);
    uint32_t dims[3] = {0};
    uint8_t *data;
    int rc = idx_load(&data, dims, path, IDX_MAGIC_IMAGES, err);
    if (rc) return rc;
    out->count = (int)dims[0];
    out->rows = (int)dims[1];
    out->cols = (int)dims[2];
    out->pixels = data;
    return GLM_OK;
}

int idx_load_labels(IdxLabels *out, const char *path, GlmError *err)
{
    memset(out, 0, sizeof *out);
    uint32_t dims[1] = {0};
    uint8_t *data;
    int rc = idx_load(&data, dims, path, IDX_MAGIC_LABELS, err);
    if (rc) return rc;
    out->count = (int)dims[0];
    out->labels = data;
    return GLM_OK;
}

void idx_images_free(IdxImages *im)
{
    if (!im) return;
    free(im->pixels);
    memset(im, 0, sizeof *im);
}

void idx_labels_free(IdxLabels *lb)
{
    if (!lb) return;
    free(lb->labels);
    memset(lb, 0, sizeof *lb);
}

int fashion_load(FashionSet *out, const char *dir, const char *split, GlmError *err)
{
    memset(out, 0, sizeof *out);
    char ipath[4096], lpath[4096];
    int n1 = snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, split);
    int n2 = snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof ipath || (size_t)n2 >= sizeof lpath)
        return glm_fail(err, GLM_EINPUT, "%s: path too long", dir);
    int rc = idx_load_images(&out->images, ipath, err);
    if (rc) return rc;
    rc = idx_load_labels(&out->labels, lpath, err);
    if (rc) goto fail;
    if (out->images.rows != FASHION_SIDE || out->images.cols != FASHION_SIDE) {
        rc = glm_fail(err, GLM_EINPUT, "%s: images are %dx%d, Fashion-MNIST has %dx%d", ipath,
                      out->images.rows, out->images.cols, FASHION_SIDE, FASHION_SIDE);
        goto fail;
    }
    if (out->images.count != out->labels.count) {
        rc = glm_fail(err, GLM_EINPUT, "%s: %d labels for %d images in %s", lpath,
                      out->labels.count, out->images.count, ipath);
        goto fail;
    }
    for (int i = 0; i < out->labels.count; i++) {
        if (out->labels.labels[i] >= FASHION_CLASSES) {
            rc = glm_fail(err, GLM_EINPUT, "%s: byte offset %d: label %d is not 0..%d", lpath,
                          8 + i, out->labels.labels[i], FASHION_CLASSES - 1);
            goto fail;
        }
    }
    return GLM_OK;
fail:
    fashion_free(out);
    return rc;
}

void fashion_free(FashionSet *fs)
{
    if (!fs) return;
    idx_images_free(&fs->images);
    idx_labels_free(&fs->labels);
}
