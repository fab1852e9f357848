/* common.h - error reporting and invariants shared by every glimpse module.
 *
 * The library never prints and never exits. A function that can fail returns
 * an int status (GLM_OK or one of the GLM_E* codes below) or NULL, and writes
 * a one-line reason into a caller-owned GlmError. Only main() and the tools
 * turn that into a message on stderr and an exit code (glm_exit_code).
 *
 * GLM_ASSERT is for invariants (programming errors), not for bad input: it is
 * always on, also in release builds, and aborts with file:line.
 */
#ifndef GLIMPSE_COMMON_H
#define GLIMPSE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define GLIMPSE_VERSION "0.1.0"

enum {
    GLM_OK = 0,
    GLM_EINPUT = 1,   /* bad input: malformed file, wrong format, limits; exit 2 */
    GLM_EIO = 2,      /* the system failed us: open, read, write, rename; exit 1 */
    GLM_ENOMEM = 3,   /* allocation failed; exit 1 */
};

#define GLM_ERROR_LEN 512

/* A caller-owned error slot: functions that fail fill msg with
 * "FILE: reason" (or just "reason" when no file is involved). */
typedef struct {
    int code;
    char msg[GLM_ERROR_LEN];
} GlmError;

/* Sets err (if not NULL) and returns code, so failures read
 * `return glm_fail(err, GLM_EINPUT, "%s: not a PNG", path);` */
int glm_fail(GlmError *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The process exit status for an error code: 0 ok, 2 bad input, 1 otherwise. */
int glm_exit_code(int code);

/* Allocation helpers that check n * size for overflow and return NULL on
 * failure (never abort). The caller frees with free(). */
void *glm_malloc_array(size_t n, size_t size);
void *glm_calloc_array(size_t n, size_t size);

/* Makes the malloc'd array *p (capacity *cap elements of size bytes; NULL
 * and 0 to start) hold at least need elements, doubling the capacity (from
 * 16) so that appending one at a time costs amortised O(1). The contents
 * are kept. GLM_OK, or GLM_ENOMEM when the size overflows or realloc fails
 * (then *p and *cap are unchanged). */
int glm_grow(void **p, size_t *cap, size_t need, size_t size);

/* A growable byte buffer. An allocation failure sets `failed` and later
 * appends are ignored, so a writer checks once at the end. The data are
 * always followed by a NUL (text can be read as a C string). The buffer
 * owns data: free with glm_buf_free. Start from GlmBuf b = {0}. */
typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed;
} GlmBuf;

void glm_buf_put(GlmBuf *b, const void *src, size_t n);
/* Appends printf-formatted text, of any length. */
void glm_buf_printf(GlmBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void glm_buf_free(GlmBuf *b);

/* Seconds on the monotonic clock, for timing and rates. */
double glm_seconds(void);

void glm_assert_fail(const char *expr, const char *file, int line);
#define GLM_ASSERT(x) ((x) ? (void)0 : glm_assert_fail(#x, __FILE__, __LINE__))

#define GLM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GLM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* On a function whose element-wise loops dominate (the decoder's tanh and
 * sigmoid over every region and gate): gcc compiles it once per vector
 * width and the loader picks the widest the CPU runs (AVX-512, AVX2, else
 * the SSE2 every x86-64 has). The clones compute the same bits: element-wise
 * IEEE operations do not depend on the vector width, and -std=c11 forbids
 * contracting a*b+c into FMA. Other compilers and CPUs get one plain copy. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(GLM_NO_CLONES)
#define GLM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GLM_VECTOR_CLONES
#endif

#endif
