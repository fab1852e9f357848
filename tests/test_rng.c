/* test_rng.c - the RNG is deterministic, seed- and stream-sensitive, and its
 * helpers stay in range. */
#include <string.h>

#include "rng.h"
#include "test.h"

TEST(rng_same_seed_same_sequence)
{
    Rng a, b;
    rng_seed(&a, 7, 1);
    rng_seed(&b, 7, 1);
    for (int i = 0; i < 1000; i++) CHECK_EQ_INT(rng_u32(&a), rng_u32(&b));
}

TEST(rng_seed_and_stream_change_the_sequence)
{
    Rng a, b, c;
    rng_seed(&a, 7, 1);
    rng_seed(&b, 8, 1);
    rng_seed(&c, 7, 2);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        same_ab += x == y;
        same_ac += x == z;
    }
    CHECK(same_ab < 3);
    CHECK(same_ac < 3);
}

TEST(rng_known_first_values)
{
    /* Pinned so that an accidental change to the generator (which would change
     * every data set and model) is caught. Values from this implementation at
     * the time it was written, checked against the PCG32 reference (pcg32-demo
     * seeds with initstate=42, initseq=54: first output 0xa15c02b7). */
    Rng r;
    rng_seed(&r, 42, 54);
    CHECK_EQ_INT(rng_u32(&r), 0xa15c02b7u);
    CHECK_EQ_INT(rng_u32(&r), 0x7b47f409u);
}

TEST(rng_ranges_and_moments)
{
    Rng r;
    rng_seed(&r, RNG_DEFAULT_SEED, 0);
    double sum = 0, sumsq = 0;
    int counts[5] = {0};
    for (int i = 0; i < 20000; i++) {
        float u = rng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f);
        uint32_t k = rng_below(&r, 5);
        REQUIRE(k < 5);
        counts[k]++;
        float z = rng_normal(&r);
        sum += z;
        sumsq += (double)z * z;
    }
    /* 20000 normals: the mean has sd 0.007, the variance sd 0.01; 5 sd margins. */
    CHECK_NEAR(sum / 20000, 0.0, 0.035);
    CHECK_NEAR(sumsq / 20000, 1.0, 0.05);
    for (int k = 0; k < 5; k++) CHECK(counts[k] > 3700 && counts[k] < 4300);
}

TEST(rng_categorical_follows_p)
{
    Rng r;
    rng_seed(&r, 3, 0);
    float p[4] = {0.1f, 0.0f, 0.6f, 0.3f};
    int counts[4] = {0};
    for (int i = 0; i < 10000; i++) counts[rng_categorical(&r, p, 4)]++;
    CHECK_EQ_INT(counts[1], 0);
    CHECK(counts[0] > 850 && counts[0] < 1150);
    CHECK(counts[2] > 5800 && counts[2] < 6200);
}

TEST(rng_shuffle_is_a_permutation)
{
    Rng r;
    rng_seed(&r, 9, 0);
    int idx[50], seen[50] = {0};
    for (int i = 0; i < 50; i++) idx[i] = i;
    rng_shuffle(&r, idx, 50);
    int moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (int i = 0; i < 50; i++) CHECK_EQ_INT(seen[i], 1);
    CHECK(moved > 30);
}
