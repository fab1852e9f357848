/* dataset_objects.c - reads DIR/objects.tsv into a DatasetObjects
 * (dataset_objects.h): one row per line, sorted by image name and object
 * id, then grouped per image so dataset_objects_find is a binary search.
 *
 * Not here: what the words mean (scenes.c checks them with
 * scene_words_valid), captions and splits (dataset.c), writing the file
 * (the data set writer).
 */
#include "dataset_objects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
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

/* Parses one line "NAME\tID\tWORDS\tx0 y0 x1 y1" (newline stripped). */
static int parse_obj_line(ObjRow *row, char *line, const char *path, int ln, GlmError *err)
{
    char *f[4];
    int nf = 0;
    char *p = line;
    for (;;) {
        if (nf == 4) return glm_fail(err, GLM_EINPUT, "%s:%d: more than 4 tab-separated fields", path, ln);
        f[nf++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = 0;
        p = tab + 1;
    }
    if (nf != 4)
        return glm_fail(err, GLM_EINPUT, "%s:%d: %d fields, want NAME<TAB>ID<TAB>WORDS<TAB>BOX", path, ln, nf);
    if (!f[0][0]) return glm_fail(err, GLM_EINPUT, "%s:%d: empty image name", path, ln);
    char *end;
    errno = 0;
    long id = strtol(f[1], &end, 10);
    if (errno || end == f[1] || *end || id < 0 || id >= SCENE_MAX_OBJECTS)
        return glm_fail(err, GLM_EINPUT, "%s:%d: object id '%s' is not 0..%d", path, ln, f[1],
                        SCENE_MAX_OBJECTS - 1);
    if (strlen(f[2]) >= SCENE_WORDS_LEN || !scene_words_valid(f[2]))
        return glm_fail(err, GLM_EINPUT, "%s:%d: object words '%s' are not a known noun phrase",
                        path, ln, f[2]);
    int b[4], used = 0;
    if (sscanf(f[3], "%d %d %d %d %n", &b[0], &b[1], &b[2], &b[3], &used) != 4 || f[3][used])
        return glm_fail(err, GLM_EINPUT, "%s:%d: box '%s' is not 'x0 y0 x1 y1'", path, ln, f[3]);
    if (b[0] < 0 || b[1] < 0 || b[2] <= b[0] || b[3] <= b[1] || b[2] > 1 << 20 || b[3] > 1 << 20)
        return glm_fail(err, GLM_EINPUT, "%s:%d: box '%s' is empty or negative", path, ln, f[3]);
    row->name = strdup(f[0]);
    if (!row->name) return glm_fail(err, GLM_ENOMEM, "%s:%d: out of memory", path, ln);
    row->id = (int)id;
    row->line = ln;
    snprintf(row->obj.words, sizeof row->obj.words, "%s", f[2]);
    row->obj.box = (SceneBox){b[0], b[1], b[2], b[3]};
    return GLM_OK;
}

int dataset_objects_load(DatasetObjects *out, const char *dir, GlmError *err)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/objects.tsv", dir) >= sizeof path)
        return glm_fail(err, GLM_EINPUT, "%s: path too long", dir);
    FILE *f = fopen(path, "r");
    if (!f) return glm_fail(err, GLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    ObjRow *rows = NULL;
    size_t n_rows = 0, cap_rows = 0;
    char *line = NULL;
    size_t line_cap = 0;
    int rc = GLM_OK, ln = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, f)) >= 0) {
        ln++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (n_rows == cap_rows) {
            size_t nc = cap_rows ? 2 * cap_rows : 256;
            ObjRow *nr = nc <= SIZE_MAX / sizeof *rows ? realloc(rows, nc * sizeof *rows) : NULL;
            if (!nr) {
                rc = glm_fail(err, GLM_ENOMEM, "%s:%d: out of memory", path, ln);
                goto done;
            }
            rows = nr;
            cap_rows = nc;
        }
        rc = parse_obj_line(&rows[n_rows], line, path, ln, err);
        if (rc) goto done;
        n_rows++;
    }
    if (ferror(f)) {
        rc = glm_fail(err, GLM_EIO, "%s: read error after line %d", path, ln);
        goto done;
    }
    if (n_rows > INT32_MAX) {
        rc = glm_fail(err, GLM_EINPUT, "%s: too many lines", path);
        goto done;
    }
    qsort(rows, n_rows, sizeof *rows, row_cmp);
    out->objects = glm_malloc_array(n_rows, sizeof *out->objects);
    out->images = glm_malloc_array(n_rows, sizeof *out->images);
    if (!out->objects || !out->images) {
        rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n_rows;) {
        size_t j = i;
        while (j < n_rows && !strcmp(rows[j].name, rows[i].name)) {
            if (rows[j].id != (int)(j - i)) {
                rc = glm_fail(err, GLM_EINPUT, "%s:%d: image %s: object id %d, want %d (ids are 0..n-1, once each)",
                              path, rows[j].line, rows[j].name, rows[j].id, (int)(j - i));
                goto done;
            }
            out->objects[j] = rows[j].obj;
            j++;
        }
        DatasetImageObjects *im = &out->images[out->n_images++];
        im->name = rows[i].name;
        rows[i].name = NULL;   /* now owned by out */
        im->first = (int)i;
        im->count = (int)(j - i);
        i = j;
    }
    out->n_objects = (int)n_rows;
done:
    for (size_t i = 0; i < n_rows; i++) free(rows[i].name);
    free(rows);
    free(line);
    fclose(f);
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

void dataset_objects_free(DatasetObjects *set)
{
    if (!set) return;
    for (int i = 0; i < set->n_images; i++) free(set->images[i].name);
    free(set->images);
    free(set->objects);
    memset(set, 0, sizeof *set);
}
