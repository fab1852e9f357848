/* cmd_caption.c - `glimpse caption`: describe images with a trained model.
 * Prints IMAGE<TAB>caption per image, or with --json one JSON object per
 * line with every word's region, probability and attention map. An image
 * that cannot be read is reported on stderr and skipped; the others are
 * still captioned, and the exit status is then 2. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cli.h"
#include "pool.h"
#include "prior.h"
#include "text.h"
#include "search.h"
#include "features.h"
#include "model.h"
#include "rng.h"

#define CAPTION_DEFAULT_MODEL "shapes.glm"
/* Images decoded together: the batches are the same for every --threads
 * (workers take whole batches), so the output is too. */
#define CAPTION_BATCH 16

static void help(void)
{
    printf("usage: glimpse caption [options] IMAGE...\n"
           "\n"
           "Writes a caption for each image: IMAGE<TAB>caption, one line per image.\n"
           "\n"
           "options:\n"
           "  --model FILE   the model (default: %s from $GLIMPSE_MODEL, <bin>/../models\n"
           "                 or <prefix>/share/glimpse/models)\n"
           "  --beam K       beam search width, 1 = greedy (default %d)\n"
           "  --sample       hard attention: draw each word's region from alpha_t instead\n"
           "                 of taking the most likely one (default: off)\n"
           "  --seed S       seed for --sample; image k (of the IMAGE list) draws from stream\n"
           "                 (S, k), so its caption does not depend on the others (default %u)\n"
           "  --threads T    workers for the features and the decoding, 1..64 (default: the\n"
           "                 online cores, at most %d); the output is the same for any T\n"
           "  --json         JSON Lines instead: {\"image\", \"caption\", \"words\": [{\"word\",\n"
           "                 \"region\", \"row\", \"col\", \"p\", \"alpha\": [L weights]}]}; a model\n"
           "                 with an attention prior (train --prior 1) adds \"prior\": [L weights],\n"
           "                 softmax(pi0): where it expects what matters, from the image alone\n"
           "  -h, --help     this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure, 2 bad usage or an image that could not\n"
           "be read (the other images are still captioned).\n",
           CAPTION_DEFAULT_MODEL, CLI_DEFAULT_BEAM, RNG_DEFAULT_SEED, CLI_MAX_DEFAULT_THREADS);
}

/* s as a JSON string literal (quotes included). */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (*c < 0x20) fprintf(out, "\\u%04x", *c);
            else fputc(*c, out);
        }
    }
    fputc('"', out);
}

static void print_caption_text(FILE *out, const Model *m, const SearchResult *r)
{
    for (int j = 0; j < r->len; j++) fprintf(out, "%s%s", j ? " " : "", m->words[r->words[j]]);
}

/* pi0: (L) the image's attention prior scores, or NULL (no prior). */
static void print_result(const Model *m, const char *path, const SearchResult *r, const float *pi0, int json)
{
    if (!json) {
        text_put_name(stdout, path);
        fputc('\t', stdout);
        print_caption_text(stdout, m, r);
        fputc('\n', stdout);
        return;
    }
    const int G = m->cfg.feat.grid, L = G * G;
    fputs("{\"image\":", stdout);
    json_string(stdout, path);
    /* the caption through a buffer so it can be escaped as one string */
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    if (mem) {
        print_caption_text(mem, m, r);
        fclose(mem);
    }
    fputs(",\"caption\":", stdout);
    json_string(stdout, text ? text : "");
    free(text);
    if (pi0) {
        float prior[32 * 32];   /* L <= 32 x 32: features_check_config bounds the grid */
        prior_softmax(prior, pi0, L);
        fputs(",\"prior\":[", stdout);
        for (int k = 0; k < L; k++) printf("%s%.6g", k ? "," : "", (double)prior[k]);
        fputs("]", stdout);
    }
    fputs(",\"words\":[", stdout);
    for (int j = 0; j < r->len; j++) {
        const int i = r->regions[j];
        fputs(j ? ",{\"word\":" : "{\"word\":", stdout);
        json_string(stdout, m->words[r->words[j]]);
        printf(",\"region\":%d,\"row\":%d,\"col\":%d,\"p\":%.6g,\"alpha\":[", i, i / G, i % G, (double)r->p[j]);
        for (int k = 0; k < L; k++) printf("%s%.6g", k ? "," : "", (double)r->alpha[(long)j * L + k]);
        fputs("]}", stdout);
    }
    fputs("]}\n", stdout);
}

/* The images in flight: up to workers x CAPTION_BATCH, in argument order. */
typedef struct {
    const Model *m;
    int workers, L, F;
    char **paths;         /* (cap) this fill's arguments */
    int *rc;              /* (cap) features_from_file's status per fill slot */
    GlmError *errs;       /* (cap) */
    float *fx;            /* (cap, L, F) this fill's features */
    int fill_n;
    float *x;             /* (cap, L, F) pending images, readable, in order */
    Rng *rows;            /* (cap) their --sample streams */
    int n_batches, n_pending;
    Search *dec;          /* (workers) */
    SearchOptions opt;
} CaptionJob;

static void features_job(void *ctx, int k)
{
    CaptionJob *j = ctx;
    int lo, hi;
    pool_share(j->fill_n, j->workers, k, &lo, &hi);
    const size_t per = (size_t)j->L * j->F;
    for (int q = lo; q < hi; q++)
        j->rc[q] = features_from_file(j->fx + q * per, NULL, NULL, j->paths[q], &j->m->cfg.feat, NULL, &j->errs[q]);
}

static void decode_job(void *ctx, int k)
{
    CaptionJob *j = ctx;
    if (k >= j->n_batches) return;
    const int start = k * CAPTION_BATCH, n = GLM_MIN(CAPTION_BATCH, j->n_pending - start);
    SearchOptions opt = j->opt;
    opt.rows = opt.sample ? j->rows + start : NULL;
    search_run(&j->dec[k], &j->m->p, j->x + (size_t)start * j->L * j->F, n, &opt);
}

static void run(Pool *pool, PoolJob job, void *ctx)
{
    if (pool) pool_run(pool, job, ctx);
    else job(ctx, 0);
}

int cmd_caption(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"beam", required_argument, 0, 'b'},
        {"sample", no_argument, 0, 'S'},      {"seed", required_argument, 0, 's'},
        {"json", no_argument, 0, 'j'},        {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model_path = NULL;
    long beam = CLI_DEFAULT_BEAM, seed = RNG_DEFAULT_SEED, v, threads = cli_default_threads();
    int sample = 0, json = 0, opt;
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model_path = optarg; break;
        case 'b': if (!cli_parse_int("--beam", optarg, 1, 64, &beam)) return 2; break;
        case 'S': sample = 1; break;
        case 's': if (!cli_parse_int("--seed", optarg, 0, 0x7fffffffL, &v)) return 2; seed = v; break;
        case 'j': json = 1; break;
        case 't': if (!cli_parse_int("--threads", optarg, 1, POOL_MAX_THREADS, &threads)) return 2; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("caption", opt, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("caption", "no image given");

    Model m;
    char found[4096];
    int st = cli_load_model(&m, &model_path, found, sizeof found, CAPTION_DEFAULT_MODEL);
    if (st) return st;
    GlmError err;

    const int L = features_regions(&m.cfg.feat), F = features_dim(&m.cfg.feat);
    const int n_images = argc - optind;
    const int workers = (int)GLM_MIN(threads, (n_images + CAPTION_BATCH - 1) / CAPTION_BATCH);
    const int cap = workers * CAPTION_BATCH;
    const size_t per = (size_t)L * F;
    openblas_set_num_threads(1);   /* the workers are the threads */
    CaptionJob job = {.m = &m, .workers = workers, .L = L, .F = F,
                      .opt = {.beam = (int)beam, .sample = sample}};
    job.paths = calloc((size_t)cap, sizeof *job.paths);
    job.rc = calloc((size_t)cap, sizeof *job.rc);
    job.errs = calloc((size_t)cap, sizeof *job.errs);
    job.fx = glm_malloc_array((size_t)cap * per, sizeof(float));
    job.x = glm_malloc_array((size_t)cap * per, sizeof(float));
    job.rows = calloc((size_t)cap, sizeof *job.rows);
    job.dec = calloc((size_t)workers, sizeof *job.dec);
    const char **names = calloc((size_t)cap, sizeof *names);   /* the pending images' paths */
    int status = 0, ready = job.paths && job.rc && job.errs && job.fx && job.x && job.rows && job.dec && names;
    int n_init = 0;
    for (; ready && n_init < workers; n_init++)
        if (search_init(&job.dec[n_init], &m.cfg, CAPTION_BATCH, (int)beam, &err)) break;
    Pool *pool = NULL;
    if (ready && n_init == workers && workers > 1) pool = pool_new(workers, &err);
    if (!ready || n_init < workers || (workers > 1 && !pool)) {
        status = ready ? cli_report(&err) : (cli_error("out of memory"), 1);
        goto done;
    }
    /* Fill the pending images up to cap (features in parallel, unreadable
     * ones reported and left out), decode them as whole batches in
     * parallel, print in order; a last partial batch waits for more. */
    for (int next = optind; next < argc || job.n_pending > 0;) {
        job.fill_n = GLM_MIN(cap - job.n_pending, argc - next);
        for (int q = 0; q < job.fill_n; q++) job.paths[q] = argv[next + q];
        if (job.fill_n > 0) run(pool, features_job, &job);
        for (int q = 0; q < job.fill_n; q++) {
            if (job.rc[q]) {
                const int code = cli_report(&job.errs[q]);   /* not inside GLM_MAX: it evaluates twice */
                status = GLM_MAX(status, code);
                continue;
            }
            memcpy(job.x + job.n_pending * per, job.fx + q * per, per * sizeof(float));
            rng_seed(&job.rows[job.n_pending], (uint64_t)seed, (uint64_t)(next + q - optind));
            names[job.n_pending++] = argv[next + q];
        }
        next += job.fill_n;
        const int last = next == argc;
        if (job.n_pending < cap && !(last && job.n_pending > 0)) continue;
        job.n_batches = (job.n_pending + CAPTION_BATCH - 1) / CAPTION_BATCH;
        run(pool, decode_job, &job);
        for (int k = 0; k < job.n_pending; k++) {
            const Search *sd = &job.dec[k / CAPTION_BATCH];
            const float *pi0 = m.cfg.prior ? sd->pi0 + (size_t)(k % CAPTION_BATCH) * sd->K * sd->L : NULL;
            print_result(&m, names[k], &sd->results[k % CAPTION_BATCH], pi0, json);
        }
        fflush(stdout);
        job.n_pending = 0;
    }
done:
    pool_free(pool);
    for (int k = 0; job.dec && k < workers; k++) search_free(&job.dec[k]);   /* also a failed one */
    free(job.paths);
    free(job.rc);
    free(job.errs);
    free(job.fx);
    free(job.x);
    free(job.rows);
    free(job.dec);
    free(names);
    model_free(&m);
    return status;
}
