/* fuzz_image.c - libFuzzer target: any bytes as an image file, decoded by
 * image_load and turned into region vectors by features_of_image, once
 * with the default feature config and once re-centred (--recentre 10, as
 * the fashion preset), the path every command takes from a picture to the
 * model.
 *
 * Besides the sanitizers, it checks what the headers promise: a load that
 * succeeds gives a non-empty image within IMAGE_MAX_SIDE, and every feature
 * of it is a finite number (pixels are in [0, 1], so a NaN or an infinity
 * is a bug in features.c, not in the picture).
 *
 * stb_image is compiled into this target from Debian's header
 * (stb_image_impl.c), so the fuzzer sees inside the decoders and ASan
 * checks their memory; the glimpse binary links Debian's libstb.so, built
 * from the same header.
 */
#include <math.h>
#include <stdlib.h>

#include "features.h"
#include "fuzz.h"
#include "image.h"

static void features_check(const Image *img, const FeatConfig *cfg)
{
    static float *out, *scratch;   /* (L, F) and features_scratch_floats: kept across runs */
    static size_t out_cap, scratch_cap;
    const size_t nout = (size_t)features_regions(cfg) * (size_t)features_dim(cfg);
    const size_t nscratch = features_scratch_floats(cfg);
    if (nout > out_cap && !(out = realloc(out, (out_cap = nout) * sizeof *out))) abort();
    if (nscratch > scratch_cap && !(scratch = realloc(scratch, (scratch_cap = nscratch) * sizeof *scratch))) abort();
    GlmError err;
    if (features_of_image(out, img, cfg, scratch, &err) != GLM_OK) return;   /* out of memory: not a finding */
    for (size_t i = 0; i < nout; i++)
        if (!isfinite(out[i])) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_path("input.img");
    fuzz_write(path, data, n);
    Image img;
    GlmError err;
    if (image_load(&img, path, &err) != GLM_OK) {
        if (img.data) abort();   /* a failed load leaves the image empty */
        return 0;
    }
    if (!img.data || img.w < 1 || img.h < 1 || img.w > IMAGE_MAX_SIDE || img.h > IMAGE_MAX_SIDE) abort();
    FeatConfig cfg = features_default_config();
    features_check(&img, &cfg);
    cfg.recentre = 10;
    features_check(&img, &cfg);
    image_free(&img);
    return 0;
}
