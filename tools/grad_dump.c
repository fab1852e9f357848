/* grad_dump.c - glimpse-grad_dump: what glimpse computes for one hard-attention
 * training step, written out so another implementation (tools/bench_torch.py,
 * PyTorch) can be checked against it tensor by tensor, and the data set it
 * trains on, as region vectors and token ids, so that implementation reads
 * exactly the numbers glimpse trains on.
 *
 *   glimpse-grad_dump export --model M --data DIR --out DATA.glm
 *       the training split of DIR with the model's features and vocabulary:
 *       x (n_images, L, F), ids (n_captions, seq_len), lengths (n_captions),
 *       caption_image (n_captions), image_first and image_count (n_images)
 *   glimpse-grad_dump step --model M --data DIR --out DUMP.glm [--offset K --batch B --seed S]
 *       one step of src/train.c's hard-attention recipe on captions K..K+B-1,
 *       built from the public API only (decoder.h, reinforce.h, optim.h):
 *       1. regions s_t ~ alpha_t drawn once (REGIONS_SAMPLE, the Rng of --seed),
 *          then the cross-entropy pass replayed on them (REGIONS_GIVEN) with
 *          the entropy bonus, and its backward (grad_xe.*)
 *       2. reinforce_rollout: greedy baseline, sampled rollout, CIDEr-D reward,
 *          replay; its gradient is added (grad.* is the total, before clipping)
 *       3. clipping and one Adam step at --lr (after.* the parameters after it)
 *       plus the batch, the regions, the rollout, rewards, baselines, weights
 *       and the losses (1-element tensors).
 *   glimpse-grad_dump ckpt --model M --data DIR --out START.ckpt
 *       a training checkpoint at step 0 from a trained model (the shapes
 *       preset's options, REINFORCE from the first step: --soft-warmup 0; the
 *       words renumbered to the order DIR's captions give them), so
 *       `glimpse train --resume START.ckpt` times steady-state training steps
 *       of that model (make bench-compare)
 *   glimpse-grad_dump decode --model M --data DIR --out CAPS.glm [--images N --beam K]
 *       the decoder part of captioning: search.h's beam search on the first N
 *       training images one at a time, timed (printed: images/s, ms per
 *       image; the features are computed before the clock starts); writes
 *       each caption's words (N, T) and lengths (N).
 * Both files use the model-file container (docs/model-format.md); ints are
 * stored as float32 (exact below 2^24).
 *
 * Errors: one line "glimpse-grad_dump: reason"; exit 2 for bad input, 1 for
 * a failure of the system. Outputs are written atomically (modelfile.h). */
#include <cblas.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "checkpoint.h"
#include "cli.h"
#include "dataset.h"
#include "decoder.h"
#include "model.h"
#include "modelfile.h"
#include "optim.h"
#include "reinforce.h"
#include "search.h"
#include "train.h"
#include "vocab.h"

#define PROG "glimpse-grad_dump"
#define MAX_OUT 128   /* tensors in one dump */

static void help(void)
{
    TrainOptions o = train_default_options();
    printf("usage: " PROG " export --model MODEL --data DIR --out DATA.glm\n"
           "       " PROG " step --model MODEL --data DIR --out DUMP.glm [options]\n"
           "       " PROG " decode --model MODEL --data DIR --out CAPS.glm [--images N --beam K]\n"
           "       " PROG " ckpt --model MODEL --data DIR --out START.ckpt\n"
           "\n"
           "export: the training split of DIR as glimpse trains on it (region vectors of\n"
           "the model's features, token ids of the model's vocabulary).\n"
           "step: loss, every gradient and the parameters after one clipped Adam step of\n"
           "the hard-attention training step (cross-entropy on given sampled regions with\n"
           "the entropy bonus; REINFORCE with the greedy baseline and CIDEr-D reward), for\n"
           "checking another implementation (tools/bench_torch.py --check).\n"
           "decode: beam search on the first N training images one at a time, timed,\n"
           "and the captions (tools/bench_torch.py --caption compares and times its own).\n"
           "ckpt: a checkpoint at step 0 of MODEL with the shapes preset's training options\n"
           "and no soft warm-up, for glimpse train --resume (make bench-compare).\n"
           "\n"
           "options:\n"
           "  --model FILE     a hard-attention model (required)\n"
           "  --data DIR       a data directory, its train split is used (required)\n"
           "  --out FILE       the output file (required)\n"
           "  --offset K       step: first caption of the batch (default 0)\n"
           "  --batch B        step: captions in the batch, K..K+B-1 (default 8)\n"
           "  --seed S         step: seed of the Rng that samples the regions (default 1)\n"
           "  --lr LR          step: Adam step size (default %g)\n"
           "  --entropy W      step: entropy bonus weight (default %g)\n"
           "  --rl-weight W    step: REINFORCE weight (default %g)\n"
           "  --clip N         step: gradient-norm limit (default %g)\n"
           "  --images N       decode: images (default 200)\n"
           "  --beam K         decode: beam width (default 3)\n"
           "  --help           this text\n",
           o.lr, o.entropy, o.rl_weight, o.clip);
}

typedef struct {
    MfTensor t[MAX_OUT];
    int n;
    float *owned[MAX_OUT];
    int n_owned;
} Out;

/* Adds a tensor over data (not copied; must live until the write). */
static void add(Out *o, const char *name, const float *data, int d0, int d1)
{
    GLM_ASSERT(o->n < MAX_OUT);
    MfTensor *t = &o->t[o->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = d1 > 0 ? 2 : 1;
    t->dims[0] = d0;
    t->dims[1] = d1;
    t->data = (float *)data;
}

/* An owned float copy of n ints (NULL when out of memory). */
static float *ints(Out *o, const int *v, long n)
{
    float *f = glm_malloc_array((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!f) return NULL;
    for (long i = 0; i < n; i++) f[i] = (float)v[i];
    o->owned[o->n_owned++] = f;
    return f;
}

static float *scalar(Out *o, double v)
{
    float *f = glm_malloc_array(1, sizeof(float));
    if (!f) return NULL;
    f[0] = (float)v;
    o->owned[o->n_owned++] = f;
    return f;
}

static void out_free(Out *o)
{
    for (int i = 0; i < o->n_owned; i++) free(o->owned[i]);
}

/* Every tensor of params view p, named PREFIX.NAME. */
static void add_params(Out *o, const char *prefix, const ModelConfig *cfg, float *block)
{
    ModelTensorSpec specs[MODEL_N_TENSORS];
    model_tensor_specs(cfg, specs);
    size_t off = 0;
    for (int k = 0; k < MODEL_N_TENSORS; k++) {
        char name[MF_MAX_NAME + 1];
        snprintf(name, sizeof name, "%s.%s", prefix, specs[k].name);
        add(o, name, block + off, specs[k].rows, specs[k].cols);
        off += (size_t)specs[k].rows * (specs[k].cols ? specs[k].cols : 1);
    }
}

static int write_out(const char *path, Out *o, GlmError *err)
{
    MfFile f = {.n_tensors = o->n, .tensors = o->t};
    return mf_write(path, &f, err);
}

int main(int argc, char **argv)
{
    blas_kernel_ensure(argv);   /* the kernels glimpse itself uses */
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help();
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "export") && strcmp(argv[1], "step") && strcmp(argv[1], "decode") &&
                     strcmp(argv[1], "ckpt"))) {
        fprintf(stderr, PROG ": give export, step, decode or ckpt first (see --help)\n");
        return 2;
    }
    const int step_mode = !strcmp(argv[1], "step"), decode_mode = !strcmp(argv[1], "decode");
    const int ckpt_mode = !strcmp(argv[1], "ckpt");
    TrainOptions to = train_default_options();
    const char *model_path = NULL, *out = NULL;
    CliData data = {0};
    long offset = 0, batch = 8, seed = 1, n_images = 200, beam = 3;
    enum { O_MODEL = 256, O_DATA, O_OUT, O_OFFSET, O_BATCH, O_SEED, O_LR, O_ENTROPY, O_RL, O_CLIP, O_IMAGES, O_BEAM };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA}, {"out", 1, 0, O_OUT}, {"offset", 1, 0, O_OFFSET},
        {"batch", 1, 0, O_BATCH}, {"seed", 1, 0, O_SEED}, {"lr", 1, 0, O_LR}, {"entropy", 1, 0, O_ENTROPY},
        {"rl-weight", 1, 0, O_RL}, {"clip", 1, 0, O_CLIP}, {"images", 1, 0, O_IMAGES}, {"beam", 1, 0, O_BEAM},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    int opt;
    long v;
    double f;
    optind = 2;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: model_path = optarg; break;
        case O_DATA: data.data_dir = optarg; break;
        case O_OUT: out = optarg; break;
        case O_OFFSET: if (!cli_parse_int("--offset", optarg, 0, 1000000000, &v)) return 2; offset = v; break;
        case O_BATCH: if (!cli_parse_int("--batch", optarg, 1, 4096, &v)) return 2; batch = v; break;
        case O_SEED: if (!cli_parse_int("--seed", optarg, 0, 0x7fffffffL, &v)) return 2; seed = v; break;
        case O_LR: if (!cli_parse_float("--lr", optarg, 1e-7, 10, &f)) return 2; to.lr = (float)f; break;
        case O_ENTROPY: if (!cli_parse_float("--entropy", optarg, 0, 100, &f)) return 2; to.entropy = (float)f; break;
        case O_RL: if (!cli_parse_float("--rl-weight", optarg, 0, 1000, &f)) return 2; to.rl_weight = (float)f; break;
        case O_CLIP: if (!cli_parse_float("--clip", optarg, 0, 1e9, &f)) return 2; to.clip = (float)f; break;
        case O_IMAGES: if (!cli_parse_int("--images", optarg, 1, 1000000, &v)) return 2; n_images = v; break;
        case O_BEAM: if (!cli_parse_int("--beam", optarg, 1, 64, &v)) return 2; beam = v; break;
        case 'h': help(); return 0;
        default: fprintf(stderr, PROG ": unknown or incomplete option '%s' (see --help)\n", argv[optind - 1]); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!model_path || !data.data_dir || !out) { fprintf(stderr, PROG ": --model, --data and --out are required\n"); return 2; }

    GlmError err = {0};
    Model m = {0};
    Vocab vocab = {0};
    Dataset d = {0};
    DecoderWork w = {0};
    Reinforce rl = {0};
    AdamState adam = {0};
    Out o = {0};
    float *x = NULL, *grad = NULL, *bx = NULL;
    int *sizes = NULL, *btok = NULL, *blen = NULL, *bimg = NULL, *regions = NULL, *iscratch = NULL;
    int status = 1, rc;
    openblas_set_num_threads(1);
    if ((rc = model_load(&m, model_path, &err)) ||
        (rc = vocab_from_words(&vocab, (const char *const *)m.words, m.cfg.vocab, &err))) {
        status = cli_report(&err);
        goto done;
    }
    if ((step_mode || ckpt_mode) && m.cfg.attention != ATTN_HARD) {
        fprintf(stderr, PROG ": %s: %s is for hard-attention models\n", model_path, argv[1]);
        status = 2;
        goto done;
    }
    if ((rc = cli_load_split(&d, &data, "train", 0, NULL))) { status = glm_exit_code(rc); goto done; }
    if ((rc = dataset_encode(&d, &vocab, m.cfg.max_len - 1, &err))) { status = cli_report(&err); goto done; }
    if ((rc = cli_split_features(&x, &sizes, &d, &data, &m.cfg.feat, "train", NULL, NULL))) {
        status = glm_exit_code(rc);
        goto done;
    }
    const int L = features_regions(&m.cfg.feat), F = features_dim(&m.cfg.feat), T = m.cfg.max_len;
    const size_t LF = (size_t)L * F;

    if (ckpt_mode) {
        /* glimpse train --resume wants the vocabulary these captions make,
         * ids in its order (by count); a model trained on another sample of
         * the same generator has the same words in another order. Renumbered
         * (the rows of embed, out_Lo and out_b moved with their words), the
         * model computes the same function. */
        TrainOptions co = train_default_options();
        ModelConfig ignored = m.cfg;
        long val_every;
        train_preset("shapes", &co, &ignored, &val_every);
        co.soft_warmup = 0;
        Vocab dv = {0};
        Model m2 = {0};
        Trainer tr = {0};
        Rng unused;
        rng_seed(&unused, 1, 0);
        if ((rc = vocab_build(&dv, d.captions, d.n_captions, co.min_count, &err)) ||
            (rc = model_init(&m2, &m.cfg, vocab_words(&dv), &unused, &err))) {
            vocab_free(&dv);
            status = cli_report(&err);
            goto done;
        }
        int bad = vocab_size(&dv) != m.cfg.vocab;
        memcpy(m2.params, m.params, m.n_params * sizeof(float));
        const int E = m.cfg.embed;
        for (int i = 0; i < vocab_size(&dv) && !bad; i++) {
            const int old = vocab_id(&vocab, vocab_word(&dv, i));
            if (old == VOCAB_UNK && i != VOCAB_UNK) bad = 1;
            memcpy(m2.p.embed + (size_t)i * E, m.p.embed + (size_t)old * E, (size_t)E * sizeof(float));
            memcpy(m2.p.out_Lo + (size_t)i * E, m.p.out_Lo + (size_t)old * E, (size_t)E * sizeof(float));
            m2.p.out_b[i] = m.p.out_b[old];
        }
        if (bad) {
            fprintf(stderr, PROG ": %s: the training captions of %s make other words than the model's\n", model_path,
                    data.data_dir);
            status = 2;
        } else if ((rc = dataset_encode(&d, &dv, m.cfg.max_len - 1, &err)) ||
                   (rc = trainer_init(&tr, &m2, &d, x, &co, &err)) || (rc = checkpoint_save(&tr, out, &err))) {
            status = cli_report(&err);
        } else {
            status = 0;
        }
        trainer_free(&tr);
        model_free(&m2);
        vocab_free(&dv);
        goto done;
    }
    if (decode_mode) {
        const int N = (int)GLM_MIN(n_images, (long)d.n_images), K = (int)beam;
        Search sr = {0};
        float *words = glm_calloc_array((size_t)N * T, sizeof(float));
        float *lens = glm_calloc_array((size_t)N, sizeof(float));
        if (words) o.owned[o.n_owned++] = words;
        if (lens) o.owned[o.n_owned++] = lens;
        if (!words || !lens || (rc = search_init(&sr, &m.cfg, 1, K, &err))) {
            status = cli_report(words && lens ? &err : &(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"});
            search_free(&sr);
            goto done;
        }
        const SearchOptions so = {.beam = K};
        const double t0 = glm_seconds();
        for (int i = 0; i < N; i++) {
            search_run(&sr, &m.p, x + (size_t)i * LF, 1, &so);
            const SearchResult *r = &sr.results[0];
            for (int k = 0; k < r->len; k++) words[(size_t)i * T + k] = (float)r->words[k];
            lens[i] = (float)r->len;
        }
        const double el = glm_seconds() - t0;
        search_free(&sr);
        printf("glimpse decode: %d images, beam %d, one at a time: %.1f images/s (%.3f ms per image)\n", N, K,
               N / el, 1e3 * el / N);
        add(&o, "beam.words", words, N, T);
        add(&o, "beam.lengths", lens, N, 0);
        add(&o, "beam.width", scalar(&o, K), 1, 0);
        for (int i = 0; i < o.n; i++)
            if (!o.t[i].data) { status = cli_report(&(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"}); goto done; }
        if ((rc = write_out(out, &o, &err))) { status = cli_report(&err); goto done; }
        status = 0;
        goto done;
    }
    if (!step_mode) {
        int *first = glm_malloc_array((size_t)d.n_images, sizeof(int));
        int *count = glm_malloc_array((size_t)d.n_images, sizeof(int));
        if (!first || !count) {
            free(first), free(count);
            status = cli_report(&(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"});
            goto done;
        }
        for (int i = 0; i < d.n_images; i++) first[i] = d.images[i].first, count[i] = d.images[i].n_captions;
        add(&o, "x", x, d.n_images, (int)LF);
        add(&o, "ids", ints(&o, d.ids, (long)d.n_captions * d.seq_len), d.n_captions, d.seq_len);
        add(&o, "lengths", ints(&o, d.lengths, d.n_captions), d.n_captions, 0);
        add(&o, "caption_image", ints(&o, d.caption_image, d.n_captions), d.n_captions, 0);
        add(&o, "image_first", ints(&o, first, d.n_images), d.n_images, 0);
        add(&o, "image_count", ints(&o, count, d.n_images), d.n_images, 0);
        add(&o, "regions", scalar(&o, L), 1, 0);
        add(&o, "dim", scalar(&o, F), 1, 0);
        free(first);
        free(count);
        for (int i = 0; i < o.n; i++)
            if (!o.t[i].data) { status = cli_report(&(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"}); goto done; }
        if ((rc = write_out(out, &o, &err))) { status = cli_report(&err); goto done; }
        status = 0;
        goto done;
    }

    /* step: the batch, as src/train.c's fill_batch makes it (captions in order from --offset) */
    const int B = (int)batch;
    bx = glm_malloc_array((size_t)B * LF, sizeof(float));
    btok = glm_calloc_array((size_t)B * T, sizeof(int));
    blen = glm_calloc_array((size_t)B, sizeof(int));
    bimg = glm_calloc_array((size_t)B, sizeof(int));
    regions = glm_calloc_array((size_t)B * T, sizeof(int));
    iscratch = glm_calloc_array((size_t)B * T, sizeof(int));
    grad = glm_calloc_array(m.n_params, sizeof(float));
    float *grad_xe = glm_calloc_array(m.n_params, sizeof(float));
    if (grad_xe) o.owned[o.n_owned++] = grad_xe;
    if (!bx || !btok || !blen || !bimg || !regions || !iscratch || !grad || !grad_xe) {
        status = cli_report(&(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"});
        goto done;
    }
    int32_t *tok32 = (int32_t *)iscratch;   /* int and int32_t are the same here */
    GLM_ASSERT(sizeof(int) == sizeof(int32_t));
    long ntok = 0;
    for (int j = 0; j < B; j++) {
        const int c = (int)((offset + j) % d.n_captions), img = d.caption_image[c];
        bimg[j] = img;
        memcpy(bx + (size_t)j * LF, x + (size_t)img * LF, LF * sizeof(float));
        const int len = GLM_MIN(d.lengths[c] - 1, T);
        for (int k = 0; k < len; k++) btok[(size_t)j * T + k] = d.ids[(size_t)c * d.seq_len + 1 + k];
        blen[j] = len;
        ntok += len;
    }
    for (long k = 0; k < (long)B * T; k++) tok32[k] = btok[k];
    if ((rc = decoder_work_init(&w, &m.cfg, B, T, &err)) || (rc = reinforce_init(&rl, &m.cfg, &d, B, &err)) ||
        (rc = optim_adam_init(&adam, m.n_params, &err))) {
        status = cli_report(&err);
        goto done;
    }
    Rng rng;
    rng_seed(&rng, (uint64_t)seed, 1);
    ModelParams g;
    model_params_view(&g, grad, &m.cfg);

    /* 1. the cross-entropy pass: regions drawn once, then replayed as given */
    const DecoderLoss xe = {.nll = 1.0f / (float)ntok, .entropy = to.entropy / (float)ntok};
    const DecoderPick sample = {.attention = ATTN_HARD, .mode = REGIONS_SAMPLE, .rng = &rng};
    decoder_forward(&w, &m.p, bx, tok32, blen, B, T, &sample, &xe);
    for (int j = 0; j < B; j++)
        for (int k = 0; k < T; k++) regions[(size_t)j * T + k] = k < w.T ? w.regions[(size_t)j * w.T_max + k] : 0;
    const DecoderPick given = {.attention = ATTN_HARD, .mode = REGIONS_GIVEN, .given = regions};
    decoder_forward(&w, &m.p, bx, tok32, blen, B, T, &given, &xe);
    const DecoderStats xs = w.stats;
    decoder_backward(&g, NULL, &w, &m.p);
    memcpy(grad_xe, grad, m.n_params * sizeof(float));

    /* 2. REINFORCE: greedy baseline, rollout, reward, replay */
    const ReinforceOptions ro = {.reward = REWARD_CIDER, .baseline = BASELINE_GREEDY, .weight = to.rl_weight};
    ReinforceStats rs = {0};
    reinforce_rollout(&rl, &ro, &w, &g, &m.p, bx, bimg, B, &rng, &rs);

    /* 3. clipping and one Adam step (a copy: grad.* is kept before clipping) */
    float *after = glm_malloc_array(m.n_params, sizeof(float));
    float *clipped = glm_malloc_array(m.n_params, sizeof(float));
    if (after) o.owned[o.n_owned++] = after;
    if (clipped) o.owned[o.n_owned++] = clipped;
    if (!after || !clipped) { status = cli_report(&(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"}); goto done; }
    memcpy(clipped, grad, m.n_params * sizeof(float));
    memcpy(after, m.params, m.n_params * sizeof(float));
    const float norm = optim_clip_grad_norm(clipped, m.n_params, to.clip);
    AdamConfig ac = optim_adam_default();
    ac.lr = to.lr;
    optim_adam_step(after, &adam, clipped, &ac);

    add(&o, "batch.images", ints(&o, bimg, B), B, 0);
    add(&o, "batch.tokens", ints(&o, btok, (long)B * T), B, T);
    add(&o, "batch.lengths", ints(&o, blen, B), B, 0);
    add(&o, "xe.regions", ints(&o, regions, (long)B * T), B, T);
    add(&o, "xe.loss", scalar(&o, xs.loss), 1, 0);
    add(&o, "xe.nll", scalar(&o, xs.nll), 1, 0);
    add(&o, "xe.entropy", scalar(&o, xs.entropy), 1, 0);
    add(&o, "rl.tokens", ints(&o, rl.rtok, (long)B * T), B, T);
    add(&o, "rl.lengths", ints(&o, rl.rlen, B), B, 0);
    add(&o, "rl.regions", ints(&o, rl.rreg, (long)B * T), B, T);
    add(&o, "rl.reward", rl.reward, B, 0);
    add(&o, "rl.baseline", rl.base, B, 0);
    add(&o, "rl.weight", rl.weight, B, 0);
    add(&o, "rl.loss", scalar(&o, rs.loss), 1, 0);
    add(&o, "opt.lr", scalar(&o, to.lr), 1, 0);
    add(&o, "opt.entropy", scalar(&o, to.entropy), 1, 0);
    add(&o, "opt.rl_weight", scalar(&o, to.rl_weight), 1, 0);
    add(&o, "opt.clip", scalar(&o, to.clip), 1, 0);
    add(&o, "grad_norm", scalar(&o, norm), 1, 0);
    add_params(&o, "grad_xe", &m.cfg, grad_xe);
    add_params(&o, "grad", &m.cfg, grad);
    add_params(&o, "after", &m.cfg, after);
    for (int i = 0; i < o.n; i++)
        if (!o.t[i].data) { status = cli_report(&(GlmError){.code = GLM_ENOMEM, .msg = "out of memory"}); goto done; }
    if ((rc = write_out(out, &o, &err))) { status = cli_report(&err); goto done; }
    status = 0;
done:
    out_free(&o);
    optim_adam_free(&adam);
    reinforce_free(&rl);
    decoder_work_free(&w);
    free(x);
    free(sizes);
    free(grad);
    free(bx);
    free(btok);
    free(blen);
    free(bimg);
    free(regions);
    free(iscratch);
    dataset_free(&d);
    vocab_free(&vocab);
    model_free(&m);
    return status;
}
