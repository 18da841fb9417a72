// rundir.h — the one place that knows a run directory's layout: the name of every file in it, the header of
// every log, the statuses summary.json records, where a comparison puts each run (OUT/VARIANT/seed-K), and the
// two questions asked of a run that stopped: did it complete, and which logged rows does a resume keep.
// Everything else names these files through the macros below; readers find CSV columns by these header names.
#ifndef BNLAB_RUNDIR_H
#define BNLAB_RUNDIR_H

#include <stddef.h>

// A run directory (bnlab train --out DIR).
#define RUNDIR_CONFIG "config.json"            // the resolved config
#define RUNDIR_ENVIRONMENT "environment.json"  // version, BLAS threads, flush-to-zero, GEMM backend
#define RUNDIR_SUMMARY "summary.json"          // written last: "status" (below), steps, accuracies, seconds
#define RUNDIR_METRICS_JSONL "metrics.jsonl"   // one JSON object per evaluation, keyed like metrics.csv
#define RUNDIR_METRICS_CSV "metrics.csv"       // one row per evaluation
#define RUNDIR_LAYER_STATS "layer_stats.csv"   // per epoch, per source, per layer
#define RUNDIR_PERCENTILES "percentiles.csv"   // every log.percentiles.every steps
#define RUNDIR_ICS "ics.csv"                   // every log.ics_every steps
#define RUNDIR_LANDSCAPE "landscape.csv"       // every log.landscape.every steps: one row per step size (landscape.h)
#define RUNDIR_LANDSCAPE_BAND "landscape_band.csv"  // the same probes: one row each, bands over η and β_eff
#define RUNDIR_PARAM_STATS "param_stats.csv" // log.param_stats: per evaluation, one row per parameter tensor (paramlog.h)
#define RUNDIR_HISTOGRAMS "histograms.csv"     // every log.histograms.every steps: one row per hidden layer (histlog.h)
#define RUNDIR_UPDATE_RATIOS "update_ratios.csv"  // every log.update_ratios_every steps: per tensor (updatelog.h)
#define RUNDIR_GRADIENTS "gradients.csv"       // every log.gradients_every steps: per gradient site (gradlog.h)
#define RUNDIR_GRAD_HISTOGRAMS "gradient_histograms.csv"  // with log.gradients_every: per hidden layer (gradlog.h)
#define RUNDIR_JACOBIAN "jacobian.csv"         // every log.jacobian_every steps: per hidden block (jaclog.h)
#define RUNDIR_CURVATURE "curvature.csv"  // every log.curvature_every steps: Hessian top eigenvalue (curvature.h)
#define RUNDIR_UNIT_UPDATES "unit_updates.csv"  // every log.unit_updates_every steps: per dense layer (unitlog.h)
#define RUNDIR_REPORT "report.html"           // bnlab report: one self-contained page (lab/report.h)
#define RUNDIR_CHECKPOINTS "checkpoints"       // a folder of step-NNNNNNNNN.safetensors
#define RUNDIR_PLOTS "plots"                   // bnlab plot's PNGs and gnuplot scripts (runs and comparisons)
#define RUNDIR_LOCK ".lock"                    // locked by the one process writing the directory; holds its PID
#define RUNDIR_DIGEST "config.digest"          // the fingerprint of the resolved config the run started with

// The logs' headers (with their newline). percentiles.csv ends with one column per configured percentile:
// rundir_percentiles_header().
#define RUNDIR_METRICS_HEADER "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n"
// With log.eval_batch_stats: the same, then the test set once more with each batch's own BN statistics.
#define RUNDIR_METRICS_HEADER_BATCHSTATS \
    "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,test_loss_batchstats,test_acc_batchstats\n"
#define RUNDIR_LAYER_STATS_HEADER "epoch,step,source,layer,layer_type,units,mean,std,min,max,frac_saturated\n"
#define RUNDIR_PARAM_STATS_HEADER "step,epoch,layer,layer_type,tensor,n,norm,grad_norm,mean,std,eff_step\n"
#define RUNDIR_UPDATE_RATIOS_HEADER "step,layer,layer_type,tensor,n,update_norm_ratio,update_std_ratio,grad_std_ratio\n"
#define RUNDIR_GRADIENTS_FIXED "step,hidden,layer,layer_type,where,n,mean,std,absmax"
// RUNDIR_GRADIENTS_FIXED, ",p%g" per log.percentiles.q, then ",dead_units,frac_saturated\n" (gradlog.c builds it).
#define RUNDIR_JACOBIAN_HEADER "step,block,layer,norm,which,n,median,p10,p90,max,frac_near1\n"
#define RUNDIR_CURVATURE_HEADER "step,lr,batch_loss,grad_norm,sharpness,top_eig,top_eig_change,two_over_lr\n"
#define RUNDIR_UNIT_UPDATES_HEADER                                                                                  \
    "step,layer,tensor,units,bn_after,lr,norm_mean,eff_lr_mean,eff_lr_min,eff_lr_max,angle_mean,angle_rms,angle_min," \
    "angle_max\n"
#define RUNDIR_ICS_HEADER "step,layer,dense,grad_norm,l2_diff,cosine\n"
#define RUNDIR_LANDSCAPE_HEADER "step,eta,lr,loss,grad_diff,grad_norm,beta\n"
#define RUNDIR_LANDSCAPE_BAND_HEADER \
    "step,lr,grad_norm,batch_loss,loss_min,loss_max,grad_diff_min,grad_diff_max,beta_eff\n"
#define RUNDIR_PERCENTILES_FIXED "step,hidden,layer,layer_type,unit,n"
// RUNDIR_PERCENTILES_FIXED then ",p15,p50,p85" (one "p%g" per q) and a newline, into out (cap bytes; aborts if
// it does not fit, a bug: the config bounds the number of percentiles).
void rundir_percentiles_header(char *out, size_t cap, const double *q, int n_q);

#define RUNDIR_HISTOGRAMS_FIXED "step,hidden,layer,layer_type,units,n,lo,hi"
// RUNDIR_HISTOGRAMS_FIXED, then (outside = 1: histograms.csv, run/histlog.h) ",under,over", then ",c0,...,c{bins-1}"
// (bin counts) and a newline, into out (aborts if it does not fit cap, a bug: the config bounds bins).
// gradient_histograms.csv (run/gradlog.h) has no under, over columns.
void rundir_histograms_header(char *out, size_t cap, int bins, int outside);

// A comparison or sweep directory (bnlab compare/sweep --out OUT).
#define CMPDIR_SPEC "compare.json"    // the expanded spec: variants, seeds, targets
#define CMPDIR_SUMMARY "summary.json" // over the variants' completed seeds
#define CMPDIR_SUMMARY_MD "summary.md"
#define CMPDIR_CURVES "curves.csv"
#define CMPDIR_CURVES_HEADER "variant,step,n,median,min,max\n"
#define CMPDIR_JOBS "jobs.txt"        // --emit: one shell command per run
#define CMPDIR_SBATCH "sweep.sbatch"  // --emit slurm: the job array
#define CMPDIR_SWEEP_CSV "sweep.csv"
#define CMPDIR_SWEEP_MD "sweep.md"
// out = DIR/NAME (aborts if it does not fit cap: the CLI bounds directory arguments).
void rundir_file(char *out, size_t cap, const char *dir, const char *name);
// out = OUT/VARIANT/seed-K, one run of a comparison.
void rundir_of_seed(char *out, size_t cap, const char *cmp_dir, const char *variant, long seed);
// out = OUT/VARIANT/seed-K.log, that run's console output (beside its directory, so --force can clear the run).
void rundir_seed_log(char *out, size_t cap, const char *cmp_dir, const char *variant, long seed);

// One writer per directory (a run's, or a comparison's): takes an exclusive flock on DIR/.lock (making DIR
// if needed) without waiting, and writes this process's PID into the file. Returns the lock's file descriptor,
// which the caller keeps open for as long as it writes (a CLI command: its whole life; it is close-on-exec, and
// children do not inherit it). -1 + message naming the directory and the PID of the process that holds it.
// A lock left by a process that died, even by SIGKILL, is no obstacle: the kernel drops it with the process.
int rundir_lock(const char *dir);

// Where a command may write (every CLI writer of a checkpoint, a run or comparison directory, a page or a CSV asks
// this before it writes a byte). out: the file (is_dir 0) or directory (is_dir 1) about to be written, existing
// or not; inputs: the n_inputs files the command reads (NULL entries are skipped). Refused, in this order:
//  - out is one of the inputs: the same file by device and inode (another spelling, a hard link or a symbolic
//    link is found too), or, for a directory, an input lies inside it;
//  - out lies inside a run directory's checkpoints/ (a directory with config.json around it): a file there is
//    taken for a checkpoint the run can resume from; or out is one of the files a run writes, in a run directory
//    (its logs, config.json, summary.json, ...; not report.html or plots/, which report and plot write there);
//  - out lies inside a live run or comparison: a directory on the way up whose .lock another process holds (the
//    lock of this process's parent is no obstacle: the runs of a comparison write inside its directory).
// 0 if allowed; -1 + one line naming out and why. Reads only: stat, realpath and a shared flock tried and dropped.
int rundir_check_output(const char *out, int is_dir, const char *const *inputs, int n_inputs);
// 0 if dir is missing or empty (a lock alone is no content: it may be our own, rundir_lock) or force is set; else -1 +
// "DIR already exists and is not empty; pass --force to overwrite it or --out DIR to choose another".
int rundir_check_empty(const char *dir, int force);
// 1 if name (a path relative to a run directory) is one of the files a run writes there, as rundir_check_output
// refuses them; every file of every recorder (run/recorders.h) must be one (tests/test_recorders.sh checks it).
int rundir_own_file(const char *name);

// The fingerprint of a resolved config (config_to_json): "fnv1a64:" and 16 hex digits of FNV-1a over its compact
// JSON text, into out (at least RUNDIR_DIGEST_CHARS bytes).
#define RUNDIR_DIGEST_CHARS 32
struct cJSON;
void rundir_config_digest(const struct cJSON *resolved, char *out);
// Writes dir/config.digest for this resolved config. -1 + message.
int rundir_write_digest(const char *dir, const struct cJSON *resolved);
// 1 if dir/config.digest is this resolved config's fingerprint: the run in dir was started with this very config.
// 0 otherwise (a different config, or no digest: a run from before digests, or one never started).
int rundir_same_config(const char *dir, const struct cJSON *resolved);
// Removes a run directory and everything in it (not following symbolic links); a missing one is fine. For a run
// that must start afresh: old checkpoints and logs must not mix with the new run's. -1 + message.
int rundir_remove(const char *dir);

// How a run ended, as summary.json's "status" says.
typedef enum { RUN_COMPLETED, RUN_DIVERGED, RUN_INTERRUPTED, RUN_FAILED, RUN_NO_STATUS } run_status_t;
// "completed", "diverged", "interrupted", "failed"; "no status" for RUN_NO_STATUS.
const char *run_status_name(run_status_t s);
// The status in dir/summary.json; RUN_NO_STATUS if the file is missing, unreadable, not JSON or names no status
// of the list (a run still going, or killed before it could write one).
run_status_t rundir_status(const char *dir);
// Did this run complete? The one test every reader uses: rundir_status(dir) == RUN_COMPLETED.
int rundir_completed(const char *dir);
// Removes dir/summary.json, if any, before a run is started again in dir: until the new run writes its own, the
// old "completed" must not speak for it. -1 + message.
int rundir_forget_status(const char *dir);

// Resuming a run at step S: truncates the log dir/file to what the run had logged when it had taken S steps, so
// the resumed run writes the rest again, identically (run/recorders.h walks every log's file with its rule). Rows
// are found by their "step" column (by name, in the CSV header) or, jsonl, the "step" key of a JSON line: rows
// logged after their step's update keep step <= S; before_update (logged with the step count before an update:
// percentiles, ICS, the landscape probes) keep step < S. A last line without its newline (a killed write) is
// dropped; a missing log is fine. seconds (NULL: not this log) receives the "seconds" column of the last kept row:
// the resumed run's clock continues from there. -1 + message (naming the file, and the column if a header lacks
// one).
int rundir_truncate_log(const char *dir, const char *file, int jsonl, int before_update, long step, double *seconds);

#endif
