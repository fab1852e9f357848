/* blas_kernel.h - make OpenBLAS use the matrix kernels this CPU can run.
 *
 * Debian's OpenBLAS (0.3.21) carries kernels for many CPUs and picks one
 * when the library is loaded, from the CPU's family and model numbers. A
 * CPU newer than the library (this project's machines report family 6
 * model 207) is not in its table, and it falls back to "Prescott": SSE3
 * kernels, four floats wide, on a CPU with AVX-512. Measured on such a
 * machine (2 cores, make bench-compare's shapes step): 12 training steps/s
 * with Prescott, 18-19 with the SkylakeX or Haswell kernels.
 *
 * The choice is made before main() runs and can only be changed by the
 * environment variable OPENBLAS_CORETYPE, read at load time. So:
 *
 *     int main(int argc, char **argv) {
 *         blas_kernel_ensure(argv);      // first thing: may re-execute
 *         ...
 *
 * If OpenBLAS fell back to Prescott while the CPU has AVX-512 (F, CD, BW,
 * DQ, VL: "SkylakeX") or AVX2 and FMA ("Haswell"), blas_kernel_ensure sets
 * OPENBLAS_CORETYPE and re-executes the same program (/proc/self/exe) with
 * the same arguments, once. It does nothing when OPENBLAS_CORETYPE is
 * already set (the user's choice is kept: OPENBLAS_CORETYPE=Prescott
 * gives the old behaviour), when OpenBLAS chose anything but Prescott, or
 * when re-executing fails (the program then runs on, on Prescott).
 * Results differ between kernels in the last bits of a float (different
 * summation order), so a model trained on one kernel is not byte for byte
 * the model trained on another; per machine, runs stay reproducible.
 */
#ifndef GLIMPSE_BLAS_KERNEL_H
#define GLIMPSE_BLAS_KERNEL_H

/* The kernel name OpenBLAS should use on this CPU ("SkylakeX", "Haswell")
 * when it fell back to Prescott, else NULL (nothing to correct). */
const char *blas_kernel_better(void);

/* See above. Returns only if nothing was re-executed. argv as main's. */
void blas_kernel_ensure(char **argv);

#endif
