#include "run/paramlog.h"

#include <math.h>
#include <string.h>

#include "nn/registry.h"
#include "run/rundir.h"

void param_moments(const float *v, size_t n, double *norm, double *mean, double *std) {
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += v[i], ss += (double)v[i] * v[i];
    double mu = n ? s / (double)n : 0, m2 = 0;
    for (size_t i = 0; i < n; i++) m2 += ((double)v[i] - mu) * ((double)v[i] - mu);
    *norm = sqrt(ss), *mean = mu, *std = n ? sqrt(m2 / (double)n) : 0;
}

static double norm_of(const float *v, size_t n) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)v[i] * v[i];
    return sqrt(ss);
}

// An empty field for a number that is not there (no step yet, not a dense weight), as the other CSV logs write it.
static void num(char *b, size_t cap, double v) {
    if (isfinite(v)) snprintf(b, cap, "%.9g", v);
    else b[0] = '\0';
}

// One row per trainable tensor at step `step`; lr: the learning rate of the step just taken (NAN: none yet).
static void rows(paramlog_t *p, const model_t *m, long step, long steps_per_epoch, double lr) {
    if (!p->on) return;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *w[LAYER_MAX_PARAMS];
        size_t nw[LAYER_MAX_PARAMS];
        const tensor_desc_t *d[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(l, w, nw, d); k < nt; k++) {
            double norm, mean, std;
            param_moments(w[k], nw[k], &norm, &mean, &std);
            const float *g = layer_tensor_grad(l, d[k]);
            double gn = isnan(lr) ? NAN : norm_of(g, nw[k]);
            double eff = d[k]->decay ? lr / (norm * norm) : NAN;  // the weight matrices (registry: decay)
            char gs[32], es[32];
            num(gs, sizeof gs, gn), num(es, sizeof es, eff);
            wfile_printf(&p->out, "%ld,%.9g,%d,%s,layers.%d.%s,%zu,%.9g,%s,%.9g,%.9g,%s\n", step,
                         (double)step / steps_per_epoch, i, layer_kind_name(l->spec.kind), i, d[k]->name, nw[k],
                         norm, gs, mean, std, es);
        }
    }
    wfile_flush(&p->out);
}

static int paramlog_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    paramlog_t *p = st;
    memset(p, 0, sizeof *p);
    if (log_open(&p->out, run_dir, RUNDIR_PARAM_STATS, append, RUNDIR_PARAM_STATS_HEADER) != 0) return -1;
    p->on = 1;
    if (v->step == 0) rows(p, v->model, 0, v->steps_per_epoch, NAN);  // the initialization: no step, no gradient
    return 0;
}

// After every evaluation but the initial one (open wrote step 0's rows).
static void paramlog_eval(void *st, const rec_view_t *v) {
    if (v->row->step > 0) rows(st, v->model, v->step, v->steps_per_epoch, v->lr);
}

static int paramlog_check(const void *st) {
    const paramlog_t *p = st;
    return p->on ? wfile_check(&p->out) : 0;
}

static int paramlog_close(void *st) {
    paramlog_t *p = st;
    int rc = p->on ? wfile_close(&p->out) : 0;
    memset(p, 0, sizeof *p);
    return rc;
}

static int paramlog_enabled(const config_t *c) { return c->log.param_stats; }

const recorder_t PARAM_STATS_RECORDER = {
    .name = "param_stats",
    .files = {{RUNDIR_PARAM_STATS, RUNDIR_PARAM_STATS_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1}},
    .enabled = paramlog_enabled, .turn_on = "log.param_stats=true",
    .state_size = sizeof(paramlog_t),
    .open = paramlog_open, .on_eval = paramlog_eval, .check = paramlog_check, .close = paramlog_close,
};
