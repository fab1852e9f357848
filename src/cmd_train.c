/* cmd_train.c - `glimpse train`: data, vocabulary and features in; a
 * trained model, checkpoints and progress out. The step itself is train.c. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "dataset.h"
#include "dataset_objects.h"
#include "evaluate.h"
#include "kmeans.h"
#include "pool.h"
#include "checkpoint.h"
#include "prior.h"
#include "train.h"
#include "vocab.h"

#define DEFAULT_VAL_EVERY 500
#define DEFAULT_CKPT_EVERY 500

static void help(void)
{
    TrainOptions o = train_default_options();
    ModelConfig c = model_default_config();
    printf("usage: glimpse train (--data DIR | --captions FILE --images DIR) --out MODEL [options]\n"
           "\n"
           "Trains a captioner. Hard attention picks one region per word; the picking is\n"
           "learned with REINFORCE on a caption-overlap reward: (r - b) grad log alpha(s).\n"
           "The best model by validation is written to MODEL, the latest state to\n"
           "MODEL.ckpt (for --resume).\n"
           "\n"
           "data:\n"
           "  --data DIR            a glimpse data set (train.txt, val.txt, captions.tsv, images/)\n"
           "  --captions FILE       Flickr8k token file or COCO captions JSON, with --images DIR\n"
           "  --train-list FILE     image names for training (default: all), with --captions\n"
           "  --val-list FILE       image names for validation (default: none)\n"
           "  --strict              any skipped line or image is an error (exit 2)\n"
           "  --min-count N         words seen fewer times become <unk> (default %d)\n"
           "\n"
           "training:\n"
           "  --preset NAME         the recipe of a shipped model (" TRAIN_PRESETS "): its steps,\n"
           "                        schedule, seed, --refs, --val-every and model and feature\n"
           "                        sizes; other options override it (default: none)\n"
           "  --attention KIND      hard or soft (default hard); ablations: random (a region\n"
           "                        drawn uniformly, nothing learns where to look) or mean\n"
           "                        (the mean of all regions); these two get no REINFORCE\n"
           "  --gate                soft attention: scale the context by the gate\n"
           "                        beta_t = sigmoid(w . h_{t-1} + b) (paper sec. 4.2.1) (default: off)\n"
           "  --reward R            cider, bleu4, f1 or loglik (default %s)\n"
           "  --baseline B          greedy, mean or none (default %s)\n"
           "  --entropy L           entropy bonus weight (default %g)\n"
           "  --rl-weight L         REINFORCE weight (default %g)\n"
           "  --soft-mix P          chance of a soft-attention batch, hard only (default %g)\n"
           "  --soft-warmup N       hard only: the first N steps are soft batches (default %ld)\n"
           "  --refs N              train on each image's first N references, 0 all; rewards\n"
           "                        still use all of them (default %d)\n"
           "  --doubly L            doubly stochastic penalty, soft only (default %g)\n"
           "  --prior-supervise L   with --prior 1 on data with objects.tsv: pull the prior's\n"
           "                        softmax toward the regions holding objects, weight L per\n"
           "                        image (attention correctness, Liu et al. 2017) (default %g)\n"
           "  --steps N             train until step N (default %ld)\n"
           "  --epochs N            or: N passes over the training captions\n"
           "  --batch B             captions per step (default %d)\n"
           "  --lr X                peak learning rate (default %g)\n"
           "  --lr-decay X          lr factor per --lr-decay-every steps (default %g per %ld)\n"
           "  --warmup N            linear warm-up steps (default %ld)\n"
           "  --clip X              gradient-norm limit, 0 for none (default %g)\n"
           "  --seed S              the one seed of every random choice (default %u)\n"
           "  --threads T           workers, each on a shard of the batch, 1..64 (default 1);\n"
           "                        the same T gives the same bytes, another T differs only in\n"
           "                        the rounding of the gradient sum (OpenBLAS runs single-threaded)\n"
           "  --val-every N         validate every N steps and at the end, 0 never (default %d)\n"
           "  --ckpt-every N        write MODEL.ckpt every N steps; it is always written at the\n"
           "                        end, so 0 means only then (default %d)\n"
           "  --resume FILE         continue from a checkpoint with its model and training\n"
           "                        options; only --steps/--epochs, --val-every, --ckpt-every,\n"
           "                        --bar, --threads, --out, -q and the data options may be\n"
           "                        given\n"
           "                        (any other option is refused)\n"
           "\n"
           "model:\n"
           "  --hidden H --embed E --proj D --att A   sizes (default %d %d %d %d)\n"
           "  --max-len T           longest caption, counting the end (default %d)\n"
           "  --init KIND           initial LSTM state: mean (of the regions, as in the paper) or\n"
           "                        constant (the image reaches the decoder only through the\n"
           "                        regions it picks) (default %s)\n"
           "  --prior N             1: a predicted attention prior, an MLP on each region whose\n"
           "                        score pi0_i is added to every step's attention logits,\n"
           "                        learned jointly (hard or soft attention) (default %d)\n"
           "  --kmeans K            a learned feature block: K patch centroids found by spherical\n"
           "                        k-means on whitened patches of the training pictures' figure\n"
           "                        maps (Coates et al. 2011; kmeans.h), stored in the model, 0\n"
           "                        for none (default %d)\n"
           "  --kmeans-patch P      their patch side in input pixels (default %d)\n"
           "  --bar SPEC            quality bars, e.g. semantic=0.95,grounding=0.90 (also object=X):\n"
           "                        the first validation that meets them all is reported with\n"
           "                        its step and wall time (default: none; the presets set the\n"
           "                        shipped models' bars: shapes semantic=0.95,grounding=0.90,\n"
           "                        fashion object=0.85,grounding=0.90)\n"
           "features (the same as glimpse regions'):\n",
           VOCAB_DEFAULT_MIN_COUNT, reinforce_reward_name(o.reward), reinforce_baseline_name(o.baseline),
           o.entropy, o.rl_weight, o.soft_mix, o.soft_warmup, o.refs, o.doubly, o.prior_supervise, o.steps, o.batch, o.lr, o.lr_decay,
           o.lr_decay_every, o.warmup, o.clip, (unsigned)o.seed, DEFAULT_VAL_EVERY, DEFAULT_CKPT_EVERY, c.hidden,
           c.embed, c.proj, c.att, c.max_len, c.init_mean ? "mean" : "constant", c.prior, c.feat.kmeans,
           c.feat.kmeans_patch);
    cli_feature_help(&c.feat);
    printf("\n"
           "  -q, --quiet           no progress output\n"
           "  -h, --help            this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure (training diverged: the last checkpoint is\n"
           "kept), 2 bad usage or bad input (checked before training starts).\n");
}

static const char *attn_name(int kind)
{
    static const char *names[] = {"hard", "soft", "random", "mean"};
    return kind >= 0 && kind < 4 ? names[kind] : "?";
}

/* Feature extraction progress: an updating line on a terminal, one line
 * at the end otherwise. */
static void progress_features(void *ctx, int done, int total)
{
    if (!*(int *)ctx) return;
    if (isatty(2)) fprintf(stderr, "\rglimpse: features %d/%d%s", done, total, done == total ? "\n" : "");
    else if (done == total) fprintf(stderr, "glimpse: features of %d images\n", total);
}

/* What validation maximises: the scene accuracies when the data has them
 * (what a demanding user of generated data cares about), else CIDEr-D. */
static float val_score(const EvalResult *r)
{
    if (r->has_scenes) return (float)(r->semantic_accuracy + r->grounding_accuracy);
    return (float)r->scores.cider;
}

/* Quality bars: validation accuracies a run is meant to reach. The first
 * validation that meets all of them is reported with the wall time, so a
 * run says how long it took to be good enough (issue 13, time to quality).
 * The presets' bars are the shipped models' (README, Results). */
typedef struct {
    double semantic, object, grounding;   /* -1: no bar on this accuracy */
    int set, met;
} Bars;

static const struct { const char *preset, *bars; } preset_bars[] = {
    {"shapes", "semantic=0.95,grounding=0.90"},
    {"fashion", "object=0.85,grounding=0.90"},
};

/* "semantic=X,object=X,grounding=X", any of them, in any order. */
static int parse_bars(Bars *b, const char *spec)
{
    Bars out = {.semantic = -1, .object = -1, .grounding = -1};
    const char *p = spec;
    while (*p) {
        char name[16];
        double v;
        int used;
        if (sscanf(p, "%15[a-z]=%lf%n", name, &v, &used) != 2 || v < 0 || v > 1) return 0;
        if (!strcmp(name, "semantic")) out.semantic = v;
        else if (!strcmp(name, "object")) out.object = v;
        else if (!strcmp(name, "grounding")) out.grounding = v;
        else return 0;
        p += used;
        if (*p == ',') p++;
        else if (*p) return 0;
    }
    out.set = out.semantic >= 0 || out.object >= 0 || out.grounding >= 0;
    *b = out;
    return 1;
}

static void print_bars(FILE *f, const Bars *b)
{
    const char *sep = "";
    if (b->semantic >= 0) fprintf(f, "%ssemantic >= %.2f", sep, b->semantic), sep = ", ";
    if (b->object >= 0) fprintf(f, "%sobject >= %.2f", sep, b->object), sep = ", ";
    if (b->grounding >= 0) fprintf(f, "%sgrounding >= %.2f", sep, b->grounding);
}

static int bars_met(const Bars *b, const EvalResult *r)
{
    return b->set && r->has_scenes && r->semantic_accuracy >= b->semantic && r->object_accuracy >= b->object &&
           r->grounding_accuracy >= b->grounding;
}

static void print_val(FILE *f, long step, const EvalResult *r, int best)
{
    fprintf(f, "glimpse: step %ld val: BLEU-4 %.3f CIDEr-D %.3f", step, r->scores.bleu[3], r->scores.cider);
    if (r->has_scenes)
        fprintf(f, " semantic %.3f object %.3f grounding %.3f", r->semantic_accuracy, r->object_accuracy,
                r->grounding_accuracy);
    fprintf(f, "%s\n", best ? " (best)" : "");
}

/* --prior-supervise: *out (n_images, L) the prior's targets of every
 * training image (prior_targets, the regions holding its objects, objs).
 * Returns 0, or 1 after printing why (out of memory). */
static int prior_targets_of(float **out, const Dataset *d, const int *sizes, const DatasetObjects *objs,
                            const FeatConfig *fc, int show)
{
    const int L = features_regions(fc);
    float *q = *out = glm_calloc_array((size_t)d->n_images * L, sizeof(float));
    if (!q) {
        cli_error("out of memory for the prior's targets");
        return 1;
    }
    int none = 0;
    for (int i = 0; i < d->n_images; i++) {
        int n;
        const SceneObject *o = dataset_objects_find(objs, d->images[i].name, &n);
        none += prior_targets(q + (size_t)i * L, fc, sizes[2 * i], sizes[2 * i + 1], o, n) == 0;
    }
    if (show && none) fprintf(stderr, "glimpse: %d training images have no object region: no prior target\n", none);
    return 0;
}

/* The model with the options that trained it (glimpse info shows them). */
static int save_model(const Model *m, const TrainOptions *o, const char *path, GlmError *err)
{
    MfSetting s[CHECKPOINT_MAX_OPTIONS];
    const int n = checkpoint_option_settings(s, o);
    return model_save_full(m, path, s, n, NULL, 0, err);
}

enum {
    O_DATA = 256, O_CAPTIONS, O_IMAGES, O_TRAIN_LIST, O_VAL_LIST, O_STRICT, O_MIN_COUNT, O_OUT,
    O_REFS, O_SOFT_WARMUP, O_ATTENTION, O_REWARD, O_BASELINE, O_ENTROPY, O_RL, O_SOFTMIX, O_DOUBLY, O_STEPS, O_EPOCHS,
    O_BATCH, O_LR, O_LR_DECAY, O_LR_DECAY_EVERY, O_WARMUP, O_CLIP, O_SEED, O_THREADS, O_RESUME,
    O_VAL_EVERY, O_CKPT_EVERY, O_HIDDEN, O_EMBED, O_PROJ, O_ATT, O_MAXLEN, O_INIT, O_PRESET, O_GATE,
    O_PRIOR, O_PRIOR_SUPERVISE,
    O_KMEANS, O_KMEANS_PATCH, O_BAR,
};

/* The options that --resume allows: the run's model and training options
 * come from the checkpoint, and a different value would be ignored. */
static int resume_allows(int opt)
{
    switch (opt) {
    case O_DATA: case O_CAPTIONS: case O_IMAGES: case O_TRAIN_LIST: case O_VAL_LIST: case O_STRICT:
    case O_OUT: case O_STEPS: case O_EPOCHS: case O_THREADS: case O_RESUME: case O_VAL_EVERY:
    case O_CKPT_EVERY: case O_BAR: case 'q': case 'h':
        return 1;
    default:
        return 0;
    }
}

static const char *option_name(const struct option *opts, int val)
{
    for (; opts->name; opts++)
        if (opts->val == val) return opts->name;
    return "?";
}

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", 1, 0, O_DATA}, {"captions", 1, 0, O_CAPTIONS}, {"images", 1, 0, O_IMAGES},
        {"train-list", 1, 0, O_TRAIN_LIST}, {"val-list", 1, 0, O_VAL_LIST}, {"strict", 0, 0, O_STRICT},
        {"min-count", 1, 0, O_MIN_COUNT}, {"out", 1, 0, O_OUT}, {"attention", 1, 0, O_ATTENTION},
        {"reward", 1, 0, O_REWARD}, {"baseline", 1, 0, O_BASELINE}, {"entropy", 1, 0, O_ENTROPY},
        {"rl-weight", 1, 0, O_RL}, {"soft-mix", 1, 0, O_SOFTMIX}, {"soft-warmup", 1, 0, O_SOFT_WARMUP}, {"refs", 1, 0, O_REFS}, {"doubly", 1, 0, O_DOUBLY},
        {"steps", 1, 0, O_STEPS}, {"epochs", 1, 0, O_EPOCHS}, {"batch", 1, 0, O_BATCH},
        {"lr", 1, 0, O_LR}, {"lr-decay", 1, 0, O_LR_DECAY}, {"lr-decay-every", 1, 0, O_LR_DECAY_EVERY},
        {"warmup", 1, 0, O_WARMUP}, {"clip", 1, 0, O_CLIP}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"resume", 1, 0, O_RESUME}, {"val-every", 1, 0, O_VAL_EVERY},
        {"ckpt-every", 1, 0, O_CKPT_EVERY}, {"hidden", 1, 0, O_HIDDEN}, {"embed", 1, 0, O_EMBED},
        {"proj", 1, 0, O_PROJ}, {"att", 1, 0, O_ATT}, {"max-len", 1, 0, O_MAXLEN},
        {"init", 1, 0, O_INIT}, {"preset", 1, 0, O_PRESET}, {"gate", 0, 0, O_GATE},
        {"prior", 1, 0, O_PRIOR}, {"prior-supervise", 1, 0, O_PRIOR_SUPERVISE},
        {"kmeans", 1, 0, O_KMEANS}, {"kmeans-patch", 1, 0, O_KMEANS_PATCH}, {"bar", 1, 0, O_BAR}, CLI_FEATURE_OPTIONS, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    TrainOptions o = train_default_options();
    ModelConfig mc = model_default_config();
    CliData data = {0};
    const char *out = NULL, *resume = NULL;
    long epochs = 0, threads = 1, val_every = DEFAULT_VAL_EVERY;
    long ckpt_every = DEFAULT_CKPT_EVERY, steps_given = 0;
    int quiet = 0, opt, fixed = 0;   /* fixed: the first option --resume does not allow */
    long v;
    double f;
    /* A preset first, whatever its place, so that every other option
     * overrides it. */
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    Bars bars = {0};
    while ((opt = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        if (opt != O_PRESET) continue;
        if (!train_preset(optarg, &o, &mc, &val_every))
            return cli_usage_error("train", "--preset: '%s' is not one of " TRAIN_PRESETS, optarg);
        for (size_t i = 0; i < sizeof preset_bars / sizeof preset_bars[0]; i++)
            if (!strcmp(optarg, preset_bars[i].preset)) parse_bars(&bars, preset_bars[i].bars);
    }
    optind = 1;
#define INT_OPT(name, lo, hi, dst) if (!cli_parse_int(name, optarg, lo, hi, &v)) return 2; dst = v; break
#define FLT_OPT(name, lo, hi, dst) if (!cli_parse_float(name, optarg, lo, hi, &f)) return 2; dst = (float)f; break
    while ((opt = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        if (!fixed && !resume_allows(opt) && opt != '?' && opt != ':') fixed = opt;
        const int feat = cli_feature_option(&mc.feat, opt, optarg);
        if (feat < 0) return 2;
        if (feat) continue;
        switch (opt) {
        case O_PRESET: break;   /* applied above */
        case O_GATE: mc.gate = 1; break;
        case O_KMEANS: INT_OPT("--kmeans", 0, KMEANS_MAX_K, mc.feat.kmeans);
        case O_KMEANS_PATCH: INT_OPT("--kmeans-patch", 2, KMEANS_MAX_PATCH, mc.feat.kmeans_patch);
        case O_BAR:
            if (!parse_bars(&bars, optarg))
                return cli_usage_error("train", "--bar: '%s' is not NAME=X[,NAME=X] with NAME semantic, object "
                                       "or grounding and X in [0, 1]", optarg);
            break;
        case O_DATA: data.data_dir = optarg; break;
        case O_CAPTIONS: data.captions = optarg; break;
        case O_IMAGES: data.images = optarg; break;
        case O_TRAIN_LIST: data.lists[0] = optarg; break;
        case O_VAL_LIST: data.lists[1] = optarg; break;
        case O_STRICT: data.strict = 1; break;
        case O_MIN_COUNT: INT_OPT("--min-count", 1, 1000000, o.min_count);
        case O_OUT: out = optarg; break;
        case O_ATTENTION:
            if (!strcmp(optarg, "hard")) mc.attention = ATTN_HARD;
            else if (!strcmp(optarg, "soft")) mc.attention = ATTN_SOFT;
            else if (!strcmp(optarg, "random")) mc.attention = ATTN_RANDOM;
            else if (!strcmp(optarg, "mean")) mc.attention = ATTN_MEAN;
            else return cli_usage_error("train", "--attention: '%s' is not hard, soft, random or mean", optarg);
            break;
        case O_REWARD:
            if ((o.reward = reinforce_reward_parse(optarg)) < 0)
                return cli_usage_error("train", "--reward: '%s' is not cider, bleu4, f1 or loglik", optarg);
            break;
        case O_BASELINE:
            if ((o.baseline = reinforce_baseline_parse(optarg)) < 0)
                return cli_usage_error("train", "--baseline: '%s' is not greedy, mean or none", optarg);
            break;
        case O_ENTROPY: FLT_OPT("--entropy", 0, 100, o.entropy);
        case O_RL: FLT_OPT("--rl-weight", 0, 1000, o.rl_weight);
        case O_SOFTMIX: FLT_OPT("--soft-mix", 0, 1, o.soft_mix);
        case O_SOFT_WARMUP: INT_OPT("--soft-warmup", 0, 1000000000, o.soft_warmup);
        case O_REFS: INT_OPT("--refs", 0, 1000, o.refs);
        case O_DOUBLY: FLT_OPT("--doubly", 0, 1000, o.doubly);
        case O_PRIOR: INT_OPT("--prior", 0, 1, mc.prior);
        case O_PRIOR_SUPERVISE: FLT_OPT("--prior-supervise", 0, 1000, o.prior_supervise);
        case O_STEPS: INT_OPT("--steps", 1, 1000000000, steps_given);
        case O_EPOCHS: INT_OPT("--epochs", 1, 100000, epochs);
        case O_BATCH: INT_OPT("--batch", 1, 4096, o.batch);
        case O_LR: FLT_OPT("--lr", 1e-7, 10, o.lr);
        case O_LR_DECAY: FLT_OPT("--lr-decay", 1e-3, 1, o.lr_decay);
        case O_LR_DECAY_EVERY: INT_OPT("--lr-decay-every", 0, 1000000000, o.lr_decay_every);
        case O_WARMUP: INT_OPT("--warmup", 0, 1000000000, o.warmup);
        case O_CLIP: FLT_OPT("--clip", 0, 1e9, o.clip);
        case O_SEED: INT_OPT("--seed", 0, 0x7fffffffL, o.seed);
        case O_THREADS: INT_OPT("--threads", 1, POOL_MAX_THREADS, threads);
        case O_RESUME: resume = optarg; break;
        case O_VAL_EVERY: INT_OPT("--val-every", 0, 1000000000, val_every);
        case O_CKPT_EVERY: INT_OPT("--ckpt-every", 0, 1000000000, ckpt_every);
        case O_HIDDEN: INT_OPT("--hidden", 1, 4096, mc.hidden);
        case O_EMBED: INT_OPT("--embed", 1, 4096, mc.embed);
        case O_PROJ: INT_OPT("--proj", 1, 4096, mc.proj);
        case O_ATT: INT_OPT("--att", 1, 4096, mc.att);
        case O_MAXLEN: INT_OPT("--max-len", 2, 256, mc.max_len);
        case O_INIT:
            if (!strcmp(optarg, "mean")) mc.init_mean = 1;
            else if (!strcmp(optarg, "constant")) mc.init_mean = 0;
            else return cli_usage_error("train", "--init: '%s' is not mean or constant", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("train", opt, argv);
        }
    }
#undef INT_OPT
#undef FLT_OPT
    if (optind < argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error("train", "--out MODEL is required");
    if (!data.data_dir == !data.captions) return cli_usage_error("train", "give --data DIR or --captions FILE");
    if (data.captions && !data.images) return cli_usage_error("train", "--captions needs --images DIR");
    if (steps_given && epochs) return cli_usage_error("train", "give --steps or --epochs, not both");
    if (resume && fixed)
        return cli_usage_error("train", "--%s cannot be changed on --resume: the checkpoint's model and "
                               "training options are used", option_name(opts, fixed));
    if (mc.gate && mc.attention != ATTN_SOFT) return cli_usage_error("train", "--gate is for --attention soft");
    if (mc.prior && mc.attention != ATTN_HARD && mc.attention != ATTN_SOFT)
        return cli_usage_error("train", "--prior is for --attention hard or soft");
    if (o.prior_supervise > 0 && !mc.prior && !resume)
        return cli_usage_error("train", "--prior-supervise needs --prior 1");

    GlmError err = {0};
    Model model = {0};
    Vocab vocab = {0};
    Dataset train = {0}, val = {0};
    DatasetObjects objects = {0};
    Trainer tr = {0};
    float *x = NULL, *vx = NULL, *ptarget = NULL, *dict = NULL;
    int *sizes = NULL, *vsizes = NULL, have_val = 0, have_objects = 0, rc, status = 1;
    int show = !quiet;
    char ckpt[4096];
    if (snprintf(ckpt, sizeof ckpt, "%s.ckpt", out) >= (int)sizeof ckpt)
        return cli_usage_error("train", "--out path too long");
    /* every output, before anything long */
    if (!cli_can_create_file(out) || !cli_can_create_file(ckpt)) return 2;

    if (resume) {
        if ((rc = checkpoint_options(&o, resume, &err)) || (rc = model_load(&model, resume, &err)) ||
            (rc = vocab_from_words(&vocab, (const char *const *)model.words, model.cfg.vocab, &err))) {
            status = cli_report(&err);
            goto done;
        }
        mc = model.cfg;
    }
    if (steps_given) o.steps = steps_given;
    if ((rc = cli_load_split(&train, &data, "train", 0, NULL))) {
        status = glm_exit_code(rc);
        goto done;
    }
    int val_empty = 1;
    if ((rc = cli_load_split(&val, &data, "val", 1, &val_empty))) {
        status = glm_exit_code(rc);
        goto done;
    }
    have_val = !val_empty;
    if ((rc = cli_load_objects(&objects, &data, &have_objects))) {
        status = glm_exit_code(rc);
        goto done;
    }
    if (o.prior_supervise > 0 && !have_objects) {   /* before the features: nothing long for nothing */
        cli_error("--prior-supervise needs the data set's objects.tsv (the object boxes)");
        status = 2;
        goto done;
    }
    if (resume) {
        /* The checkpoint's words must be the ones these captions make, or
         * every new word would silently become <unk>. */
        Vocab fresh;
        if ((rc = vocab_build(&fresh, train.captions, train.n_captions, o.min_count, &err))) {
            status = cli_report(&err);
            goto done;
        }
        const char *differ = vocab_first_difference(&fresh, &vocab);
        if (differ) {
            cli_error("%s: the training captions make another vocabulary than the checkpoint's (%d words against "
                      "%d; \"%s\" is in one only): resume on the data the run was trained on", resume,
                      vocab_size(&fresh), vocab_size(&vocab), differ);
            vocab_free(&fresh);
            status = 2;
            goto done;
        }
        vocab_free(&fresh);
    } else {
        if ((rc = vocab_build(&vocab, train.captions, train.n_captions, o.min_count, &err))) {
            status = cli_report(&err);
            goto done;
        }
        mc.vocab = vocab_size(&vocab);
        if ((rc = model_check_config(&mc, &err))) {
            status = cli_report(&err);
            goto done;
        }
        if (mc.feat.kmeans > 0) {
            /* the dictionary before the model: its size is part of F */
            const char **paths = malloc((size_t)train.n_images * sizeof *paths);
            dict = glm_malloc_array(kmeans_dict_floats(mc.feat.kmeans_patch, mc.feat.kmeans), sizeof(float));
            if (!paths || !dict) {
                free(paths);
                glm_fail(&err, GLM_ENOMEM, "out of memory for the patch dictionary");
                status = cli_report(&err);
                goto done;
            }
            for (int i = 0; i < train.n_images; i++) paths[i] = train.images[i].path;
            Rng dr;
            rng_seed(&dr, o.seed, 2);
            if (show) fprintf(stderr, "glimpse: learning a %d-patch dictionary (%dx%d patches)\n", mc.feat.kmeans,
                              mc.feat.kmeans_patch, mc.feat.kmeans_patch);
            rc = kmeans_learn_pictures(dict, paths, train.n_images, &mc.feat, &dr, &err);
            free(paths);
            if (rc) {
                status = cli_report(&err);
                goto done;
            }
            mc.feat.dict = dict;
        }
        Rng init;
        rng_seed(&init, o.seed, 0);
        if ((rc = model_init(&model, &mc, vocab_words(&vocab), &init, &err))) {
            status = cli_report(&err);
            goto done;
        }
    }
    const long pairs = train_count_pairs(&train, o.refs);
    if (epochs) o.steps = (epochs * pairs + o.batch - 1) / o.batch;
    if ((rc = dataset_encode(&train, &vocab, mc.max_len - 1, &err)) ||
        (have_val && (rc = dataset_encode(&val, &vocab, mc.max_len - 1, &err)))) {
        status = cli_report(&err);
        goto done;
    }
    if (train.n_truncated && show)
        cli_error("warning: %d training captions cut to %d words", train.n_truncated, mc.max_len - 1);
    /* the workers are the parallelism; BLAS calls on 32-row matrices gain
     * nothing from threads of their own (issue 13) */
    openblas_set_num_threads(1);
    o.threads = (int)threads;
    data.threads = (int)threads;
    if (show)
        fprintf(stderr,
                "glimpse: train %d images / %d captions, val %d images, %d words; %s attention, reward %s, "
                "baseline %s, seed %llu, %ld thread%s\n",
                train.n_images, train.n_captions, have_val ? val.n_images : 0, mc.vocab,
                attn_name(mc.attention), reinforce_reward_name(o.reward),
                reinforce_baseline_name(o.baseline), (unsigned long long)o.seed, threads, threads == 1 ? "" : "s");
    /* the model's feature config: it holds the dictionary, if any */
    if ((rc = cli_split_features(&x, &sizes, &train, &data, &model.cfg.feat, "train", progress_features, &show)) ||
        (have_val && (rc = cli_split_features(&vx, &vsizes, &val, &data, &model.cfg.feat, "val", progress_features, &show)))) {
        status = glm_exit_code(rc);
        goto done;
    }
    if (o.prior_supervise > 0 && (status = prior_targets_of(&ptarget, &train, sizes, &objects, &mc.feat, show)) != 0)
        goto done;
    if ((rc = trainer_init(&tr, &model, &train, x, &o, &err)) || (resume && (rc = checkpoint_restore(&tr, resume, &err)))) {
        status = cli_report(&err);
        goto done;
    }
    tr.prior_target = ptarget;
    if (tr.step >= o.steps && show) fprintf(stderr, "glimpse: already at step %ld of %ld\n", tr.step, o.steps);

    const int tty = isatty(2);
    const long first = tr.step;
    const double t0 = glm_seconds();
    double ema_loss = 0, ema_reward = 0, ema_base = 0, ema_ent = 0;
    int saved_best = 0;
    while (tr.step < o.steps) {
        TrainStats st;
        if ((rc = trainer_step(&tr, &st, &err))) {
            if (tty && show) fputc('\n', stderr);
            cli_error("%s; the last checkpoint (%s) is kept", err.msg, ckpt);
            status = 1;
            goto done;
        }
        double k = tr.step - first == 1 ? 1.0 : 0.05;
        ema_loss += k * (st.loss - ema_loss);
        ema_reward += k * (st.reward - ema_reward);
        ema_base += k * (st.baseline - ema_base);
        ema_ent += k * (st.entropy - ema_ent);
        if (show && (tty ? tr.step % 10 == 0 || tr.step == o.steps : tr.step % 100 == 0 || tr.step == o.steps)) {
            double el = glm_seconds() - t0, rate = (double)(tr.step - first) / el, eta = (double)(o.steps - tr.step) / rate;
            fprintf(stderr, "%sglimpse: step %ld/%ld epoch %.2f loss %.4f reward %.3f baseline %.3f entropy %.3f "
                    "%.1f steps/s ETA %dm%02ds%s",
                    tty ? "\r" : "", tr.step, o.steps, (double)tr.step * o.batch / pairs, ema_loss,
                    ema_reward, ema_base, ema_ent, rate, (int)eta / 60, (int)eta % 60, tty ? "\033[K" : "\n");
        }
        int last = tr.step == o.steps;
        if (have_val && val_every && (tr.step % val_every == 0 || last)) {
            EvalResult r;
            if ((rc = eval_run(&r, &model, &val, vx, vsizes, have_objects ? &objects : NULL, 1, o.threads, NULL, &err))) {
                status = cli_report(&err);
                goto done;
            }
            float score = val_score(&r);
            int best = !tr.best_set || score > tr.best;
            if (best) {
                tr.best = score;
                tr.best_set = 1;
                if ((rc = save_model(&model, &o, out, &err))) {
                    status = cli_report(&err);
                    goto done;
                }
                saved_best = 1;
            }
            if (show) {
                if (tty) fputc('\n', stderr);
                print_val(stderr, tr.step, &r, best);
            }
            if (!bars.met && bars_met(&bars, &r)) {
                bars.met = 1;
                if (show) {
                    fprintf(stderr, "glimpse: validation met the bars (");
                    print_bars(stderr, &bars);
                    fprintf(stderr, ") at step %ld, %.1f s into this run\n", tr.step, glm_seconds() - t0);
                }
            }
        }
        if ((ckpt_every && tr.step % ckpt_every == 0) || last) {
            if ((rc = checkpoint_save(&tr, ckpt, &err))) {
                status = cli_report(&err);
                goto done;
            }
        }
    }
    if (tty && show) fputc('\n', stderr);
    /* Without validation the model is simply the last one. A resumed run
     * whose validation never beat the checkpoint's best has nothing better
     * to write: MODEL, when it is there, is that best and is kept; when it
     * is not, the last model is written, and said to be the last. */
    const char *what = "wrote";
    if (!(have_val && val_every) || !saved_best) {
        if (have_val && val_every && access(out, F_OK) == 0) {
            what = "kept";
            if (show)
                fprintf(stderr, "glimpse: validation did not beat the checkpoint's best (%.4f): %s is kept as it was\n",
                        tr.best, out);
        } else {
            if (have_val && val_every && show)
                fprintf(stderr, "glimpse: validation did not beat the checkpoint's best (%.4f); %s is the last model, "
                        "not that best one\n", tr.best, out);
            if ((rc = save_model(&model, &o, out, &err))) {
                status = cli_report(&err);
                goto done;
            }
        }
    }
    if (show)
        fprintf(stderr, "glimpse: %s %s (and wrote %s) after %ld steps in %.1f s\n", what, out, ckpt, tr.step,
                glm_seconds() - t0);
    status = 0;
done:
    trainer_free(&tr);
    free(x);
    free(vx);
    free(ptarget);
    free(dict);
    free(sizes);
    free(vsizes);
    dataset_objects_free(&objects);
    dataset_free(&train);
    dataset_free(&val);
    vocab_free(&vocab);
    model_free(&model);
    return status;
}
