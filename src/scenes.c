/* scenes.c - shape and Fashion-MNIST scenes: lexicon, relation rule, caption
 * grammar (both directions), objects.tsv loader, drawing, and the data set
 * writer. See scenes.h for the grammar and the rules; docs/data-format.md
 * for the files.
 *
 * Reads top to bottom: lexicon, geometry, noun phrases, captions, checker,
 * objects.tsv, drawing, shape scenes, fashion scenes, data set writer.
 *
 * Not here: image decoding (image.h), caption files (dataset.h), any printing.
 */
#include "scenes.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png.h"
#include "text.h"

/* ===================================================================== */
/* Lexicon                                                                */
/* ===================================================================== */

enum {
    W_UNKNOWN = 0, W_DET, W_SIZE, W_COLOUR, W_NOUN,
    W_LEFT, W_RIGHT, W_ABOVE, W_BELOW, W_TO, W_THE, W_OF, W_IS, W_THERE, W_PICTURE,
};

#define N_SIZES 2
#define N_COLOURS 6
#define N_SHAPES 4

static const char *const size_words[N_SIZES] = {"small", "large"};

/* Colours chosen so that a coarse histogram (4 levels per channel) puts each
 * in its own bin, also after the +-6 jitter: R,G,B sit near bin centres. */
static const char *const colour_words[N_COLOURS] = {"red", "green", "blue", "yellow", "purple", "orange"};
static const uint8_t colour_rgb[N_COLOURS][3] = {
    {220, 36, 36},   /* red    bins (3,0,0) */
    {40, 160, 60},   /* green  bins (0,2,0) */
    {40, 96, 220},   /* blue   bins (0,1,3) */
    {236, 212, 40},  /* yellow bins (3,3,0) */
    {156, 48, 170},  /* purple bins (2,0,2) */
    {240, 150, 32},  /* orange bins (3,2,0) */
};

enum { SHAPE_CIRCLE, SHAPE_SQUARE, SHAPE_TRIANGLE, SHAPE_CROSS };

/* Nouns: the four shapes, then the ten Fashion-MNIST classes in label order
 * (one token each under text.h; "t-shirt/top" becomes "top", "ankle boot"
 * becomes "boot"). */
#define N_NOUNS (N_SHAPES + FASHION_CLASSES)
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
    for (int i = 0; i < N_SIZES; i++)
        if (!strcmp(w, size_words[i])) return *val = i, W_SIZE;
    for (int i = 0; i < N_COLOURS; i++)
        if (!strcmp(w, colour_words[i])) return *val = i, W_COLOUR;
    for (int i = 0; i < N_NOUNS; i++)
        if (!strcmp(w, noun_words[i])) return *val = i, W_NOUN;
    for (size_t i = 0; i < sizeof glue_words / sizeof glue_words[0]; i++)
        if (!strcmp(w, glue_words[i].word)) return glue_words[i].cls;
    return W_UNKNOWN;
}

int scene_colour_rgb(uint8_t rgb[3], const char *word)
{
    for (int i = 0; i < N_COLOURS; i++) {
        if (!strcmp(word, colour_words[i])) {
            memcpy(rgb, colour_rgb[i], 3);
            return 1;
        }
    }
    return 0;
}

const char *scene_fashion_name(int c)
{
    GLM_ASSERT(c >= 0 && c < FASHION_CLASSES);
    return noun_words[N_SHAPES + c];
}

/* ===================================================================== */
/* Geometry                                                               */
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

/* A pair is "clear" when its centres are not near a diagonal of each other:
 * | |dx| - |dy| | >= margin (in pixels, compared on doubled centres). */
static int pair_clear(const SceneBox *a, const SceneBox *b, int margin)
{
    long dx = labs((long)(b->x0 + b->x1) - (a->x0 + a->x1));
    long dy = labs((long)(b->y0 + b->y1) - (a->y0 + a->y1));
    return labs(dx - dy) >= 2L * margin;
}

static int boxes_apart(const SceneBox *a, const SceneBox *b, int gap)
{
    return a->x1 + gap <= b->x0 || b->x1 + gap <= a->x0 || a->y1 + gap <= b->y0 ||
           b->y1 + gap <= a->y0;
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
    if (n < 1 || n > 3)
        return glm_fail(err, GLM_EINPUT, "scene captions: %d objects (generated scenes have 1-3)", n);
    for (int i = 0; i < n; i++)
        if (!scene_words_valid(objs[i].words))
            return glm_fail(err, GLM_EINPUT, "scene captions: object words '%s' not understood",
                            objs[i].words);
    /* Left to right by centre x (ties: top first, then input order). */
    int ord[3], rev[3];
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

/* ===================================================================== */
/* Drawing                                                                */
/* ===================================================================== */

int scene_init(Scene *s, int size, GlmError *err)
{
    memset(s, 0, sizeof *s);
    if (size < 8 || size > SCENE_MAX_SIZE)
        return glm_fail(err, GLM_EINPUT, "scene size %d is not 8..%d", size, SCENE_MAX_SIZE);
    s->rgb = glm_malloc_array((size_t)size * size, 3);
    if (!s->rgb) return glm_fail(err, GLM_ENOMEM, "out of memory for a %dx%d scene", size, size);
    s->size = size;
    return GLM_OK;
}

void scene_free(Scene *s)
{
    if (!s) return;
    free(s->rgb);
    memset(s, 0, sizeof *s);
}

static uint8_t clamp_u8(float v)
{
    return (uint8_t)(v < 0.0f ? 0 : v > 255.0f ? 255 : v + 0.5f);
}

/* Pale background (grey 224..238, each channel tinted by up to +-4), a smooth
 * low-frequency swell (+-6 grey levels) and per-pixel grey grain (+-3
 * levels): enough texture that "background" is not a single colour, far too
 * little to look like an object. The grain is grey (the same on R, G, B)
 * because colour grain made the PNGs 50% bigger and slower to compress. */
#define BG_LATTICE 5
static void draw_background(uint8_t *rgb /* (S, S, 3) */, int S, Rng *r)
{
    float base[3];
    float grey = 224.0f + 14.0f * rng_uniform(r);
    for (int c = 0; c < 3; c++) base[c] = grey - 4.0f + 8.0f * rng_uniform(r);
    float lat[BG_LATTICE][BG_LATTICE];
    for (int i = 0; i < BG_LATTICE; i++)
        for (int j = 0; j < BG_LATTICE; j++) lat[i][j] = -6.0f + 12.0f * rng_uniform(r);
    float step = (float)(S - 1) / (BG_LATTICE - 1);
    uint32_t bits = 0;
    for (int y = 0; y < S; y++) {
        float gy = y / step;
        int iy = GLM_MIN((int)gy, BG_LATTICE - 2);
        float fy = gy - iy;
        for (int x = 0; x < S; x++) {
            float gx = x / step;
            int ix = GLM_MIN((int)gx, BG_LATTICE - 2);
            float fx = gx - ix;
            float swell = (1 - fy) * ((1 - fx) * lat[iy][ix] + fx * lat[iy][ix + 1]) +
                          fy * ((1 - fx) * lat[iy + 1][ix] + fx * lat[iy + 1][ix + 1]);
            int k = (y * S + x) & 3;   /* one 32-bit draw gives the grain of 4 pixels */
            if (k == 0) bits = rng_u32(r);
            int grain = (int)(((bits >> (8 * k)) & 0xffu) * 7u >> 8) - 3;
            uint8_t *px = rgb + ((size_t)y * S + x) * 3;
            for (int c = 0; c < 3; c++) px[c] = clamp_u8(base[c] + swell + (float)grain);
        }
    }
}

/* Is the point (u, v), relative to the shape's top-left corner, inside a
 * shape of side s? */
static int shape_inside(int shape, float u, float v, float s)
{
    float h = 0.5f * s;
    switch (shape) {
    case SHAPE_CIRCLE: return (u - h) * (u - h) + (v - h) * (v - h) <= h * h;
    case SHAPE_SQUARE: return u >= 0 && u < s && v >= 0 && v < s;
    case SHAPE_TRIANGLE: /* apex at the top centre, base along the bottom */
        return v >= 0 && v <= s && fabsf(u - h) <= 0.5f * v;
    case SHAPE_CROSS: { /* a plus sign with arms a third of the side thick */
        float w = s / 6.0f;
        int in_box = u >= 0 && u <= s && v >= 0 && v <= s;
        return in_box && (fabsf(u - h) <= w || fabsf(v - h) <= w);
    }
    default: GLM_ASSERT(0); return 0;
    }
}

/* Anti-aliased: coverage from 3x3 samples per pixel blends the colour over
 * the background, so edges are soft and position is truly continuous. */
#define AA 3
static void draw_shape(uint8_t *rgb /* (S, S, 3) */, int S, int shape, float fx, float fy, float s,
                       const float col[3], const SceneBox *box)
{
    for (int y = box->y0; y < box->y1; y++) {
        for (int x = box->x0; x < box->x1; x++) {
            int hits = 0;
            for (int sy = 0; sy < AA; sy++)
                for (int sx = 0; sx < AA; sx++)
                    hits += shape_inside(shape, x + (sx + 0.5f) / AA - fx, y + (sy + 0.5f) / AA - fy, s);
            if (!hits) continue;
            float a = (float)hits / (AA * AA);
            uint8_t *px = rgb + ((size_t)y * S + x) * 3;
            for (int c = 0; c < 3; c++) px[c] = clamp_u8(px[c] + a * (col[c] - px[c]));
        }
    }
}

/* ===================================================================== */
/* Shape scenes                                                           */
/* ===================================================================== */

/* Margin from the diagonal, as a fraction of the canvas: 0.08 is 5 px at
 * 64 px, about 6 degrees either side of a diagonal at typical distances. */
#define DIAG_MARGIN_FRAC 0.08
#define PLACE_TRIES 200

static int diag_margin(int S) { return GLM_MAX(2, (int)lround(DIAG_MARGIN_FRAC * S)); }

static int layout_clear(const SceneObject *objs, int n, int margin)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!pair_clear(&objs[i].box, &objs[j].box, margin)) return 0;
    return 1;
}

int scene_make_shapes(Scene *s, Rng *r, GlmError *err)
{
    int S = s->size;
    GLM_ASSERT(s->rgb && S >= 8);
    /* Sides scale with the canvas: 12 and 20 px at 64 px. */
    float side[N_SIZES] = {12.0f * S / 64.0f, 20.0f * S / 64.0f};
    float pad = S / 32.0f;
    int gap = GLM_MAX(1, S / 32);
    int margin = diag_margin(S);
    struct { int shape, colour, size; float fx, fy; } spec[3];
    /* The object count is drawn once, outside the retry loop, so rejected
     * layouts (more likely with 3 objects) do not skew the counts. */
    int n = 1 + (int)rng_below(r, 3);
    for (int attempt = 0;; attempt++) {
        if (attempt == PLACE_TRIES)
            return glm_fail(err, GLM_EINPUT, "shape scene: no layout found on a %dx%d canvas", S, S);
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int dup;
            do {   /* distinct size+colour+shape, so every object has its own words */
                spec[i].shape = (int)rng_below(r, N_SHAPES);
                spec[i].colour = (int)rng_below(r, N_COLOURS);
                spec[i].size = (int)rng_below(r, N_SIZES);
                dup = 0;
                for (int j = 0; j < i; j++)
                    dup |= spec[j].shape == spec[i].shape && spec[j].colour == spec[i].colour &&
                           spec[j].size == spec[i].size;
            } while (dup);
            float sd = side[spec[i].size];
            int placed = 0;
            for (int t = 0; t < 50 && !placed; t++) {
                float fx = pad + rng_uniform(r) * (S - 2 * pad - sd);
                float fy = pad + rng_uniform(r) * (S - 2 * pad - sd);
                SceneBox b = {(int)floorf(fx), (int)floorf(fy), (int)ceilf(fx + sd), (int)ceilf(fy + sd)};
                b.x1 = GLM_MIN(b.x1, S);
                b.y1 = GLM_MIN(b.y1, S);
                placed = 1;
                for (int j = 0; j < i; j++) placed &= boxes_apart(&b, &s->objects[j].box, gap);
                if (placed) {
                    spec[i].fx = fx;
                    spec[i].fy = fy;
                    s->objects[i].box = b;
                    snprintf(s->objects[i].words, SCENE_WORDS_LEN, "%s %s %s", size_words[spec[i].size],
                             colour_words[spec[i].colour], noun_words[spec[i].shape]);
                }
            }
            ok = placed;
        }
        if (!ok || !layout_clear(s->objects, n, margin)) continue;
        s->n_objects = n;
        break;
    }
    draw_background(s->rgb, S, r);
    for (int i = 0; i < s->n_objects; i++) {
        float col[3];
        for (int c = 0; c < 3; c++)
            col[c] = colour_rgb[spec[i].colour][c] + (float)((int)rng_below(r, 13) - 6);
        draw_shape(s->rgb, S, spec[i].shape, spec[i].fx, spec[i].fy, side[spec[i].size], col,
                   &s->objects[i].box);
        s->source[i] = -1;
        s->label[i] = -1;
    }
    return scene_captions(s->captions, s->objects, s->n_objects, err);
}

/* ===================================================================== */
/* Fashion scenes                                                         */
/* ===================================================================== */

/* A photo pixel counts as item (for the tight box) from this grey level on;
 * Fashion-MNIST backgrounds are 0 with faint specks below it. */
#define FASHION_INK_MIN 32
/* The darkest the item gets: a photo value of 255 maps to this grey. */
#define FASHION_INK 24.0f


/* The tight box of a photo's item pixels, in photo coordinates (the whole
 * square if no pixel reaches FASHION_INK_MIN). */
static SceneBox photo_tight_box(const uint8_t *ph /* (28, 28) */)
{
    const int P = FASHION_SIDE;
    SceneBox t = {P, P, 0, 0};
    for (int y = 0; y < P; y++)
        for (int x = 0; x < P; x++)
            if (ph[y * P + x] >= FASHION_INK_MIN) {
                t.x0 = GLM_MIN(t.x0, x);
                t.y0 = GLM_MIN(t.y0, y);
                t.x1 = GLM_MAX(t.x1, x + 1);
                t.y1 = GLM_MAX(t.y1, y + 1);
            }
    if (t.x1 == 0) t = (SceneBox){0, 0, P, P};
    return t;
}

int scene_make_fashion(Scene *s, Rng *r, const FashionSet *fs, int lo, int hi, GlmError *err)
{
    const int S = s->size, P = FASHION_SIDE;
    GLM_ASSERT(s->rgb);
    if (fs->images.rows != P || fs->images.cols != P || lo < 0 || hi > fs->images.count ||
        hi - lo < 1)
        return glm_fail(err, GLM_EINPUT, "fashion scene: photo range [%d, %d) of %d photos", lo,
                        hi, fs->images.count);
    if (S < SCENE_FASHION_MIN_SIZE)
        return glm_fail(err, GLM_EINPUT, "fashion scene: canvas %d is below %d", S,
                        SCENE_FASHION_MIN_SIZE);
    /* Distinct classes need that many classes in the range; a real split has
     * all ten, a tiny test file might not. */
    int present = 0, seen[FASHION_CLASSES] = {0};
    for (int i = lo; i < hi; i++) seen[fs->labels.labels[i]] = 1;
    for (int c = 0; c < FASHION_CLASSES; c++) present += seen[c];
    if (present < 3)
        return glm_fail(err, GLM_EINPUT, "fashion scene: photos [%d, %d) hold only %d classes, need 3",
                        lo, hi, present);
    int pad = GLM_MAX(1, S / 48), gap = GLM_MAX(1, S / 48);
    int margin = diag_margin(S);
    int px[3], py[3];
    SceneBox sq[3];
    int n = 2 + (int)rng_below(r, 2);   /* drawn once, as for shapes */
    for (int attempt = 0;; attempt++) {
        if (attempt == PLACE_TRIES)
            return glm_fail(err, GLM_EINPUT, "fashion scene: no layout found on a %dx%d canvas", S, S);
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int dup, idx;
            do {   /* distinct classes, so every item has its own word */
                idx = lo + (int)rng_below(r, (uint32_t)(hi - lo));
                dup = 0;
                for (int j = 0; j < i; j++) dup |= s->label[j] == fs->labels.labels[idx];
            } while (dup);
            s->source[i] = idx;
            s->label[i] = fs->labels.labels[idx];
            ok = 0;
            for (int t = 0; t < 50 && !ok; t++) {
                int x = pad + (int)rng_below(r, (uint32_t)(S - 2 * pad - P + 1));
                int y = pad + (int)rng_below(r, (uint32_t)(S - 2 * pad - P + 1));
                sq[i] = (SceneBox){x, y, x + P, y + P};
                ok = 1;
                for (int j = 0; j < i; j++) ok &= boxes_apart(&sq[i], &sq[j], gap);
                px[i] = x;
                py[i] = y;
            }
            if (!ok) break;
            SceneBox t = photo_tight_box(fs->images.pixels + (size_t)idx * P * P);
            s->objects[i].box = (SceneBox){px[i] + t.x0, py[i] + t.y0, px[i] + t.x1, py[i] + t.y1};
            snprintf(s->objects[i].words, SCENE_WORDS_LEN, "%s", scene_fashion_name(s->label[i]));
        }
        if (!ok || !layout_clear(s->objects, n, margin)) continue;
        s->n_objects = n;
        break;
    }
    draw_background(s->rgb, S, r);
    /* Dark item on the pale background: the photo value (item bright on
     * black) is used as ink coverage, so 0 leaves the background and 255
     * gives FASHION_INK grey; every grey level of the photo survives. */
    for (int i = 0; i < s->n_objects; i++) {
        const uint8_t *ph = fs->images.pixels + (size_t)s->source[i] * P * P;
        for (int y = 0; y < P; y++) {
            for (int x = 0; x < P; x++) {
                float a = ph[y * P + x] / 255.0f;
                uint8_t *q = s->rgb + ((size_t)(py[i] + y) * S + px[i] + x) * 3;
                for (int c = 0; c < 3; c++) q[c] = clamp_u8(q[c] + a * (FASHION_INK - q[c]));
            }
        }
    }
    return scene_captions(s->captions, s->objects, s->n_objects, err);
}

/* ===================================================================== */
/* Data set writer                                                        */
/* ===================================================================== */

SceneGenParams scene_gen_default_params(SceneKind kind)
{
    SceneGenParams p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.count = 1000;
    p.seed = RNG_DEFAULT_SEED;
    p.size = kind == SCENE_KIND_FASHION ? SCENE_FASHION_DEFAULT_SIZE : SCENE_SHAPES_DEFAULT_SIZE;
    p.split[0] = 0.8;
    p.split[1] = 0.1;
    p.split[2] = 0.1;
    p.fashion_dir = FASHION_DEFAULT_DIR;
    return p;
}

void scene_split_counts(int counts[3], int count, const double split[3])
{
    counts[0] = (int)floor(count * split[0] + 0.5);
    counts[0] = GLM_MAX(0, GLM_MIN(counts[0], count));
    counts[1] = (int)floor(count * split[1] + 0.5);
    counts[1] = GLM_MAX(0, GLM_MIN(counts[1], count - counts[0]));
    counts[2] = count - counts[0] - counts[1];
}

/* An output file that remembers its first failure, so the writer checks once
 * at close instead of after every line. */
typedef struct {
    FILE *f;
    char path[4200];
    int failed;
} OutFile;

static int out_open(OutFile *o, const char *dir, const char *name, GlmError *err)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    o->failed = 0;
    o->f = fopen(o->path, "wb");
    if (!o->f) return glm_fail(err, GLM_EIO, "%s: cannot create: %s", o->path, strerror(errno));
    return GLM_OK;
}

static void out_printf(OutFile *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(OutFile *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0) o->failed = 1;
    va_end(ap);
}

static int out_close(OutFile *o, GlmError *err)
{
    if (!o->f) return GLM_OK;
    int bad = o->failed || ferror(o->f);
    int e = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (bad) return glm_fail(err, GLM_EIO, "%s: write failed: %s", o->path, strerror(e));
    return GLM_OK;
}

/* Encodes the scene with png.h into work (png_work_size bytes, reused
 * across images) and writes it to dir/name. */
static int write_png(const char *dir, const char *name, const Scene *s, uint8_t *work,
                     GlmError *err)
{
    size_t len;
    GlmError e;
    int rc = png_encode(work, &len, s->rgb, s->size, s->size, PNG_LEVEL_FAST, &e);
    if (rc) return glm_fail(err, rc, "%s/%s: %s", dir, name, e.msg);
    OutFile o;
    if ((rc = out_open(&o, dir, name, err))) return rc;
    if (fwrite(work, 1, len, o.f) != len) o.failed = 1;
    return out_close(&o, err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* Deletes the temporary tree this writer created (never anything else). */
static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int check_out_dir(const char *out, GlmError *err)
{
    struct stat st;
    if (stat(out, &st) != 0) {
        if (errno == ENOENT) return GLM_OK;
        return glm_fail(err, GLM_EIO, "%s: %s", out, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return glm_fail(err, GLM_EINPUT, "%s: exists and is not a directory", out);
    DIR *d = opendir(out);
    if (!d) return glm_fail(err, GLM_EIO, "%s: %s", out, strerror(errno));
    int empty = 1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty)
        return glm_fail(err, GLM_EINPUT,
                        "%s: already exists and is not empty (remove it or choose another --out)", out);
    return GLM_OK;
}

static int check_params(const SceneGenParams *p, GlmError *err)
{
    if (p->count < 1 || p->count > 10000000)
        return glm_fail(err, GLM_EINPUT, "count %d is not 1..10000000", p->count);
    int lo = p->kind == SCENE_KIND_FASHION ? SCENE_FASHION_MIN_SIZE : SCENE_SHAPES_MIN_SIZE;
    if (p->size < lo || p->size > SCENE_MAX_SIZE)
        return glm_fail(err, GLM_EINPUT, "size %d is not %d..%d", p->size, lo, SCENE_MAX_SIZE);
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        if (!(p->split[i] >= 0 && p->split[i] <= 1))
            return glm_fail(err, GLM_EINPUT, "split fraction %g is not in [0, 1]", p->split[i]);
        sum += p->split[i];
    }
    if (fabs(sum - 1) > 1e-6)
        return glm_fail(err, GLM_EINPUT, "split fractions sum to %g, not 1", sum);
    return GLM_OK;
}

/* Generates every scene into the (temporary) directory tmp. */
static int write_scenes(const char *tmp, const SceneGenParams *p, SceneProgressFn progress,
                        void *ctx, GlmError *err)
{
    int counts[3];
    scene_split_counts(counts, p->count, p->split);
    int fashion = p->kind == SCENE_KIND_FASHION;
    FashionSet train_set, test_set;
    memset(&train_set, 0, sizeof train_set);
    memset(&test_set, 0, sizeof test_set);
    Scene sc;
    memset(&sc, 0, sizeof sc);
    uint8_t *work = NULL;   /* png_encode's work buffer, reused */
    OutFile files[7];   /* captions, objects, train, val, test, sources, info */
    memset(files, 0, sizeof files);
    int rc = GLM_OK;
    char images[4300];
    snprintf(images, sizeof images, "%.4200s/images", tmp);

    if (fashion) {
        if (counts[0] + counts[1] > 0 &&
            (rc = fashion_load(&train_set, p->fashion_dir, "train", err)))
            goto done;
        if (counts[2] > 0 && (rc = fashion_load(&test_set, p->fashion_dir, "t10k", err))) goto done;
    }
    if ((rc = scene_init(&sc, p->size, err))) goto done;
    work = glm_malloc_array(png_work_size(p->size, p->size), 1);
    if (!work) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory");
        goto done;
    }
    if (mkdir(images, 0777) != 0) {
        rc = glm_fail(err, GLM_EIO, "%s: cannot create: %s", images, strerror(errno));
        goto done;
    }
    static const char *const names[7] = {"captions.tsv", "objects.tsv", "train.txt", "val.txt",
                                         "test.txt", "sources.tsv", "info.txt"};
    for (int i = 0; i < 7; i++) {
        if (i == 5 && !fashion) continue;
        if ((rc = out_open(&files[i], tmp, names[i], err))) goto done;
    }
    const char *prefix = fashion ? "fashion" : "shapes";
    int digits = 6;
    for (int c = p->count - 1; c >= 1000000; c /= 10) digits++;
    Rng rng;
    rng_seed(&rng, p->seed, 0);
    int every = GLM_MAX(1, p->count / 20);
    /* Fashion photo ranges: train scenes use training photos [0, 90%), val
     * scenes [90%, 100%) (unseen in training scenes, like test), test
     * scenes the t10k photos. */
    int n_train_photos = train_set.images.count;
    int val_lo = n_train_photos - n_train_photos / 10;
    for (int i = 0; i < p->count; i++) {
        int split = i < counts[0] ? 0 : i < counts[0] + counts[1] ? 1 : 2;
        if (fashion) {
            const FashionSet *fs = split == 2 ? &test_set : &train_set;
            int lo = split == 0 ? 0 : split == 1 ? val_lo : 0;
            int hi = split == 0 ? val_lo : fs->images.count;
            rc = scene_make_fashion(&sc, &rng, fs, lo, hi, err);
        } else {
            rc = scene_make_shapes(&sc, &rng, err);
        }
        if (rc) goto done;
        char name[64], rel[80];
        int nn = snprintf(name, sizeof name, "%s_%0*d.png", prefix, digits, i);
        GLM_ASSERT(nn > 0 && (size_t)nn < sizeof name);
        snprintf(rel, sizeof rel, "images/%s", name);
        if ((rc = write_png(tmp, rel, &sc, work, err))) goto done;
        for (int k = 0; k < SCENE_N_REFS; k++)
            out_printf(&files[0], "%s#%d\t%s\n", name, k, sc.captions[k]);
        for (int j = 0; j < sc.n_objects; j++) {
            const SceneBox *b = &sc.objects[j].box;
            out_printf(&files[1], "%s\t%d\t%s\t%d %d %d %d\n", name, j, sc.objects[j].words, b->x0,
                       b->y0, b->x1, b->y1);
            if (fashion)
                out_printf(&files[5], "%s\t%d\t%s\t%d\t%d\n", name, j, split == 2 ? "t10k" : "train",
                           sc.source[j], sc.label[j]);
        }
        out_printf(&files[2 + split], "%s\n", name);
        if (progress && ((i + 1) % every == 0 || i + 1 == p->count)) progress(ctx, i + 1, p->count);
    }
    out_printf(&files[6], "glimpse-dataset 1\nkind %s\nseed %llu\ncount %d\nsize %d\n"
               "train %d\nval %d\ntest %d\n", prefix, (unsigned long long)p->seed, p->count,
               p->size, counts[0], counts[1], counts[2]);
done:
    for (int i = 0; i < 7; i++) {
        GlmError e2;
        int rc2 = out_close(&files[i], &e2);
        if (rc2 && !rc) {
            rc = rc2;
            if (err) *err = e2;
        }
    }
    scene_free(&sc);
    free(work);
    fashion_free(&train_set);
    fashion_free(&test_set);
    return rc;
}

int scene_generate_dataset(const char *out_dir, const SceneGenParams *p, SceneProgressFn progress,
                           void *ctx, GlmError *err)
{
    int rc = check_params(p, err);
    if (rc) return rc;
    char out[4096];
    size_t len = strlen(out_dir);
    if (len == 0 || len >= sizeof out - 16)
        return glm_fail(err, GLM_EINPUT, "output directory name is empty or too long");
    memcpy(out, out_dir, len + 1);
    while (len > 1 && out[len - 1] == '/') out[--len] = 0;
    if ((rc = check_out_dir(out, err))) return rc;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", out);
    if (!mkdtemp(tmp))
        return glm_fail(err, GLM_EIO, "%s: cannot create a directory next to it: %s", out,
                        strerror(errno));
    rc = write_scenes(tmp, p, progress, ctx, err);
    if (!rc) {
        /* mkdtemp made it 0700; a data set is for sharing like any output. */
        mode_t mask = umask(0);
        umask(mask);
        if (chmod(tmp, 0777 & ~mask) != 0)
            rc = glm_fail(err, GLM_EIO, "%s: chmod: %s", tmp, strerror(errno));
    }
    if (!rc && rename(tmp, out) != 0)
        rc = glm_fail(err, GLM_EIO, "%s: cannot rename %s to it: %s", out, tmp, strerror(errno));
    if (rc) remove_tree(tmp);
    return rc;
}
