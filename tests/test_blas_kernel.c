/* test_blas_kernel.c - glimpse runs on the OpenBLAS kernels its CPU can use
 * (blas_kernel.h): where OpenBLAS falls back to Prescott on a CPU with
 * AVX2 or AVX-512, the glimpse command re-executes itself once with
 * OPENBLAS_CORETYPE set, prints its output once, and keeps a kernel the
 * user chose. OPENBLAS_VERBOSE=2 makes OpenBLAS print the kernel it loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "test.h"

static char *run_out(const char *env)
{
    char path[600];
    if (test_run("env -u OPENBLAS_CORETYPE %s OPENBLAS_VERBOSE=2 '%s' --version 2>&1", env, test_glimpse_bin()) != 0)
        return NULL;
    snprintf(path, sizeof path, "%s/last.out", test_tmpdir());
    return test_slurp(path, NULL);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

TEST(blas_kernel_fallback_corrected_once)
{
    if (getenv("OPENBLAS_CORETYPE")) {
        printf("SKIP blas_kernel_fallback_corrected_once: OPENBLAS_CORETYPE is set in this run\n");
        return;
    }
    const char *better = blas_kernel_better();
    char *out = run_out("");
    REQUIRE(out);
    CHECK_EQ_INT(count(out, "glimpse "), 1);   /* the version line, once */
    if (better) {   /* this runner's OpenBLAS fell back to Prescott: glimpse must not */
        char want[64];
        snprintf(want, sizeof want, "Core: %s", better);
        CHECK(strstr(out, want) != NULL);
        printf("  OpenBLAS chose Prescott here; glimpse runs on %s\n", better);
    }
    free(out);
    /* the user's choice is kept, even the slow one */
    out = run_out("OPENBLAS_CORETYPE=Prescott");
    REQUIRE(out);
    CHECK(strstr(out, "Core: Prescott") != NULL);
    CHECK_EQ_INT(count(out, "Core: "), 1);
    CHECK_EQ_INT(count(out, "glimpse "), 1);
    free(out);
}
