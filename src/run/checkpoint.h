// checkpoint.h — a model, its optimizer and its preprocessing as one safetensors file that stands alone: eval and
// predict rebuild the network from it without the training data, and the trainer adds its own state to resume a
// run bit for bit (run/train.c packs and unpacks that part; this module does not know the trainer).
//
// Tensor names (PyTorch users: strip "layers." to load into an equivalent nn.Sequential; scripts/torch_load.py):
//   layers.I.NAME                                  every parameter and state tensor of layer I, named as in its
//                                                  registry row (nn/registry.c): dense weight (out, in) and bias
//                                                  as torch.nn.Linear; batchnorm weight/bias (gamma/beta),
//                                                  running_mean, running_var (unbiased) as torch.nn.BatchNorm1d
//   layers.I.num_batches_tracked                   I64 scalar, per BN layer (torch's)
//   optimizer.layers.I.NAME.momentum_buffer        SGD momentum, one per parameter tensor
//   preprocess.mean, preprocess.inv_std            F32 (features): standardization statistics (data.standardize)
//   trainer.*, rng.*                               the trainer's state (run/train.h)
// __metadata__: format "bnlab-checkpoint-2", bnlab_version, step, config (the resolved config as JSON),
//   input_features, torch (per layer: the torch.nn module computing the same in evaluation, and its arguments),
//   checksums (CRC-32 of every tensor's bytes) and metadata_crc32 (of all other metadata), verified on every load.
// No wall-clock value is stored, so equal runs write byte-identical checkpoints.
#ifndef BNLAB_CHECKPOINT_H
#define BNLAB_CHECKPOINT_H

#include "io/data.h"
#include "io/safetensors.h"
#include "nn/model.h"
#include "run/config.h"

#define CKPT_FORMAT "bnlab-checkpoint-2"
#define CKPT_MAX_BYTES ((size_t)4 << 30)

// A checkpoint being written: what checkpoint_begin() added, plus whatever the caller adds with st_add(&w.f, ...)
// before checkpoint_commit() (the data, not the name, must stay valid until then).
typedef struct {
    st_file_t f;
    float *pfile, *vfile;   // parameters and momentum in the file layout
    char *config_text, *torch_text, *checksum_text;
    long step;
} ckpt_writer_t;

// Starts a checkpoint of model m (velocity: SGD momentum buffers, or NULL), the preprocessing pp and cfg at step.
void checkpoint_begin(ckpt_writer_t *w, const model_t *m, const float *velocity, const preprocess_t *pp,
                      const config_t *cfg, long step);
// Writes run_dir/checkpoints/step-NNNNNNNNN.safetensors atomically, keeps the newest `keep`, frees the writer.
int checkpoint_commit(ckpt_writer_t *w, const char *run_dir, int keep);

// Writes the checkpoint to `path` atomically instead (a file outside any run, e.g. recalibrated statistics) and
// frees the writer. -1 + message.
int checkpoint_write_file(ckpt_writer_t *w, const char *path);
// Resolves a checkpoint file or run directory to the checkpoint file to use (the newest in DIR/checkpoints)
// and the run directory it belongs to. -1 + message.
int checkpoint_find(const char *path, char *file, size_t file_cap, char *run_dir, size_t run_cap);
// A run's identity is its resolved config, stored both in RUN/config.json and in each of its checkpoints. 0 if
// `file` lies in run_dir/checkpoints and run_dir's config.json holds the checkpoint's config; else -1 + a message
// saying why (resuming would write into another run's directory).
int checkpoint_check_run(const st_file_t *f, const char *file, const char *run_dir);
// Opens a checkpoint and parses the config stored in it with the overrides applied first ("data.test_images=..."):
// data paths are hints, checked only when a file is read. -1 + message.
int checkpoint_open(st_file_t *f, const char *file, config_t *cfg, const char *const *overrides, int n_overrides);
// The number of input features the checkpoint's model takes. -1 + message.
int checkpoint_input_features(const st_file_t *f);
// Loads the model's parameters, state tensors and batch counts (shapes must match m). -1 + message.
int checkpoint_load_model(model_t *m, const st_file_t *f);
// bnlab recalibrate's checkpoints carry this metadata key ("algorithm2: N training batches of B"): BN statistics
// averaged after training, and no optimizer or trainer state.
#define CKPT_META_BN_STATISTICS "bn_statistics"
// 0 unless f is a recalibrated (inference-only) checkpoint, which cannot continue a run: -1 + one line saying so
// and what it is for (eval, predict). A checkpoint that lacks trainer state otherwise is damaged: trainer_resume
// names the missing tensor.
int checkpoint_check_resumable(const st_file_t *f);
// Loads SGD momentum buffers (n_params, the model's layout). -1 + message.
int checkpoint_load_velocity(const model_t *m, const st_file_t *f, float *velocity);
// Sets pp from the config's preprocessing and the stored standardization statistics (dim features). -1 + message.
int checkpoint_load_preprocess(preprocess_t *pp, const config_t *cfg, const st_file_t *f, uint32_t dim);

#endif
