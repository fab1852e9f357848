/* pool.c - the fork-join pool of pool.h: n - 1 threads that sleep on a
 * condition variable between runs, a generation counter that says a new
 * job is there, and a count of the workers still busy. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct Pool {
    int n;
    pthread_t *threads;      /* (n - 1) workers 1..n-1 */
    int started;             /* threads running */
    pthread_mutex_t mu;
    pthread_cond_t go;       /* a new generation (job) or stop */
    pthread_cond_t done;     /* busy reached 0 */
    unsigned long generation;
    int busy;                /* workers 1..n-1 still running this generation's job */
    int stop;
    PoolJob job;
    void *ctx;
};

typedef struct {
    Pool *pool;
    int k;
} Start;

static void *worker_main(void *arg)
{
    Start *s = arg;
    Pool *p = s->pool;
    const int k = s->k;
    free(s);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        PoolJob job = p->job;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        job(ctx, k);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

Pool *pool_new(int n, GlmError *err)
{
    if (n < 1 || n > POOL_MAX_THREADS) {
        glm_fail(err, GLM_EINPUT, "threads: %d is not in 1..%d", n, POOL_MAX_THREADS);
        return NULL;
    }
    Pool *p = calloc(1, sizeof *p);
    if (!p) {
        glm_fail(err, GLM_ENOMEM, "out of memory for a pool of %d threads", n);
        return NULL;
    }
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n > 1 && !(p->threads = calloc((size_t)n - 1, sizeof *p->threads))) goto fail;
    for (int k = 1; k < n; k++) {
        Start *s = malloc(sizeof *s);
        if (!s) goto fail;
        s->pool = p, s->k = k;
        if (pthread_create(&p->threads[k - 1], NULL, worker_main, s)) {
            free(s);
            goto fail;
        }
        p->started++;
    }
    return p;
fail:
    glm_fail(err, GLM_ENOMEM, "could not start %d worker threads", n - 1);
    pool_free(p);
    return NULL;
}

void pool_free(Pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int k = 0; k < p->started; k++) pthread_join(p->threads[k], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int pool_size(const Pool *p) { return p->n; }

void pool_run(Pool *p, PoolJob job, void *ctx)
{
    if (p->n > 1) {
        pthread_mutex_lock(&p->mu);
        p->job = job, p->ctx = ctx;
        p->busy = p->n - 1;
        p->generation++;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    job(ctx, 0);
    if (p->n > 1) {
        pthread_mutex_lock(&p->mu);
        while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void pool_share(int n, int parts, int k, int *lo, int *hi)
{
    const int q = n / parts, r = n % parts;
    *lo = k * q + GLM_MIN(k, r);
    *hi = *lo + q + (k < r);
}

int pool_online_cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)c;
}
