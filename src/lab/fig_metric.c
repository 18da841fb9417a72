// accuracy and loss (Ioffe & Szegedy 2015, Fig. 1(a)): metrics.csv of every seed of every variant on one panel, each
// seed faint and the median over seeds at each step thick (view/figmodel.h), in the variant's colour and line style.
//   accuracy  test accuracy on a 0–1 axis; when the final medians of two or more variants lie within 5 points of
//             each other and above 50 %, an inset enlarges the last fifth of training around them (the paper's
//             98 % vs 97 % gap is half of Fig. 1(a)'s message, and one line on a 0–1 axis)
//   loss      training (dashed: the batches since the previous row) and test (solid) cross-entropy; the y axis stops
//             at 1.5 x the largest initial loss, so that a diverging run does not flatten the others
// Step 0 (the initial network) is drawn: its training loss is empty, which leaves out that point only. A run that
// diverged is marked with a cross at its divergence step (view_diverged_at).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/rundir.h"
#include "run/runlog.h"
#include "view/logread.h"

enum { M_X, M_ACC, M_TRAIN_LOSS, M_TEST_LOSS, M_COLS };

// A run's metrics.csv read strictly (view/logread.h): rows (x, test_acc, train_loss, test_loss). 0 (also when the
// run has no metrics.csv yet), -1 + message.
static int read_metrics(const char *run, double xk, series_t *s) {
    static const char *const names[] = {"step", "test_acc", "train_loss", "test_loss"};
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_METRICS_CSV);
    csv_table_t t;
    int rc = logread_open(&t, path), col[4];
    if (rc != 0) return rc < 0 ? -1 : 0;
    for (int c = 0; c < 4 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step;
        double r[M_COLS];
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) || logread_number(&t, path, col[1], &r[M_ACC]) ||
             logread_optional(&t, path, col[2], &r[M_TRAIN_LOSS]) || logread_number(&t, path, col[3], &r[M_TEST_LOSS]) ? -1 : 0;
        r[M_X] = (double)step * xk;
        if (rc == 0) series_add(s, r);
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

static int build(figmodel_t *m, const figure_input_t *in, int loss) {
    const view_source_t *src = in->src;
    const char *name = loss ? "loss" : "accuracy";
    series_t (*runs)[VIEW_MAX_SEEDS] = xcalloc((size_t)src->nv, sizeof *runs, "metric runs");
    int rc = 0, any = 0;
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            series_init(&runs[i][k], M_COLS);
            rc = read_metrics(run, in->xk[i], &runs[i][k]);
            any |= runs[i][k].n > 0;
        }
    if (rc == 0 && !any) {
        figmodel_init(m, name, 0, 1);
        snprintf(m->note, sizeof m->note, "%s: no evaluation logged yet (metrics.csv has no row).",
                 loss ? "Loss" : "Test accuracy");
    } else if (rc == 0) {
        figmodel_init(m, name, 2, 2);  // panel 1: the inset, if any (m->np set below), beside it on the page
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        const char *what = loss ? "Loss (training dashed, test solid)" : "Test accuracy during training";
        if (src->ns > 1) snprintf(m->title, sizeof m->title, "%s: median of %d seeds (thick), each seed (faint)", what, src->ns);
        else if (src->is_compare) snprintf(m->title, sizeof m->title, "%s (seed %ld)", what, src->seeds[0]);
        else snprintf(m->title, sizeof m->title, "%s: %s (seed %ld)", what, src->v[0].label, src->seeds[0]);
        figpanel_t *p = &m->p[0];
        snprintf(p->ylabel, sizeof p->ylabel, "%s", loss ? "cross-entropy loss" : "test accuracy");
        snprintf(p->note, sizeof p->note, "no evaluation logged");
        double flo = INFINITY, fhi = -INFINITY, first = 0;
        int nfinal = 0;
        for (int i = 0; i < src->nv; i++) {
            const view_variant_t *v = &src->v[i];
            char label[VIEW_NAME_MAX + 16];
            const char *who = src->is_compare ? v->label : "";
            if (loss) {
                snprintf(label, sizeof label, "%s%strain", who, *who ? " " : "");
                int from = p->nc;
                figmodel_add_seeds(p, runs[i], src->ns, M_TRAIN_LOSS, v->color, v->style, label);
                for (int k = from; k < p->nc; k++) p->c[k].dashed = 1;
            }
            snprintf(label, sizeof label, "%s%s%s", who, *who && loss ? " " : "", loss ? "test" : *who ? "" : "test accuracy");
            figcurve_t *c = figmodel_add_seeds(p, runs[i], src->ns, loss ? M_TEST_LOSS : M_ACC, v->color, v->style, label);
            if (c) {
                int last = series_last_finite(&c->data);
                if (last >= 0) flo = fmin(flo, c->data.v[2 * last + 1]), fhi = fmax(fhi, c->data.v[2 * last + 1]), nfinal++;
            }
            for (int k = 0; k < src->ns; k++) {  // the initial losses (step 0): training's is empty there
                const series_t *s = &runs[i][k];
                if (s->n && isfinite(s->v[M_TEST_LOSS])) first = fmax(first, s->v[M_TEST_LOSS]);
                if (s->n > 1 && isfinite(s->v[M_COLS + M_TRAIN_LOSS])) first = fmax(first, s->v[M_COLS + M_TRAIN_LOSS]);
            }
            fig_mark_diverged(p, src, i, in->xk[i], runs[i], loss ? M_TEST_LOSS : M_ACC);
        }
        int zoom = !loss && nfinal >= 2 && flo > 0.5 && fhi - flo < 0.05;
        m->np = zoom ? 2 : 1;
        figmodel_finish(m, 0, 0, 1);
        p->yfixed = 1, p->y0 = 0;
        if (loss) {  // the initial loss, and a little above: a diverging run's loss would flatten every other curve
            double y1 = p->y1;
            if (first > 0) y1 = fmin(y1, 1.5 * first);
            p->y1 = isfinite(y1) && y1 > 0 ? y1 : 1;
        } else p->y1 = 1;
        if (zoom) {
            figpanel_t *q = &m->p[1];
            q->inset = 1, q->xfixed = q->yfixed = 1;
            q->box[0] = 0.42, q->box[1] = 0.17, q->box[2] = 0.52, q->box[3] = 0.5;
            double pad = fmax(0.01, 0.5 * (fhi - flo));
            q->x0 = p->x0 + 0.8 * (p->x1 - p->x0), q->x1 = p->x1;
            q->y0 = flo - pad, q->y1 = fmin(1, fhi + pad);
            snprintf(q->title, sizeof q->title, "the end, enlarged: final %.1f%% to %.1f%%", 100 * flo, 100 * fhi);
            snprintf(q->ylabel, sizeof q->ylabel, "test accuracy");
            for (int k = 0; k < p->nc; k++) {  // the same curves, cut to the inset's x range
                const figcurve_t *c = &p->c[k];
                series_t cut;
                series_init(&cut, c->data.cols);
                for (int r = 0; r < c->data.n; r++)
                    if (c->data.v[(size_t)r * (size_t)c->data.cols] >= q->x0) series_add(&cut, c->data.v + (size_t)r * (size_t)c->data.cols);
                figmodel_add(q, c->kind, &cut, 0, 1, 2 % cut.cols, c->color, c->style, c->width, c->opacity, c->label);
                series_free(&cut);
            }
        }
    }
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++) series_free(&runs[i][k]);
    free(runs);
    return rc;
}

int fig_accuracy(figmodel_t *m, const figure_input_t *in) { return build(m, in, 0); }

int fig_loss(figmodel_t *m, const figure_input_t *in) { return build(m, in, 1); }
