// recorders.h — the table of recorders: every log a run writes while it trains, one row each (run/recorder.h says
// what a row holds: name, files with header and resume rule, enabled-by-config, init, open, the hooks, check, close).
//
// The training loop (run/train.c) walks it at each point of a step, resume truncation walks its files, the config
// parses its rows' keys (run/config.h recorders_keys), the output guard refuses its files (run/runfiles.h), and
// expectations (lab/logmetric.h) read the names of the CSV files they may use from it. A row lives in its log's own
// file (run/unitlog.c defines UNIT_UPDATES_RECORDER ...); this table lists them, in the order every walk takes.
// Adding a log is one file plus one row: its module run/NAME.c (+ NAME.h where others read its file names or
// columns) with its state, hooks, keys and row (with a turn_on setting); one ROW(NAME_RECORDER) line in ROWS_LIST in
// recorders.c; its line in meson.build (Meson lists sources); a README row. Nothing else names it: its keys are
// parsed, checked, defaulted and written back from its row (each left out of config.json while off), its files are
// guarded and truncated by its row, tests/test_layering.sh ranks it as a log by its row, tests/test_recorders.sh
// checks that a resumed run writes its files byte for byte as an uninterrupted one, test_noalloc that its hooks
// allocate nothing, and expectations may read it if its row says expect. tests/rec_row.c is such a log, compiled
// into a test build only.
#ifndef BNLAB_RECORDERS_H
#define BNLAB_RECORDERS_H

#include "run/recorder.h"

#define REC_MAX 16

// The states of one run's recorders (state[i] NULL: row i is off in this config).
typedef struct {
    void *state[REC_MAX];
} recorders_t;

// The rows: recorders_count() of them, in walking order.
int recorders_count(void);
const recorder_t *recorders_row(int i);

// At setup (writes nothing): a zeroed state and init for every row the config enables. -1 + the failing init's
// message (everything freed).
int recorders_init(recorders_t *r, const rec_view_t *v);
// Opens every enabled recorder (append = 1: a resumed run's files). -1 + the failing open's message (all closed).
int recorders_open(recorders_t *r, const rec_view_t *v, const char *run_dir, int append);
// The hooks of every enabled row, in table order (run/recorder.h says when each is called and what v holds).
void recorders_before_step(recorders_t *r, const rec_view_t *v);
void recorders_on_step(recorders_t *r, const rec_view_t *v);
void recorders_after_step(recorders_t *r, const rec_view_t *v);
void recorders_on_eval(recorders_t *r, const rec_view_t *v);
void recorders_on_epoch(recorders_t *r, const rec_view_t *v);
// -1 + the message of the first recorder whose write failed.
int recorders_check(const recorders_t *r);
// Closes every recorder; -1 + the first failure's message.
int recorders_close(recorders_t *r);
// Frees every state (after close, or after a failed init or open).
void recorders_free(recorders_t *r);

// A resume from a checkpoint at step S: cuts every log file of every row in run_dir to the rows its resume rule
// keeps (a missing file is left missing; REC_RESUME_BY_OPEN files are cut by their open); *seconds = the wall clock
// of the last kept row of the clock file (0 without one). -1 + message.
int recorders_truncate(const char *run_dir, long step, double *seconds);

// The CSV files expectations may read (rec_file_t.expect), in table order, into out, ended by NULL (cap entries).
void recorders_expect_files(const char **out, int cap);

#endif
