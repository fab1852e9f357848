/* fuzz_objects.c - libFuzzer target: a data set's objects.tsv
 * (dataset_objects_load, dataset_objects.h). A load that succeeds must
 * group the objects as the header says: images sorted by name, each with
 * 1..SCENE_MAX_OBJECTS objects that cover objects[] once, in order, with
 * non-empty boxes; dataset_objects_find finds each image.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset_objects.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *dir = fuzz_mkdir("data");
    fuzz_write(fuzz_path("data/objects.tsv"), data, n);
    DatasetObjects set;
    GlmError err;
    if (dataset_objects_load(&set, dir, &err) != GLM_OK) {
        if (set.images || set.objects) abort();   /* a failed load owns nothing */
        return 0;
    }
    int next = 0;
    for (int i = 0; i < set.n_images; i++) {
        const DatasetImageObjects *im = &set.images[i];
        if (im->first != next || im->count < 1 || im->count > SCENE_MAX_OBJECTS) abort();
        if (i > 0 && strcmp(set.images[i - 1].name, im->name) >= 0) abort();
        int k;
        if (dataset_objects_find(&set, im->name, &k) != set.objects + im->first || k != im->count) abort();
        for (int j = im->first; j < im->first + im->count; j++) {
            const SceneBox *b = &set.objects[j].box;
            if (b->x1 <= b->x0 || b->y1 <= b->y0 || b->x0 < 0 || b->y0 < 0) abort();
        }
        next += im->count;
    }
    if (next != set.n_objects) abort();
    dataset_objects_free(&set);
    return 0;
}
