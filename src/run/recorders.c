#include "run/recorders.h"

#include <stdlib.h>

#include "run/curvature.h"
#include "run/gradlog.h"
#include "run/histlog.h"
#include "run/jaclog.h"
#include "run/ics.h"
#include "run/landscape.h"
#include "run/paramlog.h"
#include "run/percentiles.h"
#include "run/rundir.h"
#include "run/runlog.h"
#include "run/tblog.h"
#include "run/unitlog.h"
#include "run/updatelog.h"

// The table: one line per log, in walking order (on_step: percentiles before ICS before the landscape, each leaving
// the model as it found it).
static const recorder_t *const ROWS[] = {
    &METRICS_RECORDER,     // metrics.csv, metrics.jsonl
    &LAYER_STATS_RECORDER, // layer_stats.csv
    &PERCENTILES_RECORDER, // percentiles.csv (log.percentiles)
    &GRADIENTS_RECORDER,   // gradients.csv (log.gradients_every): reads the step's gradients before ICS's replays
    &TENSORBOARD_RECORDER, // tb/events.out.tfevents... (log.tensorboard): its gradient histograms likewise
    &PARAM_STATS_RECORDER, // param_stats.csv (log.param_stats)
    &ICS_RECORDER,         // ics.csv (log.ics_every)
    &LANDSCAPE_RECORDER,   // landscape.csv, landscape_band.csv (log.landscape)
    &HISTOGRAMS_RECORDER,  // histograms.csv (log.histograms)
    &UPDATE_RATIOS_RECORDER,  // update_ratios.csv (log.update_ratios_every)
    &UNIT_UPDATES_RECORDER,   // unit_updates.csv (log.unit_updates_every)
    &CURVATURE_RECORDER,      // curvature.csv (log.curvature_every)
    &JACOBIAN_RECORDER,    // jacobian.csv (log.jacobian_every)
};
#define N_ROWS ((int)(sizeof ROWS / sizeof ROWS[0]))
_Static_assert(sizeof ROWS / sizeof ROWS[0] <= REC_MAX, "raise REC_MAX");

int recorders_count(void) { return N_ROWS; }
const recorder_t *recorders_row(int i) { return i >= 0 && i < N_ROWS ? ROWS[i] : NULL; }

// Calls hook `h` of every enabled row with state and v.
#define WALK(r, h, v)                                                      \
    for (int i_ = 0; i_ < N_ROWS; i_++)                                    \
        if ((r)->state[i_] && ROWS[i_]->h) ROWS[i_]->h((r)->state[i_], v)

int recorders_init(recorders_t *r, const rec_view_t *v) {
    *r = (recorders_t){0};
    for (int i = 0; i < N_ROWS; i++) {
        const recorder_t *row = ROWS[i];
        if (row->enabled && !row->enabled(v->cfg)) continue;
        r->state[i] = xcalloc(1, row->state_size, row->name);
        if (row->init && row->init(r->state[i], v) != 0) {
            char msg[BNLAB_ERRMSG_MAX];  // the init's message, not a later one's
            snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
            recorders_free(r);
            return bnlab_fail("%s", msg);
        }
    }
    return 0;
}

int recorders_open(recorders_t *r, const rec_view_t *v, const char *run_dir, int append) {
    for (int i = 0; i < N_ROWS; i++) {
        if (!r->state[i] || ROWS[i]->open(r->state[i], v, run_dir, append) == 0) continue;
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
    for (int i = 0; i < N_ROWS; i++)
        if (r->state[i] && ROWS[i]->check(r->state[i]) != 0) return -1;
    return 0;
}

int recorders_close(recorders_t *r) {
    char first[BNLAB_ERRMSG_MAX] = "";
    for (int i = 0; i < N_ROWS; i++)
        if (r->state[i] && ROWS[i]->close(r->state[i]) != 0 && !first[0])
            snprintf(first, sizeof first, "%s", bnlab_errmsg());
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
        for (const rec_file_t *f = ROWS[i]->files; f < ROWS[i]->files + REC_MAX_FILES && f->file; f++) {
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
        for (const rec_file_t *f = ROWS[i]->files; f < ROWS[i]->files + REC_MAX_FILES && f->file; f++)
            if (f->expect && n < cap - 1) out[n++] = f->file;
    out[n] = NULL;
}
