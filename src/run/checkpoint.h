// checkpoint.h — a run's complete state as a safetensors file, so a run can stop and continue bit for bit.
//
// Tensor names (documented for PyTorch users; strip "layers." to load into an equivalent nn.Sequential):
//   layers.I.weight, layers.I.bias                 dense I: (out, in), (out)   [as torch.nn.Linear]
//   layers.I.weight, layers.I.bias                 batchnorm I: gamma, beta (F) [as torch.nn.BatchNorm1d]
//   layers.I.running_mean, .running_var            (F), the unbiased running variance
//   layers.I.num_batches_tracked                   I64 scalar
//   optimizer.layers.I.weight.momentum_buffer ...  SGD momentum, one per parameter tensor
//   trainer.order (U32, n_train), trainer.epoch_stats (F64, layers x 6: count, mean, m2, min, max, saturated;
//   zeros for an empty layer), trainer.progress (F64, 7)
//   rng.shuffle, rng.dropout, rng.noise            U64 [4]: PCG32 state, increment, Box-Muller spare
// __metadata__: format "bnlab-checkpoint-1", step, bnlab_version, config (the resolved config as JSON).
// No wall-clock value is stored, so equal runs write byte-identical checkpoints.
#ifndef BNLAB_CHECKPOINT_H
#define BNLAB_CHECKPOINT_H

#include "io/safetensors.h"
#include "run/train.h"

#define CKPT_FORMAT "bnlab-checkpoint-1"
#define CKPT_MAX_BYTES ((size_t)4 << 30)

// Writes run_dir/checkpoints/step-NNNNNNNNN.safetensors atomically and deletes all but the newest
// cfg.train.checkpoint.keep of them.
int checkpoint_save(const trainer_t *t, const char *run_dir);
// Resolves a checkpoint file or run directory to the checkpoint file to use (the newest in DIR/checkpoints)
// and the run directory it belongs to. -1 + message.
int checkpoint_find(const char *path, char *file, size_t file_cap, char *run_dir, size_t run_cap);
// Opens a checkpoint and parses the config stored in it. -1 + message.
int checkpoint_open(st_file_t *f, const char *file, config_t *cfg);
// Loads the model's parameters and BN statistics (shapes must match m). -1 + message.
int checkpoint_load_model(model_t *m, const st_file_t *f);
// Loads everything (model, optimizer, random streams, progress, example order, epoch statistics) into a
// trainer set up from the checkpoint's own config. -1 + message.
int checkpoint_load_trainer(trainer_t *t, const st_file_t *f);

#endif
