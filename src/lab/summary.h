// summary.h — what a comparison reports: per run, final/best test accuracy and the first step reaching each
// target accuracy (read back from metrics.csv); per variant, median and range over seeds; between variants,
// the ratio of median steps-to-target (the paper's "BN needs far fewer steps" as one number).
//
// Resolution: a target is seen only at logged evaluations, so steps-to-target is rounded up to the next
// evaluation step (train.eval_every, and epoch ends).
#ifndef BNLAB_SUMMARY_H
#define BNLAB_SUMMARY_H

#include <cjson/cJSON.h>

#define SUMMARY_MAX_TARGETS 8

typedef struct {
    long *step;     // (n) evaluation steps
    double *acc;    // (n) test accuracy at those steps
    int n;
} curve_t;

typedef struct {
    int ok;                                 // the run completed and its metrics were read
    int diverged;                           // its summary.json says it diverged (then ok is 0)
    double final_acc, best_acc;
    long steps_to[SUMMARY_MAX_TARGETS];     // -1: never reached
    curve_t curve;
    char *dir;                              // its run directory (OUT/VARIANT/seed-K), owned; expectations read its
                                            // logs (NULL: not read from a directory)
} run_result_t;

typedef struct {
    const char *name;
    run_result_t *runs;  // (n_seeds)
    int n_seeds;
} variant_result_t;

// Reads step and test_acc columns of a run's metrics.csv. -1 + message on a missing or malformed file.
int curve_read(curve_t *c, const char *metrics_csv);
void curve_free(curve_t *c);
// First logged step with accuracy >= target, or -1 if none.
long steps_to_target(const curve_t *c, double target);
// Fills final/best/steps_to from the curve.
void run_result_from_curve(run_result_t *r, const double *targets, int n_targets);

// Median of v[0..n) (mean of the middle two for even n); v is reordered. NAN for n == 0.
double median(double *v, int n);

// One quantity over the seeds of a variant that completed (ok): mean, sample std, median, min, max. A target
// never reached counts as +infinity, so the median is "never" when most seeds never got there.
typedef enum { SEED_FINAL_ACC, SEED_BEST_ACC, SEED_STEPS_TO } seed_quantity_t;
typedef struct {
    double mean, sd, med, lo, hi;  // NAN when n == 0
    int n;                         // seeds that completed
} seed_stats_t;
seed_stats_t seed_stats(const variant_result_t *v, seed_quantity_t what, int target);
// How many completed seeds of v reached target (an index into the targets).
int seeds_reached(const variant_result_t *v, int target);

// v = the runs of variant name in a comparison directory, OUT/NAME/seed-K for each seed: a run counts (ok) when
// it completed (rundir_completed) and its metrics.csv reads. Never fails; free with variant_result_free().
void variant_result_read(variant_result_t *v, const char *cmp_dir, const char *name, const long *seeds, int n_seeds,
                         const double *targets, int n_targets);
void variant_result_free(variant_result_t *v);

// summary.json document, summary.md text (caller frees), and the accuracy curves as CSV
// (variant,step,n,median,min,max over the seeds logged at that step).
cJSON *summary_to_json(const variant_result_t *v, int n_variants, const double *targets, int n_targets);
char *summary_to_markdown(const variant_result_t *v, int n_variants, const double *targets, int n_targets);
int summary_write_curves(const char *path, const variant_result_t *v, int n_variants);
// All three into out_dir (summary.json with runs_failed and seconds), then prints the Markdown table. extra (NULL
// for none): more keys for summary.json, moved into it (the caller no longer owns it); extra_md (NULL for none):
// a section appended to summary.md (it is not printed: the caller prints its own lines). -1 + message.
int summary_write_dir(const char *out_dir, const variant_result_t *v, int nv, const double *targets, int nt,
                      int runs_failed, double seconds, cJSON *extra, const char *extra_md);

#endif
