/* cmd_regions.c - `glimpse regions`: load images, cut them into the region
 * grid and print what the feature extractor sees in each region. A way to
 * check images load and to look at the features without a model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "features.h"
#include "image.h"
#include "model.h"

static void help(void)
{
    FeatConfig d = features_default_config();
    printf("usage: glimpse regions [options] IMAGE...\n"
           "\n"
           "Loads each image, resizes it to the model input, cuts it into the region grid\n"
           "and prints, per region, its mean colour (hex), edge strength and dominant edge\n"
           "orientation. With --model the grid of that model is used.\n"
           "\n"
           "options:\n"
           "  --model FILE          take the feature config from this model (default: the\n"
           "                        options below)\n"
           "  --vectors             also print every region's whole feature vector\n"
           "  -h, --help            this text\n"
           "feature options (the same as glimpse train's):\n");
    cli_feature_help(&d);
    printf("\nExit status: 0 ok, 1 runtime failure, 2 bad usage or an image that could\n"
           "not be read.\n");
}

static void print_grid(const char *path, const float *feat, const FeatConfig *c, int vectors)
{
    const FeatLayout lay = features_layout(c);
    const int k = c->orient_bins, cells = c->hog_cells * c->hog_cells;
    static const char *dirs = "|/-\\";   /* edge direction for bins near 0, 45, 90, 135 deg of gradient */
    printf("%s: %dx%d regions, %d features each\n", path, c->grid, c->grid, lay.dim);
    for (int r = 0; r < c->grid; r++) {
        for (int col = 0; col < c->grid; col++) {
            const float *v = feat + (size_t)(r * c->grid + col) * lay.dim;
            float orient[36] = {0}, energy = 0;
            for (int cell = 0; cell < cells; cell++)
                for (int b = 0; b < k; b++) {
                    orient[b] += v[lay.hog + cell * k + b];
                    energy += v[lay.hog + cell * k + b];
                }
            int best = 0;
            for (int b = 1; b < k; b++)
                if (orient[b] > orient[best]) best = b;
            int rgb[3];
            for (int i = 0; i < 3; i++) rgb[i] = (int)(v[lay.mean + i] * 255.0f + 0.5f);
            char dir = energy < 0.2f ? '.' : dirs[(best * 4 + k / 2) / k % 4];
            printf("  #%02x%02x%02x %c%.2f", rgb[0], rgb[1], rgb[2], dir, energy);
        }
        printf("\n");
    }
    if (!vectors) return;
    for (int i = 0; i < c->grid * c->grid; i++) {
        printf("  region %d (row %d, col %d):", i, i / c->grid, i % c->grid);
        for (int j = 0; j < lay.dim; j++) printf(" %.3f", feat[(size_t)i * lay.dim + j]);
        printf("\n");
    }
}

int cmd_regions(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"vectors", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},        CLI_FEATURE_OPTIONS, {0, 0, 0, 0},
    };
    FeatConfig c = features_default_config();
    const char *model_path = NULL;
    int vectors = 0, opt;
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const int feat = cli_feature_option(&c, opt, optarg);
        if (feat < 0) return 2;
        if (feat) continue;
        switch (opt) {
        case 'm': model_path = optarg; break;
        case 'v': vectors = 1; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("regions", opt, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("regions", "no image given");
    GlmError err;
    if (model_path) {
        Model m;
        if (model_load(&m, model_path, &err)) return cli_report(&err);
        c = m.cfg.feat;
        model_free(&m);
    }
    if (features_check_config(&c, &err)) return cli_report(&err);

    float *feat = glm_malloc_array((size_t)features_regions(&c) * features_dim(&c), sizeof(float));
    if (!feat) {
        cli_error("out of memory");
        return 1;
    }
    int status = 0;
    for (int i = optind; i < argc; i++) {
        if (features_from_file(feat, NULL, NULL, argv[i], &c, NULL, &err)) {
            int code = cli_report(&err);
            if (code > status) status = code;
            continue;
        }
        print_grid(argv[i], feat, &c, vectors);
    }
    free(feat);
    return status;
}
