/* dataset_labels.c - reads a labels file (dataset_labels.h): the file whole
 * with fileio_read, one object per line with fileio_lines, the objects
 * grouped per image as they come; then each image's five references from
 * scene_captions, the Dataset from those (dataset_load_refs, which checks
 * the picture files) and the DatasetObjects (dataset_objects_build).
 *
 * Not here: the words and the grammar (scenes.c), parsing a box
 * (dataset_object_parse), the skip rules for pictures (dataset.c).
 */
#include "dataset_labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "scenes.h"
#include "text.h"
#include "vocab.h"

/* One image of the file, its objects in file order. */
typedef struct {
    const char *name;   /* the key's copy in LabelReader.names */
    int n;
    SceneObject objs[SCENE_CAPTION_MAX_OBJECTS];
    int lines[SCENE_CAPTION_MAX_OBJECTS];
} LabelImage;

/* fileio_lines' context: the images read so far. */
typedef struct {
    const char *path;
    StrMap names;         /* image name -> index into images */
    LabelImage *images;   /* (n_images), capacity cap */
    int n_images, cap;
    int n_objects;
} LabelReader;

/* Blanks (spaces, tabs) off both ends of s, in place. */
static char *strip(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* The formats image.h decodes, by the extensions they are saved with. */
static int picture_name(const char *name)
{
    static const char *const ext[] = {"png", "jpg", "jpeg", "bmp", "gif", "tga", "pnm", "ppm", "pgm", "psd"};
    const char *dot = strrchr(name, '.');
    if (!dot || strchr(dot, '/')) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot + 1, ext[i])) return 1;
    return 0;
}

/* The image called name, added (empty) if new; NULL when out of memory. */
static LabelImage *label_image(LabelReader *R, const char *name)
{
    int i = strmap_get(&R->names, name);
    if (i >= 0) return &R->images[i];
    if (R->n_images == R->cap) {
        int nc = R->cap ? 2 * R->cap : 64;
        LabelImage *ni = nc < INT32_MAX / 4 ? realloc(R->images, (size_t)nc * sizeof *ni) : NULL;
        if (!ni) return NULL;
        R->images = ni;
        R->cap = nc;
    }
    LabelImage *im = &R->images[R->n_images];
    memset(im, 0, sizeof *im);
    if (strmap_put(&R->names, name, R->n_images, &im->name) != GLM_OK) return NULL;
    R->n_images++;
    return im;
}

static int label_line(void *ctx, char *line, size_t n, int has_nul, int lineno, GlmError *err)
{
    LabelReader *R = ctx;
    const char *path = R->path;
    if (has_nul) return glm_fail(err, GLM_EINPUT, "%s:%d: NUL byte in the line", path, lineno);
    const char *first = line + strspn(line, " \t\r");
    if (!*first || *first == '#') return GLM_OK;   /* blank line or comment */
    char *f[3];
    int nf = fileio_fields(line, '\t', f, 3);
    if (nf == 1)
        return glm_fail(err, GLM_EINPUT, "%s:%d: no tab: want IMAGE<TAB>WORDS<TAB>x0 y0 x1 y1", path, lineno);
    if (nf != 3)
        return glm_fail(err, GLM_EINPUT, "%s:%d: %s fields, want 3: IMAGE<TAB>WORDS<TAB>x0 y0 x1 y1", path, lineno,
                        nf > 3 ? "more than 3" : "2");
    const char *name = strip(f[0]), *words = strip(f[1]), *box = strip(f[2]);
    if (!*name) return glm_fail(err, GLM_EINPUT, "%s:%d: empty image name", path, lineno);
    if (*name == '/')
        return glm_fail(err, GLM_EINPUT, "%s:%d: image '%s' is an absolute path (names are inside --images DIR)",
                        path, lineno, name);
    if (!picture_name(name))
        return glm_fail(err, GLM_EINPUT,
                        "%s:%d: image '%s' is not a picture file by its name (.png .jpg .jpeg .bmp .gif .tga .pnm "
                        ".ppm .pgm .psd)",
                        path, lineno, name);
    /* The words as the grammar writes them: lowercase, one space apart. */
    char buf[SCENE_WORDS_LEN], canon[SCENE_WORDS_LEN];
    char *toks[8];
    int trunc = 1, nt = strlen(words) < sizeof buf ? text_tokenize(words, buf, sizeof buf, toks, 8, &trunc) : 0;
    if (nt && !trunc) {   /* the tokens joined are never longer than the words */
        size_t used = 0;
        for (int i = 0; i < nt; i++) {
            if (i) canon[used++] = ' ';
            size_t tl = strlen(toks[i]);
            memcpy(canon + used, toks[i], tl);
            used += tl;
        }
        canon[used] = 0;
        words = canon;
    }
    char where[GLM_ERROR_LEN];
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    SceneObject obj;
    int rc = dataset_object_parse(&obj, words, box, where, err);
    if (rc) return rc;
    LabelImage *im = label_image(R, name);
    if (!im) return glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
    if (im->n == SCENE_CAPTION_MAX_OBJECTS)
        return glm_fail(err, GLM_EINPUT, "%s: image '%s' has more than %d objects (the caption grammar describes 1-%d)",
                        where, name, SCENE_CAPTION_MAX_OBJECTS, SCENE_CAPTION_MAX_OBJECTS);
    for (int j = 0; j < im->n; j++) {
        const SceneBox *a = &im->objs[j].box, *b = &obj.box;
        if (!strcmp(im->objs[j].words, obj.words) && a->x0 == b->x0 && a->y0 == b->y0 && a->x1 == b->x1 &&
            a->y1 == b->y1)
            return glm_fail(err, GLM_EINPUT, "%s: repeats line %d (same image, words and box)", where, im->lines[j]);
        if (scene_relation(a, b) == SCENE_REL_NONE)
            return glm_fail(err, GLM_EINPUT,
                            "%s: this box and the one on line %d have their centres on a diagonal (or the same "
                            "centre), so neither is left of or above the other",
                            where, im->lines[j]);
    }
    im->objs[im->n] = obj;
    im->lines[im->n] = lineno;
    im->n++;
    R->n_objects++;
    return GLM_OK;
}

/* The references of every image, then the Dataset and the objects. */
static int labels_build(Dataset *d, DatasetObjects *objs, const LabelReader *R, const char *images_dir,
                        const char *split_path, int strict, GlmError *err)
{
    const int N = R->n_images;
    char(*caps)[SCENE_N_REFS][SCENE_CAPTION_LEN] = glm_malloc_array((size_t)N, sizeof *caps);   /* (N) */
    const char **refs = glm_malloc_array((size_t)N * SCENE_N_REFS, sizeof *refs);            /* (N, 5) */
    DatasetRefImage *ims = glm_malloc_array((size_t)N, sizeof *ims);                           /* (N) */
    const char **names = glm_malloc_array((size_t)R->n_objects, sizeof *names);              /* (n_objects) */
    SceneObject *all = glm_malloc_array((size_t)R->n_objects, sizeof *all);                  /* (n_objects) */
    int *lines = glm_malloc_array((size_t)R->n_objects, sizeof *lines);                      /* (n_objects) */
    int rc = GLM_OK;
    if (!caps || !refs || !ims || !names || !all || !lines) {
        rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory", R->path);
        goto done;
    }
    int k = 0;
    for (int i = 0; i < N && rc == GLM_OK; i++) {
        const LabelImage *im = &R->images[i];
        GlmError why = {0};
        if (scene_captions(caps[i], im->objs, im->n, &why)) {
            rc = glm_fail(err, GLM_EINPUT, "%s:%d: image '%s': %s", R->path, im->lines[0], im->name, why.msg);
            break;
        }
        for (int r = 0; r < SCENE_N_REFS; r++) refs[i * SCENE_N_REFS + r] = caps[i][r];
        ims[i] = (DatasetRefImage){im->name, im->lines[0], refs + i * SCENE_N_REFS, SCENE_N_REFS};
        for (int j = 0; j < im->n; j++, k++) {
            names[k] = im->name;
            all[k] = im->objs[j];
            lines[k] = im->lines[j];
        }
    }
    if (rc == GLM_OK) rc = dataset_load_refs(d, ims, N, R->path, images_dir, split_path, strict, err);
    if (rc == GLM_OK && (rc = dataset_objects_build(objs, names, all, lines, (size_t)k, R->path, err)))
        dataset_free(d);
done:
    free(caps);
    free(refs);
    free(ims);
    free(names);
    free(all);
    free(lines);
    return rc;
}

int dataset_labels_load(Dataset *d, DatasetObjects *objs, const char *path, const char *images_dir,
                        const char *split_path, int strict, GlmError *err)
{
    memset(d, 0, sizeof *d);
    memset(objs, 0, sizeof *objs);
    char *text;
    size_t len;
    int rc = fileio_read(&text, &len, path, FILEIO_TEXT_MAX, err);
    if (rc) return rc;
    /* A UTF-8 byte-order mark (Windows editors write one) is not text. */
    size_t bom = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
    LabelReader R = {.path = path};
    rc = fileio_lines(text + bom, len - bom, label_line, &R, err);
    if (rc == GLM_OK && R.n_objects == 0)
        rc = glm_fail(err, GLM_EINPUT, "%s: no objects (want lines IMAGE<TAB>WORDS<TAB>x0 y0 x1 y1)", path);
    if (rc == GLM_OK) rc = labels_build(d, objs, &R, images_dir, split_path, strict, err);
    strmap_free(&R.names);
    free(R.images);
    free(text);
    return rc;
}
