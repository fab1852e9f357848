/* dataset_objects.c - reads DIR/objects.tsv into a DatasetObjects
 * (dataset_objects.h): the file whole with fileio_read, one row per line
 * with fileio_lines, the rows sorted by image name and object id, then
 * grouped per image so dataset_objects_find is a binary search.
 *
 * Not here: what the words mean (scenes.c checks them with
 * scene_words_valid), captions and splits (dataset.c), writing the file
 * (scene_dataset.c).
 */
#include "dataset_objects.h"

#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line of the file; name points into the file's text. */
typedef struct {
    const char *name;
    int id, line;
    SceneObject obj;
} ObjRow;

static int row_cmp(const void *pa, const void *pb)
{
    const ObjRow *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

static int image_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const DatasetImageObjects *)elem)->name);
}

/* Largest coordinate a box may have: far beyond any picture image.h loads,
 * small enough that doubled centres stay in an int. */
#define BOX_MAX (1 << 20)

/* Four integers separated by spaces and nothing else: 1, else 0. */
static int parse_box(long b[4], const char *s)
{
    for (int k = 0; k < 4; k++) {
        char *end;
        while (*s == ' ') s++;
        errno = 0;
        b[k] = strtol(s, &end, 10);
        if (errno || end == s || (*end && *end != ' ')) return 0;
        s = end;
    }
    while (*s == ' ') s++;
    return *s == 0;
}

int dataset_object_parse(SceneObject *obj, const char *words, const char *box, const char *where, GlmError *err)
{
    if (strlen(words) >= SCENE_WORDS_LEN || !scene_words_valid(words))
        return glm_fail(err, GLM_EINPUT, "%s: object words '%s' are not a noun phrase of the scene language (e.g. 'small red circle', 'bag')",
                        where, words);
    long b[4];
    if (!parse_box(b, box))
        return glm_fail(err, GLM_EINPUT, "%s: box '%s' is not 'x0 y0 x1 y1' (four integers)", where, box);
    if (b[0] < 0 || b[1] < 0)
        return glm_fail(err, GLM_EINPUT, "%s: box '%s' is negative", where, box);
    if (b[2] <= b[0] || b[3] <= b[1])
        return glm_fail(err, GLM_EINPUT, "%s: box '%s' is empty (%s; x1 and y1 are exclusive)", where, box,
                        b[2] <= b[0] ? "x1 <= x0" : "y1 <= y0");
    if (b[2] > BOX_MAX || b[3] > BOX_MAX)
        return glm_fail(err, GLM_EINPUT, "%s: box '%s' is beyond %d pixels", where, box, BOX_MAX);
    snprintf(obj->words, sizeof obj->words, "%s", words);
    obj->box = (SceneBox){(int)b[0], (int)b[1], (int)b[2], (int)b[3]};
    return GLM_OK;
}

/* Parses one line "NAME\tID\tWORDS\tx0 y0 x1 y1" (cut in place at the tabs). */
static int parse_obj_line(ObjRow *row, char *line, const char *path, int ln, GlmError *err)
{
    char *f[4];
    int nf = fileio_fields(line, '\t', f, 4);
    if (nf > 4) return glm_fail(err, GLM_EINPUT, "%s:%d: more than 4 tab-separated fields", path, ln);
    if (nf != 4)
        return glm_fail(err, GLM_EINPUT, "%s:%d: %d fields, want NAME<TAB>ID<TAB>WORDS<TAB>BOX", path, ln, nf);
    if (!f[0][0]) return glm_fail(err, GLM_EINPUT, "%s:%d: empty image name", path, ln);
    char *end;
    errno = 0;
    long id = strtol(f[1], &end, 10);
    if (errno || end == f[1] || *end || id < 0 || id >= SCENE_MAX_OBJECTS)
        return glm_fail(err, GLM_EINPUT, "%s:%d: object id '%s' is not 0..%d", path, ln, f[1],
                        SCENE_MAX_OBJECTS - 1);
    char where[GLM_ERROR_LEN];
    snprintf(where, sizeof where, "%s:%d", path, ln);
    int rc = dataset_object_parse(&row->obj, f[2], f[3], where, err);
    if (rc) return rc;
    row->name = f[0];
    row->id = (int)id;
    row->line = ln;
    return GLM_OK;
}

/* The rows read so far (fileio_lines' context). */
typedef struct {
    const char *path;
    ObjRow *rows;   /* (n_rows), capacity cap_rows */
    size_t n_rows, cap_rows;
} RowReader;

static int obj_line(void *ctx, char *line, size_t n, int has_nul, int lineno, GlmError *err)
{
    RowReader *R = ctx;
    while (n > 0 && line[n - 1] == '\r') line[--n] = 0;   /* fileio_lines took one '\r' off */
    if (n == 0) return GLM_OK;   /* blank line */
    if (has_nul) return glm_fail(err, GLM_EINPUT, "%s:%d: NUL byte in the line", R->path, lineno);
    if (R->n_rows == R->cap_rows) {
        size_t nc = R->cap_rows ? 2 * R->cap_rows : 256;
        /* Counts are ints in DatasetObjects. */
        ObjRow *nr = nc <= INT32_MAX ? realloc(R->rows, nc * sizeof *R->rows) : NULL;
        if (!nr) return glm_fail(err, GLM_ENOMEM, "%s:%d: out of memory", R->path, lineno);
        R->rows = nr;
        R->cap_rows = nc;
    }
    int rc = parse_obj_line(&R->rows[R->n_rows], line, R->path, lineno, err);
    if (rc == GLM_OK) R->n_rows++;
    return rc;
}

/* Sorted rows to out: per image, ids 0..n-1 once each (checked; with
 * renumber, the ids only order the rows and become 0..n-1). */
static int group_rows(DatasetObjects *out, const ObjRow *rows, size_t n_rows, int renumber, const char *path,
                      GlmError *err)
{
    out->objects = glm_malloc_array(n_rows, sizeof *out->objects);
    out->lines = glm_malloc_array(n_rows, sizeof *out->lines);
    out->images = glm_malloc_array(n_rows, sizeof *out->images);
    if (!out->objects || !out->lines || !out->images) return glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n_rows;) {
        size_t j = i;
        while (j < n_rows && !strcmp(rows[j].name, rows[i].name)) {
            if (!renumber && rows[j].id != (int)(j - i))
                return glm_fail(err, GLM_EINPUT, "%s:%d: image %s: object id %d, want %d (ids are 0..n-1, once each)",
                                path, rows[j].line, rows[j].name, rows[j].id, (int)(j - i));
            out->objects[j] = rows[j].obj;
            out->lines[j] = rows[j].line;
            j++;
        }
        DatasetImageObjects *im = &out->images[out->n_images];
        if (!(im->name = strdup(rows[i].name))) return glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
        out->n_images++;
        im->first = (int)i;
        im->count = (int)(j - i);
        i = j;
    }
    out->n_objects = (int)n_rows;
    return GLM_OK;
}

int dataset_objects_load(DatasetObjects *out, const char *dir, GlmError *err)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/objects.tsv", dir) >= sizeof path)
        return glm_fail(err, GLM_EINPUT, "%s: path too long", dir);
    char *text;
    size_t len;
    int rc = fileio_read(&text, &len, path, FILEIO_TEXT_MAX, err);
    if (rc) return rc;
    RowReader R = {path, NULL, 0, 0};
    rc = fileio_lines(text, len, obj_line, &R, err);
    if (rc == GLM_OK) {
        /* A file of blank lines has no rows and R.rows is NULL, which qsort
         * must not be given even for 0 elements. */
        if (R.n_rows) qsort(R.rows, R.n_rows, sizeof *R.rows, row_cmp);
        rc = group_rows(out, R.rows, R.n_rows, 0, path, err);
    }
    free(R.rows);
    free(text);
    if (rc) dataset_objects_free(out);
    return rc;
}

int dataset_objects_build(DatasetObjects *out, const char *const *names, const SceneObject *objs,
                          const int *lines, size_t n, const char *src, GlmError *err)
{
    memset(out, 0, sizeof *out);
    if (n > INT32_MAX) return glm_fail(err, GLM_ENOMEM, "%s: too many objects", src);
    ObjRow *rows = glm_malloc_array(n, sizeof *rows);   /* (n) */
    if (!rows) return glm_fail(err, GLM_ENOMEM, "%s: out of memory", src);
    for (size_t i = 0; i < n; i++) rows[i] = (ObjRow){names[i], (int)i, lines[i], objs[i]};
    qsort(rows, n, sizeof *rows, row_cmp);   /* by name, then given order */
    int rc = group_rows(out, rows, n, 1, src, err);
    free(rows);
    if (rc) dataset_objects_free(out);
    return rc;
}

const SceneObject *dataset_objects_find(const DatasetObjects *set, const char *name, int *n)
{
    *n = 0;
    if (!set->n_images) return NULL;
    const DatasetImageObjects *im =
        bsearch(name, set->images, (size_t)set->n_images, sizeof *set->images, image_cmp);
    if (!im) return NULL;
    *n = im->count;
    return set->objects + im->first;
}

int dataset_objects_check_size(const DatasetObjects *set, const char *name, int w, int h, const char *src,
                               GlmError *err)
{
    int n;
    const SceneObject *o = dataset_objects_find(set, name, &n);
    for (int i = 0; i < n; i++) {
        const SceneBox *b = &o[i].box;
        if (b->x1 > w || b->y1 > h)
            return glm_fail(err, GLM_EINPUT,
                            "%s:%d: box '%d %d %d %d' goes past the %dx%d picture %s (x1, y1 exclusive: at most %d, %d)",
                            src, set->lines[o - set->objects + i], b->x0, b->y0, b->x1, b->y1, w, h, name, w, h);
    }
    return GLM_OK;
}

void dataset_objects_free(DatasetObjects *set)
{
    if (!set) return;
    for (int i = 0; i < set->n_images; i++) free(set->images[i].name);
    free(set->images);
    free(set->objects);
    free(set->lines);
    memset(set, 0, sizeof *set);
}
