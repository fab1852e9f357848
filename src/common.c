/* common.c - the error slot, checked allocation, growable arrays and buffers,
 * and the always-on assert. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int glm_fail(GlmError *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int glm_exit_code(int code)
{
    if (code == GLM_OK) return 0;
    return code == GLM_EINPUT ? 2 : 1;
}

void *glm_malloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    size_t bytes = n * size;
    return malloc(bytes ? bytes : 1);
}

void *glm_calloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

int glm_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return GLM_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2) return GLM_ENOMEM;
        c *= 2;
    }
    if (size && c > SIZE_MAX / size) return GLM_ENOMEM;
    void *q = realloc(*p, c * size);
    if (!q) return GLM_ENOMEM;
    *p = q;
    *cap = c;
    return GLM_OK;
}

void glm_buf_put(GlmBuf *b, const void *src, size_t n)
{
    if (b->failed) return;
    if (n + 1 > SIZE_MAX - b->len) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = 0;
}

void glm_buf_printf(GlmBuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        glm_buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    glm_buf_put(b, big, (size_t)n);
    free(big);
}

void glm_buf_free(GlmBuf *b)
{
    free(b->data);
    *b = (GlmBuf){0};
}

double glm_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void glm_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "glimpse: internal error: %s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}
