// runlog.h — the run directory's logs: metrics.jsonl + metrics.csv (one row per evaluation) and
// layer_stats.csv (one row per layer per epoch per source); their names and headers are in rundir.h, and so is
// the truncation of all of them when a run resumes. Every row is written whole with one write() and checked
// (base/util.h wfile_t): a killed run leaves complete lines, and a failed write (full disk, file-size limit) is kept
// until the run asks runlog_check(). Non-finite numbers are written as null (JSON) / empty (CSV).
#ifndef BNLAB_RUNLOG_H
#define BNLAB_RUNLOG_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "base/util.h"
#include "nn/model.h"
#include "run/stats.h"

typedef struct {
    long step;     // 0: the initial network, before any update (its train columns are NaN: no batch was trained)
    double epoch;  // fractional: steps / steps_per_epoch
    double train_loss, train_acc;  // mean over the training batches since the previous row
    double test_loss, test_acc;    // whole test set, evaluation mode
    double lr, seconds;            // seconds: wall clock since training started (not deterministic)
    double test_loss_bs, test_acc_bs;  // log.eval_batch_stats: the test set with each batch's own BN statistics
} metrics_row_t;

typedef struct {
    wfile_t jsonl, csv, stats;
    int batch_stats;  // metrics rows carry test_loss_batchstats, test_acc_batchstats (log.eval_batch_stats)
} runlog_t;

// Creates the log files with their headers, or (append = 1, a resumed run) opens them for appending; batch_stats
// adds the two batch-statistics columns to metrics.csv / metrics.jsonl.
int runlog_open(runlog_t *r, const char *dir, int append, int batch_stats);
// Opens dir/name for writing, or for appending; writes header (if any) to a file that is new or empty — also when
// appending, so a log deleted before a resume comes back with its header. -1 + message.
int log_open(wfile_t *w, const char *dir, const char *name, int append, const char *header);
void runlog_metrics(runlog_t *r, const metrics_row_t *row);
// source: "train" (training-mode batches of the epoch) or "probe" (fixed probe set, evaluation mode).
void runlog_layer_stats(runlog_t *r, long epoch, long step, const char *source, const model_t *m,
                        const act_stats_t *s);
// -1 + message (the file, the OS error) if a write to any of the logs failed.
int runlog_check(const runlog_t *r);
// Closes the logs. -1 + message if a write or a close failed.
int runlog_close(runlog_t *r);

// Writes a cJSON tree, pretty-printed, atomically to dir/name. -1 + message.
int write_json(const char *dir, const char *name, const cJSON *json);

#endif
