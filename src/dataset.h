/* dataset.h - one split of an image-caption data set: image paths and their
 * reference captions, read from any of the three formats glimpse accepts.
 *
 *     Dataset d;
 *     GlmError err;
 *     if (dataset_load_dir(&d, "data/shapes", "train", 0, &err)) return cli_report(&err);
 *     for (int i = 0; i < d.n_messages; i++) cli_error("warning: %s", d.messages[i]);
 *     char line[256];
 *     if (dataset_skip_summary(line, sizeof line, &d)) cli_error("%s", line);
 *     ... vocab_build(&v, d.captions, d.n_captions, VOCAB_DEFAULT_MIN_COUNT, &err);
 *     dataset_encode(&d, &v, 20, &err);      // d.ids, d.lengths
 *     dataset_free(&d);
 *
 * Formats:
 *  - a data directory (docs/data-format.md): DIR/captions.tsv in the Flickr8k
 *    token format, DIR/images/NAME, and DIR/train.txt, val.txt, test.txt
 *    (image names, one per line) choosing the split; objects.tsv is read by
 *    dataset_objects.h.
 *  - a Flickr8k token file: lines "NAME#k<TAB>caption" (k a decimal number,
 *    several references per image), images in IMAGES/NAME.
 *  - a COCO captions JSON (captions_train2014.json): images[].id/file_name,
 *    annotations[].image_id/caption; images in IMAGES/file_name.
 * The last two take an optional split list (names one per line); without it
 * the split is every image of the caption file. A reader whose references
 * are written rather than read (a labels file, dataset_labels.h) hands its
 * images and references to dataset_load_refs, which does the rest alike.
 *
 * Order: images come in split-list order, or else in order of first
 * appearance in the caption file (COCO: the order of images[]); each image's
 * captions are consecutive, in file order.
 *
 * Bad input is skipped, counted and described, never dropped silently and
 * never fatal by itself: lines without a tab, a bad "#k", an empty caption
 * (no words), COCO entries with wrong or missing members, annotations whose
 * image_id is not in images[], split-list names the caption file does not
 * know, images left without a caption, and image files that are missing,
 * unreadable or not regular files. Each skip adds to skipped[kind] and the
 * first DATASET_MAX_MESSAGES are kept as "FILE:LINE: reason" (JSON:
 * "FILE: annotations[7]: reason") for the caller to print. With strict set,
 * any skip makes the load fail with GLM_EINPUT and the first message. A load
 * that leaves no image fails with GLM_EINPUT. Files that cannot be opened or
 * read fail with GLM_EIO; invalid JSON fails with GLM_EINPUT and the byte
 * offset (and line:column) cJSON stopped at, which can be one byte past the
 * offending one. Blank lines are ignored.
 *
 * Images are only checked (readable regular file), never decoded: image.h
 * does that.
 */
#ifndef GLIMPSE_DATASET_H
#define GLIMPSE_DATASET_H

#include "common.h"
#include "vocab.h"

/* What can be skipped while loading; indexes Dataset.skipped. */
enum {
    DATASET_SKIP_MALFORMED,      /* caption line without a tab, name or number in NAME#k; a
                                    JSON entry without its members; a name listed twice */
    DATASET_SKIP_EMPTY_CAPTION,  /* a caption with no words */
    DATASET_SKIP_UNKNOWN_ID,     /* COCO annotation whose image_id is not in images[] */
    DATASET_SKIP_UNKNOWN_NAME,   /* split list names an image the caption file does not have */
    DATASET_SKIP_NO_CAPTIONS,    /* an image of the split with no usable caption */
    DATASET_SKIP_MISSING_IMAGE,  /* image file missing, unreadable or not a regular file */
    DATASET_SKIP_KINDS,
};

#define DATASET_MAX_MESSAGES 10

typedef struct {
    const char *name;   /* as written in the caption file, e.g. "1000268201_693b08cb0e.jpg" */
    const char *path;   /* IMAGES/name, found readable when loaded */
    int first;          /* its captions are captions[first .. first + n_captions) */
    int n_captions;     /* >= 1 */
} DatasetImage;

typedef struct {
    int n_images;
    DatasetImage *images;     /* (n_images) */
    int n_captions;
    const char **captions;    /* (n_captions) reference captions as written, trimmed */
    int *caption_image;       /* (n_captions) index into images of each caption's image */

    /* Token ids, set by dataset_encode (NULL / 0 before). */
    int seq_len;              /* T = max_words + 2 */
    int *ids;                 /* (n_captions, T) <start> words.. <end> <pad>.. */
    int *lengths;             /* (n_captions) ids before the padding, <start> and <end> included */
    int n_truncated;          /* captions cut to max_words */
    long n_unk;               /* word positions that became <unk> */

    /* What was skipped while loading. */
    int skipped[DATASET_SKIP_KINDS];
    int n_messages;           /* the first skips, at most DATASET_MAX_MESSAGES */
    char messages[DATASET_MAX_MESSAGES][GLM_ERROR_LEN];

    /* Private: storage of the strings above, and name -> image index. */
    StrArena strings;
    StrMap by_name;
} Dataset;

/* Loaders. Each fills d, which the caller then releases with dataset_free;
 * on failure d is left empty (dataset_free on it is harmless) and err says
 * why. strict != 0 turns any skip into a GLM_EINPUT failure. */

/* A data directory; split is "train", "val" or "test". */
int dataset_load_dir(Dataset *d, const char *dir, const char *split, int strict, GlmError *err);
/* A Flickr8k token file; split_path may be NULL (every image). */
int dataset_load_flickr(Dataset *d, const char *token_path, const char *images_dir,
                        const char *split_path, int strict, GlmError *err);
/* A COCO captions JSON; split_path may be NULL (every image). */
int dataset_load_coco(Dataset *d, const char *json_path, const char *images_dir,
                      const char *split_path, int strict, GlmError *err);
/* Either of the two above, told apart by content: COCO when the first
 * non-blank byte is '{'. This is what --captions FILE --images DIR uses. */
int dataset_load_captions(Dataset *d, const char *captions_path, const char *images_dir,
                          const char *split_path, int strict, GlmError *err);

/* For readers of formats whose references are written, not read
 * (dataset_labels.h): images[0..n), each with its references and the line
 * of src where it was first named; then as the loaders above: the split
 * list (split_path, NULL for every image), the image files checked and
 * skipped ("IMAGES/NAME: reason (from SRC:LINE)"), strict. Names are
 * expected once each (a repeated one gets the references of both). */
typedef struct {
    const char *name;          /* file name inside images_dir */
    int line;                  /* where src first names it, for messages */
    const char *const *refs;   /* (n_refs) reference captions, trimmed, with a word; copied */
    int n_refs;
} DatasetRefImage;
int dataset_load_refs(Dataset *d, const DatasetRefImage *images, int n, const char *src, const char *images_dir,
                      const char *split_path, int strict, GlmError *err);

void dataset_free(Dataset *d);

/* For the readers: counts a skip of kind and keeps its message (the first
 * DATASET_MAX_MESSAGES of them). */
void dataset_skip(Dataset *d, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The index of the image called name, or -1. */
int dataset_find(const Dataset *d, const char *name);

/* Removes image i and its captions (and their encoding, if any): an image
 * found unreadable after loading (a truncated PNG) is skipped like a
 * missing one, counted as DATASET_SKIP_MISSING_IMAGE with the message why.
 * Later images move up one index. GLM_ENOMEM on failure. */
int dataset_drop_image(Dataset *d, int i, const char *why);

/* Total number of skips of every kind. */
int dataset_n_skipped(const Dataset *d);
/* A short name of a skip kind, e.g. "missing image". */
const char *dataset_skip_name(int kind);
/* Writes "skipped 3: 2 malformed lines, 1 missing image" into out (cap
 * bytes, NUL-terminated). Returns 0 (and writes "") when nothing was skipped. */
int dataset_skip_summary(char *out, size_t cap, const Dataset *d);

/* Encodes every caption with v into d->ids (n_captions, max_words + 2) and
 * d->lengths, counting truncated captions and <unk> words; replaces an
 * earlier encoding. GLM_EINPUT when max_words < 1, GLM_ENOMEM. */
int dataset_encode(Dataset *d, const Vocab *v, int max_words, GlmError *err);

#endif
