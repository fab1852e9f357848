/* scenes.c - the scene language (scenes.h): lexicon, relation rule, noun
 * phrases, the caption grammar in both directions (writing the five
 * references, checking a caption against the objects). Pure: no pixels, no
 * files, no randomness.
 *
 * Reads top to bottom: lexicon, relations, noun phrases, captions, checker.
 *
 * Not here: drawing and layout (scene_draw.c), the data set writer
 * (scene_dataset.c), objects.tsv (dataset_objects.c), any printing.
 */
#include "scenes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"    /* FASHION_CLASSES: the fashion nouns */
#include "text.h"

/* ===================================================================== */
/* Lexicon                                                                */
/* ===================================================================== */

enum {
    W_UNKNOWN = 0, W_DET, W_SIZE, W_COLOUR, W_NOUN,
    W_LEFT, W_RIGHT, W_ABOVE, W_BELOW, W_TO, W_THE, W_OF, W_IS, W_THERE, W_PICTURE,
};

static const char *const size_words[SCENE_N_SIZES] = {"small", "large"};
static const char *const colour_words[SCENE_N_COLOURS] = {"red", "green", "blue", "yellow", "purple", "orange"};

/* Nouns: the four shapes in SCENE_SHAPE_* order, then the ten Fashion-MNIST
 * classes in label order (one token each under text.h; "t-shirt/top"
 * becomes "top", "ankle boot" becomes "boot"). */
#define N_NOUNS (SCENE_N_SHAPES + FASHION_CLASSES)
static const char *const noun_words[N_NOUNS] = {
    "circle", "square", "triangle", "cross",
    "top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
};

static const struct {
    const char *word;
    int cls;
} glue_words[] = {
    {"a", W_DET}, {"an", W_DET}, {"left", W_LEFT}, {"right", W_RIGHT},
    {"above", W_ABOVE}, {"over", W_ABOVE}, {"below", W_BELOW}, {"under", W_BELOW},
    {"to", W_TO}, {"the", W_THE}, {"of", W_OF}, {"is", W_IS}, {"there", W_THERE},
    {"picture", W_PICTURE}, {"image", W_PICTURE},
};

/* Class of a word and, for sizes, colours and nouns, its index. */
static int word_class(const char *w, int *val)
{
    *val = -1;
    for (int i = 0; i < SCENE_N_SIZES; i++)
        if (!strcmp(w, size_words[i])) return *val = i, W_SIZE;
    for (int i = 0; i < SCENE_N_COLOURS; i++)
        if (!strcmp(w, colour_words[i])) return *val = i, W_COLOUR;
    for (int i = 0; i < N_NOUNS; i++)
        if (!strcmp(w, noun_words[i])) return *val = i, W_NOUN;
    for (size_t i = 0; i < sizeof glue_words / sizeof glue_words[0]; i++)
        if (!strcmp(w, glue_words[i].word)) return glue_words[i].cls;
    return W_UNKNOWN;
}

const char *scene_size_word(int size)
{
    GLM_ASSERT(size >= 0 && size < SCENE_N_SIZES);
    return size_words[size];
}

const char *scene_colour_word(int colour)
{
    GLM_ASSERT(colour >= 0 && colour < SCENE_N_COLOURS);
    return colour_words[colour];
}

const char *scene_shape_word(int shape)
{
    GLM_ASSERT(shape >= 0 && shape < SCENE_N_SHAPES);
    return noun_words[shape];
}

const char *scene_fashion_name(int c)
{
    GLM_ASSERT(c >= 0 && c < FASHION_CLASSES);
    return noun_words[SCENE_N_SHAPES + c];
}

/* ===================================================================== */
/* Relations                                                              */
/* ===================================================================== */

int scene_relation(const SceneBox *a, const SceneBox *b)
{
    /* Doubled centres keep everything in integers, so the generator (which
     * decides from the same integer boxes it writes) and the checker agree
     * bit for bit. */
    long dx = (long)(b->x0 + b->x1) - (a->x0 + a->x1);
    long dy = (long)(b->y0 + b->y1) - (a->y0 + a->y1);
    long ax = labs(dx), ay = labs(dy);
    if (ax > ay) return dx > 0 ? SCENE_REL_LEFT : SCENE_REL_RIGHT;
    if (ay > ax) return dy > 0 ? SCENE_REL_ABOVE : SCENE_REL_BELOW;
    return SCENE_REL_NONE;
}

const char *scene_relation_name(int rel)
{
    switch (rel) {
    case SCENE_REL_LEFT: return "left of";
    case SCENE_REL_RIGHT: return "right of";
    case SCENE_REL_ABOVE: return "above";
    case SCENE_REL_BELOW: return "below";
    default: return "none";
    }
}

/* ===================================================================== */
/* Noun phrases                                                           */
/* ===================================================================== */

/* A noun phrase as attribute indices (-1 when absent). */
typedef struct {
    int size, colour, noun;
    int valid;   /* no attribute kind twice */
    int tok;     /* token index of the noun (captions only) */
} Phrase;

static int phrase_equal(const Phrase *a, const Phrase *b)
{
    return a->valid && b->valid && a->size == b->size && a->colour == b->colour &&
           a->noun == b->noun;
}

/* Parses an object's words: attributes (each kind once) then one noun, last. */
static int words_parse(Phrase *p, const char *words)
{
    char buf[SCENE_WORDS_LEN];
    char *toks[8];
    int trunc;
    if (strlen(words) >= sizeof buf) return 0;
    int n = text_tokenize(words, buf, sizeof buf, toks, 8, &trunc);
    *p = (Phrase){-1, -1, -1, 0, -1};
    if (n < 1 || trunc) return 0;
    for (int i = 0; i < n; i++) {
        int v, c = word_class(toks[i], &v);
        if (i == n - 1) {
            if (c != W_NOUN) return 0;
            p->noun = v;
        } else if (c == W_SIZE && p->size < 0) {
            p->size = v;
        } else if (c == W_COLOUR && p->colour < 0) {
            p->colour = v;
        } else {
            return 0;
        }
    }
    p->valid = 1;
    return 1;
}

int scene_words_valid(const char *words)
{
    Phrase p;
    return words_parse(&p, words);
}

/* ===================================================================== */
/* Captions                                                               */
/* ===================================================================== */

typedef struct {
    char *s;
    size_t cap, len;
    int overflow;   /* set once a write did not fit; the text is then cut */
} StrBuf;

static void sb_add(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(StrBuf *b, const char *fmt, ...)
{
    if (b->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    b->len += (size_t)n;
}

static const char *article(const char *words)
{
    return strchr("aeiou", words[0]) ? "an" : "a";
}

static const char *rel_words(int rel, int long_form)
{
    switch (rel) {
    case SCENE_REL_LEFT: return long_form ? "to the left of" : "left of";
    case SCENE_REL_RIGHT: return long_form ? "to the right of" : "right of";
    case SCENE_REL_ABOVE: return long_form ? "over" : "above";
    case SCENE_REL_BELOW: return long_form ? "under" : "below";
    default: return NULL;
    }
}

/* Writes the chain "NP REL NP REL NP" over objs in the order ord[]. */
static int caption_chain(StrBuf *b, const SceneObject *objs, const int *ord, int n, int long_form)
{
    for (int i = 0; i < n; i++) {
        const SceneObject *o = &objs[ord[i]];
        if (i > 0) {
            const char *rw = rel_words(scene_relation(&objs[ord[i - 1]].box, &o->box), long_form);
            if (!rw) return 0;
            sb_add(b, " %s ", rw);
        }
        sb_add(b, "%s %s", article(o->words), o->words);
    }
    return 1;
}

int scene_captions(char caps[SCENE_N_REFS][SCENE_CAPTION_LEN], const SceneObject *objs, int n,
                   GlmError *err)
{
    if (n < 1 || n > SCENE_CAPTION_MAX_OBJECTS)
        return glm_fail(err, GLM_EINPUT, "scene captions: %d objects (generated scenes have 1-%d)", n,
                        SCENE_CAPTION_MAX_OBJECTS);
    for (int i = 0; i < n; i++)
        if (!scene_words_valid(objs[i].words))
            return glm_fail(err, GLM_EINPUT, "scene captions: object words '%s' not understood",
                            objs[i].words);
    /* Left to right by centre x (ties: top first, then input order). */
    int ord[SCENE_CAPTION_MAX_OBJECTS], rev[SCENE_CAPTION_MAX_OBJECTS];
    for (int i = 0; i < n; i++) ord[i] = i;
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0; j--) {
            const SceneBox *a = &objs[ord[j - 1]].box, *b = &objs[ord[j]].box;
            int ax = a->x0 + a->x1, bx = b->x0 + b->x1;
            int ay = a->y0 + a->y1, by = b->y0 + b->y1;
            if (ax < bx || (ax == bx && ay <= by)) break;
            int t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    }
    for (int i = 0; i < n; i++) rev[i] = ord[n - 1 - i];
    for (int k = 0; k < SCENE_N_REFS; k++) {
        StrBuf b = {caps[k], SCENE_CAPTION_LEN, 0, 0};
        caps[k][0] = 0;
        int ok = 1;
        if (n == 1) {
            static const char *const prefix[SCENE_N_REFS] = {"", "there is ", "a picture of ",
                                                             "an image of ", ""};
            sb_add(&b, "%s", prefix[k]);
            ok = caption_chain(&b, objs, ord, 1, 0);
        } else if (k == 4) {
            sb_add(&b, "there is ");
            ok = caption_chain(&b, objs, ord, n, 0);
        } else {
            ok = caption_chain(&b, objs, k & 1 ? rev : ord, n, k >= 2);
        }
        if (!ok)
            return glm_fail(err, GLM_EINPUT,
                            "scene captions: two neighbouring objects have no clear relation");
        if (b.overflow)   /* only with odd spacing inside the words: the lexicon is short */
            return glm_fail(err, GLM_EINPUT, "scene captions: caption longer than %d bytes",
                            SCENE_CAPTION_LEN - 1);
    }
    return GLM_OK;
}

/* ===================================================================== */
/* Checker                                                                */
/* ===================================================================== */

#define CHECK_MAX_PHRASES 32

/* Collects noun phrases leniently: the attribute words right before a noun
 * belong to it; any other word starts over. Used for object accuracy, so a
 * caption that breaks the grammar still gets credit for what it names. */
static int scan_phrases(Phrase *ph, int max, const char *const *toks, int n_toks)
{
    int n = 0;
    Phrase cur = {-1, -1, -1, 1, -1};
    for (int i = 0; i < n_toks; i++) {
        int v, c = word_class(toks[i], &v);
        if (c == W_SIZE || c == W_COLOUR) {
            int *slot = c == W_SIZE ? &cur.size : &cur.colour;
            if (*slot >= 0) cur.valid = 0;
            *slot = v;
        } else if (c == W_NOUN) {
            cur.noun = v;
            cur.tok = i;
            if (n < max) ph[n] = cur;
            n++;
            cur = (Phrase){-1, -1, -1, 1, -1};
        } else {
            cur = (Phrase){-1, -1, -1, 1, -1};
        }
    }
    return n;
}

/* Strict parse by the grammar in scenes.h. On success rels[k] is the relation
 * stated between phrase k and k+1, and the phrase count is returned; -1 when
 * the caption does not follow the grammar. */
static int parse_strict(int *rels, int max_rels, const char *const *toks, int n_toks)
{
    int cls[64], val[64];
    if (n_toks > 64 || n_toks < 1) return -1;
    for (int i = 0; i < n_toks; i++) {
        cls[i] = word_class(toks[i], &val[i]);
        if (cls[i] == W_UNKNOWN) return -1;
    }
    int i = 0, n_np = 0;
#define AT(k, c) (i + (k) < n_toks && cls[i + (k)] == (c))
    if (AT(0, W_THERE) && AT(1, W_IS)) i += 2;
    else if (AT(0, W_DET) && AT(1, W_PICTURE) && AT(2, W_OF)) i += 3;
    for (;;) {
        /* NP := det attr* noun */
        if (!AT(0, W_DET)) return -1;
        i++;
        int seen_size = 0, seen_colour = 0;
        while (AT(0, W_SIZE) || AT(0, W_COLOUR)) {
            int *seen = cls[i] == W_SIZE ? &seen_size : &seen_colour;
            if (*seen) return -1;
            *seen = 1;
            i++;
        }
        if (!AT(0, W_NOUN)) return -1;
        i++;
        n_np++;
        if (i == n_toks) break;
        /* REL := [is] ([to the] (left|right) of | above | below) */
        if (AT(0, W_IS)) i++;
        int rel;
        if (AT(0, W_ABOVE)) {
            rel = SCENE_REL_ABOVE;
            i++;
        } else if (AT(0, W_BELOW)) {
            rel = SCENE_REL_BELOW;
            i++;
        } else {
            if (AT(0, W_TO) && AT(1, W_THE)) i += 2;
            if (AT(0, W_LEFT)) rel = SCENE_REL_LEFT;
            else if (AT(0, W_RIGHT)) rel = SCENE_REL_RIGHT;
            else return -1;
            i++;
            if (!AT(0, W_OF)) return -1;
            i++;
        }
        if (n_np - 1 >= max_rels) return -1;
        rels[n_np - 1] = rel;
    }
#undef AT
    return n_np;
}

/* Finds an assignment phrase k -> object assign[k] (a bijection) with equal
 * words and every stated relation true. */
static int assign_search(int *assign, int k, int n, const Phrase *ph, const Phrase *op,
                         const SceneObject *objs, const int *rels, unsigned used)
{
    if (k == n) return 1;
    for (int j = 0; j < n; j++) {
        if (used & (1u << j) || !phrase_equal(&ph[k], &op[j])) continue;
        if (k > 0 && scene_relation(&objs[assign[k - 1]].box, &objs[j].box) != rels[k - 1])
            continue;
        assign[k] = j;
        if (assign_search(assign, k + 1, n, ph, op, objs, rels, used | (1u << j))) return 1;
    }
    return 0;
}

void scene_check_caption(SceneCheck *out, const SceneObject *objs, int n_objs,
                         const char *const *toks, int n_toks)
{
    GLM_ASSERT(n_objs >= 0 && n_objs <= SCENE_MAX_OBJECTS);
    memset(out, 0, sizeof *out);
    for (int j = 0; j < SCENE_MAX_OBJECTS; j++) out->noun_tok[j] = -1;

    Phrase op[SCENE_MAX_OBJECTS];   /* (n_objs) the objects' own phrases */
    for (int j = 0; j < n_objs; j++) words_parse(&op[j], objs[j].words);

    Phrase ph[CHECK_MAX_PHRASES];
    int n_ph = scan_phrases(ph, CHECK_MAX_PHRASES, toks, n_toks);
    out->n_phrases = n_ph;
    int n_use = GLM_MIN(n_ph, CHECK_MAX_PHRASES);

    /* Object accuracy: equal words is an equivalence relation, so taking the
     * first unused matching phrase for each object is a maximum matching. */
    unsigned used = 0;
    for (int j = 0; j < n_objs; j++) {
        for (int k = 0; k < n_use && k < 32; k++) {
            if (!(used & (1u << k)) && phrase_equal(&ph[k], &op[j])) {
                used |= 1u << k;
                out->noun_tok[j] = ph[k].tok;
                out->n_correct++;
                break;
            }
        }
    }

    int rels[SCENE_MAX_OBJECTS];
    int n_np = parse_strict(rels, SCENE_MAX_OBJECTS, toks, n_toks);
    out->parsed = n_np >= 0;
    if (!out->parsed || n_np != n_ph || n_np != n_objs || out->n_correct != n_objs) return;
    int assign[SCENE_MAX_OBJECTS];
    if (!assign_search(assign, 0, n_objs, ph, op, objs, rels, 0)) return;
    out->correct = 1;
    for (int k = 0; k < n_objs; k++) out->noun_tok[assign[k]] = ph[k].tok;
}

void scene_check_text(SceneCheck *out, const SceneObject *objs, int n_objs, const char *caption)
{
    size_t len = strlen(caption);
    char *buf = malloc(len + 1);
    char *toks[64];
    int n = 0;
    if (buf) n = text_tokenize(caption, buf, len + 1, toks, 64, NULL);
    /* Out of memory checks an empty caption, which names nothing: the
     * result is "wrong", never a crash. */
    scene_check_caption(out, objs, n_objs, (const char *const *)toks, n);
    free(buf);
}
