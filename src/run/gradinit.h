// gradinit.h — gradient explosion at initialization, measured against Yang, Pennington, Rao, Sohl-Dickstein &
// Schoenholz 2019 ("A mean field theory of batch normalization", arXiv:1902.08129), whose abstract says: "Our theory
// shows that gradient signals grow exponentially in depth and that these exploding gradients cannot be eliminated by
// tuning the initial weight variances or by adjusting the nonlinear activation function. Indeed, batch normalization
// itself is the cause of gradient explosion."
//
// For a config's model at initialization (seeds seed .. seed + inits - 1) and `batches` training batches each
// (training mode: BN normalizes by each batch; no update), per dense layer l the squared gradient norm ‖dL/dW_l‖²
// and per hidden layer the squared norm of dL/dh at its nonlinearity's input (run/gradstats.h): mean and sample std
// over all (init, batch) samples. The per-layer growth going backward is fitted per sample as exp(-slope) of a
// least-squares line through log ‖dL/dW_l‖² against l over the hidden dense layers, the first and the last left out
// (their fan-in and the softmax head differ); reported as the mean with a 95 % interval (mean slope ± 1.96 sample std
// / sqrt(n)) over the inits' mean slopes when inits > 1, else over the batches of the one init. With steps > 0 the
// same is measured again after that many SGD steps of the first init (the config's optimizer and rate).
// Optionally (jacobian = examples for the whole-batch Jacobian, 2..16) each hidden block's Jacobian spectrum on the
// first batch (run/jacobian.h), at init and after the steps.
#ifndef BNLAB_GRADINIT_H
#define BNLAB_GRADINIT_H

#include <stdio.h>

#include "run/config.h"

typedef struct {
    int batches;   // >= 1
    int inits;     // >= 1
    long steps;    // SGD steps before the second measurement; 0: none
    int jacobian;  // 0: no spectra; else examples for (b), 2..JAC_MAX_FULL_BATCH
} gradinit_opts_t;

// Writes the report to out. -1 + message (data, model, options).
int gradinit_run(const config_t *cfg, const gradinit_opts_t *o, FILE *out);

// The least-squares slope of y against x = 0..n-1 (n >= 2).
double gradinit_slope(const double *y, int n);

#endif
