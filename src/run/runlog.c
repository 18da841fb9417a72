#include "run/runlog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "run/rundir.h"

int log_open(wfile_t *w, const char *dir, const char *name, int append, const char *header) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, name);
    if (wfile_open(w, path, append) != 0) return -1;
    if (header && w->was_empty) {
        wfile_printf(w, "%s", header);
        wfile_flush(w);
    }
    return wfile_check(w);
}

int runlog_open(runlog_t *r, const char *dir, int append, int batch_stats) {
    memset(r, 0, sizeof *r);
    r->batch_stats = batch_stats;
    const char *header = batch_stats ? RUNDIR_METRICS_HEADER_BATCHSTATS : RUNDIR_METRICS_HEADER;
    if (log_open(&r->jsonl, dir, RUNDIR_METRICS_JSONL, append, NULL) != 0 ||
        log_open(&r->csv, dir, RUNDIR_METRICS_CSV, append, header) != 0 ||
        log_open(&r->stats, dir, RUNDIR_LAYER_STATS, append, RUNDIR_LAYER_STATS_HEADER) != 0) {
        char msg[BNLAB_ERRMSG_MAX];  // the open's message, not a close's
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        runlog_close(r);
        return bnlab_fail("%s", msg);
    }
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

void runlog_metrics(runlog_t *r, const metrics_row_t *m) {
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

void runlog_layer_stats(runlog_t *r, long epoch, long step, const char *source, const model_t *m,
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
        wfile_printf(&r->stats, "%ld,%ld,%s,%d,%s,%d,%s,%s,%s,%s,%s\n", epoch, step, source, i,
                     layer_kind_name(l->spec.kind), l->out, b[0], b[1], b[2], b[3], b[4]);
    }
    wfile_flush(&r->stats);
}

int runlog_check(const runlog_t *r) {
    return wfile_check(&r->jsonl) != 0 || wfile_check(&r->csv) != 0 || wfile_check(&r->stats) != 0 ? -1 : 0;
}

int runlog_close(runlog_t *r) {
    wfile_t *w[3] = {&r->jsonl, &r->csv, &r->stats};
    char first[BNLAB_ERRMSG_MAX] = "";  // every file is closed; the message is the first failure's
    for (int i = 0; i < 3; i++)
        if (wfile_close(w[i]) != 0 && !first[0]) snprintf(first, sizeof first, "%s", bnlab_errmsg());
    return first[0] ? bnlab_fail("%s", first) : 0;
}

int write_json(const char *dir, const char *name, const cJSON *json) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, name);
    char *text = cJSON_Print(json);
    if (!text) return bnlab_fail("%s: cannot serialize JSON", path);
    size_t n = strlen(text);
    text[n] = '\n';  // replace the terminator: the file ends with a newline
    int rc = write_file_atomic(path, text, n + 1);
    free(text);
    return rc;
}
