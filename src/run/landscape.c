#include "run/landscape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/rundir.h"
#include "run/recorder.h"

double landscape_factor(const ls_spec_t *s, int k) {
    if (s->points <= 1) return s->lo;
    double u = (double)k / (s->points - 1);
    if (s->spacing == LS_LOG) return k == s->points - 1 ? s->hi : s->lo * pow(s->hi / s->lo, u);
    return k == s->points - 1 ? s->hi : s->lo + (s->hi - s->lo) * u;
}

// The probed spans: the whole block, or each listed dense layer's tensors (W, and b if it has one).
static void resolve_spans(landscape_t *l, const model_t *m) {
    if (l->spec.n_layers == 0) {
        l->span_off[0] = 0, l->span_len[0] = m->n_params, l->n_spans = 1;
        return;
    }
    for (int i = 0; i < l->spec.n_layers; i++) {
        float *t[LAYER_MAX_PARAMS];
        size_t n[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(&m->layers[l->spec.layers[i]], t, n, NULL); k < nt; k++) {
            l->span_off[l->n_spans] = (size_t)(t[k] - m->params);
            l->span_len[l->n_spans++] = n[k];
        }
    }
}

void landscape_init(landscape_t *l, const ls_spec_t *s, const model_t *m) {
    memset(l, 0, sizeof *l);
    l->spec = *s;
    if (s->every <= 0) return;
    size_t spans = s->n_layers == 0 ? 1 : (size_t)s->n_layers * LAYER_MAX_PARAMS;
    l->span_off = xmalloc(sizeof(size_t) * spans, "landscape spans");
    l->span_len = xmalloc(sizeof(size_t) * spans, "landscape spans");
    l->p0 = xmalloc(sizeof(float) * m->n_params, "landscape parameters");
    l->g0 = xmalloc(sizeof(float) * m->n_params, "landscape gradients");
    resolve_spans(l, m);
}

int landscape_open(landscape_t *l, const char *run_dir, int append) {
    if (l->spec.every <= 0) return 0;
    if (log_open(&l->out, run_dir, RUNDIR_LANDSCAPE, append, RUNDIR_LANDSCAPE_HEADER) != 0) return -1;
    if (log_open(&l->band, run_dir, RUNDIR_LANDSCAPE_BAND, append, RUNDIR_LANDSCAPE_BAND_HEADER) != 0) {
        wfile_close(&l->out);
        return -1;
    }
    return 0;
}

int landscape_check(const landscape_t *l) { return wfile_check(&l->out) != 0 || wfile_check(&l->band) != 0 ? -1 : 0; }

int landscape_close(landscape_t *l) {
    int a = wfile_close(&l->out), b = wfile_close(&l->band);
    return a != 0 || b != 0 ? -1 : 0;
}

void landscape_free(landscape_t *l) {
    wfile_close(&l->out), wfile_close(&l->band);  // failures were reported by the session, or the run is abandoned
    free(l->span_off), free(l->span_len), free(l->p0), free(l->g0);
    memset(l, 0, sizeof *l);
}

// Σ over the probed spans of a[i]², or of (a[i] − b[i])² when b is not NULL; in double.
static double span_sq(const landscape_t *l, const float *a, const float *b) {
    double s = 0;
    for (int k = 0; k < l->n_spans; k++)
        for (size_t i = l->span_off[k], e = i + l->span_len[k]; i < e; i++) {
            double d = b ? (double)a[i] - b[i] : a[i];
            s += d * d;
        }
    return s;
}

// One point: m->params = θ − η g on the spans (θ elsewhere), then the forward/backward pass on the step's batch and
// draws. Fills loss[k], grad_diff[k], beta[k].
static void probe_point(landscape_t *l, model_t *m, const float *x, const int32_t *y, int B,
                        const train_rng_t *r_before, int k) {
    const double eta = l->eta[k];
    memcpy(m->params, l->p0, sizeof(float) * m->n_params);
    for (int s = 0; s < l->n_spans; s++)
        for (size_t i = l->span_off[s], e = i + l->span_len[s]; i < e; i++)
            m->params[i] = (float)((double)l->p0[i] - eta * l->g0[i]);
    train_rng_t r = *r_before;  // the step's own dropout masks and noise
    model_forward(m, x, B, MODE_TRAIN_FROZEN, &r);
    double loss = model_loss_backward_head(m, y, B, NULL);
    l->loss[k] = loss;
    if (!isfinite(loss)) {  // no gradient to compare: the landscape is unbounded here
        l->grad_diff[k] = l->beta[k] = INFINITY;
        return;
    }
    model_backward(m, x, B);
    l->grad_diff[k] = sqrt(span_sq(l, m->grads, l->g0));
    double step = eta * l->grad_norm;
    l->beta[k] = step > 0 ? l->grad_diff[k] / step : NAN;  // η = 0 (a test's grid) has no ratio
}

// The band over the points; a non-finite loss counts as +inf (NaN would hide from min/max).
static void summarize(landscape_t *l) {
    l->loss_min = l->diff_min = INFINITY;
    l->loss_max = l->diff_max = l->beta_eff = -INFINITY;
    for (int k = 0; k < l->spec.points; k++) {
        double v = isfinite(l->loss[k]) ? l->loss[k] : INFINITY;
        l->loss_min = fmin(l->loss_min, v), l->loss_max = fmax(l->loss_max, v);
        l->diff_min = fmin(l->diff_min, l->grad_diff[k]), l->diff_max = fmax(l->diff_max, l->grad_diff[k]);
        if (!isnan(l->beta[k])) l->beta_eff = fmax(l->beta_eff, l->beta[k]);
    }
    if (l->beta_eff == -INFINITY) l->beta_eff = NAN;
}

static void write_rows(landscape_t *l, double lr, double batch_loss, long step) {
    for (int k = 0; k < l->spec.points; k++)
        wfile_printf(&l->out, "%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", step, l->eta[k], lr, l->loss[k], l->grad_diff[k],
                     l->grad_norm, l->beta[k]);
    wfile_printf(&l->band, "%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", step, lr, l->grad_norm, batch_loss,
                 l->loss_min, l->loss_max, l->diff_min, l->diff_max, l->beta_eff);
    wfile_flush(&l->out);
    wfile_flush(&l->band);
}

int landscape_probe(landscape_t *l, model_t *m, const float *x, const int32_t *y, int B, const train_rng_t *r_before,
                    double lr, double batch_loss, long step) {
    if (l->spec.every <= 0 || step % l->spec.every != 0) return 0;
    size_t nb = sizeof(float) * m->n_params;
    memcpy(l->p0, m->params, nb);
    memcpy(l->g0, m->grads, nb);
    l->grad_norm = sqrt(span_sq(l, l->g0, NULL));
    for (int k = 0; k < l->spec.points; k++) {
        l->eta[k] = landscape_factor(&l->spec, k) * lr;
        probe_point(l, m, x, y, B, r_before, k);
    }
    summarize(l);
    write_rows(l, lr, batch_loss, step);
    // Put everything back as it was: the real update reads exactly these bits.
    memcpy(m->params, l->p0, nb);
    memcpy(m->grads, l->g0, nb);
    return 1;
}

// ---- the recorder

static int ls_enabled(const config_t *c) { return c->log.landscape.every > 0; }
static int ls_init(void *st, const rec_view_t *v) {
    landscape_init(st, &v->cfg->log.landscape, v->model);
    return 0;
}
static int ls_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    (void)v;
    return landscape_open(st, run_dir, append);
}
static void ls_step(void *st, const rec_view_t *v) {
    landscape_probe(st, v->model, v->x, v->y, v->batch, v->rng, v->lr, v->loss, v->step);
}
static int ls_check(const void *st) { return landscape_check(st); }
static int ls_close(void *st) { return landscape_close(st); }
static void ls_free(void *st) { landscape_free(st); }

const recorder_t LANDSCAPE_RECORDER = {
    .name = "landscape",
    .files = {{RUNDIR_LANDSCAPE, RUNDIR_LANDSCAPE_HEADER, REC_RESUME_BEFORE_UPDATE, REC_CSV},
              {RUNDIR_LANDSCAPE_BAND, RUNDIR_LANDSCAPE_BAND_HEADER, REC_RESUME_BEFORE_UPDATE, REC_CSV}},
    .enabled = ls_enabled, .turn_on = "log.landscape.every=60",
    .state_size = sizeof(landscape_t),
    .init = ls_init, .open = ls_open, .on_step = ls_step, .check = ls_check, .close = ls_close, .free = ls_free,
};
