// runlog.h — the run directory's two standing logs, each a recorder (run/recorder.h; rows in run/recorders.c):
//   metrics   metrics.jsonl + metrics.csv, one row per evaluation (on_eval; step 0: the initial network);
//   layer_stats   layer_stats.csv, per epoch (on_epoch) per layer per source: "train" (the epoch's training
//             batches), "probe" (the probe images in evaluation mode) and "probe_train" (the same images in training
//             mode, nothing updated).
// Their names and headers are in rundir.h. Every row is written whole with one write() and checked (base/util.h
// wfile_t): a killed run leaves complete lines, and a failed write (full disk, file-size limit) is kept until the
// run asks the recorder's check. Non-finite numbers are written as null (JSON) / empty (CSV).
#ifndef BNLAB_RUNLOG_H
#define BNLAB_RUNLOG_H

#include "base/util.h"
#include "run/recorder.h"
#include "run/stats.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_METRICS_JSONL "metrics.jsonl"   // one JSON object per evaluation, keyed like metrics.csv
#define RUNDIR_METRICS_CSV "metrics.csv"       // one row per evaluation
#define RUNDIR_LAYER_STATS "layer_stats.csv"   // per epoch, per source, per layer
#define RUNDIR_METRICS_HEADER "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n"
// With log.eval_batch_stats: the same, then the test set once more with each batch's own BN statistics.
#define RUNDIR_METRICS_HEADER_BATCHSTATS \
    "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,test_loss_batchstats,test_acc_batchstats\n"
#define RUNDIR_LAYER_STATS_HEADER "epoch,step,source,layer,layer_type,units,mean,std,min,max,frac_saturated\n"

typedef struct {
    wfile_t jsonl, csv;
    int batch_stats;  // rows carry test_loss_batchstats, test_acc_batchstats (log.eval_batch_stats)
} metrics_log_t;

typedef struct {
    wfile_t out;
    act_stats_t probe;  // the probe passes' statistics (scratch, allocated by init)
} layer_stats_log_t;

extern const recorder_t METRICS_RECORDER, LAYER_STATS_RECORDER;

#endif
