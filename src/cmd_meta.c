/* cmd_meta.c - `glimpse meta train|eval`: meta-learned attention (meta.h)
 * over the caption-dialect task family (meta_tasks.h). train writes an
 * initialisation (Reptile, the joint control, or the untrained random one);
 * eval adapts a model to a task and prints the curve. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cli.h"
#include "dataset.h"
#include "dataset_objects.h"
#include "fileio.h"
#include "meta.h"
#include "meta_tasks.h"
#include "model.h"
#include "vocab.h"

/* The small model the experiment uses (make meta fits in 30 minutes). */
static ModelConfig meta_model_config(void)
{
    ModelConfig c = model_default_config();
    c.hidden = 32, c.embed = 16, c.proj = 32, c.att = 16, c.init_mean = 0;
    return c;
}

#define DEFAULT_EVAL_STEPS 300
#define DEFAULT_EVERY 20
#define DEFAULT_BAR_ORDER 0.25
#define DEFAULT_BAR_GROUNDING 0.75

static void help_common(const MetaOptions *m)
{
    const TrainOptions *o = &m->inner;
    printf("inner trainer (train.h: hard attention, REINFORCE with the CIDEr-D reward and\n"
           "the greedy baseline, a fresh Adam state per inner loop / adaptation):\n"
           "  --batch B          captions per step (default %d)\n"
           "  --lr X             constant learning rate (default %g)\n"
           "  --soft-mix P       chance of a soft-attention batch (default %g)\n"
           "  --entropy L        entropy bonus weight (default %g)\n"
           "  --rl-weight L      REINFORCE weight (default %g)\n"
           "  --seed S           seeds the initialisation, the task sequence and the batch\n"
           "                     orders (default %llu)\n"
           "  --threads N        BLAS threads (default 1; the same seed gives the same bytes\n"
           "                     for the same N)\n"
           "  --quiet            no progress on stderr\n"
           "  --help             this text\n",
           o->batch, o->lr, o->soft_mix, o->entropy, o->rl_weight, (unsigned long long)m->seed);
}

static void help(void)
{
    MetaOptions m = meta_default_options();
    ModelConfig c = meta_model_config();
    printf("usage: glimpse meta train --data DIR --out META.glm [options]\n"
           "       glimpse meta eval  --data DIR --model META.glm --task NAME [options]\n"
           "\n"
           "Meta-learned attention (docs/meta.md). The tasks are caption dialects of the\n"
           "shape scenes that differ in where to look: ORDER[:CONCEPT], ORDER one of lr, rl\n"
           "(left/right first), tb, bt (top/bottom first), large (large objects first),\n"
           "colour (by colour), CONCEPT a size (large, small) or shape (circle, square,\n"
           "triangle, cross): only those objects are named.\n"
           "  meta-training tasks: " META_TRAIN_TASKS "\n"
           "  held out:            " META_HELDOUT_TASKS "\n"
           "\n"
           "train: Reptile (Nichol et al. 2018): sample a task, run K steps of the normal\n"
           "trainer from the meta-parameters phi, then phi += eps (theta_K - phi).\n"
           "  --data DIR         a generated shapes data set (glimpse data shapes; needs\n"
           "                     objects.tsv); its train split is used\n"
           "  --out FILE         the model written (required)\n"
           "  --method M         reptile; joint (the control: OUTER*K steps of the same\n"
           "                     trainer on all meta-training tasks' captions at once); or\n"
           "                     random (the untrained initialisation both start from)\n"
           "                     (default reptile)\n"
           "  --tasks LIST       meta-training tasks, comma-separated; held-out tasks are\n"
           "                     refused (default " META_TRAIN_TASKS ")\n"
           "  --k K              inner steps per task (default %d)\n"
           "  --outer N          outer iterations (default %ld)\n"
           "  --eps X            outer step size at the start (default %g)\n"
           "  --eps-end X        ... annealed linearly to this (default %g)\n"
           "  --hidden H, --embed E, --proj D, --att A   model sizes (default %d, %d, %d, %d)\n",
           m.k, m.outer, m.eps, m.eps_end, c.hidden, c.embed, c.proj, c.att);
    cli_feature_help(&c.feat);
    printf("\n"
           "eval: adapt the model to one task from a fresh optimizer and print the curve:\n"
           "in-order object accuracy, grounding, exact captions and NLL on the eval split.\n"
           "  --model FILE       the initialisation (from meta train) (required)\n"
           "  --task NAME        the task adapted to (required)\n"
           "  --split S          images scored: val or test (default val); adaptation trains\n"
           "                     on the train split's captions of the task\n"
           "  --steps N          adaptation steps (default %d)\n"
           "  --every N          measure every N steps (default %d)\n"
           "  --bar-order X      the quality bar: in-order accuracy >= X ... (default %g)\n"
           "  --bar-grounding X  ... and grounding >= X (default %g)\n"
           "  --csv FILE         also write the curve as step,in_order,grounding,exact,nll\n"
           "                     (default: none)\n"
           "\n",
           DEFAULT_EVAL_STEPS, DEFAULT_EVERY, DEFAULT_BAR_ORDER, DEFAULT_BAR_GROUNDING);
    help_common(&m);
}

/* A split of the data set with its objects and region vectors. */
typedef struct {
    Dataset base;
    DatasetObjects objs;
    float *x;
    int *sizes;
} Split;

static void split_free(Split *s)
{
    dataset_free(&s->base);
    dataset_objects_free(&s->objs);
    free(s->x);
    free(s->sizes);
    memset(s, 0, sizeof *s);
}

static int load_split(Split *s, const char *dir, const char *split, const FeatConfig *fc)
{
    CliData cd = {.data_dir = dir};
    int have = 0, rc;
    memset(s, 0, sizeof *s);
    if ((rc = cli_load_split(&s->base, &cd, split, 0, NULL))) return glm_exit_code(rc);
    if ((rc = cli_load_objects(&s->objs, &cd, &have))) return glm_exit_code(rc);
    if (!have) {
        cli_error("%s: no objects.tsv: meta-learning needs a generated shapes data set", dir);
        return 2;
    }
    if ((rc = cli_split_features(&s->x, &s->sizes, &s->base, &cd, fc, split, NULL, NULL))) return glm_exit_code(rc);
    return 0;
}

/* A task data set over the split's images, encoded with v. */
static int task_data(Dataset *out, const MetaTask *tasks, int n, const Split *s, const char *dir, const Vocab *v,
                     int max_words, int *n_unk, GlmError *err)
{
    char images[4096];
    snprintf(images, sizeof images, "%s/images", dir);
    int rc = meta_tasks_dataset(out, tasks, n, &s->base, &s->objs, images, err);
    if (!rc && v) rc = dataset_encode(out, v, max_words, err);
    if (!rc && n_unk) *n_unk += (int)out->n_unk;
    return rc;
}

enum {
    O_DATA = 256, O_OUT, O_METHOD, O_TASKS, O_K, O_OUTER, O_EPS, O_EPS_END, O_HIDDEN, O_EMBED, O_PROJ, O_ATT,
    O_MODEL, O_TASK, O_SPLIT, O_STEPS, O_EVERY, O_BAR_ORDER, O_BAR_GROUND, O_CSV,
    O_BATCH, O_LR, O_SOFTMIX, O_ENTROPY, O_RL, O_SEED, O_THREADS,
};

typedef struct {
    int is_train;
    const char *data, *out, *model, *task, *split, *csv, *tasks;
    int method;   /* 0 reptile, 1 joint, 2 random */
    long steps, every, threads;
    double bar_order, bar_ground;
    int quiet;
} Args;

static void progress(void *ctx, long it, long total, int task, const TrainStats *st)
{
    const int every = (int)(total / 10 > 0 ? total / 10 : 1);
    if (it % every == 0 || it == total)
        fprintf(stderr, "glimpse: meta %ld/%ld task %d loss %.3f reward %.3f entropy %.3f\n", it, total, task, st->loss,
                st->reward, st->entropy);
}

static int run_train(const Args *a, MetaOptions *mo, ModelConfig *mc)
{
    GlmError err = {0};
    MetaTask train[META_MAX_TASKS], held[META_MAX_TASKS], tasks[META_MAX_TASKS];
    int n_train, n_held, n_tasks;
    meta_family(train, &n_train, held, &n_held);
    if (a->tasks) {
        if (meta_task_list(tasks, &n_tasks, META_MAX_TASKS, a->tasks, &err)) return cli_usage_error("meta", "--tasks: %s", err.msg);
    } else {
        memcpy(tasks, train, sizeof train);
        n_tasks = n_train;
    }
    for (int i = 0; i < n_tasks; i++)
        for (int j = 0; j < n_held; j++)
            if (meta_task_equal(&tasks[i], &held[j])) {
                char name[META_TASK_NAME_LEN];
                meta_task_name(name, sizeof name, &held[j]);
                return cli_usage_error("meta", "--tasks: '%s' is held out of meta-training", name);
            }
    if (!cli_can_create_file(a->out)) return 2;
    Split s;
    Vocab v = {0};
    Model m = {0};
    Dataset joint = {0}, per[META_MAX_TASKS];
    memset(per, 0, sizeof per);
    int status = load_split(&s, a->data, "train", &mc->feat), rc = 0;
    if (status) goto done;
    /* The vocabulary: every word of the meta-training captions (the held-out
     * tasks speak the same words, so nothing of them leaks in). */
    if ((rc = task_data(&joint, tasks, n_tasks, &s, a->data, NULL, 0, NULL, &err)) ||
        (rc = vocab_build(&v, joint.captions, joint.n_captions, 1, &err)))
        goto fail;
    mc->vocab = vocab_size(&v);
    if ((rc = model_check_config(mc, &err))) goto fail;
    Rng init;
    rng_seed(&init, mo->seed, 0);
    if ((rc = model_init(&m, mc, vocab_words(&v), &init, &err))) goto fail;
    if ((rc = dataset_encode(&joint, &v, mc->max_len - 1, &err))) goto fail;
    if (!a->quiet)
        fprintf(stderr, "glimpse: meta %s: %d tasks, %d images, %d words, %zu parameters, k %d, outer %ld, seed %llu\n",
                a->method == 0 ? "reptile" : a->method == 1 ? "joint" : "random", n_tasks, s.base.n_images, mc->vocab,
                m.n_params, mo->k, mo->outer, (unsigned long long)mo->seed);
    const double t0 = glm_seconds();
    if (a->method == 0) {
        MetaTaskData td[META_MAX_TASKS];
        for (int i = 0; i < n_tasks; i++) {
            if ((rc = task_data(&per[i], &tasks[i], 1, &s, a->data, &v, mc->max_len - 1, NULL, &err))) goto fail;
            td[i] = (MetaTaskData){.data = &per[i], .x = s.x};
        }
        rc = meta_reptile(&m, td, n_tasks, mo, a->quiet ? NULL : progress, NULL, &err);
    } else if (a->method == 1) {
        const MetaTaskData jd = {.data = &joint, .x = s.x};
        rc = meta_joint(&m, &jd, mo, a->quiet ? NULL : progress, NULL, &err);
    }
    if (rc || (rc = model_save(&m, a->out, NULL, 0, &err))) goto fail;
    if (!a->quiet)
        fprintf(stderr, "glimpse: wrote %s (%ld trainer steps in %.1f s)\n", a->out,
                a->method == 2 ? 0 : mo->outer * mo->k, glm_seconds() - t0);
    goto done;
fail:
    status = cli_report(&err);
done:
    for (int i = 0; i < n_tasks; i++) dataset_free(&per[i]);
    dataset_free(&joint);
    model_free(&m);
    vocab_free(&v);
    split_free(&s);
    return status;
}

static int run_eval(const Args *a, const MetaOptions *mo)
{
    GlmError err = {0};
    MetaTask task;
    if (meta_task_parse(&task, a->task, &err)) return cli_usage_error("meta", "--task: %s", err.msg);
    if (a->csv && !cli_can_create_file(a->csv)) return 2;
    Model m = {0};
    Vocab v = {0};
    Split tr = {0}, ev = {0};
    Dataset dtr = {0}, dev = {0};
    MetaPoint *pts = NULL;
    int status = 0, rc = 0, n_unk = 0, n_pts = 0;
    if ((rc = model_load(&m, a->model, &err)) ||
        (rc = vocab_from_words(&v, (const char *const *)m.words, m.cfg.vocab, &err)))
        goto fail;
    if ((status = load_split(&tr, a->data, "train", &m.cfg.feat)) || (status = load_split(&ev, a->data, a->split, &m.cfg.feat)))
        goto done;
    if ((rc = task_data(&dtr, &task, 1, &tr, a->data, &v, m.cfg.max_len - 1, &n_unk, &err)) ||
        (rc = task_data(&dev, &task, 1, &ev, a->data, &v, m.cfg.max_len - 1, &n_unk, &err)))
        goto fail;
    if (n_unk) cli_error("warning: %d words of the task's captions are not in the model's vocabulary", n_unk);
    pts = glm_calloc_array((size_t)(a->steps / a->every + 2), sizeof *pts);
    if (!pts) {
        rc = glm_fail(&err, GLM_ENOMEM, "out of memory");
        goto fail;
    }
    const MetaTaskData td = {.data = &dtr, .x = tr.x};
    const MetaEvalSet es = {.task = task, .data = &dev, .x = ev.x, .sizes = ev.sizes, .objs = &ev.objs};
    const double t0 = glm_seconds();
    if ((rc = meta_adapt(pts, &n_pts, &m, &td, &mo->inner, a->steps, a->every, &es, &err))) goto fail;
    printf("# task %s, model %s, %s split (%d images), %ld steps, seed %llu, %.1f s\n", a->task, a->model, a->split,
           dev.n_images, a->steps, (unsigned long long)mo->inner.seed, glm_seconds() - t0);
    printf("step  in_order  grounding  exact  nll\n");
    char *csv = glm_malloc_array((size_t)n_pts + 1, 96);
    size_t len = 0;
    if (csv) len += (size_t)sprintf(csv, "step,in_order,grounding,exact,nll\n");
    for (int i = 0; i < n_pts; i++) {
        printf("%4ld  %8.3f  %9.3f  %5.3f  %.4f\n", pts[i].step, pts[i].in_order, pts[i].grounding, pts[i].exact,
               pts[i].nll);
        if (csv)
            len += (size_t)sprintf(csv + len, "%ld,%.4f,%.4f,%.4f,%.5f\n", pts[i].step, pts[i].in_order, pts[i].grounding,
                                   pts[i].exact, pts[i].nll);
    }
    const long reach = meta_steps_to(pts, n_pts, a->bar_order, a->bar_ground);
    if (reach >= 0) printf("steps to the bar (in-order >= %g, grounding >= %g): %ld\n", a->bar_order, a->bar_ground, reach);
    else printf("steps to the bar (in-order >= %g, grounding >= %g): not reached in %ld\n", a->bar_order, a->bar_ground, a->steps);
    if (a->csv) {
        if (!csv) rc = glm_fail(&err, GLM_ENOMEM, "out of memory");
        else rc = fileio_write(a->csv, csv, len, &err);
    }
    free(csv);
    if (rc) goto fail;
    goto done;
fail:
    status = cli_report(&err);
done:
    free(pts);
    dataset_free(&dtr);
    dataset_free(&dev);
    split_free(&tr);
    split_free(&ev);
    vocab_free(&v);
    model_free(&m);
    return status;
}

int cmd_meta(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", 1, 0, O_DATA}, {"out", 1, 0, O_OUT}, {"method", 1, 0, O_METHOD}, {"tasks", 1, 0, O_TASKS},
        {"k", 1, 0, O_K}, {"outer", 1, 0, O_OUTER}, {"eps", 1, 0, O_EPS}, {"eps-end", 1, 0, O_EPS_END},
        {"hidden", 1, 0, O_HIDDEN}, {"embed", 1, 0, O_EMBED}, {"proj", 1, 0, O_PROJ}, {"att", 1, 0, O_ATT},
        {"model", 1, 0, O_MODEL}, {"task", 1, 0, O_TASK}, {"split", 1, 0, O_SPLIT}, {"steps", 1, 0, O_STEPS},
        {"every", 1, 0, O_EVERY}, {"bar-order", 1, 0, O_BAR_ORDER}, {"bar-grounding", 1, 0, O_BAR_GROUND},
        {"csv", 1, 0, O_CSV}, {"batch", 1, 0, O_BATCH}, {"lr", 1, 0, O_LR}, {"soft-mix", 1, 0, O_SOFTMIX},
        {"entropy", 1, 0, O_ENTROPY}, {"rl-weight", 1, 0, O_RL}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, CLI_FEATURE_OPTIONS, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0},
    };
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help();
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "train") && strcmp(argv[1], "eval")))
        return cli_usage_error("meta", "give 'train' or 'eval' (glimpse meta train|eval ...)");
    Args a = {.is_train = !strcmp(argv[1], "train"), .split = "val", .steps = DEFAULT_EVAL_STEPS,
              .every = DEFAULT_EVERY, .threads = 1, .bar_order = DEFAULT_BAR_ORDER, .bar_ground = DEFAULT_BAR_GROUNDING};
    MetaOptions mo = meta_default_options();
    ModelConfig mc = meta_model_config();
    long v;
    double f;
    int opt;
    argc--, argv++;   /* argv[0] is now the subcommand */
    optind = 1;
    opterr = 0;
#define INT_OPT(name, lo, hi, dst) if (!cli_parse_int(name, optarg, lo, hi, &v)) return 2; dst = v; break
#define FLT_OPT(name, lo, hi, dst) if (!cli_parse_float(name, optarg, lo, hi, &f)) return 2; dst = f; break
    while ((opt = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        const int feat = cli_feature_option(&mc.feat, opt, optarg);
        if (feat < 0) return 2;
        if (feat) {
            if (!a.is_train) return cli_usage_error("meta", "feature options are for meta train (eval uses the model's)");
            continue;
        }
        switch (opt) {
        case O_DATA: a.data = optarg; break;
        case O_OUT: a.out = optarg; break;
        case O_METHOD:
            if (!strcmp(optarg, "reptile")) a.method = 0;
            else if (!strcmp(optarg, "joint")) a.method = 1;
            else if (!strcmp(optarg, "random")) a.method = 2;
            else return cli_usage_error("meta", "--method: '%s' is not reptile, joint or random", optarg);
            break;
        case O_TASKS: a.tasks = optarg; break;
        case O_K: INT_OPT("--k", 1, 100000, mo.k);
        case O_OUTER: INT_OPT("--outer", 1, 100000000, mo.outer);
        case O_EPS: FLT_OPT("--eps", 0, 1, mo.eps);
        case O_EPS_END: FLT_OPT("--eps-end", 0, 1, mo.eps_end);
        case O_HIDDEN: INT_OPT("--hidden", 1, 4096, mc.hidden);
        case O_EMBED: INT_OPT("--embed", 1, 4096, mc.embed);
        case O_PROJ: INT_OPT("--proj", 1, 4096, mc.proj);
        case O_ATT: INT_OPT("--att", 1, 4096, mc.att);
        case O_MODEL: a.model = optarg; break;
        case O_TASK: a.task = optarg; break;
        case O_SPLIT:
            if (strcmp(optarg, "val") && strcmp(optarg, "test"))
                return cli_usage_error("meta", "--split: '%s' is not val or test", optarg);
            a.split = optarg;
            break;
        case O_STEPS: INT_OPT("--steps", 1, 100000000, a.steps);
        case O_EVERY: INT_OPT("--every", 1, 100000000, a.every);
        case O_BAR_ORDER: FLT_OPT("--bar-order", 0, 1, a.bar_order);
        case O_BAR_GROUND: FLT_OPT("--bar-grounding", 0, 1, a.bar_ground);
        case O_CSV: a.csv = optarg; break;
        case O_BATCH: INT_OPT("--batch", 1, 4096, mo.inner.batch);
        case O_LR: FLT_OPT("--lr", 1e-7, 10, mo.inner.lr);
        case O_SOFTMIX: FLT_OPT("--soft-mix", 0, 1, mo.inner.soft_mix);
        case O_ENTROPY: FLT_OPT("--entropy", 0, 100, mo.inner.entropy);
        case O_RL: FLT_OPT("--rl-weight", 0, 1000, mo.inner.rl_weight);
        case O_SEED: INT_OPT("--seed", 0, 0x7fffffffL, mo.seed);
        case O_THREADS: INT_OPT("--threads", 1, 256, a.threads);
        case 'q': a.quiet = 1; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("meta", opt, argv);
        }
    }
#undef INT_OPT
#undef FLT_OPT
    if (optind < argc) return cli_usage_error("meta", "unexpected argument '%s'", argv[optind]);
    if (!a.data) return cli_usage_error("meta", "--data DIR is required");
    mo.inner.seed = mo.seed;
    openblas_set_num_threads((int)a.threads);
    if (a.is_train) {
        if (!a.out) return cli_usage_error("meta", "meta train: --out FILE is required");
        if (a.model || a.task || a.csv) return cli_usage_error("meta", "meta train: --model, --task and --csv are for meta eval");
        return run_train(&a, &mo, &mc);
    }
    if (!a.model) return cli_usage_error("meta", "meta eval: --model FILE is required");
    if (!a.task) return cli_usage_error("meta", "meta eval: --task NAME is required");
    if (a.out || a.tasks) return cli_usage_error("meta", "meta eval: --out and --tasks are for meta train");
    return run_eval(&a, &mo);
}
