// modes: BN's train/eval gap over training (Ioffe & Szegedy 2015, §3.1 and Algorithm 2). One panel per variant, the
// median over seeds at each logged evaluation of
//   test accuracy, evaluation mode     test_acc: BN normalizes by its running statistics (thick, solid)
//   test accuracy, batch statistics    test_acc_batchstats: each test batch by its own statistics (dashed)
//   training-batch accuracy            train_acc: the training batches since the previous row (dotted)
// in shades of the variant's colour. The batch-statistics column exists only in runs with log.eval_batch_stats; a
// network that does not normalize by batch statistics has one way to evaluate, so its panel says so instead of
// drawing the same curve twice. No run with the column: no figure (the note names the key).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/rundir.h"
#include "run/runlog.h"
#include "view/logread.h"

enum { C_X, C_EVAL, C_BATCH, C_TRAIN, C_COLS };

// A run's rows (x, test_acc, test_acc_batchstats, train_acc); *has_batch: the column exists. 0 (also without a
// metrics.csv yet), -1 + message.
static int read_run(const char *run, double xk, series_t *s, int *has_batch) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_METRICS_CSV);
    csv_table_t t;
    int rc = logread_open(&t, path), cs = -1, ca = -1, ct = -1;
    *has_batch = 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    if ((cs = logread_column(&t, path, "step")) < 0 || (ca = logread_column(&t, path, "test_acc")) < 0 ||
        (ct = logread_column(&t, path, "train_acc")) < 0)
        rc = -1;
    // A run without log.eval_batch_stats lacks the column: that is an answer, not an error.
    int cb = csv_header_index(t.header, "test_acc_batchstats");
    *has_batch = cb >= 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step;
        double v[C_COLS] = {0, NAN, NAN, NAN};
        rc = logread_integer(&t, path, cs, 0, LOGREAD_STEP_MAX, &step) || logread_number(&t, path, ca, &v[C_EVAL]) ||
             (cb >= 0 && logread_optional(&t, path, cb, &v[C_BATCH])) || logread_optional(&t, path, ct, &v[C_TRAIN]) ? -1 : 0;
        v[C_X] = (double)step * xk;
        if (rc == 0) series_add(s, v);
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

int fig_modes(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    series_t *all = xcalloc((size_t)src->nv, sizeof *all, "modes");
    int rc = 0, any = 0, batch[VIEW_MAX_VARIANTS] = {0};
    for (int i = 0; i < src->nv; i++) series_init(&all[i], C_COLS);
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            int hb;
            rc = read_run(run, in->xk[i], &all[i], &hb);
            batch[i] |= hb, any |= hb;
        }
    if (rc == 0 && !any) {
        figmodel_init(m, "modes", 0, 1);
        snprintf(m->note, sizeof m->note, "BN's train/eval gap: not logged in this run (the test accuracy with batch "
                 "statistics; turn it on with log.eval_batch_stats: true).");
        rc = 1;
    } else if (rc == 0) {
        figmodel_init(m, "modes", src->nv, src->nv <= 3 ? src->nv : (src->nv + 1) / 2);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        char seeds[48];
        if (src->ns > 1) snprintf(seeds, sizeof seeds, "median of %d seeds", src->ns);
        else snprintf(seeds, sizeof seeds, "seed %ld", src->seeds[0]);
        snprintf(m->title, sizeof m->title, "BN's train/eval gap: accuracy with BN's running statistics vs each "
                 "batch's own (%s)", seeds);
        for (int i = 0; i < src->nv; i++) {
            const view_variant_t *v = &src->v[i];
            figpanel_t *p = &m->p[i];
            int bn = view_class_batch_stats(v->cls);
            series_t med;
            series_median_by_step(&all[i], &med);
            // Why a curve is missing goes in the title: a label inside the panel would cross the curves.
            snprintf(p->title, sizeof p->title, "%s%s", v->label, !med.n ? "" : !bn ? "\nno BN: one way to evaluate, nothing to compare"
                     : !batch[i] ? "\nbatch statistics not logged (log.eval_batch_stats)" : "");
            snprintf(p->ylabel, sizeof p->ylabel, "accuracy");
            snprintf(p->note, sizeof p->note, "no evaluation logged");
            static const char *const what[3] = {"test, running statistics", "test, batch statistics", "training batches"};
            if (med.n) {
                figmodel_add(p, CURVE_LINE, &med, C_X, C_EVAL, 0, v->color, 0, 4, 1, bn ? what[0] : "test");
                if (bn && batch[i]) figmodel_add(p, CURVE_LINE, &med, C_X, C_BATCH, 0, v->color, 1, 3, 1, what[1]);
                figmodel_add(p, CURVE_LINE, &med, C_X, C_TRAIN, 0, v->color, 2, 3, 1, what[2]);  // line styles tell them apart
            }
            series_free(&med);
        }
        figmodel_finish(m, 1, 0, 1);
        for (int i = 0; i < m->np; i++) m->p[i].y1 = fmin(1, m->p[i].y1), m->p[i].yfixed = 1;
    }
    for (int i = 0; i < src->nv; i++) series_free(&all[i]);
    free(all);
    return rc;
}
