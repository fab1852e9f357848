/* scene_dataset.c - writes a generated data set directory
 * (scene_dataset.h, docs/data-format.md): parameters checked, the output
 * directory checked, every scene drawn and its PNG, captions, objects and
 * split line written into a temporary sibling directory, which is renamed
 * into place at the end or removed on failure.
 *
 * Not here: drawing (scene_draw.c), captions (scenes.c), PNG encoding
 * (png.c), the command line (cmd_data.c).
 */
#include "scene_dataset.h"

#include "scene_canvas.h"
#include "scene_degrade.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idx.h"
#include "png.h"
#include "rng.h"
#include "scene_draw.h"

SceneGenParams scene_gen_default_params(SceneKind kind)
{
    SceneGenParams p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.count = 1000;
    p.seed = RNG_DEFAULT_SEED;
    p.size = kind == SCENE_KIND_FASHION ? SCENE_FASHION_DEFAULT_SIZE : SCENE_SHAPES_DEFAULT_SIZE;
    p.split[0] = 0.8;
    p.split[1] = 0.1;
    p.split[2] = 0.1;
    p.fashion_dir = FASHION_DEFAULT_DIR;
    p.vary = 1;
    p.degrade = 1;
    p.canvas = 1;
    return p;
}

void scene_split_counts(int counts[3], int count, const double split[3])
{
    counts[0] = (int)floor(count * split[0] + 0.5);
    counts[0] = GLM_MAX(0, GLM_MIN(counts[0], count));
    counts[1] = (int)floor(count * split[1] + 0.5);
    counts[1] = GLM_MAX(0, GLM_MIN(counts[1], count - counts[0]));
    counts[2] = count - counts[0] - counts[1];
}

/* An output file that remembers its first failure, so the writer checks once
 * at close instead of after every line. */
typedef struct {
    FILE *f;
    char path[4200];
    int failed;
} OutFile;

static int out_open(OutFile *o, const char *dir, const char *name, GlmError *err)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    o->failed = 0;
    o->f = fopen(o->path, "wb");
    if (!o->f) return glm_fail(err, GLM_EIO, "%s: cannot create: %s", o->path, strerror(errno));
    return GLM_OK;
}

static void out_printf(OutFile *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(OutFile *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0) o->failed = 1;
    va_end(ap);
}

static int out_close(OutFile *o, GlmError *err)
{
    if (!o->f) return GLM_OK;
    int bad = o->failed || ferror(o->f);
    int e = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (bad) return glm_fail(err, GLM_EIO, "%s: write failed: %s", o->path, strerror(e));
    return GLM_OK;
}

/* Encodes the picture rgb (h, w, 3) with png.h into work (png_work_size
 * bytes, reused across images) and writes it to dir/name. */
static int write_png(const char *dir, const char *name, const uint8_t *rgb, int w, int h, uint8_t *work,
                     GlmError *err)
{
    size_t len;
    GlmError e;
    int rc = png_encode(work, &len, rgb, w, h, PNG_LEVEL_FAST, &e);
    if (rc) return glm_fail(err, rc, "%s/%s: %s", dir, name, e.msg);
    OutFile o;
    if ((rc = out_open(&o, dir, name, err))) return rc;
    if (fwrite(work, 1, len, o.f) != len) o.failed = 1;
    return out_close(&o, err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* Deletes the temporary tree this writer created (never anything else). */
static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int check_out_dir(const char *out, GlmError *err)
{
    struct stat st;
    if (stat(out, &st) != 0) {
        if (errno == ENOENT) return GLM_OK;
        /* a path through a file, or where we may not look: the user's to fix */
        return glm_fail(err, errno == ENOTDIR || errno == EACCES || errno == ELOOP || errno == ENAMETOOLONG
                                 ? GLM_EINPUT : GLM_EIO, "%s: %s", out, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return glm_fail(err, GLM_EINPUT, "%s: exists and is not a directory", out);
    DIR *d = opendir(out);
    if (!d) return glm_fail(err, GLM_EIO, "%s: %s", out, strerror(errno));
    int empty = 1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty)
        return glm_fail(err, GLM_EINPUT,
                        "%s: already exists and is not empty (remove it or choose another --out)", out);
    return GLM_OK;
}

static int check_params(const SceneGenParams *p, GlmError *err)
{
    if (p->count < 1 || p->count > 10000000)
        return glm_fail(err, GLM_EINPUT, "count %d is not 1..10000000", p->count);
    int lo = p->kind == SCENE_KIND_FASHION ? SCENE_FASHION_MIN_SIZE : SCENE_SHAPES_MIN_SIZE;
    if (p->size < lo || p->size > SCENE_MAX_SIZE)
        return glm_fail(err, GLM_EINPUT, "size %d is not %d..%d", p->size, lo, SCENE_MAX_SIZE);
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        if (!(p->split[i] >= 0 && p->split[i] <= 1))
            return glm_fail(err, GLM_EINPUT, "split fraction %g is not in [0, 1]", p->split[i]);
        sum += p->split[i];
    }
    if (fabs(sum - 1) > 1e-6)
        return glm_fail(err, GLM_EINPUT, "split fractions sum to %g, not 1", sum);
    return GLM_OK;
}

/* Generates every scene into the (temporary) directory tmp. */
static int write_scenes(const char *tmp, const SceneGenParams *p, SceneProgressFn progress,
                        void *ctx, GlmError *err)
{
    int counts[3];
    scene_split_counts(counts, p->count, p->split);
    int fashion = p->kind == SCENE_KIND_FASHION;
    FashionSet train_set, test_set;
    memset(&train_set, 0, sizeof train_set);
    memset(&test_set, 0, sizeof test_set);
    Scene sc;
    memset(&sc, 0, sizeof sc);
    SceneCanvas cv;
    memset(&cv, 0, sizeof cv);
    const int canvas = p->vary && p->canvas;
    uint8_t *work = NULL;   /* png_encode's work buffer, reused */
    OutFile files[7];   /* captions, objects, train, val, test, sources, info */
    memset(files, 0, sizeof files);
    int rc = GLM_OK;
    char images[4300];
    snprintf(images, sizeof images, "%.4200s/images", tmp);

    if (fashion) {
        if (counts[0] + counts[1] > 0 &&
            (rc = fashion_load(&train_set, p->fashion_dir, "train", err)))
            goto done;
        if (counts[2] > 0 && (rc = fashion_load(&test_set, p->fashion_dir, "t10k", err))) goto done;
    }
    if ((rc = scene_init(&sc, p->size, err))) goto done;
    sc.vary = p->vary;
    /* the degradations draw from their own stream, so a data set with and
     * without them holds the same scenes, words and boxes */
    Rng degrade_rng;
    rng_seed(&degrade_rng, p->seed, SCENE_DEGRADE_STREAM);
    /* the canvas step (scene_canvas.h) likewise draws from a stream of its
     * own: the same scenes, words and objects with it and without */
    Rng canvas_rng;
    rng_seed(&canvas_rng, p->seed, SCENE_CANVAS_STREAM);
    size_t work_size = png_work_size(p->size, p->size);
    if (canvas) {
        if ((rc = scene_canvas_init(&cv, p->size, err))) goto done;
        int longer, shorter;
        scene_canvas_bounds(p->size, &longer, &shorter);
        work_size = GLM_MAX(png_work_size(longer, shorter), png_work_size(shorter, longer));
    }
    work = glm_malloc_array(work_size, 1);
    if (!work) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory");
        goto done;
    }
    if (mkdir(images, 0777) != 0) {
        rc = glm_fail(err, GLM_EIO, "%s: cannot create: %s", images, strerror(errno));
        goto done;
    }
    static const char *const names[7] = {"captions.tsv", "objects.tsv", "train.txt", "val.txt",
                                         "test.txt", "sources.tsv", "info.txt"};
    for (int i = 0; i < 7; i++) {
        if (i == 5 && !fashion) continue;
        if ((rc = out_open(&files[i], tmp, names[i], err))) goto done;
    }
    const char *prefix = fashion ? "fashion" : "shapes";
    int digits = 6;
    for (int c = p->count - 1; c >= 1000000; c /= 10) digits++;
    Rng rng;
    rng_seed(&rng, p->seed, 0);
    int every = GLM_MAX(1, p->count / 20);
    /* Fashion photo ranges: train scenes use training photos [0, 90%), val
     * scenes [90%, 100%) (unseen in training scenes, like test), test
     * scenes the t10k photos. */
    int n_train_photos = train_set.images.count;
    int val_lo = n_train_photos - n_train_photos / 10;
    for (int i = 0; i < p->count; i++) {
        if (p->stop && *p->stop) {
            rc = glm_fail(err, GLM_EIO, "%s: interrupted after %d of %d images; nothing was kept", tmp, i, p->count);
            goto done;
        }
        int split = i < counts[0] ? 0 : i < counts[0] + counts[1] ? 1 : 2;
        if (fashion) {
            const FashionSet *fs = split == 2 ? &test_set : &train_set;
            int lo = split == 0 ? 0 : split == 1 ? val_lo : 0;
            int hi = split == 0 ? val_lo : fs->images.count;
            rc = scene_make_fashion(&sc, &rng, fs, lo, hi, err);
        } else {
            rc = scene_make_shapes(&sc, &rng, err);
        }
        /* the picture written: the square scene, or the canvas made from it */
        uint8_t *pic = sc.rgb;
        int w = sc.size, h = sc.size;
        const SceneBox *boxes[SCENE_MAX_OBJECTS];
        for (int j = 0; j < sc.n_objects; j++) boxes[j] = &sc.objects[j].box;
        if (rc == GLM_OK && canvas) {
            rc = scene_canvas_apply(&cv, &sc, fashion ? SCENE_FASHION_MIN_SIZE : SCENE_SHAPES_MIN_SIZE, &canvas_rng, err);
            pic = cv.rgb, w = cv.w, h = cv.h;
            for (int j = 0; j < sc.n_objects; j++) boxes[j] = &cv.boxes[j];
        }
        if (rc == GLM_OK && p->vary && p->degrade) rc = scene_degrade(pic, w, h, &degrade_rng, err);
        if (rc) goto done;
        char name[64], rel[80];
        int nn = snprintf(name, sizeof name, "%s_%0*d.png", prefix, digits, i);
        GLM_ASSERT(nn > 0 && (size_t)nn < sizeof name);
        snprintf(rel, sizeof rel, "images/%s", name);
        if ((rc = write_png(tmp, rel, pic, w, h, work, err))) goto done;
        for (int k = 0; k < SCENE_N_REFS; k++)
            out_printf(&files[0], "%s#%d\t%s\n", name, k, sc.captions[k]);
        for (int j = 0; j < sc.n_objects; j++) {
            const SceneBox *b = boxes[j];
            out_printf(&files[1], "%s\t%d\t%s\t%d %d %d %d\n", name, j, sc.objects[j].words, b->x0,
                       b->y0, b->x1, b->y1);
            if (fashion)
                out_printf(&files[5], "%s\t%d\t%s\t%d\t%d\n", name, j, split == 2 ? "t10k" : "train",
                           sc.source[j], sc.label[j]);
        }
        out_printf(&files[2 + split], "%s\n", name);
        if (progress && ((i + 1) % every == 0 || i + 1 == p->count)) progress(ctx, i + 1, p->count);
    }
    out_printf(&files[6], "glimpse-dataset 1\nkind %s\nseed %llu\ncount %d\nsize %d\n"
               "train %d\nval %d\ntest %d\nvary %d\n%s%s", prefix, (unsigned long long)p->seed, p->count,
               p->size, counts[0], counts[1], counts[2], p->vary, p->vary && p->degrade ? "degrade 1\n" : "",
               canvas ? "canvas 1\n" : "");
done:
    for (int i = 0; i < 7; i++) {
        GlmError e2;
        int rc2 = out_close(&files[i], &e2);
        if (rc2 && !rc) {
            rc = rc2;
            if (err) *err = e2;
        }
    }
    scene_free(&sc);
    scene_canvas_free(&cv);
    free(work);
    fashion_free(&train_set);
    fashion_free(&test_set);
    return rc;
}

int scene_generate_dataset(const char *out_dir, const SceneGenParams *p, SceneProgressFn progress,
                           void *ctx, GlmError *err)
{
    int rc = check_params(p, err);
    if (rc) return rc;
    char out[4096];
    size_t len = strlen(out_dir);
    if (len == 0 || len >= sizeof out - 16)
        return glm_fail(err, GLM_EINPUT, "output directory name is empty or too long");
    memcpy(out, out_dir, len + 1);
    while (len > 1 && out[len - 1] == '/') out[--len] = 0;
    if ((rc = check_out_dir(out, err))) return rc;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", out);
    if (!mkdtemp(tmp))
        return glm_fail(err, errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EROFS
                                 ? GLM_EINPUT : GLM_EIO, "%s: cannot create a directory next to it: %s", out,
                        strerror(errno));
    rc = write_scenes(tmp, p, progress, ctx, err);
    if (!rc) {
        /* mkdtemp made it 0700; a data set is for sharing like any output. */
        mode_t mask = umask(0);
        umask(mask);
        if (chmod(tmp, 0777 & ~mask) != 0)
            rc = glm_fail(err, GLM_EIO, "%s: chmod: %s", tmp, strerror(errno));
    }
    if (!rc && rename(tmp, out) != 0)
        rc = glm_fail(err, GLM_EIO, "%s: cannot rename %s to it: %s", out, tmp, strerror(errno));
    if (rc) remove_tree(tmp);
    return rc;
}
