/* bench_speed.c - how fast glimpse trains, extracts features and captions,
 * in process (`make bench`, through bench/bench.sh, which adds what needs a
 * process of its own: data generation, one caption's latency, scoring and
 * peak memory).
 *
 *   bench_speed DATA_DIR MODEL [RUNS]
 *
 * DATA_DIR: a `glimpse data shapes` set (its train split is used); MODEL: a
 * model with the shipped shapes configuration (models/shapes.glm). Prints
 * one line per figure, "name median min max unit", each over RUNS runs
 * (default 3):
 *   model_load          model_load of MODEL, ms
 *   features_tN         eval_features of the split at N threads, images/s
 *   captions_tN         eval_run, beam 3, at N threads (decoding and
 *                       scoring, features already there), captions/s
 *   train_hard_tN       trainer_step, --preset shapes with REINFORCE from the
 *                       first step (rollout, greedy baseline, replay),
 *                       steps/s over BENCH_STEPS steps after BENCH_WARM
 *   train_soft_tN       the same in soft batches (its warm-up phase)
 * for N = 1 and 2. OpenBLAS is single-threaded, as the commands run it.
 * Not a test: it checks nothing but that the calls succeed.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas_kernel.h"
#include "dataset.h"
#include "evaluate.h"
#include "model.h"
#include "train.h"
#include "vocab.h"

enum { BENCH_STEPS = 40, BENCH_WARM = 3, MAX_RUNS = 15 };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *v, int n, const char *unit)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("%s %.6g %.6g %.6g %s\n", name, v[n / 2], v[0], v[n - 1], unit);
    fflush(stdout);
}

static int fail(const GlmError *err)
{
    fprintf(stderr, "bench_speed: %s\n", err->msg);
    return 1;
}

static double cpu_seconds(clockid_t which)
{
    struct timespec ts;
    clock_gettime(which, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* steps/s of BENCH_STEPS steps on a fresh model, after BENCH_WARM steps:
 * the wall-clock rate, and *idle the rate on two idle cores estimated from
 * thread CPU times (the main thread's serial part plus, per phase, the
 * slowest shard: Trainer.cpu_critical), which other processes on a shared
 * machine do not disturb; *cpu the CPU seconds per step of all threads. */
static double train_rate(const Dataset *d, const Vocab *v, const float *x, const float *dict, int threads, int soft,
                         double *idle, double *cpu, GlmError *err)
{
    TrainOptions o = train_default_options();
    ModelConfig mc = model_default_config();
    long val_every;
    train_preset("shapes", &o, &mc, &val_every);
    mc.vocab = vocab_size(v);
    mc.feat.dict = dict;   /* the shipped model's patch dictionary: x was made with it */
    o.threads = threads;
    o.soft_warmup = soft ? 1000000 : 0;
    Model m;
    Rng init;
    rng_seed(&init, o.seed, 0);
    if (model_check_config(&mc, err) || model_init(&m, &mc, vocab_words(v), &init, err)) return -1;
    Trainer t;
    double rate = -1;
    if (trainer_init(&t, &m, d, x, &o, err) == GLM_OK) {
        TrainStats st;
        int ok = 1;
        for (int s = 0; s < BENCH_WARM && ok; s++) ok = trainer_step(&t, &st, err) == GLM_OK;
        const double t0 = glm_seconds(), m0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        const double p0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID), s0 = t.shards[0].cpu, c0 = t.cpu_critical;
        for (int s = 0; s < BENCH_STEPS && ok; s++) ok = trainer_step(&t, &st, err) == GLM_OK;
        if (ok) {
            rate = BENCH_STEPS / (glm_seconds() - t0);
            const double serial = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - m0 - (t.shards[0].cpu - s0);
            *idle = BENCH_STEPS / (serial + t.cpu_critical - c0);
            *cpu = (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - p0) / BENCH_STEPS;
        }
        trainer_free(&t);
    }
    model_free(&m);
    return rate;
}

int main(int argc, char **argv)
{
    blas_kernel_ensure(argv);   /* the kernels glimpse itself uses */
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_speed DATA_DIR MODEL [RUNS]\n");
        return 2;
    }
    const int runs = argc == 4 ? atoi(argv[3]) : 3;
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "bench_speed: RUNS must be 1..%d\n", MAX_RUNS);
        return 2;
    }
    openblas_set_num_threads(1);
    GlmError err;
    double v[MAX_RUNS];
    Model m;
    for (int r = 0; r < runs; r++) {
        const double t0 = glm_seconds();
        if (model_load(&m, argv[2], &err)) return fail(&err);
        v[r] = 1e3 * (glm_seconds() - t0);
        model_free(&m);
    }
    report("model_load", v, runs, "ms");
    if (model_load(&m, argv[2], &err)) return fail(&err);
    {
        ModelConfig pc = model_default_config();
        TrainOptions po = train_default_options();
        long pv;
        train_preset("shapes", &po, &pc, &pv);
        if (features_dim(&pc.feat) != features_dim(&m.cfg.feat) ||
            features_regions(&pc.feat) != features_regions(&m.cfg.feat)) {
            fprintf(stderr, "bench_speed: %s does not have the shapes preset's features\n", argv[2]);
            return 2;
        }
    }

    Dataset d;
    if (dataset_load_dir(&d, argv[1], "train", 0, &err)) return fail(&err);
    float *x = NULL;
    int *sizes = NULL;
    char name[64];
    for (int threads = 1; threads <= 2; threads++) {
        for (int r = 0; r < runs; r++) {
            free(x);
            free(sizes);
            const double t0 = glm_seconds();
            if (eval_features(&x, &sizes, &d, &m.cfg.feat, 0, threads, NULL, NULL, &err)) return fail(&err);
            v[r] = d.n_images / (glm_seconds() - t0);
        }
        snprintf(name, sizeof name, "features_t%d", threads);
        report(name, v, runs, "images/s");
    }
    for (int threads = 1; threads <= 2; threads++) {
        for (int r = 0; r < runs; r++) {
            EvalResult res;
            if (eval_run(&res, &m, &d, x, sizes, NULL, 3, threads, NULL, &err)) return fail(&err);
            v[r] = res.images / res.seconds;
        }
        snprintf(name, sizeof name, "captions_t%d", threads);
        report(name, v, runs, "captions/s");
    }

    /* training: the model's vocabulary from the split, as glimpse train builds it */
    Vocab voc;
    if (vocab_build(&voc, d.captions, d.n_captions, VOCAB_DEFAULT_MIN_COUNT, &err)) return fail(&err);
    ModelConfig mc = model_default_config();
    TrainOptions o = train_default_options();
    long ve;
    train_preset("shapes", &o, &mc, &ve);
    if (dataset_encode(&d, &voc, mc.max_len - 1, &err)) return fail(&err);
    for (int soft = 0; soft <= 1; soft++)
        for (int threads = 1; threads <= 2; threads++) {
            double idle[MAX_RUNS], cpu[MAX_RUNS];
            for (int r = 0; r < runs; r++)
                if ((v[r] = train_rate(&d, &voc, x, m.cfg.feat.dict, threads, soft, &idle[r], &cpu[r], &err)) < 0) return fail(&err);
            snprintf(name, sizeof name, "train_%s_t%d", soft ? "soft" : "hard", threads);
            report(name, v, runs, "steps/s");
            snprintf(name, sizeof name, "train_%s_t%d_idle", soft ? "soft" : "hard", threads);
            report(name, idle, runs, "steps/s");
            for (int r = 0; r < runs; r++) cpu[r] *= 1e3;
            snprintf(name, sizeof name, "train_%s_t%d_cpu", soft ? "soft" : "hard", threads);
            report(name, cpu, runs, "ms/step");
        }
    vocab_free(&voc);
    model_free(&m);
    free(x);
    free(sizes);
    dataset_free(&d);
    return 0;
}
