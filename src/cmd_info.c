/* cmd_info.c - `glimpse info`: what a model (or checkpoint) file holds: its
 * configuration, vocabulary size, parameter count, feature extractor version
 * and the options that trained it. Reads the file, changes nothing. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "model.h"
#include "modelfile.h"
#include "reinforce.h"
#include "vocab.h"

static void help(void)
{
    printf("usage: glimpse info MODEL...\n"
           "\n"
           "Prints what each model or training checkpoint holds: attention kind, sizes,\n"
           "vocabulary, parameter count, the region features (and their extractor version),\n"
           "and the training options, when the file records them (models written by\n"
           "glimpse train since 0.2 and every checkpoint do).\n"
           "\n"
           "options:\n"
           "  -h, --help    this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure, 2 bad usage or a file that is not a\n"
           "glimpse model.\n");
}

static const char *attention_name(int kind)
{
    static const char *names[] = {"hard (one region per word, trained by REINFORCE)",
                                  "soft (the alpha-weighted blend of all regions)",
                                  "random (ablation: a region drawn uniformly)",
                                  "mean (ablation: the mean of all regions)"};
    return kind >= 0 && kind < 4 ? names[kind] : "?";
}

static void print_training(const TrainOptions *o)
{
    printf("  training        %ld steps of %d captions, lr %g (x%g every %ld steps, %ld warm-up), clip %g\n",
           o->steps, o->batch, o->lr, o->lr_decay, o->lr_decay_every, o->warmup, o->clip);
    printf("                  reward %s, baseline %s, REINFORCE weight %g, entropy bonus %g\n",
           reinforce_reward_name(o->reward), reinforce_baseline_name(o->baseline), o->rl_weight, o->entropy);
    char refs[32] = "all";
    if (o->refs) snprintf(refs, sizeof refs, "the first %d", o->refs);
    printf("                  soft warm-up %ld steps, soft mix %g, doubly stochastic %g, references %s, seed %llu\n",
           o->soft_warmup, o->soft_mix, o->doubly, refs, (unsigned long long)o->seed);
    if (o->prior_supervise > 0)
        printf("                  attention prior supervised toward the object regions, weight %g\n", o->prior_supervise);
    printf("                  words seen fewer than %d times are <unk>\n", o->min_count);
}

static int info_one(const char *path)
{
    GlmError err = {0};
    Model m;
    if (model_load(&m, path, &err)) return cli_report(&err);
    const ModelConfig *c = &m.cfg;
    const FeatConfig *f = &c->feat;
    MfFile file;
    int64_t step = -1;
    if (mf_read(&file, path, &err) == GLM_OK) {
        if (!mf_find_setting(&file, "train.step", &step)) step = -1;
        mf_free(&file);
    }
    printf("%s\n", path);
    if (step >= 0) printf("  kind            training checkpoint at step %lld (also usable as a model)\n", (long long)step);
    else printf("  kind            model\n");
    printf("  attention       %s\n", attention_name(c->attention));
    if (c->attention == ATTN_SOFT) printf("                  gate beta_t %s\n", c->gate ? "on" : "off");
    printf("  attention prior %s\n", c->prior ? "yes: pi0_i = v . tanh(W a_i + b) added to every step's logits"
                                                 : "none");
    printf("  initial state   %s\n", c->init_mean ? "from the mean region (as in the paper)" : "learned constants");
    printf("  vocabulary      %d words (%d special)\n", c->vocab, VOCAB_N_SPECIAL);
    printf("  sizes           embedding E %d, LSTM H %d, region projection D %d, attention A %d, "
           "longest caption %d\n", c->embed, c->hidden, c->proj, c->att, c->max_len - 1);
    printf("  parameters      %zu (%.1f KiB of float32)\n", m.n_params, (double)m.n_params * 4 / 1024);
    printf("  features        extractor version %d; %d-px input, %dx%d grid of %d-px windows %d px apart; "
           "%d numbers per region\n", f->version, f->input, f->grid, f->grid, f->window, f->stride,
           features_dim(f));
    printf("                  colour levels %d, orientation cells %dx%d of %d bins, patch %dx%d, "
           "re-centring %d px\n", f->color_levels, f->hog_cells, f->hog_cells, f->orient_bins, f->patch, f->patch,
           f->recentre);
    printf("                  %s; %s\n", f->figure ? "figure map against the background" : "grey levels (as version 3)",
           f->keep_aspect ? "aspect ratio kept (padded)" : "pictures stretched to the square");
    TrainOptions o = train_default_options();
    GlmError none;
    if (checkpoint_options(&o, path, &none) == GLM_OK) print_training(&o);
    else printf("  training        not recorded in this file\n");
    model_free(&m);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': help(); return 0;
        default: return cli_bad_option("info", opt, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("info", "no model given");
    int status = 0;
    for (int i = optind; i < argc; i++) {
        int rc = info_one(argv[i]);
        if (rc > status) status = rc;
    }
    return status;   /* main checks standard output */
}
