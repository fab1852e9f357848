/* rng.h - the one random number generator of glimpse (PCG32, O'Neill 2014).
 *
 * Every random choice in the project (weight init, data generation, region
 * sampling, shuffling) draws from an Rng passed in explicitly: there is no
 * hidden global state, no rand(), no clock seed. The state is two 64-bit
 * words, so it can be saved in a checkpoint and restored bit for bit.
 *
 * Usage:
 *     Rng r;
 *     rng_seed(&r, 42, 0);
 *     float u = rng_uniform(&r);        // [0, 1)
 *     uint32_t k = rng_below(&r, 10);   // 0..9, unbiased
 */
#ifndef GLIMPSE_RNG_H
#define GLIMPSE_RNG_H

#include <stdint.h>

#define RNG_DEFAULT_SEED 1234u

typedef struct {
    uint64_t state;
    uint64_t inc;   /* stream selector, always odd */
} Rng;

/* Seeds r; different streams with the same seed give independent sequences. */
void rng_seed(Rng *r, uint64_t seed, uint64_t stream);
uint32_t rng_u32(Rng *r);
/* Uniform in [0, n) without modulo bias; n must be > 0. */
uint32_t rng_below(Rng *r, uint32_t n);
/* Uniform float in [0, 1), 24 random bits. */
float rng_uniform(Rng *r);
/* Standard normal (Box-Muller; uses two draws, keeps no cache so the state
 * alone describes the generator). */
float rng_normal(Rng *r);
/* Index drawn from the discrete distribution p[0..n-1] (sums to ~1). */
int rng_categorical(Rng *r, const float *p, int n);
/* Fisher-Yates shuffle of idx[0..n-1]. */
void rng_shuffle(Rng *r, int *idx, int n);

#endif
