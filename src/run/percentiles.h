// percentiles.h — the distribution of a nonlinearity's *input* over training (Ioffe & Szegedy Fig. 1(b, c)).
//
// Every `every` steps, the q-th percentiles (default 15, 50, 85) — over a fixed probe set (source "probe": the
// first log.probe_size test images, at most one evaluation batch, in training mode with nothing updated — BN
// normalizes by that batch, so for a BN network this is the BN output the sigmoid receives) or over the current
// training batch (source "batch": exactly what the sigmoid received, but a batch of 60 is noisy) — of
//   - chosen units' inputs (B values each), and
//   - each hidden layer's whole input (B x units values).
// "hidden k" is the k-th nonlinearity (sigmoid/relu/tanh) of the model, 1-based; -1 is the last one. The
// same hidden index means the same place in a BN and a no-BN network, whatever their layer lists.
// Percentiles interpolate linearly between order statistics (position q/100 * (n - 1), as numpy's default).
#ifndef BNLAB_PERCENTILES_H
#define BNLAB_PERCENTILES_H

#include <stdint.h>
#include <stdio.h>

#include "base/util.h"
#include "nn/model.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_PERCENTILES "percentiles.csv"   // every log.percentiles.every steps

#define PCT_BINS 65536  // percentiles_select: one bin per 16-bit prefix of a float's order key

typedef struct {
    pct_spec_t spec;
    int n_hidden;
    int *hidden_layer;  // (n_hidden) index of each nonlinearity in the model
    float *scratch;     // (max_batch) one unit's values
    float *cand;        // (2 * max_batch * widest hidden input) percentiles_select's candidates and sort scratch
    uint32_t *hist;     // (PCT_BINS) percentiles_select's counts
    wfile_t out;        // percentiles.csv, open between pct_log_open and pct_log_close; wfile_check() for errors
} pct_log_t;

// q-th percentile of sorted[0..n), n >= 1.
double percentile_sorted(const float *sorted, size_t n, double q);
// Sorts v[0..n) ascending in place, as glibc's qsort with the comparison (x > y) - (x < y) does, bit for bit
// (stable: -0.0 and +0.0 keep their order; NaN where qsort puts it). tmp (n) is scratch; no allocation.
void sort_floats(float *v, size_t n, float *tmp);
// The q[0..nq)-th percentiles of v[0..n) (n >= 1, nq <= PCT_MAX_Q) into out, equal to sorting and calling
// percentile_sorted, by radix selection: two passes over v, then sorting only the values that share a 16-bit key
// prefix with a wanted rank. hist (PCT_BINS) and cand (2 n: the candidates, and sort_floats' scratch) are scratch;
// no allocation.
void percentiles_select(const float *v, size_t n, const double *q, int nq, double *out, uint32_t *hist, float *cand);

// The recorder (a row of run/recorders.c; run/recorder.h), with log.percentiles.every > 0: init is pct_log_init;
// before_step (source "probe") looks at the probe images in training mode, nothing updated; on_step (source
// "batch") at the step's batch; every `every` steps.
extern const recorder_t PERCENTILES_RECORDER;

// Checks the spec against the model (hidden/unit indices exist). -1 + message naming log.percentiles.
int pct_log_init(pct_log_t *p, const pct_spec_t *spec, const model_t *m);
// Opens run_dir/percentiles.csv and writes the header (append = 1: continues a resumed run's file, and writes the
// header only if the file is missing or empty).
int pct_log_open(pct_log_t *p, const char *run_dir, int append);
// Closes percentiles.csv. -1 + message if a write to it failed.
int pct_log_close(pct_log_t *p);
// Logs the percentiles of the last forward pass (batch size B) if step % every == 0. A failed write is kept in out.
void pct_log_step(pct_log_t *p, const model_t *m, int B, long step);
void pct_log_free(pct_log_t *p);

#endif
