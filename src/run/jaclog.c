#include "run/jaclog.h"

#include "run/rundir.h"

static int jl_enabled(const config_t *c) { return c->log.jacobian_every > 0 && c->log.probe_size > 0; }

static int jl_init(void *st, const rec_view_t *v) {
    jaclog_t *j = st;
    j->every = v->cfg->log.jacobian_every;
    j->B = (int)v->probe_n < v->cfg->train.batch_size ? (int)v->probe_n : v->cfg->train.batch_size;
    if (j->B > v->model->max_batch) j->B = v->model->max_batch;
    j->full = j->B < JACLOG_FULL_BATCH ? j->B : JACLOG_FULL_BATCH;
    if (j->full < 2) j->full = 0;
    return jac_init(&j->j, v->model, j->full);
}

static void jl_rows(jaclog_t *j, const rec_view_t *v) {
    if (j->B < 1) return;
    model_t *m = v->model;
    for (int which = 0; which < 2; which++) {
        const int B = which ? j->full : j->B;
        if (B < 1) continue;
        dataset_gather_range(v->test, v->pp, 0, B, v->x, v->y);
        jac_forward(&j->j, m, v->x, B);
        for (int k = 0; k < j->j.n_blocks; k++) {  // (a) for every measured block, (b) where it fits
            const jac_block_t *b = &j->j.blocks[k];
            if (b->unsupported || (which && !jac_batch_fits(&j->j, k))) continue;
            long n = which ? jac_batch_sv(&j->j, m, k, B) : jac_example_sv(&j->j, m, k, B);
            if (n < 0) continue;  // a LAPACK failure: no row (never seen; sgesdd converges on finite input)
            jac_summary_t s;
            jac_summarize(&s, j->j.sv, (size_t)n, which && b->norm >= 0 ? 2 * (size_t)b->out : 0, j->j.sort_tmp);
            wfile_printf(&j->out, "%ld,%d,%d,%d,%s,%zu,%.9g,%.9g,%.9g,%.9g,%.9g\n", v->step, k, b->first, b->norm >= 0,
                         which ? "batch" : "example", s.n, s.median, s.p10, s.p90, s.max, s.frac_near1);
        }
    }
    wfile_flush(&j->out);
}

static int jl_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    jaclog_t *j = st;
    if (log_open(&j->out, run_dir, RUNDIR_JACOBIAN, append, RUNDIR_JACOBIAN_HEADER) != 0) return -1;
    if (!append && v->step == 0) jl_rows(j, v);  // the initialization
    return 0;
}

static void jl_after(void *st, const rec_view_t *v) {
    jaclog_t *j = st;
    if (v->step % j->every == 0 || v->last) jl_rows(j, v);
}

static int jl_check(const void *st) { return wfile_check(&((const jaclog_t *)st)->out); }
static int jl_close(void *st) { return wfile_close(&((jaclog_t *)st)->out); }
static void jl_free(void *st) { jac_free(&((jaclog_t *)st)->j); }

const recorder_t JACOBIAN_RECORDER = {
    .name = "jacobian",
    .files = {{RUNDIR_JACOBIAN, RUNDIR_JACOBIAN_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1}},
    .enabled = jl_enabled, .turn_on = "log.jacobian_every=60",
    .state_size = sizeof(jaclog_t),
    .init = jl_init, .open = jl_open, .after_step = jl_after, .check = jl_check, .close = jl_close, .free = jl_free,
};
