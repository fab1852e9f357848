/* fuzz_flickr.c - libFuzzer target: the Flickr8k token format (dataset.h),
 * as a token file (dataset_load_flickr), through the format sniffing of
 * --captions (dataset_load_captions, strict), and as a data directory's
 * captions.tsv (dataset_load_dir).
 *
 * The input is the caption file, optionally followed by a line
 * "##SPLIT##" and a split list (image names, one a line), which becomes the
 * split file of the first two loaders and the directory's train.txt; with
 * no split list the directory has no train.txt and that load fails, as it
 * should. Images: fuzz_images_dir (names the seeds use exist, any other is
 * missing and skipped). Every load that succeeds goes through
 * fuzz_check_dataset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *images = fuzz_images_dir();
    const char *caps = fuzz_path("token.txt"), *split = fuzz_path("split.txt");
    const char *dir = fuzz_mkdir("dir"), *dir_caps = fuzz_path("dir/captions.tsv");
    const char *dir_train = fuzz_path("dir/train.txt");
    static char dir_images[4096 + 16];
    if (!dir_images[0]) {
        snprintf(dir_images, sizeof dir_images, "%s/images", dir);
        if (symlink(images, dir_images) != 0) abort();   /* DIR/images: the same pictures */
    }

    size_t n1, n2;
    const uint8_t *rest;
    fuzz_split(data, n, "\n##SPLIT##\n", &n1, &rest, &n2);
    fuzz_write(caps, data, n1);
    fuzz_write(dir_caps, data, n1);
    if (rest) {
        fuzz_write(split, rest, n2);
        fuzz_write(dir_train, rest, n2);
    } else {
        unlink(dir_train);
    }

    Dataset d;
    GlmError err;
    if (dataset_load_flickr(&d, caps, images, rest ? split : NULL, 0, &err) == GLM_OK) fuzz_check_dataset(&d);
    dataset_free(&d);
    if (dataset_load_captions(&d, caps, images, rest ? split : NULL, 1, &err) == GLM_OK) fuzz_check_dataset(&d);
    dataset_free(&d);
    if (dataset_load_dir(&d, dir, "train", 0, &err) == GLM_OK) fuzz_check_dataset(&d);
    dataset_free(&d);
    return 0;
}
