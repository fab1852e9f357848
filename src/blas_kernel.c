/* blas_kernel.c - OpenBLAS's fallback kernel corrected (blas_kernel.h). */
#include "blas_kernel.h"

#include <cblas.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

const char *blas_kernel_better(void)
{
    const char *core = openblas_get_corename();
    if (!core || strcasecmp(core, "prescott")) return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;
}

void blas_kernel_ensure(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE")) return;   /* set by the user, or by us last time */
    const char *better = blas_kernel_better();
    if (!better) return;
    if (setenv("OPENBLAS_CORETYPE", better, 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");   /* exec failed: run on as we are */
}
