// train.h — the trainer: config -> data + model (trainer_setup, writes nothing) -> run directory (trainer_run).
#ifndef BNLAB_TRAIN_H
#define BNLAB_TRAIN_H

#include <signal.h>

#include "io/safetensors.h"
#include "run/config.h"
#include "io/data.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "run/evalorder.h"
#include "run/recorders.h"
#include "run/stats.h"

enum { TRAIN_OK = 0, TRAIN_ERROR = 1, TRAIN_DIVERGED = 3, TRAIN_INTERRUPTED = 4 };

// Set from a signal handler (SIGINT/SIGTERM): the trainer finishes the current step, writes a checkpoint
// and its logs, and returns TRAIN_INTERRUPTED.
extern volatile sig_atomic_t train_stop_requested;

// Everything about a run's position that a checkpoint must carry besides the model and optimizer.
typedef struct {
    long step;               // optimizer steps done
    double run_loss;         // training loss summed since the last metrics row ...
    long run_hits, run_steps;  // ... correct predictions and steps since then
    double best_acc, last_acc;
    long best_step;
    double seconds_before;   // wall clock of earlier sessions of this run (resume)
} train_progress_t;

typedef struct {
    config_t cfg;
    dataset_t train, test;
    preprocess_t pp;
    model_t model;
    sgd_t opt;
    rng_t shuffle_rng;
    train_rng_t train_rng;  // dropout and noise streams
    uint32_t *order;         // (train.n) this epoch's example order
    float *x;                // (max_batch, dim) input batch
    int32_t *y;              // (max_batch) labels
    eval_order_t test_order;  // the order evaluations run the test set in (run/evalorder.h); perm NULL: file order
    act_stats_t epoch_stats;  // every layer's output over this epoch's training batches (log.stats)
    recorders_t rec;         // the logs' states (run/recorders.h), set up with the trainer
    long steps_per_epoch, total_steps;
    train_progress_t prog;
    metrics_row_t last_row;  // the newest row of metrics.csv (step -1 before the first evaluation of this session)
} trainer_t;

// Loads the data, checks it fits the config, builds and initializes the model and sets up the recorders the config
// turns on (recorders_init). Writes no file.
int trainer_setup(trainer_t *t, const config_t *cfg);
// Trains from t->prog.step to the end, writing logs into run_dir (which must exist); append = 1 continues the
// logs of a resumed run. Returns TRAIN_OK, TRAIN_ERROR, TRAIN_DIVERGED or TRAIN_INTERRUPTED.
// It is trainer_begin, trainer_advance over all steps and trainer_end: a caller that trains in slices (the web
// page: n steps per call) calls those three itself, and its logs are the same, line for line.
int trainer_run(trainer_t *t, const char *run_dir, int append);

// What one session of trainer_run holds besides the trainer (whose recorders write the logs): its clock and console.
typedef struct {
    const char *run_dir;  // kept, not copied: it must outlive the session
    int open;             // trainer_begin opened the logs (trainer_end must close them)
    int bar;              // a progress bar on stderr (a terminal, or log.progress "always")
    int quiet;            // stdout failed (closed pipe, full disk): no more console lines, the run goes on
    double t0, last_bar;
} train_session_t;
// Opens the logs in run_dir (s->open) and, for a fresh run, writes the step-0 evaluation row: TRAIN_OK or
// TRAIN_ERROR (+ message; with s->open 0 nothing needs closing).
int trainer_begin(trainer_t *t, train_session_t *s, const char *run_dir, int append);
// Up to n more steps (fewer at the run's end) with their evaluations, recorders and checkpoints: TRAIN_OK while the
// run may go on (t->prog.step == t->total_steps at its end), else TRAIN_DIVERGED, TRAIN_ERROR or TRAIN_INTERRUPTED.
int trainer_advance(trainer_t *t, train_session_t *s, long n);
// Closes the logs and writes summary.json recording status; returns the final status (trainer_run's).
int trainer_end(trainer_t *t, train_session_t *s, int status);
void trainer_free(trainer_t *t);
// What the recorders may look at now (run/recorder.h): the model, optimizer, probe images, buffers, streams and the
// steps done; the hook-specific fields are left empty (lr NaN).
rec_view_t trainer_view(trainer_t *t);
// Writes the run's checkpoint at the current step: model, optimizer and preprocessing (run/checkpoint.h) and the
// trainer's own state (example order, partial-epoch statistics, progress, random streams). -1 + message.
int trainer_checkpoint(const trainer_t *t, const char *run_dir);
// Loads all of that into a trainer set up from the checkpoint's own config. -1 + message.
int trainer_resume(trainer_t *t, const st_file_t *f);

// The training step, in two halves so that measurements can look at the gradients before the update:
// trainer_step_grad gathers the next batch (reshuffling at an epoch start), runs the forward pass in training
// mode, the loss and (if the loss is finite) the backward pass, and returns the loss; trainer_step_update
// applies SGD at rate lr (sgd_step_sums where a recorder asked for the update's sums: t->opt.sums_next) and
// advances t->prog.step. Neither allocates.
double trainer_step_grad(trainer_t *t, int *correct);
void trainer_step_update(trainer_t *t, double lr);

// Evaluation mode over [0, n) of ds in batches of eval_batch_size: mean loss and accuracy; adds every
// layer's output to stats if not NULL.
void trainer_evaluate(trainer_t *t, const dataset_t *ds, uint32_t n, double *loss, double *acc, act_stats_t *stats);
// The same in any mode; MODE_TRAIN_FROZEN normalizes each batch by its own statistics and draws dropout from a
// copy of the run's stream, so the run itself is unaffected.
void trainer_forward_set(trainer_t *t, const dataset_t *ds, uint32_t n, forward_mode_t mode, double *loss,
                         double *acc, act_stats_t *stats);

#endif
