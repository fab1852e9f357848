/* model.h - the captioning model's configuration and parameters (Xu et al.
 * 2015, "Show, Attend and Tell", sec. 3.1), and saving/loading them.
 *
 * Sizes: F region-vector length (features.h), L = G*G regions, D projected
 * region size, H LSTM state, E word embedding, A attention width, V words.
 *
 *   a_i   = tanh(proj_W x_i + proj_b)                       region i, (D)
 *   h_0   = tanh(init_h_W mean_i(a_i) + init_h_b)            (H), c_0 alike
 *           (with init_mean 0 the mean is left out: h_0 = tanh(init_h_b))
 *   e_ti  = att_w . tanh(att_Wa a_i + att_Ua h_{t-1} + att_b)  (eq. 4)
 *   alpha_t = softmax_i(e_ti)                                  (eq. 5)
 *   z_t   = a_{s_t} (hard) or sum_i alpha_ti a_i (soft),
 *           soft optionally gated by beta_t = sigmoid(gate_W . h_{t-1} + gate_b);
 *           the random / mean ablations use alpha_t = 1/L instead of eq. 4-5
 *   i,f,o,g = lstm_Wx [E y_{t-1}; z_t] + lstm_Wh h_{t-1} + lstm_b   (eq. 1)
 *   p(y_t) = softmax(out_Lo (E y_{t-1} + out_Lh h_t + out_Lz z_t) + out_b)  (eq. 7)
 * With the prior (prior != 0, prior.h; hard and soft attention only):
 *   pi0_i = prior_v . tanh(prior_W a_i + prior_b),  e_ti <- e_ti + pi0_i
 * A model without it has no prior_* tensors at all (their rows are 0 in the
 * table and they are neither stored nor loaded), so older files load as
 * they are.
 *
 * All parameters are one allocation carved into the named tensors of
 * ModelParams (in the order of the table in model.c), so gradients and
 * optimizer state can mirror it with model_params_view and the optimizer is
 * one flat loop. This file does not run the model (see decoder.h).
 */
#ifndef GLIMPSE_MODEL_H
#define GLIMPSE_MODEL_H

#include <stddef.h>

#include "common.h"
#include "features.h"
#include "modelfile.h"
#include "rng.h"

/* RANDOM and MEAN are ablations with alpha_t fixed uniform (attention.h):
 * a uniformly drawn region, or the mean of all regions. */
typedef enum { ATTN_HARD = 0, ATTN_SOFT = 1, ATTN_RANDOM = 2, ATTN_MEAN = 3 } AttnKind;

typedef struct {
    FeatConfig feat;
    int vocab;      /* V, including the special tokens */
    int embed;      /* E */
    int hidden;     /* H */
    int proj;       /* D */
    int att;        /* A */
    int max_len;    /* T: longest caption generated, counting <end> */
    int attention;  /* AttnKind */
    int gate;       /* 1: soft attention uses the beta gate */
    int init_mean;  /* 1: h_0, c_0 from the mean region, as in the paper; 0: learned
                       constants, so all the decoder learns of the image passes
                       through the regions it picks (stronger grounding) */
    int prior;      /* 1: a predicted attention prior pi0 is added to the logits (prior.h) */
} ModelConfig;

/* Named views into one float block; shapes in (rows, cols) order. */
typedef struct {
    float *proj_W;    /* (D, F) */
    float *proj_b;    /* (D) */
    float *init_h_W;  /* (H, D) */
    float *init_h_b;  /* (H) */
    float *init_c_W;  /* (H, D) */
    float *init_c_b;  /* (H) */
    float *embed;     /* (V, E) */
    float *att_Wa;    /* (A, D) */
    float *att_Ua;    /* (A, H) */
    float *att_b;     /* (A) */
    float *att_w;     /* (A) */
    float *gate_W;    /* (H) */
    float *gate_b;    /* (1) */
    float *lstm_Wx;   /* (4H, E + D), gate order i, f, o, g */
    float *lstm_Wh;   /* (4H, H) */
    float *lstm_b;    /* (4H) */
    float *out_Lh;    /* (E, H) */
    float *out_Lz;    /* (E, D) */
    float *out_Lo;    /* (V, E) */
    float *out_b;     /* (V) */
    float *prior_W;   /* (A, D), prior only; NULL without it */
    float *prior_b;   /* (A) */
    float *prior_v;   /* (A) */
} ModelParams;

/* The table's length. The last three (prior_*) have 0 rows without the
 * prior: model_tensor_present says whether a tensor is part of a model. */
#define MODEL_N_TENSORS 23
/* The learned patch dictionary's tensor, stored after the table's when
 * the features have one (kmeans.h). */
#define MODEL_DICT_TENSOR "feat.dict"

typedef struct {
    const char *name;
    int rows, cols;   /* cols == 0: a vector of `rows` */
} ModelTensorSpec;

typedef struct {
    ModelConfig cfg;
    char **words;      /* (V) the vocabulary, words[i] is token i; owned */
    float *params;     /* (n_params) one block; owned */
    size_t n_params;
    ModelParams p;     /* views into params */
    float *dict;       /* the learned patch dictionary when cfg.feat.kmeans > 0
                          (kmeans.h), which cfg.feat.dict points at; owned */
} Model;

/* A small default architecture for 64-px scenes. */
ModelConfig model_default_config(void);
/* Checks every size is in range (and the feature config); GLM_EINPUT + reason. */
int model_check_config(const ModelConfig *cfg, GlmError *err);
/* The tensor table: names and shapes, in storage order. */
void model_tensor_specs(const ModelConfig *cfg, ModelTensorSpec specs[MODEL_N_TENSORS]);
/* 1 when the tensor is part of the model (rows > 0): the prior's are not,
 * in a model without one. */
static inline int model_tensor_present(const ModelTensorSpec *s) { return s->rows > 0; }
size_t model_param_count(const ModelConfig *cfg);
/* Points every view of *view into block (model_param_count floats). */
void model_params_view(ModelParams *view, float *block, const ModelConfig *cfg);

/* Allocates a model with cfg->vocab words (copied) and random weights drawn
 * from rng: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases 0 except the
 * LSTM forget gate (1, so early gradients flow through time). */
int model_init(Model *m, const ModelConfig *cfg, const char *const *words, Rng *rng, GlmError *err);
void model_free(Model *m);

/* Saves atomically (see modelfile.h). extra: further tensors to store after
 * the model's (a checkpoint's optimizer state), names starting "train.";
 * n_extra may be 0. */
int model_save(const Model *m, const char *path, const MfTensor *extra, int n_extra, GlmError *err);
/* The same with further settings too (a checkpoint's step, Rng, options). */
int model_save_full(const Model *m, const char *path, const MfSetting *xs, int n_xs,
                    const MfTensor *extra, int n_extra, GlmError *err);
/* Loads path into *m, checking the config, the vocabulary size and every
 * tensor's name and shape; names what was wrong. Tensors named "train.*"
 * are skipped here (a checkpoint is also a model). */
int model_load(Model *m, const char *path, GlmError *err);

#endif
