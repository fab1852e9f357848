/* test_dataset_objects.c - reading objects.tsv: grouping and order, and
 * every kind of bad line refused with FILE:LINE and the reason. */
#include <stdio.h>
#include <string.h>

#include "dataset_objects.h"
#include "test.h"

static const char *tpath(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", test_tmpdir(), name);
    return buf;
}

/* Writes text as objects.tsv into the scratch directory sub and loads it. */
static int load_objects_text(DatasetObjects *set, const char *sub, const char *text, GlmError *err)
{
    char dir[512], path[700];
    tpath(dir, sizeof dir, sub);
    if (test_run("mkdir -p '%s'", dir) != 0) return -1;
    snprintf(path, sizeof path, "%s/objects.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fclose(f);
    return dataset_objects_load(set, dir, err);
}

TEST(dataset_objects_load_groups_and_sorts)
{
    DatasetObjects set;
    GlmError err = {0};
    int rc = load_objects_text(&set, "obj_ok",
                               "b.png\t1\tlarge red cross\t10 10 30 30\n"
                               "a.png\t0\tbag\t1 2 3 4\n"
                               "\n"
                               "b.png\t0\tsmall blue circle\t40 40 52 52\r\n",
                               &err);
    REQUIRE(rc == GLM_OK);
    CHECK_EQ_INT(set.n_images, 2);
    CHECK_EQ_INT(set.n_objects, 3);
    int n;
    const SceneObject *o = dataset_objects_find(&set, "b.png", &n);
    REQUIRE(o && n == 2);
    CHECK(!strcmp(o[0].words, "small blue circle"));
    CHECK_EQ_INT(o[0].box.x1, 52);
    CHECK(!strcmp(o[1].words, "large red cross"));
    o = dataset_objects_find(&set, "a.png", &n);
    CHECK(o && n == 1);
    CHECK(dataset_objects_find(&set, "c.png", &n) == NULL && n == 0);
    dataset_objects_free(&set);
}

TEST(dataset_objects_load_rejects_bad_lines)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"a.png\t0\tbag\n", "objects.tsv:1: 3 fields"},
        {"a.png\t0\tbag\t1 2 3 4\na.png\tx\tbag\t1 2 3 4\n", "objects.tsv:2: object id 'x'"},
        {"a.png\t0\tpink elephant\t1 2 3 4\n", "objects.tsv:1: object words 'pink elephant'"},
        {"a.png\t0\tbag\t1 2 3\n", "objects.tsv:1: box '1 2 3'"},
        {"a.png\t0\tbag\t5 2 3 4\n", "objects.tsv:1: box '5 2 3 4' is empty"},
        {"a.png\t0\tbag\t1 2 3 4\na.png\t0\tboot\t1 2 3 4\n", "object id 0, want 1"},
        {"a.png\t1\tbag\t1 2 3 4\n", "objects.tsv:1: image a.png: object id 1, want 0"},
        {"\t0\tbag\t1 2 3 4\n", "objects.tsv:1: empty image name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        DatasetObjects set;
        GlmError err = {0};
        char sub[32];
        snprintf(sub, sizeof sub, "obj_bad%zu", i);
        CHECK_EQ_INT(load_objects_text(&set, sub, cases[i].text, &err), GLM_EINPUT);
        CHECK_STR_CONTAINS(err.msg, cases[i].want);
        CHECK(set.images == NULL && set.n_images == 0);
    }
    DatasetObjects set;
    GlmError err = {0};
    /* A missing file is bad input, as for every file fileio_read reads. */
    CHECK_EQ_INT(dataset_objects_load(&set, tpath((char[512]){0}, 512, "no_such_dir"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "objects.tsv");
    CHECK(set.images == NULL && set.n_images == 0);
    /* A NUL byte inside a line (which the field parser would stop at). */
    char dir[512], path[700];
    tpath(dir, sizeof dir, "obj_nul");
    REQUIRE(test_run("mkdir -p '%s'", dir) == 0);
    snprintf(path, sizeof path, "%s/objects.tsv", dir);
    static const char nul_line[] = "a.png\t0\tbag\t1 2 3 4\n"
                                   "b.png\t0\tbag\t1 2 3 4\0junk\n";
    REQUIRE(test_write(path, nul_line, sizeof nul_line - 1));
    CHECK_EQ_INT(dataset_objects_load(&set, dir, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "objects.tsv:2: NUL byte");
    CHECK(set.images == NULL && set.n_images == 0);
}

/* Found by fuzz_objects: a file without a single row (empty, or blank lines
 * only) handed qsort a NULL array, undefined behaviour that UBSan reports
 * (make test SAN=1). It is a data set with no objects. */
TEST(dataset_objects_empty_file_loads_as_no_objects)
{
    static const char *const texts[] = {"", "\n\r\n\n"};
    for (int i = 0; i < 2; i++) {
        DatasetObjects set;
        GlmError err = {0};
        char sub[32];
        snprintf(sub, sizeof sub, "obj_empty%d", i);
        REQUIRE(load_objects_text(&set, sub, texts[i], &err) == GLM_OK);
        CHECK_EQ_INT(set.n_images, 0);
        CHECK_EQ_INT(set.n_objects, 0);
        int n = -1;
        CHECK(dataset_objects_find(&set, "a.png", &n) == NULL && n == 0);
        dataset_objects_free(&set);
    }
}
