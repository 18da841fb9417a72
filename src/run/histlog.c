#include "run/histlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/csvtable.h"
#include "nn/registry.h"
#include "run/binning.h"
#include "run/infer.h"
#include "run/rundir.h"

static void histlog_step(void *st, const rec_view_t *v);
static int histlog_close(void *st);

// 1 if RUN_DIR's histograms.csv exists with a header line that lacks the under and over columns (a log written
// before bnlab recorded them): a resumed run appends rows of that header's shape.
static int old_header(const char *run_dir) {
    char path[BNLAB_PATH_MAX], line[256];
    rundir_file(path, sizeof path, run_dir, RUNDIR_HISTOGRAMS);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int old = fgets(line, sizeof line, f) != NULL && strncmp(line, RUNDIR_HISTOGRAMS_FIXED ",under,over,", strlen(RUNDIR_HISTOGRAMS_FIXED ",under,over,")) != 0;
    fclose(f);
    return old;
}

static int histlog_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    histlog_t *h = st;
    const config_t *c = v->cfg;
    memset(h, 0, sizeof *h);
    h->probe_n = v->probe_n;
    if (c->log.histograms.every <= 0 || h->probe_n == 0) return 0;
    const model_t *m = v->model;
    h->every = c->log.histograms.every, h->bins = c->log.histograms.bins;
    h->src = xmalloc(sizeof(int) * (size_t)(m->n_layers + 1), "histogram layers");
    for (int i = 1; i < m->n_layers; i++)  // a nonlinearity at index 0 would measure the data itself
        if (layer_kind(m->layers[i].spec.kind)->nonlinearity) h->src[h->n_hidden++] = i - 1;
    size_t nh = (size_t)h->n_hidden + 1;
    h->lo = xcalloc(nh, sizeof(double), "histogram edges"), h->hi = xcalloc(nh, sizeof(double), "histogram edges");
    h->min = xcalloc(nh, sizeof(double), "histogram range"), h->max = xcalloc(nh, sizeof(double), "histogram range");
    h->count = xcalloc(nh * (size_t)h->bins, sizeof(uint64_t), "histogram counts");
    h->n = xcalloc(nh, sizeof(uint64_t), "histogram counts");
    h->under = xcalloc(nh, sizeof(uint64_t), "histogram counts"), h->over = xcalloc(nh, sizeof(uint64_t), "histogram counts");
    h->old_format = append && old_header(run_dir);
    for (int k = 0; k < h->n_hidden; k++)
        if (!c->log.histograms.adaptive) h->lo[k] = c->log.histograms.lo, h->hi[k] = c->log.histograms.hi;
    h->on = 1;
    char header[8192];
    rundir_histograms_header(header, sizeof header, h->bins, 1);
    char kept[BNLAB_PATH_MAX];  // a resumed run's adaptive edges: the first row of each layer it kept
    rundir_file(kept, sizeof kept, run_dir, RUNDIR_HISTOGRAMS);
    if ((append && c->log.histograms.adaptive && hist_edges_read(kept, h->n_hidden, h->lo, h->hi) != 0) ||
        log_open(&h->out, run_dir, RUNDIR_HISTOGRAMS, append, header) != 0) {
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        histlog_close(h);
        return bnlab_fail("%s", msg);
    }
    if (v->step == 0) {
        rec_view_t first = *v;
        first.last = 1;  // the initialization's histograms, whatever every is
        histlog_step(h, &first);
    }
    return 0;
}

static void range_pass(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    histlog_t *h = ctx;
    for (int k = 0; k < h->n_hidden; k++) {
        if (h->lo[k] < h->hi[k]) continue;
        const layer_t *l = &m->layers[h->src[k]];
        for (size_t i = 0, n = (size_t)B * (size_t)l->out; i < n; i++) {
            double y = l->y[i];
            if (!isfinite(y)) continue;
            if (y < h->min[k]) h->min[k] = y;
            if (y > h->max[k]) h->max[k] = y;
        }
    }
}

static void count_pass(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    histlog_t *h = ctx;
    for (int k = 0; k < h->n_hidden; k++) {  // the binning rule is run/binning.h's, shared with gradient histograms
        const layer_t *l = &m->layers[h->src[k]];
        h->n[k] += hist_count(h->count + (size_t)k * (size_t)h->bins, l->y, (size_t)B * (size_t)l->out, h->lo[k],
                              h->hi[k], h->bins);
        hist_outside(&h->under[k], &h->over[k], l->y, (size_t)B * (size_t)l->out, h->lo[k], h->hi[k]);
    }
}

// After an update: the histograms, if the step is a multiple of every or the run's last.
static void histlog_step(void *st, const rec_view_t *v) {
    histlog_t *h = st;
    const long step = v->step;
    if (!h->on || (step % h->every != 0 && !v->last)) return;
    int unfixed = 0;
    for (int k = 0; k < h->n_hidden; k++)
        if (!(h->lo[k] < h->hi[k])) unfixed = 1, h->min[k] = INFINITY, h->max[k] = -INFINITY;
    if (unfixed) {
        rec_probe_pass(v, h->probe_n, MODE_TRAIN_FROZEN, range_pass, h, NULL);
        for (int k = 0; k < h->n_hidden; k++) {
            if (h->lo[k] < h->hi[k]) continue;
            if (!(h->min[k] <= h->max[k])) h->min[k] = h->max[k] = 0;  // no finite value at all
            double mid = 0.5 * (h->min[k] + h->max[k]), half = h->max[k] - h->min[k];
            if (!(half > 0)) half = mid != 0 ? fabs(mid) : 1;
            h->lo[k] = mid - half, h->hi[k] = mid + half;
        }
    }
    memset(h->count, 0, sizeof(uint64_t) * (size_t)h->n_hidden * (size_t)h->bins);
    memset(h->n, 0, sizeof(uint64_t) * (size_t)h->n_hidden);
    memset(h->under, 0, sizeof(uint64_t) * (size_t)h->n_hidden), memset(h->over, 0, sizeof(uint64_t) * (size_t)h->n_hidden);
    rec_probe_pass(v, h->probe_n, MODE_TRAIN_FROZEN, count_pass, h, NULL);
    for (int k = 0; k < h->n_hidden; k++) {
        const layer_t *l = &v->model->layers[h->src[k]];
        wfile_printf(&h->out, "%ld,%d,%d,%s,%d,%llu,%.17g,%.17g", step, k + 1, h->src[k],
                     layer_kind_name(l->spec.kind), l->out, (unsigned long long)h->n[k], h->lo[k], h->hi[k]);
        if (!h->old_format)
            wfile_printf(&h->out, ",%llu,%llu", (unsigned long long)h->under[k], (unsigned long long)h->over[k]);
        const uint64_t *cnt = h->count + (size_t)k * (size_t)h->bins;
        for (int j = 0; j < h->bins; j++) wfile_printf(&h->out, ",%llu", (unsigned long long)cnt[j]);
        wfile_printf(&h->out, "\n");
    }
    wfile_flush(&h->out);
}

static int histlog_check(const void *st) {
    const histlog_t *h = st;
    return h->on ? wfile_check(&h->out) : 0;
}

static int histlog_close(void *st) {
    histlog_t *h = st;
    int rc = h->on ? wfile_close(&h->out) : 0;
    free(h->src), free(h->lo), free(h->hi), free(h->min), free(h->max), free(h->count), free(h->n), free(h->under), free(h->over);
    memset(h, 0, sizeof *h);
    return rc;
}

static int histlog_enabled(const config_t *c) { return c->log.histograms.every > 0 && c->log.probe_size > 0; }

const recorder_t HISTOGRAMS_RECORDER = {
    .name = "histograms",
    .files = {{RUNDIR_HISTOGRAMS, NULL, REC_RESUME_AFTER_UPDATE, REC_CSV}},
    .enabled = histlog_enabled, .turn_on = "log.histograms.every=30",
    .state_size = sizeof(histlog_t),
    .open = histlog_open, .after_step = histlog_step, .check = histlog_check, .close = histlog_close,
};
