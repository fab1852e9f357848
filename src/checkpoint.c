/* checkpoint.c - the train.* settings and tensors of a checkpoint (see
 * checkpoint.h): options and state as 64-bit settings (floats bit for bit),
 * Adam's moments as two tensors beside the model's. */
#include "checkpoint.h"

#include <stdio.h>
#include <string.h>

/* A float kept bit for bit in an i64 setting. */
static int64_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (int64_t)u;
}

static float bits_float(int64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Every option, as (key, pointer, is_float). */
typedef struct {
    const char *key;
    void *field;
    char kind;      /* 'i' int, 'l' long, 'f' float, 'u' uint64 */
    int optional;   /* added after checkpoints existed: absent means the default;
                       2: also stored only when not 0, so runs without it write what they did before */
} OptRef;

static int option_refs(TrainOptions *o, OptRef r[CHECKPOINT_MAX_OPTIONS])
{
    const OptRef table[] = {
        {"train.opt.reward", &o->reward, 'i', 0},     {"train.opt.baseline", &o->baseline, 'i', 0},
        {"train.opt.entropy", &o->entropy, 'f', 0},   {"train.opt.rl_weight", &o->rl_weight, 'f', 0},
        {"train.opt.soft_mix", &o->soft_mix, 'f', 0}, {"train.opt.soft_warmup", &o->soft_warmup, 'l', 0}, {"train.opt.doubly", &o->doubly, 'f', 0},
        {"train.opt.batch", &o->batch, 'i', 0},       {"train.opt.lr", &o->lr, 'f', 0},
        {"train.opt.lr_decay", &o->lr_decay, 'f', 0}, {"train.opt.lr_decay_every", &o->lr_decay_every, 'l', 0},
        {"train.opt.warmup", &o->warmup, 'l', 0},     {"train.opt.clip", &o->clip, 'f', 0},
        {"train.opt.steps", &o->steps, 'l', 0},       {"train.opt.refs", &o->refs, 'i', 0},       {"train.opt.seed", &o->seed, 'u', 0},
        {"train.opt.min_count", &o->min_count, 'i', 1},
        {"train.opt.prior_supervise", &o->prior_supervise, 'f', 2},
    };
    _Static_assert(sizeof table / sizeof table[0] <= CHECKPOINT_MAX_OPTIONS, "room for every option");
    memcpy(r, table, sizeof table);
    return (int)(sizeof table / sizeof table[0]);
}


static int64_t opt_get(const OptRef *r)
{
    switch (r->kind) {
    case 'i': return *(int *)r->field;
    case 'l': return *(long *)r->field;
    case 'f': return float_bits(*(float *)r->field);
    default: return (int64_t)*(uint64_t *)r->field;
    }
}

static void opt_set(const OptRef *r, int64_t v)
{
    switch (r->kind) {
    case 'i': *(int *)r->field = (int)v; break;
    case 'l': *(long *)r->field = (long)v; break;
    case 'f': *(float *)r->field = bits_float(v); break;
    default: *(uint64_t *)r->field = (uint64_t)v; break;
    }
}

int checkpoint_option_settings(MfSetting *s, const TrainOptions *opt)
{
    TrainOptions o = *opt;
    OptRef refs[CHECKPOINT_MAX_OPTIONS];
    int n = option_refs(&o, refs), k = 0;
    for (int i = 0; i < n; i++) {
        const int64_t v = opt_get(&refs[i]);
        if (refs[i].optional == 2 && v == 0) continue;
        snprintf(s[k].key, sizeof s[k].key, "%s", refs[i].key);
        s[k++].value = v;
    }
    return k;
}

int checkpoint_save(const Trainer *t, const char *path, GlmError *err)
{
    MfSetting s[CHECKPOINT_MAX_OPTIONS + 8];
    const int n = checkpoint_option_settings(s, &t->opt);
    const struct { const char *key; int64_t v; } state[] = {
        {"train.step", t->step},
        {"train.rng_state", (int64_t)t->rng.state},
        {"train.rng_inc", (int64_t)t->rng.inc},
        {"train.baseline", float_bits(t->rl.avg)},
        {"train.baseline_set", t->rl.avg_set},
        {"train.adam_step", t->adam.step},
        {"train.best", float_bits(t->best)},
        {"train.best_set", t->best_set},
    };
    int ns = (int)(sizeof state / sizeof state[0]);
    for (int i = 0; i < ns; i++) {
        snprintf(s[n + i].key, sizeof s[n + i].key, "%s", state[i].key);
        s[n + i].value = state[i].v;
    }
    int P = (int)t->model->n_params;
    MfTensor moments[2] = {
        {.name = "train.adam_m", .ndim = 1, .dims = {P}, .data = t->adam.m},
        {.name = "train.adam_v", .ndim = 1, .dims = {P}, .data = t->adam.v},
    };
    return model_save_full(t->model, path, s, n + ns, moments, 2, err);
}

static int need_setting(const MfFile *f, const char *path, const char *key, int64_t *v, GlmError *err)
{
    if (mf_find_setting(f, key, v)) return GLM_OK;
    return glm_fail(err, GLM_EINPUT, "%s: not a training checkpoint (no %s)", path, key);
}

int checkpoint_options(TrainOptions *opt, const char *path, GlmError *err)
{
    MfFile f;
    int rc = mf_read(&f, path, err);
    if (rc) return rc;
    OptRef refs[CHECKPOINT_MAX_OPTIONS];
    int n = option_refs(opt, refs);
    for (int i = 0; i < n && rc == GLM_OK; i++) {
        int64_t v;
        if (refs[i].optional && !mf_find_setting(&f, refs[i].key, &v)) continue;   /* keeps opt's default */
        if ((rc = need_setting(&f, path, refs[i].key, &v, err)) == GLM_OK) opt_set(&refs[i], v);
    }
    mf_free(&f);
    return rc;
}

int checkpoint_restore(Trainer *t, const char *path, GlmError *err)
{
    MfFile f;
    int rc = mf_read(&f, path, err);
    if (rc) return rc;
    int64_t step, st, inc, base, base_set, adam_step, best, best_set;
    if ((rc = need_setting(&f, path, "train.step", &step, err)) ||
        (rc = need_setting(&f, path, "train.rng_state", &st, err)) ||
        (rc = need_setting(&f, path, "train.rng_inc", &inc, err)) ||
        (rc = need_setting(&f, path, "train.baseline", &base, err)) ||
        (rc = need_setting(&f, path, "train.baseline_set", &base_set, err)) ||
        (rc = need_setting(&f, path, "train.adam_step", &adam_step, err)) ||
        (rc = need_setting(&f, path, "train.best", &best, err)) ||
        (rc = need_setting(&f, path, "train.best_set", &best_set, err)))
        goto out;
    const MfTensor *mm = mf_find_tensor(&f, "train.adam_m"), *vv = mf_find_tensor(&f, "train.adam_v");
    if (!mm || !vv || mf_tensor_count(mm) != t->model->n_params || mf_tensor_count(vv) != t->model->n_params) {
        rc = glm_fail(err, GLM_EINPUT, "%s: the optimizer state is missing or does not fit the model", path);
        goto out;
    }
    memcpy(t->adam.m, mm->data, t->model->n_params * sizeof(float));
    memcpy(t->adam.v, vv->data, t->model->n_params * sizeof(float));
    t->adam.step = (long)adam_step;
    t->step = (long)step;
    t->rng.state = (uint64_t)st;
    t->rng.inc = (uint64_t)inc;
    t->rl.avg = bits_float(base);
    t->rl.avg_set = (int)base_set;
    t->best = bits_float(best);
    t->best_set = (int)best_set;
out:
    mf_free(&f);
    return rc;
}
