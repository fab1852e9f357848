/* cmd_data.c - `glimpse data shapes|fashion`: writes a synthetic data set
 * (docs/data-format.md) with known ground truth.
 *
 * Only options, progress and the summary line live here; the atomic
 * directory writing is scene_dataset.c, drawing scene_draw.c, captions
 * scenes.c. It does not read or convert caption files of real data sets
 * (train/eval take those directly).
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "idx.h"
#include "rng.h"
#include "scene_canvas.h"
#include "scene_dataset.h"
#include "scene_draw.h"

static void help(void)
{
    printf("usage: glimpse data shapes  --out DIR [--count N] [--seed S] [--size PX] [--split T,V,E]\n"
           "       glimpse data fashion --out DIR [--count N] [--seed S] [--size PX] [--split T,V,E]\n"
           "                            [--fashion-dir DIR]\n"
           "\n"
           "Writes a synthetic image-caption data set with ground truth for grounding:\n"
           "DIR/images/*.png, captions.tsv (5 references per image), objects.tsv (words and\n"
           "box of every object), train.txt, val.txt, test.txt, info.txt (and sources.tsv\n"
           "for fashion). See docs/data-format.md.\n"
           "\n"
           "  shapes   1-3 non-overlapping shapes (circle, square, triangle, cross) in 6\n"
           "           colours and 2 sizes on a lightly textured background\n"
           "  fashion  1-3 Fashion-MNIST photos (distinct classes; 2-3 with --vary 0) on\n"
           "           such a canvas; train and val scenes use the 60000 training photos\n"
           "           (train the first 90%%, val the last 10%%), test scenes only the\n"
           "           10000 t10k photos\n"
           "\n"
           "options:\n"
           "  --out DIR          output directory; must not exist or be empty (required).\n"
           "                     Written as DIR.tmp-XXXXXX and renamed when complete\n"
           "  --count N          number of images, 1..10000000 (default 1000)\n"
           "  --seed S           random seed; the same seed gives the same bytes (default %u)\n"
           "  --size PX          the square canvas's side in pixels, before --canvas (default\n"
           "                     %d for shapes, %d for fashion; at least %d / %d)\n"
           "  --split T,V,E      train, val, test fractions summing to 1 (default 0.8,0.1,0.1)\n"
           "  --fashion-dir DIR  where {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz are\n"
           "                     (default %s)\n"
           "  --vary 0|1         1: vary what a caption does not care about, as pictures drawn\n"
           "                     elsewhere do: pale, dark or tinted backgrounds, often with a\n"
           "                     gradient, object sides within +-15%%, fashion items light on\n"
           "                     dark as well as dark on light; 0: the pale background only,\n"
           "                     the data the shipped models before feature version 4 saw\n"
           "                     (default 1)\n"
           "  --degrade 0|1      with --vary 1: pass a quarter of the pictures through sensor\n"
           "                     noise, a fifth through a slight blur and three in ten\n"
           "                     through a JPEG round trip at quality 50..95, as photos and\n"
           "                     saved files are (src/scene_degrade.h); 0: clean (default 1)\n"
           "  --canvas 0|1       with --vary 1: extend %d%% of the canvases along one axis with\n"
           "                     their own background to an aspect ratio of 4:3 to 2:1 (either\n"
           "                     way) and resample %d%% to a shorter side of 0.6-2x --size (not\n"
           "                     below the minimum size), as users' pictures are not squares\n"
           "                     of one size; objects.tsv's boxes are in the written\n"
           "                     picture's pixels (src/scene_canvas.h); 0: every picture\n"
           "                     --size square (default 1)\n"
           "  --quiet            no progress lines on stderr\n"
           "  -h, --help         this text\n"
           "\n"
           "Exit status: 0 ok, 1 a file could not be read or written, 2 bad options or\n"
           "bad input (e.g. a corrupt IDX file, an existing non-empty --out).\n",
           RNG_DEFAULT_SEED, SCENE_SHAPES_DEFAULT_SIZE, SCENE_FASHION_DEFAULT_SIZE,
           SCENE_SHAPES_MIN_SIZE, SCENE_FASHION_MIN_SIZE, FASHION_DEFAULT_DIR,
           (int)lroundf(100 * SCENE_CANVAS_EXTEND_P), (int)lroundf(100 * SCENE_CANVAS_RESCALE_P));
}

static int parse_split(const char *s, double split[3])
{
    char *end;
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        split[i] = strtod(p, &end);
        if (end == p || !(split[i] >= 0 && split[i] <= 1)) return 0;
        if (i < 2 && *end != ',') return 0;
        p = end + (i < 2);
    }
    if (*end) return 0;
    double sum = split[0] + split[1] + split[2];
    return sum > 1 - 1e-6 && sum < 1 + 1e-6;
}

typedef struct {
    const char *kind;
    int quiet;
} Progress;

/* SIGINT, SIGTERM, SIGHUP: the generator stops at the next scene and
 * removes its temporary directory (tens of MB), then the signal is raised
 * again with its default action, so the caller sees how we ended. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void progress(void *ctx, int done, int total)
{
    const Progress *p = ctx;
    if (p->quiet || total < 2000) return;
    fprintf(stderr, "data %s: %d/%d images\n", p->kind, done, total);
}

int cmd_data(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error("data", "which data set? 'shapes' or 'fashion'");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return 0;
    }
    SceneKind kind;
    if (!strcmp(argv[1], "shapes")) kind = SCENE_KIND_SHAPES;
    else if (!strcmp(argv[1], "fashion")) kind = SCENE_KIND_FASHION;
    else return cli_usage_error("data", "unknown data set '%s' (shapes or fashion)", argv[1]);

    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},   {"count", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'},  {"size", required_argument, 0, 'z'},
        {"split", required_argument, 0, 'p'}, {"fashion-dir", required_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {"vary", required_argument, 0, 'v'}, {"degrade", required_argument, 0, 'g'},
        {"canvas", required_argument, 0, 'c'},
        {0, 0, 0, 0},
    };
    SceneGenParams p = scene_gen_default_params(kind);
    const char *out = NULL;
    int seed_given = 0, quiet = 0, dir_given = 0, opt;
    long v;
    argc--;
    argv++;
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'n':
            if (!cli_parse_int("--count", optarg, 1, 10000000, &v)) return 2;
            p.count = (int)v;
            break;
        case 's':
            if (!cli_parse_int("--seed", optarg, 0, 0x7fffffffffffffffL, &v)) return 2;
            p.seed = (uint64_t)v;
            seed_given = 1;
            break;
        case 'z':
            if (!cli_parse_int("--size", optarg,
                               kind == SCENE_KIND_FASHION ? SCENE_FASHION_MIN_SIZE : SCENE_SHAPES_MIN_SIZE,
                               SCENE_MAX_SIZE, &v))
                return 2;
            p.size = (int)v;
            break;
        case 'p':
            if (!parse_split(optarg, p.split))
                return cli_usage_error("data", "--split: '%s' is not three fractions T,V,E summing to 1", optarg);
            break;
        case 'f':
            p.fashion_dir = optarg;
            dir_given = 1;
            break;
        case 'v':
            if (!cli_parse_int("--vary", optarg, 0, 1, &v)) return 2;
            p.vary = (int)v;
            break;
        case 'g':
            if (!cli_parse_int("--degrade", optarg, 0, 1, &v)) return 2;
            p.degrade = (int)v;
            break;
        case 'c':
            if (!cli_parse_int("--canvas", optarg, 0, 1, &v)) return 2;
            p.canvas = (int)v;
            break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("data", opt, argv);
        }
    }
    if (optind < argc) return cli_usage_error("data", "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error("data", "--out DIR is required");
    if (kind == SCENE_KIND_SHAPES && dir_given)
        return cli_usage_error("data", "--fashion-dir is only for 'data fashion'");

    Progress pr = {argv[0], quiet};
    GlmError err = {0};
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = on_signal}, old[3];
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        sigaction(sigs[i], NULL, &old[i]);
        if (old[i].sa_handler != SIG_IGN) sigaction(sigs[i], &sa, NULL);   /* nohup stays nohup */
    }
    p.stop = &stop_signal;
    const int rc = scene_generate_dataset(out, &p, progress, &pr, &err);
    for (int i = 0; i < 3; i++) sigaction(sigs[i], &old[i], NULL);
    if (stop_signal) {
        cli_error("%s", err.msg);
        signal(stop_signal, SIG_DFL);
        raise(stop_signal);
        return 1;
    }
    if (rc) return cli_report(&err);
    int counts[3];
    scene_split_counts(counts, p.count, p.split);
    printf("wrote %d %s scenes to %s (train %d, val %d, test %d; seed %llu%s, size %d)\n", p.count,
           argv[0], out, counts[0], counts[1], counts[2], (unsigned long long)p.seed,
           seed_given ? "" : " (default)", p.size);
    return 0;
}
