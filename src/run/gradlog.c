#include "run/gradlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/binning.h"
#include "run/rundir.h"

#define GRADLOG_MAX_HIDDEN 256

static int gl_enabled(const config_t *c) { return c->log.gradients_every > 0; }

static int gl_init(void *st, const rec_view_t *v) {
    gradlog_t *g = st;
    g->every = v->cfg->log.gradients_every;
    if (gradstats_init(&g->g, v->model) != 0) return -1;
    g->bins = v->cfg->log.histograms.bins;
    g->lo = xcalloc((size_t)g->g.n_sites + 1, sizeof *g->lo, "gradient histograms");
    g->hi = xcalloc((size_t)g->g.n_sites + 1, sizeof *g->hi, "gradient histograms");
    g->count = xcalloc((size_t)g->bins, sizeof *g->count, "gradient histograms");
    return 0;
}

static int gl_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    gradlog_t *g = st;
    const pct_spec_t *p = &v->cfg->log.percentiles;
    char header[512];
    path_fmt(header, sizeof header, "%s", RUNDIR_GRADIENTS_FIXED);
    for (int k = 0; k < p->n_q; k++) path_fmt(header + strlen(header), sizeof header - strlen(header), ",p%g", p->q[k]);
    path_fmt(header + strlen(header), sizeof header - strlen(header), ",dead_units,frac_saturated\n");
    if (log_open(&g->out, run_dir, RUNDIR_GRADIENTS, append, header) != 0) return -1;
    char hheader[8192], kept[BNLAB_PATH_MAX];
    rundir_histograms_header(hheader, sizeof hheader, g->bins, 0);
    rundir_file(kept, sizeof kept, run_dir, RUNDIR_GRAD_HISTOGRAMS);
    // Sites are numbered by their hidden layer in the file: lo/hi are indexed by hidden - 1 while read back.
    double lo[GRADLOG_MAX_HIDDEN], hi[GRADLOG_MAX_HIDDEN];
    int nh = 0;
    for (int s = 0; s < g->g.n_sites; s++)
        if (g->g.sites[s].where == GS_ACT_INPUT && g->g.sites[s].hidden > nh) nh = g->g.sites[s].hidden;
    if (nh > GRADLOG_MAX_HIDDEN) nh = GRADLOG_MAX_HIDDEN;
    memset(lo, 0, sizeof lo), memset(hi, 0, sizeof hi);
    if (append && hist_edges_read(kept, nh, lo, hi) != 0) return -1;
    for (int s = 0; s < g->g.n_sites; s++) {
        int h = g->g.sites[s].hidden;
        if (g->g.sites[s].where == GS_ACT_INPUT && h >= 1 && h <= nh) g->lo[s] = lo[h - 1], g->hi[s] = hi[h - 1];
    }
    return log_open(&g->hout, run_dir, RUNDIR_GRAD_HISTOGRAMS, append, hheader);
}

static void gl_step(void *st, const rec_view_t *v) {
    gradlog_t *g = st;
    if (v->step % g->every != 0) return;
    const model_t *m = v->model;
    const pct_spec_t *p = &v->cfg->log.percentiles;
    for (int s = 0; s < g->g.n_sites; s++) {
        const gs_site_t *site = &g->g.sites[s];
        gs_moments_t mo;
        gradstats_site(&mo, &g->g, m, s, v->batch, p->q, p->n_q);
        wfile_printf(&g->out, "%ld,%d,%d,%s,%s,%zu,%.9g,%.9g,%.9g", v->step, site->hidden, site->layer,
                     layer_kind_name(m->layers[site->layer].spec.kind),
                     site->where == GS_ACT_INPUT ? "act_input" : "norm_output", mo.n, mo.mean, mo.std, mo.absmax);
        for (int k = 0; k < p->n_q; k++) wfile_printf(&g->out, ",%.9g", mo.q[k]);
        if (site->where == GS_ACT_INPUT) {
            if (!(g->lo[s] < g->hi[s])) {  // the first histogram of this layer fixes its edges
                double a = 4 * sqrt(mo.std * mo.std + mo.mean * mo.mean);
                if (!(a > 0) || !isfinite(a)) a = 1;
                g->lo[s] = -a, g->hi[s] = a;
            }
            memset(g->count, 0, sizeof *g->count * (size_t)g->bins);
            size_t n = gradstats_hist(&g->g, m, s, v->batch, g->lo[s], g->hi[s], g->bins, g->count);
            wfile_printf(&g->hout, "%ld,%d,%d,%s,%d,%zu,%.17g,%.17g", v->step, site->hidden, site->layer,
                         layer_kind_name(m->layers[site->layer].spec.kind), m->layers[site->layer].out, n, g->lo[s],
                         g->hi[s]);
            for (int j = 0; j < g->bins; j++) wfile_printf(&g->hout, ",%llu", (unsigned long long)g->count[j]);
            wfile_printf(&g->hout, "\n");
            int dead;
            double sat;
            gradstats_units(&g->g, m, site->hidden - 1, v->batch, &dead, &sat);
            wfile_printf(&g->out, ",%d,", dead);
            if (sat >= 0) wfile_printf(&g->out, "%.9g", sat);
            wfile_printf(&g->out, "\n");
        } else {
            wfile_printf(&g->out, ",,\n");
        }
    }
    wfile_flush(&g->out);
    wfile_flush(&g->hout);
}

static int gl_check(const void *st) {
    const gradlog_t *g = st;
    return wfile_check(&g->out) != 0 || wfile_check(&g->hout) != 0 ? -1 : 0;
}
static int gl_close(void *st) {
    gradlog_t *g = st;
    int a = wfile_close(&g->out), b = wfile_close(&g->hout);
    return a != 0 || b != 0 ? -1 : 0;
}
static void gl_free(void *st) {
    gradlog_t *g = st;
    gradstats_free(&g->g);
    free(g->lo), free(g->hi), free(g->count);
}

const recorder_t GRADIENTS_RECORDER = {
    .name = "gradients",
    .files = {{RUNDIR_GRADIENTS, NULL, REC_RESUME_BEFORE_UPDATE, REC_CSV, .expect = 1},
              {RUNDIR_GRAD_HISTOGRAMS, NULL, REC_RESUME_BEFORE_UPDATE, REC_CSV}},
    .enabled = gl_enabled, .turn_on = "log.gradients_every=20",
    .state_size = sizeof(gradlog_t),
    .init = gl_init, .open = gl_open, .on_step = gl_step, .check = gl_check, .close = gl_close, .free = gl_free,
};
