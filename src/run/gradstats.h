// gradstats.h — what the backward pass carries at each hidden layer (issue 24: log.gradients' computations).
//
// Sites, after model_backward on a batch (each a model.layers index whose dy — dLoss/d(its output) — is read):
//   - the input of each nonlinearity (hidden h = 1, 2, ..., as percentiles.c counts them): dy of the layer just
//     before it; in dense -> BN -> f that is also the normalization's output;
//   - the output of each normalization not followed by a nonlinearity (BN after the activation): its own dy.
// Per site: mean, exact std (population, two passes in double: run/paramlog.h param_moments), max |g|, the chosen
// percentiles (run/percentiles.h percentiles_select, no allocation) and a histogram (run/binning.h hist_count).
// Per nonlinearity, from the forward pass of the same batch: dead units (output exactly 0 for every example of the
// batch: a ReLU unit that passes no gradient at all) and the saturated fraction by the registry's flags
// (saturates, sat_low, sat_high: nn/registry.h).
// No allocation after gradstats_init.
#ifndef BNLAB_GRADSTATS_H
#define BNLAB_GRADSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "nn/model.h"
#include "run/percentiles.h"

typedef enum { GS_ACT_INPUT, GS_NORM_OUTPUT } gs_where_t;

typedef struct {
    int layer;         // model.layers index whose dy is measured
    int hidden;        // 1-based nonlinearity index (GS_ACT_INPUT), or of the last nonlinearity before it (0: none)
    gs_where_t where;
} gs_site_t;

typedef struct {
    size_t n;          // values (B x units)
    double mean, std, absmax, norm;
    double q[PCT_MAX_Q];
} gs_moments_t;

typedef struct {
    int n_sites;
    gs_site_t *sites;  // (n_sites)
    int n_act;
    int *act;          // (n_act) model.layers index of each nonlinearity
    uint32_t *hist;    // (PCT_BINS) percentiles_select's counts
    float *cand;       // (2 x max_batch x widest) its candidates and sort scratch
} gradstats_t;

int gradstats_init(gradstats_t *g, const model_t *m);
void gradstats_free(gradstats_t *g);
// Site s after model_backward on B examples: moments and the q[0..nq) percentiles of its dLoss/dh.
void gradstats_site(gs_moments_t *out, gradstats_t *g, const model_t *m, int s, int B, const double *q, int nq);
// Site s's histogram: bins counts over [lo, hi) as hist_count. Returns the finite values counted.
size_t gradstats_hist(const gradstats_t *g, const model_t *m, int s, int B, double lo, double hi, int bins,
                      uint64_t *count);
// Nonlinearity k (0-based) after a forward pass on B examples: units whose output is 0 on the whole batch, and the
// fraction of outputs below sat_low or above sat_high (-1 if the kind does not saturate).
void gradstats_units(const gradstats_t *g, const model_t *m, int k, int B, int *dead, double *saturated);

#endif
