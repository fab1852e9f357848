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
#include <stdio.h>

/* Tokenizes s. The tokens are written NUL-terminated into buf (cap bytes;
 * strlen(s) + 1 always suffices) and toks[i] points at the i-th of them.
 * Returns the number of tokens, at most max_toks (extra tokens are dropped;
 * pass *truncated to learn whether that happened, or NULL). */
int text_tokenize(const char *s, char *buf, size_t cap, char **toks, int max_toks, int *truncated);

/* Reference keys, "NAME#k" (Flickr8k token files, glimpse score --refs):
 * checks key[0..n) and sets *name_len to the length of NAME (up to the last
 * '#'). Returns TEXT_KEY_OK, or what is wrong, for the caller's message. */
enum { TEXT_KEY_OK = 0, TEXT_KEY_NO_HASH, TEXT_KEY_NO_NAME, TEXT_KEY_BAD_NUMBER };
#define TEXT_KEY_MAX_DIGITS 9
int text_ref_key(const char *key, size_t n, size_t *name_len);

/* Writes name to f for an IMAGE<TAB>caption line: a backslash, tab,
 * newline or carriage return in it becomes \\, \t, \n or \r (C escapes),
 * so one picture is always one line with one tab; other names as they are.
 * Returns what fputs would (EOF on a write error). */
int text_put_name(FILE *f, const char *name);

#endif
