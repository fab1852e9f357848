/* cmd_score.c - `glimpse score`: BLEU-1..4, CIDEr-D and ROUGE-L of a file of
 * candidate captions against a file of reference captions.
 *
 * The formulas and which reference tool each score matches are in
 * metrics.h, the tokenization and the file formats in metrics_corpus.h;
 * this file only reads the options, loads the two files
 * (metrics_corpus_load) and prints. It does not caption anything:
 * `glimpse eval` does that.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "metrics_corpus.h"

static void help(void)
{
    printf("usage: glimpse score --refs REFS --cands CANDS [--json] [--bleu coco|nltk]\n"
           "\n"
           "Scores candidate captions against reference captions, one candidate per image:\n"
           "corpus BLEU-1..4 (no smoothing), CIDEr-D (x10) and ROUGE-L (beta 1.2), as the\n"
           "COCO caption evaluation code computes them. Captions are lowercased and cut\n"
           "into runs of ASCII letters and digits; everything else is dropped.\n"
           "\n"
           "options:\n"
           "  --refs FILE    reference captions, Flickr8k token format: NAME#k<TAB>caption\n"
           "                 per line, any number of references per image (required)\n"
           "  --cands FILE   candidate captions: NAME<TAB>caption per line, one per image;\n"
           "                 every candidate needs references and every image a candidate\n"
           "                 (required)\n"
           "  --json         print one JSON object with the keys bleu1 bleu2 bleu3 bleu4\n"
           "                 cider rouge_l images (default: a table)\n"
           "  --bleu MODE    how BLEU counts n-grams of a candidate shorter than n tokens:\n"
           "                 'coco' as pycocoevalcap (none), 'nltk' as NLTK corpus_bleu\n"
           "                 (one); equal when every candidate has 4 or more tokens\n"
           "                 (default coco)\n"
           "  -h, --help     this text\n"
           "\n"
           "Blank lines are skipped. A caption of more than %d tokens is scored by its\n"
           "first %d (ROUGE-L's cost grows with the product of the lengths); how many\n"
           "were cut is said once on stderr.\n"
           "\n"
           "Exit status: 0 ok, 1 a file could not be read, 2 bad options or bad input\n"
           "(a missing file; a malformed line is reported as FILE:LINE).\n",
           METRICS_MAX_TOKENS, METRICS_MAX_TOKENS);
}

int cmd_score(int argc, char **argv)
{
    static const struct option opts[] = {
        {"refs", required_argument, 0, 'r'}, {"cands", required_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},       {"bleu", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    const char *refs = NULL, *cands = NULL;
    int json = 0, opt;
    MetricsOptions mo = metrics_default_options();
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'r': refs = optarg; break;
        case 'c': cands = optarg; break;
        case 'j': json = 1; break;
        case 'b':
            if (!strcmp(optarg, "coco")) mo.bleu = METRICS_BLEU_COCO;
            else if (!strcmp(optarg, "nltk")) mo.bleu = METRICS_BLEU_NLTK;
            else return cli_usage_error("score", "--bleu: '%s' is not coco or nltk", optarg);
            break;
        case 'h': help(); return 0;
        default: return cli_bad_option("score", opt, argv);
        }
    }
    if (optind < argc) return cli_usage_error("score", "unexpected argument '%s'", argv[optind]);
    if (!refs) return cli_usage_error("score", "--refs FILE is required");
    if (!cands) return cli_usage_error("score", "--cands FILE is required");

    GlmError err = {0};
    MetricsCorpus *c = metrics_corpus_load(refs, cands, &err);
    if (!c) return cli_report(&err);
    int cut = metrics_corpus_truncated(c);
    if (cut)
        cli_error("warning: %d caption%s more than %d tokens; the scores consider the first %d of each", cut,
                  cut == 1 ? " has" : "s have", METRICS_MAX_TOKENS, METRICS_MAX_TOKENS);
    MetricsScores s;
    int rc = metrics_corpus_scores(&s, c, &mo, &err);
    metrics_corpus_free(c);
    if (rc) return cli_report(&err);

    if (json) {
        printf("{\"bleu1\": %.9f, \"bleu2\": %.9f, \"bleu3\": %.9f, \"bleu4\": %.9f, "
               "\"cider\": %.9f, \"rouge_l\": %.9f, \"images\": %d}\n",
               s.bleu[0], s.bleu[1], s.bleu[2], s.bleu[3], s.cider, s.rouge_l, s.images);
    } else {
        printf("images   %d\n", s.images);
        for (int k = 0; k < METRICS_MAX_N; k++) printf("BLEU-%d   %.4f\n", k + 1, s.bleu[k]);
        printf("CIDEr-D  %.4f\n", s.cider);
        printf("ROUGE-L  %.4f\n", s.rouge_l);
        printf("(corpus BLEU without smoothing, %s counting; CIDEr-D x10; ROUGE-L beta 1.2)\n",
               mo.bleu == METRICS_BLEU_NLTK ? "NLTK" : "COCO");
    }
    return 0;   /* main checks standard output */
}
