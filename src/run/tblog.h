// tblog.h — log.tensorboard: the run's numbers as a TensorBoard event file, RUN/tb/TBLOG_FILE (io/tfrecord.h
// encodes it; `tensorboard --logdir runs` reads it). The first record is Event{file_version "brain.Event:2"}; then,
// each an Event{wall_time (seconds since 1970, the wall clock), step, summary with one value}:
//   every metrics row (step = its step): loss/train, loss/test, accuracy/train, accuracy/test, lr and, with
//     log.eval_batch_stats, loss/test_batchstats and accuracy/test_batchstats (the test set again, each batch
//     normalized by its own BN statistics) — metrics.csv's numbers (columns train_loss, test_loss, train_acc,
//     test_acc, lr, test_loss_batchstats, test_acc_batchstats) as floats; an empty cell (the train columns at step 0)
//     gives no event;
//   every layer_stats epoch (step = its step), per layer i of kind K: layerI_K/mean, layerI_K/std and, for kinds
//     that saturate (the registry's flag: sigmoid), layerI_K/saturation — the "train" rows of layer_stats.csv as
//     floats;
//   and, with log.probe_size > 0, layerI_K/outputs: a histogram of that layer's outputs over the probe images in
//     evaluation mode (layer_stats.csv's "probe" set): min, max, num (values), sum and sum of squares in double, and
//     TBLOG_BUCKETS equal-width buckets over [min, max] (TensorBoard's own default): bucket j counts the values y with
//     floor((y - min) / w) = j, w = (max - min) / TBLOG_BUCKETS, the maximum in the last; bucket_limit[j] =
//     min + (j + 1) w and the last limit is max. All values equal: one bucket, limit max. Non-finite values: no
//     histogram;
//   and, with log.gradients_every, layerI_K/gradients beside layerI_K/outputs: at the steps of gradients.csv, the
//     same histogram of dLoss/d(output) of layer I over the step's training batch, for each layer whose output is
//     a nonlinearity's input (gradients.csv's act_input rows), in on_step, before ICS's replays overwrite the
//     gradients (the recorder's row comes right after the gradients recorder's). Those of a resumed run's own step
//     are measured again, so its truncation leaves them out (they follow that step's checkpoint).
// The file name has no timestamp (TensorBoard needs only "tfevents" in it): a run has one event file, and a resumed
// run truncates it to the records with step <= its checkpoint's step before appending, like the CSV logs. Only
// wall_time differs between equal runs. Writes go through the checked writer (base/util.h wfile_t); nothing is
// allocated after tblog_open.
#ifndef BNLAB_TBLOG_H
#define BNLAB_TBLOG_H

#include <stdint.h>

#include "base/util.h"
#include "run/recorder.h"

#define TBLOG_DIR "tb"
#define TBLOG_FILE "events.out.tfevents.0000000000.bnlab"
#define TBLOG_VERSION "brain.Event:2"
#define TBLOG_BUCKETS 30

// One layer's histogram as it is being counted.
typedef struct {
    double min, max, num, sum, sum_squares;
    double count[TBLOG_BUCKETS];
} tblog_hist_t;

typedef struct {
    int on;               // log.tensorboard: every other call does nothing while 0
    wfile_t out;
    int n_layers;
    tblog_hist_t *hist;   // (n_layers)
    tblog_hist_t *grad;   // (n_layers) the gradient histograms counted in on_step (log.gradients_every)
    uint8_t rec[2048];    // one encoded Event (the largest, a histogram, is under 800 bytes)
} tblog_t;

// The recorder (a row of run/recorders.c), with log.tensorboard:
//   open      makes RUN/tb and creates the event file with its version record, or (append = 1, a resumed run at
//             v->step) truncates it to the records with step <= v->step but that step's gradient histograms (and
//             drops a record cut short or failing its CRCs) and appends; a missing or empty file gets its version record;
//   on_eval   the scalars of the metrics row;
//   on_epoch  the scalars from v->epoch_stats and, with probe images, the histograms of two extra evaluation-mode
//             passes over them (the first finds the range);
//   on_step   the gradient histograms (log.gradients_every);
//   check, close as every recorder.
extern const recorder_t TENSORBOARD_RECORDER;

#endif
