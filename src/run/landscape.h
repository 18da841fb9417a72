// landscape.h — Santurkar, Tsipras, Ilyas & Mądry (2018, arXiv:1805.11604), §3 and Fig. 4: the loss landscape along
// the gradient, measured at a training step without changing the run ("not a training procedure, but an evaluation
// of the local loss landscape", their Appendix A.2.2).
//
// At a probe step t, with θ the parameters before the update and g = ∇L(θ) the step's own gradient on its own
// mini-batch (restricted to the probed parameters S, zero elsewhere), for each step size η_k of a grid:
//   η_k         = f_k · lr,  f_k from lr_factors [lo, hi], `points` values, linearly or geometrically spaced;
//   loss_k      = L(θ − η_k g)                                  (Fig. 4a: the loss landscape)
//   grad_diff_k = ‖∇_S L(θ − η_k g) − g‖₂                        (Fig. 4b: gradient predictiveness)
//   beta_k      = grad_diff_k / ‖η_k g‖₂                         (Fig. 4c: the ratio whose max is β-smoothness)
// and per probe the bands min/max_k loss_k, min/max_k grad_diff_k and β_eff = max_k beta_k.
// L is the data loss (softmax cross-entropy averaged over the batch), without weight decay: the gradient SGD adds the
// decay to is the one probed.
//
// Every point sees what the step saw: the same batch, the same dropout masks and shift-noise draws (copies of the
// streams as they were before the step's forward pass), BN in training mode normalizing by the batch statistics of
// the probed point (MODE_TRAIN_FROZEN: running statistics and batch counters untouched). Parameters and gradients are
// restored bit for bit afterwards, so the update, the optimizer and every later step are those of an unprobed run.
// Cost: one forward + backward per η, `points` per probe; three parameter-sized buffers allocated once at init.
#ifndef BNLAB_LANDSCAPE_H
#define BNLAB_LANDSCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "nn/model.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_LANDSCAPE "landscape.csv"       // every log.landscape.every steps: one row per step size (landscape.h)
#define RUNDIR_LANDSCAPE_BAND "landscape_band.csv"  // the same probes: one row each, bands over η and β_eff
#define RUNDIR_LANDSCAPE_HEADER "step,eta,lr,loss,grad_diff,grad_norm,beta\n"
#define RUNDIR_LANDSCAPE_BAND_HEADER \
    "step,lr,grad_norm,batch_loss,loss_min,loss_max,grad_diff_min,grad_diff_max,beta_eff\n"


typedef struct {
    ls_spec_t spec;
    int n_spans;              // the probed parameters: spans [off, off + len) of the flat parameter block
    size_t *span_off, *span_len;
    float *p0, *g0;           // (n_params) parameters and gradients before the probe
    // The last probe's numbers (for tests and the log): per point, then the band.
    double eta[LS_MAX_POINTS], loss[LS_MAX_POINTS], grad_diff[LS_MAX_POINTS], beta[LS_MAX_POINTS];
    double grad_norm;         // ‖g‖ over S
    double loss_min, loss_max, diff_min, diff_max, beta_eff;
    wfile_t out, band;        // landscape.csv and landscape_band.csv, open between landscape_open and _close
} landscape_t;

// The recorder (a row of run/recorders.c; run/recorder.h), with log.landscape.every > 0: init is landscape_init,
// on_step landscape_probe.
extern const recorder_t LANDSCAPE_RECORDER;

// The factor f_k of point k (0 <= k < points): lo + (hi − lo)·k/(points − 1), or lo·(hi/lo)^(k/(points − 1)); lo
// when points = 1.
double landscape_factor(const ls_spec_t *s, int k);
// Copies the spec and, if every > 0, allocates the buffers (never again) and resolves the probed spans in m. The
// layers of s must be dense layers of m (the config checks this).
void landscape_init(landscape_t *l, const ls_spec_t *s, const model_t *m);
// Opens RUNDIR_LANDSCAPE and RUNDIR_LANDSCAPE_BAND in run_dir (append = 1: a resumed run's files, the header only if
// missing or empty). Nothing when off. -1 + message.
int landscape_open(landscape_t *l, const char *run_dir, int append);
// -1 + message if a write to either file failed (the first failure).
int landscape_check(const landscape_t *l);
int landscape_close(landscape_t *l);
void landscape_free(landscape_t *l);

// Probes at step `step` if due (every > 0 and step % every == 0). Precondition: m holds the gradients of a training
// forward/backward on (x, y) whose draws started from *r_before, with batch loss batch_loss; lr is the step's rate.
// Fills the numbers above, writes `points` rows to landscape.csv and one to landscape_band.csv, and leaves m's
// parameters and gradients exactly as it found them (its activation buffers are overwritten). A point whose loss is
// not finite gets loss ±inf/NaN as computed, grad_diff = beta = +inf, and makes the band's maxima and β_eff +inf.
// Allocates nothing. Returns 1 if it probed, 0 if not due.
int landscape_probe(landscape_t *l, model_t *m, const float *x, const int32_t *y, int B, const train_rng_t *r_before,
                    double lr, double batch_loss, long step);

#endif
