#include "run/runlog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/registry.h"
#include "run/rundir.h"

// ---- metrics.jsonl, metrics.csv

static int metrics_open(void *st, const rec_view_t *v, const char *dir, int append) {
    metrics_log_t *r = st;
    r->batch_stats = v->cfg->log.eval_batch_stats;
    const char *header = r->batch_stats ? RUNDIR_METRICS_HEADER_BATCHSTATS : RUNDIR_METRICS_HEADER;
    if (log_open(&r->jsonl, dir, RUNDIR_METRICS_JSONL, append, NULL) != 0 ||
        log_open(&r->csv, dir, RUNDIR_METRICS_CSV, append, header) != 0)
        return -1;  // the session closes every recorder
    return 0;
}

// "%.9g" round-trips a float exactly and is locale-free for the C locale we run in.
static void num_json(char *b, size_t cap, double v) {
    if (isfinite(v)) snprintf(b, cap, "%.9g", v);
    else snprintf(b, cap, "null");
}
static void num_csv(char *b, size_t cap, double v) {
    if (isfinite(v)) snprintf(b, cap, "%.9g", v);
    else b[0] = '\0';
}

static void metrics_row(void *st, const rec_view_t *view) {
    metrics_log_t *r = st;
    const metrics_row_t *m = view->row;
    double v[] = {m->epoch, m->train_loss, m->train_acc, m->test_loss, m->test_acc, m->lr, m->seconds,
                  m->test_loss_bs, m->test_acc_bs};
    char s[9][32], c[9][32];
    for (int i = 0; i < 9; i++) {
        num_json(s[i], sizeof s[i], v[i]);
        num_csv(c[i], sizeof c[i], v[i]);
    }
    // One write per row each: the optional columns go into the same line before it is written.
    char js[128] = "", cs[72] = "";
    if (r->batch_stats) {
        snprintf(js, sizeof js, ",\"test_loss_batchstats\":%s,\"test_acc_batchstats\":%s", s[7], s[8]);
        snprintf(cs, sizeof cs, ",%s,%s", c[7], c[8]);
    }
    wfile_printf(&r->jsonl,
                 "{\"step\":%ld,\"epoch\":%s,\"train_loss\":%s,\"train_acc\":%s,\"test_loss\":%s,\"test_acc\":%s,"
                 "\"lr\":%s,\"seconds\":%s%s}\n",
                 m->step, s[0], s[1], s[2], s[3], s[4], s[5], s[6], js);
    wfile_printf(&r->csv, "%ld,%s,%s,%s,%s,%s,%s,%s%s\n", m->step, c[0], c[1], c[2], c[3], c[4], c[5], c[6], cs);
    wfile_flush(&r->jsonl);
    wfile_flush(&r->csv);
}

static int metrics_check(const void *st) {
    const metrics_log_t *r = st;
    return wfile_check(&r->jsonl) != 0 || wfile_check(&r->csv) != 0 ? -1 : 0;
}

static int metrics_close(void *st) {
    metrics_log_t *r = st;
    char first[BNLAB_ERRMSG_MAX] = "";  // both are closed; the message is the first failure's
    if (wfile_close(&r->jsonl) != 0) snprintf(first, sizeof first, "%s", bnlab_errmsg());
    if (wfile_close(&r->csv) != 0 && !first[0]) snprintf(first, sizeof first, "%s", bnlab_errmsg());
    return first[0] ? bnlab_fail("%s", first) : 0;
}

const recorder_t METRICS_RECORDER = {
    .name = "metrics",
    .files = {{RUNDIR_METRICS_CSV, NULL, REC_RESUME_AFTER_UPDATE, REC_CSV, .clock = 1, .wall_time = 1, .expect = 1},
              {RUNDIR_METRICS_JSONL, NULL, REC_RESUME_AFTER_UPDATE, REC_JSONL, .wall_time = 1}},
    .state_size = sizeof(metrics_log_t),
    .open = metrics_open, .on_eval = metrics_row, .check = metrics_check, .close = metrics_close,
};

// ---- layer_stats.csv

static void layer_stats_rows(wfile_t *w, long epoch, long step, const char *source, const model_t *m,
                             const act_stats_t *s) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        double mean, std, sat;
        act_acc_summary(&s->acc[i], layer_kind(l->spec.kind)->saturates, &mean, &std, &sat);
        char b[5][32];
        num_csv(b[0], 32, mean);
        num_csv(b[1], 32, std);
        num_csv(b[2], 32, s->acc[i].min);
        num_csv(b[3], 32, s->acc[i].max);
        if (sat >= 0) num_csv(b[4], 32, sat);
        else b[4][0] = '\0';
        wfile_printf(w, "%ld,%ld,%s,%d,%s,%d,%s,%s,%s,%s,%s\n", epoch, step, source, i, layer_kind_name(l->spec.kind),
                     l->out, b[0], b[1], b[2], b[3], b[4]);
    }
    wfile_flush(w);
}

static int layer_stats_init(void *st, const rec_view_t *v) {
    layer_stats_log_t *r = st;
    act_stats_init(&r->probe, v->model->n_layers);
    return 0;
}

static int layer_stats_open(void *st, const rec_view_t *v, const char *dir, int append) {
    (void)v;
    layer_stats_log_t *r = st;
    return log_open(&r->out, dir, RUNDIR_LAYER_STATS, append, RUNDIR_LAYER_STATS_HEADER);
}

static void add_probe_batch(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    act_stats_add(ctx, m, B);
}

// The epoch's training batches, the probe images in evaluation mode, and the same images in training mode (dropout
// on, BN on batch statistics, nothing updated): the train/eval mismatch of each layer's input (Li et al. 2018's
// variance shift) on equal data.
static void layer_stats_epoch(void *st, const rec_view_t *v) {
    layer_stats_log_t *r = st;
    layer_stats_rows(&r->out, v->epoch, v->step, "train", v->model, v->epoch_stats);
    if (v->probe_n == 0) return;
    act_stats_reset(&r->probe);
    rec_probe_pass(v, v->probe_n, MODE_EVAL, add_probe_batch, &r->probe, NULL);
    layer_stats_rows(&r->out, v->epoch, v->step, "probe", v->model, &r->probe);
    act_stats_reset(&r->probe);
    rec_probe_pass(v, v->probe_n, MODE_TRAIN_FROZEN, add_probe_batch, &r->probe, NULL);
    layer_stats_rows(&r->out, v->epoch, v->step, "probe_train", v->model, &r->probe);
}

static int layer_stats_check(const void *st) { return wfile_check(&((const layer_stats_log_t *)st)->out); }
static int layer_stats_close(void *st) { return wfile_close(&((layer_stats_log_t *)st)->out); }
static void layer_stats_free(void *st) { act_stats_free(&((layer_stats_log_t *)st)->probe); }

const recorder_t LAYER_STATS_RECORDER = {
    .name = "layer_stats",
    .files = {{RUNDIR_LAYER_STATS, RUNDIR_LAYER_STATS_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1}},
    .state_size = sizeof(layer_stats_log_t),
    .init = layer_stats_init, .open = layer_stats_open, .on_epoch = layer_stats_epoch, .check = layer_stats_check,
    .close = layer_stats_close, .free = layer_stats_free,
};
