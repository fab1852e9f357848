/* model.c - the parameter table, initialisation, and the model <-> file
 * mapping (settings names below are part of the file format, see
 * docs/model-format.md). */
#include "model.h"

#include "kmeans.h"
#include "vocab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ModelConfig model_default_config(void)
{
    return (ModelConfig){
        .feat = features_default_config(),
        .vocab = 4, .embed = 32, .hidden = 128, .proj = 64, .att = 64,
        .max_len = 22, .attention = ATTN_HARD, .gate = 0, .init_mean = 1, .prior = 0,
    };
}

int model_check_config(const ModelConfig *c, GlmError *err)
{
    int rc = features_check_config(&c->feat, err);
    if (rc) return rc;
    struct { const char *name; int v, lo, hi; } r[] = {
        {"vocab", c->vocab, 5, 1 << 20}, {"embed", c->embed, 1, 4096},
        {"hidden", c->hidden, 1, 4096},  {"proj", c->proj, 1, 4096},
        {"att", c->att, 1, 4096},        {"max_len", c->max_len, 1, 256},
        {"attention", c->attention, 0, 3}, {"gate", c->gate, 0, 1},
        {"init_mean", c->init_mean, 0, 1}, {"prior", c->prior, 0, 1},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (r[i].v < r[i].lo || r[i].v > r[i].hi)
            return glm_fail(err, GLM_EINPUT, "model config: %s = %d not in [%d, %d]", r[i].name,
                            r[i].v, r[i].lo, r[i].hi);
    /* the ablations fix alpha_t uniform: there are no logits to bias */
    if (c->prior && c->attention != ATTN_HARD && c->attention != ATTN_SOFT)
        return glm_fail(err, GLM_EINPUT, "model config: the attention prior needs hard or soft attention");
    return GLM_OK;
}

void model_tensor_specs(const ModelConfig *c, ModelTensorSpec s[MODEL_N_TENSORS])
{
    const int F = features_dim(&c->feat), D = c->proj, H = c->hidden, E = c->embed;
    const int A = c->att, V = c->vocab, P = c->prior ? A : 0;
    const ModelTensorSpec table[MODEL_N_TENSORS] = {
        {"proj_W", D, F},         {"proj_b", D, 0},
        {"init_h_W", H, D},       {"init_h_b", H, 0},
        {"init_c_W", H, D},       {"init_c_b", H, 0},
        {"embed", V, E},
        {"att_Wa", A, D},         {"att_Ua", A, H},
        {"att_b", A, 0},          {"att_w", A, 0},
        {"gate_W", H, 0},         {"gate_b", 1, 0},
        {"lstm_Wx", 4 * H, E + D}, {"lstm_Wh", 4 * H, H}, {"lstm_b", 4 * H, 0},
        {"out_Lh", E, H},         {"out_Lz", E, D},
        {"out_Lo", V, E},         {"out_b", V, 0},
        /* last, so the other tensors' initial draws do not depend on the prior */
        {"prior_W", P, D},        {"prior_b", P, 0},        {"prior_v", P, 0},
    };
    memcpy(s, table, sizeof table);
}

static size_t spec_count(const ModelTensorSpec *s) { return (size_t)s->rows * (size_t)(s->cols ? s->cols : 1); }

size_t model_param_count(const ModelConfig *c)
{
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(c, s);
    size_t n = 0;
    for (int i = 0; i < MODEL_N_TENSORS; i++) n += spec_count(&s[i]);
    return n;
}

/* The views in table order; ModelParams holds exactly MODEL_N_TENSORS pointers. */
static float **view_slots(ModelParams *v)
{
    _Static_assert(sizeof(ModelParams) == MODEL_N_TENSORS * sizeof(float *), "table and struct differ");
    return (float **)v;
}

void model_params_view(ModelParams *view, float *block, const ModelConfig *c)
{
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(c, s);
    float **slot = view_slots(view);
    for (int i = 0; i < MODEL_N_TENSORS; i++) {
        slot[i] = model_tensor_present(&s[i]) ? block : NULL;
        block += spec_count(&s[i]);
    }
}

static int copy_words(Model *m, const char *const *words, int n, GlmError *err)
{
    m->words = calloc((size_t)n, sizeof(char *));
    if (!m->words) return glm_fail(err, GLM_ENOMEM, "out of memory for the vocabulary");
    for (int i = 0; i < n; i++)
        if (!(m->words[i] = strdup(words[i]))) return glm_fail(err, GLM_ENOMEM, "out of memory for the vocabulary");
    return GLM_OK;
}

static int alloc_model(Model *m, const ModelConfig *c, GlmError *err)
{
    memset(m, 0, sizeof *m);
    int rc = model_check_config(c, err);
    if (rc) return rc;
    m->cfg = *c;
    m->n_params = model_param_count(c);
    m->params = glm_calloc_array(m->n_params, sizeof(float));
    if (!m->params) return glm_fail(err, GLM_ENOMEM, "out of memory for %zu parameters", m->n_params);
    model_params_view(&m->p, m->params, c);
    if (c->feat.kmeans > 0) {
        const size_t n = kmeans_dict_floats(c->feat.kmeans_patch, c->feat.kmeans);
        if (!(m->dict = glm_malloc_array(n, sizeof(float))))
            return glm_fail(err, GLM_ENOMEM, "out of memory for the patch dictionary");
        if (c->feat.dict) memcpy(m->dict, c->feat.dict, n * sizeof(float));
    }
    m->cfg.feat.dict = m->dict;
    return GLM_OK;
}

int model_init(Model *m, const ModelConfig *c, const char *const *words, Rng *rng, GlmError *err)
{
    if (c->feat.kmeans > 0 && !c->feat.dict)
        return memset(m, 0, sizeof *m), glm_fail(err, GLM_EINPUT, "a model with a %d-patch dictionary needs it learned first (kmeans.h)", c->feat.kmeans);
    int rc = alloc_model(m, c, err);
    if (!rc) rc = copy_words(m, words, c->vocab, err);
    if (rc) {
        model_free(m);
        return rc;
    }
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(c, s);
    float **slot = view_slots(&m->p);
    for (int i = 0; i < MODEL_N_TENSORS; i++) {
        if (s[i].cols == 0) continue;   /* biases start at 0 */
        float bound = 1.0f / sqrtf((float)s[i].cols);
        for (size_t k = 0; k < spec_count(&s[i]); k++)
            slot[i][k] = bound * (2.0f * rng_uniform(rng) - 1.0f);
    }
    for (int h = 0; h < c->hidden; h++) m->p.lstm_b[c->hidden + h] = 1.0f;   /* forget gate */
    return GLM_OK;
}

void model_free(Model *m)
{
    if (m->words)
        for (int i = 0; i < m->cfg.vocab; i++) free(m->words[i]);
    free(m->words);
    free(m->params);
    free(m->dict);
    memset(m, 0, sizeof *m);
}

/* The settings stored in a file, each bound to its config field. */
typedef struct {
    const char *key;
    int *field;
    int optional;   /* added later: stored only when not 0, absent means 0 */
} SettingRef;
#define REQUIRED 0

static int setting_refs(ModelConfig *c, SettingRef *r)
{
    const SettingRef table[] = {
        {"feat.version", &c->feat.version, REQUIRED},       {"feat.input", &c->feat.input, REQUIRED},           {"feat.grid", &c->feat.grid, REQUIRED},
        {"feat.window", &c->feat.window, REQUIRED},         {"feat.stride", &c->feat.stride, REQUIRED},
        {"feat.color_levels", &c->feat.color_levels, REQUIRED}, {"feat.hog_cells", &c->feat.hog_cells, REQUIRED},
        {"feat.orient_bins", &c->feat.orient_bins, REQUIRED}, {"feat.patch", &c->feat.patch, REQUIRED},
        {"feat.recentre", &c->feat.recentre, REQUIRED},     {"feat.figure", &c->feat.figure, REQUIRED},
        {"feat.keep_aspect", &c->feat.keep_aspect, REQUIRED},
        {"model.vocab", &c->vocab, REQUIRED},   {"model.embed", &c->embed, REQUIRED},
        {"model.hidden", &c->hidden, REQUIRED}, {"model.proj", &c->proj, REQUIRED},
        {"model.att", &c->att, REQUIRED},       {"model.max_len", &c->max_len, REQUIRED},
        {"model.attention", &c->attention, REQUIRED}, {"model.gate", &c->gate, REQUIRED},
        {"model.init_mean", &c->init_mean, REQUIRED},
        {"model.prior", &c->prior, 1},
    };
    int n = (int)(sizeof table / sizeof table[0]);
    memcpy(r, table, sizeof table);
    return n;
}
#define MAX_SETTINGS 32

int model_save(const Model *m, const char *path, const MfTensor *extra, int n_extra, GlmError *err)
{
    return model_save_full(m, path, NULL, 0, extra, n_extra, err);
}

int model_save_full(const Model *m, const char *path, const MfSetting *xs, int n_xs,
                    const MfTensor *extra, int n_extra, GlmError *err)
{
    ModelConfig c = m->cfg;
    SettingRef refs[MAX_SETTINGS];
    int n_set = setting_refs(&c, refs);
    /* the dictionary's settings and tensor only when there is one, so a
     * model without it is the file it always was */
    const int kmeans = c.feat.kmeans > 0;
    MfSetting *settings = calloc((size_t)(n_set + 2 * kmeans + n_xs), sizeof *settings);
    MfTensor *tensors = calloc((size_t)(MODEL_N_TENSORS + kmeans + n_extra), sizeof *tensors);
    if (!tensors || !settings) {
        free(settings);
        free(tensors);
        return glm_fail(err, GLM_ENOMEM, "out of memory saving %s", path);
    }
    int k = 0;
    for (int i = 0; i < n_set; i++) {
        if (refs[i].optional && *refs[i].field == 0) continue;   /* the file of a model without it is as before */
        snprintf(settings[k].key, sizeof settings[k].key, "%s", refs[i].key);
        settings[k++].value = *refs[i].field;
    }
    if (kmeans) {
        settings[k++] = (MfSetting){.key = "feat.kmeans", .value = c.feat.kmeans};
        settings[k++] = (MfSetting){.key = "feat.kmeans_patch", .value = c.feat.kmeans_patch};
    }
    for (int i = 0; i < n_xs; i++) settings[k++] = xs[i];
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(&c, s);
    ModelParams view = m->p;
    float **slot = view_slots(&view);
    int nt = 0;
    for (int i = 0; i < MODEL_N_TENSORS; i++) {
        if (!model_tensor_present(&s[i])) continue;
        MfTensor *t = &tensors[nt++];
        snprintf(t->name, sizeof t->name, "%s", s[i].name);
        t->ndim = s[i].cols ? 2 : 1;
        t->dims[0] = s[i].rows;
        t->dims[1] = s[i].cols;
        t->data = slot[i];
    }
    if (kmeans) {
        const int pp = c.feat.kmeans_patch * c.feat.kmeans_patch;
        tensors[nt] = (MfTensor){.name = MODEL_DICT_TENSOR, .ndim = 2,
                                 .dims = {1 + pp + c.feat.kmeans, pp}, .data = m->dict};
    }
    for (int i = 0; i < n_extra; i++) tensors[nt + kmeans + i] = extra[i];
    MfFile f = {
        .n_settings = k, .settings = settings,
        .n_words = m->cfg.vocab, .words = m->words,
        .n_tensors = nt + kmeans + n_extra, .tensors = tensors,
    };
    int rc = mf_write(path, &f, err);
    free(tensors);
    free(settings);
    return rc;
}

int model_load(Model *m, const char *path, GlmError *err)
{
    memset(m, 0, sizeof *m);
    MfFile f;
    int rc = mf_read(&f, path, err);
    if (rc) return rc;

    /* The feature version first: a model from another extractor version may
     * lack settings added since, and the version is the reason to report. */
    int64_t fv;
    /* Version 3 is version 4 with the figure map and the aspect ratio off
     * (features.h): such a model loads and computes what it always did. */
    const int v3 = mf_find_setting(&f, "feat.version", &fv) && fv == 3;
    if (mf_find_setting(&f, "feat.version", &fv) && fv != FEAT_VERSION && !v3) {
        rc = glm_fail(err, GLM_EINPUT, "%s: feature extractor version %lld; this glimpse computes version %d (retrain the model)",
                      path, (long long)fv, FEAT_VERSION);
        goto out;
    }
    ModelConfig c = {0};
    SettingRef refs[MAX_SETTINGS];
    int n_set = setting_refs(&c, refs);
    for (int i = 0; i < n_set; i++) {
        int64_t v;
        if (v3 && !strcmp(refs[i].key, "feat.version")) {
            *refs[i].field = FEAT_VERSION;
            continue;
        }
        if (v3 && (!strcmp(refs[i].key, "feat.figure") || !strcmp(refs[i].key, "feat.keep_aspect"))) {
            *refs[i].field = 0;
            continue;
        }
        if (!mf_find_setting(&f, refs[i].key, &v)) {
            if (refs[i].optional) {
                *refs[i].field = 0;
                continue;
            }
            rc = glm_fail(err, GLM_EINPUT, "%s: setting %s is missing", path, refs[i].key);
            goto out;
        }
        if (v < -(1LL << 30) || v > (1LL << 30)) {
            rc = glm_fail(err, GLM_EINPUT, "%s: setting %s = %lld out of range", path, refs[i].key, (long long)v);
            goto out;
        }
        *refs[i].field = (int)v;
    }
    /* The dictionary's settings came with it (absent: none). */
    int64_t kv;
    c.feat.kmeans = 0, c.feat.kmeans_patch = features_default_config().kmeans_patch;
    if (mf_find_setting(&f, "feat.kmeans", &kv)) c.feat.kmeans = kv < 0 || kv > KMEANS_MAX_K ? -1 : (int)kv;
    if (mf_find_setting(&f, "feat.kmeans_patch", &kv)) c.feat.kmeans_patch = kv < 0 || kv > KMEANS_MAX_PATCH ? -1 : (int)kv;
    GlmError why;
    if (model_check_config(&c, &why)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: %s", path, why.msg);
        goto out;
    }
    if (f.n_words != c.vocab) {
        rc = glm_fail(err, GLM_EINPUT, "%s: %d words stored, the config says %d", path, f.n_words, c.vocab);
        goto out;
    }
    /* The words go into output lines as they are: each must be what the
     * tokenizer makes (so no empty word, tab or newline), and none twice. */
    Vocab check;
    if (vocab_from_words(&check, (const char *const *)f.words, f.n_words, &why)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: %s", path, why.msg);
        goto out;
    }
    vocab_free(&check);

    /* Every tensor's shape before anything is allocated: a config in range
     * can still ask for hundreds of GB, and the file's tensors, which are
     * all there in memory, show whether it really holds that model. */
    ModelTensorSpec s[MODEL_N_TENSORS];
    const MfTensor *stored[MODEL_N_TENSORS];
    model_tensor_specs(&c, s);
    int n_present = 0;
    for (int i = 0; i < MODEL_N_TENSORS; i++) {
        stored[i] = NULL;
        if (!model_tensor_present(&s[i])) continue;
        n_present++;
        const MfTensor *t = stored[i] = mf_find_tensor(&f, s[i].name);
        int want_ndim = s[i].cols ? 2 : 1;
        if (!t) {
            rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s is missing", path, s[i].name);
            goto out;
        }
        if (t->ndim != want_ndim || t->dims[0] != s[i].rows || (want_ndim == 2 && t->dims[1] != s[i].cols)) {
            rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s has shape (%d%s%d), the config needs (%d, %d)",
                          path, s[i].name, t->dims[0], t->ndim > 1 ? ", " : "",
                          t->ndim > 1 ? t->dims[1] : 0, s[i].rows, s[i].cols);
            goto out;
        }
        /* non-finite weights would print "p":nan into JSON and blame the picture */
        for (size_t k = 0; k < spec_count(&s[i]); k++)
            if (!isfinite(t->data[k])) {
                rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s holds %s at entry %zu: the model is corrupt", path,
                              s[i].name, isnan(t->data[k]) ? "NaN" : "an infinity", k);
                goto out;
            }
    }
    const MfTensor *dict = NULL;
    if (c.feat.kmeans > 0) {
        const int pp = c.feat.kmeans_patch * c.feat.kmeans_patch, rows = 1 + pp + c.feat.kmeans;
        if (!(dict = mf_find_tensor(&f, MODEL_DICT_TENSOR))) {
            rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s (the patch dictionary) is missing", path, MODEL_DICT_TENSOR);
            goto out;
        }
        if (dict->ndim != 2 || dict->dims[0] != rows || dict->dims[1] != pp) {
            rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s is not of shape (%d, %d)", path, MODEL_DICT_TENSOR, rows, pp);
            goto out;
        }
        for (size_t k = 0; k < (size_t)rows * pp; k++)
            if (!isfinite(dict->data[k])) {
                rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s holds a non-finite value at entry %zu: the model is corrupt",
                              path, MODEL_DICT_TENSOR, k);
                goto out;
            }
    }
    int found = n_present + (dict != NULL);
    for (int i = 0; i < f.n_tensors; i++) {
        const char *name = f.tensors[i].name;
        if (!strncmp(name, "train.", 6)) continue;
        int known = dict && !strcmp(name, MODEL_DICT_TENSOR);
        for (int k = 0; k < MODEL_N_TENSORS; k++) known |= model_tensor_present(&s[k]) && !strcmp(name, s[k].name);
        if (!known || found-- == 0) {
            rc = glm_fail(err, GLM_EINPUT, "%s: tensor %s is %s", path, name,
                          known ? "stored twice" : "not part of this model");
            goto out;
        }
    }

    c.feat.dict = dict ? dict->data : NULL;
    if ((rc = alloc_model(m, &c, err)) != GLM_OK) goto out;
    if ((rc = copy_words(m, (const char *const *)f.words, f.n_words, err)) != GLM_OK) goto out;
    float **slot = view_slots(&m->p);
    for (int i = 0; i < MODEL_N_TENSORS; i++)
        if (stored[i]) memcpy(slot[i], stored[i]->data, spec_count(&s[i]) * sizeof(float));
out:
    mf_free(&f);
    if (rc) model_free(m);
    return rc;
}
