/* test.h - the glimpse test harness: one function per test, registered by
 * the TEST() macro, run by tests/runner.c.
 *
 *     TEST(rng_same_seed_same_sequence) {
 *         CHECK(a == b);                         // prints file:line and the expression
 *         CHECK_EQ_INT(got, 3);                  // prints both values
 *         CHECK_NEAR(x, 0.5, 1e-6);
 *     }
 *
 * A failed CHECK marks the test failed and carries on (so one run shows every
 * difference); REQUIRE stops the test at once (use it before dereferencing).
 * Tests that need scratch files call test_tmpdir(), a fresh directory per run.
 */
#ifndef GLIMPSE_TEST_H
#define GLIMPSE_TEST_H

#include <math.h>
#include <stdio.h>

typedef void (*TestFn)(void);
void test_register(const char *name, const char *file, TestFn fn);
void test_failed(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A directory private to this run of the runner, created on first use. */
const char *test_tmpdir(void);
/* Path of the built glimpse binary (for tests of the command line). */
const char *test_glimpse_bin(void);
/* Runs a shell command, returns its exit status (or -1). stdout and stderr
 * go to test_tmpdir()/last.out and last.err, readable with test_slurp. */
int test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when both files can be read and hold the same bytes. */
int test_same_file(const char *a, const char *b);
/* Writes n bytes to path; 1 on success. */
int test_write(const char *path, const void *data, size_t n);
/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL on error). */
char *test_slurp(const char *path, size_t *len);

/* Compares grad (n floats, an analytic gradient) with central finite
 * differences of loss(ctx) in each of v[0..n) (doubles that loss reads),
 * step h: |grad - fd| <= tol (1 + |fd|). Reports each entry that differs
 * as "what[i]" at file:line; returns how many did. */
int test_fd_check(const char *file, int line, const char *what, double (*loss)(void *ctx), void *ctx, double *v,
                  const float *grad, int n, double h, double tol);
#define TEST_FD_CHECK(what, loss, ctx, v, grad, n, h, tol) \
    test_fd_check(__FILE__, __LINE__, what, loss, ctx, v, grad, n, h, tol)

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void test_register_##name(void)     \
    { test_register(#name, __FILE__, test_##name); }                        \
    static void test_##name(void)

#define CHECK(cond)                                                         \
    do { if (!(cond)) test_failed(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

#define REQUIRE(cond)                                                       \
    do { if (!(cond)) { test_failed(__FILE__, __LINE__, "REQUIRE(%s)", #cond); return; } } while (0)

#define CHECK_EQ_INT(got, want)                                             \
    do { long long g_ = (long long)(got), w_ = (long long)(want);           \
         if (g_ != w_) test_failed(__FILE__, __LINE__, "%s = %lld, want %lld", #got, g_, w_); } while (0)

#define CHECK_NEAR(got, want, tol)                                          \
    do { double g_ = (double)(got), w_ = (double)(want);                    \
         if (!(fabs(g_ - w_) <= (tol)))                                     \
             test_failed(__FILE__, __LINE__, "%s = %.9g, want %.9g (tol %g)", #got, g_, w_, (double)(tol)); } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                     \
    do { const char *h_ = (hay), *n_ = (needle);                            \
         if (!h_ || !strstr(h_, n_))                                        \
             test_failed(__FILE__, __LINE__, "%s does not contain \"%s\" (it is \"%s\")", #hay, n_, h_ ? h_ : "(null)"); } while (0)

#endif
