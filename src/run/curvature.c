#include "run/curvature.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "run/rundir.h"

void curvature_init(curvature_t *c, const model_t *m, double h, int iters) {
    c->h = h > 0 ? h : CURV_FD_STEP;
    c->iters = iters > 0 ? iters : CURV_ITERS;
    c->p0 = xmalloc(sizeof(float) * m->n_params, "curvature: parameters");
    c->g0 = xmalloc(sizeof(float) * m->n_params, "curvature: gradients");
    c->state0 = xmalloc(sizeof(float) * (m->n_state ? m->n_state : 1), "curvature: BN statistics");
    c->batches0 = xmalloc(sizeof(int64_t) * (size_t)m->n_layers, "curvature: BN counters");
    c->v = xmalloc(sizeof(double) * m->n_params, "curvature: iterate");
    c->hv = xmalloc(sizeof(double) * m->n_params, "curvature: Hessian-vector product");
}

void curvature_free(curvature_t *c) {
    free(c->p0), free(c->g0), free(c->state0), free(c->batches0), free(c->v), free(c->hv), free(c->px), free(c->py);
    c->p0 = c->g0 = c->state0 = NULL, c->batches0 = NULL, c->v = c->hv = NULL, c->px = NULL, c->py = NULL;
}

// ∇L at θ0 + s·h·v into m->grads (the batch's draws, running statistics untouched); returns L there. s = 0: at θ0.
static double grad_at(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B,
                      const train_rng_t *r_before, double s) {
    if (s == 0) memcpy(m->params, c->p0, sizeof(float) * m->n_params);
    else
        for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)((double)c->p0[i] + s * c->h * c->v[i]);
    train_rng_t r;
    if (r_before) r = *r_before;  // NULL: a model without random layers (tests)
    model_forward(m, x, B, MODE_TRAIN_FROZEN, r_before ? &r : NULL);
    double loss = model_loss_backward_head(m, y, B, NULL);
    model_backward(m, x, B);
    return loss;
}

// hv = (∇L(θ + hv) − ∇L(θ − hv)) / 2h; returns vᵀ hv.
static double hvp(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B, const train_rng_t *r) {
    grad_at(c, m, x, y, B, r, 1);
    for (size_t i = 0; i < m->n_params; i++) c->hv[i] = m->grads[i];
    grad_at(c, m, x, y, B, r, -1);
    double q = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        c->hv[i] = (c->hv[i] - m->grads[i]) / (2 * c->h);
        q += c->v[i] * c->hv[i];
    }
    return q;
}

static double normalize(double *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i] * v[i];
    s = sqrt(s);
    if (s > 0)
        for (size_t i = 0; i < n; i++) v[i] /= s;
    return s;
}

// own_gradient 0: m->grads is ∇L on (x, y); 1: computed here (and c->loss), m->grads put back after.
static void measure(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B, const train_rng_t *r_before,
                    int own_gradient) {
    const size_t n = m->n_params;
    memcpy(c->p0, m->params, sizeof(float) * n);
    memcpy(c->g0, m->grads, sizeof(float) * n);
    if (m->n_state) memcpy(c->state0, m->state, sizeof(float) * m->n_state);
    for (int i = 0; i < m->n_layers; i++) c->batches0[i] = m->layers[i].batches;
    const float *g = c->g0;
    if (own_gradient) {
        c->loss = grad_at(c, m, x, y, B, r_before, 0);
        g = m->grads;
    }
    for (size_t i = 0; i < n; i++) c->v[i] = g[i];
    c->grad_norm = normalize(c->v, n);
    if (c->grad_norm == 0)  // no gradient: start from a fixed vector, no sharpness
        for (size_t i = 0; i < n; i++) c->v[i] = 1.0 / sqrt((double)n);
    double lam = hvp(c, m, x, y, B, r_before), prev = lam;
    c->sharpness = c->grad_norm > 0 ? lam : NAN;
    for (int k = 1; k < c->iters && isfinite(lam); k++) {
        memcpy(c->v, c->hv, sizeof(double) * n);
        if (normalize(c->v, n) == 0) break;
        prev = lam;
        lam = hvp(c, m, x, y, B, r_before);
    }
    c->top_eig = lam;
    c->change = lam != 0 ? fabs(lam - prev) / fabs(lam) : NAN;
    // Put everything back: the real update reads exactly these bits.
    memcpy(m->params, c->p0, sizeof(float) * n);
    memcpy(m->grads, c->g0, sizeof(float) * n);
    if (m->n_state) memcpy(m->state, c->state0, sizeof(float) * m->n_state);
    for (int i = 0; i < m->n_layers; i++) m->layers[i].batches = c->batches0[i];
}

void curvature_measure(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B,
                       const train_rng_t *r_before) {
    measure(c, m, x, y, B, r_before, 0);
}

void curvature_measure_on(curvature_t *c, model_t *m, const float *x, const int32_t *y, int B,
                          const train_rng_t *r_before) {
    measure(c, m, x, y, B, r_before, 1);
}

// ---- the recorder

static int cv_init(void *st, const rec_view_t *v) {
    curvature_t *c = st;
    const config_t *cf = v->cfg;
    const curvature_cfg_t *s = v->settings;
    c->every = s->every;
    curvature_init(c, v->model, 0, 0);
    if (s->source != CURV_SOURCE_PROBE) return 0;
    int B = (int)v->probe_n < cf->train.batch_size ? (int)v->probe_n : cf->train.batch_size;
    if (B > v->model->max_batch) B = v->model->max_batch;
    if (B < 2)  // a batch of one has no variance to normalize by (and no curvature worth the name)
        return bnlab_fail("log.curvature_source: \"probe\" measures on the first min(log.probe_size, "
                          "train.batch_size) probe images, here %d; expected at least 2 (log.probe_size: %d)",
                          B, cf->log.probe_size);
    c->probe_B = B;
    c->px = xmalloc(sizeof(float) * (size_t)B * (size_t)v->test->dim, "curvature: probe batch");
    c->py = xmalloc(sizeof(int32_t) * (size_t)B, "curvature: probe labels");
    dataset_gather_range(v->test, v->pp, 0, B, c->px, c->py);
    return 0;
}
static void cv_step(void *st, const rec_view_t *v) {
    curvature_t *c = st;
    if (v->step % c->every != 0) return;
    if (c->probe_B) curvature_measure_on(c, v->model, c->px, c->py, c->probe_B, v->rng);
    else curvature_measure(c, v->model, v->x, v->y, v->batch, v->rng), c->loss = v->loss;
    wfile_printf(&c->out, "%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", v->step, v->lr, c->loss, c->grad_norm,
                 c->sharpness, c->top_eig, c->change, 2 / v->lr);
    wfile_flush(&c->out);
}
static void cv_free(void *st) { curvature_free(st); }

static const char *const CURV_SOURCES[] = {"batch", "probe", NULL};  // curv_source_t order
static int cv_on(const void *s) { return ((const curvature_cfg_t *)s)->every > 0; }
static const key_desc_t CV_KEYS[] = {
    {.name = "curvature_every", .type = KEY_LONG, .field = offsetof(curvature_cfg_t, every), .lo = 0, .hi = 1e9,
     .def = 0, .flags = KEY_OMIT_ZERO},
    // Left out of config.json while "batch" (the step's batch, as before the key existed).
    {.name = "curvature_source", .type = KEY_ENUM, .field = offsetof(curvature_cfg_t, source), .words = CURV_SOURCES,
     .def = CURV_SOURCE_BATCH, .flags = KEY_OMIT_ZERO, .applies = cv_on, .when = "with log.curvature_every > 0"},
    {0}};

const recorder_t CURVATURE_RECORDER = {
    .name = "curvature", .keys = CV_KEYS,
    .files = {{RUNDIR_CURVATURE, RUNDIR_CURVATURE_HEADER, REC_RESUME_BEFORE_UPDATE, REC_CSV, .expect = 1,
               .wfile = REC_WFILE(curvature_t, out)}},
    .turn_on = "log.curvature_every=20",
    .state_size = sizeof(curvature_t),
    .init = cv_init, .on_step = cv_step, .free = cv_free,
};
