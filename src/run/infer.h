// infer.h — a trained network on its own: rebuilt from a checkpoint without training data or training buffers,
// and the one batched forward pass over a data set that training, eval and predict share.
#ifndef BNLAB_INFER_H
#define BNLAB_INFER_H

#include <stdint.h>

#include "io/data.h"
#include "nn/model.h"
#include "run/config.h"
#include "run/evalorder.h"

// Called after each batch's forward pass and softmax: m->probs and the last layer's y hold its B rows, which are
// examples [start, start + B) of the data set; labels are theirs (0 for unlabelled data).
typedef void (*batch_fn)(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels);

typedef struct {
    forward_mode_t mode;  // MODE_EVAL, or MODE_TRAIN_FROZEN for a training-mode look
    train_rng_t *rng;     // MODE_TRAIN_FROZEN: the streams to draw from (pass a copy to leave a run's own alone)
    int batch;            // examples per forward pass, at most m->max_batch
    float *x;             // (batch, dim) input buffer
    int32_t *y;           // (batch) label buffer
    batch_fn fn;          // NULL, or called per batch
    void *ctx;
    eval_order_t *order;  // NULL, or the order to run the batches in where forward_set_ordered says it may
} forward_pass_t;

// Forward passes over examples [0, n) of ds: returns the mean loss (labels 0 for unlabelled data) and sets *hits to
// the number of examples whose largest logit is their label. With p->order, where forward_set_ordered allows it, the
// batches run in that order and the loss and hits are computed over the batches of file order from the logits put
// back in place (run/evalorder.h): the same bits. The layers' buffers then hold a batch of that order, m->probs the
// last batch of file order.
double forward_set(model_t *m, const preprocess_t *pp, const dataset_t *ds, uint32_t n, const forward_pass_t *p,
                   long *hits);

// 1 if forward_set(m, .., ds, n, p, ..) runs in p->order: it orders examples [0, n) of this ds for batches of
// p->batch and m's classes, ds has labels, no callback wants the batches of file order (p->fn NULL), and every layer
// acts per example in p->mode and gives a row the same bits wherever it sits in a batch of p->batch
// (model_per_example; only whole batches are reordered). Else 0: file order.
int forward_set_ordered(const model_t *m, const dataset_t *ds, uint32_t n, const forward_pass_t *p);

typedef struct {
    config_t cfg;     // the checkpoint's config with the caller's overrides
    model_t model;    // max_batch = the larger of train.eval_batch_size and train.batch_size
    preprocess_t pp;  // with the stored standardization statistics
    float *x;         // (max_batch, features)
    int32_t *y;       // (max_batch)
    char file[4096];  // the checkpoint file used
    long step;        // the training step it was saved at (its "step" metadata; 0 if absent)
} infer_t;

// Loads a checkpoint file, or a run directory's newest checkpoint, with overrides applied to its config before any
// file is checked ("data.test_images=..."). No data is read. -1 + message.
int infer_load(infer_t *n, const char *path, const char *const *overrides, int n_overrides);
void infer_free(infer_t *n);
// A forward_pass_t in evaluation mode over n's buffers.
forward_pass_t infer_pass(infer_t *n, batch_fn fn, void *ctx);

#endif
