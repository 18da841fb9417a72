#include "lab/plot_modes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "lab/figure.h"
#include "lab/summary.h"
#include "run/rundir.h"

#define MODES_MAX_LOG ((size_t)1 << 30)
#define MODES_MARK_POINTS 20  // fewer points than this get markers (three curves: fewer than the accuracy figure)

enum { C_X, C_EVAL, C_BATCH, C_TRAIN, C_COLS };

// A run's rows (x, test_acc, test_acc_batchstats, train_acc); *has_batch: the column exists. 0, 1 if the run has no
// metrics.csv yet, -1 + message.
static int read_run(const char *run, double xscale, series_t *s, int *has_batch) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_METRICS_CSV);
    *has_batch = 0;
    if (!path_exists(path)) return 1;
    csv_table_t t;
    if (csv_table_read(&t, path, MODES_MAX_LOG) != 0) return -1;
    static const char *const names[] = {"step", "test_acc", "train_acc"};
    int col[3];
    for (int i = 0; i < 3; i++)
        if ((col[i] = csv_column(t.header, names[i], path)) < 0) {
            csv_table_free(&t);
            return -1;
        }
    // A run without log.eval_batch_stats lacks the column: that is an answer, not an error (no message kept).
    int cb = strstr(t.header, "test_acc_batchstats") ? csv_column(t.header, "test_acc_batchstats", path) : -1;
    *has_batch = cb >= 0;
    while (csv_table_next(&t)) {
        double v[C_COLS] = {NAN, NAN, NAN, NAN}, step;
        if (csv_field_double(t.row, col[0], &step) != 0) continue;
        v[C_X] = step * xscale;
        if (csv_field_double(t.row, col[1], &v[C_EVAL]) != 0) v[C_EVAL] = NAN;
        if (cb < 0 || csv_field_double(t.row, cb, &v[C_BATCH]) != 0) v[C_BATCH] = NAN;
        if (csv_field_double(t.row, col[2], &v[C_TRAIN]) != 0) v[C_TRAIN] = NAN;  // empty at step 0
        series_add(s, v);
    }
    csv_table_free(&t);
    return 0;
}

static double cell(const series_t *s, int r, int c) { return s->v[(size_t)r * (size_t)s->cols + (size_t)c]; }

// Column col's median over the runs at each x of the longest run (runs of one config log at the same steps; a run
// that stopped early counts where it has rows), as (x, median) rows.
static void median_column(const series_t *runs, int n, int col, series_t *out) {
    int longest = 0;
    for (int k = 1; k < n; k++)
        if (runs[k].n > runs[longest].n) longest = k;
    series_init(out, 2);
    double *v = xmalloc((size_t)n * sizeof *v + 1, "modes median");
    for (int r = 0; r < runs[longest].n; r++) {
        double x = cell(&runs[longest], r, C_X);
        int m = 0;
        for (int k = 0; k < n; k++)
            if (r < runs[k].n && cell(&runs[k], r, C_X) == x && isfinite(cell(&runs[k], r, col)))
                v[m++] = cell(&runs[k], r, col);
        series_add(out, (double[2]){x, median(v, m)});
    }
    free(v);
}

// One curve of a panel: the median of column col, in colour lc and dash type dt.
static void add_curve(figure_t *f, strbuf_t *b, const series_t *runs, int n, int col, int lc, const char *look,
                      const char *title, double *xmax) {
    series_t med;
    median_column(runs, n, col, &med);
    int block = figure_series(f, &med);
    char spec[128];
    snprintf(spec, sizeof spec, "1:2 %s %s lc %d", med.n > MODES_MARK_POINTS ? "with lines" : "with linespoints pt 7 ps 1.5",
             look, lc);
    if (block >= 0) figure_curve(f, b, block, spec, title);
    if (med.n) *xmax = fmax(*xmax, cell(&med, med.n - 1, 0));
    series_free(&med);
}

// Panel i: its curves, or the note why one is missing. -1 + message on an unreadable log.
static int modes_panel(figure_t *f, const modes_panel_t *pl, double xmax_all) {
    series_t *runs = xcalloc((size_t)pl->n_runs + 1, sizeof *runs, "modes runs");
    int rc = 0, has_batch = 0, n = 0;
    for (int k = 0; k < pl->n_runs && rc >= 0; k++) {
        int hb;
        series_init(&runs[n], C_COLS);
        rc = read_run(pl->runs[k], pl->xscale, &runs[n], &hb);
        if (rc == 0) has_batch |= hb, n++;
        else series_free(&runs[n]);
    }
    if (rc < 0) {
        for (int k = 0; k < n; k++) series_free(&runs[k]);
        free(runs);
        return -1;
    }
    char div[64] = "";
    if (pl->diverged_at >= 0) snprintf(div, sizeof div, " (diverged at step %ld)", pl->diverged_at);
    // Why a curve is missing goes in the title: a label inside the panel would cross the curves.
    const char *why = n == 0 ? "" : !pl->bn ? "\nno BN: one way to evaluate, nothing to compare"
                                  : !has_batch ? "\nbatch statistics not logged (log.eval_batch_stats)" : "";
    figure_cmd(f, "set title", "", "%s%s%s", pl->name, div, why);
    strbuf_t b = {0};
    double xmax = pl->diverged_at >= 0 ? fmax(xmax_all, (double)pl->diverged_at * pl->xscale) : xmax_all;
    if (n > 0) {
        add_curve(f, &b, runs, n, C_EVAL, 1, "lw 4", pl->bn ? "test, running statistics" : "test",
                  &xmax);
        if (pl->bn && has_batch)
            add_curve(f, &b, runs, n, C_BATCH, 2, "lw 3 dt 2", "test, batch statistics", &xmax);
        add_curve(f, &b, runs, n, C_TRAIN, 3, "lw 3 dt 3", "training batches", &xmax);
    }
    figure_xaxis(f, 0, xmax, 1);
    figure_axis(f, 'y', 0, 1, 0);
    figure_plot(f, &b, "no evaluation logged");
    free(b.s);
    for (int k = 0; k < n; k++) series_free(&runs[k]);
    free(runs);
    return 0;
}

// Does any run of any panel have the batch-statistics column? -1 + message on an unreadable log.
static int any_batch_column(const modes_panel_t *panels, int np, double *xmax) {
    int any = 0;
    for (int i = 0; i < np; i++)
        for (int k = 0; k < panels[i].n_runs; k++) {
            series_t s;
            int hb;
            series_init(&s, C_COLS);
            int rc = read_run(panels[i].runs[k], panels[i].xscale, &s, &hb);
            if (rc == 0 && s.n) *xmax = fmax(*xmax, cell(&s, s.n - 1, C_X));
            series_free(&s);
            if (rc < 0) return -1;
            any |= rc == 0 && hb;
        }
    return any;
}

int plot_modes(const char *plots, const modes_panel_t *panels, int np, const char *xlabel, const char *title_seeds) {
    double xmax = 0;
    int any = any_batch_column(panels, np, &xmax);
    if (any <= 0) return any < 0 ? -1 : 1;
    int rows, cols;
    figure_grid(np, &rows, &cols);
    figure_t f;
    if (figure_open(&f, plots, "modes", rows, cols) != 0) return -1;
    figure_cmd(&f, "set xlabel", "", "%s", xlabel);
    fprintf(f.gp, "set ylabel 'accuracy'\nset key title ''\n");
    char layout[96];
    snprintf(layout, sizeof layout, "font bnlab_font(24) layout %d,%d", rows, cols);
    figure_cmd(&f, "set multiplot title", layout,
               "BN's train/eval gap: accuracy with BN's running statistics vs each batch's own (%s)",
               title_seeds);
    int rc = 0;
    for (int i = 0; i < np && rc == 0; i++) rc = modes_panel(&f, &panels[i], xmax);
    fprintf(f.gp, "unset multiplot\n");
    int crc = figure_close(&f);
    return rc ? rc : crc;
}
