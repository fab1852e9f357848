/* fuzz_coco.c - libFuzzer target: COCO captions JSON (dataset_load_coco,
 * dataset.h), parsed by Debian's cJSON and then walked by dataset.c: the
 * images[] and annotations[] members, ids that are not integers, repeated
 * ids and names, captions that are not strings or have no word.
 *
 * The input is the JSON file, optionally followed by a line "##SPLIT##"
 * and a split list. Images: fuzz_images_dir (the seeds' names exist).
 * Every load that succeeds goes through fuzz_check_dataset.
 */
#include "dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *images = fuzz_images_dir();
    const char *json = fuzz_path("captions.json"), *split = fuzz_path("split.txt");
    size_t n1, n2;
    const uint8_t *rest;
    fuzz_split(data, n, "\n##SPLIT##\n", &n1, &rest, &n2);
    fuzz_write(json, data, n1);
    if (rest) fuzz_write(split, rest, n2);

    Dataset d;
    GlmError err;
    if (dataset_load_coco(&d, json, images, rest ? split : NULL, 0, &err) == GLM_OK) fuzz_check_dataset(&d);
    dataset_free(&d);
    return 0;
}
