// paramlog.h — log.param_stats: every parameter tensor over training (Ioffe & Szegedy §3.3's scale, BN's γ and β).
// At step 0 (the initialization) and after every evaluation (train.eval_every, epoch ends, the last step), one row
// per trainable tensor of RUNDIR_PARAM_STATS (param_stats.csv), columns (rundir.h):
//   step, epoch (steps / steps_per_epoch), layer (model.layers index), layer_type, tensor (its PyTorch state_dict
//   name, as in checkpoints: layers.3.weight), n (elements),
//   norm = ‖θ‖₂, grad_norm = ‖∂L/∂θ‖₂ of the last training step's batch loss (weight decay not included; empty at
//   step 0: no step yet), mean = Σθ/n and std = sqrt(Σ(θ - mean)²/n) (population; two passes in double),
//   eff_step = lr/‖W‖² for dense weights (the learning rate that step used; empty for other tensors): by §3.3
//   BN(aWu) = BN(Wu) and ∂/∂(aW) = ∂/∂W / a, so a step η on W behind BN moves its direction like η/‖W‖².
// A BN layer's γ and β are its "weight" and "bias" rows. Off by default (the other logs are the same either way);
// nothing is allocated after open. A resumed run keeps the rows with step <= S (its row's resume rule).
#ifndef BNLAB_PARAMLOG_H
#define BNLAB_PARAMLOG_H

#include <stddef.h>

#include "base/util.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_PARAM_STATS "param_stats.csv" // log.param_stats: per evaluation, one row per parameter tensor (paramlog.h)
#define RUNDIR_PARAM_STATS_HEADER "step,epoch,layer,layer_type,tensor,n,norm,grad_norm,mean,std,eff_step\n"

typedef struct {
    int on;  // every other call does nothing while 0
    wfile_t out;
} paramlog_t;

// The moments of v[0..n) in double: norm = sqrt(Σv²), mean = Σv/n, std = sqrt(Σ(v - mean)²/n) (two passes; all 0
// for n == 0).
void param_moments(const float *v, size_t n, double *norm, double *mean, double *std);
// The recorder (a row of run/recorders.c), with log.param_stats:
//   open     opens param_stats.csv (append = 1: a resumed run's) and, at step 0, writes the initialization's rows;
//   on_eval  one row per trainable tensor at every later metrics row (lr: the step's);
//   check, close as every recorder.
extern const recorder_t PARAM_STATS_RECORDER;

#endif
