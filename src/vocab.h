/* vocab.h - the caption vocabulary: words <-> integer ids.
 *
 *     Vocab v;
 *     if (vocab_build(&v, train.captions, train.n_captions, VOCAB_DEFAULT_MIN_COUNT, &err))
 *         return cli_report(&err);
 *     int ids[20 + 2], n;                      // max_words + 2 (<start>, <end>)
 *     vocab_encode(ids, &n, NULL, &v, "A red circle.", 20, &err);
 *     char text[256];
 *     vocab_decode(text, sizeof text, &v, ids, n);   // "a red circle"
 *     vocab_free(&v);
 *
 * Ids 0..3 are the special tokens <pad>, <start>, <end>, <unk>; the words of
 * the training captions follow, sorted by descending count and then
 * alphabetically (strcmp), so the same captions always give the same ids, in
 * whatever order they come. Words are what text_tokenize (text.h) makes:
 * lowercase runs of ASCII letters and digits.
 *
 * Minimum count: VOCAB_DEFAULT_MIN_COUNT is 2. A word seen once in training
 * gets one gradient for its embedding and output row, which is noise; mapping
 * singletons to <unk> instead means the decoder does see <unk> in training
 * and learns what to do with the unseen words it will meet at test time.
 * (min_count 1 keeps every word, and then <unk> never occurs in training.)
 *
 * The model file stores the vocabulary as its word list (vocab_words, all V
 * strings, specials first) and rebuilds it with vocab_from_words, which checks
 * that the specials are in place and every other word is a distinct token.
 *
 * This file also holds the two small containers the vocabulary, the data
 * set loader and the metrics' text layer (metrics_corpus.h) share: StrArena
 * (many strings, few allocations) and StrMap (a string -> int hash table
 * with open addressing). It does not read files;
 * dataset.h does.
 */
#ifndef GLIMPSE_VOCAB_H
#define GLIMPSE_VOCAB_H

#include <stddef.h>

#include "common.h"

/* ---- string storage ------------------------------------------------------ */

/* Strings copied into big blocks; all freed together. Zero-initialise. */
typedef struct StrBlock StrBlock;
typedef struct {
    StrBlock *head;
} StrArena;

/* Copies s[0..len) plus a NUL into the arena. NULL when out of memory. The
 * copy lives until strarena_free. */
char *strarena_dup(StrArena *a, const char *s, size_t len);
void strarena_free(StrArena *a);

/* ---- string -> int hash map ---------------------------------------------- */

/* Keys are copied into the map (its own arena), values are ints >= 0.
 * Zero-initialise (or strmap_init) before use; strmap_free releases it. */
typedef struct {
    const char **keys;   /* (cap) NULL marks an empty slot */
    int *vals;           /* (cap) */
    size_t cap, n;       /* cap is 0 or a power of two; n <= cap / 2 */
    StrArena store;      /* the key strings */
} StrMap;

void strmap_init(StrMap *m);
void strmap_free(StrMap *m);
/* The value stored for key, or -1 when there is none. */
int strmap_get(const StrMap *m, const char *key);
/* Sets key -> val (val >= 0), replacing any earlier value. If stored is not
 * NULL it receives the map's own copy of the key (valid until strmap_free).
 * Returns GLM_OK or GLM_ENOMEM (the map is unchanged then). */
int strmap_put(StrMap *m, const char *key, int val, const char **stored);

/* ---- vocabulary ---------------------------------------------------------- */

enum {
    VOCAB_PAD = 0,     /* fills a sequence after <end> */
    VOCAB_START = 1,   /* first input of the decoder */
    VOCAB_END = 2,     /* last target: the caption is finished */
    VOCAB_UNK = 3,     /* any word not in the vocabulary */
    VOCAB_N_SPECIAL = 4,
};

#define VOCAB_DEFAULT_MIN_COUNT 2

typedef struct {
    int n;               /* V: number of ids, specials included */
    const char **words;  /* (V) words[id]; "<pad>", "<start>", "<end>", "<unk>" first */
    int *counts;         /* (V) occurrences in the captions it was built from;
                            0 for the specials and after vocab_from_words */
    StrMap ids;          /* word -> id; owns the strings words[] points at */
} Vocab;

/* Builds the vocabulary of the n captions: every token occurring at least
 * min_count (>= 1) times gets an id. On failure (GLM_EINPUT for min_count < 1,
 * GLM_ENOMEM) v is left empty and needs no vocab_free. */
int vocab_build(Vocab *v, const char *const *captions, int n, int min_count, GlmError *err);

/* Rebuilds a vocabulary from its word list (as vocab_words gives it). Fails
 * with GLM_EINPUT, naming the word, unless n >= 4, words[0..3] are the four
 * specials in order, and every other word is a non-empty run of [a-z0-9]
 * that occurs once. On failure v is left empty. */
int vocab_from_words(Vocab *v, const char *const *words, int n, GlmError *err);

void vocab_free(Vocab *v);

/* V, and the word list (V strings, owned by v) for saving. */
int vocab_size(const Vocab *v);
/* NULL when a and b have the same words with the same ids; else a word
 * that one of them has and the other has not (or has under another id). */
const char *vocab_first_difference(const Vocab *a, const Vocab *b);
const char *const *vocab_words(const Vocab *v);
/* The word of an id (0 <= id < V, asserted). */
const char *vocab_word(const Vocab *v, int id);
/* The id of a word, VOCAB_UNK when it is not in the vocabulary. */
int vocab_id(const Vocab *v, const char *word);

/* Encodes a caption into ids (max_words + 2 ints): <start>, the ids of its
 * first max_words tokens (VOCAB_UNK for unknown ones), <end>, then <pad> up
 * to the end. *n_ids gets the count before the padding (tokens kept + 2);
 * *truncated (if not NULL) is set to 1 when tokens were cut off, else 0.
 * Returns GLM_OK, GLM_EINPUT when max_words < 1, GLM_ENOMEM. */
int vocab_encode(int *ids, int *n_ids, int *truncated, const Vocab *v, const char *caption,
                 int max_words, GlmError *err);

/* Writes the words of ids[0..n) into out as one line, separated by single
 * spaces: <start> and <pad> are skipped, decoding stops at the first <end>,
 * <unk> is written as "<unk>". out is always NUL-terminated when cap > 0.
 * Returns the length of the whole line (like snprintf): >= cap means it was
 * cut short. Every id must be in [0, V) (asserted). */
size_t vocab_decode(char *out, size_t cap, const Vocab *v, const int *ids, int n);

#endif
