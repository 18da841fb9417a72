// stats.h — per-layer activation statistics: what the distribution of each layer's output does over training.
//
// For each layer output, over every (example, unit) value seen since the last reset:
//   mean, std (population), min, max, and for the kinds whose registry row says they saturate (nn/registry.h: the
//   sigmoid) the fraction saturated (y < sat_low or y > sat_high; sigmoid: 0.02 and 0.98, where its gradient
//   y(1-y) < 0.0196 has all but vanished).
//
// The moments are exact to double rounding, not sumsq/n - mean^2 (which cancels when |mean| >> std: a saturated
// sigmoid layer came out with std 0): each batch is reduced by a two-pass in double (mean, then the sum of squared
// deviations), and batches are merged with Chan, Golub & LeVeque's (1979) pairwise update of (count, mean, M2).
#ifndef BNLAB_STATS_H
#define BNLAB_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "nn/model.h"
#include "nn/registry.h"

// Values per layer in act_stats_pack's layout: count, mean, m2, min, max, saturated.
#define ACT_ACC_PACKED 6

typedef struct {
    double mean;         // mean of the count values (0 when empty)
    double m2;           // sum of squared deviations from mean, Σ(y - mean)^2 >= 0
    double min, max;     // +inf / -inf when empty
    uint64_t count, saturated;
} act_acc_t;

typedef struct {
    int n_layers;
    act_acc_t *acc;  // (n_layers)
} act_stats_t;

void act_stats_init(act_stats_t *s, int n_layers);
void act_stats_free(act_stats_t *s);
void act_stats_reset(act_stats_t *s);
// Adds every layer's output y (B, out) of the last forward pass of m: act_acc_add on each. Allocation-free.
void act_stats_add(act_stats_t *s, const model_t *m, int B);
// Adds n values y as one batch: two-pass (mean_b = Σy/n, m2_b = Σd² - (Σd)²/n with d = y - mean_b) in double, merged by act_acc_merge.
// Saturated values are counted when kind is a saturating kind's row (NULL or another kind: none counted).
void act_acc_add(act_acc_t *a, const float *y, size_t n, const layer_kind_info_t *kind);
// a ∪= b (Chan et al. 1979): n = na+nb, δ = mean_b - mean_a, mean = mean_a + δ·nb/n, m2 = m2_a + m2_b + δ²·na·nb/n.
void act_acc_merge(act_acc_t *a, const act_acc_t *b);
// mean, std = sqrt(m2 / count) (0 when empty), fraction saturated = saturated / count (saturates: the layer kind
// saturates, its registry row's flag; else -1).
void act_acc_summary(const act_acc_t *a, int saturates, double *mean, double *std, double *frac_sat);
// out[i*6 .. i*6+5] = (count, mean, m2, min, max, saturated) of layer i; all zeros for an empty layer (no infinities).
void act_stats_pack(const act_stats_t *s, double *out /* (n_layers, ACT_ACC_PACKED) */);
// Inverse of act_stats_pack into s (n_layers already set). -1 + message naming file and trainer.epoch_stats, s untouched.
int act_stats_unpack(act_stats_t *s, const double *in /* (n_layers, ACT_ACC_PACKED) */, const char *file);

#endif
