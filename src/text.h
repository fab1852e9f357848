/* text.h - the one tokenizer, shared by the vocabulary and the metrics.
 *
 * Rule: ASCII letters are lowercased; a token is a maximal run of ASCII
 * letters and digits; every other byte (spaces, punctuation, apostrophes,
 * hyphens, non-ASCII bytes) separates tokens and is dropped. So
 * "A man's red-shirt." gives  a man s red shirt. References and candidates go
 * through the same rule, which is what makes scores comparable.
 */
#ifndef GLIMPSE_TEXT_H
#define GLIMPSE_TEXT_H

#include <stddef.h>

/* Tokenizes s. The tokens are written NUL-terminated into buf (cap bytes;
 * strlen(s) + 1 always suffices) and toks[i] points at the i-th of them.
 * Returns the number of tokens, at most max_toks (extra tokens are dropped;
 * pass *truncated to learn whether that happened, or NULL). */
int text_tokenize(const char *s, char *buf, size_t cap, char **toks, int max_toks, int *truncated);

#endif
