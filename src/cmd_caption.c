/* cmd_caption.c - `glimpse caption`: describe images with a trained model.
 * Prints IMAGE<TAB>caption per image, or with --json one JSON object per
 * line with every word's region, probability and attention map. An image
 * that cannot be read is reported on stderr and skipped; the others are
 * still captioned, and the exit status is then 2. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "prior.h"
#include "text.h"
#include "search.h"
#include "features.h"
#include "model.h"
#include "rng.h"

#define CAPTION_DEFAULT_MODEL "shapes.glm"
#define CAPTION_BATCH 16   /* images decoded together */

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
           "  --seed S       seed for --sample (default %u)\n"
           "  --json         JSON Lines instead: {\"image\", \"caption\", \"words\": [{\"word\",\n"
           "                 \"region\", \"row\", \"col\", \"p\", \"alpha\": [L weights]}]}; a model\n"
           "                 with an attention prior (train --prior 1) adds \"prior\": [L weights],\n"
           "                 softmax(pi0): where it expects what matters, from the image alone\n"
           "  -h, --help     this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure, 2 bad usage or an image that could not\n"
           "be read (the other images are still captioned).\n",
           CAPTION_DEFAULT_MODEL, CLI_DEFAULT_BEAM, RNG_DEFAULT_SEED);
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

int cmd_caption(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"beam", required_argument, 0, 'b'},
        {"sample", no_argument, 0, 'S'},      {"seed", required_argument, 0, 's'},
        {"json", no_argument, 0, 'j'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model_path = NULL;
    long beam = CLI_DEFAULT_BEAM, seed = RNG_DEFAULT_SEED, v;
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
        case 'h': help(); return 0;
        default: return cli_bad_option("caption", opt, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("caption", "no image given");

    char found[4096];
    if (!model_path) {
        if (!cli_default_model(found, sizeof found, CAPTION_DEFAULT_MODEL)) {
            cli_error("%s", found);
            return 2;
        }
        model_path = found;
    }
    GlmError err;
    Model m;
    if (model_load(&m, model_path, &err)) return cli_report(&err);

    const int L = features_regions(&m.cfg.feat), F = features_dim(&m.cfg.feat);
    Search d;
    float *x = glm_malloc_array((size_t)CAPTION_BATCH * L * F, sizeof(float));   /* (batch, L, F) */
    const char **names = calloc(CAPTION_BATCH, sizeof *names);
    if (!x || !names || search_init(&d, &m.cfg, CAPTION_BATCH, (int)beam, &err)) {
        int code = x && names ? cli_report(&err) : (cli_error("out of memory"), 1);
        free(x);
        free(names);
        model_free(&m);
        return code;
    }
    Rng rng;
    rng_seed(&rng, (uint64_t)seed, 0);
    SearchOptions dopt = {.beam = (int)beam, .sample = sample, .rng = &rng};
    int status = 0, n = 0;
    for (int i = optind; i <= argc; i++) {
        if (i < argc) {
            if (features_from_file(x + (size_t)n * L * F, NULL, NULL, argv[i], &m.cfg.feat, NULL, &err)) {
                int code = cli_report(&err);
                status = GLM_MAX(status, code);
                continue;
            }
            names[n++] = argv[i];
        }
        if (n == CAPTION_BATCH || (i == argc && n > 0)) {
            search_run(&d, &m.p, x, n, &dopt);
            for (int k = 0; k < n; k++)
                print_result(&m, names[k], &d.results[k], m.cfg.prior ? d.pi0 + (size_t)k * d.K * L : NULL, json);
            fflush(stdout);
            n = 0;
        }
    }
    search_free(&d);
    free(x);
    free(names);
    model_free(&m);
    return status;
}
