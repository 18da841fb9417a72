// stats.h — per-layer activation statistics: what the distribution of each layer's output does over training.
//
// For each layer output, over every (example, unit) value seen since the last reset:
//   mean, std (population), min, max, and for sigmoid layers the fraction saturated (y < 0.02 or y > 0.98),
// where the sigmoid's gradient y(1-y) < 0.0196 has all but vanished.
#ifndef BNLAB_STATS_H
#define BNLAB_STATS_H

#include <stdint.h>

#include "nn/model.h"

#define STATS_SAT_LO 0.02f
#define STATS_SAT_HI 0.98f

typedef struct {
    double sum, sumsq, min, max;
    uint64_t count, saturated;
} act_acc_t;

typedef struct {
    int n_layers;
    act_acc_t *acc;  // (n_layers)
} act_stats_t;

void act_stats_init(act_stats_t *s, int n_layers);
void act_stats_free(act_stats_t *s);
void act_stats_reset(act_stats_t *s);
// Adds every layer's output y (B, out) of the last forward pass of m.
void act_stats_add(act_stats_t *s, const model_t *m, int B);
// mean, std = sqrt(E[y^2] - E[y]^2) (clamped at 0), fraction saturated (sigmoid layers; else -1).
void act_acc_summary(const act_acc_t *a, int is_sigmoid, double *mean, double *std, double *frac_sat);

#endif
