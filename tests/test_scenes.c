/* test_scenes.c - the scene language: the relation rule, the five
 * references the grammar writes, and the checker reading captions back. */
#include <string.h>

#include "scenes.h"
#include "test.h"

/* ---- relation rule and captions -------------------------------------- */

TEST(scenes_relation_rule)
{
    SceneBox a = {0, 0, 10, 10}, right = {30, 5, 40, 15}, below = {3, 30, 13, 40};
    SceneBox diag = {20, 20, 30, 30}, same = {0, 0, 10, 10};
    CHECK_EQ_INT(scene_relation(&a, &right), SCENE_REL_LEFT);
    CHECK_EQ_INT(scene_relation(&right, &a), SCENE_REL_RIGHT);
    CHECK_EQ_INT(scene_relation(&a, &below), SCENE_REL_ABOVE);
    CHECK_EQ_INT(scene_relation(&below, &a), SCENE_REL_BELOW);
    CHECK_EQ_INT(scene_relation(&a, &diag), SCENE_REL_NONE);   /* exactly diagonal */
    CHECK_EQ_INT(scene_relation(&a, &same), SCENE_REL_NONE);
}

/* Two objects, given right one first: a small red circle left of a large blue square. */
static const SceneObject pair_h[2] = {
    {"large blue square", {35, 18, 55, 38}},
    {"small red circle", {5, 20, 17, 32}},
};
/* Vertical: a small red circle above a large blue square. */
static const SceneObject pair_v[2] = {
    {"small red circle", {20, 5, 32, 17}},
    {"large blue square", {18, 35, 38, 55}},
};

TEST(scenes_captions_canonical_and_paraphrases)
{
    char caps[SCENE_N_REFS][SCENE_CAPTION_LEN];
    GlmError err = {0};
    REQUIRE(scene_captions(caps, pair_h, 2, &err) == GLM_OK);
    CHECK(!strcmp(caps[0], "a small red circle left of a large blue square"));
    CHECK(!strcmp(caps[1], "a large blue square right of a small red circle"));
    CHECK(!strcmp(caps[2], "a small red circle to the left of a large blue square"));
    CHECK(!strcmp(caps[3], "a large blue square to the right of a small red circle"));
    CHECK(!strcmp(caps[4], "there is a small red circle left of a large blue square"));
    REQUIRE(scene_captions(caps, pair_v, 2, &err) == GLM_OK);
    /* Same x order rule: both centres at x 26/28, circle is left. */
    CHECK(!strcmp(caps[0], "a small red circle above a large blue square"));
    CHECK(!strcmp(caps[3], "a large blue square under a small red circle"));
    CHECK(!strcmp(caps[2], "a small red circle over a large blue square"));
    /* Objects with no relation between neighbours are refused. */
    SceneObject tie[2] = {{"small red circle", {0, 0, 10, 10}}, {"small blue cross", {20, 20, 30, 30}}};
    CHECK_EQ_INT(scene_captions(caps, tie, 2, &err), GLM_EINPUT);
    SceneObject bad[1] = {{"small red dog", {0, 0, 10, 10}}};
    CHECK_EQ_INT(scene_captions(caps, bad, 1, &err), GLM_EINPUT);
}

/* ---- checker --------------------------------------------------------- */

static SceneCheck check(const SceneObject *objs, int n, const char *caption)
{
    SceneCheck ck;
    scene_check_text(&ck, objs, n, caption);
    return ck;
}

TEST(scenes_checker_accepts_true_captions_and_finds_nouns)
{
    SceneCheck ck = check(pair_h, 2, "a small red circle left of a large blue square");
    CHECK(ck.parsed);
    CHECK(ck.correct);
    CHECK_EQ_INT(ck.n_correct, 2);
    CHECK_EQ_INT(ck.n_phrases, 2);
    CHECK_EQ_INT(ck.noun_tok[1], 3);   /* circle */
    CHECK_EQ_INT(ck.noun_tok[0], 9);   /* square */
    ck = check(pair_h, 2, "A large blue square, to the right of a small red circle.");
    CHECK(ck.correct);
    CHECK_EQ_INT(ck.noun_tok[0], 3);
    CHECK_EQ_INT(ck.noun_tok[1], 11);
    CHECK(check(pair_h, 2, "there is a small red circle left of a large blue square").correct);
    CHECK(check(pair_h, 2, "a small red circle is left of a large blue square").correct);
    CHECK(check(pair_v, 2, "a small red circle above a large blue square").correct);
    CHECK(check(pair_v, 2, "a small red circle over a large blue square").correct);
    CHECK(check(pair_v, 2, "a large blue square below a small red circle").correct);
    CHECK(check(pair_v, 2, "an image of a large blue square under a small red circle").correct);
    /* Attribute order is free, as long as each is said once. */
    CHECK(check(pair_v, 2, "a red small circle above a large blue square").correct);
}

TEST(scenes_checker_rejects_wrong_captions)
{
    SceneCheck ck;
    /* wrong colour */
    ck = check(pair_h, 2, "a small green circle left of a large blue square");
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 1);
    CHECK_EQ_INT(ck.noun_tok[1], -1);
    CHECK_EQ_INT(ck.noun_tok[0], 9);
    /* wrong size, missing size */
    ck = check(pair_h, 2, "a large red circle left of a large blue square");
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 1);
    ck = check(pair_h, 2, "a red circle left of a large blue square");
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 1);
    /* wrong shape */
    CHECK(!check(pair_h, 2, "a small red triangle left of a large blue square").correct);
    /* wrong relation: the names are right, the geometry is not */
    ck = check(pair_h, 2, "a small red circle right of a large blue square");
    CHECK(ck.parsed);
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 2);
    CHECK(!check(pair_h, 2, "a small red circle above a large blue square").correct);
    CHECK(!check(pair_v, 2, "a small red circle left of a large blue square").correct);
    CHECK(!check(pair_v, 2, "a small red circle below a large blue square").correct);
    /* extra object */
    ck = check(pair_h, 2, "a small red circle left of a large blue square left of a small green cross");
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_phrases, 3);
    CHECK_EQ_INT(ck.n_correct, 2);
    /* the same object twice */
    CHECK(!check(pair_h, 2, "a small red circle left of a small red circle").correct);
    /* missing object */
    ck = check(pair_h, 2, "a small red circle");
    CHECK(ck.parsed);
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 1);
    /* no relation between the phrases, unknown word, dangling relation, empty */
    ck = check(pair_h, 2, "a small red circle a large blue square");
    CHECK(!ck.parsed);
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 2);
    CHECK(!check(pair_h, 2, "a small red circle left of a large blue square dog").correct);
    CHECK(!check(pair_h, 2, "a small red circle left of").correct);
    CHECK(!check(pair_h, 2, "a small small red circle left of a large blue square").correct);
    ck = check(pair_h, 2, "");
    CHECK(!ck.correct);
    CHECK_EQ_INT(ck.n_correct, 0);
}

TEST(scenes_checker_uses_relations_to_tell_equal_words_apart)
{
    /* Two identical phrases: only the assignment that fits the relation counts. */
    SceneObject objs[3] = {
        {"bag", {60, 10, 80, 30}},
        {"bag", {10, 10, 30, 30}},
        {"boot", {35, 60, 55, 80}},
    };
    SceneCheck ck = check(objs, 3, "a boot below a bag left of a bag");
    /* boot (45,70) vs left bag (20,20): dx 25 < dy 50 -> boot below it: true;
     * left bag left of right bag: true. */
    CHECK(ck.correct);
    CHECK_EQ_INT(ck.noun_tok[2], 1);
    CHECK_EQ_INT(ck.noun_tok[1], 4);
    CHECK_EQ_INT(ck.noun_tok[0], 8);
    CHECK(check(objs, 3, "a boot below a bag right of a bag").correct);   /* the other bag */
    CHECK(!check(objs, 3, "a boot above a bag left of a bag").correct);
    CHECK(!check(objs, 3, "a bag left of a boot left of a bag").correct);
}
