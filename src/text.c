/* text.c - see text.h for the tokenization rule. */
#include "text.h"

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int text_tokenize(const char *s, char *buf, size_t cap, char **toks, int max_toks, int *truncated)
{
    int n = 0;
    size_t used = 0;
    if (truncated) *truncated = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        while (*p && !is_word_byte(*p)) p++;
        if (!*p) break;
        const unsigned char *start = p;
        while (*p && is_word_byte(*p)) p++;
        size_t len = (size_t)(p - start);
        if (n == max_toks || used + len + 1 > cap) {
            if (truncated) *truncated = 1;
            break;
        }
        char *t = buf + used;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = start[i];
            t[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        t[len] = 0;
        toks[n++] = t;
        used += len + 1;
    }
    return n;
}

int text_ref_key(const char *key, size_t n, size_t *name_len)
{
    size_t hash = n;
    for (size_t i = 0; i < n; i++)
        if (key[i] == '#') hash = i;
    *name_len = hash;
    if (hash == n) return TEXT_KEY_NO_HASH;
    if (hash == 0) return TEXT_KEY_NO_NAME;
    size_t digits = n - hash - 1;
    if (digits == 0 || digits > TEXT_KEY_MAX_DIGITS) return TEXT_KEY_BAD_NUMBER;
    for (size_t i = hash + 1; i < n; i++)
        if (key[i] < '0' || key[i] > '9') return TEXT_KEY_BAD_NUMBER;
    return TEXT_KEY_OK;
}

int text_put_name(FILE *f, const char *name)
{
    for (const char *p = name; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '\t' ? "\\t" : *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : NULL;
        if (esc ? fputs(esc, f) == EOF : fputc(*p, f) == EOF) return EOF;
    }
    return 0;
}
