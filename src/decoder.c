/* decoder.c - the teacher-forced decoder of Xu et al. 2015 over a batch:
 * region projection and initial state (sec. 3.1.2), the step loop tying
 * attention (eq. 4-5, attention.c) to the LSTM (eq. 1-3, lstm.c), the deep
 * output layer (eq. 7), the masked loss terms and their exact backward.
 * Not here: choosing captions at test time (search.c), the optimizer
 * (optim.c), where the REINFORCE weights come from (the trainer). */
#include "decoder.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "lstm.h"
#include "prior.h"
#include "reinforce.h"
#include "step.h"
#include "vocab.h"


/* ---------------------------------------------------------------- memory */

/* n = a * b * c * d, or 0 when it overflows size_t. */
static size_t count4(size_t a, size_t b, size_t c, size_t d)
{
    size_t n = a;
    const size_t f[3] = {b, c, d};
    for (int i = 0; i < 3; i++) {
        if (f[i] && n > SIZE_MAX / f[i]) return 0;
        n *= f[i];
    }
    return n;
}

int decoder_work_init(DecoderWork *w, const ModelConfig *cfg, int B_max, int T_max, GlmError *err)
{
    memset(w, 0, sizeof *w);
    if (B_max < 1 || B_max > (1 << 20) || T_max < 1 || T_max > 4096)
        return glm_fail(err, GLM_EINPUT, "decoder: batch %d x %d steps out of range", B_max, T_max);
    const size_t B = (size_t)B_max, T = (size_t)T_max;
    const size_t L = (size_t)features_regions(&cfg->feat), F = (size_t)features_dim(&cfg->feat);
    const size_t D = (size_t)cfg->proj, H = (size_t)cfg->hidden, E = (size_t)cfg->embed;
    const size_t A = (size_t)cfg->att, V = (size_t)cfg->vocab;
    w->B_max = B_max, w->T_max = T_max, w->L = (int)L, w->F = (int)F, w->D = (int)D, w->H = (int)H;
    w->E = (int)E, w->A = (int)A, w->V = (int)V;
    w->attention = w->model_attention = cfg->attention;
    w->shape = step_shape(cfg);

    struct { float **p; size_t n; } f[] = {
        {&w->x, count4(B, L, F, 1)},      {&w->rweight, B},
        {&w->alpha, count4(T, B, L, 1)},  {&w->prob, count4(T, B, V, 1)},
        {&w->caption_logp, B},            {&w->a, count4(B, L, D, 1)},
        {&w->wa, count4(B, L, A, 1)},     {&w->amean, B * D},
        {&w->h, count4(T + 1, B, H, 1)},  {&w->c, count4(T + 1, B, H, 1)},
        {&w->tc, count4(T, B, H, 1)},     {&w->gates, count4(T, B, 4 * H, 1)},
        {&w->tt, count4(T, B, L, A)},     {&w->logalpha, count4(T, B, L, 1)},
        {&w->beta, T * B},                {&w->zraw, count4(T, B, D, 1)},
        {&w->xin, count4(T, B, E + D, 1)}, {&w->deep, count4(T, B, E, 1)},
        {&w->cover, B * L},               {&w->dh, B * H},
        {&w->dh_prev, B * H},             {&w->dc, B * H},
        {&w->dxin, B * (E + D)},          {&w->ddeep, B * E},
        {&w->dlogits, B * V},             {&w->dpre, B * 4 * H},
        {&w->dalpha, B * L},              {&w->de, B * L},
        {&w->duh, B * A},                 {&w->dwa, count4(B, L, A, 1)},
        {&w->da, count4(B, L, D, 1)},     {&w->dmean, B * D},
        {&w->dinit, B * H},
        {&w->pi0, B * L},                 {&w->pu, count4(B, L, A, 1)},
        {&w->ptarget, B * L},             {&w->dpi0, B * L},
        {&w->dpu, count4(B, L, A, 1)},
    };
    const int nf = (int)(sizeof f / sizeof f[0]);
    size_t total = 0;
    for (int i = 0; i < nf; i++) {
        if (f[i].n == 0 || total > SIZE_MAX / 2 - f[i].n)
            return glm_fail(err, GLM_ENOMEM, "decoder: buffers for batch %d x %d steps are too large", B_max, T_max);
        total += f[i].n;
    }
    w->block = glm_calloc_array(total, sizeof(float));
    w->iblock = glm_calloc_array(B * (2 * T + 2), sizeof(int32_t));
    if (!w->block || !w->iblock) {
        decoder_work_free(w);
        return glm_fail(err, GLM_ENOMEM, "decoder: out of memory for %zu floats of activations", total);
    }
    float *q = w->block;
    for (int i = 0; i < nf; i++) {
        *f[i].p = q;
        q += f[i].n;
    }
    _Static_assert(sizeof(int) == sizeof(int32_t), "int is 32 bits");
    w->tokens = w->iblock;
    w->regions = (int *)(w->iblock + B * T);
    w->lengths = (int *)(w->iblock + 2 * B * T);
    w->yin = w->iblock + 2 * B * T + B;
    return GLM_OK;
}

void decoder_work_free(DecoderWork *w)
{
    free(w->block);
    free(w->iblock);
    memset(w, 0, sizeof *w);
}

/* The word fed in at step t: <start>, then the caption's previous word. */
static int input_token(const DecoderWork *w, int b, int t)
{
    return t == 0 ? VOCAB_START : w->tokens[(long)b * w->T_max + t - 1];
}

/* ------------------------------------------------------------------ forward */

/* sum_b w_b sum_t log alpha_t(s_t) with the current weights */
static double reinforce_sum(const DecoderWork *w)
{
    double s = 0;
    for (int b = 0; b < w->B; b++)
        for (int t = 0; t < w->lengths[b]; t++)
            s += (double)w->rweight[b] * w->logalpha[((long)t * w->B + b) * w->L + w->regions[(long)b * w->T_max + t]];
    return s;
}

float decoder_forward(DecoderWork *w, const ModelParams *p, const float *x, const int32_t *tokens,
                      const int *lengths, int B, int T, const DecoderPick *pick, const DecoderLoss *loss)
{
    GLM_ASSERT(B >= 1 && B <= w->B_max && T >= 1 && T <= w->T_max);
    const RegionMode mode = pick->mode;
    const int *regions_in = pick->given;
    Rng *rng = pick->rng;
    GLM_ASSERT(mode != REGIONS_GIVEN || regions_in);
    /* this pass's attention: the model's, or soft for a hard model's soft batch */
    w->attention = w->shape.attention = pick->attention;
    GLM_ASSERT(pick->attention == w->model_attention ||
               (pick->attention == ATTN_SOFT && w->model_attention == ATTN_HARD));
    const int blend = attn_blends(w->attention);
    const int random = w->attention == ATTN_RANDOM;
    /* random attention draws its regions in ARGMAX mode too: there is no argmax */
    GLM_ASSERT(blend || rng || pick->rows || !(mode == REGIONS_SAMPLE || (random && mode == REGIONS_ARGMAX)));
    const int L = w->L, F = w->F, D = w->D, H = w->H, E = w->E, A = w->A, V = w->V, TM = w->T_max;
    const int NX = E + D;
    GLM_ASSERT(!pick->same_x || B == w->B);
    if (!pick->same_x) memcpy(w->x, x, (size_t)B * L * F * sizeof(float));
    int Tr = 0;
    for (int b = 0; b < B; b++) {
        GLM_ASSERT(lengths[b] >= 1 && lengths[b] <= T);
        w->lengths[b] = lengths[b];
        Tr = GLM_MAX(Tr, lengths[b]);
        for (int t = 0; t < T; t++) {
            int32_t y = tokens[(long)b * T + t];
            GLM_ASSERT(t >= lengths[b] || (y >= 0 && y < V));
            w->tokens[(long)b * TM + t] = t < lengths[b] ? y : 0;
        }
        w->rweight[b] = loss->reinforce ? loss->reinforce[b] : 0.0f;
    }
    w->B = B, w->T = Tr, w->loss = *loss;
    w->loss.reinforce = loss->reinforce ? w->rweight : NULL;   /* the copy, not the caller's */
    const int soft = w->attention == ATTN_SOFT;

    if (!pick->same_x) {
        step_regions(w->a, w->amean, w->h, w->c, w->wa, w->x, p, &w->shape, B);
        step_prior(w->pi0, w->pu, w->a, p, &w->shape, B);   /* pi0 depends on a alone */
    }
    /* the prior's supervision, when asked for and there is a prior */
    const int supervise = w->shape.prior && loss->prior != 0.0f && loss->prior_target;
    if (!supervise) w->loss.prior = 0.0f, w->loss.prior_target = NULL;
    else {
        memcpy(w->ptarget, loss->prior_target, (size_t)B * L * sizeof(float));
        w->loss.prior_target = w->ptarget;
    }
    memset(w->cover, 0, (size_t)B * L * sizeof(float));
    double nll = 0, ent = 0;
    long ntok = 0;
    for (int b = 0; b < B; b++) {
        w->caption_logp[b] = 0;
        ntok += lengths[b];
    }

    for (int t = 0; t < Tr; t++) {
        const float *hp = w->h + (long)t * B * H, *cp = w->c + (long)t * B * H;
        float *al = w->alpha + (long)t * B * L, *la = w->logalpha + (long)t * B * L;
        step_attend(al, la, w->tt + (long)t * B * L * A, w->duh, w->wa, hp, w->pi0, p, &w->shape, B);
        /* the pick: s_t for every caption (hard attention's choice) */
        for (int b = 0; b < B; b++) {
            const float *ab = al + (long)b * L;
            int s = 0;
            if (!blend && mode == REGIONS_GIVEN) {
                s = regions_in[(long)b * T + t];
                GLM_ASSERT(s >= 0 && s < L);
            } else if (!blend && (mode == REGIONS_SAMPLE || random)) {
                s = rng_categorical(pick->rows ? &pick->rows[b] : rng, ab, L);
            } else {
                for (int i = 1; i < L; i++) s = ab[i] > ab[s] ? i : s;
            }
            w->regions[(long)b * TM + t] = s;
            w->yin[b] = input_token(w, b, t);
        }
        /* dlogits doubles as the forward's log-probability scratch */
        const StepOut out = {
            .xin = w->xin + (long)t * B * NX, .zraw = w->zraw + (long)t * B * D, .beta = w->beta + (long)t * B,
            .gates = w->gates + (long)t * B * 4 * H, .c = w->c + (long)(t + 1) * B * H,
            .h = w->h + (long)(t + 1) * B * H, .tc = w->tc + (long)t * B * H, .deep = w->deep + (long)t * B * E,
            .prob = w->prob + (long)t * B * V, .logprob = w->dlogits,
        };
        step_advance(&out, w->yin, w->regions + t, TM, al, w->a, hp, cp, p, &w->shape, B);
        for (int b = 0; b < B; b++) {
            if (t >= lengths[b]) continue;
            const float lp = w->dlogits[(long)b * V + w->tokens[(long)b * TM + t]];
            nll -= lp;
            w->caption_logp[b] += lp;
            const float *ab = al + (long)b * L, *lab = la + (long)b * L;
            double hb = 0;
            for (int i = 0; i < L; i++) {
                hb -= (double)ab[i] * lab[i];
                w->cover[(long)b * L + i] += ab[i];
            }
            ent += hb;
        }
    }
    double ds = 0;
    for (long k = 0; k < (long)B * L; k++) ds += (1.0 - w->cover[k]) * (1.0 - w->cover[k]);

    DecoderStats *st = &w->stats;
    st->nll = nll, st->entropy = ent, st->doubly = ds, st->tokens = ntok;
    /* logp_regions is the plain sum; the weighted one goes into the loss */
    double plain = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < lengths[b]; t++)
            plain += w->logalpha[((long)t * B + b) * L + w->regions[(long)b * TM + t]];
    st->logp_regions = plain;
    st->prior = supervise ? prior_supervise(NULL, w->pi0, w->ptarget, 0.0f, B, L) : 0.0;
    st->loss = loss->nll * nll - reinforce_sum(w) - loss->entropy * ent + (soft ? loss->doubly * ds : 0) +
               w->loss.prior * st->prior;
    return (float)st->loss;
}

void decoder_set_reinforce(DecoderWork *w, const float *weights)
{
    const double before = reinforce_sum(w);
    for (int b = 0; b < w->B; b++) w->rweight[b] = weights ? weights[b] : 0.0f;
    w->loss.reinforce = weights ? w->rweight : NULL;
    w->stats.loss += before - reinforce_sum(w);
}

/* ----------------------------------------------------------------- backward */

/* dalpha / de contributions of the loss terms that act on alpha_t directly. */
static void alpha_loss_backward(DecoderWork *w, int t)
{
    const int B = w->B, L = w->L, TM = w->T_max;
    const float *al = w->alpha + (long)t * B * L, *la = w->logalpha + (long)t * B * L;
    const int soft = w->attention == ATTN_SOFT;
    if (soft && w->loss.doubly != 0.0f)
        for (int b = 0; b < B; b++) {
            if (t >= w->lengths[b]) continue;
            for (int i = 0; i < L; i++)
                w->dalpha[(long)b * L + i] += -2.0f * w->loss.doubly * (1.0f - w->cover[(long)b * L + i]);
        }
    attn_softmax_backward(w->de, w->dalpha, al, B, L);
    for (int b = 0; b < B; b++) {
        if (t >= w->lengths[b]) continue;
        const float *ab = al + (long)b * L, *lab = la + (long)b * L;
        float *d = w->de + (long)b * L;
        /* REINFORCE: -w_b log alpha_s */
        if (w->rweight[b] != 0.0f) reinforce_score_grad(d, ab, w->regions[(long)b * TM + t], w->rweight[b], L);
        /* the entropy bonus: -lambda H(alpha) */
        if (w->loss.entropy != 0.0f) reinforce_entropy_grad(d, ab, lab, w->loss.entropy, L);
    }
}

void decoder_backward(ModelParams *g, float *dx, DecoderWork *w, const ModelParams *p)
{
    const int B = w->B, Tr = w->T, L = w->L, F = w->F, D = w->D, H = w->H, E = w->E, A = w->A;
    const int V = w->V, TM = w->T_max, NX = E + D, BL = B * L;
    const int soft = w->attention == ATTN_SOFT, blend = attn_blends(w->attention);
    const int learned = attn_learned(w->attention);
    memset(w->dwa, 0, (size_t)BL * A * sizeof(float));
    memset(w->da, 0, (size_t)BL * D * sizeof(float));
    memset(w->dh, 0, (size_t)B * H * sizeof(float));
    memset(w->dc, 0, (size_t)B * H * sizeof(float));
    const int prior = learned && w->shape.prior;
    if (prior) memset(w->dpi0, 0, (size_t)BL * sizeof(float));

    for (int t = Tr - 1; t >= 0; t--) {
        const float *hp = w->h + (long)t * B * H, *hn = w->h + (long)(t + 1) * B * H;
        const float *xt = w->xin + (long)t * B * NX, *zt = xt + E;
        const float *pr = w->prob + (long)t * B * V, *deep = w->deep + (long)t * B * E;
        const float *al = w->alpha + (long)t * B * L;

        /* eq. 7: dlogits = nll (p - onehot), masked */
        for (int b = 0; b < B; b++) {
            float *dl = w->dlogits + (long)b * V;
            if (t >= w->lengths[b] || w->loss.nll == 0.0f) {
                memset(dl, 0, (size_t)V * sizeof(float));
                continue;
            }
            for (int v = 0; v < V; v++) dl[v] = w->loss.nll * pr[(long)b * V + v];
            dl[w->tokens[(long)b * TM + t]] -= w->loss.nll;
            for (int v = 0; v < V; v++) g->out_b[v] += dl[v];
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, E, B, 1.0f, w->dlogits, V, deep, E, 1.0f,
                    g->out_Lo, E);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, E, V, 1.0f, w->dlogits, V, p->out_Lo, E, 0.0f,
                    w->ddeep, E);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, E, H, B, 1.0f, w->ddeep, E, hn, H, 1.0f, g->out_Lh, H);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, E, D, B, 1.0f, w->ddeep, E, zt, NX, 1.0f, g->out_Lz, D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, E, 1.0f, w->ddeep, E, p->out_Lh, H, 1.0f,
                    w->dh, H);
        /* dxin = [ddeep ; ddeep Lz], then the LSTM adds its share */
        for (int b = 0; b < B; b++) memcpy(w->dxin + (long)b * NX, w->ddeep + (long)b * E, (size_t)E * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, E, 1.0f, w->ddeep, E, p->out_Lz, D, 0.0f,
                    w->dxin + E, NX);

        /* eq. 1-3 */
        memset(w->dh_prev, 0, (size_t)B * H * sizeof(float));
        lstm_backward(w->dxin, NX, w->dh_prev, w->dc, g->lstm_Wx, g->lstm_Wh, g->lstm_b, w->dpre, w->dh,
                      w->gates + (long)t * B * 4 * H, w->tc + (long)t * B * H, w->c + (long)t * B * H, xt, NX,
                      hp, p->lstm_Wx, p->lstm_Wh, B, NX, H);

        /* the context z_t, then eq. 4-5 */
        memset(w->dalpha, 0, (size_t)BL * sizeof(float));
        if (blend)
            attn_soft_context_backward(w->dalpha, w->da, w->dh_prev, g->gate_W, g->gate_b, w->dxin + E, NX,
                                       w->zraw + (long)t * B * D, w->beta + (long)t * B, al, w->a, hp,
                                       p->gate_W, soft && w->shape.gate, B, L, D, H);
        else
            attn_hard_context_backward(w->da, w->dxin + E, NX, w->regions + t, TM, B, L, D);
        /* random / mean: alpha is a constant, so no loss term on it has a gradient */
        if (learned) {
            alpha_loss_backward(w, t);
            attn_backward(w->dwa, w->dh_prev, g->att_Ua, g->att_w, w->duh, w->de, w->tt + (long)t * B * L * A, hp,
                          p->att_Ua, p->att_w, B, L, A, H);
            /* e_ti = ... + pi0_i: the prior's gradient is the logits' */
            if (prior) cblas_saxpy(BL, 1.0f, w->de, 1, w->dpi0, 1);
        }

        /* the embedding of the input word */
        for (int b = 0; b < B; b++) {
            float *ge = g->embed + (long)input_token(w, b, t) * E;
            const float *d = w->dxin + (long)b * NX;
            for (int k = 0; k < E; k++) ge[k] += d[k];
        }
        float *swap = w->dh;
        w->dh = w->dh_prev;
        w->dh_prev = swap;
    }

    /* initial state: dh, dc now reach h_0, c_0 */
    memset(w->dmean, 0, (size_t)B * D * sizeof(float));
    const float *st[2] = {w->h, w->c};
    const float *dst[2] = {w->dh, w->dc};
    float *gW[2] = {g->init_h_W, g->init_c_W}, *gb[2] = {g->init_h_b, g->init_c_b};
    const float *W[2] = {p->init_h_W, p->init_c_W};
    for (int k = 0; k < 2; k++) {
        for (long j = 0; j < (long)B * H; j++) {
            w->dinit[j] = dst[k][j] * (1.0f - st[k][j] * st[k][j]);
            gb[k][j % H] += w->dinit[j];
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, D, B, 1.0f, w->dinit, H, w->amean, D, 1.0f, gW[k], D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, H, 1.0f, w->dinit, H, W[k], D, 1.0f, w->dmean, D);
    }
    for (int b = 0; b < B && w->shape.init_mean; b++)
        for (int i = 0; i < L; i++)
            cblas_saxpy(D, 1.0f / (float)L, w->dmean + (long)b * D, 1, w->da + ((long)b * L + i) * D, 1);
    if (learned) attn_precompute_backward(w->da, g->att_Wa, g->att_b, w->dwa, w->a, p->att_Wa, BL, D, A);
    if (prior) {
        if (w->loss.prior_target) prior_supervise(w->dpi0, w->pi0, w->ptarget, w->loss.prior, B, L);
        prior_backward(w->da, g->prior_W, g->prior_b, g->prior_v, w->dpu, w->dpi0, w->pu, w->a, p->prior_W,
                       p->prior_v, BL, D, A);
    }

    /* the projection a = tanh(proj_W x + proj_b): da becomes the pre-activation gradient */
    for (long k = 0; k < (long)BL * D; k++) {
        w->da[k] *= 1.0f - w->a[k] * w->a[k];
        g->proj_b[k % D] += w->da[k];
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, F, BL, 1.0f, w->da, D, w->x, F, 1.0f, g->proj_W, F);
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BL, F, D, 1.0f, w->da, D, p->proj_W, F, 1.0f, dx, F);
}
