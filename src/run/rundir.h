// rundir.h — a run directory's own files (config.json, summary.json, checkpoints/, its lock ...), the statuses
// summary.json records, where a comparison puts each run (OUT/VARIANT/seed-K), the two questions asked of a run that
// stopped: did it complete, and which logged rows does a resume keep. The logs are not here: each log's file names and
// headers are its recorder's (run/recorder.h), in its own header (run/unitlog.h RUNDIR_UNIT_UPDATES ...), and the
// table of recorders lists them all (run/runfiles.h: every file a run writes). Everything else names these files
// through the macros; readers find CSV columns by the header names.
#ifndef BNLAB_RUNDIR_H
#define BNLAB_RUNDIR_H

#include <stddef.h>

// A run directory (bnlab train --out DIR).
#define RUNDIR_CONFIG "config.json"            // the resolved config
#define RUNDIR_ENVIRONMENT "environment.json"  // version, BLAS threads, flush-to-zero, GEMM backend
#define RUNDIR_SUMMARY "summary.json"          // written last: "status" (below), steps, accuracies, seconds
#define RUNDIR_REPORT "report.html"           // bnlab report: one self-contained page (lab/report.h)
#define RUNDIR_CHECKPOINTS "checkpoints"       // a folder of step-NNNNNNNNN.safetensors
#define RUNDIR_PLOTS "plots"                   // bnlab plot's PNGs and gnuplot scripts (runs and comparisons)
#define RUNDIR_LOCK ".lock"                    // locked by the one process writing the directory; holds its PID
#define RUNDIR_DIGEST "config.digest"          // the fingerprint of the resolved config the run started with

// The headers two logs build from the config (with their newline): percentiles.csv ends with one column per
// configured percentile; histograms.csv and gradient_histograms.csv with one per bin.
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
// The PID holding dir/.lock: 0 if nobody (or no lock file), -1 if held by a process that has not said which. Reads
// only: a shared flock tried and dropped.
long rundir_lock_holder(const char *dir);

// 0 if dir is missing or empty (a lock alone is no content: it may be our own, rundir_lock) or force is set; else -1 +
// "DIR already exists and is not empty; pass --force to overwrite it or --out DIR to choose another".
int rundir_check_empty(const char *dir, int force);
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

// dir/name (a JSON file of a run or comparison: summary.json, config.json ...) parsed whole; NULL if it is missing,
// unreadable, over 16 MiB or not JSON (a run still going, or one from before the file existed).
struct cJSON *rundir_read_json(const char *dir, const char *name);

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
