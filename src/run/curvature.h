// curvature.h — log.curvature_every: the loss Hessian's top eigenvalue and the batch sharpness at probe steps
// (Cohen et al. 2021, "Gradient descent on neural networks typically occurs at the edge of stability": the sharpness
// rises to about 2/η and hovers there; Ghorbani, Krishnan & Xiao 2019 on BN and the Hessian's outliers).
//
// At a probe step t (steps done before it a multiple of N = log.curvature_every: rows at steps 0, N, 2N, ...), with
// θ the parameters before the update, on a batch (x, y) of B examples — log.curvature_source "batch" (the default):
// the step's own mini-batch, g = ∇L(θ) the step's own gradient; "probe": the first min(log.probe_size,
// train.batch_size) probe images (the test set's first examples, the same at every probe), g = ∇L(θ) on them,
// computed for the probe (one forward+backward more) — and L the data loss on that batch (softmax cross-entropy
// averaged over it, without weight decay; every trainable parameter):
//   Hv ≈ (∇L(θ + h v) − ∇L(θ − h v)) / (2h),  ‖v‖ = 1,  h = CURV_FD_STEP (1e-3; validated in tests/test_curvature.c:
//        the power iteration's eigenvalue matches a float64 dense Hessian's to 7e-6 relative on a 58-parameter BN net;
//        h = 1e-1 (truncation) and 1e-5 (float32 rounding) are 800x and 140x worse; on the paper's 784-100-100-100-10
//        nets against a float64 PyTorch power iteration with exact Hessian-vector products: tests/test_curvature_torch.sh)
//   sharpness  = gᵀHg / ‖g‖²            (the first product, v = g/‖g‖: the curvature along the step)
//   top_eig    = vᵀHv after CURV_ITERS (20) power iterations from v = g/‖g‖ — the eigenvalue of largest magnitude
//                (signed: a negative one larger than every positive one would show as negative)
//   top_eig_change = |λ_20 − λ_19| / |λ_20| (how far from converged)
//   batch_loss = L(θ) on the batch measured (the step's loss, or the probe batch's)
// Every product sees what the step saw: the same dropout masks and noise draws (drawn from copies of the streams),
// BN in training mode on the measured batch's statistics (MODE_TRAIN_FROZEN). Parameters, gradients, every BN running
// statistic and batch counter are saved before and restored bit for bit after, so the update and the rest of the run
// are those of an unprobed run (tests/test_curvature.sh: logs and checkpoints equal with the log on and off, either
// source). Cost: 2·CURV_ITERS forward+backward passes per probe (+1 with "probe"); buffers allocated once at init.
// Off by default (left out of config.json while 0; curvature_source while "batch").
#ifndef BNLAB_CURVATURE_H
#define BNLAB_CURVATURE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "nn/model.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_CURVATURE "curvature.csv"  // every log.curvature_every steps: Hessian top eigenvalue (curvature.h)
#define RUNDIR_CURVATURE_HEADER "step,lr,batch_loss,grad_norm,sharpness,top_eig,top_eig_change,two_over_lr\n"

#define CURV_ITERS 20
#define CURV_FD_STEP 1e-3

// Its keys (the row's): log.curvature_every and log.curvature_source — the step's own mini-batch, or the same probe
// batch at every probe.
typedef enum { CURV_SOURCE_BATCH, CURV_SOURCE_PROBE } curv_source_t;
typedef struct {
    long every;  // 0: off
    curv_source_t source;
} curvature_cfg_t;

typedef struct {
    long every;
    double h;                 // the finite-difference step (CURV_FD_STEP; tests vary it)
    int iters;                // power iterations (CURV_ITERS; tests vary it)
    float *p0, *g0, *state0;  // (n_params), (n_params), (n_state): as before the probe
    int64_t *batches0;        // (n_layers) BN batch counters
    double *v, *hv;           // (n_params) the iterate and its product, in double
    double sharpness, top_eig, change, grad_norm, loss;
    int probe_B;              // log.curvature_source "probe": examples in the probe batch (0: the step's batch)
    float *px;                // (probe_B, features) the probe batch, gathered at init
    int32_t *py;              // (probe_B) its labels
    wfile_t out;
} curvature_t;

// Allocates the buffers for m (h, iters: 0 = the defaults). Aborts on out-of-memory like xmalloc.
void curvature_init(curvature_t *c, const model_t *m, double h, int iters);
void curvature_free(curvature_t *c);
// At the current parameters, with m->grads holding ∇L on (x, y) of B examples (drawn with r_before): fills
// sharpness, top_eig, change, grad_norm; leaves params, grads, BN state and counters as they were.
void curvature_measure(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B,
                       const train_rng_t *r_before);
// The same on a batch (x, y) other than the one whose gradient m->grads holds: computes ∇L and the loss (into
// c->loss) on it first; m->grads is left as it was.
void curvature_measure_on(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B,
                          const train_rng_t *r_before);

extern const recorder_t CURVATURE_RECORDER;

#endif
