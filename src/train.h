// train.h — the trainer: config -> data + model (trainer_setup, writes nothing) -> run directory (trainer_run).
#ifndef BN_TRAIN_H
#define BN_TRAIN_H

#include "config.h"
#include "data.h"
#include "ics.h"
#include "model.h"
#include "optim.h"
#include "percentiles.h"
#include "stats.h"

enum { TRAIN_OK = 0, TRAIN_ERROR = 1, TRAIN_DIVERGED = 3 };

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
    act_stats_t epoch_stats, probe_stats;
    pct_log_t pct;
    ics_t ics;
    long steps_per_epoch, total_steps;
    int show_progress;
} trainer_t;

// Loads the data, checks it fits the config and builds and initializes the model. Writes no file.
int trainer_setup(trainer_t *t, const config_t *cfg);
// Trains, writing logs into run_dir (which must exist). Returns TRAIN_OK, TRAIN_ERROR or TRAIN_DIVERGED.
int trainer_run(trainer_t *t, const char *run_dir);
void trainer_free(trainer_t *t);

// Evaluation mode over [0, n) of ds in batches of eval_batch_size: mean loss and accuracy; adds every
// layer's output to stats if not NULL.
void trainer_evaluate(trainer_t *t, const dataset_t *ds, uint32_t n, double *loss, double *acc, act_stats_t *stats);
// The same in any mode; MODE_TRAIN_FROZEN normalizes each batch by its own statistics and draws dropout from a
// copy of the run's stream, so the run itself is unaffected.
void trainer_forward_set(trainer_t *t, const dataset_t *ds, uint32_t n, forward_mode_t mode, double *loss,
                         double *acc, act_stats_t *stats);

#endif
