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
//
// With a file (gradinit_opts_t.csv), the measurement as one CSV table that pandas reads as it is
// (pandas.read_csv; an empty field is NaN), one row per layer and measurement (GRADINIT_CSV_HEADER):
//   name        the config's name
//   norm        the network's normalization class as view/variant.h keys it ("none", "bn", ...; given by the caller)
//   bn          1 if the network normalizes by batch statistics (BN and its variants), else 0
//   activation  the hidden layers' nonlinearity ("mixed" if they differ); depth: hidden layers (nonlinearities)
//   batch_size  examples per measurement batch
//   when        init (steps 0, over inits x batches) or after (after `steps` SGD steps of the first init, over batches)
//   quantity    dW: ||dL/dW_l||^2 of dense layer number `layer` (1 .. depth + 1, the last is the output layer);
//               dh: ||dL/dh||^2 at the input of hidden layer `layer`'s nonlinearity (1 .. depth); dh_norm: at the
//               output of a normalization not followed by a nonlinearity, `layer` the last nonlinearity before it
//   model_layer its index in model.layers (as the printed table's first column)
//   mean, std, n  over the samples with a finite loss (std: the sample std; empty when n < 2)
//   growth, growth_lo, growth_hi  the fitted per-layer growth of ||dL/dW||^2 going backward and its 95 % interval
//               (the same on every row of one measurement; empty when not fitted or, for the interval, one unit)
//   growth_units, growth_over  what the interval is over: that many "inits" or "batches"
//   fit_first, fit_last  the dense layers (numbered as `layer`) the line was fitted over
//   theory      Yang et al.'s growth of ||dL/dW||^2 for this network (the registry's bn_grad_growth of its one
//               nonlinearity after batch-statistics normalization: ReLU's pi/(pi-1)); empty where the theory gives none
#ifndef BNLAB_GRADINIT_H
#define BNLAB_GRADINIT_H

#include <stdio.h>

#include "run/config.h"

typedef struct {
    int batches;   // >= 1
    int inits;     // >= 1
    long steps;    // SGD steps before the second measurement; 0: none
    int jacobian;  // 0: no spectra; else examples for (b), 2..JAC_MAX_FULL_BATCH
    const char *csv;   // NULL: none; else the measurement's CSV written there (write_file_atomic, once all is measured)
    const char *norm;  // the file's "norm" (view/variant.h's class key, e.g. "bn"); NULL: "unknown"
    int bn;            // the file's "bn"
} gradinit_opts_t;

#define GRADINIT_CSV_HEADER                                                                                           \
    "name,norm,bn,activation,depth,batch_size,when,steps,quantity,layer,model_layer,mean,std,n,growth,growth_lo,"     \
    "growth_hi,growth_units,growth_over,fit_first,fit_last,theory"
// The file's name in DIR for config name: "gradinit-NAME.csv" (bnlab gradinit --out DIR; the figure reads them all).
#define GRADINIT_FILE_PREFIX "gradinit-"
#define GRADINIT_FILE_SUFFIX ".csv"

// Writes the report to out (and the CSV, o->csv). -1 + message (data, model, options, the file's write).
int gradinit_run(const config_t *cfg, const gradinit_opts_t *o, FILE *out);

// The least-squares slope of y against x = 0..n-1 (n >= 2).
double gradinit_slope(const double *y, int n);

#endif
