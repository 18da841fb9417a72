// recalibrate.h — BN's inference statistics as the paper's Algorithm 2 computes them (Ioffe & Szegedy 2015, §3.1):
// after training, with every parameter frozen, each BN layer's E[x] and Var[x] averaged over training mini-batches
// of size m,
//   E[x] = E_B[mu_B],   Var[x] = m/(m-1) E_B[sigma_B^2],
// each batch passed through the network with BN on its own statistics (the training network), dropout off.
// bnlab's running statistics are instead a moving average during training (as torch keeps them); this computes
// the paper's and writes them over the running statistics (renorm layers: sigma = sqrt(Var[x] + eps); ghost layers:
// the blocks are the mini-batches, m = ghost_batch). BN layers that train on fixed statistics (statistics
// "population", past freeze_stats_after) keep theirs: inference already uses what training used.
#ifndef BNLAB_RECALIBRATE_H
#define BNLAB_RECALIBRATE_H

#include <stdint.h>

#include "io/data.h"
#include "nn/model.h"

// Replaces the running statistics of every BN layer of m by Algorithm 2's over n_batches mini-batches of `batch`
// examples of ds, drawn without replacement in an order shuffled by seed (stream RNG_STREAM_RECALIBRATE);
// x (batch, dim) and y (batch) are buffers, batch <= m->max_batch. -1 + one line, the statistics untouched, when
// nothing can be averaged: no BN layer, n_batches < 1 (fewer examples than one batch), a ghost layer that formed no
// block of ghost_batch examples; or when ds has fewer than n_batches * batch examples.
int recalibrate_bn(model_t *m, const preprocess_t *pp, const dataset_t *ds, int n_batches, int batch, uint64_t seed,
                   float *x, int32_t *y);

#endif
