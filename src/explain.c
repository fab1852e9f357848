/* explain.c - one REINFORCE update taken apart (see explain.h): the
 * rollout, reward, baseline and advantage from reinforce_rollout, the step
 * on a copy of the weights, and the walk-through as text. */
#include "explain.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features.h"
#include "vocab.h"

ExplainOptions explain_default_options(void)
{
    return (ExplainOptions){.reward = REWARD_CIDER, .optimizer = EXPLAIN_SGD, .lr = EXPLAIN_DEFAULT_SGD_LR,
                            .tries = EXPLAIN_DEFAULT_TRIES};
}

static const char *const optimizer_names[] = {"sgd", "adam"};

const char *explain_optimizer_name(int o) { return o >= 0 && o < 2 ? optimizer_names[o] : "?"; }

int explain_optimizer_parse(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (!strcmp(s, optimizer_names[i])) return i;
    return -1;
}

/* ---- set-up ------------------------------------------------------------ */

static int rollout_alloc(ExplainRollout *r, int T, int L)
{
    memset(r, 0, sizeof *r);
    r->tok = glm_calloc_array((size_t)T, sizeof(int32_t));
    r->region = glm_calloc_array((size_t)T, sizeof(int));
    r->p = glm_calloc_array((size_t)T, sizeof(float));
    r->alpha = glm_calloc_array((size_t)T * L, sizeof(float));
    r->dlogit = glm_calloc_array((size_t)T * L, sizeof(float));
    r->alpha_after = glm_calloc_array((size_t)T * L, sizeof(float));
    return r->tok && r->region && r->p && r->alpha && r->dlogit && r->alpha_after;
}

static void rollout_free(ExplainRollout *r)
{
    free(r->tok);
    free(r->region);
    free(r->p);
    free(r->alpha);
    free(r->dlogit);
    free(r->alpha_after);
    memset(r, 0, sizeof *r);
}

int explain_init(Explain *e, const Model *model, const Dataset *refs, GlmError *err)
{
    memset(e, 0, sizeof *e);
    const ModelConfig *cfg = &model->cfg;
    e->model = model;
    e->T = cfg->max_len, e->L = features_regions(&cfg->feat), e->V = cfg->vocab;
    if (cfg->attention != ATTN_HARD)
        return glm_fail(err, GLM_EINPUT, "the model has %s attention: explain shows REINFORCE, which trains "
                        "hard attention only", cfg->attention == ATTN_SOFT ? "soft" : "ablated");
    if (!refs->ids) return glm_fail(err, GLM_EINPUT, "the references are not encoded");
    int rc;
    if ((rc = reinforce_init(&e->rl, cfg, refs, 1, err)) ||
        (rc = decoder_work_init(&e->work, cfg, 1, e->T, err)) ||
        (rc = search_init(&e->greedy, cfg, 1, 1, err)) ||
        (rc = optim_adam_init(&e->adam, model->n_params, err)))
        return rc;
    e->gtok = glm_calloc_array((size_t)e->T, sizeof(int32_t));
    e->grad = glm_calloc_array(model->n_params, sizeof(float));
    e->grad_rl = glm_calloc_array(model->n_params, sizeof(float));
    e->stepped = glm_calloc_array(model->n_params, sizeof(float));
    int ok = e->gtok && e->grad && e->grad_rl && e->stepped;
    for (int k = 0; k < 2; k++) ok = ok && rollout_alloc(&e->roll[k], e->T, e->L);
    if (!ok) return glm_fail(err, GLM_ENOMEM, "out of memory for the explanation's buffers");
    model_params_view(&e->g, e->grad, cfg);
    model_params_view(&e->g_rl, e->grad_rl, cfg);
    model_params_view(&e->p_stepped, e->stepped, cfg);
    return GLM_OK;
}

void explain_free(Explain *e)
{
    reinforce_free(&e->rl);
    decoder_work_free(&e->work);
    search_free(&e->greedy);
    optim_adam_free(&e->adam);
    free(e->gtok);
    free(e->grad);
    free(e->grad_rl);
    free(e->stepped);
    for (int k = 0; k < 2; k++) rollout_free(&e->roll[k]);
    memset(e, 0, sizeof *e);
}

/* ---- the update ----------------------------------------------------------- */

void explain_rollout(Explain *e, ExplainRollout *out, const float *x, int image, const ExplainOptions *o, Rng *rng)
{
    const Model *m = e->model;
    const int T = e->T, L = e->L, V = e->V;
    /* lambda_r = 1 on a batch of one: the caption's weight is r - b itself */
    const ReinforceOptions ro = {.reward = o->reward, .baseline = BASELINE_GREEDY, .weight = 1.0f};
    ReinforceStats st;
    memset(e->grad_rl, 0, m->n_params * sizeof(float));
    reinforce_rollout(&e->rl, &ro, &e->work, &e->g_rl, &m->p, x, &image, 1, rng, &st);

    /* What the rollout was: its words and regions (r->rtok, r->rreg), and
     * the policy at every step from the replay reinforce_rollout ran. */
    const SearchResult *s = &e->rl.search.results[0];
    out->n = e->rl.rlen[0];
    out->words = s->len;
    memcpy(out->tok, e->rl.rtok, (size_t)T * sizeof(int32_t));
    memcpy(out->region, e->rl.rreg, (size_t)T * sizeof(int));
    memcpy(out->alpha, e->work.alpha, (size_t)out->n * L * sizeof(float));   /* (T, B = 1, L) */
    for (int t = 0; t < out->n; t++) out->p[t] = e->work.prob[(size_t)t * V + out->tok[t]];
    out->reward = e->rl.reward[0];
    out->baseline = e->rl.base[0];
    out->advantage = e->rl.weight[0];
    out->logpi = e->work.stats.logp_regions;
    /* d/de [A log alpha(s)] is reinforce_score_grad's d/de [-w log alpha(s)]
     * with w = -A: A (onehot(s) - alpha). */
    memset(out->dlogit, 0, (size_t)T * L * sizeof(float));
    for (int t = 0; t < out->n; t++)
        reinforce_score_grad(out->dlogit + (size_t)t * L, out->alpha + (size_t)t * L, out->region[t],
                             -(float)out->advantage, L);
    out->stepped = 0;

    /* The baseline's caption, for display: the same greedy decode
     * reinforce_rollout scored (deterministic, so the same words). */
    const SearchOptions greedy = {.beam = 1};
    search_run(&e->greedy, &m->p, x, 1, &greedy);
    e->glen = e->greedy.results[0].len;
    memcpy(e->gtok, e->greedy.results[0].words, (size_t)e->glen * sizeof(int32_t));
    e->greedy_reward = reinforce_reward(&e->rl, &ro, image, e->gtok, e->glen);
}

void explain_step(Explain *e, ExplainRollout *ro, const float *x, double weight, const ExplainOptions *o)
{
    const Model *m = e->model;
    const size_t n = m->n_params;
    /* The REINFORCE term alone, -A sum_t log alpha_t(s_t), on the rollout
     * replayed with its own words and regions: step 5 of reinforce_rollout. */
    const float w = (float)weight;
    const DecoderLoss loss = {.nll = 0.0f, .reinforce = &w};
    const DecoderPick given = {.attention = e->work.model_attention, .mode = REGIONS_GIVEN, .given = ro->region};
    memset(e->grad, 0, n * sizeof(float));
    decoder_forward(&e->work, &m->p, x, ro->tok, &ro->n, 1, e->T, &given, &loss);
    decoder_backward(&e->g, NULL, &e->work, &m->p);
    double g2 = 0;
    for (size_t i = 0; i < n; i++) g2 += (double)e->grad[i] * e->grad[i];
    ro->grad_norm = sqrt(g2);
    ro->weight = weight;

    memcpy(e->stepped, m->params, n * sizeof(float));
    if (o->optimizer == EXPLAIN_ADAM) {
        /* fresh moments: the first step of a run */
        memset(e->adam.m, 0, n * sizeof(float));
        memset(e->adam.v, 0, n * sizeof(float));
        e->adam.step = 0;
        AdamConfig ac = optim_adam_default();
        ac.lr = o->lr;
        optim_adam_step(e->stepped, &e->adam, e->grad, &ac);
    } else {
        for (size_t i = 0; i < n; i++) e->stepped[i] -= o->lr * e->grad[i];
    }

    /* alpha_t again: the same words and regions under the new weights */
    const DecoderLoss none = {0};
    decoder_forward(&e->work, &e->p_stepped, x, ro->tok, &ro->n, 1, e->T, &given, &none);
    memcpy(ro->alpha_after, e->work.alpha, (size_t)ro->n * e->L * sizeof(float));
    ro->logpi_after = e->work.stats.logp_regions;
    ro->stepped = 1;
}

/* ---- the text ------------------------------------------------------------ */

/* Steps whose chosen region has alpha above this get one line in parts 4
 * and 5 instead of a grid: their gradient is at most |A| (1 - alpha). */
#define EXPLAIN_SURE 0.99f

static const char *word(const Explain *e, int id) { return e->model->words[id]; }

static void put_caption(GlmBuf *b, const Explain *e, const int32_t *tok, int n)
{
    glm_buf_printf(b, "\"");
    for (int i = 0; i < n; i++) glm_buf_printf(b, "%s%s", i ? " " : "", word(e, tok[i]));
    glm_buf_printf(b, "\"");
}

/* A G x G grid of values, each printed by fmt (scale applied), the cell
 * `mark` in brackets. */
static void put_grid(GlmBuf *b, const float *v, int G, int mark, double scale, const char *fmt)
{
    for (int r = 0; r < G; r++) {
        glm_buf_printf(b, "      ");
        for (int c = 0; c < G; c++) {
            const int i = r * G + c;
            char cell[32];
            snprintf(cell, sizeof cell, fmt, scale * v[i]);
            if (i == mark) glm_buf_printf(b, " [%s]", cell);
            else glm_buf_printf(b, "  %s ", cell);
        }
        glm_buf_printf(b, "\n");
    }
}

static const char *reward_long_name(int r)
{
    switch (r) {
    case REWARD_BLEU4: return "BLEU-4 (sentence, smoothed; metrics_bleu4_one)";
    case REWARD_F1: return "unigram F1 (metrics_f1_one)";
    default: return "CIDEr-D (x10; metrics_cider_one)";
    }
}

/* Which of the candidate's n-grams (n = 1..4) some reference also has,
 * each counted at most as often as it occurs in one reference (the
 * clipping of BLEU; CIDEr-D rewards the same overlaps, weighted by how rare
 * each n-gram is). Display only: the reward itself is reinforce_reward's. */
static void put_ngrams(GlmBuf *b, const Explain *e, const Dataset *refs, int image, const int32_t *c, int n)
{
    const DatasetImage *im = &refs->images[image];
    for (int k = 1; k <= 4; k++) {
        const int total = GLM_MAX(0, n - k + 1);
        int matched = 0;
        GlmBuf hit = {0}, miss = {0};
        for (int i = 0; i < total; i++) {
            int first = 1, cnt = 0;   /* first occurrence of this n-gram; its count */
            for (int j = 0; j < total; j++) {
                int same = 1;
                for (int q = 0; q < k && same; q++) same = c[i + q] == c[j + q];
                if (same) {
                    if (j < i) first = 0;
                    cnt++;
                }
            }
            if (!first) continue;
            int best = 0;   /* most occurrences in one reference */
            for (int r = 0; r < im->n_captions; r++) {
                const int ci = im->first + r;
                const int *ref = refs->ids + (size_t)ci * refs->seq_len + 1;
                const int rn = refs->lengths[ci] - 2;
                int in = 0;
                for (int j = 0; j + k <= rn; j++) {
                    int same = 1;
                    for (int q = 0; q < k && same; q++) same = ref[j + q] == c[i + q];
                    in += same;
                }
                best = GLM_MAX(best, in);
            }
            GlmBuf *to = best > 0 ? &hit : &miss;
            glm_buf_printf(to, "%s\"", to->len ? ", " : "");
            for (int q = 0; q < k; q++) glm_buf_printf(to, "%s%s", q ? " " : "", word(e, c[i + q]));
            glm_buf_printf(to, "\"");
            if (cnt > 1) glm_buf_printf(to, " x%d", cnt);
            matched += GLM_MIN(cnt, best);
        }
        glm_buf_printf(b, "      %d-grams: %d of %d in a reference", k, matched, total);
        if (hit.len) glm_buf_printf(b, ": %s", (const char *)hit.data);
        if (miss.len) glm_buf_printf(b, "; in none: %s", (const char *)miss.data);
        glm_buf_printf(b, "\n");
        if (hit.failed || miss.failed) b->failed = 1;
        glm_buf_free(&hit);
        glm_buf_free(&miss);
    }
}

static void put_regions(GlmBuf *b, const Explain *e, int w, int h)
{
    const FeatConfig *fc = &e->model->cfg.feat;
    const int G = fc->grid;
    glm_buf_printf(b, "1. The regions (features.h). The picture, %dx%d px, is %s the model's %dx%d input\n"
           "   and covered by a %dx%d grid of %d-px windows %d px apart; each window becomes one\n"
           "   region vector a_i (colour, orientation histograms, a patch, edge moments, its\n"
           "   position), so L = %d regions. Region i = row*%d + col stands for this cell of the\n"
           "   picture, x0-x1 and y0-y1 in pixels, ends exclusive (features_cell_in_picture):\n",
        w, h, fc->keep_aspect && w != h ? "padded to a square with its own background, brought to" : "brought to",
        fc->input, fc->input, G, G, fc->window, fc->stride, G * G, G);
    glm_buf_printf(b, "        ");
    for (int c = 0; c < G; c++) glm_buf_printf(b, "   col %-9d", c);
    glm_buf_printf(b, "\n");
    for (int r = 0; r < G; r++) {
        glm_buf_printf(b, "   row %d", r);
        for (int c = 0; c < G; c++) {
            int x0, y0, x1, y1;
            features_cell_in_picture(fc, r, c, w, h, &x0, &y0, &x1, &y1);
            char cell[48];
            snprintf(cell, sizeof cell, "%d:%d-%d,%d-%d", r * G + c, x0, x1, y0, y1);
            glm_buf_printf(b, "  %-14s", cell);
        }
        glm_buf_printf(b, "\n");
    }
    glm_buf_printf(b, "\n");
}

static void put_rollout(GlmBuf *b, const Explain *e, const Dataset *refs, int image, const ExplainOptions *o,
                        const ExplainRollout *a, int k)
{
    const int G = e->model->cfg.feat.grid, L = e->L;
    const double A = a->advantage;
    glm_buf_printf(b, "2. The policy, step by step (rollout %d). At each step the attention MLP scores every\n"
           "   region from the LSTM state, e_ti (eq. 4, attention.c), and alpha_t = softmax(e_t)\n"
           "   (eq. 5) is a probability distribution over the %d regions: the policy pi over\n"
           "   positions. Hard attention SAMPLES one region per word, s_t ~ alpha_t (search.c,\n"
           "   rng_categorical), and the word is read from that region alone (z_t = a_{s_t}).\n"
           "   alpha_t in %%, the sampled region in [brackets]:\n",
        k, L);
    for (int t = 0; t < a->n; t++) {
        const int s = a->region[t];
        glm_buf_printf(b, "   step %d, word \"%s\" (p %.3f): sampled region %d (row %d, col %d), alpha_t(s_t) = %.3f\n", t + 1,
            word(e, a->tok[t]), (double)a->p[t], s, s / G, s % G, (double)a->alpha[(size_t)t * L + s]);
        put_grid(b, a->alpha + (size_t)t * L, G, s, 100.0, "%3.0f");
    }
    glm_buf_printf(b, "   log pi(s) = sum_t log alpha_t(s_t) = %.4f: the log-probability of this sequence of choices\n\n",
        a->logpi);

    const DatasetImage *im = &refs->images[image];
    glm_buf_printf(b, "3. The reward: %s of the caption against the %d reference%s\n", reward_long_name(o->reward),
        im->n_captions, im->n_captions == 1 ? "" : "s");
    for (int r = 0; r < im->n_captions; r++) glm_buf_printf(b, "      \"%s\"\n", refs->captions[im->first + r]);
    glm_buf_printf(b, "   rollout (regions sampled): ");
    put_caption(b, e, a->tok, a->words);
    glm_buf_printf(b, "\n      r = %.4f\n", a->reward);
    put_ngrams(b, e, refs, image, a->tok, a->words);
    glm_buf_printf(b, "   greedy decode (the most likely region and word at every step; the self-critical\n"
           "   baseline, reinforce_rollout step 1): ");
    put_caption(b, e, e->gtok, e->glen);
    glm_buf_printf(b, "\n      b = %.4f\n", a->baseline);
    put_ngrams(b, e, refs, image, e->gtok, e->glen);
    glm_buf_printf(b, "   advantage A = r - b = %.4f - %.4f = %+.4f: %s\n\n", a->reward, a->baseline, A,
        A > 0 ? "the rollout did better than the policy's own best guess, so its choices\n"
                "   are made MORE likely"
        : A < 0 ? "the rollout did worse than the policy's own best guess, so its choices\n"
                  "   are made LESS likely"
                : "as good as the greedy decode: REINFORCE leaves the policy alone");

    glm_buf_printf(b, "4. The gradient. REINFORCE estimates grad J = E[(r - b) grad log pi(s)] from this one\n"
           "   sample: it follows A grad sum_t log alpha_t(s_t). For each step, w.r.t. the scores e_t\n"
           "   (the logits of alpha_t): d/de_ti [A log alpha_t(s_t)] = A (1[i = s_t] - alpha_ti): the\n"
           "   chosen region's score gets +A(1 - alpha), every other region's -A alpha_i\n"
           "   (reinforce_score_grad). In units of 0.001 (a step whose alpha_t(s_t) is above %.2f\n"
           "   gets almost nothing, |A|(1 - alpha) at most, and is shown on one line):\n",
        EXPLAIN_SURE);
    for (int t = 0; t < a->n; t++) {
        const int s = a->region[t];
        const float al = a->alpha[(size_t)t * L + s];
        glm_buf_printf(b, "   step %d \"%s\": chosen region %d gets A(1 - %.3f) = %+.4f%s\n", t + 1, word(e, a->tok[t]), s,
            (double)al, (double)a->dlogit[(size_t)t * L + s], al > EXPLAIN_SURE ? "" : "; the others -A alpha_i:");
        if (al <= EXPLAIN_SURE) put_grid(b, a->dlogit + (size_t)t * L, G, s, 1000.0, "%+5.0f");
    }
    if (a->stepped)
        glm_buf_printf(b, "   Through the attention MLP, the LSTM and the region projection (decoder_backward on the\n"
               "   rollout replayed with its own regions, REGIONS_GIVEN: what training runs), this is a\n"
               "   gradient for every weight: |grad| = %.4g over %zu weights.\n\n",
            a->grad_norm, e->model->n_params);
    if (!a->stepped) return;

    if (o->optimizer == EXPLAIN_ADAM)
        glm_buf_printf(b, "5. One step: Adam (optim_adam_step) from fresh moments, lr %g. Its first step moves every\n"
               "   weight by about lr * sign(g), whatever the gradient's size, so it shows the direction\n"
               "   REINFORCE asks for but not how strongly. The same rollout replayed (same words, same\n"
               "   regions) with the new weights, on this image alone:\n",
            (double)o->lr);
    else
        glm_buf_printf(b, "5. One step: plain SGD, theta <- theta + lr A grad log pi(s), lr %g (not Adam, which\n"
               "   training uses: Adam's first step is about lr * sign(g) per weight and hides the\n"
               "   gradient's size; SGD's change of log pi(s) is, to first order, lr A |grad log pi|^2,\n"
               "   the sign of A). The same rollout replayed (same words, same regions) with the new\n"
               "   weights, on this image alone:\n",
            (double)o->lr);
    for (int t = 0; t < a->n; t++) {
        const int s = a->region[t];
        const double before = a->alpha[(size_t)t * L + s], after = a->alpha_after[(size_t)t * L + s];
        glm_buf_printf(b, "   step %d \"%s\": alpha_t(s_t = %d) %.4f -> %.4f (%s%.4f)%s\n", t + 1, word(e, a->tok[t]), s, before,
            after, after >= before ? "+" : "", after - before, before > EXPLAIN_SURE ? "" : "; alpha_t after, in %:");
        if (before <= EXPLAIN_SURE) put_grid(b, a->alpha_after + (size_t)t * L, G, s, 100.0, "%3.0f");
    }
    const double d = a->logpi_after - a->logpi;
    glm_buf_printf(b, "   log pi(s) = sum_t log alpha_t(s_t): %.4f -> %.4f (%+.4f), pi(s) x %.4f: %s\n\n", a->logpi, a->logpi_after,
        d, exp(d),
        a->weight == 0 ? "no change, as A = 0 asks"
        : (d > 0) == (a->weight > 0) ? (a->weight > 0 ? "up, as the positive advantage asks"
                                                      : "down, as the negative advantage asks")
                                     : "AGAINST the advantage's sign (the step is too large: try a lower --lr)");
}

char *explain_text(const Explain *e, const Dataset *refs, int image, int w, int h, const ExplainOptions *o,
                   const ExplainRollout *rolls, int n, GlmError *err)
{
    GlmBuf b = {0};
    put_regions(&b, e, w, h);
    for (int k = 0; k < n; k++) {
        if (k)
            glm_buf_printf(&b, "---- rollout %d: a rollout whose advantage %s ----\n\n", k + 1,
                rolls[0].advantage != 0 ? "has the other sign" : "is not zero");
        put_rollout(&b, e, refs, image, o, &rolls[k], k + 1);
    }
    if (b.failed || !b.data) {
        glm_buf_free(&b);
        glm_fail(err, GLM_ENOMEM, "out of memory for the explanation's text");
        return NULL;
    }
    return (char *)b.data;
}

int explain_other_sign(Explain *e, ExplainRollout *out, const float *x, int image, double first,
                       const ExplainOptions *o, Rng *rng)
{
    for (int k = 1; k <= o->tries; k++) {
        explain_rollout(e, out, x, image, o, rng);
        if (first != 0 ? out->advantage * first < 0 : out->advantage != 0) return k;
    }
    return 0;
}
