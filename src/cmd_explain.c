/* cmd_explain.c - `glimpse explain`: one REINFORCE update on one image,
 * printed step by step (explain.h does the work): the region grid, the
 * policy alpha_t at every word of a sampled rollout, the reward, the
 * greedy baseline and the advantage, the gradient of log pi w.r.t. the
 * attention scores, and alpha_t after one gradient step; then the same for
 * a rollout whose advantage has the other sign, when one turns up in
 * --tries tries. --html writes the same as a page with the heatmaps.
 *
 * References: --refs, else the image's data set's (IMAGE is DIR/images/NAME
 * and DIR/captions.tsv exists: docs/data-format.md), all of the data set's
 * images loaded so that CIDEr-D gets its document frequencies. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "explain.h"
#include "features.h"
#include "image.h"
#include "model.h"
#include "rng.h"
#include "vocab.h"

#define EXPLAIN_DEFAULT_MODEL "shapes.glm"
#define EXPLAIN_MAX_REFS 64
#define EXPLAIN_KEEP_SIDE 1024   /* the picture drawn on the page, longer side at most */

static void help(void)
{
    printf("usage: glimpse explain [options] IMAGE\n"
           "\n"
           "Walks through one REINFORCE update of the hard-attention policy on IMAGE, with\n"
           "the training code itself, and prints in words and numbers:\n"
           "  1. the region grid (which pixels each region covers);\n"
           "  2. for each word of a sampled rollout, alpha_t (the policy over regions) as a\n"
           "     text grid, the region sampled and its probability;\n"
           "  3. the rollout's reward against the references (the n-grams that matched),\n"
           "     the greedy decode's reward (the self-critical baseline), the advantage r - b;\n"
           "  4. the gradient of A log alpha_t(s_t) w.r.t. every region's attention score;\n"
           "  5. alpha_t after one gradient step on this image alone;\n"
           "then 2-5 again for a rollout whose advantage has the other sign, if one is found.\n"
           "\n"
           "options:\n"
           "  --model FILE      the model (default: %s from $GLIMPSE_MODEL, <bin>/../models\n"
           "                    or <prefix>/share/glimpse/models)\n"
           "  --refs \"A|B|...\"  the reference captions, separated by '|' (default: the\n"
           "                    data set's, when IMAGE is DIR/images/NAME of a glimpse data\n"
           "                    set with DIR/captions.tsv; otherwise required)\n"
           "  --reward NAME     cider, bleu4 or f1 (default: cider with a data set's\n"
           "                    references, bleu4 with --refs: CIDEr-D weighs n-grams by how\n"
           "                    many images' references hold them, which one image cannot tell)\n"
           "  --optimizer NAME  sgd or adam, the one step (default sgd: it shows the gradient's\n"
           "                    size; adam's first step is about lr * sign(g) per weight)\n"
           "  --lr X            the step's learning rate (default %g for sgd, %g for adam)\n"
           "  --tries N         rollouts tried for one with the other sign (default %d)\n"
           "  --seed S          seed of the rollouts (default %u)\n"
           "  --html FILE       also write the walk-through as a self-contained page with the\n"
           "                    heatmaps before and after the step (default: none)\n"
           "  --png FILE        also write those heatmaps as one PNG: per rollout, alpha_t\n"
           "                    before the step, then after (default: none)\n"
           "  -h, --help        this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure, 2 bad usage or bad input.\n",
           EXPLAIN_DEFAULT_MODEL, (double)EXPLAIN_DEFAULT_SGD_LR, (double)EXPLAIN_DEFAULT_ADAM_LR,
           EXPLAIN_DEFAULT_TRIES, RNG_DEFAULT_SEED);
}

/* Splits s (modified) at '|' into trimmed captions; 0 when one is empty
 * or there are too many. */
static int split_refs(char *s, const char **refs, int *n)
{
    *n = 0;
    for (char *p = s;;) {
        char *bar = strchr(p, '|');
        if (bar) *bar = 0;
        while (*p == ' ' || *p == '\t') p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
        if (!*p || *n == EXPLAIN_MAX_REFS) return 0;
        refs[(*n)++] = p;
        if (!bar) return 1;
        p = bar + 1;
    }
}

/* DIR when path is DIR/images/NAME and DIR/captions.tsv is a file. */
static int data_set_of(char *dir, size_t size, const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    char *images = dirname(copy);   /* DIR/images */
    const char *base = strrchr(images, '/');
    if (strcmp(base ? base + 1 : images, "images") != 0) return 0;
    char up[4096];
    snprintf(up, sizeof up, "%s", images);
    snprintf(dir, size, "%s", dirname(up));
    char tsv[4200];
    snprintf(tsv, sizeof tsv, "%s/captions.tsv", dir);
    struct stat st;
    return stat(tsv, &st) == 0 && S_ISREG(st.st_mode);
}

/* The picture drawn on the page: at most EXPLAIN_KEEP_SIDE a side, padded
 * to a square as the model saw it when it keeps the aspect ratio. */
static int drawn_picture(Image *img, const FeatConfig *fc, GlmError *err)
{
    const int longer = GLM_MAX(img->w, img->h);
    if (longer > EXPLAIN_KEEP_SIDE) {
        Image small;
        int rc = image_resize(&small, img, GLM_MAX(1, (int)((long)img->w * EXPLAIN_KEEP_SIDE / longer)),
                              GLM_MAX(1, (int)((long)img->h * EXPLAIN_KEEP_SIDE / longer)), err);
        if (rc) return rc;
        image_free(img);
        *img = small;
    }
    return fc->keep_aspect ? image_pad_square_own(img, err) : GLM_OK;
}

int cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},  {"refs", required_argument, 0, 'r'},
        {"reward", required_argument, 0, 'w'}, {"optimizer", required_argument, 0, 'o'},
        {"lr", required_argument, 0, 'l'},     {"tries", required_argument, 0, 't'},
        {"seed", required_argument, 0, 's'},   {"html", required_argument, 0, 'H'},
        {"png", required_argument, 0, 'P'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model_path = NULL, *html = NULL, *png = NULL;
    char *refs_arg = NULL;
    long seed = RNG_DEFAULT_SEED, v;
    double lr = -1, d;
    ExplainOptions eo = explain_default_options();
    int reward = -1, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model_path = optarg; break;
        case 'r': refs_arg = optarg; break;
        case 'H': html = optarg; break;
        case 'P': png = optarg; break;
        case 'w':
            reward = reinforce_reward_parse(optarg);
            if (reward < 0 || reward == REWARD_LOGLIK)
                return cli_usage_error("explain", "--reward: \"%s\" is not cider, bleu4 or f1", optarg);
            break;
        case 'o':
            if ((eo.optimizer = explain_optimizer_parse(optarg)) < 0)
                return cli_usage_error("explain", "--optimizer: \"%s\" is not sgd or adam", optarg);
            break;
        case 'l': if (!cli_parse_float("--lr", optarg, 1e-9, 100, &d)) return 2; lr = d; break;
        case 't': if (!cli_parse_int("--tries", optarg, 0, 10000, &v)) return 2; eo.tries = (int)v; break;
        case 's': if (!cli_parse_int("--seed", optarg, 0, 0x7fffffffL, &v)) return 2; seed = v; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("explain", opt, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("explain", "no image given");
    if (optind + 1 < argc) return cli_usage_error("explain", "one image at a time (%d given)", argc - optind);
    const char *path = argv[optind];
    eo.lr = lr > 0 ? (float)lr : eo.optimizer == EXPLAIN_ADAM ? EXPLAIN_DEFAULT_ADAM_LR : EXPLAIN_DEFAULT_SGD_LR;

    /* the references: where from, checked before any work */
    const char *refs[EXPLAIN_MAX_REFS];
    int n_refs = 0;
    char dir[4096];
    int from_data = 0;
    if (refs_arg) {
        if (!split_refs(refs_arg, refs, &n_refs))
            return cli_usage_error("explain", "--refs: give 1 to %d captions separated by '|', none empty",
                                   EXPLAIN_MAX_REFS);
    } else if (data_set_of(dir, sizeof dir, path)) {
        from_data = 1;
    } else {
        cli_error("%s: not an image of a glimpse data set (DIR/images/NAME with DIR/captions.tsv): "
                  "give its references with --refs \"caption|caption...\"", path);
        return 2;
    }
    eo.reward = reward >= 0 ? reward : from_data ? REWARD_CIDER : REWARD_BLEU4;
    if (!from_data && eo.reward == REWARD_CIDER) {
        cli_error("--reward cider needs a data set's references: CIDEr-D weighs each n-gram by how many "
                  "images' references hold it, and with one image every weight is 0; use bleu4 or f1");
        return 2;
    }
    if ((html && !cli_can_create(html)) || (png && !cli_can_create(png))) return 2;

    Model m;
    char found[4096];
    int st = cli_load_model(&m, &model_path, found, sizeof found, EXPLAIN_DEFAULT_MODEL);
    if (st) return st;
    GlmError err;

    int status = 0, image = 0, have_explain = 0;
    Dataset ds;
    Vocab vocab;
    Image img = {0};
    Explain e;
    float *x = NULL;
    int *boxes = NULL;
    char *text = NULL;
    memset(&ds, 0, sizeof ds);
    memset(&vocab, 0, sizeof vocab);
    char name_buf[4096];
    snprintf(name_buf, sizeof name_buf, "%s", path);
    const char *name = basename(name_buf);
    if (from_data) {
        char tsv[4200], images_dir[4200];
        snprintf(tsv, sizeof tsv, "%s/captions.tsv", dir);
        snprintf(images_dir, sizeof images_dir, "%s/images", dir);
        if (dataset_load_captions(&ds, tsv, images_dir, NULL, 0, &err)) {
            status = cli_report(&err);
            goto done;
        }
        if ((image = dataset_find(&ds, name)) < 0) {
            cli_error("%s: %s has no references for %s: give them with --refs", path, tsv, name);
            status = 2;
            goto done;
        }
    } else {
        char dir_buf[4096];
        snprintf(dir_buf, sizeof dir_buf, "%s", path);
        const DatasetRefImage one = {.name = name, .line = 1, .refs = refs, .n_refs = n_refs};
        if (dataset_load_refs(&ds, &one, 1, "--refs", dirname(dir_buf), NULL, 1, &err)) {
            status = cli_report(&err);
            goto done;
        }
    }
    if (vocab_from_words(&vocab, (const char *const *)m.words, m.cfg.vocab, &err) ||
        dataset_encode(&ds, &vocab, m.cfg.max_len - 1, &err)) {
        status = cli_report(&err);
        goto done;
    }

    const FeatConfig *fc = &m.cfg.feat;
    const int L = features_regions(fc), F = features_dim(fc);
    x = glm_malloc_array((size_t)L, (size_t)F * sizeof(float));   /* (L, F) */
    if (!x) {
        cli_error("out of memory");
        status = 1;
        goto done;
    }
    if (image_load(&img, path, &err) || features_of_image(x, &img, fc, NULL, &err)) {
        status = cli_report(&err);
        goto done;
    }
    const int w = img.w, h = img.h;

    have_explain = 1;
    if (explain_init(&e, &m, &ds, &err)) {
        status = cli_report(&err);
        goto done;
    }
    Rng rng;
    rng_seed(&rng, (uint64_t)seed, 0);
    ExplainRollout *a = &e.roll[0], *b = &e.roll[1];
    explain_rollout(&e, a, x, image, &eo, &rng);
    explain_step(&e, a, x, a->advantage, &eo);
    const int found_at = explain_other_sign(&e, b, x, image, a->advantage, &eo, &rng);
    if (found_at) explain_step(&e, b, x, b->advantage, &eo);

    printf("glimpse explain: one REINFORCE update on %s\n"
           "model %s (hard attention, %dx%d regions, %d words); references: %s; reward %s; seed %ld\n\n",
           path, model_path, fc->grid, fc->grid, m.cfg.vocab,
           from_data ? "the data set's (captions.tsv)" : "--refs", reinforce_reward_name(eo.reward), seed);
    if (!(text = explain_text(&e, &ds, image, w, h, &eo, e.roll, found_at ? 2 : 1, &err))) {
        status = cli_report(&err);
        goto done;
    }
    fputs(text, stdout);
    if (found_at)
        printf("(rollout 2 is try %d of %d further rollouts, seed %ld.)\n", found_at, eo.tries, seed);
    else
        printf("No rollout %s in %d further tries (seed %ld): %s\n",
               a->advantage != 0 ? "of the other sign" : "with a non-zero advantage", eo.tries, seed,
               a->advantage < 0 ? "the greedy decode is hard to beat here; try another --seed or more --tries"
                                : "try another --seed or more --tries");

    if (html || png) {
        if (drawn_picture(&img, fc, &err)) {
            status = cli_report(&err);
            goto done;
        }
        boxes = glm_malloc_array((size_t)L, 4 * sizeof(int));
        if (!boxes) {
            cli_error("out of memory");
            status = 1;
            goto done;
        }
        const int G = fc->grid;
        for (int i = 0; i < L; i++) {
            int *bx = boxes + 4 * i;
            features_cell_in_picture(fc, i / G, i % G, img.w, img.h, &bx[0], &bx[1], &bx[2], &bx[3]);
            bx[0] = GLM_MIN(bx[0], img.w - 1), bx[1] = GLM_MIN(bx[1], img.h - 1);
            bx[2] = GLM_MAX(bx[2], bx[0] + 1), bx[3] = GLM_MAX(bx[3], bx[1] + 1);
        }
        const int nr = found_at ? 2 : 1;
        if ((html && explain_write_html(html, &e, text, &img, name, boxes, e.roll, nr, &err)) ||
            (png && explain_write_png(png, &e, &img, name, boxes, e.roll, nr, &err))) {
            status = cli_report(&err);
            goto done;
        }
        if (html) printf("page: %s\n", html);
        if (png) printf("picture: %s\n", png);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("standard output: %s", errno ? strerror(errno) : "write failed");
        status = 1;
    }

done:
    free(text);
    free(boxes);
    free(x);
    image_free(&img);
    if (have_explain) explain_free(&e);
    vocab_free(&vocab);
    dataset_free(&ds);
    model_free(&m);
    return status;
}
