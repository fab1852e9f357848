/* fuzz_score.c - libFuzzer target: `glimpse score`'s text layer, the
 * reference and candidate files (metrics_corpus_load, metrics.h), then the
 * scores of what loaded (metrics_corpus_scores), as cmd_score.c does.
 *
 * The input is the references file (NAME#k<TAB>caption), a line
 * "##CANDS##", then the candidates file (NAME<TAB>caption); without that
 * line the candidates file is empty. Scores must be finite and BLEU and
 * ROUGE-L within [0, 1].
 *
 * Written against metrics_corpus_load as main has it today; when the text
 * layer moves (src/metrics_corpus.h) only the two calls below change.
 */
#include <math.h>
#include <stdlib.h>

#include "fuzz.h"
#include "metrics.h"
#include "metrics_corpus.h"

static int in01(double x) { return x >= 0.0 && x <= 1.0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *refs = fuzz_path("refs.txt"), *cands = fuzz_path("cands.txt");
    size_t n1, n2;
    const uint8_t *rest;
    fuzz_split(data, n, "\n##CANDS##\n", &n1, &rest, &n2);
    fuzz_write(refs, data, n1);
    fuzz_write(cands, rest ? rest : data, n2);

    GlmError err;
    MetricsCorpus *c = metrics_corpus_load(refs, cands, &err);
    if (!c) return 0;
    MetricsScores s;
    if (metrics_corpus_scores(&s, c, NULL, &err) == GLM_OK) {
        for (int k = 0; k < METRICS_MAX_N; k++)
            if (!in01(s.bleu[k])) abort();
        if (!in01(s.rouge_l) || !isfinite(s.cider) || s.cider < 0) abort();
    }
    metrics_corpus_free(c);
    return 0;
}
