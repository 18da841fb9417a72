#include "run/ics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/rundir.h"
#include "run/recorder.h"
#include "base/util.h"
#include "nn/registry.h"

void ics_init(ics_t *c, const model_t *m, long every) {
    memset(c, 0, sizeof *c);
    c->every = every;
    c->dense = xmalloc(sizeof(int) * (size_t)m->n_layers, "dense layer list");
    for (int i = 0; i < m->n_layers; i++)
        if (layer_kind(m->layers[i].spec.kind)->linear) c->dense[c->n_dense++] = i;
    if (every <= 0) return;
    c->p0 = xmalloc(sizeof(float) * m->n_params, "ICS parameters");
    c->p1 = xmalloc(sizeof(float) * m->n_params, "ICS updated parameters");
    c->g0 = xmalloc(sizeof(float) * m->n_params, "ICS gradients");
    c->v0 = xmalloc(sizeof(float) * m->n_params, "ICS momentum");
}

int ics_open(ics_t *c, const char *run_dir, int append) {
    if (c->every <= 0) return 0;
    return log_open(&c->out, run_dir, RUNDIR_ICS, append, RUNDIR_ICS_HEADER);
}

int ics_close(ics_t *c) { return wfile_close(&c->out); }

void ics_free(ics_t *c) {
    wfile_close(&c->out);  // a failure was reported by the session, or the run is being abandoned anyway
    free(c->dense);
    free(c->p0), free(c->p1), free(c->g0), free(c->v0);
    memset(c, 0, sizeof *c);
}

// Copies every parameter tensor of layer l from src to dst (flat parameter blocks of the same layout).
static void copy_layer_params(const model_t *m, const layer_t *l, float *dst, const float *src) {
    float *t[LAYER_MAX_PARAMS];
    size_t n[LAYER_MAX_PARAMS];
    for (int k = 0, nt = layer_params(l, t, n, NULL); k < nt; k++) {
        size_t off = (size_t)(t[k] - m->params);
        memcpy(dst + off, src + off, sizeof(float) * n[k]);
    }
}

void ics_measure(ics_t *c, model_t *m, const sgd_t *opt, const float *x, const int32_t *y, int B,
                 const train_rng_t *r_before, double lr, long step, double *l2, double *cosine) {
    if (c->every <= 0 || step % c->every != 0) return;
    size_t np = m->n_params, nb = sizeof(float) * np;
    memcpy(c->p0, m->params, nb);
    memcpy(c->g0, m->grads, nb);
    memcpy(c->v0, opt->velocity, nb);
    // The full update of this step, computed on copies: the optimizer's own momentum buffers stay untouched.
    memcpy(c->p1, c->p0, nb);
    sgd_t shadow = *opt;
    shadow.velocity = c->v0;
    sgd_step(&shadow, c->p1, c->g0, m->n_decay, lr);
    if (l2) l2[0] = 0.0;
    if (cosine) cosine[0] = 1.0;
    for (int k = 1; k < c->n_dense; k++) {
        const layer_t *li = &m->layers[c->dense[k]];
        memcpy(m->params, c->p0, nb);
        for (int j = 0; j < c->dense[k]; j++) copy_layer_params(m, &m->layers[j], m->params, c->p1);
        train_rng_t r = *r_before;
        model_forward(m, x, B, MODE_TRAIN_FROZEN, &r);
        model_loss_backward_head(m, y, B, NULL);
        model_backward(m, x, B);
        size_t off = (size_t)(li->W - m->params), n = (size_t)li->in * li->out;
        double dd = 0, gg = 0, hh = 0, gh = 0;
        for (size_t q = 0; q < n; q++) {
            double g = c->g0[off + q], h = m->grads[off + q];
            dd += (g - h) * (g - h), gg += g * g, hh += h * h, gh += g * h;
        }
        double d = sqrt(dd), cs = gg > 0 && hh > 0 ? gh / sqrt(gg * hh) : 1.0;
        if (l2) l2[k] = d;
        if (cosine) cosine[k] = cs;
        wfile_printf(&c->out, "%ld,%d,%d,%.9g,%.9g,%.9g\n", step, c->dense[k], k + 1, sqrt(gg), d, cs);
    }
    wfile_flush(&c->out);
    // Put everything back as it was.
    memcpy(m->params, c->p0, nb);
    memcpy(m->grads, c->g0, nb);
}

// ---- the recorder

static int ics_enabled(const config_t *c) { return c->log.ics_every > 0; }
static int ics_rec_init(void *st, const rec_view_t *v) {
    ics_init(st, v->model, v->cfg->log.ics_every);
    return 0;
}
static int ics_rec_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    (void)v;
    return ics_open(st, run_dir, append);
}
static void ics_rec_step(void *st, const rec_view_t *v) {
    ics_measure(st, v->model, v->opt, v->x, v->y, v->batch, v->rng, v->lr, v->step, NULL, NULL);
}
static int ics_rec_check(const void *st) { return wfile_check(&((const ics_t *)st)->out); }
static int ics_rec_close(void *st) { return ics_close(st); }
static void ics_rec_free(void *st) { ics_free(st); }

const recorder_t ICS_RECORDER = {
    .name = "ics",
    .files = {{RUNDIR_ICS, RUNDIR_ICS_HEADER, REC_RESUME_BEFORE_UPDATE, REC_CSV, .expect = 1}},
    .enabled = ics_enabled, .turn_on = "log.ics_every=40",
    .state_size = sizeof(ics_t),
    .init = ics_rec_init, .open = ics_rec_open, .on_step = ics_rec_step, .check = ics_rec_check,
    .close = ics_rec_close, .free = ics_rec_free,
};
