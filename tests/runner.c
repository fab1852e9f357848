/* runner.c - runs every TEST() linked into the binary, prints one line per
 * failed check (file:line: what differed), and ends with the line
 * "N passed, N failed". Exit status 1 when any test failed.
 *
 * usage: test_runner [--bin PATH/TO/glimpse] [--list] [NAME-SUBSTRING...]
 */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 1024

typedef struct {
    const char *name, *file;
    TestFn fn;
} TestCase;

static TestCase tests[MAX_TESTS];
static int n_tests;
static int current_failed;
static const char *current_name;
static char tmpdir[256];
static const char *glimpse_bin = "bin/glimpse";

void test_register(const char *name, const char *file, TestFn fn)
{
    if (n_tests == MAX_TESTS) {
        fprintf(stderr, "runner: more than %d tests\n", MAX_TESTS);
        exit(2);
    }
    tests[n_tests++] = (TestCase){name, file, fn};
}

void test_failed(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "FAIL %s:%d: %s: ", file, line, current_name);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    current_failed = 1;
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/glimpse-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("runner: mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

const char *test_glimpse_bin(void) { return glimpse_bin; }

int test_fd_check(const char *file, int line, const char *what, double (*loss)(void *ctx), void *ctx, double *v,
                  const float *grad, int n, double h, double tol)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        const double keep = v[i];
        v[i] = keep + h;
        const double up = loss(ctx);
        v[i] = keep - h;
        const double down = loss(ctx);
        v[i] = keep;
        const double want = (up - down) / (2 * h);
        if (fabs(grad[i] - want) > tol * (1.0 + fabs(want))) {
            test_failed(file, line, "d%s[%d] = %.9g, finite difference %.9g", what, i, grad[i], want);
            bad++;
        }
    }
    return bad;
}

int test_run(const char *fmt, ...)
{
    char cmd[4096], full[4600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "( %s ) >'%s/last.out' 2>'%s/last.err' </dev/null",
             cmd, test_tmpdir(), test_tmpdir());
    int st = system(full);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

int test_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

int test_same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *pa = test_slurp(a, &na), *pb = test_slurp(b, &nb);
    const int same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        if (n + 1024 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "runner: could not remove %s\n", dir);
}

static int selected(const char *name, int argc, char **argv, int first)
{
    if (first >= argc) return 1;
    for (int i = first; i < argc; i++)
        if (strstr(name, argv[i])) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int first = 1, list = 0;
    while (first < argc && argv[first][0] == '-') {
        if (!strcmp(argv[first], "--bin") && first + 1 < argc) {
            glimpse_bin = argv[first + 1];
            first += 2;
        } else if (!strcmp(argv[first], "--list")) {
            list = 1;
            first++;
        } else {
            fprintf(stderr, "usage: %s [--bin GLIMPSE] [--list] [NAME...]\n", argv[0]);
            return 2;
        }
    }
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (!selected(tests[i].name, argc, argv, first)) continue;
        if (list) {
            printf("%s (%s)\n", tests[i].name, tests[i].file);
            continue;
        }
        current_name = tests[i].name;
        current_failed = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (secs > 5.0) printf("slow %s: %.1f s\n", tests[i].name, secs);
        if (current_failed) failed++;
        else passed++;
    }
    if (list) return 0;
    if (tmpdir[0]) remove_tree(tmpdir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
