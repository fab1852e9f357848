/* test_common.c - the shared helpers of common.h: growing an array keeps
 * its contents and refuses sizes that overflow. */
#include <stdint.h>
#include <stdlib.h>

#include "common.h"
#include "test.h"

TEST(common_grow_keeps_contents_and_refuses_overflow)
{
    int *v = NULL;
    size_t cap = 0;
    for (int i = 0; i < 1000; i++) {
        REQUIRE(glm_grow((void **)&v, &cap, (size_t)i + 1, sizeof *v) == GLM_OK);
        REQUIRE(cap >= (size_t)i + 1);
        v[i] = i * 7;
    }
    int bad = 0;
    for (int i = 0; i < 1000; i++) bad += v[i] != i * 7;
    CHECK_EQ_INT(bad, 0);
    /* Doubling: 1000 elements in a capacity below 2000. */
    CHECK(cap < 2000);
    size_t was = cap;
    int *at = v;
    CHECK_EQ_INT(glm_grow((void **)&v, &cap, 10, sizeof *v), GLM_OK); /* already big enough */
    CHECK(v == at && cap == was);
    CHECK_EQ_INT(glm_grow((void **)&v, &cap, SIZE_MAX / 2, sizeof *v), GLM_ENOMEM);
    CHECK_EQ_INT(glm_grow((void **)&v, &cap, SIZE_MAX, 1), GLM_ENOMEM);
    CHECK(v == at && cap == was);
    free(v);
}
