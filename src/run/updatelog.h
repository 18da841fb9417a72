// updatelog.h — log.update_ratios_every: how far each step moves each parameter tensor, relative to its size (the
// update:data ratio courses plot on a log10 axis, ~1e-3 being healthy; Ioffe & Szegedy §3.3: behind BN a step moves
// W's direction like lr/‖W‖²).
// After every N-th step's update (N = log.update_ratios_every; rows at steps N, 2N, ...), one row per trainable tensor
// of RUNDIR_UPDATE_RATIOS (update_ratios.csv), columns (rundir.h):
//   step (steps done), layer (model.layers index), layer_type, tensor (its PyTorch name, as in checkpoints), n,
//   update_norm_ratio = ‖Δθ‖₂ / ‖θ‖₂ and update_std_ratio = std(Δθ) / std(θ), where θ is the tensor before the update
//   and Δθ = θ_after − θ the update the optimizer applied (momentum and weight decay included — not lr·grad); std is
//   the population std; grad_std_ratio = std(∂L/∂θ) / std(θ), the gradient of the step (as its update used it); all
//   in double (two passes); a ratio whose denominator is 0 (β at its start) is empty.
// A recorder (run/recorder.h): on_step copies θ into one parameter-sized buffer (allocated at init), after_step writes.
// Off by default (left out of config.json while 0).
#ifndef BNLAB_UPDATELOG_H
#define BNLAB_UPDATELOG_H

#include "base/util.h"
#include "run/recorder.h"

typedef struct {
    long every;
    wfile_t out;
    float *before;  // (n_params) the parameters before the update of a logged step
    long pending;   // the steps done after that update (0: none awaited)
} updatelog_t;

extern const recorder_t UPDATE_RATIOS_RECORDER;

#endif
