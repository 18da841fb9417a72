#include "run/paramlog.h"

#include <math.h>
#include <string.h>

#include "nn/registry.h"
#include "run/rundir.h"
#include "run/runlog.h"

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

void paramlog_rows(paramlog_t *p, const trainer_t *t, double lr) {
    if (!p->on) return;
    const model_t *m = &t->model;
    const long step = t->prog.step;
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
                         (double)step / t->steps_per_epoch, i, layer_kind_name(l->spec.kind), i, d[k]->name, nw[k],
                         norm, gs, mean, std, es);
        }
    }
    wfile_flush(&p->out);
}

int paramlog_open(paramlog_t *p, const trainer_t *t, const char *run_dir, int append) {
    memset(p, 0, sizeof *p);
    if (!t->cfg.log.param_stats) return 0;
    if (log_open(&p->out, run_dir, RUNDIR_PARAM_STATS, append, RUNDIR_PARAM_STATS_HEADER) != 0) return -1;
    p->on = 1;
    if (t->prog.step == 0) paramlog_rows(p, t, NAN);
    return 0;
}

int paramlog_check(const paramlog_t *p) { return p->on ? wfile_check(&p->out) : 0; }

int paramlog_close(paramlog_t *p) {
    int rc = p->on ? wfile_close(&p->out) : 0;
    memset(p, 0, sizeof *p);
    return rc;
}
