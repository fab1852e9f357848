/* fuzz_model.c - libFuzzer target: model_load (model.h) on hostile model
 * files (docs/model-format.md).
 *
 * A model file's payload is zlib-compressed behind a CRC-32, so random
 * bytes would almost never get past the CRC check to the parser and to
 * model.c's checks of settings, words and tensor shapes. The input
 * therefore comes in two kinds:
 *   - starting with the magic "GLMPSE\r\n": written as it is, a whole file
 *     (the header, truncation and CRC checks);
 *   - anything else: the inflated payload (settings, words, tensors), which
 *     the harness compresses and puts behind a correct header and CRC, as
 *     model_save would, so every input reaches the payload parser.
 * A model that loads must pass model_check_config and hold exactly
 * model_param_count parameters.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "model.h"

static void le32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* The file model_save would write around this payload. */
static void write_wrapped(const char *path, const uint8_t *payload, size_t n)
{
    uLongf zn = compressBound((uLong)n);
    unsigned char *file = malloc(32 + zn);
    if (!file || compress2(file + 32, &zn, payload, (uLong)n, 1) != Z_OK) abort();
    memcpy(file, MF_MAGIC, 8);
    le32(file + 8, MF_VERSION);
    le32(file + 12, 0);
    le32(file + 16, (uint32_t)crc32(0L, file + 32, (uInt)zn));
    le32(file + 20, (uint32_t)n);
    le32(file + 24, (uint32_t)zn);
    le32(file + 28, 0);   /* high half of the 64-bit zlib size */
    fuzz_write(path, file, 32 + zn);
    free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_path("input.glm");
    if (n >= 8 && !memcmp(data, MF_MAGIC, 8)) fuzz_write(path, data, n);
    else write_wrapped(path, data, n);
    Model m;
    GlmError err;
    if (model_load(&m, path, &err) != GLM_OK) return 0;
    if (model_check_config(&m.cfg, &err) != GLM_OK || m.n_params != model_param_count(&m.cfg) || !m.words) abort();
    model_free(&m);
    return 0;
}
