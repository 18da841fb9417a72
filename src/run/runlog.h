// runlog.h — the run directory's logs: metrics.jsonl + metrics.csv (one row per evaluation) and
// layer_stats.csv (one row per layer per epoch per source); their names and headers are in rundir.h, and so is
// the truncation of all of them when a run resumes. Every row is written whole and flushed, so a
// killed run leaves complete lines; non-finite numbers are written as null (JSON) / empty (CSV).
#ifndef BNLAB_RUNLOG_H
#define BNLAB_RUNLOG_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "nn/model.h"
#include "run/stats.h"

typedef struct {
    long step;
    double epoch;  // fractional: steps / steps_per_epoch
    double train_loss, train_acc;  // mean over the training batches since the previous row
    double test_loss, test_acc;    // whole test set, evaluation mode
    double lr, seconds;            // seconds: wall clock since training started (not deterministic)
} metrics_row_t;

typedef struct {
    FILE *jsonl, *csv, *stats;
} runlog_t;

// Creates the log files with their headers, or (append = 1, a resumed run) opens them for appending.
int runlog_open(runlog_t *r, const char *dir, int append);
// Opens dir/name for writing, or for appending; on a new file writes header. NULL + message on failure.
FILE *log_open(const char *dir, const char *name, int append, const char *header);
void runlog_metrics(runlog_t *r, const metrics_row_t *row);
// source: "train" (training-mode batches of the epoch) or "probe" (fixed probe set, evaluation mode).
void runlog_layer_stats(runlog_t *r, long epoch, long step, const char *source, const model_t *m,
                        const act_stats_t *s);
void runlog_close(runlog_t *r);

// Writes a cJSON tree, pretty-printed, atomically to dir/name. -1 + message.
int write_json(const char *dir, const char *name, const cJSON *json);

#endif
