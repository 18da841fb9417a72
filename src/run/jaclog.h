// jaclog.h — log.jacobian_every: the singular values of each hidden block's Jacobian over training (Ioffe & Szegedy
// §3.3's conjecture; run/jacobian.h says what is computed and how).
// At step 0 and after every N-th update (N = log.jacobian_every) and at the run's last step, on the first
// min(log.probe_size, train.batch_size) probe images in MODE_EVAL_BATCH (BN normalizes by that batch; nothing is
// updated), two rows per measured hidden block of RUNDIR_JACOBIAN (jacobian.csv), columns:
//   step, block (0-based), layer (its dense layer's model.layers index), norm (1: a batchnorm in the block), which
//   ("example": (a), every example's Jacobian with the batch statistics held fixed, all their singular values pooled;
//   "batch": (b), the Jacobian of the whole batch of the first JACLOG_FULL_BATCH probe images, BN's coupling included,
//   its 2 x units smallest left out: units zeros and units of order eps / var that BN's projection makes,
//   run/jacobian.h), n (singular values summarized), median, p10, p90, max,
//   frac_near1 (the fraction within [0.5, 2]). Blocks run/jacobian.h does not measure get no rows.
// Cost: per probe, batch x blocks symmetric eigenvalue problems of min(units, inputs) square and one of (7 units)
// square per BN block where it fits (run/jacobian.h) — ~60 ms for the paper's 784-100-100-100-10 BN net on one core
// (it was ~130 ms with float SVDs): keep N in the thousands of steps.
// A recorder (run/recorder.h): its forward pass overwrites activations and BN's batch statistics buffers only (after
// the step's evaluation; the next step recomputes them), so the run is byte-identical with it on or off.
#ifndef BNLAB_JACLOG_H
#define BNLAB_JACLOG_H

#include "run/jacobian.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_JACOBIAN "jacobian.csv"         // every log.jacobian_every steps: per hidden block (jaclog.h)
#define RUNDIR_JACOBIAN_HEADER "step,block,layer,norm,which,n,median,p10,p90,max,frac_near1\n"

#define JACLOG_FULL_BATCH 8

typedef struct {
    long every;
    wfile_t out;
    jac_t j;
    int B, full;  // probe examples for (a) and (b)
} jaclog_t;

extern const recorder_t JACOBIAN_RECORDER;

#endif
