// unitlog.h — log.unit_updates_every: the per-unit effective learning rate and angular update of every dense layer
// (Ioffe & Szegedy §3.3: behind BN a unit's output does not depend on the scale of its weight row w_i, so a step
// turns w_i by about lr·‖g‖/‖w_i‖ — the rate that matters is lr/‖w_i‖²; Wan et al. 2021, "Spherical motion
// dynamics": with BN, weight decay λ and SGD momentum α the angular update settles near √(2ηλ/(1+α))).
// After every N-th step's update (N = log.unit_updates_every; rows at steps N, 2N, ...), one row per dense layer of
// RUNDIR_UNIT_UPDATES (unit_updates.csv), columns (rundir.h):
//   step (steps done), layer (model.layers index), tensor (layers.L.weight), units (rows of W), bn_after (1: the next
//   layer's output does not depend on each input feature's scale — nn/registry.h layer_scale_invariant_per_feature:
//   a batchnorm dividing by the batch's standard deviation — each row's scale then leaves the outputs unchanged;
//   0: not scale-invariant, the numbers are still measured), lr (the step's rate),
//   norm_mean = mean_i ‖w_i‖ before the update,
//   eff_lr_mean, eff_lr_min, eff_lr_max over units of lr/‖w_i‖² (‖w_i‖ before the update; empty if some w_i = 0),
//   angle_mean, angle_rms, angle_min, angle_max over units of θ_i = ∠(w_i, w_i') in radians, w_i' = w_i + Δ_i after
//   the update, computed in double without cancellation: θ_i = atan2(‖w_i‖·‖Δ⊥‖, ‖w_i‖² + w_i·Δ_i) with Δ⊥ = Δ_i −
//   (w_i·Δ_i/‖w_i‖²) w_i the part of the update orthogonal to w_i (never acos of a cosine ≈ 1: an angle of 1e-4
//   is exact here, acos would lose half its digits). Empty when some w_i = 0.
// A recorder (run/recorder.h): on_step copies the dense weights into one buffer (allocated at init), after_step
// writes. Off by default (left out of config.json while 0).
#ifndef BNLAB_UNITLOG_H
#define BNLAB_UNITLOG_H

#include "base/util.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_UNIT_UPDATES "unit_updates.csv"  // every log.unit_updates_every steps: per dense layer (unitlog.h)
#define RUNDIR_UNIT_UPDATES_HEADER                                                                                  \
    "step,layer,tensor,units,bn_after,lr,norm_mean,eff_lr_mean,eff_lr_min,eff_lr_max,angle_mean,angle_rms,angle_min," \
    "angle_max\n"

// Its key (the row's): log.unit_updates_every.
typedef struct {
    long every;  // 0: off
} unitlog_cfg_t;

typedef struct {
    long every;
    wfile_t out;
    float *before;  // (n_params) the parameters before the update of a logged step
    long pending;   // the steps done after that update (0: none awaited)
    double lr;      // that step's rate
} unitlog_t;

extern const recorder_t UNIT_UPDATES_RECORDER;

#endif
