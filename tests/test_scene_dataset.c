/* test_scene_dataset.c - generated data sets on disk: the same seed gives
 * the same bytes, the PNGs hold what objects.tsv says, fashion splits never
 * share photos, every reference passes its own check, and `glimpse data`
 * (bad arguments, the summary, nothing left behind on failure). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>

#include "dataset_objects.h"
#include "scene_dataset.h"
#include "scene_draw.h"
#include "test.h"

/* ---- helpers --------------------------------------------------------- */

static const char *tpath(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", test_tmpdir(), name);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Number of lines in a file (-1 if unreadable). */
static int count_lines(const char *path)
{
    size_t len;
    char *s = test_slurp(path, &len);
    if (!s) return -1;
    int n = 0;
    for (size_t i = 0; i < len; i++) n += s[i] == '\n';
    free(s);
    return n;
}

/* Does the whitespace-separated list file contain name as a whole line? */
static int list_has(const char *list_path, const char *name)
{
    size_t len;
    char *s = test_slurp(list_path, &len);
    if (!s) return 0;
    int found = 0;
    char *save;
    for (char *line = strtok_r(s, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
        found = !strcmp(line, name);
    free(s);
    return found;
}

static int gen_degrade(const char *dir, SceneKind kind, int count, uint64_t seed, int vary, int degrade)
{
    SceneGenParams p = scene_gen_default_params(kind);
    p.count = count;
    p.seed = seed;
    p.vary = vary;
    p.degrade = degrade;
    GlmError err = {0};
    int rc = scene_generate_dataset(dir, &p, NULL, NULL, &err);
    if (rc) test_failed(__FILE__, __LINE__, "generate %s: %s", dir, err.msg);
    return rc;
}

static int gen_vary(const char *dir, SceneKind kind, int count, uint64_t seed, int vary)
{
    return gen_degrade(dir, kind, count, seed, vary, 1);
}

static int gen(const char *dir, SceneKind kind, int count, uint64_t seed)
{
    return gen_vary(dir, kind, count, seed, 1);
}

/* Checks every reference caption of a generated data set against its
 * objects; returns the number of captions checked. */
static int check_all_references(const char *dir)
{
    char path[600];
    DatasetObjects set;
    GlmError err = {0};
    if (dataset_objects_load(&set, dir, &err)) {
        test_failed(__FILE__, __LINE__, "objects: %s", err.msg);
        return 0;
    }
    snprintf(path, sizeof path, "%s/captions.tsv", dir);
    size_t len;
    char *s = test_slurp(path, &len);
    if (!s) {
        dataset_objects_free(&set);
        return 0;
    }
    int checked = 0;
    char *save;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(line, '#'), *tab = strchr(line, '\t');
        if (!hash || !tab) {
            test_failed(__FILE__, __LINE__, "bad captions line '%s'", line);
            continue;
        }
        *hash = 0;
        int n;
        const SceneObject *objs = dataset_objects_find(&set, line, &n);
        if (!objs) {
            test_failed(__FILE__, __LINE__, "%s has captions but no objects", line);
            continue;
        }
        SceneCheck ck;
        scene_check_text(&ck, objs, n, tab + 1);
        if (!ck.correct || ck.n_correct != n)
            test_failed(__FILE__, __LINE__, "%s: reference '%s' fails its own check (parsed %d, %d/%d named)",
                        line, tab + 1, ck.parsed, ck.n_correct, n);
        for (int j = 0; j < n; j++)
            if (ck.noun_tok[j] < 0)
                test_failed(__FILE__, __LINE__, "%s: '%s': object %d has no noun token", line, tab + 1, j);
        checked++;
    }
    free(s);
    dataset_objects_free(&set);
    return checked;
}

/* ---- data sets on disk ----------------------------------------------- */

TEST(scene_dataset_same_seed_same_bytes_other_seed_other_bytes)
{
    char a[512], b[512], c[512];
    REQUIRE(gen(tpath(a, sizeof a, "det_a"), SCENE_KIND_SHAPES, 25, 11) == GLM_OK);
    REQUIRE(gen(tpath(b, sizeof b, "det_b"), SCENE_KIND_SHAPES, 25, 11) == GLM_OK);
    REQUIRE(gen(tpath(c, sizeof c, "det_c"), SCENE_KIND_SHAPES, 25, 12) == GLM_OK);
    CHECK_EQ_INT(count_lines(tpath(a, sizeof a, "det_a/captions.tsv")), 25 * SCENE_N_REFS);
    tpath(a, sizeof a, "det_a");
    CHECK_EQ_INT(test_run("diff -r '%s' '%s'", a, b), 0);
    CHECK_EQ_INT(test_run("cmp -s '%s/captions.tsv' '%s/captions.tsv'", a, c), 1);
    CHECK_EQ_INT(test_run("cmp -s '%s/images/shapes_000003.png' '%s/images/shapes_000003.png'", a, c), 1);
    CHECK_EQ_INT(test_run("cmp -s '%s/objects.tsv' '%s/objects.tsv'", a, c), 1);
}

/* The pale background (vary 0): every pixel outside the boxes is pale and
 * nearly grey; the object centres have their colour. */
TEST(scene_dataset_png_pixels_match_the_boxes)
{
    char dir[512], path[700];
    REQUIRE(gen_vary(tpath(dir, sizeof dir, "pix"), SCENE_KIND_SHAPES, 30, 3, 0) == GLM_OK);
    DatasetObjects set;
    GlmError err = {0};
    REQUIRE(dataset_objects_load(&set, dir, &err) == GLM_OK);
    CHECK_EQ_INT(set.n_images, 30);
    for (int im = 0; im < set.n_images; im++) {
        snprintf(path, sizeof path, "%s/images/%s", dir, set.images[im].name);
        int w, h, ch;
        uint8_t *px = stbi_load(path, &w, &h, &ch, 3);
        REQUIRE(px);
        CHECK_EQ_INT(w, 64);
        CHECK_EQ_INT(h, 64);
        int n;
        const SceneObject *objs = dataset_objects_find(&set, set.images[im].name, &n);
        REQUIRE(objs && n >= 1);
        for (int j = 0; j < n; j++) {
            const SceneBox *b = &objs[j].box;
            const uint8_t *c = px + (((b->y0 + b->y1) / 2) * 64 + (b->x0 + b->x1) / 2) * 3;
            char colour[16];
            REQUIRE(sscanf(objs[j].words, "%*s %15s", colour) == 1);
            uint8_t want[3];
            REQUIRE(scene_colour_rgb(want, colour));
            for (int k = 0; k < 3; k++)
                if (abs(c[k] - want[k]) > 8)
                    test_failed(__FILE__, __LINE__, "%s object %d (%s): centre channel %d is %d, want %d+-8",
                                set.images[im].name, j, objs[j].words, k, c[k], want[k]);
        }
        /* Every pixel outside all boxes is pale, nearly grey background. */
        int bad = 0;
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) {
                int inside = 0;
                for (int j = 0; j < n; j++)
                    inside |= x >= objs[j].box.x0 && x < objs[j].box.x1 && y >= objs[j].box.y0 &&
                              y < objs[j].box.y1;
                if (inside) continue;
                const uint8_t *q = px + (y * 64 + x) * 3;
                int lo = q[0] < q[1] ? q[0] : q[1], hi = q[0] > q[1] ? q[0] : q[1];
                lo = q[2] < lo ? q[2] : lo;
                hi = q[2] > hi ? q[2] : hi;
                bad += lo < 205 || hi - lo > 12;
            }
        CHECK_EQ_INT(bad, 0);
        stbi_image_free(px);
    }
    CHECK_EQ_INT(check_all_references(dir), 30 * SCENE_N_REFS);
    /* Split lists cover every image once: 24 / 3 / 3. */
    CHECK_EQ_INT(count_lines(tpath(path, sizeof path, "pix/train.txt")), 24);
    CHECK_EQ_INT(count_lines(tpath(path, sizeof path, "pix/val.txt")), 3);
    CHECK_EQ_INT(count_lines(tpath(path, sizeof path, "pix/test.txt")), 3);
    dataset_objects_free(&set);
}

TEST(scene_dataset_fashion_splits_use_disjoint_photos)
{
    char dir[512], path[700];
    SceneGenParams p = scene_gen_default_params(SCENE_KIND_FASHION);
    p.count = 40;
    p.seed = 8;
    p.split[0] = 0.4;
    p.split[1] = 0.3;
    p.split[2] = 0.3;
    GlmError err = {0};
    int rc = scene_generate_dataset(tpath(dir, sizeof dir, "fash"), &p, NULL, NULL, &err);
    if (rc) test_failed(__FILE__, __LINE__, "%s", err.msg);
    REQUIRE(rc == GLM_OK);
    char trainl[700], vall[700], testl[700];
    snprintf(trainl, sizeof trainl, "%s/train.txt", dir);
    snprintf(vall, sizeof vall, "%s/val.txt", dir);
    snprintf(testl, sizeof testl, "%s/test.txt", dir);
    snprintf(path, sizeof path, "%s/sources.tsv", dir);
    size_t len;
    char *s = test_slurp(path, &len);
    REQUIRE(s);
    int rows = 0, in_split[3] = {0};
    DatasetObjects set;
    REQUIRE(dataset_objects_load(&set, dir, &err) == GLM_OK);
    char *save;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128], which[16];
        int id, idx, label;
        REQUIRE(sscanf(line, "%127s %d %15s %d %d", name, &id, which, &idx, &label) == 5);
        rows++;
        int n;
        const SceneObject *objs = dataset_objects_find(&set, name, &n);
        REQUIRE(objs && id < n);
        CHECK(!strcmp(objs[id].words, scene_fashion_name(label)));
        if (list_has(trainl, name)) {
            in_split[0]++;
            CHECK(!strcmp(which, "train"));
            CHECK(idx >= 0 && idx < 54000);
        } else if (list_has(vall, name)) {
            in_split[1]++;
            CHECK(!strcmp(which, "train"));
            CHECK(idx >= 54000 && idx < 60000);
        } else {
            CHECK(list_has(testl, name));
            in_split[2]++;
            CHECK(!strcmp(which, "t10k"));
            CHECK(idx >= 0 && idx < 10000);
        }
    }
    free(s);
    dataset_objects_free(&set);
    CHECK(rows >= 40 && rows <= 120);   /* 1-3 items per varied scene */
    CHECK(in_split[0] > 0 && in_split[1] > 0 && in_split[2] > 0);
    CHECK_EQ_INT(check_all_references(dir), 40 * SCENE_N_REFS);
}

/* ---- the command line ------------------------------------------------ */

static int err_lines(void)
{
    char p[512];
    return count_lines(tpath(p, sizeof p, "last.err"));
}

static char *last_err(void)
{
    char p[512];
    return test_slurp(tpath(p, sizeof p, "last.err"), NULL);
}

TEST(scene_dataset_cli_bad_arguments_exit_2_with_one_line)
{
    /* Run from the scratch directory (so a wrongly accepted --out X lands
     * there), hence the binary's absolute path. */
    char bin[4096];
    REQUIRE(realpath(test_glimpse_bin(), bin));
    const char *T = test_tmpdir();
    static const char *const bad[] = {
        "data",
        "data circles --out X",
        "data shapes",
        "data shapes --out X --count 0",
        "data shapes --out X --count many",
        "data shapes --out X --size 7",
        "data shapes --out X --split 0.5,0.5",
        "data shapes --out X --split 0.8,0.1,0.2",
        "data shapes --out X --frobnicate",
        "data shapes --out X --seed -1",
        "data shapes --out X extra",
        "data shapes --out X --fashion-dir /tmp",
        "data fashion --out X --size 40",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = test_run("cd '%s' && '%s' %s", T, bin, bad[i]);
        if (st != 2) test_failed(__FILE__, __LINE__, "'glimpse %s' exited %d, want 2", bad[i], st);
        if (err_lines() != 1)
            test_failed(__FILE__, __LINE__, "'glimpse %s' printed %d lines on stderr, want 1", bad[i], err_lines());
    }
    char p[512];
    CHECK(!exists(tpath(p, sizeof p, "X")));
    CHECK_EQ_INT(test_run("'%s' data --help", bin), 0);
    char *out = test_slurp(tpath(p, sizeof p, "last.out"), NULL);
    CHECK_STR_CONTAINS(out, "--count N");
    CHECK_STR_CONTAINS(out, "default 1000");
    CHECK_STR_CONTAINS(out, "--split");
    CHECK_STR_CONTAINS(out, "--seed");
    free(out);
}

TEST(scene_dataset_cli_writes_a_data_set_and_reports_the_seed)
{
    char dir[512], p[600];
    tpath(dir, sizeof dir, "cli_ok");
    CHECK_EQ_INT(test_run("'%s' data shapes --out '%s' --count 12", test_glimpse_bin(), dir), 0);
    char *out = test_slurp(tpath(p, sizeof p, "last.out"), NULL);
    CHECK_STR_CONTAINS(out, "seed 1234 (default)");
    free(out);
    snprintf(p, sizeof p, "%s/info.txt", dir);
    CHECK(exists(p));
    snprintf(p, sizeof p, "%s/images/shapes_000011.png", dir);
    CHECK(exists(p));
    /* Refuses to overwrite: exit 2, one line, data set untouched. */
    CHECK_EQ_INT(test_run("'%s' data shapes --out '%s' --count 3", test_glimpse_bin(), dir), 2);
    CHECK_EQ_INT(err_lines(), 1);
    char *e = last_err();
    CHECK_STR_CONTAINS(e, "not empty");
    free(e);
    snprintf(p, sizeof p, "%s/captions.tsv", dir);
    CHECK_EQ_INT(count_lines(p), 12 * SCENE_N_REFS);
}

TEST(scene_dataset_cli_unwritable_out_leaves_nothing)
{
    char p[600];
    const char *T = test_tmpdir();
    /* The parent does not exist. */
    int st = test_run("'%s' data shapes --out '%s/no/such/parent/ds' --count 3", test_glimpse_bin(), T);
    CHECK(st == 1 || st == 2);
    CHECK_EQ_INT(err_lines(), 1);
    char *e = last_err();
    CHECK_STR_CONTAINS(e, "no/such/parent/ds");
    free(e);
    /* The parent is a regular file. */
    snprintf(p, sizeof p, "%s/plainfile", T);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fclose(f);
    st = test_run("'%s' data shapes --out '%s/plainfile/ds' --count 3", test_glimpse_bin(), T);
    CHECK(st == 1 || st == 2);
    CHECK_EQ_INT(err_lines(), 1);
    /* A failure half-way (a broken Fashion-MNIST file) removes the temporary
     * directory: neither DIR nor DIR.tmp-* remains. */
    char fdir[600];
    snprintf(fdir, sizeof fdir, "%s/badmnist", T);
    REQUIRE(test_run("mkdir -p '%s' && printf 'not gzip, not idx' > '%s/train-images-idx3-ubyte.gz'",
                     fdir, fdir) == 0);
    st = test_run("'%s' data fashion --out '%s/fout' --count 5 --fashion-dir '%s'", test_glimpse_bin(),
                  T, fdir);
    CHECK_EQ_INT(st, 2);
    CHECK_EQ_INT(err_lines(), 1);
    e = last_err();
    CHECK_STR_CONTAINS(e, "train-images-idx3-ubyte.gz");
    CHECK_STR_CONTAINS(e, "bad magic");
    free(e);
    snprintf(p, sizeof p, "%s/fout", T);
    CHECK(!exists(p));
    CHECK_EQ_INT(test_run("ls -d '%s'/fout.tmp-* '%s'/ds.tmp-* 2>/dev/null | wc -l | grep -qx 0", T, T), 0);
}

/* Varied scenes (vary 1, the default): the objects keep their colours at
 * their box centres, and the backgrounds range from dark to pale (clean
 * pictures, --degrade 0: noise and JPEG move single pixels further; see
 * the next test). */
TEST(scene_dataset_varied_backgrounds_keep_the_objects)
{
    char dir[512], path[700];
    REQUIRE(gen_degrade(tpath(dir, sizeof dir, "vary"), SCENE_KIND_SHAPES, 40, 5, 1, 0) == GLM_OK);
    DatasetObjects set;
    GlmError err = {0};
    REQUIRE(dataset_objects_load(&set, dir, &err) == GLM_OK);
    int dark = 0, pale = 0;
    for (int im = 0; im < set.n_images; im++) {
        snprintf(path, sizeof path, "%s/images/%s", dir, set.images[im].name);
        int w, h, ch;
        uint8_t *px = stbi_load(path, &w, &h, &ch, 3);
        REQUIRE(px);
        int n;
        const SceneObject *objs = dataset_objects_find(&set, set.images[im].name, &n);
        REQUIRE(objs && n >= 1);
        for (int j = 0; j < n; j++) {
            const SceneBox *b = &objs[j].box;
            const uint8_t *c = px + (((b->y0 + b->y1) / 2) * w + (b->x0 + b->x1) / 2) * 3;
            char colour[16];
            REQUIRE(sscanf(objs[j].words, "%*s %15s", colour) == 1);
            uint8_t want[3];
            REQUIRE(scene_colour_rgb(want, colour));
            for (int k = 0; k < 3; k++) CHECK(abs(c[k] - want[k]) <= 8);
        }
        const uint8_t *corner = px;   /* the top-left pixel is background */
        const int grey = (corner[0] + corner[1] + corner[2]) / 3;
        dark += grey < 90, pale += grey > 190;
        stbi_image_free(px);
    }
    CHECK(dark >= 3);
    CHECK(pale >= 10);
    CHECK_EQ_INT(check_all_references(dir), 40 * SCENE_N_REFS);
    dataset_objects_free(&set);
    char info[700];
    snprintf(info, sizeof info, "%s/info.txt", dir);
    char *text = test_slurp(info, NULL);
    CHECK_STR_CONTAINS(text, "vary 1");
    free(text);
}

/* Varied fashion scenes hold 1, 2 or 3 items, as a user's picture may (the
 * out-of-generator sets have one-item scenes); --vary 0 keeps 2-3. */
TEST(scene_dataset_fashion_item_counts_follow_vary)
{
    for (int vary = 0; vary <= 1; vary++) {
        char dir[512], name[64];
        snprintf(name, sizeof name, "fash-count-%d", vary);
        SceneGenParams p = scene_gen_default_params(SCENE_KIND_FASHION);
        p.count = 60;
        p.seed = 21;
        p.vary = vary;
        p.split[0] = 1, p.split[1] = p.split[2] = 0;
        GlmError err = {0};
        int rc = scene_generate_dataset(tpath(dir, sizeof dir, name), &p, NULL, NULL, &err);
        if (rc) test_failed(__FILE__, __LINE__, "%s", err.msg);
        REQUIRE(rc == GLM_OK);
        DatasetObjects set;
        REQUIRE(dataset_objects_load(&set, dir, &err) == GLM_OK);
        int hist[4] = {0};
        for (int i = 0; i < 60; i++) {
            char img[64];
            int n = 0;
            snprintf(img, sizeof img, "fashion_%06d.png", i);
            REQUIRE(dataset_objects_find(&set, img, &n));
            REQUIRE(n >= 1 && n <= 3);
            hist[n]++;
        }
        printf("  fashion --vary %d: %d / %d / %d scenes of 1 / 2 / 3 items\n", vary, hist[1], hist[2], hist[3]);
        if (vary) CHECK(hist[1] >= 10 && hist[2] >= 10 && hist[3] >= 10);
        else CHECK(hist[1] == 0 && hist[2] >= 15 && hist[3] >= 15);
        dataset_objects_free(&set);
    }
}

/* --degrade 1 (the default) changes pixels only: the same seed with and
 * without it gives the same words, boxes and captions; about half the
 * pictures differ, and each object's colour still says its word: the mean
 * colour of the middle of its box is nearer its colour word's than any
 * other colour's (a JPEG at quality 50 bleeds a 12-px shape's colour by up
 * to ~40 levels, but not into another colour). */
TEST(scene_dataset_degrade_changes_pixels_only)
{
    char clean[512], worn[512], a[700], b[700];
    REQUIRE(gen_degrade(tpath(clean, sizeof clean, "clean"), SCENE_KIND_SHAPES, 40, 6, 1, 0) == GLM_OK);
    REQUIRE(gen_degrade(tpath(worn, sizeof worn, "worn"), SCENE_KIND_SHAPES, 40, 6, 1, 1) == GLM_OK);
    const char *same[] = {"objects.tsv", "captions.tsv", "train.txt"};
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/%s", clean, same[i]);
        snprintf(b, sizeof b, "%s/%s", worn, same[i]);
        size_t na, nb;
        char *x = test_slurp(a, &na), *y = test_slurp(b, &nb);
        REQUIRE(x && y);
        CHECK(na == nb && memcmp(x, y, na) == 0);
        free(x);
        free(y);
    }
    DatasetObjects set;
    GlmError err = {0};
    REQUIRE(dataset_objects_load(&set, worn, &err) == GLM_OK);
    int differ = 0;
    for (int im = 0; im < set.n_images; im++) {
        snprintf(a, sizeof a, "%s/images/%s", clean, set.images[im].name);
        snprintf(b, sizeof b, "%s/images/%s", worn, set.images[im].name);
        int w, h, ch, w2, h2;
        uint8_t *p0 = stbi_load(a, &w, &h, &ch, 3), *p1 = stbi_load(b, &w2, &h2, &ch, 3);
        REQUIRE(p0 && p1 && w == w2 && h == h2);
        differ += memcmp(p0, p1, (size_t)w * h * 3) != 0;
        int n;
        const SceneObject *objs = dataset_objects_find(&set, set.images[im].name, &n);
        REQUIRE(objs);
        for (int j = 0; j < n; j++) {
            const SceneBox *bx = &objs[j].box;
            char colour[16];
            uint8_t want[3];
            REQUIRE(sscanf(objs[j].words, "%*s %15s", colour) == 1 && scene_colour_rgb(want, colour));
            /* the middle third of the box: inside every shape */
            const int x0 = bx->x0 + (bx->x1 - bx->x0) / 3, x1 = bx->x1 - (bx->x1 - bx->x0) / 3;
            const int y0 = bx->y0 + (bx->y1 - bx->y0) / 3, y1 = bx->y1 - (bx->y1 - bx->y0) / 3;
            double sum[3] = {0};
            int cnt = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++, cnt++)
                    for (int k = 0; k < 3; k++) sum[k] += p1[3 * (y * w + x) + k];
            REQUIRE(cnt > 0);
            double own = 0, nearest_other = 1e30;
            for (int c = 0; c < SCENE_N_COLOURS; c++) {
                uint8_t rgb[3];
                REQUIRE(scene_colour_rgb(rgb, scene_colour_word(c)));
                double d = 0;
                for (int k = 0; k < 3; k++) d += (sum[k] / cnt - rgb[k]) * (sum[k] / cnt - rgb[k]);
                if (!strcmp(scene_colour_word(c), colour)) own = d;
                else nearest_other = fmin(nearest_other, d);
            }
            if (!(own < nearest_other))
                test_failed(__FILE__, __LINE__, "%s object %d (%s): mean colour %.0f %.0f %.0f is nearer another colour",
                            set.images[im].name, j, colour, sum[0] / cnt, sum[1] / cnt, sum[2] / cnt);
        }
        stbi_image_free(p0);
        stbi_image_free(p1);
    }
    printf("  --degrade 1: %d of %d pictures changed\n", differ, set.n_images);
    CHECK(differ >= 12 && differ <= 32);
    dataset_objects_free(&set);
}
