#include "run/runlog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "run/rundir.h"

FILE *log_open(const char *dir, const char *name, int append, const char *header) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, name);
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f) {
        bnlab_fail("%s: cannot open for writing: %s", path, strerror(errno));
        return NULL;
    }
    if (!append && header) {
        fputs(header, f);
        fflush(f);
    }
    return f;
}

int runlog_open(runlog_t *r, const char *dir, int append) {
    memset(r, 0, sizeof *r);
    if (!(r->jsonl = log_open(dir, RUNDIR_METRICS_JSONL, append, NULL)) ||
        !(r->csv = log_open(dir, RUNDIR_METRICS_CSV, append, RUNDIR_METRICS_HEADER)) ||
        !(r->stats = log_open(dir, RUNDIR_LAYER_STATS, append, RUNDIR_LAYER_STATS_HEADER))) {
        runlog_close(r);
        return -1;
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
    double v[] = {m->epoch, m->train_loss, m->train_acc, m->test_loss, m->test_acc, m->lr, m->seconds};
    char s[7][32], c[7][32];
    for (int i = 0; i < 7; i++) {
        num_json(s[i], sizeof s[i], v[i]);
        num_csv(c[i], sizeof c[i], v[i]);
    }
    fprintf(r->jsonl,
            "{\"step\":%ld,\"epoch\":%s,\"train_loss\":%s,\"train_acc\":%s,\"test_loss\":%s,\"test_acc\":%s,"
            "\"lr\":%s,\"seconds\":%s}\n",
            m->step, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    fprintf(r->csv, "%ld,%s,%s,%s,%s,%s,%s,%s\n", m->step, c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
    fflush(r->jsonl);
    fflush(r->csv);
}

void runlog_layer_stats(runlog_t *r, long epoch, long step, const char *source, const model_t *m,
                        const act_stats_t *s) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        double mean, std, sat;
        act_acc_summary(&s->acc[i], l->spec.kind == LAYER_SIGMOID, &mean, &std, &sat);
        char b[5][32];
        num_csv(b[0], 32, mean);
        num_csv(b[1], 32, std);
        num_csv(b[2], 32, s->acc[i].min);
        num_csv(b[3], 32, s->acc[i].max);
        if (sat >= 0) num_csv(b[4], 32, sat);
        else b[4][0] = '\0';
        fprintf(r->stats, "%ld,%ld,%s,%d,%s,%d,%s,%s,%s,%s,%s\n", epoch, step, source, i,
                layer_kind_name(l->spec.kind), l->out, b[0], b[1], b[2], b[3], b[4]);
    }
    fflush(r->stats);
}

void runlog_close(runlog_t *r) {
    if (r->jsonl) fclose(r->jsonl);
    if (r->csv) fclose(r->csv);
    if (r->stats) fclose(r->stats);
    memset(r, 0, sizeof *r);
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
