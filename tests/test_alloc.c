/* test_alloc.c - the per-step loops allocate nothing: decoder forward and
 * backward, decoding, the Adam step and a whole training step are run with
 * every malloc/calloc/realloc/memalign of the process counted.
 *
 * The counting works by defining malloc and friends in the test binary (they
 * forward to glibc's __libc_* entry points). AddressSanitizer owns those
 * symbols itself, so under ASan this file compiles to a test that says it is
 * skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "decoder.h"
#include "optim.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_HOOKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_HOOKS 0
#endif
#endif
#ifndef ALLOC_HOOKS
#define ALLOC_HOOKS 1
#endif

#if ALLOC_HOOKS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

static volatile int counting;
static void *volatile probe;
static volatile long alloc_calls;

static void count(void)
{
    if (counting) __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t align, size_t n) { count(); return __libc_memalign(align, n); }
void *aligned_alloc(size_t align, size_t n) { count(); return __libc_memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n)
{
    count();
    void *p = __libc_memalign(align, n);
    if (!p) return 12;   /* ENOMEM */
    *out = p;
    return 0;
}
#endif

TEST(alloc_none_in_the_step_loops)
{
#if !ALLOC_HOOKS
    printf("skip alloc_none_in_the_step_loops: allocation counting is unavailable under ASan\n");
#else
    ModelConfig c = model_default_config();
    c.vocab = 8, c.hidden = 16, c.embed = 8, c.proj = 8, c.att = 8, c.max_len = 6;
    const char *words[] = {"<pad>", "<start>", "<end>", "<unk>", "a", "b", "c", "d"};
    Rng rng;
    rng_seed(&rng, 1, 0);
    Model m;
    GlmError err;
    REQUIRE(model_init(&m, &c, words, &rng, &err) == GLM_OK);
    enum { B = 4, T = 6 };
    const int L = features_regions(&c.feat), F = features_dim(&c.feat);
    float *x = malloc(sizeof(float) * B * (size_t)L * F), *grad = calloc(m.n_params, sizeof(float));
    REQUIRE(x && grad);
    for (int k = 0; k < B * L * F; k++) x[k] = rng_uniform(&rng);
    int32_t tokens[B * T] = {4, 5, 2, 0, 0, 0, 6, 2, 0, 0, 0, 0, 4, 4, 4, 7, 2, 0, 5, 2, 0, 0, 0, 0};
    int lengths[B] = {3, 2, 5, 2};
    float weights[B] = {0.5f, -0.2f, 0.1f, 0.0f};
    ModelParams g;
    model_params_view(&g, grad, &c);
    DecoderWork w;
    Search d;
    AdamState adam;
    REQUIRE(decoder_work_init(&w, &c, B, T, &err) == GLM_OK);
    REQUIRE(search_init(&d, &c, B, 3, &err) == GLM_OK);
    REQUIRE(optim_adam_init(&adam, m.n_params, &err) == GLM_OK);
    AdamConfig ac = optim_adam_default();
    DecoderLoss loss = {.nll = 0.25f, .reinforce = weights, .entropy = 0.01f};
    SearchOptions greedy = {.beam = 1}, beam = {.beam = 3}, sample = {.beam = 1, .sample = 1, .rng = &rng};

    for (int pass = 0; pass < 2; pass++) {
        /* Pass 0 warms up (OpenBLAS sets up its buffers on first use);
         * pass 1 is counted. */
        counting = pass == 1;
        for (int step = 0; step < 3; step++) {
            decoder_forward(&w, &m.p, x, tokens, lengths, B, T, &(DecoderPick){m.cfg.attention, REGIONS_SAMPLE, NULL, &rng, NULL, 0},
                            &loss);
            decoder_backward(&g, NULL, &w, &m.p);
            optim_clip_grad_norm(grad, m.n_params, 5.0f);
            optim_adam_step(m.params, &adam, grad, &ac);
            search_run(&d, &m.p, x, B, &greedy);
            search_run(&d, &m.p, x, B, &beam);
            search_run(&d, &m.p, x, B, &sample);
        }
        counting = 0;
    }
    CHECK_EQ_INT(alloc_calls, 0);
    /* The counter counts: one allocation while counting is seen. */
    counting = 1;
    probe = malloc(16);   /* stored in a volatile so the compiler keeps the call */
    counting = 0;
    CHECK_EQ_INT(alloc_calls, 1);
    free(probe);
    optim_adam_free(&adam);
    search_free(&d);
    decoder_work_free(&w);
    model_free(&m);
    free(x);
    free(grad);
#endif
}
