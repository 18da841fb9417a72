// ics.h — internal covariate shift as Santurkar et al. (2018, arXiv:1805.11604, Definition 2.1) define it.
//
// For dense layer i at step t, on the same batch (x, y) and the same dropout/noise draws:
//   G  = grad of the loss w.r.t. W_i with the parameters before the step,
//   G' = the same gradient after applying this step's update to the layers *before* i only,
// and ICS_i = ||G - G'||_2, reported with cos(G, G'). It measures how much layer i's optimization problem
// changes because the layers below it moved — the "shift" seen by the gradient, not by the activations.
// The first dense layer has nothing below it and is not reported.
//
// Cost: one extra forward + backward per dense layer per measurement; the buffers are allocated once.
#ifndef BNLAB_ICS_H
#define BNLAB_ICS_H

#include <stdio.h>

#include "base/util.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_ICS "ics.csv"                   // every log.ics_every steps
#define RUNDIR_ICS_HEADER "step,layer,dense,grad_norm,l2_diff,cosine\n"

typedef struct {
    long every;        // steps; 0 = off
    int n_dense;
    int *dense;        // (n_dense) model layer index of each dense layer
    float *p0, *p1;    // (n_params) parameters before / after the full update
    float *g0;         // (n_params) gradients before the step
    float *v0;         // (n_params) scratch momentum buffers for the shadow update
    wfile_t out;       // ics.csv, open between ics_open and ics_close; wfile_check() for errors
} ics_t;

// The recorder (a row of run/recorders.c), with log.ics_every > 0: init is ics_init, on_step ics_measure.
extern const recorder_t ICS_RECORDER;

void ics_init(ics_t *c, const model_t *m, long every);
// Opens run_dir/ics.csv (append = 1: continues a resumed run's file; the header only if it is missing or empty).
int ics_open(ics_t *c, const char *run_dir, int append);
// Closes ics.csv. -1 + message if a write to it failed.
int ics_close(ics_t *c);
void ics_free(ics_t *c);

// Measures ICS for dense layers 2..n at step `step` (if due). Precondition: m holds the gradients of a
// training forward/backward on (x, y) whose random draws started from *r_before. Leaves the model,
// optimizer and r_after exactly as it found them. l2[k] and cosine[k] (may be NULL) receive the values
// of dense layer k + 1 (index 0: the first dense layer, always 0 and 1).
void ics_measure(ics_t *c, model_t *m, const sgd_t *opt, const float *x, const int32_t *y, int B,
                 const train_rng_t *r_before, double lr, long step, double *l2, double *cosine);

#endif
