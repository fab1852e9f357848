/* scenes.h - the language of the synthetic scenes: their words, the
 * relation rule, the caption grammar that writes five references, and the
 * checker that reads a caption back against the objects.
 *
 * A scene is a small picture with a few objects, each described by its
 * noun-phrase words ("small red circle", "bag") and its pixel box. From the
 * objects alone this module derives five reference captions (a small
 * grammar, below) and, inversely, checks whether any caption describes the
 * objects: that is what `glimpse eval` reports as semantic accuracy and
 * object accuracy, and where it learns which token names which object.
 * Everything here is pure: no pixels, no files, no randomness.
 *
 * Caption grammar (generated and accepted; docs/data-format.md has examples):
 *     caption := [prefix] NP (REL NP)*
 *     prefix  := "there is" | ("a" | "an") ("picture" | "image") "of"
 *     NP      := ("a" | "an") ATTR* NOUN      ATTR = size | colour, each at most once
 *     REL     := ["is"] (["to the"] ("left" | "right") "of" | "above" | "over" | "below" | "under")
 * A REL relates the two NPs around it: "A left of B" says A's box centre is
 * left of B's (scene_relation). Shape NPs always carry a size word, "small"
 * or "large" (large is never left unmarked), then a colour, then the shape.
 *
 * Relation rule (scene_relation): from box centres, the axis along which the
 * centres differ more decides; ties mean no relation. The generators redraw
 * any layout in which two objects sit near a diagonal of each other
 * (| |dx| - |dy| | below a margin), so every relation they state is clearly
 * true, and the checker judges stated relations with the same function.
 *
 * What this module does not do: draw or lay out scenes (scene_draw.h),
 * write data sets (scene_dataset.h), read captions.tsv or split lists
 * (dataset.h) or objects.tsv (dataset_objects.h), tokenize (text.h), or
 * decide what a model's attention means (evaluate.h).
 *
 * Usage (checking one caption; a data set's objects come from
 * dataset_objects.h):
 *     int n;  const SceneObject *objs = dataset_objects_find(&set, "shapes_000001.png", &n);
 *     SceneCheck ck;
 *     scene_check_caption(&ck, objs, n, toks, n_toks);  // ck.correct, ck.n_correct, ck.noun_tok[]
 */
#ifndef GLIMPSE_SCENES_H
#define GLIMPSE_SCENES_H

#include "common.h"

#define SCENE_MAX_OBJECTS 8     /* per image, in objects.tsv and the checker */
#define SCENE_WORDS_LEN 64      /* an object's words, NUL included */
#define SCENE_CAPTION_MAX_OBJECTS 3   /* objects scene_captions writes references for */
#define SCENE_N_REFS 5          /* reference captions per generated image */
#define SCENE_CAPTION_LEN 160   /* longest generated caption, NUL included */
#define SCENE_MAX_CAPTION_WORDS 20  /* longest generated caption in tokens */

/* ---- geometry -------------------------------------------------------- */

/* A pixel box: columns x0 .. x1-1, rows y0 .. y1-1 (x1, y1 exclusive). */
typedef struct {
    int x0, y0, x1, y1;
} SceneBox;

enum {
    SCENE_REL_NONE = 0,
    SCENE_REL_LEFT,    /* a is left of b */
    SCENE_REL_RIGHT,   /* a is right of b */
    SCENE_REL_ABOVE,   /* a is above b (smaller y) */
    SCENE_REL_BELOW,   /* a is below b */
};

/* How a stands to b, by the rule above. */
int scene_relation(const SceneBox *a, const SceneBox *b);
/* "left of", "right of", "above", "below" or "none". */
const char *scene_relation_name(int rel);

/* ---- objects --------------------------------------------------------- */

typedef struct {
    char words[SCENE_WORDS_LEN];  /* noun phrase without article: "small red circle", "bag" */
    SceneBox box;
} SceneObject;

/* ---- lexicon --------------------------------------------------------- */

/* The words by index: a generator picks indices, the words come from here.
 * Shape nouns come first among the nouns, in this order. */
#define SCENE_N_SIZES 2     /* "small", "large" */
#define SCENE_N_COLOURS 6   /* "red", "green", "blue", "yellow", "purple", "orange" */
enum { SCENE_SHAPE_CIRCLE, SCENE_SHAPE_SQUARE, SCENE_SHAPE_TRIANGLE, SCENE_SHAPE_CROSS, SCENE_N_SHAPES };

const char *scene_size_word(int size);       /* size in [0, SCENE_N_SIZES) */
const char *scene_colour_word(int colour);   /* colour in [0, SCENE_N_COLOURS) */
const char *scene_shape_word(int shape);     /* shape in [0, SCENE_N_SHAPES) */
/* The word for Fashion-MNIST class c (one token each: "top", ..., "boot"). */
const char *scene_fashion_name(int c);

/* 1 when words is a noun phrase the checker understands (known attribute
 * words, each kind once, then exactly one noun, last). */
int scene_words_valid(const char *words);

/* ---- captions -------------------------------------------------------- */

/* The five reference captions of a scene, derived from its objects only:
 *   0: canonical: objects left to right, short relations ("left of", "above")
 *   1: the same objects right to left, short relations
 *   2: left to right with long relations ("to the left of", "over", "under")
 *   3: right to left, long relations
 *   4: "there is " + caption 0
 * A single object gives NP, "there is NP", "a picture of NP",
 * "an image of NP", NP. Returns GLM_EINPUT when two objects in a row have no
 * relation (ties; generated layouts never have them) or n is not
 * 1..SCENE_CAPTION_MAX_OBJECTS. */
int scene_captions(char caps[SCENE_N_REFS][SCENE_CAPTION_LEN], const SceneObject *objs, int n,
                   GlmError *err);

/* What the checker found in one caption. */
typedef struct {
    int parsed;      /* the caption follows the grammar, every word known */
    int correct;     /* semantic correctness: parsed, names every object exactly once with
                        exactly its words, nothing else, and every stated relation is true */
    int n_phrases;   /* noun phrases found (also in an unparsed caption) */
    int n_correct;   /* objects named with exactly their words (object accuracy numerator) */
    int noun_tok[SCENE_MAX_OBJECTS];  /* per object: token index of the noun that names it, -1 */
} SceneCheck;

/* Checks toks[0..n_toks) (lowercase words, no start/end tokens; e.g. the
 * vocabulary's word for each generated id, a const char *[] that converts
 * implicitly; a char ** needs a cast) against the n_objs (<=
 * SCENE_MAX_OBJECTS) objects of one image. When correct, noun_tok
 * comes from the assignment that satisfies the relations; otherwise from the
 * first phrase naming each object. Never fails. */
void scene_check_caption(SceneCheck *out, const SceneObject *objs, int n_objs,
                         const char *const *toks, int n_toks);
/* The same on raw text, tokenized with text_tokenize (at most 64 tokens). */
void scene_check_text(SceneCheck *out, const SceneObject *objs, int n_objs, const char *caption);

#endif
