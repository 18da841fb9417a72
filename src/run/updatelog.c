#include "run/updatelog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/registry.h"
#include "run/paramlog.h"
#include "run/rundir.h"

static int up_enabled(const config_t *c) { return c->log.update_ratios_every > 0; }

static int up_init(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    u->every = v->cfg->log.update_ratios_every;
    u->before = xmalloc(sizeof(float) * v->model->n_params, "update ratios: parameters before the update");
    return 0;
}

static int up_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    (void)v;
    return log_open(&((updatelog_t *)st)->out, run_dir, RUNDIR_UPDATE_RATIOS, append, RUNDIR_UPDATE_RATIOS_HEADER);
}

// Before the update of a step that ends on a multiple of every: θ as it is.
static void up_step(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    u->pending = 0;
    if ((v->step + 1) % u->every != 0) return;
    memcpy(u->before, v->model->params, sizeof(float) * v->model->n_params);
    u->pending = v->step + 1;
}

// ‖a − b‖₂ and the population std of a − b over n values, in double (two passes).
static void diff_moments(const float *a, const float *b, size_t n, double *norm, double *std) {
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        s += d, ss += d * d;
    }
    double mu = n ? s / (double)n : 0, m2 = 0;
    for (size_t i = 0; i < n; i++) m2 += ((double)a[i] - b[i] - mu) * ((double)a[i] - b[i] - mu);
    *norm = sqrt(ss), *std = n ? sqrt(m2 / (double)n) : 0;
}

static void ratio(char *b, size_t cap, double num, double den) {
    if (den > 0 && isfinite(num / den)) snprintf(b, cap, "%.9g", num / den);
    else b[0] = '\0';
}

// After the update: one row per trainable tensor.
static void up_after(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    const model_t *m = v->model;
    if (u->pending == 0 || u->pending != v->step) return;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *w[LAYER_MAX_PARAMS];
        size_t nw[LAYER_MAX_PARAMS];
        const tensor_desc_t *d[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(l, w, nw, d); k < nt; k++) {
            const float *b = u->before + (w[k] - m->params);
            double norm, mean, std, dnorm, dstd, gnorm, gmean, gstd;
            param_moments(b, nw[k], &norm, &mean, &std);
            diff_moments(w[k], b, nw[k], &dnorm, &dstd);
            param_moments(m->grads + (w[k] - m->params), nw[k], &gnorm, &gmean, &gstd);  // the step's gradient
            char rn[32], rs[32], rg[32];
            ratio(rn, sizeof rn, dnorm, norm), ratio(rs, sizeof rs, dstd, std), ratio(rg, sizeof rg, gstd, std);
            wfile_printf(&u->out, "%ld,%d,%s,layers.%d.%s,%zu,%s,%s,%s\n", v->step, i, layer_kind_name(l->spec.kind), i,
                         d[k]->name, nw[k], rn, rs, rg);
        }
    }
    wfile_flush(&u->out);
    u->pending = 0;
}

static int up_check(const void *st) { return wfile_check(&((const updatelog_t *)st)->out); }
static int up_close(void *st) { return wfile_close(&((updatelog_t *)st)->out); }
static void up_free(void *st) { free(((updatelog_t *)st)->before); }

const recorder_t UPDATE_RATIOS_RECORDER = {
    .name = "update_ratios",
    .files = {{RUNDIR_UPDATE_RATIOS, RUNDIR_UPDATE_RATIOS_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1}},
    .enabled = up_enabled, .turn_on = "log.update_ratios_every=10",
    .state_size = sizeof(updatelog_t),
    .init = up_init, .open = up_open, .on_step = up_step, .after_step = up_after, .check = up_check,
    .close = up_close, .free = up_free,
};
