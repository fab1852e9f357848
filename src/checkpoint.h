/* checkpoint.h - saving a training run so that it can be resumed bit for
 * bit: the model, Adam's moments and step, the trainer's Rng, the step, the
 * moving-average baseline, the best validation score, and every training
 * option, in one model file (modelfile.h; the train.* settings and tensors).
 * A checkpoint is also a model: model_load reads it and skips the rest.
 *
 *     checkpoint_save(&trainer, "run.glm.ckpt", &err);          // every N steps
 *     ...
 *     checkpoint_options(&opt, "run.glm.ckpt", &err);           // the run's options
 *     model_load(&model, "run.glm.ckpt", &err);
 *     trainer_init(&trainer, &model, ..., &opt, &err);
 *     checkpoint_restore(&trainer, "run.glm.ckpt", &err);       // the rest of the state
 *
 * Resuming gives the same bytes as never stopping, because every random
 * draw comes from the saved Rng and the batch order is a function of (seed,
 * epoch) (train.h). Errors: GLM_EINPUT naming the file and what is missing.
 */
#ifndef GLIMPSE_CHECKPOINT_H
#define GLIMPSE_CHECKPOINT_H

#include "common.h"
#include "train.h"

int checkpoint_save(const Trainer *t, const char *path, GlmError *err);

/* The training options as model-file settings (train.opt.*), also stored
 * with a finished model so that glimpse info can say how it was trained;
 * s holds CHECKPOINT_MAX_OPTIONS. Returns how many. */
#define CHECKPOINT_MAX_OPTIONS 24
int checkpoint_option_settings(MfSetting *s, const TrainOptions *o);
/* Reads the training options stored in a checkpoint (to set up the trainer). */
int checkpoint_options(TrainOptions *opt, const char *path, GlmError *err);
/* Restores Adam, the Rng, the step, the baseline and the best score into an
 * initialised trainer whose model was loaded from the same checkpoint. */
int checkpoint_restore(Trainer *t, const char *path, GlmError *err);

#endif
