/* modelfile.h - the glimpse file container: a magic, a version, integer
 * settings, a word list and named float32 tensors, zlib-compressed and
 * CRC-checked. Models and training checkpoints are both stored in it; the
 * layout is written down in docs/model-format.md.
 *
 * This module knows nothing about what the tensors mean: model.c checks
 * names and shapes against the model config. Writing is atomic (a temporary
 * file in the same directory, fsync, rename): on failure the old file, if
 * any, is untouched and no temporary is left behind.
 */
#ifndef GLIMPSE_MODELFILE_H
#define GLIMPSE_MODELFILE_H

#include <stdint.h>

#include "common.h"

#define MF_MAGIC "GLMPSE\r\n"      /* 8 bytes; \r\n catches text-mode mangling */
#define MF_VERSION 1
#define MF_MAX_DIMS 4
#define MF_MAX_NAME 63

typedef struct {
    char key[MF_MAX_NAME + 1];
    int64_t value;
} MfSetting;

typedef struct {
    char name[MF_MAX_NAME + 1];
    int ndim;
    int dims[MF_MAX_DIMS];
    float *data;   /* prod(dims) floats; on write: the caller's; on read: freed by mf_free */
} MfTensor;

typedef struct {
    int n_settings, n_words, n_tensors;
    MfSetting *settings;
    char **words;
    MfTensor *tensors;
} MfFile;

/* Writes f to path atomically. The tensors' data are read, not kept. */
int mf_write(const char *path, const MfFile *f, GlmError *err);

/* Reads path into *f (free with mf_free). Checks, in order, naming the one
 * that failed: the file opens and has a whole header; the magic; the
 * version; the payload is all there (truncation) and nothing follows; the
 * CRC32; the stated size is one deflate can reach (at most 1032:1) and
 * the zlib stream inflates to it; every section parses within bounds. GLM_EINPUT for a bad file, GLM_EIO when reading fails. */
int mf_read(MfFile *f, const char *path, GlmError *err);
void mf_free(MfFile *f);

/* Lookups in a read file; NULL / 0 when absent. */
const MfTensor *mf_find_tensor(const MfFile *f, const char *name);
int mf_find_setting(const MfFile *f, const char *key, int64_t *value);

/* Number of floats in a tensor (product of dims). */
size_t mf_tensor_count(const MfTensor *t);

#endif
