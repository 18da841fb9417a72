// A new log is one file plus one row. This file is both, for a log that exists only in a test build: "zz_loss", every
// log.zz_loss_every steps one row of zz_loss.csv (step, lr, the step's batch loss). Everything down to "The row." is
// what a real log's file (run/NAME.c) holds; RECORDERS_TEST_ROWS is the line a real log adds to the table in
// run/recorders.c. It compiles run/recorders.c with the row (as tests/test_kind_row.c does nn/registry.c with its
// kinds), so the CLI linked with this file (build/tests/bnlab_zz) has the log — with no other line of the engine
// changed: the config parses, defaults, checks and writes back log.zz_loss_every from the row (strict errors with
// JSON paths included), the output guard refuses zz_loss.csv in a run directory, resume truncation cuts it by its
// rule, expectations may read it, and tests/test_recorders.sh (run with this build) checks that a stopped or crashed
// and resumed run writes it byte for byte as an uninterrupted one.
// As a log of the engine it would be: src/run/zzloss.c (the lines from here to "The row."), the line
// "    ROW(ZZ_LOSS_RECORDER)       /* zz_loss.csv (log.zz_loss_every) */  \" added to ROWS_LIST in run/recorders.c,
// the line "  'src/run/zzloss.c'," added to meson.build's engine sources — and its rows in docs/reference.md.
#include <stddef.h>

#include "base/util.h"
#include "run/recorder.h"

#define ZZ_LOSS_FILE "zz_loss.csv"
#define ZZ_LOSS_HEADER "step,lr,batch_loss\n"

typedef struct {
    long every;  // log.zz_loss_every; 0: off
} zz_loss_cfg_t;

typedef struct {
    long every;
    wfile_t out;
} zz_loss_t;

static int zz_init(void *st, const rec_view_t *v) {
    ((zz_loss_t *)st)->every = ((const zz_loss_cfg_t *)v->settings)->every;
    return 0;
}
// Before the step's update (step: the steps done before it): the row is the step's, kept by a resume at S if step < S.
static void zz_step(void *st, const rec_view_t *v) {
    zz_loss_t *z = st;
    if (v->step % z->every != 0) return;
    wfile_printf(&z->out, "%ld,%.9g,%.9g\n", v->step, v->lr, v->loss);
    wfile_flush(&z->out);
}

static const key_desc_t ZZ_KEYS[] = {
    {.name = "zz_loss_every", .type = KEY_LONG, .field = offsetof(zz_loss_cfg_t, every), .lo = 0, .hi = 1e9,
     .def = 0, .flags = KEY_OMIT_ZERO},
    {0}};

const recorder_t ZZ_LOSS_RECORDER = {
    .name = "zz_loss", .keys = ZZ_KEYS,
    // the table opens (with the header), checks and closes out
    .files = {{ZZ_LOSS_FILE, ZZ_LOSS_HEADER, REC_RESUME_BEFORE_UPDATE, REC_CSV, .expect = 1,
               .wfile = REC_WFILE(zz_loss_t, out)}},
    .turn_on = "log.zz_loss_every=10",
    .state_size = sizeof(zz_loss_t),
    .init = zz_init, .on_step = zz_step,
};

// The row.
#define RECORDERS_TEST_ROWS(ROW) ROW(ZZ_LOSS_RECORDER)
#include "run/recorders.c"
