/* pool.h - a fork-join pool of worker threads for data parallelism: the
 * caller hands it one job, every worker k in 0..n-1 runs job(ctx, k) once,
 * and pool_run returns when all have finished.
 *
 *     Pool *pool = pool_new(n, &err);          // once: starts n - 1 threads
 *     pool_run(pool, job, ctx);                 // job(ctx, 0) runs on the caller
 *     pool_free(pool);
 *
 * Worker 0 is the calling thread, so a pool of 1 starts no thread and
 * pool_run is a plain call. Idle workers sleep on a condition variable
 * (no busy-waiting, so a waiting worker costs the other core nothing).
 * What a worker writes is the job's business: give each its own output
 * (a shard of the batch, a range of images) and combine them afterwards in
 * a fixed order, so results do not depend on which thread finished first.
 * Not here: BLAS threads; a caller whose jobs call BLAS concurrently
 * should make BLAS single-threaded first (openblas_set_num_threads(1)).
 */
#ifndef GLIMPSE_POOL_H
#define GLIMPSE_POOL_H

#include "common.h"

#define POOL_MAX_THREADS 64

typedef struct Pool Pool;
typedef void (*PoolJob)(void *ctx, int worker);

/* n in 1..POOL_MAX_THREADS. NULL with GLM_EINPUT (n out of range) or
 * GLM_ENOMEM (out of memory, or a thread could not be started). */
Pool *pool_new(int n, GlmError *err);
/* Stops and joins the threads; NULL is fine. */
void pool_free(Pool *pool);
int pool_size(const Pool *pool);
/* Runs job(ctx, k) for every k in 0..n-1, k = 0 on the calling thread, and
 * returns when every one has returned. Not reentrant: one run at a time. */
void pool_run(Pool *pool, PoolJob job, void *ctx);

/* The contiguous share [*lo, *hi) of n items that worker k of `parts` gets:
 * sizes differ by at most one, earlier shares the larger. */
void pool_share(int n, int parts, int k, int *lo, int *hi);

/* The number of online cores, at least 1. */
int pool_online_cores(void);

#endif
