/* rng.c - PCG32 (XSH RR variant): 64-bit LCG state, 32-bit permuted output. */
#include "rng.h"

#include <math.h>

#include "common.h"

void rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    rng_u32(r);
    r->state += seed;
    rng_u32(r);
}

uint32_t rng_u32(Rng *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t rng_below(Rng *r, uint32_t n)
{
    GLM_ASSERT(n > 0);
    /* Reject the top sliver of the 2^32 range that would bias the modulo. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = rng_u32(r);
        if (x >= threshold) return x % n;
    }
}

float rng_uniform(Rng *r)
{
    return (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float rng_normal(Rng *r)
{
    /* u1 in (0, 1] so log() stays finite. */
    float u1 = ((float)(rng_u32(r) >> 8) + 1.0f) * (1.0f / 16777216.0f);
    float u2 = rng_uniform(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864f * u2);
}

int rng_categorical(Rng *r, const float *p, int n)
{
    GLM_ASSERT(n > 0);
    float u = rng_uniform(r), cum = 0.0f;
    for (int i = 0; i < n; i++) {
        cum += p[i];
        if (u < cum) return i;
    }
    /* Rounding left u above the total: take the last index with mass. */
    for (int i = n - 1; i > 0; i--)
        if (p[i] > 0.0f) return i;
    return 0;
}

void rng_shuffle(Rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
