#include "run/recorders.h"

#include <stdio.h>
#include <stdlib.h>

#include "run/rundir.h"

// The table: one line per log, in walking order (on_step: percentiles before ICS before the landscape, each leaving
// the model as it found it). A row is the recorder_t its log's own file defines (run/unitlog.c: UNIT_UPDATES_RECORDER),
// declared here by ROW: this file includes no log's header.
#define ROWS_LIST(ROW)                                                                                                \
    ROW(METRICS_RECORDER)       /* metrics.csv, metrics.jsonl */                                                      \
    ROW(LAYER_STATS_RECORDER)   /* layer_stats.csv */                                                                 \
    ROW(PERCENTILES_RECORDER)   /* percentiles.csv (log.percentiles) */                                               \
    ROW(GRADIENTS_RECORDER)     /* gradients.csv (log.gradients_every): the step's gradients, before ICS replays */  \
    ROW(TENSORBOARD_RECORDER)   /* tb/events.out.tfevents... (log.tensorboard): its gradient histograms likewise */   \
    ROW(PARAM_STATS_RECORDER)   /* param_stats.csv (log.param_stats) */                                               \
    ROW(ICS_RECORDER)           /* ics.csv (log.ics_every) */                                                         \
    ROW(LANDSCAPE_RECORDER)     /* landscape.csv, landscape_band.csv (log.landscape) */                               \
    ROW(HISTOGRAMS_RECORDER)    /* histograms.csv (log.histograms) */                                                 \
    ROW(UPDATE_RATIOS_RECORDER) /* update_ratios.csv (log.update_ratios_every) */                                     \
    ROW(UNIT_UPDATES_RECORDER)  /* unit_updates.csv (log.unit_updates_every) */                                       \
    ROW(CURVATURE_RECORDER)     /* curvature.csv (log.curvature_every) */                                             \
    ROW(JACOBIAN_RECORDER)      /* jacobian.csv (log.jacobian_every) */                                               \
    /* a new log: its ROW line above this one */

// A test may compile this file with rows of its own after these (tests/rec_row.c: a log that exists only in a test
// build, to show that the config, resume, the output guard and tests/test_recorders.sh take a new row with no other
// line changed): it defines RECORDERS_TEST_ROWS(ROW) before including it. The engine has none.
#ifndef RECORDERS_TEST_ROWS
#define RECORDERS_TEST_ROWS(ROW)
#endif

#define DECLARE(row) extern const recorder_t row;
#define ADDRESS(row) &row,
ROWS_LIST(DECLARE)
RECORDERS_TEST_ROWS(DECLARE)
static const recorder_t *const ROWS[] = {ROWS_LIST(ADDRESS) RECORDERS_TEST_ROWS(ADDRESS)};
#define N_ROWS ((int)(sizeof ROWS / sizeof ROWS[0]))
_Static_assert(sizeof ROWS / sizeof ROWS[0] <= REC_MAX, "raise REC_MAX");
_Static_assert(REC_MAX <= CFG_RECORDERS, "raise CFG_RECORDERS (run/config.h): a slot for each row's keys");

int recorders_count(void) { return N_ROWS; }
const recorder_t *recorders_row(int i) { return i >= 0 && i < N_ROWS ? ROWS[i] : NULL; }

// The bytes of its settings struct key k fills, up to its end; aborts on a type a row may not have (a bug).
static size_t key_end(const key_desc_t *k) {
    switch (k->type) {
    case KEY_BOOL:
    case KEY_INT:
    case KEY_ENUM: return k->field + sizeof(int);
    case KEY_LONG: return k->field + sizeof(long);
    case KEY_U64: return k->field + sizeof(uint64_t);
    case KEY_DOUBLE: return k->field + sizeof(double);
    case KEY_STRING: return k->field + k->cap;
    default:  // objects, paths, inits, custom keys: a recorder's keys are plain values
        fprintf(stderr, "bnlab: a recorder's key %s is not a plain value (run/recorder.h keys)\n", k->name);
        abort();
    }
}

static const key_desc_t NO_KEYS[] = {{0}};
const key_desc_t *recorders_keys(int i) {
    if (i < 0 || i >= N_ROWS) return NULL;
    for (const key_desc_t *k = ROWS[i]->keys; k && k->name; k++)
        if (key_end(k) > CFG_RECORDER_BYTES) {  // a bug, found by any parse of any config
            fprintf(stderr, "bnlab: recorder %s: key %s ends at byte %zu of its settings, past their slot's %d (raise "
                    "CFG_RECORDER_BYTES in run/config.h)\n", ROWS[i]->name, k->name, key_end(k), CFG_RECORDER_BYTES);
            abort();
        }
    return ROWS[i]->keys ? ROWS[i]->keys : NO_KEYS;
}

// Row i's switch: its enabled hook, else its first key (nonzero: on), else on.
static int row_enabled(int i, const config_t *c) {
    const recorder_t *row = ROWS[i];
    if (row->enabled) return row->enabled(c);
    if (!row->keys || !row->keys[0].name) return 1;
    const char *f = (const char *)&c->log.recorders[i] + row->keys[0].field;
    switch (row->keys[0].type) {
    case KEY_LONG: return *(const long *)f != 0;
    case KEY_BOOL:
    case KEY_INT:
    case KEY_ENUM: return *(const int *)f != 0;
    case KEY_DOUBLE: return *(const double *)f != 0;
    default: abort();  // a row whose first key is no switch: a bug, found by test_recorders
    }
}

// Calls hook `h` of every enabled row with state and v.
#define WALK(r, h, v)                                                      \
    for (int i_ = 0; i_ < N_ROWS; i_++)                                    \
        if ((r)->state[i_] && ROWS[i_]->h) ROWS[i_]->h((r)->state[i_], v)

int recorders_init(recorders_t *r, const rec_view_t *v) {
    *r = (recorders_t){0};
    for (int i = 0; i < N_ROWS; i++) {
        const recorder_t *row = ROWS[i];
        if (!row_enabled(i, v->cfg)) continue;
        r->state[i] = xcalloc(1, row->state_size, row->name);
        rec_view_t own = *v;
        own.settings = &v->cfg->log.recorders[i];
        if (row->init && row->init(r->state[i], &own) != 0) {
            char msg[BNLAB_ERRMSG_MAX];  // the init's message, not a later one's
            snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
            recorders_free(r);
            return bnlab_fail("%s", msg);
        }
    }
    return 0;
}

// Row i's file f's writer in state st, if the table owns it (rec_file_t.wfile); else NULL.
static wfile_t *table_wfile(void *st, const rec_file_t *f) {
    return f->wfile ? (wfile_t *)((char *)st + f->wfile - 1) : NULL;
}

static int open_row(int i, void *st, const rec_view_t *v, const char *run_dir, int append) {
    REC_EACH_FILE(ROWS[i], f)
    if (table_wfile(st, f) && log_open(table_wfile(st, f), run_dir, f->file, append, f->header) != 0) return -1;
    return ROWS[i]->open ? ROWS[i]->open(st, v, run_dir, append) : 0;
}

int recorders_open(recorders_t *r, const rec_view_t *v, const char *run_dir, int append) {
    for (int i = 0; i < N_ROWS; i++) {
        if (!r->state[i] || open_row(i, r->state[i], v, run_dir, append) == 0) continue;
        char msg[BNLAB_ERRMSG_MAX];  // the open's message, not a close's
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        recorders_close(r);
        return bnlab_fail("%s", msg);
    }
    return 0;
}

void recorders_before_step(recorders_t *r, const rec_view_t *v) { WALK(r, before_step, v); }
void recorders_on_step(recorders_t *r, const rec_view_t *v) { WALK(r, on_step, v); }
void recorders_after_step(recorders_t *r, const rec_view_t *v) { WALK(r, after_step, v); }
void recorders_on_eval(recorders_t *r, const rec_view_t *v) { WALK(r, on_eval, v); }
void recorders_on_epoch(recorders_t *r, const rec_view_t *v) { WALK(r, on_epoch, v); }

int recorders_check(const recorders_t *r) {
    for (int i = 0; i < N_ROWS; i++) {
        if (!r->state[i]) continue;
        REC_EACH_FILE(ROWS[i], f)
        if (table_wfile(r->state[i], f) && wfile_check(table_wfile(r->state[i], f)) != 0) return -1;
        if (ROWS[i]->check && ROWS[i]->check(r->state[i]) != 0) return -1;
    }
    return 0;
}

int recorders_close(recorders_t *r) {
    char first[BNLAB_ERRMSG_MAX] = "";
    for (int i = 0; i < N_ROWS; i++) {
        if (!r->state[i]) continue;
        REC_EACH_FILE(ROWS[i], f)
        if (table_wfile(r->state[i], f) && wfile_close(table_wfile(r->state[i], f)) != 0 && !first[0])
            snprintf(first, sizeof first, "%s", bnlab_errmsg());
        if (ROWS[i]->close && ROWS[i]->close(r->state[i]) != 0 && !first[0])
            snprintf(first, sizeof first, "%s", bnlab_errmsg());
    }
    return first[0] ? bnlab_fail("%s", first) : 0;
}

void recorders_free(recorders_t *r) {
    for (int i = 0; i < N_ROWS; i++) {
        if (!r->state[i]) continue;
        if (ROWS[i]->free) ROWS[i]->free(r->state[i]);
        free(r->state[i]);
        r->state[i] = NULL;
    }
}

int recorders_truncate(const char *run_dir, long step, double *seconds) {
    *seconds = 0.0;
    for (int i = 0; i < N_ROWS; i++)
        REC_EACH_FILE(ROWS[i], f) {
            if (f->resume == REC_RESUME_BY_OPEN) continue;
            const int before = f->resume == REC_RESUME_BEFORE_UPDATE;
            if (rundir_truncate_log(run_dir, f->file, f->format == REC_JSONL, before, step, f->clock ? seconds : NULL))
                return -1;
        }
    return 0;
}

void recorders_expect_files(const char **out, int cap) {
    int n = 0;
    for (int i = 0; i < N_ROWS; i++)
        REC_EACH_FILE(ROWS[i], f)
        if (f->expect && n < cap - 1) out[n++] = f->file;
    out[n] = NULL;
}
