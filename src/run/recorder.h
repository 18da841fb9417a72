// recorder.h — what a recorder is: one log of a run directory, written while the run trains, and all it may look at.
//
// Every log is one row of the table of recorders (run/recorders.c): its name, its files with their headers and resume
// rules, its own config keys, whether the config turns it on, and its hooks. The row is all there is to know about a
// log: the config parses its keys from it (run/config.h recorders_keys), resume truncation cuts its files by it, the
// output guard refuses its files by it (run/runfiles.h), expectations read its CSV files by it. The training loop (run/train.c) walks the table at fixed
// points and hands each enabled recorder its own state and the same narrow view of the run (rec_view_t) — never the
// trainer. The points, in the order of one training step:
//   before_step  the step is about to be taken (step: the steps done): looks at the probe images (percentiles)
//   on_step      the step's forward and backward pass are done, its update is not (x, y: its batch of `batch`; loss;
//                rng: the streams as they were before its draws): measures what the step saw (percentiles of the
//                batch, ICS, the landscape)
//   after_step   the update is done (step: the steps done; last: the run's last step): histograms
//   on_eval      a metrics row was measured (row; step 0: the initial network, lr NaN: no step yet): metrics,
//                tensorboard, param_stats
//   on_epoch     an epoch (or the run) ended, with log.stats on (epoch_stats, epoch): layer statistics, tensorboard
// A recorder's own forward passes draw from copies of rng and overwrite only activations and the x, y buffers (outside
// on_step), so the run — and every other log — is byte-identical with it on or off. Hooks allocate nothing: what a
// recorder needs is allocated by init (at setup, before the run directory is touched) or open.
#ifndef BNLAB_RECORDER_H
#define BNLAB_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "io/data.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "run/config.h"
#include "run/infer.h"
#include "run/stats.h"

// One row of metrics.csv / metrics.jsonl.
typedef struct {
    long step;     // 0: the initial network, before any update (its train columns are NaN: no batch was trained)
    double epoch;  // fractional: steps / steps_per_epoch
    double train_loss, train_acc;  // mean over the training batches since the previous row
    double test_loss, test_acc;    // whole test set, evaluation mode
    double lr, seconds;            // seconds: wall clock since training started (not deterministic)
    double test_loss_bs, test_acc_bs;  // log.eval_batch_stats: the test set with each batch's own BN statistics
} metrics_row_t;

// What a recorder may look at. Fields marked with a hook are set for that hook only (zero / NULL / NaN otherwise).
typedef struct rec_view {
    const config_t *cfg;          // the run's resolved config
    const void *settings;         // init only: the row's own keys' values (its slot of cfg->log.recorders, laid out as
                                  // the settings struct its keys describe)
    model_t *model;               // the network (its parameters, gradients and last activations)
    sgd_t *opt;                   // the optimizer (ICS replays the step's update on copies; on_step may set
                                  // sums_next: update ratios)
    const dataset_t *test;        // the test set: the probe images are its first probe_n
    const preprocess_t *pp;       // the run's input preprocessing
    uint32_t probe_n;             // probe images: min(log.probe_size, test examples)
    float *x;                     // (max_batch, features) on_step: the step's batch; otherwise a scratch buffer
    int32_t *y;                   // (max_batch) its labels, likewise
    const train_rng_t *rng;       // the run's random streams (on_step: as before the step's draws); draw from copies
    long step;                    // before_step, on_step: the step being taken (steps done before it); else steps done
    long steps_per_epoch;
    double lr;                    // on_step, on_eval: the learning rate of the step (being) taken; NaN: none yet
    int batch;                    // on_step: examples in x
    double loss;                  // on_step: the batch loss
    int last;                     // after_step: 1 at the run's last step
    const metrics_row_t *row;     // on_eval: the row
    const act_stats_t *epoch_stats;  // on_epoch: every layer's output over the epoch's training batches
    long epoch;                   // on_epoch: its number (a final partial epoch is numbered as the next one)
} rec_view_t;

// How a resume from a checkpoint at step S cuts a log (run/recorders.h recorders_truncate).
typedef enum {
    REC_RESUME_AFTER_UPDATE,   // rows logged after their step's update: keeps the rows with step <= S
    REC_RESUME_BEFORE_UPDATE,  // rows logged before the update of step `step`: keeps step < S
    REC_RESUME_BY_OPEN,        // not a text log: open (append = 1) cuts it itself (tensorboard's records)
} rec_resume_t;

typedef enum {
    REC_CSV,       // a header, then rows with a "step" column
    REC_JSONL,     // JSON objects, one a line, with a "step" key
    REC_TFEVENTS,  // TensorBoard's TFRecord-framed Event protos (run/tblog.h)
} rec_format_t;

// One file a recorder writes in the run directory.
typedef struct {
    const char *file;     // its name (a RUNDIR_* macro in the log's header); NULL ends a row's list
    const char *header;   // its first line, or NULL: none (JSON lines, event files) or built from the config by open
    rec_resume_t resume;
    rec_format_t format;
    int clock;            // its "seconds" column is the run's wall clock: a resume continues from the last kept row
    int wall_time;        // it holds wall-clock times (CSV/JSONL "seconds", events' wall_time): equal runs differ there
    int expect;           // 1: a CSV that expectations may read (lab/logmetric.h "file")
    // REC_WFILE(state type, member): the table opens this wfile_t of the state for the file (with its header, before
    // the row's own open, if any), checks it and closes it; 0: the row's own open, check and close do.
    size_t wfile;
} rec_file_t;
#define REC_WFILE(type, member) (offsetof(type, member) + 1)
// for (const rec_file_t *f ...): each file of a row.
#define REC_EACH_FILE(row, f) for (const rec_file_t *f = (row)->files; f < (row)->files + REC_MAX_FILES && f->file; f++)

#define REC_MAX_FILES 3

typedef struct recorder {
    const char *name;                       // the recorder, in messages ("param_stats")
    rec_file_t files[REC_MAX_FILES];        // what it writes (a {NULL} entry ends the list)
    // Its own keys in the config's "log" section (base/keys.h rows of plain values: bool, int, long, u64, double,
    // enum, string; NULL: none), their fields offsets into its settings struct (at most CFG_RECORDER_BYTES:
    // run/config.h; a parse aborts on a row past it). Each is left out of config.json while off (KEY_OMIT_ZERO):
    // existing configs keep their resolved JSON and digest. The first is its switch (an "every" or a bool).
    const key_desc_t *keys;
    // NULL: on while its first key is nonzero (always, without keys); else whether the config turns the log on.
    int (*enabled)(const config_t *c);
    const char *turn_on;                    // a --set PATH=VALUE that turns it on (NULL: always on), with a period
                                            // dividing 120: tests/test_recorders.sh (resuming at step 360) and
                                            // test_noalloc.c run with every row's, so a new row needs no test code
    size_t state_size;                      // its state, zeroed before init, freed after free
    // At setup (writes nothing): checks the config against the model and allocates. NULL: nothing. -1 + message.
    int (*init)(void *st, const rec_view_t *v);
    // Creates its files with their headers, or (append = 1, a resumed run at v->step) continues them (the files
    // with a .wfile are open already). NULL: nothing more. -1 + message.
    int (*open)(void *st, const rec_view_t *v, const char *run_dir, int append);
    void (*before_step)(void *st, const rec_view_t *v);  // each hook: NULL = nothing at that point
    void (*on_step)(void *st, const rec_view_t *v);
    void (*after_step)(void *st, const rec_view_t *v);
    void (*on_eval)(void *st, const rec_view_t *v);
    void (*on_epoch)(void *st, const rec_view_t *v);
    // Each NULL: nothing beyond the files with a .wfile, which the table checks and closes itself.
    int (*check)(const void *st);  // -1 + message (the file, the OS error) if a write failed
    int (*close)(void *st);        // closes its files (also ones never opened); -1 + message if a write or close failed
    void (*free)(void *st);        // releases what init and open allocated (after close; also after a failed init)
} recorder_t;

// Opens dir/name for writing, or for appending; writes header (if any) to a file that is new or empty — also when
// appending, so a log deleted before a resume comes back with its header. -1 + message.
int log_open(wfile_t *w, const char *dir, const char *name, int append, const char *header);

// Forward passes over the first n probe images in mode (MODE_EVAL or MODE_TRAIN_FROZEN), in batches of
// train.eval_batch_size through v->x and v->y, drawing from a copy of v->rng; fn(ctx, ...) after each batch. Returns
// the mean loss; *hits (may be NULL) the examples classified right.
double rec_probe_pass(const rec_view_t *v, uint32_t n, forward_mode_t mode, batch_fn fn, void *ctx, long *hits);

#endif
