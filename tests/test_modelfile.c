/* test_modelfile.c - the model file: save -> load -> save gives the same
 * bytes, and every loader check names what was wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "modelfile.h"
#include "test.h"

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", test_tmpdir(), name);
    return buf[k];
}

static const char *const words[] = {"<pad>", "<start>", "<end>", "<unk>", "red", "circle"};

static ModelConfig small_config(void)
{
    ModelConfig c = model_default_config();
    c.vocab = 6;
    c.hidden = 8;
    c.embed = 4;
    c.proj = 5;
    c.att = 3;
    return c;
}

static int make_model(Model *m, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed, 0);
    ModelConfig c = small_config();
    GlmError err;
    return model_init(m, &c, words, &r, &err);
}

TEST(modelfile_round_trip_is_byte_identical)
{
    Model m, back;
    GlmError err;
    REQUIRE(make_model(&m, 11) == GLM_OK);
    REQUIRE(model_save(&m, tmp_path("a.glm"), NULL, 0, &err) == GLM_OK);
    REQUIRE(model_load(&back, tmp_path("a.glm"), &err) == GLM_OK);
    CHECK(memcmp(&back.cfg, &m.cfg, sizeof m.cfg) == 0);
    CHECK_EQ_INT(back.n_params, m.n_params);
    CHECK(memcmp(back.params, m.params, m.n_params * sizeof(float)) == 0);
    for (int i = 0; i < m.cfg.vocab; i++) CHECK(strcmp(back.words[i], words[i]) == 0);
    REQUIRE(model_save(&back, tmp_path("b.glm"), NULL, 0, &err) == GLM_OK);
    size_t na, nb;
    char *a = test_slurp(tmp_path("a.glm"), &na), *b = test_slurp(tmp_path("b.glm"), &nb);
    REQUIRE(a && b);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    /* A different seed gives a different file: the comparison above can fail. */
    Model other;
    REQUIRE(make_model(&other, 12) == GLM_OK);
    REQUIRE(model_save(&other, tmp_path("c.glm"), NULL, 0, &err) == GLM_OK);
    char *c = test_slurp(tmp_path("c.glm"), &nb);
    a = test_slurp(tmp_path("a.glm"), &na);
    CHECK(!(na == nb && memcmp(a, c, na) == 0));
    free(a);
    free(c);
    model_free(&m);
    model_free(&back);
    model_free(&other);
}

/* Saves a good model, damages the bytes with fn, expects load to fail with
 * a message containing `why`. */
static void expect_load_error(const char *name, void (*damage)(char *p, size_t *n), const char *why)
{
    Model m;
    GlmError err = {0};
    REQUIRE(make_model(&m, 5) == GLM_OK);
    REQUIRE(model_save(&m, tmp_path(name), NULL, 0, &err) == GLM_OK);
    model_free(&m);
    size_t n;
    char *p = test_slurp(tmp_path(name), &n);
    REQUIRE(p);
    char *q = realloc(p, n + 16);
    REQUIRE(q);
    damage(q, &n);
    REQUIRE(test_write(tmp_path(name), q, n));
    free(q);
    int rc = model_load(&m, tmp_path(name), &err);
    CHECK_EQ_INT(rc, GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, why);
    CHECK_STR_CONTAINS(err.msg, name);
    CHECK(m.params == NULL);
}

static void cut_half(char *p, size_t *n) { (void)p; *n /= 2; }
static void cut_header(char *p, size_t *n) { (void)p; *n = 20; }
static void flip_payload(char *p, size_t *n) { p[*n - 10] ^= 0x40; }
static void bad_magic(char *p, size_t *n) { (void)n; p[0] = 'X'; }
static void bad_version(char *p, size_t *n) { (void)n; p[8] = 9; }
static void add_trailer(char *p, size_t *n) { memcpy(p + *n, "junk", 4); *n += 4; }
static void set_flag(char *p, size_t *n) { (void)n; p[12] = 4; }
/* Found by fuzz_model: the raw size is outside the CRC, and 0xf0000000
 * made the loader allocate 3.75 GiB for a 600-byte file before inflating. */
static void huge_raw_size(char *p, size_t *n) { (void)n; memcpy(p + 20, "\0\0\0\xf0", 4); }

TEST(modelfile_each_loader_check)
{
    expect_load_error("trunc.glm", cut_half, "truncated");
    expect_load_error("short.glm", cut_header, "truncated");
    expect_load_error("flip.glm", flip_payload, "CRC");
    expect_load_error("magic.glm", bad_magic, "magic");
    expect_load_error("version.glm", bad_version, "version 9");
    expect_load_error("trailer.glm", add_trailer, "unexpected bytes");
    expect_load_error("flags.glm", set_flag, "header flags 0x4 set");
    expect_load_error("rawsize.glm", huge_raw_size, "inflates to 4026531840 bytes, more than");
}

/* Writes f as NAME after damage(f), then loads it: GLM_EINPUT with why. */
static void expect_file_error(const char *name, void (*damage)(MfFile *f), const char *why)
{
    Model m;
    GlmError err = {0};
    REQUIRE(make_model(&m, 5) == GLM_OK);
    REQUIRE(model_save(&m, tmp_path(name), NULL, 0, &err) == GLM_OK);
    model_free(&m);
    MfFile f;
    REQUIRE(mf_read(&f, tmp_path(name), &err) == GLM_OK);
    damage(&f);
    REQUIRE(mf_write(tmp_path(name), &f, &err) == GLM_OK);
    mf_free(&f);
    CHECK_EQ_INT(model_load(&m, tmp_path(name), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, why);
    CHECK(m.params == NULL);
}

static MfTensor *tensor(MfFile *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}
static void nan_weight(MfFile *f) { tensor(f, "att_w")->data[1] = NAN; }
static void inf_weight(MfFile *f) { tensor(f, "embed")->data[0] = -INFINITY; }
static void word_with_tab(MfFile *f) { f->words[5][1] = '\t'; }
static void empty_word(MfFile *f) { f->words[4][0] = 0; }
static void twice_word(MfFile *f) { strcpy(f->words[5], f->words[4]); }

/* Hostile model files (issue 16): non-finite weights would print "p":nan
 * into JSON; words with a tab, an empty word or a word twice break output
 * lines; all are refused when the model is loaded. */
TEST(modelfile_refuses_non_finite_weights_and_bad_words)
{
    expect_file_error("nan.glm", nan_weight, "tensor att_w holds NaN at entry 1");
    expect_file_error("inf.glm", inf_weight, "tensor embed holds an infinity at entry 0");
    expect_file_error("tab.glm", word_with_tab, "is not a lowercase token");
    expect_file_error("empty.glm", empty_word, "is not a lowercase token");
    expect_file_error("twice.glm", twice_word, "repeats word 4");
    /* a zero dimension is named as such, not as a section running past its end */
    Model m;
    GlmError err = {0};
    REQUIRE(make_model(&m, 5) == GLM_OK);
    MfTensor zero = {.name = "train.zero", .ndim = 1, .dims = {0}, .data = m.params};
    REQUIRE(model_save(&m, tmp_path("zero.glm"), &zero, 1, &err) == GLM_OK);
    model_free(&m);
    CHECK_EQ_INT(model_load(&m, tmp_path("zero.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "tensor train.zero has dimension 0 of size 0");
}

TEST(modelfile_shape_and_config_checks)
{
    Model m;
    GlmError err = {0};
    REQUIRE(make_model(&m, 5) == GLM_OK);
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(&m.cfg, s);
    /* Rewrite the file by hand: a well-formed container whose tensors do not
     * fit the config. Settings: take them from a real save. */
    REQUIRE(model_save(&m, tmp_path("ok.glm"), NULL, 0, &err) == GLM_OK);
    MfFile f;
    REQUIRE(mf_read(&f, tmp_path("ok.glm"), &err) == GLM_OK);

    /* 1. A tensor with the wrong shape. */
    MfTensor *t = (MfTensor *)mf_find_tensor(&f, "att_Ua");
    REQUIRE(t);
    t->dims[1] -= 1;
    REQUIRE(mf_write(tmp_path("shape.glm"), &f, &err) == GLM_OK);
    Model bad;
    CHECK_EQ_INT(model_load(&bad, tmp_path("shape.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "att_Ua has shape");
    t->dims[1] += 1;

    /* 2. A missing tensor (drop the last one). */
    f.n_tensors--;
    REQUIRE(mf_write(tmp_path("missing.glm"), &f, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("missing.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "out_b is missing");
    f.n_tensors++;

    /* 3. A tensor the model does not have, next to all those it has. */
    MfTensor *more = calloc((size_t)f.n_tensors + 1, sizeof *more);
    REQUIRE(more);
    memcpy(more, f.tensors, (size_t)f.n_tensors * sizeof *more);
    more[f.n_tensors] = f.tensors[0];
    snprintf(more[f.n_tensors].name, sizeof more[f.n_tensors].name, "mystery");
    MfFile g = f;
    g.tensors = more;
    g.n_tensors++;
    REQUIRE(mf_write(tmp_path("unknown.glm"), &g, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("unknown.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "mystery is not part of this model");
    /* ... and one stored twice. */
    snprintf(more[f.n_tensors].name, sizeof more[f.n_tensors].name, "proj_W");
    REQUIRE(mf_write(tmp_path("twice.glm"), &g, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("twice.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "proj_W is stored twice");
    free(more);

    /* 4. A config out of range and a vocabulary that disagrees with it. */
    for (int i = 0; i < f.n_settings; i++)
        if (!strcmp(f.settings[i].key, "feat.grid")) f.settings[i].value = 0;
    REQUIRE(mf_write(tmp_path("grid.glm"), &f, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("grid.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "grid");
    for (int i = 0; i < f.n_settings; i++)
        if (!strcmp(f.settings[i].key, "feat.grid")) f.settings[i].value = m.cfg.feat.grid;
    f.n_words--;
    REQUIRE(mf_write(tmp_path("words.glm"), &f, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("words.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "5 words stored");
    f.n_words++;

    /* 5. A model of an older feature extractor (version 2, which version 3
     * and 4 no longer compute), without the setting added since: the
     * version is what is reported, not the missing key. (Version 3 models
     * still load: see modelfile_version_3_models_load.) */
    int ver = -1, rec = -1;
    for (int i = 0; i < f.n_settings; i++) {
        if (!strcmp(f.settings[i].key, "feat.version")) ver = i;
        if (!strcmp(f.settings[i].key, "feat.recentre")) rec = i;
    }
    REQUIRE(ver >= 0 && rec >= 0);
    MfSetting last = f.settings[f.n_settings - 1], dropped = f.settings[rec];
    f.settings[ver].value = 2;
    f.settings[rec] = last;
    f.n_settings--;
    REQUIRE(mf_write(tmp_path("oldfeat.glm"), &f, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("oldfeat.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "feature extractor version");
    f.n_settings++;
    f.settings[rec] = dropped;
    f.settings[f.n_settings - 1] = last;
    f.settings[ver].value = FEAT_VERSION;

    /* 6. Found by fuzz_model: every size at the top of its range and the
     * tiny tensors left as they are. The config alone asks for 155 G
     * parameters; the loader must blame the tensors, not run out of memory
     * allocating for them. */
    MfSetting *keep = malloc((size_t)f.n_settings * sizeof *keep);
    REQUIRE(keep);
    memcpy(keep, f.settings, (size_t)f.n_settings * sizeof *keep);
    static const struct { const char *key; int v; } top[] = {
        {"feat.input", 1024}, {"feat.window", 1024}, {"feat.hog_cells", 1024}, {"feat.orient_bins", 36},
        {"model.proj", 4096}, {"model.hidden", 4096}, {"model.embed", 4096},
    };
    for (int i = 0; i < f.n_settings; i++)
        for (size_t k = 0; k < sizeof top / sizeof top[0]; k++)
            if (!strcmp(f.settings[i].key, top[k].key)) f.settings[i].value = top[k].v;
    REQUIRE(mf_write(tmp_path("huge.glm"), &f, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("huge.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "proj_W has shape");
    CHECK(bad.params == NULL);
    memcpy(f.settings, keep, (size_t)f.n_settings * sizeof *keep);
    free(keep);

    /* Restored, the container loads again: the edits above were the cause. */
    REQUIRE(mf_write(tmp_path("restored.glm"), &f, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&bad, tmp_path("restored.glm"), &err), GLM_OK);
    model_free(&bad);
    mf_free(&f);
    model_free(&m);
}

TEST(modelfile_extra_tensors_and_atomic_save)
{
    Model m, back;
    GlmError err = {0};
    REQUIRE(make_model(&m, 5) == GLM_OK);
    float state[3] = {1, 2, 3};
    MfTensor extra = {.name = "train.adam_step", .ndim = 1, .dims = {3}, .data = state};
    REQUIRE(model_save(&m, tmp_path("ckpt.glm"), &extra, 1, &err) == GLM_OK);
    CHECK_EQ_INT(model_load(&back, tmp_path("ckpt.glm"), &err), GLM_OK);
    model_free(&back);
    MfFile f;
    REQUIRE(mf_read(&f, tmp_path("ckpt.glm"), &err) == GLM_OK);
    const MfTensor *t = mf_find_tensor(&f, "train.adam_step");
    REQUIRE(t && t->dims[0] == 3);
    CHECK(t->data[2] == 3.0f);
    mf_free(&f);

    /* Saving into a directory that does not exist fails cleanly: a bad path. */
    CHECK_EQ_INT(model_save(&m, "/nonexistent-dir/x.glm", NULL, 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent-dir/x.glm");
    /* A failed save leaves the old file and no temporary behind: make the
     * directory read-only (skipped as root, who can write anyway). */
    if (geteuid() != 0) {
        char dir[600], cmd[700];
        snprintf(dir, sizeof dir, "%s/ro", test_tmpdir());
        snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
        CHECK(system(cmd) == 0);
        snprintf(cmd, sizeof cmd, "chmod 555 %s", dir);
        CHECK(system(cmd) == 0);
        char path[700];
        snprintf(path, sizeof path, "%s/m.glm", dir);
        CHECK_EQ_INT(model_save(&m, path, NULL, 0, &err), GLM_EIO);
        snprintf(cmd, sizeof cmd, "chmod 755 %s", dir);
        CHECK(system(cmd) == 0);
    }
    CHECK_EQ_INT(test_run("ls %s | grep -c tmp-", test_tmpdir()), 1);   /* grep found none */
    model_free(&m);
}

/* A model of feature version 3 (the shipped models before the figure map)
 * loads as version 4 with the figure map and the aspect ratio off, which
 * compute exactly what version 3 did. */
TEST(modelfile_version_3_models_load)
{
    Model m;
    GlmError err;
    REQUIRE(make_model(&m, 5) == GLM_OK);
    REQUIRE(model_save(&m, tmp_path("v3.glm"), NULL, 0, &err) == GLM_OK);
    model_free(&m);
    MfFile f;
    REQUIRE(mf_read(&f, tmp_path("v3.glm"), &err) == GLM_OK);
    int kept = 0;
    for (int i = 0; i < f.n_settings; i++) {
        if (!strcmp(f.settings[i].key, "feat.version")) f.settings[i].value = 3;
        if (strcmp(f.settings[i].key, "feat.figure") && strcmp(f.settings[i].key, "feat.keep_aspect"))
            f.settings[kept++] = f.settings[i];   /* version 3 files have neither */
    }
    f.n_settings = kept;
    REQUIRE(mf_write(tmp_path("v3.glm"), &f, &err) == GLM_OK);
    mf_free(&f);
    REQUIRE(model_load(&m, tmp_path("v3.glm"), &err) == GLM_OK);
    CHECK_EQ_INT(m.cfg.feat.version, FEAT_VERSION);
    CHECK_EQ_INT(m.cfg.feat.figure, 0);
    CHECK_EQ_INT(m.cfg.feat.keep_aspect, 0);
    model_free(&m);
}

/* The attention prior (prior.h) in the file: a model with one round-trips
 * bit for bit with its prior_* tensors and model.prior; a model without one
 * stores neither (so its file is what it was before the prior existed, and
 * the shipped models load unchanged); a stray prior tensor in a file
 * without the setting, or a prior model missing one, is named. */
TEST(modelfile_attention_prior)
{
    Rng r;
    rng_seed(&r, 5, 0);
    ModelConfig c = small_config();
    c.prior = 1;
    Model m, back;
    GlmError err;
    REQUIRE(model_init(&m, &c, words, &r, &err) == GLM_OK);
    for (int k = 0; k < c.att; k++) m.p.prior_v[k] = 0.1f * (float)(k + 1);
    REQUIRE(model_save(&m, tmp_path("prior.glm"), NULL, 0, &err) == GLM_OK);
    REQUIRE(model_load(&back, tmp_path("prior.glm"), &err) == GLM_OK);
    CHECK_EQ_INT(back.cfg.prior, 1);
    CHECK_EQ_INT(back.n_params, m.n_params);
    CHECK(memcmp(back.params, m.params, m.n_params * sizeof(float)) == 0);
    CHECK(back.p.prior_v[2] == 0.3f);
    model_free(&back);

    MfFile f;
    REQUIRE(mf_read(&f, tmp_path("prior.glm"), &err) == GLM_OK);
    int64_t v;
    CHECK(mf_find_setting(&f, "model.prior", &v) && v == 1);
    CHECK(mf_find_tensor(&f, "prior_W") != NULL);
    /* drop the setting: prior_W and the rest are then not part of the model */
    for (int i = 0; i < f.n_settings; i++)
        if (!strcmp(f.settings[i].key, "model.prior")) {   /* to the end, out of the count */
            MfSetting keep = f.settings[i];
            f.settings[i] = f.settings[f.n_settings - 1];
            f.settings[--f.n_settings] = keep;
        }
    REQUIRE(mf_write(tmp_path("stray.glm"), &f, &err) == GLM_OK);
    f.n_settings++;
    CHECK_EQ_INT(model_load(&back, tmp_path("stray.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "tensor prior_W is not part of this model");
    mf_free(&f);
    /* a prior model without prior_v */
    REQUIRE(mf_read(&f, tmp_path("prior.glm"), &err) == GLM_OK);
    for (int i = 0; i < f.n_tensors; i++)
        if (!strcmp(f.tensors[i].name, "prior_v")) {   /* to the end, out of the count, still freed */
            MfTensor keep = f.tensors[i];
            f.tensors[i] = f.tensors[f.n_tensors - 1];
            f.tensors[--f.n_tensors] = keep;
        }
    REQUIRE(mf_write(tmp_path("nov.glm"), &f, &err) == GLM_OK);
    f.n_tensors++;
    CHECK_EQ_INT(model_load(&back, tmp_path("nov.glm"), &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "tensor prior_v is missing");
    mf_free(&f);
    model_free(&m);

    /* without the prior: no setting, no tensors, the same weights as before */
    c.prior = 0;
    rng_seed(&r, 5, 0);
    REQUIRE(model_init(&m, &c, words, &r, &err) == GLM_OK);
    REQUIRE(model_save(&m, tmp_path("plain.glm"), NULL, 0, &err) == GLM_OK);
    REQUIRE(mf_read(&f, tmp_path("plain.glm"), &err) == GLM_OK);
    CHECK(!mf_find_setting(&f, "model.prior", &v));
    CHECK(mf_find_tensor(&f, "prior_W") == NULL && mf_find_tensor(&f, "prior_v") == NULL);
    CHECK_EQ_INT(f.n_tensors, 20);
    mf_free(&f);
    model_free(&m);
    /* the shipped models: no prior, and they load */
    REQUIRE(model_load(&m, "models/shapes.glm", &err) == GLM_OK);
    CHECK_EQ_INT(m.cfg.prior, 0);
    CHECK(m.p.prior_W == NULL);
    model_free(&m);
    /* a prior needs learned attention */
    c.prior = 1;
    c.attention = ATTN_MEAN;
    CHECK_EQ_INT(model_check_config(&c, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "prior needs hard or soft");
}
