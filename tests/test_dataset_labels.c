/* test_dataset_labels.c - the labels file of `glimpse eval --labels`
 * (dataset_labels.h): a good file loads into the images, references and
 * objects eval needs; every bad line is refused with FILE:LINE and the
 * reason, by the library and through the command (exit 2); pictures that
 * are missing are skipped (--strict: refused); eval on a labels file scores
 * exactly what it scores on the same pictures as a generated data set; and
 * the out-of-generator tools (tools/ood_*.py) make, run small, the same set
 * from the same seed, which eval reads.
 *
 * The references expected below are written by hand from the grammar of
 * docs/data-format.md, not read off scene_captions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_labels.h"
#include "test.h"

/* A scratch path: test_tmpdir()/rel, in one of a few rotating buffers. */
static const char *lp(const char *rel)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", test_tmpdir(), rel);
    return b;
}

/* Writes n bytes of text to test_tmpdir()/rel (n < 0: strlen); returns the path. */
static const char *put(const char *rel, const char *text, long n)
{
    const char *path = lp(rel);
    if (!test_write(path, text, n < 0 ? strlen(text) : (size_t)n)) test_failed(__FILE__, __LINE__, "cannot write %s", path);
    return path;
}

/* test_tmpdir()/sub with an (empty, never decoded) file for each name. */
static const char *picture_dir(const char *sub, const char *const *names, int n)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", lp(sub));
    mkdir(dir, 0755);
    for (int i = 0; i < n; i++) {
        char rel[600];
        snprintf(rel, sizeof rel, "%s/%s", sub, names[i]);
        put(rel, "", 0);
    }
    return dir;
}

static const char *caption(const Dataset *d, int image, int k)
{
    return d->captions[d->images[image].first + k];
}

TEST(labels_load_good_file)
{
    static const char *const names[] = {"a.jpg", "b.png", "c.PNG"};
    const char *dir = picture_dir("lab_good", names, 3);
    const char *path = put("lab_good.tsv",
                           "\xef\xbb\xbf# my own pictures\n"
                           "\n"
                           "b.png\tlarge blue square\t40 10 60 30\r\n"
                           "a.jpg\t  Small  RED circle \t 2 2 12 12 \n"
                           "b.png\tsmall red circle\t5 12 17 24\n"
                           "   # an indented comment\n"
                           "c.PNG\tdress\t0 0 28 28\n",
                           -1);
    Dataset d;
    DatasetObjects o;
    GlmError err = {0};
    REQUIRE(dataset_labels_load(&d, &o, path, dir, NULL, 1, &err) == GLM_OK);
    /* images in order of first appearance, five references each */
    REQUIRE(d.n_images == 3);
    CHECK(!strcmp(d.images[0].name, "b.png"));
    CHECK(!strcmp(d.images[1].name, "a.jpg"));
    CHECK(!strcmp(d.images[2].name, "c.PNG"));
    CHECK_EQ_INT(d.n_captions, 15);
    CHECK_EQ_INT(d.images[0].n_captions, 5);
    CHECK_STR_CONTAINS(d.images[0].path, "lab_good/b.png");
    /* the circle's centre (11, 18) is left of the square's (50, 20) */
    CHECK(!strcmp(caption(&d, 0, 0), "a small red circle left of a large blue square"));
    CHECK(!strcmp(caption(&d, 0, 1), "a large blue square right of a small red circle"));
    CHECK(!strcmp(caption(&d, 0, 2), "a small red circle to the left of a large blue square"));
    CHECK(!strcmp(caption(&d, 0, 4), "there is a small red circle left of a large blue square"));
    CHECK(!strcmp(caption(&d, 1, 0), "a small red circle"));
    CHECK(!strcmp(caption(&d, 1, 2), "a picture of a small red circle"));
    CHECK(!strcmp(caption(&d, 2, 3), "an image of a dress"));
    /* the objects, in file order per image, with their lines */
    CHECK_EQ_INT(o.n_images, 3);
    CHECK_EQ_INT(o.n_objects, 4);
    int n;
    const SceneObject *b = dataset_objects_find(&o, "b.png", &n);
    REQUIRE(b && n == 2);
    CHECK(!strcmp(b[0].words, "large blue square"));
    CHECK(!strcmp(b[1].words, "small red circle"));
    CHECK_EQ_INT(b[1].box.x0, 5);
    CHECK_EQ_INT(b[1].box.y1, 24);
    CHECK_EQ_INT(o.lines[b - o.objects], 3);
    CHECK_EQ_INT(o.lines[b - o.objects + 1], 5);
    const SceneObject *a = dataset_objects_find(&o, "a.jpg", &n);
    REQUIRE(a && n == 1);
    CHECK(!strcmp(a[0].words, "small red circle"));   /* as the grammar writes it */
    CHECK_EQ_INT(a[0].box.x1, 12);
    /* a box is checked against its picture once the picture's size is known */
    CHECK_EQ_INT(dataset_objects_check_size(&o, "b.png", 60, 30, path, &err), GLM_OK);
    CHECK_EQ_INT(dataset_objects_check_size(&o, "b.png", 59, 30, path, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "lab_good.tsv:3: box '40 10 60 30' goes past the 59x30 picture b.png");
    dataset_objects_free(&o);
    dataset_free(&d);
}

TEST(labels_missing_pictures_are_skipped_unless_strict)
{
    static const char *const names[] = {"here.png", "too.png"};
    const char *dir = picture_dir("lab_miss", names, 2);
    const char *path = put("lab_miss.tsv",
                           "here.png\tbag\t1 2 10 20\n"
                           "gone.png\tboot\t1 2 10 20\n"
                           "too.png\tcoat\t1 2 10 20\n",
                           -1);
    Dataset d;
    DatasetObjects o;
    GlmError err = {0};
    REQUIRE(dataset_labels_load(&d, &o, path, dir, NULL, 0, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_images, 2);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MISSING_IMAGE], 1);
    REQUIRE(d.n_messages == 1);
    CHECK_STR_CONTAINS(d.messages[0], "lab_miss/gone.png");
    CHECK_STR_CONTAINS(d.messages[0], "(from ");
    CHECK_STR_CONTAINS(d.messages[0], "lab_miss.tsv:2)");
    dataset_objects_free(&o);
    dataset_free(&d);
    CHECK_EQ_INT(dataset_labels_load(&d, &o, path, dir, NULL, 1, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "gone.png");
    CHECK_STR_CONTAINS(err.msg, "strict");
    CHECK(d.n_images == 0 && o.n_images == 0);
    /* a list picks images, as for a caption file */
    const char *list = put("lab_miss.list", "too.png\n", -1);
    REQUIRE(dataset_labels_load(&d, &o, path, dir, list, 1, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_images, 1);
    CHECK(!strcmp(d.images[0].name, "too.png"));
    dataset_objects_free(&o);
    dataset_free(&d);
}

/* Every bad line: the text, and what the message must say. */
static const struct {
    const char *text, *want;
    long len;   /* -1: strlen(text) */
} bad_lines[] = {
    {"a.png small red circle 1 2 10 12\n", ":1: no tab", -1},
    {"# ok\na.png\tsmall red circle\n", ":2: 2 fields, want 3", -1},
    {"a.png\tbag\t1 2 10 12\textra\n", ":1: more than 3 fields", -1},
    {"a.png\tpink elephant\t1 2 10 12\n", ":1: object words 'pink elephant' are not a noun phrase", -1},
    {"a.png\tcircle red\t1 2 10 12\n", ":1: object words 'circle red'", -1},
    {"a.png\tsmall large circle\t1 2 10 12\n", ":1: object words 'small large circle'", -1},
    {"a.png\tbag\t1 2 10\n", ":1: box '1 2 10' is not 'x0 y0 x1 y1'", -1},
    {"a.png\tbag\t1 2 x 12\n", ":1: box '1 2 x 12' is not", -1},
    {"a.png\tbag\t1 2 10 12 14\n", ":1: box '1 2 10 12 14' is not", -1},
    {"a.png\tbag\t9 2 9 12\n", ":1: box '9 2 9 12' is empty (x1 <= x0", -1},
    {"a.png\tbag\t1 12 10 3\n", ":1: box '1 12 10 3' is empty (y1 <= y0", -1},
    {"a.png\tbag\t-1 2 10 12\n", ":1: box '-1 2 10 12' is negative", -1},
    {"a.png\tbag\t0 0 10 10\na.png\tboot\t40 0 50 10\na.png\tcoat\t80 5 90 15\na.png\tdress\t120 0 130 10\n",
     ":4: image 'a.png' has more than 3 objects", -1},
    {"a.png\tbag\t1 2 10 12\nb.png\tbag\t1 2 10 12\na.png\tbag\t1 2 10 12\n", ":3: repeats line 1", -1},
    {"a.png\tbag\t0 0 10 10\na.png\tboot\t20 20 30 30\n", ":2: this box and the one on line 1 have their centres on a diagonal",
     -1},
    {"notes.txt\tbag\t1 2 10 12\n", ":1: image 'notes.txt' is not a picture file", -1},
    {"a\tbag\t1 2 10 12\n", ":1: image 'a' is not a picture file", -1},
    {"/pics/a.png\tbag\t1 2 10 12\n", ":1: image '/pics/a.png' is an absolute path", -1},
    {"\tbag\t1 2 10 12\n", ":1: empty image name", -1},
    {"a.png\tbag\0\t1 2 10 12\n", ":1: NUL byte", 21},
    {"# nothing but comments\n\n", ": no objects", -1},
};

TEST(labels_bad_lines_are_errors_with_file_and_line)
{
    const char *dir = picture_dir("lab_bad", (const char *const[]){"a.png", "b.png"}, 2);
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        char rel[64], want[256];
        snprintf(rel, sizeof rel, "lab_bad%zu.tsv", i);
        const char *path = put(rel, bad_lines[i].text, bad_lines[i].len);
        snprintf(want, sizeof want, "%s%s", rel, bad_lines[i].want);
        Dataset d;
        DatasetObjects o;
        GlmError err = {0};
        CHECK_EQ_INT(dataset_labels_load(&d, &o, path, dir, NULL, 0, &err), GLM_EINPUT);
        CHECK_STR_CONTAINS(err.msg, want);
        CHECK(d.n_images == 0 && d.images == NULL && o.n_images == 0 && o.objects == NULL);
        /* the same through the command: one line on stderr, exit 2 */
        CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s", test_glimpse_bin(), path,
                              dir), 2);
        char *e = test_slurp(lp("last.err"), NULL);
        CHECK_STR_CONTAINS(e, want);
        CHECK(e && strchr(e, '\n') == e + strlen(e) - 1);
        free(e);
    }
}

TEST(labels_eval_usage_errors)
{
    const char *bin = test_glimpse_bin(), *path = put("lab_use.tsv", "a.png\tbag\t1 2 10 12\n", -1);
    /* the model is given: the sanitizer build has no models/ beside it */
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s", bin, path), 2);
    char *e = test_slurp(lp("last.err"), NULL);
    CHECK_STR_CONTAINS(e, "--labels needs --images DIR");
    free(e);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s --split val", bin, path,
                          test_tmpdir()),
                 2);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s --data %s", bin, path,
                          test_tmpdir(), test_tmpdir()),
                 2);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s/no-such.tsv --images %s", bin,
                          test_tmpdir(), test_tmpdir()),
                 2);
    e = test_slurp(lp("last.err"), NULL);
    CHECK_STR_CONTAINS(e, "no-such.tsv");
    free(e);
}

/* Everything after "images_per_second" differs from run to run. */
static char *scores_of(const char *rel)
{
    char *s = test_slurp(lp(rel), NULL);
    char *ips = s ? strstr(s, "\"images_per_second\"") : NULL;
    if (ips) *ips = 0;
    return s;
}

/* count_accuracy by hand: the fraction of the images in eval's --out
 * captions whose caption holds as many nouns as the labels file has lines
 * for the image. */
static double count_by_hand(const char *labels, const char *captions)
{
    static const char *const nouns[] = {"circle", "square", "triangle", "cross", "top", "trouser", "pullover",
                                        "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"};
    char *lab = test_slurp(labels, NULL), *cap = test_slurp(captions, NULL), *s1, *s2;
    int hits = 0, images = 0;
    for (char *line = cap ? strtok_r(cap, "\n", &s1) : NULL; line && lab; line = strtok_r(NULL, "\n", &s1)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        int said = 0, have = 0;
        for (char *w = strtok_r(tab + 1, " ", &s2); w; w = strtok_r(NULL, " ", &s2))
            for (size_t k = 0; k < sizeof nouns / sizeof nouns[0]; k++) said += !strcmp(w, nouns[k]);
        size_t n = strlen(line);
        for (const char *p = lab; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
            have += !strncmp(p, line, n) && p[n] == '\t';
        images++;
        hits += said == have;
    }
    free(lab);
    free(cap);
    return images ? (double)hits / images : -1.0;
}

/* On the pictures of a generated data set, a labels file made from its
 * objects.tsv gives the scores --data gives: the references are the same
 * grammar's, the objects the same objects (in another order). */
TEST(labels_eval_end_to_end_matches_data_dir)
{
    const char *bin = test_glimpse_bin();
    char set[1024];   /* lp's buffers rotate */
    snprintf(set, sizeof set, "%s", lp("lab_e2e"));
    REQUIRE(test_run("%s data shapes --out %s --count 12 --seed 77 --split 0,0,1 --quiet", bin, set) == 0);
    /* objects.tsv without the id column, last line first */
    REQUIRE(test_run("tac %s/objects.tsv | cut -f 1,3,4 > %s", set, lp("lab_e2e.tsv")) == 0);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --data %s --json > %s", bin, set, lp("lab_data.json")),
                 0);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s/images --json > %s", bin,
                          lp("lab_e2e.tsv"), set, lp("lab_labels.json")),
                 0);
    char *a = scores_of("lab_data.json"), *b = scores_of("lab_labels.json");
    REQUIRE(a && b);
    CHECK_STR_CONTAINS(b, "\"images\": 12");
    CHECK_STR_CONTAINS(b, "\"count_accuracy\": ");
    CHECK(strstr(b, "\"count_accuracy\": null") == NULL);
    if (strcmp(a, b)) test_failed(__FILE__, __LINE__, "--data gave %s, --labels %s", a, b);
    free(a);
    free(b);

    /* The count, recomputed from the captions eval wrote: on all objects,
     * and with each picture's first object only (where the captions name
     * what is drawn, that is too many things wherever there were more). */
    REQUIRE(test_run("awk -F'\\t' '!seen[$1]++' %s > %s", lp("lab_e2e.tsv"), lp("lab_first.tsv")) == 0);
    static const char *const sets[] = {"lab_e2e", "lab_first"};
    for (int k = 0; k < 2; k++) {
        char labels[1024], caps[1024], json[1024];
        snprintf(labels, sizeof labels, "%s/%s.tsv", test_tmpdir(), sets[k]);
        snprintf(caps, sizeof caps, "%s/%s.out", test_tmpdir(), sets[k]);
        snprintf(json, sizeof json, "%s/%s.json", test_tmpdir(), sets[k]);
        CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s/images --out %s --json > %s",
                              bin, labels, set, caps, json),
                     0);
        char *j = test_slurp(json, NULL);
        const char *c = j ? strstr(j, "\"count_accuracy\": ") : NULL;
        REQUIRE(c);
        CHECK_NEAR(atof(c + 18), count_by_hand(labels, caps), 1e-6);
        free(j);
    }

    /* a box past its picture (64x64) is a labelling mistake: exit 2, FILE:LINE */
    put("lab_past.tsv", "shapes_000000.png\tlarge red cross\t10 10 30 30\nshapes_000001.png\tbag\t40 40 70 60\n", -1);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s/images", bin, lp("lab_past.tsv"),
                          set),
                 2);
    char *e = test_slurp(lp("last.err"), NULL);
    CHECK_STR_CONTAINS(e, "lab_past.tsv:2: box '40 40 70 60' goes past the 64x64 picture shapes_000001.png");
    free(e);

    /* a listed picture that is missing: a warning, or with --strict exit 2 */
    put("lab_gone.tsv", "shapes_000000.png\tbag\t1 2 10 12\ngone.png\tbag\t1 2 10 12\n", -1);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s/images", bin, lp("lab_gone.tsv"),
                          set),
                 0);
    e = test_slurp(lp("last.err"), NULL);
    CHECK_STR_CONTAINS(e, "warning: ");
    CHECK_STR_CONTAINS(e, "gone.png");
    free(e);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s --images %s/images --strict", bin,
                          lp("lab_gone.tsv"), set),
                 2);
}

/* tools/ood_fashion.py and tools/ood_shapes.py, run small: the same seed
 * gives the same set, every labels file loads, eval reads it. */
TEST(labels_ood_tools_are_deterministic_and_load)
{
    if (test_run("command -v python3") != 0) {
        printf("SKIP labels_ood_tools_are_deterministic_and_load: python3 is not installed\n");
        return;
    }
    const char *bin = test_glimpse_bin();
    for (int i = 0; i < 2; i++)
        REQUIRE(test_run("python3 tools/ood_fashion.py --out %s/lab_ood_f%d --count 6 --seed 5 --quiet",
                         test_tmpdir(), i) == 0);
    CHECK_EQ_INT(test_run("diff -r %s %s", lp("lab_ood_f0"), lp("lab_ood_f1")), 0);
    static const char *const fashion_sets[] = {"labels", "labels-stored", "labels-inverted"};
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(test_run("%s eval --model models/fashion.glm --labels %s/lab_ood_f0/%s.tsv --images "
                              "%s/lab_ood_f0/images --strict --json > %s",
                              bin, test_tmpdir(), fashion_sets[k], test_tmpdir(), lp("lab_ood_f.json")),
                     0);
        char *j = test_slurp(lp("lab_ood_f.json"), NULL);
        CHECK_STR_CONTAINS(j, k == 0 ? "\"images\": 6," : "\"images\": 3,");
        free(j);
    }
    /* a set is never written over */
    CHECK_EQ_INT(test_run("python3 tools/ood_fashion.py --out %s --count 2", lp("lab_ood_f0")), 2);

    if (test_run("test -x /usr/bin/convert") != 0) {
        printf("SKIP labels_ood_tools_are_deterministic_and_load (shapes): ImageMagick's /usr/bin/convert is not "
               "installed (tools/install-deps.sh --test)\n");
        return;
    }
    for (int i = 0; i < 2; i++)
        REQUIRE(test_run("python3 tools/ood_shapes.py --out %s/lab_ood_s%d --count 5 --seed 5 --quiet",
                         test_tmpdir(), i) == 0);
    CHECK_EQ_INT(test_run("diff -r %s %s", lp("lab_ood_s0"), lp("lab_ood_s1")), 0);
    static const char *const families[] = {"light", "pale", "gradient", "noise", "dark"};
    for (int k = 0; k < 5; k++) {
        char *t = NULL;
        char rel[64];
        snprintf(rel, sizeof rel, "lab_ood_s0/labels-%s.tsv", families[k]);
        CHECK((t = test_slurp(lp(rel), NULL)) != NULL);   /* one picture of each family */
        free(t);
    }
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --labels %s/lab_ood_s0/labels.tsv --images "
                          "%s/lab_ood_s0/images --strict --json > %s",
                          bin, test_tmpdir(), test_tmpdir(), lp("lab_ood_s.json")),
                 0);
    char *j = test_slurp(lp("lab_ood_s.json"), NULL);
    CHECK_STR_CONTAINS(j, "\"images\": 5,");
    free(j);
    /* a wrapper is not ImageMagick: the tool says so (exit 1) */
    put("lab_fake_convert", "#!/bin/sh\necho 'Version: ImageMagick 6.9'\n", -1);
    CHECK_EQ_INT(test_run("chmod +x %s && python3 tools/ood_shapes.py --out %s --count 1 --convert %s",
                          lp("lab_fake_convert"), lp("lab_ood_fake"), lp("lab_fake_convert")),
                 1);
    char *e = test_slurp(lp("last.err"), NULL);
    CHECK_STR_CONTAINS(e, "is not ImageMagick's convert program");
    free(e);
}
