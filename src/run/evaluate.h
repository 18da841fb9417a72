// evaluate.h — a trained network evaluated: what `bnlab eval`, `recalibrate` and `predict` compute, for any caller
// (cli/ parses their options and prints these results; the report and tests call the same functions).
//   - the test set's loss, accuracy and confusion matrix with BN's running statistics (evaluation mode);
//   - the same under each way of taking BN's statistics in evaluation (running, each test batch its own, the paper's
//     Algorithm 2 over training batches), so the train/eval gap is one table;
//   - BN's normalized values x̂ per layer on real test batches (run/xhatstats.h);
//   - a checkpoint whose BN statistics are Algorithm 2's (run/recalibrate.h), and class probabilities as CSV.
// Every function returns -1 + one line (bnlab_errmsg) on bad input and leaves no file behind.
#ifndef BNLAB_EVALUATE_H
#define BNLAB_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "io/data.h"
#include "run/infer.h"
#include "run/xhatstats.h"

// The test (train = 0) or training (train = 1) set a checkpoint's config names (after --set), as the run loaded it
// (data.test_limit / train_limit applied), within the memory budget. A file it names that is not here (a checkpoint
// made on another machine, or downloaded from the browser lab, whose files were /datasets/mnist-subset/...): one line
// "PATH: no such file (the checkpoint's data.KEY; give the file with --set data.KEY=PATH)".
int evaluate_load_split(const config_t *c, dataset_t *ds, int train);
// n's test set; refused when its examples are not as wide as the model's input ("FILE: test examples have ...").
int evaluate_load_test(const infer_t *n, dataset_t *ds);

typedef struct {
    uint32_t n;    // examples
    double loss;   // mean cross-entropy; not finite when the outputs overflow (a diverging run)
    long hits;     // examples whose largest logit is their label
    int C;         // classes
    long *conf;    // (C, C) counts: rows the true class, columns the predicted one
} evaluation_t;

// Loss, accuracy and confusion matrix of n on every example of ds, in evaluation mode (BN's running statistics).
void evaluate_set(evaluation_t *e, infer_t *n, const dataset_t *ds);
void evaluation_free(evaluation_t *e);

// The paper's Algorithm 2 on n's model (run/recalibrate.h): BN's statistics replaced by their average over training
// batches of train.batch_size, shuffled by the config's seed. *batches: requested (0: every full batch, at most
// 1000), then used. Errors of Algorithm 2 name n->file.
int evaluate_recalibrate(infer_t *n, int *batches);

// The ways of taking BN's statistics in evaluation (a mask for evaluate_bn_stats).
enum { EVAL_BN_RUNNING = 1, EVAL_BN_BATCH = 2, EVAL_BN_ALGORITHM2 = 4 };

typedef struct {
    int present;    // 1 if asked for
    char what[96];  // the row's label, e.g. "batch: each test batch of 1000 its own statistics"
    double loss, acc;
} bn_stats_row_t;

// Loss and accuracy on ds for each way in `which` (rows in the order running, batch, algorithm2). Algorithm 2 comes
// last: it replaces n's running statistics (batches as evaluate_recalibrate). -1 + message, no row to show, when
// Algorithm 2 refuses.
int evaluate_bn_stats(bn_stats_row_t rows[3], infer_t *n, const dataset_t *ds, int which, int batches);

// 1 if evaluate_xhat looks at layer l: it normalizes by the batch's statistics (layer_uses_batch_statistics).
int evaluate_shows_xhat(const layer_t *l);
// BN's x̂ over ds in batches of train.eval_batch_size, each batch normalized by its own statistics: *s (n_layers
// entries, freed by the caller) holds an entry for every layer evaluate_shows_xhat (the others are left empty). -1 + message when the model has no such layer.
int evaluate_xhat(xhat_stats_t **s, infer_t *n, const dataset_t *ds);

// "algorithm2: B training batches of M" into how (cap bytes): how n's statistics were taken, as a checkpoint's
// bn_statistics metadata says it (recalibrate, fold).
void evaluate_algorithm2_text(char *how, size_t cap, const infer_t *n, int batches);
// Writes n's model (its statistics after evaluate_recalibrate over `batches` batches) as a checkpoint to out: the
// source checkpoint's step, no trainer state (it does not resume), bn_statistics metadata saying how they were taken.
int evaluate_write_recalibrated(const infer_t *n, int batches, const char *out);

// Class probabilities of n for the examples of `input` (IDX images, or a CSV file when its name ends in .csv) as CSV
// text: "index,predicted,p0,..,pC-1" then a line per example. *csv (malloc'd, *len bytes) is the caller's to free.
int evaluate_predict(char **csv, size_t *len, infer_t *n, const char *input);

#endif
