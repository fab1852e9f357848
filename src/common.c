/* common.c - the error slot, checked allocation and the always-on assert. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
