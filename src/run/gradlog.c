#include "run/gradlog.h"

#include <string.h>

#include "run/rundir.h"

static int gl_enabled(const config_t *c) { return c->log.gradients_every > 0; }

static int gl_init(void *st, const rec_view_t *v) {
    gradlog_t *g = st;
    g->every = v->cfg->log.gradients_every;
    return gradstats_init(&g->g, v->model);
}

static int gl_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    gradlog_t *g = st;
    const pct_spec_t *p = &v->cfg->log.percentiles;
    char header[512];
    path_fmt(header, sizeof header, "%s", RUNDIR_GRADIENTS_FIXED);
    for (int k = 0; k < p->n_q; k++) path_fmt(header + strlen(header), sizeof header - strlen(header), ",p%g", p->q[k]);
    path_fmt(header + strlen(header), sizeof header - strlen(header), ",dead_units,frac_saturated\n");
    return log_open(&g->out, run_dir, RUNDIR_GRADIENTS, append, header);
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
}

static int gl_check(const void *st) { return wfile_check(&((const gradlog_t *)st)->out); }
static int gl_close(void *st) { return wfile_close(&((gradlog_t *)st)->out); }
static void gl_free(void *st) { gradstats_free(&((gradlog_t *)st)->g); }

const recorder_t GRADIENTS_RECORDER = {
    .name = "gradients",
    .files = {{RUNDIR_GRADIENTS, NULL, REC_RESUME_BEFORE_UPDATE, REC_CSV, .expect = 1}},
    .enabled = gl_enabled, .turn_on = "log.gradients_every=20",
    .state_size = sizeof(gradlog_t),
    .init = gl_init, .open = gl_open, .on_step = gl_step, .check = gl_check, .close = gl_close, .free = gl_free,
};
