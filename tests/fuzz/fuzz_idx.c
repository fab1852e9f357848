/* fuzz_idx.c - libFuzzer target: the IDX reader (idx.h) on any bytes,
 * gzip'd or plain (zlib reads both), as an images file (magic 0x00000803)
 * and as a labels file (0x00000801). A load that succeeds must hold what
 * its header declared: sizes within the reader's limits and that many
 * bytes (ASan checks the last one is there).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_path("input.idx");
    fuzz_write(path, data, n);
    GlmError err;
    IdxImages im;
    if (idx_load_images(&im, path, &err) == GLM_OK) {
        if (im.count < 1 || im.rows < 1 || im.cols < 1 || !im.pixels) abort();
        volatile uint8_t last = im.pixels[(size_t)im.count * (size_t)im.rows * (size_t)im.cols - 1];
        (void)last;
        idx_images_free(&im);
    } else if (im.pixels) {
        abort();   /* a failed load owns nothing */
    }
    IdxLabels lb;
    if (idx_load_labels(&lb, path, &err) == GLM_OK) {
        if (lb.count < 1 || !lb.labels) abort();
        volatile uint8_t last = lb.labels[lb.count - 1];
        (void)last;
        idx_labels_free(&lb);
    } else if (lb.labels) {
        abort();
    }
    return 0;
}
