// updatelog.h — log.update_ratios_every: how far each step moves each parameter tensor, relative to its size (the
// update:data ratio courses plot on a log10 axis, ~1e-3 being healthy; Ioffe & Szegedy §3.3: behind BN a step moves
// W's direction like lr/‖W‖²).
// After every N-th step's update (N = log.update_ratios_every; rows at steps N, 2N, ...), one row per trainable tensor
// of RUNDIR_UPDATE_RATIOS (update_ratios.csv), columns (rundir.h):
//   step (steps done), layer (model.layers index), layer_type, tensor (its PyTorch name, as in checkpoints), n,
//   update_norm_ratio = ‖Δθ‖₂ / ‖θ‖₂ and update_std_ratio = std(Δθ) / std(θ), where θ is the tensor before the update
//   and Δθ = θ_after − θ the update the optimizer applied (momentum and weight decay included — not lr·grad); std is
//   the population std; grad_std_ratio = std(∂L/∂θ) / std(θ), the gradient of the step (as its update used it); all
//   in double (summed by the update itself, nn/optim.h sgd_step_sums, in its one pass over θ; a tensor whose mean
//   dominates its spread once more with sums shifted by its first value); a ratio whose denominator is 0 (β at its
//   start) is empty.
// A recorder (run/recorder.h): on_step asks the step's update for its sums (v->opt->sums_next), the update stores θ
// into one parameter-sized buffer as it reads it (allocated at init), after_step writes. Off by default (left out of
// config.json while 0); when off, or between logged steps, the update is sgd_step as without it.
#ifndef BNLAB_UPDATELOG_H
#define BNLAB_UPDATELOG_H

#include "base/util.h"
#include "nn/optim.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_UPDATE_RATIOS "update_ratios.csv"  // every log.update_ratios_every steps: per tensor (updatelog.h)
#define RUNDIR_UPDATE_RATIOS_HEADER "step,layer,layer_type,tensor,n,update_norm_ratio,update_std_ratio,grad_std_ratio\n"

// Its key (the row's): log.update_ratios_every.
typedef struct {
    long every;  // 0: off
} updatelog_cfg_t;

typedef struct {
    long every;
    wfile_t out;
    size_t *at, *len;           // (tensors) each trainable tensor's place in the parameter block, in layer order
    double (*sums)[SGD_SUMS];   // (tensors) what the update of a logged step summed
    float *before;              // (n_params) the parameters before that update
    sgd_sums_t ask;             // the above, as the optimizer takes it
    long pending;               // the steps done after that update (0: none awaited)
} updatelog_t;

extern const recorder_t UPDATE_RATIOS_RECORDER;

// The sums of a tensor's n values before the update (b), after it (a) and of its gradient (g): out =
// {Σb, Σb², Σd, Σd², Σg, Σg²} with d = a − b, in double (nn/optim.h sgd_sums: the sums sgd_step_sums makes).
enum { UPDATE_SUMS = SGD_SUMS };
// The population std of n values from Σx and Σx², or -1 when n Var = Σx² − (Σx)²/n is at most UPDATE_MIN_SPREAD Σx²
// (the mean dominates: BN's γ near 1, a constant tensor — the difference would have lost more than 1 of double's
// 16 digits); then update_sums_shifted gives the sums of x − x₀ (x₀ the tensor's first value), whose spread has no
// such cancellation (exactly 0 for a constant tensor): {Σ(b−b₀), Σ(b−b₀)², Σ(d−d₀), Σ(d−d₀)², Σ(g−g₀), Σ(g−g₀)²}.
#define UPDATE_MIN_SPREAD 0.1
double update_spread(double s1, double s2, size_t n);
void update_sums_shifted(double out[UPDATE_SUMS], const float *b, const float *a, const float *g, size_t n);
// What a row reports of one tensor, from the above: out = {‖b‖, std(b), ‖d‖, std(d), std(g)} (population stds).
// update_moments_from: the same from the tensor's sums s already made (sgd_step_sums), b, a and g read only for the
// shifted sums.
enum { UPDATE_MOMENTS = 5 };
void update_moments(double out[UPDATE_MOMENTS], const float *b, const float *a, const float *g, size_t n);
void update_moments_from(double out[UPDATE_MOMENTS], const double s[UPDATE_SUMS], const float *b, const float *a,
                         const float *g, size_t n);

#endif
