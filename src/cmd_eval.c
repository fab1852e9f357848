/* cmd_eval.c - `glimpse eval`: caption a split with a model and print the
 * scores (evaluate.h says what each one means). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "evaluate.h"
#include "pool.h"
#include "fileio.h"


static void help(void)
{
    printf("usage: glimpse eval --model FILE (--data DIR | --captions FILE --images DIR |\n"
           "                                  --labels FILE --images DIR) [options]\n"
           "\n"
           "Captions every image of a split and scores the captions against the references:\n"
           "BLEU-1..4 (corpus, COCO counting), CIDEr-D (x10), ROUGE-L, and where the objects\n"
           "are known (generated data sets, labels files) semantic, object, grounding and\n"
           "count accuracy: captions exactly right; objects named with exactly their words;\n"
           "named objects whose word looked at them; images whose caption names as many\n"
           "things as they hold (docs: glimpse score --help, src/evaluate.h). images/s\n"
           "counts loading, features and decoding.\n"
           "\n"
           "options:\n"
           "  --model FILE       the model (default: the shipped shapes.glm)\n"
           "  --data DIR         a glimpse data set\n"
           "  --split NAME       train, val or test (default test)\n"
           "  --captions FILE    Flickr8k token file or COCO JSON, with --images DIR\n"
           "  --labels FILE      your own pictures: a labels file, one object per line,\n"
           "                     IMAGE<TAB>WORDS<TAB>x0 y0 x1 y1 (docs/labels-format.md), with\n"
           "                     --images DIR; the references are written from the objects\n"
           "  --images DIR       where the pictures of --captions or --labels are\n"
           "  --list FILE        image names to evaluate (default: all), with --captions or\n"
           "                     --labels\n"
           "  --strict           any skipped line or image is an error (exit 2)\n"
           "  --beam K           beam width, 1 = greedy (default %d, as glimpse caption, so the\n"
           "                     scores describe what caption prints; validation during\n"
           "                     training decodes greedily)\n"
           "  --threads T        workers for the features and the decoding, 1..64 (default:\n"
           "                     the online cores, at most %d); the output is the same for any T\n"
           "  --json             one JSON object with bleu1 bleu2 bleu3 bleu4 cider rouge_l\n"
           "                     semantic_accuracy object_accuracy grounding_accuracy\n"
           "                     count_accuracy attention_entropy (mean H(alpha_t), nats)\n"
           "                     images images_per_second (null where a\n"
           "                     metric does not apply)\n"
           "  --out FILE         also write the captions, NAME<TAB>caption per line\n"
           "  -h, --help         this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure, 2 bad usage or bad input (a missing or\n"
           "malformed data set, a bad line in a labels file, a box past its picture, an\n"
           "unreadable model).\n",
           CLI_DEFAULT_BEAM, CLI_MAX_DEFAULT_THREADS);
}

int cmd_eval(int argc, char **argv)
{
    enum { O_MODEL = 256, O_DATA, O_SPLIT, O_CAPTIONS, O_LABELS, O_IMAGES, O_LIST, O_STRICT, O_BEAM, O_THREADS,
           O_JSON, O_OUT };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA}, {"split", 1, 0, O_SPLIT},
        {"captions", 1, 0, O_CAPTIONS}, {"labels", 1, 0, O_LABELS}, {"images", 1, 0, O_IMAGES},
        {"list", 1, 0, O_LIST},
        {"strict", 0, 0, O_STRICT}, {"beam", 1, 0, O_BEAM}, {"threads", 1, 0, O_THREADS},
        {"json", 0, 0, O_JSON}, {"out", 1, 0, O_OUT}, {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    CliData data = {0};
    const char *model_path = NULL, *split = "test", *out_path = NULL;
    long beam = CLI_DEFAULT_BEAM, threads = cli_default_threads();
    int json = 0, split_given = 0, opt;
    optind = 1;
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: model_path = optarg; break;
        case O_DATA: data.data_dir = optarg; break;
        case O_SPLIT: split = optarg; split_given = 1; break;
        case O_CAPTIONS: data.captions = optarg; break;
        case O_LABELS: data.labels = optarg; break;
        case O_IMAGES: data.images = optarg; break;
        case O_LIST: data.lists[0] = data.lists[1] = data.lists[2] = optarg; break;
        case O_STRICT: data.strict = 1; break;
        case O_BEAM: if (!cli_parse_int("--beam", optarg, 1, 64, &beam)) return 2; break;
        case O_THREADS: if (!cli_parse_int("--threads", optarg, 1, POOL_MAX_THREADS, &threads)) return 2; break;
        case O_JSON: json = 1; break;
        case O_OUT: out_path = optarg; break;
        case 'h': help(); return 0;
        default: return cli_bad_option("eval", opt, argv);
        }
    }
    if (optind < argc) return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!!data.data_dir + !!data.captions + !!data.labels != 1)
        return cli_usage_error("eval", "give one of --data DIR, --captions FILE, --labels FILE");
    if (data.captions && !data.images) return cli_usage_error("eval", "--captions needs --images DIR");
    if (data.labels && !data.images) return cli_usage_error("eval", "--labels needs --images DIR");
    if (data.labels && split_given)
        return cli_usage_error("eval", "--split: a labels file is one set (--list FILE picks images from it)");
    if (strcmp(split, "train") && strcmp(split, "val") && strcmp(split, "test"))
        return cli_usage_error("eval", "--split: '%s' is not train, val or test", split);
    if (out_path && !cli_can_create(out_path)) return 2;
    char found[4096];
    if (!model_path) {
        if (!cli_default_model(found, sizeof found, "shapes.glm")) {
            cli_error("%s", found);
            return 2;
        }
        model_path = found;
    }

    GlmError err = {0};
    Model model = {0};
    Dataset d = {0};
    DatasetObjects objects = {0};
    float *x = NULL;
    int *sizes = NULL, have_objects = 0, status = 1, rc;
    /* --out: the captions are collected in memory, then written whole */
    FILE *out = NULL;
    char *out_buf = NULL;
    size_t out_len = 0;
    if ((rc = model_load(&model, model_path, &err))) {
        status = cli_report(&err);
        goto done;
    }
    if (data.labels) {
        rc = cli_load_labels(&d, &objects, &data);
        have_objects = rc == GLM_OK;
    } else if (!(rc = cli_load_split(&d, &data, split, 0, NULL))) {
        rc = cli_load_objects(&objects, &data, &have_objects);
    }
    if (rc) {
        status = glm_exit_code(rc);
        goto done;
    }
    if (out_path && !(out = open_memstream(&out_buf, &out_len))) {
        cli_error("out of memory for the captions");
        goto done;
    }
    openblas_set_num_threads(1);   /* the workers are the threads (eval_run) */
    data.threads = (int)threads;
    double t0 = glm_seconds();
    EvalResult r;
    if ((rc = cli_split_features(&x, &sizes, &d, &data, &model.cfg.feat, data.labels ? data.labels : split, NULL,
                                 NULL))) {
        status = glm_exit_code(rc);
        goto done;
    }
    if (have_objects) {
        char src[4096];
        snprintf(src, sizeof src, "%s%s", data.labels ? data.labels : data.data_dir, data.labels ? "" : "/objects.tsv");
        if ((rc = cli_check_boxes(&objects, &d, sizes, src))) {
            status = glm_exit_code(rc);
            goto done;
        }
    }
    if ((rc = eval_run(&r, &model, &d, x, sizes, have_objects ? &objects : NULL, (int)beam, (int)threads, out, &err))) {
        status = cli_report(&err);
        goto done;
    }
    double ips = d.n_images / (glm_seconds() - t0);
    if (out) {
        int ok = fclose(out) == 0;
        out = NULL;
        if (!ok) {
            cli_error("out of memory for the captions");
            goto done;
        }
        if ((rc = fileio_write(out_path, out_buf, out_len, &err))) {
            status = cli_report(&err);
            goto done;
        }
    }
    const MetricsScores *s = &r.scores;
    if (json) {
        printf("{\"bleu1\": %.6f, \"bleu2\": %.6f, \"bleu3\": %.6f, \"bleu4\": %.6f, \"cider\": %.6f, "
               "\"rouge_l\": %.6f, ",
               s->bleu[0], s->bleu[1], s->bleu[2], s->bleu[3], s->cider, s->rouge_l);
        if (r.has_scenes)
            printf("\"semantic_accuracy\": %.6f, \"object_accuracy\": %.6f, \"grounding_accuracy\": %.6f, "
                   "\"count_accuracy\": %.6f, ",
                   r.semantic_accuracy, r.object_accuracy, r.grounding_accuracy, r.count_accuracy);
        else
            printf("\"semantic_accuracy\": null, \"object_accuracy\": null, \"grounding_accuracy\": null, "
                   "\"count_accuracy\": null, ");
        printf("\"attention_entropy\": %.6f, \"images\": %d, \"images_per_second\": %.1f}\n", r.attention_entropy,
               r.images, ips);
    } else {
        if (data.labels)
            printf("model   %s\nimages  %d (labels %s%s)\n", model_path, r.images, data.labels,
                   beam > 1 ? ", beam search" : "");
        else
            printf("model   %s\nimages  %d (%s split%s)\n", model_path, r.images, split, beam > 1 ? ", beam search" : "");
        printf("BLEU-1  %.4f\nBLEU-2  %.4f\nBLEU-3  %.4f\nBLEU-4  %.4f\nCIDEr-D %.4f\nROUGE-L %.4f\n",
               s->bleu[0], s->bleu[1], s->bleu[2], s->bleu[3], s->cider, s->rouge_l);
        if (r.has_scenes)
            printf("semantic_accuracy  %.4f\nobject_accuracy    %.4f\ngrounding_accuracy %.4f\ncount_accuracy     %.4f\n",
                   r.semantic_accuracy, r.object_accuracy, r.grounding_accuracy, r.count_accuracy);
        printf("attention_entropy  %.4f nats\nimages/s %.1f\n", r.attention_entropy, ips);
    }
    status = 0;
done:
    if (out) fclose(out);
    free(out_buf);
    free(x);
    free(sizes);
    dataset_objects_free(&objects);
    dataset_free(&d);
    model_free(&model);
    return status;
}
