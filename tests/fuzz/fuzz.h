/* fuzz.h - what every libFuzzer target in tests/fuzz shares.
 *
 * glimpse's loaders take file paths, not buffers, so a target writes each
 * input to a file and hands the loader its path:
 *
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
 *     {
 *         const char *path = fuzz_path("input.idx");   // the same name every run
 *         fuzz_write(path, data, n);
 *         ... idx_load_images(&im, path, &err) ...
 *         return 0;
 *     }
 *
 * The files live in a directory of this process's own, made on first use
 * under $TMPDIR if set, else /dev/shm (memory, so a million runs cost no
 * disk), else /tmp, and removed with everything in it when the process
 * exits normally. A crash leaves it behind (glimpse-fuzz-XXXXXX);
 * tests/fuzz/run.sh, which `make fuzz` uses, sets TMPDIR to a directory of
 * its own and removes that after each target.
 *
 * A failure here (the directory cannot be made, a write fails) is the
 * harness's, not the code under test's: it aborts with a message, which
 * libFuzzer reports as a crash you should not file against src/.
 *
 * Also here: the images directory and the Dataset checks that the two
 * caption-file targets (fuzz_flickr, fuzz_coco) share.
 *
 * Not here: what each target feeds where (each fuzz_NAME.c says).
 */
#ifndef GLIMPSE_FUZZ_H
#define GLIMPSE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* This process's directory (created on first call). */
const char *fuzz_dir(void);

/* fuzz_dir()/name in a buffer that stays valid for the process; the same
 * name always gives the same pointer, so targets call it every run. At most
 * FUZZ_MAX_PATHS distinct names. name may contain '/' for a file in a
 * subdirectory made with fuzz_mkdir. */
#define FUZZ_MAX_PATHS 16
const char *fuzz_path(const char *name);

/* Makes fuzz_dir()/name (one level; fine if it exists) and returns its path. */
const char *fuzz_mkdir(const char *name);

/* Writes data[0..n) to path, replacing what was there. */
void fuzz_write(const char *path, const void *data, size_t n);

/* Writes a valid 2x2 PNG to path (for loaders that check an image exists). */
void fuzz_write_png(const char *path);

/* Splits data[0..n) at the first occurrence of sep (not included in either
 * part): *n1 bytes from data, then *rest (n - *n1 - |sep| bytes, or NULL and
 * 0 when sep does not occur). Lets one input carry two files. */
void fuzz_split(const uint8_t *data, size_t n, const char *sep, size_t *n1, const uint8_t **rest, size_t *n2);

/* fuzz_dir()/images, holding a 2x2 PNG for each image name the caption
 * seed corpora use (a.png, b.png, c.png, s0.png .. s3.png,
 * shapes_000000.png .. shapes_000003.png, 1000268201_693b08cb0e.jpg), so
 * a load finds some images and goes on past the "missing image" skip.
 * Made on the first call. */
const char *fuzz_images_dir(void);

/* Aborts unless a loaded d keeps dataset.h's promises: at least one image,
 * each with >= 1 caption, consecutive and in order; captions with a word;
 * dataset_find finds each image; at most DATASET_MAX_MESSAGES messages.
 * Then builds a vocabulary of its captions and encodes them (what training
 * does next) and checks every encoding is <start> ... <end> within T. */
void fuzz_check_dataset(Dataset *d);

#endif
