/* idx.h - reader for the IDX files of (Fashion-)MNIST, gzip-compressed or not.
 *
 * The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a
 * big-endian header followed by raw data:
 *     bytes 0-1  zero
 *     byte  2    element type (0x08 = unsigned byte, the only type we accept)
 *     byte  3    number of dimensions D
 *     D x 4      each dimension, big-endian uint32
 *     data       prod(dims) elements, row-major
 * So images files start with the magic 0x00000803 (count, rows, cols) and
 * label files with 0x00000801 (count).
 *
 * Files are read through zlib's gzopen/gzread, which also reads a plain
 * (uncompressed) file transparently. Every failure names the file and the
 * byte offset in the uncompressed stream: wrong magic, a zero or absurd
 * dimension, data shorter than the header promises (truncated), bytes after
 * the data, or a corrupt gzip stream. Nothing here prints or exits.
 *
 * Usage:
 *     IdxImages im;  GlmError err;
 *     if (idx_load_images(&im, "train-images-idx3-ubyte.gz", &err)) ... err.msg
 *     uint8_t *first = im.pixels;            // (rows, cols) of image 0
 *     idx_images_free(&im);
 */
#ifndef GLIMPSE_IDX_H
#define GLIMPSE_IDX_H

#include <stdint.h>

#include "common.h"

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u

/* A stack of grey images, one byte per pixel (0 = background for MNIST). */
typedef struct {
    int count, rows, cols;
    uint8_t *pixels;   /* (count, rows, cols), owned; free with idx_images_free */
} IdxImages;

typedef struct {
    int count;
    uint8_t *labels;   /* (count), owned; free with idx_labels_free */
} IdxLabels;

/* Load an images file (magic 0x00000803). Returns GLM_OK, or GLM_EINPUT for
 * a malformed file, GLM_EIO when it cannot be opened, GLM_ENOMEM; on failure
 * *out is zeroed and owns nothing. */
int idx_load_images(IdxImages *out, const char *path, GlmError *err);
/* Load a labels file (magic 0x00000801); same returns as above. */
int idx_load_labels(IdxLabels *out, const char *path, GlmError *err);
void idx_images_free(IdxImages *im);
void idx_labels_free(IdxLabels *lb);

/* Fashion-MNIST as shipped by Debian's dataset-fashion-mnist: one split
 * ("train": 60000 photos, "t10k": 10000) with its labels 0..9. */
#define FASHION_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_SIDE 28
#define FASHION_CLASSES 10

typedef struct {
    IdxImages images;   /* (count, 28, 28) */
    IdxLabels labels;   /* (count), each < FASHION_CLASSES */
} FashionSet;

/* Loads DIR/SPLIT-images-idx3-ubyte.gz and DIR/SPLIT-labels-idx1-ubyte.gz
 * (split is "train" or "t10k") and checks that the counts agree, that the
 * images are 28x28 and that every label is 0..9. */
int fashion_load(FashionSet *out, const char *dir, const char *split, GlmError *err);
void fashion_free(FashionSet *fs);

#endif
