// gradlog.h — log.gradients_every: what the backward pass carries at each hidden layer, over training.
// Every N-th step (N = log.gradients_every; steps 0, N, 2N, ...: the step's own training batch, measured after its
// backward pass and before its update — the gradients the update uses; a probe batch would need a backward pass of its
// own, which would overwrite them), one row per gradient site (run/gradstats.h: each nonlinearity's input, each
// normalization's output not followed by one) of RUNDIR_GRADIENTS (gradients.csv), columns:
//   step, hidden, layer (the model.layers index whose dLoss/d(output) is measured), layer_type, where ("act_input" or
//   "norm_output"), n (batch x units), mean, std (population, exact: two passes in double), absmax, one p<q> column
//   per log.percentiles.q (the forward log's percentiles, same interpolation), dead_units (act_input rows: units of the
//   nonlinearity that output 0 for the whole batch) and frac_saturated (its outputs beyond the registry's sat_low /
//   sat_high: sigmoid 0.02 / 0.98, tanh ±0.97; empty for a kind that does not saturate); both empty on norm_output rows.
// Beside it, RUNDIR_GRAD_HISTOGRAMS (gradient_histograms.csv): at the same steps, one row per hidden layer's
// act_input site, a histogram of its ∂L/∂h over the batch, in histograms.csv's columns (run/histlog.h; bins:
// log.histograms.bins) — step,hidden,layer,layer_type,units,n,lo,hi,c0..: bin j covers [lo + j w, lo + (j+1) w),
// values outside [lo, hi) counted in the edge bins (run/binning.h). The edges are fixed per layer at its first
// histogram, symmetric about 0: ±4 × the root mean square of that batch's ∂L/∂h (± 1 if it is 0), so that later
// frames compare with it (a gradient that shrinks narrows, one that grows piles up at the edges); a resumed run
// reads them back from the rows it kept.
// A recorder (run/recorder.h): on_step only, reading the model's dy buffers and activations; it changes nothing.
// Off by default (left out of config.json while 0).
#ifndef BNLAB_GRADLOG_H
#define BNLAB_GRADLOG_H

#include "run/gradstats.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_GRADIENTS "gradients.csv"       // every log.gradients_every steps: per gradient site (gradlog.h)
#define RUNDIR_GRAD_HISTOGRAMS "gradient_histograms.csv"  // with log.gradients_every: per hidden layer (gradlog.h)
#define RUNDIR_GRADIENTS_FIXED "step,hidden,layer,layer_type,where,n,mean,std,absmax"
// RUNDIR_GRADIENTS_FIXED, ",p%g" per log.percentiles.q, then ",dead_units,frac_saturated\n" (gradlog.c builds it).

typedef struct {
    long every;
    wfile_t out, hout;  // gradients.csv, gradient_histograms.csv
    gradstats_t g;
    int bins;
    double *lo, *hi;    // (n_sites) a site's histogram edges (act_input sites; lo >= hi: not fixed yet)
    uint64_t *count;    // (bins)
} gradlog_t;

extern const recorder_t GRADIENTS_RECORDER;

#endif
