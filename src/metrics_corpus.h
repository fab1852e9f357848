/* metrics_corpus.h - the caption metrics on text: what `glimpse score` and
 * `glimpse eval` use. A MetricsCorpus takes one candidate and its
 * references per image as strings, tokenizes them, interns the tokens to
 * ids and scores the corpus with the id functions of metrics.h.
 *
 *     MetricsCorpus *c = metrics_corpus_new(&err);
 *     metrics_corpus_add(c, "img1", "a dog runs", refs, 5, &err);   // per image
 *     MetricsScores sc;
 *     metrics_corpus_scores(&sc, c, NULL, &err);  // NULL: default options
 *     metrics_corpus_free(c);
 *
 * or, from the two files `glimpse score` reads, metrics_corpus_load.
 *
 * Tokenization: every caption, reference or candidate, goes through
 * text_tokenize (text.h): ASCII letters lowercased, a token is a maximal run
 * of ASCII letters and digits, everything else (punctuation, apostrophes,
 * hyphens, non-ASCII bytes) separates tokens and is dropped. The COCO code
 * uses the Stanford PTB tokenizer instead, which keeps "'s" and splits
 * differently; scores on raw text can differ slightly for that reason alone,
 * never because of the formulas of metrics.h.
 *
 * Not here: the formulas and what each score means (metrics.h, which sees
 * only ids), the tokenization rule itself (text.h). Nothing is printed.
 *
 * Errors: functions returning int give GLM_OK or a GLM_E* code and fill err;
 * functions returning a pointer give NULL and fill err.
 */
#ifndef GLIMPSE_METRICS_CORPUS_H
#define GLIMPSE_METRICS_CORPUS_H

#include "common.h"
#include "metrics.h"

typedef struct MetricsCorpus MetricsCorpus;

/* An empty corpus. NULL on GLM_ENOMEM. Free with metrics_corpus_free. */
MetricsCorpus *metrics_corpus_new(GlmError *err);
void metrics_corpus_free(MetricsCorpus *c);

/* Adds one image: its name (for messages; may be NULL), its candidate and
 * its n_refs >= 1 references, all copied. GLM_EINPUT if n_refs < 1. */
int metrics_corpus_add(MetricsCorpus *c, const char *name, const char *cand,
                       const char *const *refs, int n_refs, GlmError *err);

/* Reads a Flickr8k-style reference file (`NAME#k<TAB>caption` per line, k
 * a number of 1 to TEXT_KEY_MAX_DIGITS digits: text_ref_key, text.h, the
 * rule the Flickr8k reader of dataset.h follows too) and a candidate file
 * (`NAME<TAB>caption` per line) into a new corpus, in the order the
 * candidates appear. Blank lines are skipped; a trailing '\r' is dropped
 * (fileio_lines). GLM_EIO if a file cannot be read; GLM_EINPUT with
 * "FILE:LINE: reason" for a malformed or duplicate line (the reference file
 * is checked first), and with the names for candidates without references
 * or references without a candidate. */
MetricsCorpus *metrics_corpus_load(const char *refs_path, const char *cands_path, GlmError *err);

int metrics_corpus_images(const MetricsCorpus *c);
/* How many of the captions added so far (candidates and references) had
 * more than METRICS_MAX_TOKENS tokens (metrics.h): only their first
 * METRICS_MAX_TOKENS were kept, the rest is not scored. For the caller to
 * report; 0 for ordinary captions. */
int metrics_corpus_truncated(const MetricsCorpus *c);
/* Name of image i (as given to metrics_corpus_add; "" if none). Owned by c. */
const char *metrics_corpus_name(const MetricsCorpus *c, int i);
/* Candidate of image i as token ids of the corpus's interned vocabulary.
 * Owned by c; valid until the next metrics_corpus_add or free. */
MetricsSeq metrics_corpus_candidate(const MetricsCorpus *c, int i);
/* The reference index of the images added so far (built on first use and
 * rebuilt after an add). Owned by c; NULL on failure. */
const MetricsIndex *metrics_corpus_index(MetricsCorpus *c, GlmError *err);

/* Corpus scores; opt NULL means metrics_default_options(). GLM_EINPUT for
 * an empty corpus, GLM_ENOMEM. */
int metrics_corpus_scores(MetricsScores *out, MetricsCorpus *c, const MetricsOptions *opt,
                          GlmError *err);

#endif
