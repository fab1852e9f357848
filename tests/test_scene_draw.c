/* test_scene_draw.c - generated scenes in memory: layout invariants,
 * positions off any grid, and every reference passing its own check. */
#include <string.h>

#include "scene_draw.h"
#include "test.h"

static SceneCheck check(const SceneObject *objs, int n, const char *caption)
{
    SceneCheck ck;
    scene_check_text(&ck, objs, n, caption);
    return ck;
}

TEST(scene_draw_shapes_layout_invariants)
{
    Scene s;
    GlmError err = {0};
    REQUIRE(scene_init(&s, 64, &err) == GLM_OK);
    Rng r;
    rng_seed(&r, 99, 0);
    int hist[4] = {0};
    int sizes[2] = {0};
    for (int it = 0; it < 2000; it++) {
        REQUIRE(scene_make_shapes(&s, &r, &err) == GLM_OK);
        REQUIRE(s.n_objects >= 1 && s.n_objects <= 3);
        hist[s.n_objects]++;
        for (int i = 0; i < s.n_objects; i++) {
            const SceneBox *b = &s.objects[i].box;
            CHECK(b->x0 >= 0 && b->y0 >= 0 && b->x1 <= 64 && b->y1 <= 64);
            int w = b->x1 - b->x0;
            CHECK(w == b->y1 - b->y0);
            CHECK(w >= 12 && w <= 21);
            sizes[w > 16]++;
            CHECK(scene_words_valid(s.objects[i].words));
            CHECK((w > 16) == (strncmp(s.objects[i].words, "large ", 6) == 0));
            for (int j = 0; j < i; j++) {
                const SceneBox *c = &s.objects[j].box;
                int overlap = b->x0 < c->x1 && c->x0 < b->x1 && b->y0 < c->y1 && c->y0 < b->y1;
                CHECK(!overlap);
                CHECK(strcmp(s.objects[i].words, s.objects[j].words) != 0);
                CHECK(scene_relation(b, c) != SCENE_REL_NONE);
            }
        }
    }
    /* 1, 2 and 3 objects each about a third of the time; both sizes used. */
    for (int n = 1; n <= 3; n++) CHECK(hist[n] > 500);
    CHECK(sizes[0] > 500 && sizes[1] > 500);
    scene_free(&s);
}

TEST(scene_draw_positions_are_not_on_a_grid)
{
    /* Box corners take (nearly) every pixel offset modulo 8, so no region
     * grid of 2, 4 or 8 px lines them up. */
    Scene s;
    GlmError err = {0};
    REQUIRE(scene_init(&s, 64, &err) == GLM_OK);
    Rng r;
    rng_seed(&r, 5, 0);
    int mod[8] = {0};
    for (int it = 0; it < 400; it++) {
        REQUIRE(scene_make_shapes(&s, &r, &err) == GLM_OK);
        for (int i = 0; i < s.n_objects; i++) mod[s.objects[i].box.x0 % 8]++;
    }
    for (int k = 0; k < 8; k++) CHECK(mod[k] > 40);
    scene_free(&s);
}

TEST(scene_draw_every_reference_passes_its_own_check_in_memory)
{
    Scene s;
    GlmError err = {0};
    REQUIRE(scene_init(&s, 64, &err) == GLM_OK);
    Rng r;
    rng_seed(&r, 7, 0);
    for (int it = 0; it < 1000; it++) {
        REQUIRE(scene_make_shapes(&s, &r, &err) == GLM_OK);
        for (int k = 0; k < SCENE_N_REFS; k++) {
            SceneCheck ck = check(s.objects, s.n_objects, s.captions[k]);
            if (!ck.correct)
                test_failed(__FILE__, __LINE__, "reference '%s' fails its own scene", s.captions[k]);
        }
        /* And the canonical caption fails on a scene with one object recoloured. */
        SceneObject alt[SCENE_MAX_OBJECTS];
        memcpy(alt, s.objects, sizeof alt);
        char *sp = strchr(alt[0].words, ' ');
        REQUIRE(sp);
        const char *col = strncmp(sp + 1, "red", 3) ? "red" : "blue";
        char rest[SCENE_WORDS_LEN];
        snprintf(rest, sizeof rest, "%s", strchr(sp + 1, ' ') + 1);
        snprintf(sp + 1, SCENE_WORDS_LEN - (size_t)(sp + 1 - alt[0].words), "%s %s", col, rest);
        CHECK(!check(alt, s.n_objects, s.captions[0]).correct);
    }
    scene_free(&s);
}
