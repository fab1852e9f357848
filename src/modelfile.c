/* modelfile.c - serialising the container described in modelfile.h and
 * docs/model-format.md.
 *
 * File = header (32 bytes) + zlib stream of the payload.
 *   header: magic[8] | u32 version | u32 flags (0) | u32 crc32 of the zlib
 *           stream | u32 payload size inflated | u64 zlib stream size
 *   payload: u32 n_settings, { str key, i64 value }
 *            u32 n_words,    { str word }
 *            u32 n_tensors,  { str name, u32 ndim, u32 dims[ndim], f32 data[] }
 *   str = u16 length + bytes (no NUL). All integers little-endian.
 */
#include "modelfile.h"

#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HEADER_SIZE 32
#define MAX_PAYLOAD ((uint64_t)1 << 31)   /* 2 GiB: far above any model we make */
/* Deflate packs at most 1032 bytes into one (a 258-byte match in 2 bits),
 * so a raw size above 1032 x the zlib size is a lie; it is refused before
 * that many bytes are allocated for it (the CRC does not cover the header). */
#define MAX_INFLATE_RATIO 1032

_Static_assert(sizeof(float) == 4, "float32 expected");

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* ---- writing: into a GlmBuf (common.h) ---- */

static void put_u16(GlmBuf *b, uint16_t v) { unsigned char x[2] = {v & 255, v >> 8}; glm_buf_put(b, x, 2); }
static void put_u32(GlmBuf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++) x[i] = (unsigned char)(v >> (8 * i));
    glm_buf_put(b, x, 4);
}
static void put_u64(GlmBuf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
    glm_buf_put(b, x, 8);
}
static void put_str(GlmBuf *b, const char *s)
{
    size_t n = strlen(s);
    put_u16(b, (uint16_t)n);
    glm_buf_put(b, s, n);
}

static void le32_store(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void le64_store(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t le32_load(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64_load(const unsigned char *p) { return le32_load(p) | (uint64_t)le32_load(p + 4) << 32; }

static int check_name(const char *what, const char *s, GlmError *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > MF_MAX_NAME)
        return glm_fail(err, GLM_EINPUT, "%s name '%s' is empty or longer than %d", what, s, MF_MAX_NAME);
    return GLM_OK;
}

static int encode_payload(GlmBuf *b, const MfFile *f, GlmError *err)
{
    GLM_ASSERT(host_is_little_endian());
    put_u32(b, (uint32_t)f->n_settings);
    for (int i = 0; i < f->n_settings; i++) {
        if (check_name("setting", f->settings[i].key, err)) return GLM_EINPUT;
        put_str(b, f->settings[i].key);
        put_u64(b, (uint64_t)f->settings[i].value);
    }
    put_u32(b, (uint32_t)f->n_words);
    for (int i = 0; i < f->n_words; i++) {
        if (strlen(f->words[i]) > 0xffff) return glm_fail(err, GLM_EINPUT, "word %d too long", i);
        put_str(b, f->words[i]);
    }
    put_u32(b, (uint32_t)f->n_tensors);
    for (int i = 0; i < f->n_tensors; i++) {
        const MfTensor *t = &f->tensors[i];
        if (check_name("tensor", t->name, err)) return GLM_EINPUT;
        if (t->ndim < 1 || t->ndim > MF_MAX_DIMS) return glm_fail(err, GLM_EINPUT, "tensor %s: %d dims", t->name, t->ndim);
        put_str(b, t->name);
        put_u32(b, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_u32(b, (uint32_t)t->dims[d]);
        glm_buf_put(b, t->data, mf_tensor_count(t) * sizeof(float));
    }
    if (b->failed) return glm_fail(err, GLM_ENOMEM, "out of memory encoding the model");
    if (b->len > MAX_PAYLOAD) return glm_fail(err, GLM_EINPUT, "model payload over 2 GiB");
    return GLM_OK;
}

int mf_write(const char *path, const MfFile *f, GlmError *err)
{
    GlmBuf payload = {0}, file = {0};
    unsigned char *z = NULL;
    int rc = encode_payload(&payload, f, err);
    if (rc) goto out;

    uLongf zlen = compressBound((uLong)payload.len);
    z = malloc(zlen);
    if (!z) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory compressing the model");
        goto out;
    }
    if (compress2(z, &zlen, payload.data, (uLong)payload.len, 6) != Z_OK) {
        rc = glm_fail(err, GLM_EIO, "%s: zlib compression failed", path);
        goto out;
    }
    unsigned char hdr[HEADER_SIZE];
    memcpy(hdr, MF_MAGIC, 8);
    le32_store(hdr + 8, MF_VERSION);
    le32_store(hdr + 12, 0);
    le32_store(hdr + 16, (uint32_t)crc32(0L, z, (uInt)zlen));
    le32_store(hdr + 20, (uint32_t)payload.len);
    le64_store(hdr + 24, (uint64_t)zlen);
    glm_buf_put(&file, hdr, sizeof hdr);
    glm_buf_put(&file, z, zlen);
    if (file.failed) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory writing the model");
        goto out;
    }
    rc = fileio_write(path, file.data, file.len, err);
out:
    glm_buf_free(&payload);
    glm_buf_free(&file);
    free(z);
    return rc;
}

/* ---- reading: a bounds-checked cursor over the inflated payload ---- */

typedef struct {
    const unsigned char *p, *end;
    int bad;
} Cur;

static const unsigned char *take(Cur *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    const unsigned char *r = c->p;
    c->p += n;
    return r;
}
static uint32_t get_u32(Cur *c) { const unsigned char *p = take(c, 4); return p ? le32_load(p) : 0; }
static uint64_t get_u64(Cur *c) { const unsigned char *p = take(c, 8); return p ? le64_load(p) : 0; }
static uint16_t get_u16(Cur *c) { const unsigned char *p = take(c, 2); return p ? (uint16_t)(p[0] | p[1] << 8) : 0; }

/* Copies a string of at most max bytes into dst (max + 1 bytes). */
static int get_str(Cur *c, char *dst, size_t max)
{
    uint16_t n = get_u16(c);
    const unsigned char *p = take(c, n);
    if (!p || n > max) return c->bad = 1, 0;
    memcpy(dst, p, n);
    dst[n] = 0;
    return 1;
}

int mf_read(MfFile *f, const char *path, GlmError *err)
{
    memset(f, 0, sizeof *f);
    unsigned char *file = NULL, *payload = NULL;
    size_t len = 0;
    /* fileio_read refuses a device or FIFO and a file over the cap from
     * its size, before reading a byte. */
    int rc = fileio_read((char **)&file, &len, path, HEADER_SIZE + MAX_PAYLOAD, err);
    if (rc) return rc;
    rc = GLM_EINPUT;
    if (len < HEADER_SIZE) {
        glm_fail(err, rc, "%s: truncated: %zu bytes, shorter than the %d-byte header", path, len, HEADER_SIZE);
        goto fail;
    }
    if (memcmp(file, MF_MAGIC, 8) != 0) {
        glm_fail(err, rc, "%s: not a glimpse model file (bad magic)", path);
        goto fail;
    }
    uint32_t version = le32_load(file + 8);
    if (version != MF_VERSION) {
        glm_fail(err, rc, "%s: format version %u, this glimpse reads version %d", path, version, MF_VERSION);
        goto fail;
    }
    /* No flag is defined: one that is set is a newer or damaged file (the
     * other header fields are checked against the payload below). */
    const uint32_t flags = le32_load(file + 12);
    if (flags != 0) {
        glm_fail(err, rc, "%s: header flags 0x%x set; this glimpse knows none (a newer or corrupt file)", path, flags);
        goto fail;
    }
    uint32_t crc = le32_load(file + 16), raw_len = le32_load(file + 20);
    uint64_t zlen = le64_load(file + 24);
    if (zlen > len - HEADER_SIZE) {
        glm_fail(err, rc, "%s: truncated: header promises %llu payload bytes, file has %zu", path,
                 (unsigned long long)zlen, len - HEADER_SIZE);
        goto fail;
    }
    if (zlen < len - HEADER_SIZE) {
        glm_fail(err, rc, "%s: %zu unexpected bytes after the payload", path, len - HEADER_SIZE - (size_t)zlen);
        goto fail;
    }
    if ((uint32_t)crc32(0L, file + HEADER_SIZE, (uInt)zlen) != crc) {
        glm_fail(err, rc, "%s: CRC mismatch: the file is corrupt", path);
        goto fail;
    }
    if (raw_len > (uint64_t)MAX_INFLATE_RATIO * zlen) {
        glm_fail(err, rc, "%s: header says the payload inflates to %u bytes, more than %llu compressed bytes can hold",
                 path, raw_len, (unsigned long long)zlen);
        goto fail;
    }
    payload = malloc(raw_len ? raw_len : 1);
    if (!payload) {
        rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory (%u bytes)", path, raw_len);
        goto fail;
    }
    uLongf got = raw_len;
    if (uncompress(payload, &got, file + HEADER_SIZE, (uLong)zlen) != Z_OK || got != raw_len) {
        glm_fail(err, rc, "%s: payload does not inflate to the stated %u bytes", path, raw_len);
        goto fail;
    }
    free(file);
    file = NULL;

    /* Each section starts with its count; counts are bounded by the payload
     * size before anything is allocated from them. */
    Cur c = {payload, payload + raw_len, 0};
    f->n_settings = (int)get_u32(&c);
    if (c.bad || (size_t)f->n_settings > raw_len / 10) goto corrupt;
    f->settings = calloc((size_t)f->n_settings + 1, sizeof *f->settings);
    if (!f->settings) goto oom;
    for (int i = 0; i < f->n_settings; i++) {
        get_str(&c, f->settings[i].key, MF_MAX_NAME);
        f->settings[i].value = (int64_t)get_u64(&c);
    }
    f->n_words = (int)get_u32(&c);
    if (c.bad || (size_t)f->n_words > raw_len / 2) goto corrupt;
    f->words = calloc((size_t)f->n_words + 1, sizeof *f->words);
    if (!f->words) goto oom;
    for (int i = 0; i < f->n_words && !c.bad; i++) {
        uint16_t n = get_u16(&c);
        const unsigned char *p = take(&c, n);
        if (!p) break;
        if (!(f->words[i] = malloc((size_t)n + 1))) goto oom;
        memcpy(f->words[i], p, n);
        f->words[i][n] = 0;
    }
    f->n_tensors = (int)get_u32(&c);
    if (c.bad || (size_t)f->n_tensors > raw_len / 8) goto corrupt;
    f->tensors = calloc((size_t)f->n_tensors + 1, sizeof *f->tensors);
    if (!f->tensors) goto oom;
    for (int i = 0; i < f->n_tensors && !c.bad; i++) {
        MfTensor *t = &f->tensors[i];
        get_str(&c, t->name, MF_MAX_NAME);
        t->ndim = (int)get_u32(&c);
        if (c.bad || t->ndim < 1 || t->ndim > MF_MAX_DIMS) goto corrupt;
        uint64_t count = 1;
        for (int d = 0; d < t->ndim; d++) {
            const uint32_t dim = get_u32(&c);
            if (c.bad) goto corrupt;
            if (dim == 0 || dim > (uint32_t)INT32_MAX) {
                glm_fail(err, GLM_EINPUT, "%s: tensor %s has dimension %d of size %u", path, t->name, d, dim);
                goto fail;
            }
            t->dims[d] = (int)dim;
            count *= dim;
            if (count > raw_len) goto corrupt;
        }
        const unsigned char *p = take(&c, (size_t)count * 4);
        if (!p) goto corrupt;
        if (!(t->data = malloc((size_t)count * 4))) goto oom;
        memcpy(t->data, p, (size_t)count * 4);
    }
    if (c.bad) goto corrupt;
    if (c.p != c.end) {
        glm_fail(err, GLM_EINPUT, "%s: %zu stray bytes at the end of the payload", path, (size_t)(c.end - c.p));
        goto fail;
    }
    free(payload);
    return GLM_OK;

corrupt:
    glm_fail(err, GLM_EINPUT, "%s: payload is malformed (a section runs past its end)", path);
    goto fail;
oom:
    rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
fail:
    free(file);
    free(payload);
    mf_free(f);
    return rc;
}

void mf_free(MfFile *f)
{
    if (f->words)
        for (int i = 0; i < f->n_words; i++) free(f->words[i]);
    if (f->tensors)
        for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].data);
    free(f->settings);
    free(f->words);
    free(f->tensors);
    memset(f, 0, sizeof *f);
}

const MfTensor *mf_find_tensor(const MfFile *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

int mf_find_setting(const MfFile *f, const char *key, int64_t *value)
{
    for (int i = 0; i < f->n_settings; i++)
        if (!strcmp(f->settings[i].key, key)) {
            *value = f->settings[i].value;
            return 1;
        }
    return 0;
}

size_t mf_tensor_count(const MfTensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->dims[d];
    return n;
}
