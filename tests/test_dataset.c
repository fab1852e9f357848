/* test_dataset.c - the three caption-file loaders of dataset.h on the small
 * fixtures in tests/data/{flickr,coco,dir}, and every kind of bad input.
 *
 * The fixtures hold text only; the PNG images are written into the test's
 * scratch directory with stb_image_write, so no binaries live in git. The
 * expected counts below are read off the fixture files by hand (see the
 * comments next to them), not off the loader's output.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "dataset.h"
#include "test.h"

#define FLICKR "tests/data/flickr/Flickr8k.token.txt"
#define FLICKR_SPLIT "tests/data/flickr/split.txt"
#define COCO "tests/data/coco/captions.json"
#define COCO_SPLIT "tests/data/coco/split.txt"

/* A scratch path: test_tmpdir()/rel, in one of a few rotating buffers. */
static const char *tmp_path(const char *rel)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", test_tmpdir(), rel);
    return b;
}

static int write_png(const char *path)
{
    unsigned char px[4 * 4 * 3]; /* (4, 4, 3) */
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (unsigned char)(i * 17);
    return stbi_write_png(path, 4, 4, 3, px, 4 * 3);
}

/* Makes test_tmpdir()/sub holding a tiny PNG for each name; returns its path. */
static const char *make_images(const char *sub, const char *const *names, int n)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", tmp_path(sub));
    mkdir(dir, 0755);
    for (int i = 0; i < n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (!write_png(p)) test_failed(__FILE__, __LINE__, "cannot write %s", p);
    }
    return dir;
}

/* 1 when some kept message contains needle. */
static int has_message(const Dataset *d, const char *needle)
{
    for (int i = 0; i < d->n_messages; i++)
        if (strstr(d->messages[i], needle)) return 1;
    return 0;
}

#define CHECK_MESSAGE(d, needle)                                                                   \
    do { if (!has_message((d), (needle)))                                                          \
             test_failed(__FILE__, __LINE__, "no skip message contains \"%s\"", (needle)); } while (0)

static const char *const ABC[] = {"a.png", "b.png", "c.png"};

TEST(dataset_flickr_loads_every_image_and_reports_bad_lines)
{
    const char *imgs = make_images("flickr_all", ABC, 3); /* d.png is missing */
    Dataset d;
    GlmError err = {0};
    REQUIRE(dataset_load_flickr(&d, FLICKR, imgs, NULL, 0, &err) == GLM_OK);
    /* a.png: lines 1-2; b.png: line 3 (line 6 is empty); c.png: lines 8-9. */
    REQUIRE(d.n_images == 3);
    CHECK_EQ_INT(d.n_captions, 5);
    CHECK(strcmp(d.images[0].name, "a.png") == 0);
    CHECK(strcmp(d.images[1].name, "b.png") == 0);
    CHECK(strcmp(d.images[2].name, "c.png") == 0);
    CHECK_STR_CONTAINS(d.images[2].path, "flickr_all/c.png");
    CHECK_EQ_INT(d.images[0].n_captions, 2);
    CHECK_EQ_INT(d.images[1].n_captions, 1);
    CHECK_EQ_INT(d.images[2].n_captions, 2);
    CHECK(strcmp(d.captions[d.images[0].first], "A red circle left of a blue square.") == 0);
    CHECK(strcmp(d.captions[d.images[0].first + 1], "a red circle to the left of a blue square") == 0);
    CHECK(strcmp(d.captions[d.images[2].first], "A green triangle") == 0); /* the \r is gone */
    for (int i = 0; i < d.n_images; i++)
        for (int j = 0; j < d.images[i].n_captions; j++) CHECK_EQ_INT(d.caption_image[d.images[i].first + j], i);
    CHECK_EQ_INT(dataset_find(&d, "b.png"), 1);
    CHECK_EQ_INT(dataset_find(&d, "d.png"), -1);

    /* Lines 4 (no tab), 5 (#x) and 11 (no name) are malformed; 6 is empty. */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MALFORMED], 3);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_EMPTY_CAPTION], 1);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MISSING_IMAGE], 1);
    CHECK_EQ_INT(dataset_n_skipped(&d), 5);
    CHECK_MESSAGE(&d, FLICKR ":4: no tab");
    CHECK_MESSAGE(&d, FLICKR ":5: ");
    CHECK_MESSAGE(&d, FLICKR ":6: empty caption for b.png");
    CHECK_MESSAGE(&d, FLICKR ":11: \"#2\" has no image name");
    CHECK_MESSAGE(&d, "flickr_all/d.png: No such file");
    CHECK_MESSAGE(&d, "flickr_all/d.png: No such file or directory (from " FLICKR ":10)");
    char line[512];
    CHECK(dataset_skip_summary(line, sizeof line, &d) == 1);
    CHECK_STR_CONTAINS(line, "skipped 5");
    CHECK_STR_CONTAINS(line, "3 x malformed");
    dataset_free(&d);
}

TEST(dataset_flickr_split_list_orders_and_reports)
{
    const char *imgs = make_images("flickr_split", ABC, 3);
    Dataset d;
    GlmError err = {0};
    REQUIRE(dataset_load_flickr(&d, FLICKR, imgs, FLICKR_SPLIT, 0, &err) == GLM_OK);
    /* split.txt: c.png, a.png, blank, zzz.png (unknown), a.png again. */
    REQUIRE(d.n_images == 2);
    CHECK(strcmp(d.images[0].name, "c.png") == 0);
    CHECK(strcmp(d.images[1].name, "a.png") == 0);
    CHECK_EQ_INT(d.n_captions, 4);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_UNKNOWN_NAME], 1);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MALFORMED], 3 + 1);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MISSING_IMAGE], 0); /* d.png is not in this split */
    CHECK_MESSAGE(&d, FLICKR_SPLIT ":4: image \"zzz.png\" is not in " FLICKR);
    CHECK_MESSAGE(&d, FLICKR_SPLIT ":5: image \"a.png\" is listed again (first at line 2)");
    dataset_free(&d);
}

TEST(dataset_strict_turns_a_skip_into_an_error)
{
    const char *imgs = make_images("flickr_strict", ABC, 3);
    Dataset d;
    GlmError err = {0};
    CHECK_EQ_INT(dataset_load_flickr(&d, FLICKR, imgs, NULL, 1, &err), GLM_EINPUT);
    CHECK_EQ_INT(glm_exit_code(err.code), 2);
    CHECK_STR_CONTAINS(err.msg, FLICKR ":4: no tab");
    CHECK_STR_CONTAINS(err.msg, "5 skipped");
    CHECK_EQ_INT(d.n_images, 0);
    CHECK(d.images == NULL);
    dataset_free(&d); /* harmless on a failed load */

    /* A clean file passes in strict mode. */
    const char *clean = tmp_path("clean.token.txt");
    const char text[] = "a.png#0\ta red circle\nb.png#0\ta blue square\n";
    REQUIRE(test_write(clean, text, sizeof text - 1));
    REQUIRE(dataset_load_flickr(&d, clean, imgs, NULL, 1, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_images, 2);
    CHECK_EQ_INT(dataset_n_skipped(&d), 0);
    CHECK(dataset_skip_summary((char[8]){0}, 8, &d) == 0);
    dataset_free(&d);
}

TEST(dataset_coco_loads_and_reports_bad_entries)
{
    const char *const names[] = {"a.png", "b.png", "c.png"}; /* missing.png is missing */
    const char *imgs = make_images("coco_all", names, 3);
    Dataset d;
    GlmError err = {0};
    REQUIRE(dataset_load_coco(&d, COCO, imgs, NULL, 0, &err) == GLM_OK);
    /* a.png (id 1): annotations 0 and 2; b.png (id 20): annotation 1, the
     * rest of its annotations are bad; c.png (id 5) has none. */
    REQUIRE(d.n_images == 2);
    CHECK(strcmp(d.images[0].name, "a.png") == 0);
    CHECK(strcmp(d.images[1].name, "b.png") == 0);
    CHECK_EQ_INT(d.images[0].n_captions, 2);
    CHECK_EQ_INT(d.images[1].n_captions, 1);
    CHECK(strcmp(d.captions[d.images[0].first], "A red circle.") == 0);
    CHECK(strcmp(d.captions[d.images[0].first + 1], "a red circle in the middle") == 0);
    CHECK(strcmp(d.captions[d.images[1].first], "a blue square") == 0); /* trimmed */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MALFORMED], 2);    /* images[3] id "4"; annotations[6] */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_UNKNOWN_ID], 1);   /* annotations[3] image_id 99 */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_EMPTY_CAPTION], 1); /* annotations[5] */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_NO_CAPTIONS], 1);  /* c.png */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MISSING_IMAGE], 1); /* missing.png */
    CHECK_MESSAGE(&d, COCO ": images[3]: no integer \"id\"");
    CHECK_MESSAGE(&d, COCO ": annotations[3]: image_id 99 is not in images[]");
    CHECK_MESSAGE(&d, COCO ": annotations[5]: empty caption");
    CHECK_MESSAGE(&d, COCO ": annotations[6]: no \"caption\" string");
    CHECK_MESSAGE(&d, COCO ": images[4]: image \"c.png\" has no usable caption");
    CHECK_MESSAGE(&d, "coco_all/missing.png: No such file or directory (from " COCO ": images[2])");
    dataset_free(&d);

    /* The split list picks b.png (kept) and c.png (no caption). */
    REQUIRE(dataset_load_coco(&d, COCO, imgs, COCO_SPLIT, 0, &err) == GLM_OK);
    REQUIRE(d.n_images == 1);
    CHECK(strcmp(d.images[0].name, "b.png") == 0);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_NO_CAPTIONS], 1);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MISSING_IMAGE], 0);
    dataset_free(&d);
}

/* Loads text as a COCO file and returns the error message (static). */
static const char *coco_error(const char *text, int *rc)
{
    static GlmError err;
    const char *path = tmp_path("bad.json");
    if (!test_write(path, text, strlen(text))) return "cannot write";
    Dataset d;
    *rc = dataset_load_coco(&d, path, test_tmpdir(), NULL, 0, &err);
    CHECK(d.n_images == 0 && d.images == NULL);
    dataset_free(&d);
    return err.msg;
}

TEST(dataset_coco_invalid_json_gives_the_byte_offset)
{
    int rc;
    char want[64];
    /* A '}' where the annotations array needs a value or ']'. */
    const char *t1 = "{\"images\": [],\n \"annotations\": [}";
    const char *m = coco_error(t1, &rc);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    snprintf(want, sizeof want, "invalid JSON near byte %zu (line 2,", (size_t)(strrchr(t1, '}') - t1));
    CHECK_STR_CONTAINS(m, want);

    /* Trailing garbage after a complete value. */
    const char *t2 = "{\"images\": [], \"annotations\": []} x\n";
    m = coco_error(t2, &rc);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    snprintf(want, sizeof want, "invalid JSON near byte %zu", (size_t)(strchr(t2, 'x') - t2));
    CHECK_STR_CONTAINS(m, want);

    /* Truncated file: the error is at (or just before) the end. */
    const char *t3 = "{\"images\": [{\"id\": 1, \"file_na";
    m = coco_error(t3, &rc);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    CHECK_STR_CONTAINS(m, "invalid JSON near byte");

    /* A NUL byte would end the text cJSON sees; it is reported instead. */
    const char t4[] = "{\"images\": [], \"annotations\": []}\0junk";
    const char *path = tmp_path("nul.json");
    REQUIRE(test_write(path, t4, sizeof t4 - 1));
    Dataset d;
    GlmError err = {0};
    CHECK_EQ_INT(dataset_load_coco(&d, path, test_tmpdir(), NULL, 0, &err), GLM_EINPUT);
    snprintf(want, sizeof want, "NUL byte at byte %zu", strlen(t4));
    CHECK_STR_CONTAINS(err.msg, want);

    m = coco_error("[1, 2]", &rc);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    CHECK_STR_CONTAINS(m, "no \"images\" array");
    m = coco_error("{\"images\": []}", &rc);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    CHECK_STR_CONTAINS(m, "no \"annotations\" array");
    m = coco_error("{\"images\": [], \"annotations\": []}", &rc);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    CHECK_STR_CONTAINS(m, "no usable image");
}

/* Copies tests/data/dir/NAME into dst/NAME. */
static int copy_fixture(const char *dst, const char *name)
{
    char src[256], out[1200];
    snprintf(src, sizeof src, "tests/data/dir/%s", name);
    snprintf(out, sizeof out, "%s/%s", dst, name);
    size_t n;
    char *text = test_slurp(src, &n);
    if (!text) return 0;
    int ok = test_write(out, text, n);
    free(text);
    return ok;
}

TEST(dataset_dir_loads_each_split)
{
    const char *dir = tmp_path("ds");
    char ds[1024];
    snprintf(ds, sizeof ds, "%s", dir);
    mkdir(ds, 0755);
    const char *files[] = {"captions.tsv", "train.txt", "val.txt", "test.txt"};
    for (int i = 0; i < 4; i++) REQUIRE(copy_fixture(ds, files[i]));
    const char *const pngs[] = {"s0.png", "s1.png", "s2.png", "s3.png"};
    make_images("ds/images", pngs, 4);

    Dataset d;
    GlmError err = {0};
    /* train.txt lists s1.png then s0.png. */
    REQUIRE(dataset_load_dir(&d, ds, "train", 1, &err) == GLM_OK);
    REQUIRE(d.n_images == 2);
    CHECK(strcmp(d.images[0].name, "s1.png") == 0);
    CHECK(strcmp(d.images[1].name, "s0.png") == 0);
    CHECK_EQ_INT(d.n_captions, 4);
    CHECK(strcmp(d.captions[0], "a blue square") == 0);
    CHECK(strcmp(d.captions[1], "one blue square") == 0);
    CHECK(strcmp(d.captions[2], "a red circle") == 0);
    CHECK_STR_CONTAINS(d.images[0].path, "/ds/images/s1.png");
    dataset_free(&d);

    REQUIRE(dataset_load_dir(&d, ds, "val", 1, &err) == GLM_OK);
    REQUIRE(d.n_images == 1);
    CHECK(strcmp(d.images[0].name, "s2.png") == 0);
    CHECK(strcmp(d.captions[1], "the green cross") == 0);
    dataset_free(&d);

    REQUIRE(dataset_load_dir(&d, ds, "test", 1, &err) == GLM_OK);
    REQUIRE(d.n_images == 1);
    CHECK(strcmp(d.images[0].name, "s3.png") == 0);
    dataset_free(&d);

    CHECK_EQ_INT(dataset_load_dir(&d, ds, "dev", 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "unknown split \"dev\"");
    /* A missing directory is bad input (exit 2), naming the file. */
    CHECK_EQ_INT(dataset_load_dir(&d, tmp_path("no-such-dir"), "train", 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "no-such-dir/captions.tsv: No such file");
}

/* A path that names nothing is the user's mistake: bad input, exit 2
 * (fileio.h), like every other bad input. */
TEST(dataset_missing_caption_or_split_file_is_bad_input)
{
    Dataset d;
    GlmError err = {0};
    CHECK_EQ_INT(dataset_load_flickr(&d, "tests/data/flickr/nope.txt", ".", NULL, 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "tests/data/flickr/nope.txt: No such file");
    CHECK_EQ_INT(dataset_load_coco(&d, COCO, ".", "tests/data/coco/nope.txt", 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "tests/data/coco/nope.txt: ");
    CHECK(d.images == NULL);
}

TEST(dataset_empty_split_is_an_error)
{
    const char *imgs = make_images("flickr_empty", ABC, 3);
    const char *split = tmp_path("unknown-split.txt");
    REQUIRE(test_write(split, "x.png\ny.png\n", 12));
    Dataset d;
    GlmError err = {0};
    CHECK_EQ_INT(dataset_load_flickr(&d, FLICKR, imgs, split, 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, FLICKR ": no usable image in this split; skipped");
    CHECK_STR_CONTAINS(err.msg, "2 x split-list name");
}

TEST(dataset_directory_in_place_of_an_image_is_skipped)
{
    const char *imgs = make_images("flickr_dirimg", ABC + 1, 2); /* b.png, c.png */
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/a.png", imgs);
    REQUIRE(mkdir(sub, 0755) == 0);
    Dataset d;
    GlmError err = {0};
    REQUIRE(dataset_load_flickr(&d, FLICKR, imgs, NULL, 0, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_images, 2);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MISSING_IMAGE], 2); /* a.png (a directory) and d.png */
    CHECK_MESSAGE(&d, "flickr_dirimg/a.png: not a regular file (from " FLICKR ":1)");
    dataset_free(&d);
}

TEST(dataset_nul_bytes_and_message_cap)
{
    const char *imgs = make_images("flickr_nul", ABC, 1);
    const char *path = tmp_path("nul.token.txt");
    /* Line 2 holds a NUL byte; lines 3..17 have no tab (15 lines). */
    char text[1024];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "a.png#0\tfine\n");
    memcpy(text + n, "a.png#1\tbad\0byte\n", 17);
    n += 17;
    for (int i = 0; i < 15; i++) n += (size_t)snprintf(text + n, sizeof text - n, "no tab here %d\n", i);
    REQUIRE(test_write(path, text, n));
    Dataset d;
    GlmError err = {0};
    REQUIRE(dataset_load_captions(&d, path, imgs, NULL, 0, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_captions, 1);
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_MALFORMED], 16);
    CHECK_EQ_INT(d.n_messages, DATASET_MAX_MESSAGES);
    CHECK_STR_CONTAINS(d.messages[0], "nul.token.txt:2: NUL byte");
    CHECK_STR_CONTAINS(d.messages[1], "nul.token.txt:3: no tab");
    dataset_free(&d);
}

TEST(dataset_captions_tells_the_formats_apart)
{
    const char *imgs = make_images("autodetect", ABC, 3);
    Dataset d;
    GlmError err = {0};
    REQUIRE(dataset_load_captions(&d, COCO, imgs, NULL, 0, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_images, 2); /* as dataset_coco_loads_and_reports_bad_entries */
    CHECK_EQ_INT(d.skipped[DATASET_SKIP_UNKNOWN_ID], 1);
    dataset_free(&d);
    REQUIRE(dataset_load_captions(&d, FLICKR, imgs, NULL, 0, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_images, 3); /* as dataset_flickr_loads_every_image_and_reports_bad_lines */
    CHECK_EQ_INT(d.n_captions, 5);
    dataset_free(&d);
}

TEST(dataset_encode_pads_truncates_and_counts_unknowns)
{
    const char *imgs = make_images("encode", ABC, 3);
    const char *path = tmp_path("encode.token.txt");
    const char text[] = "a.png#0\tred circle\nb.png#0\tred square\nc.png#0\tblue circle big red\n";
    REQUIRE(test_write(path, text, sizeof text - 1));
    Dataset d;
    Vocab v;
    GlmError err = {0};
    REQUIRE(dataset_load_flickr(&d, path, imgs, NULL, 1, &err) == GLM_OK);
    /* Counts: red 3, circle 2, blue/big/square 1. min_count 2 keeps red=4, circle=5. */
    REQUIRE(vocab_build(&v, d.captions, d.n_captions, 2, &err) == GLM_OK);
    REQUIRE(vocab_size(&v) == 6);
    REQUIRE(dataset_encode(&d, &v, 3, &err) == GLM_OK);
    CHECK_EQ_INT(d.seq_len, 5);
    const int want[3][5] = {
        {VOCAB_START, 4, 5, VOCAB_END, VOCAB_PAD},
        {VOCAB_START, 4, VOCAB_UNK, VOCAB_END, VOCAB_PAD},
        {VOCAB_START, VOCAB_UNK, 5, VOCAB_UNK, VOCAB_END}, /* "red" cut off */
    };
    const int want_len[3] = {4, 4, 5};
    for (int c = 0; c < 3; c++) {
        CHECK_EQ_INT(d.lengths[c], want_len[c]);
        for (int t = 0; t < 5; t++) CHECK_EQ_INT(d.ids[c * 5 + t], want[c][t]);
    }
    CHECK_EQ_INT(d.n_truncated, 1);
    CHECK_EQ_INT(d.n_unk, 3);
    /* Encoding again replaces the arrays (ASan would see a leak otherwise). */
    REQUIRE(dataset_encode(&d, &v, 10, &err) == GLM_OK);
    CHECK_EQ_INT(d.n_truncated, 0);
    CHECK_EQ_INT(d.lengths[2], 6);
    CHECK_EQ_INT(dataset_encode(&d, &v, 0, &err), GLM_EINPUT);
    vocab_free(&v);
    dataset_free(&d);
}
