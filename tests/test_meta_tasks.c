/* test_meta_tasks.c - the task family of meta-learned attention: names,
 * the held-out split, the dialects' captions and the in-order checker. */
#include <string.h>

#include "meta_tasks.h"
#include "test.h"

/* Three objects: a small red circle top left, a large blue cross bottom
 * middle, a small green square at the right, a little above the cross. */
static const SceneObject scene[3] = {
    {"small red circle", {2, 2, 14, 14}},
    {"large blue cross", {20, 40, 44, 62}},
    {"small green square", {50, 34, 62, 46}},
};

static void caption(char *out, const char *task)
{
    MetaTask t;
    GlmError err;
    out[0] = 0;
    if (meta_task_parse(&t, task, &err)) {
        test_failed(__FILE__, __LINE__, "%s: %s", task, err.msg);
        return;
    }
    meta_task_caption(out, SCENE_CAPTION_LEN, &t, scene, 3);
}

TEST(meta_task_names_parse_and_print_back)
{
    MetaTask train[META_MAX_TASKS], held[META_MAX_TASKS];
    int nt, nh;
    meta_family(train, &nt, held, &nh);
    CHECK(nt >= 4);
    CHECK(nh >= 2);
    char name[META_TASK_NAME_LEN];
    MetaTask back;
    GlmError err;
    for (int i = 0; i < nt + nh; i++) {
        const MetaTask *t = i < nt ? &train[i] : &held[i - nt];
        meta_task_name(name, sizeof name, t);
        CHECK_EQ_INT(meta_task_parse(&back, name, &err), GLM_OK);
        CHECK(meta_task_equal(&back, t));
    }
    CHECK_EQ_INT(meta_task_parse(&back, "diagonal", &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "diagonal");
    CHECK_EQ_INT(meta_task_parse(&back, "lr:purple", &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "purple");
    CHECK_EQ_INT(meta_task_parse(&back, "lr:", &err), GLM_EINPUT);
    MetaTask l[4];
    int n;
    CHECK_EQ_INT(meta_task_list(l, &n, 4, "lr,,rl", &err), GLM_EINPUT);
    CHECK_EQ_INT(meta_task_list(l, &n, 2, "lr,rl,tb", &err), GLM_EINPUT);
    CHECK_EQ_INT(meta_task_list(l, &n, 4, "lr,bt:circle", &err), GLM_OK);
    CHECK_EQ_INT(n, 2);
    CHECK(l[1].order == META_ORDER_BT && l[1].concept == META_CONCEPT_SHAPE);
}

/* The held-out tasks never appear in meta-training, and each is built of
 * parts that do: a held-out task's concept, and (unless it is the new sort
 * key, colour) its order, or the order it reverses, are meta-trained. */
TEST(meta_heldout_tasks_are_never_meta_trained_but_their_parts_are)
{
    MetaTask train[META_MAX_TASKS], held[META_MAX_TASKS];
    int nt, nh;
    meta_family(train, &nt, held, &nh);
    for (int j = 0; j < nh; j++) {
        int order_seen = 0, concept_seen = held[j].concept == META_CONCEPT_ALL;
        for (int i = 0; i < nt; i++) {
            CHECK(!meta_task_equal(&held[j], &train[i]));
            const int o = train[i].order, h = held[j].order;
            if (o == h || (h == META_ORDER_BT && o == META_ORDER_TB)) order_seen = 1;
            if (train[i].concept == held[j].concept && train[i].value == held[j].value &&
                held[j].concept != META_CONCEPT_ALL)
                concept_seen = 1;
        }
        CHECK(order_seen || held[j].order == META_ORDER_COLOUR);
        CHECK(concept_seen);
    }
    /* the family is fixed: the same lists every call */
    MetaTask t2[META_MAX_TASKS], h2[META_MAX_TASKS];
    int nt2, nh2;
    meta_family(t2, &nt2, h2, &nh2);
    CHECK_EQ_INT(nt2, nt);
    CHECK_EQ_INT(nh2, nh);
    CHECK(!memcmp(t2, train, (size_t)nt * sizeof *train));
    CHECK(!memcmp(h2, held, (size_t)nh * sizeof *held));
}

TEST(meta_task_captions_list_the_objects_in_the_dialects_order)
{
    char c[SCENE_CAPTION_LEN];
    caption(c, "lr");
    CHECK(!strcmp(c, "a small red circle above a large blue cross left of a small green square"));
    caption(c, "rl");
    CHECK(!strcmp(c, "a small green square right of a large blue cross below a small red circle"));
    caption(c, "tb");
    CHECK(!strcmp(c, "a small red circle left of a small green square right of a large blue cross"));
    caption(c, "bt");
    CHECK(!strcmp(c, "a large blue cross left of a small green square right of a small red circle"));
    caption(c, "large");
    CHECK(!strcmp(c, "a large blue cross below a small red circle left of a small green square"));
    caption(c, "colour");   /* red, green, blue */
    CHECK(!strcmp(c, "a small red circle left of a small green square right of a large blue cross"));
    caption(c, "rl:small");
    CHECK(!strcmp(c, "a small green square right of a small red circle"));
    caption(c, "tb:cross");
    CHECK(!strcmp(c, "a large blue cross"));
    caption(c, "lr:triangle");
    CHECK(!strcmp(c, "nothing"));
}

static void score(MetaScore *s, const char *task, const char *text, const int *regions)
{
    MetaTask t;
    GlmError err;
    REQUIRE(meta_task_parse(&t, task, &err) == GLM_OK);
    char buf[256];
    strcpy(buf, text);
    const char *toks[32];
    int n = 0;
    for (char *w = strtok(buf, " "); w && n < 32; w = strtok(NULL, " ")) toks[n++] = w;
    FeatConfig fc = features_default_config();   /* 4x4 cells of 16 px on a 64-px picture */
    meta_score_caption(s, &t, scene, 3, toks, n, regions, &fc, 64, 64);
}

TEST(meta_score_counts_objects_named_at_their_place_and_grounded)
{
    MetaScore s = {0};
    /* the reference itself: all in order, exact */
    score(&s, "lr", "a small red circle above a large blue cross left of a small green square", NULL);
    CHECK_EQ_INT(s.expected, 3);
    CHECK_EQ_INT(s.in_order, 3);
    CHECK_EQ_INT(s.exact, 1);
    CHECK_EQ_INT(s.grounded, 0);
    /* the right objects in another task's order: only the first is at its place */
    memset(&s, 0, sizeof s);
    score(&s, "lr", "a small red circle left of a small green square right of a large blue cross", NULL);
    CHECK_EQ_INT(s.in_order, 1);
    CHECK_EQ_INT(s.exact, 0);
    /* a wrong word breaks a phrase; a missing object breaks exactness */
    memset(&s, 0, sizeof s);
    score(&s, "rl:small", "a small green square right of a large red circle", NULL);
    CHECK_EQ_INT(s.expected, 2);
    CHECK_EQ_INT(s.in_order, 1);
    CHECK_EQ_INT(s.exact, 0);
    memset(&s, 0, sizeof s);
    score(&s, "lr:triangle", "nothing", NULL);
    CHECK_EQ_INT(s.expected, 0);
    CHECK_EQ_INT(s.exact, 1);
    CHECK_NEAR(meta_score_in_order(&s), 0.0, 0);
    /* grounding: the noun's region must cover its object. tokens:
     * a small red circle(3) above a large blue cross(8); the circle is in
     * cell (0,0) = region 0, the cross's centre in cell (3,1) = region 13 */
    int regions[16] = {0};
    regions[3] = 0;
    regions[8] = 13;
    memset(&s, 0, sizeof s);
    score(&s, "tb:cross", "a large blue cross", (int[]){5, 5, 5, 13});
    CHECK_EQ_INT(s.in_order, 1);
    CHECK_EQ_INT(s.grounded, 1);
    memset(&s, 0, sizeof s);
    score(&s, "tb:cross", "a large blue cross", (int[]){13, 13, 13, 0});
    CHECK_EQ_INT(s.grounded, 0);
    memset(&s, 0, sizeof s);
    score(&s, "lr", "a small red circle above a large blue cross", regions);
    CHECK_EQ_INT(s.in_order, 2);
    CHECK_EQ_INT(s.grounded, 2);
    CHECK_NEAR(meta_score_grounding(&s), 1.0, 0);
    CHECK_NEAR(meta_score_in_order(&s), 2.0 / 3.0, 1e-12);
}
