#include "lab/plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/registry.h"
#include "io/csvtable.h"
#include "run/rundir.h"

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_LAYERS 16
#define PLOT_MAX_PCT 9  // percentile columns drawn (a config has at most 9)
// noenhanced: titles are plain text ("Ioffe & Szegedy", "p_15"), not gnuplot markup.
#define TERMINAL "set terminal pngcairo noenhanced size 1280,720 font 'Sans,13' linewidth 1.5\n" \
                 "set format x '%%.0s%%c'\nset key opaque box\n"

typedef struct {
    char name[128];
    char run[BNLAB_PATH_MAX];  // run directory shown for per-run figures (seed 1 of a comparison)
} panel_t;

// gnuplot's and awk's column numbers (1-based) of names[0..n) in the header of DIR/FILE, into cols: the scripts
// name columns by number, so the numbers come from the header at plot time, never from a list kept here.
// -1 + message naming the file and the missing column.
static int gnuplot_columns(const char *dir, const char *file, const char *const *names, int n, int *cols) {
    char path[BNLAB_PATH_MAX], header[4096];
    rundir_file(path, sizeof path, dir, file);
    if (csv_read_header(path, header, sizeof header) != 0) return -1;
    for (int i = 0; i < n; i++) {
        int c = csv_column(header, names[i], path);
        if (c < 0) return -1;
        cols[i] = c + 1;
    }
    return 0;
}

// Opens DIR/FILE as a table and looks up names[0..n) (0-based, for csv_field). 0: open; 1: no such file (nothing
// logged); -1 + message.
static int open_log(csv_table_t *t, const char *dir, const char *file, const char *const *names, int n, int *cols) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, file);
    if (!path_exists(path)) return 1;
    if (csv_table_read(t, path, (size_t)1 << 30) != 0) return -1;
    for (int i = 0; i < n; i++)
        if ((cols[i] = csv_column(t->header, names[i], path)) < 0) {
            csv_table_free(t);
            return -1;
        }
    return 0;
}

// Indices of nonlinearity layers (from the first epoch's train rows of layer_stats.csv) and their types; their
// number, or -1 + message.
static int read_hidden_layers(const char *run, int *idx, char types[][16]) {
    static const char *const names[] = {"epoch", "source", "layer", "layer_type"};
    enum { EPOCH, SOURCE, LAYER, TYPE };
    int col[4], n = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_LAYER_STATS, names, 4, col);
    if (rc != 0) return rc < 0 ? -1 : 0;
    while (csv_table_next(&t) && n < PLOT_MAX_LAYERS) {
        long epoch, layer;
        if (csv_field_long(t.row, col[EPOCH], &epoch) != 0 || csv_field_long(t.row, col[LAYER], &layer) != 0) continue;
        if (epoch != 1) break;
        size_t len;
        const char *type = csv_field(t.row, col[TYPE], &len);
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)len, type);
        int k = layer_kind_find(kind), nonlinear = k >= 0 && layer_kind((layer_kind_t)k)->nonlinearity;
        if (csv_field_is(t.row, col[SOURCE], "train") && nonlinear) {
            idx[n] = (int)layer;
            snprintf(types[n], 16, "%.*s", (int)len, type);
            n++;
        }
    }
    csv_table_free(&t);
    return n;
}

// The first per-unit row of percentiles.csv: which hidden layer and unit it follows. 0, 1 if none (nothing
// logged), -1 + message.
static int read_pct_unit(const char *run, int *hidden, int *unit) {
    static const char *const names[] = {"hidden", "unit"};
    int col[2], rc;
    csv_table_t t;
    if ((rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 2, col)) != 0) return rc;
    rc = 1;
    long h, u;
    while (rc == 1 && csv_table_next(&t))
        if (csv_field_long(t.row, col[0], &h) == 0 && csv_field_long(t.row, col[1], &u) == 0) {
            *hidden = (int)h, *unit = (int)u;
            rc = 0;
        }
    csv_table_free(&t);
    return rc;
}

// "15th" for a percentile column "p15" (English ordinals: 1st, 2nd, 3rd, 11th, 21st, 2.5th).
static void ordinal(char *out, size_t cap, const char *col, size_t len) {
    if (len && col[0] == 'p') col++, len--;
    char num[24];
    snprintf(num, sizeof num, "%.*s", (int)len, col);
    char *end;
    long v = strtol(num, &end, 10);
    const char *suffix = "th";
    if (*end == '\0' && !(v % 100 >= 11 && v % 100 <= 13))
        suffix = v % 10 == 1 ? "st" : v % 10 == 2 ? "nd" : v % 10 == 3 ? "rd" : "th";
    snprintf(out, cap, "%s%s", num, suffix);
}

// percentiles.csv's columns: step, hidden and unit, and the percentile columns, which are all those after "n"
// (one per configured percentile, named p15, p50, ...). Their titles ("15th", ...) into titles. -1 + message.
typedef struct {
    int step, hidden, unit, n_pct, pct[PLOT_MAX_PCT];
    char titles[PLOT_MAX_PCT][32];
} pct_columns_t;

static int pct_columns(const char *run, pct_columns_t *c) {
    static const char *const names[] = {"step", "hidden", "unit", "n"};
    int col[4];
    if (gnuplot_columns(run, RUNDIR_PERCENTILES, names, 4, col) != 0) return -1;
    c->step = col[0], c->hidden = col[1], c->unit = col[2], c->n_pct = 0;
    char path[BNLAB_PATH_MAX], header[4096];
    rundir_file(path, sizeof path, run, RUNDIR_PERCENTILES);
    if (csv_read_header(path, header, sizeof header) != 0) return -1;
    size_t len;
    const char *name;
    for (int k = col[3]; c->n_pct < PLOT_MAX_PCT && (name = csv_field(header, k, &len)) != NULL; k++) {
        c->pct[c->n_pct] = k + 1;
        ordinal(c->titles[c->n_pct++], sizeof c->titles[0], name, len);
    }
    if (c->n_pct == 0) return bnlab_fail("%s: no percentile columns after \"n\" in its header", path);
    return 0;
}

static int run_gnuplot(const char *script_path) {
    char cmd[BNLAB_PATH_MAX + 16];
    path_fmt(cmd, sizeof cmd, "gnuplot '%s'", script_path);
    return system(cmd) == 0 ? 0 : -1;
}

// Closes a script, checking that every write reached the file. -1 + message.
static int close_script(FILE *f, const char *path) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return bnlab_fail("%s: write failed", path);
    return 0;
}

static FILE *open_script(const char *plots, const char *name, char *path, size_t cap) {
    path_fmt(path, cap, "%s/%s.gp", plots, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        bnlab_fail("%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    fprintf(f, TERMINAL "set output '%s/%s.png'\nset datafile separator ','\nset grid\n", plots, name);
    return f;
}

static int plot_accuracy(const char *dir, const char *plots, const panel_t *p, int np, int is_compare, int seeds,
                         char *script) {
    static const char *const curve_names[] = {"variant", "step", "median", "min", "max"};
    static const char *const metric_names[] = {"step", "test_acc"};
    int c[5];
    if (is_compare ? gnuplot_columns(dir, CMPDIR_CURVES, curve_names, 5, c)
                   : gnuplot_columns(p[0].run, RUNDIR_METRICS_CSV, metric_names, 2, c))
        return -1;
    FILE *f = open_script(plots, "accuracy", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    if (is_compare)
        fprintf(f, "set title 'Test accuracy during training (median, band: min–max over %d seed%s)'\n", seeds,
                seeds > 1 ? "s" : "");
    else fprintf(f, "set title 'Test accuracy during training'\n");
    fprintf(f, "set xlabel 'training step'\nset ylabel 'test accuracy'\nset yrange [0:1]\nset key bottom right\n"
               "set style fill transparent solid 0.20 noborder\nplot ");
    for (int i = 0; i < np; i++) {
        if (is_compare)
            fprintf(f, "%s'%s/%s' skip 1 using %d:(strcol(%d) eq '%s' ? $%d : NaN):(strcol(%d) eq '%s' ? $%d : NaN) "
                       "with filledcurves lc %d notitle, '' skip 1 using %d:(strcol(%d) eq '%s' ? $%d : NaN) with lines "
                       "lw 2 lc %d title '%s'",
                    i ? ", \\\n     " : "", dir, CMPDIR_CURVES, c[1], c[0], p[i].name, c[3], c[0], p[i].name, c[4],
                    i + 1, c[1], c[0], p[i].name, c[2], i + 1, p[i].name);
        else
            fprintf(f, "'%s/%s' skip 1 using %d:%d with lines lw 2 lc 1 title 'test accuracy'", p[i].run,
                    RUNDIR_METRICS_CSV, c[0], c[1]);
    }
    fputc('\n', f);
    return close_script(f, script);
}

static int plot_percentiles(const char *plots, const panel_t *p, int np, char *script) {
    int hidden = 0, unit = 0, rc = read_pct_unit(p[0].run, &hidden, &unit);
    if (rc != 0) return rc;  // 1: nothing logged, no figure
    pct_columns_t c;
    if (pct_columns(p[0].run, &c) != 0) return -1;
    char which[PLOT_MAX_PCT * 40] = "";
    for (int k = 0; k < c.n_pct; k++) {
        size_t n = strlen(which);
        snprintf(which + n, sizeof which - n, "%s%s", k ? ", " : "", c.titles[k]);
    }
    FILE *f = open_script(plots, "percentiles", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    fprintf(f, "set multiplot layout 1,%d title \"Input to a sigmoid (hidden layer %d, unit %d) during training: %s "
               "percentiles\\n(Ioffe & Szegedy 2015, Fig. 1(b, c))\"\n"
               "set xlabel 'training step'\nset ylabel 'input value'\nset key bottom right\n",
            np, hidden, unit, which);
    for (int i = 0; i < np; i++) {
        char path[BNLAB_PATH_MAX];
        rundir_file(path, sizeof path, p[i].run, RUNDIR_PERCENTILES);
        int logged = path_exists(path);
        if (logged && pct_columns(p[i].run, &c) != 0) {
            fclose(f);
            return -1;
        }
        fprintf(f, "set title '%s'\nplot ", p[i].name);
        if (!logged) fprintf(f, "NaN notitle");
        for (int k = 0; logged && k < c.n_pct; k++)
            // Rows of one unit are interleaved with other rows: select them with awk, so the line is unbroken.
            fprintf(f, "%s\"< awk -F, '$%d == %d && $%d == \\\"%d\\\"' %s/%s\" using %d:%d with lines lw 2 "
                       "lc %d title '%s'",
                    k ? ", " : "", c.hidden, hidden, c.unit, unit, p[i].run, RUNDIR_PERCENTILES, c.step, c.pct[k], k + 1,
                    c.titles[k]);
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\n");
    return close_script(f, script);
}

static int plot_layer_stats(const char *plots, const panel_t *p, int np, char *script) {
    static const char *const names[] = {"epoch", "source", "layer", "mean", "std"};
    enum { EPOCH, SOURCE, LAYER, MEAN, STD };
    int idx[PLOT_MAX_LAYERS], c[5];
    char types[PLOT_MAX_LAYERS][16];
    FILE *f = open_script(plots, "layer_stats", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    fprintf(f, "set multiplot layout 1,%d title 'Activations of each hidden layer during training: mean ± std over the "
               "epoch batches'\nset xlabel 'epoch'\nset ylabel 'activation'\nset key top right\n"
               "set style fill transparent solid 0.15 noborder\n",
            np);
    for (int i = 0; i < np; i++) {
        int n = read_hidden_layers(p[i].run, idx, types);
        if (n < 0 || (n > 0 && gnuplot_columns(p[i].run, RUNDIR_LAYER_STATS, names, 5, c) != 0)) {
            fclose(f);
            return -1;
        }
        fprintf(f, "set title '%s'\nplot ", p[i].name);
        if (n == 0) fprintf(f, "NaN notitle");
        for (int k = 0; k < n; k++)
            fprintf(f, "%s\"< awk -F, '$%d == \\\"train\\\" && $%d == %d' %s/%s\" using %d:($%d - $%d):($%d + $%d) "
                       "with filledcurves lc %d notitle, '' using %d:%d with lines lw 2 lc %d title 'hidden %d (%s, layer %d)'",
                    k ? ", \\\n     " : "", c[SOURCE], c[LAYER], idx[k], p[i].run, RUNDIR_LAYER_STATS, c[EPOCH], c[MEAN],
                    c[STD], c[MEAN], c[STD], k + 1, c[EPOCH], c[MEAN], k + 1, k + 1, types[k], idx[k]);
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\n");
    return close_script(f, script);
}

// The largest dense-layer number in a run's ics.csv (0 if none logged), or -1 + message.
static int ics_max_dense(const char *run) {
    static const char *const names[] = {"dense"};
    int col, max = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_ICS, names, 1, &col);
    if (rc != 0) return rc < 0 ? -1 : 0;
    long d;
    while (csv_table_next(&t))
        if (csv_field_long(t.row, col, &d) == 0 && d > max) max = (int)d;
    csv_table_free(&t);
    return max;
}

static int plot_ics(const char *plots, const panel_t *p, int np, char *script) {
    static const char *const names[] = {"step", "dense", "l2_diff", "cosine"};
    enum { STEP, DENSE, L2, COS };
    int nd = ics_max_dense(p[0].run), c[4];
    if (nd < 2) return nd < 0 ? -1 : 1;  // 1: not logged
    FILE *f = open_script(plots, "ics", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    fprintf(f, "set multiplot layout 2,%d title \"Internal covariate shift (Santurkar et al. 2018, Def. 2.1): G = gradient "
               "of W_i before the step, G' = after updating only the layers below i\"\n"
               "set xlabel 'training step'\nset key top right\n", np);
    const char *what[2] = {"||G - G'||", "cos(G, G')"};
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < np; i++) {
            fprintf(f, "set title \"%s: %s\"\n%s\nplot ", p[i].name, what[w],
                    w ? "unset logscale y\nset yrange [*:1]" : "set logscale y\nset yrange [*:*]");
            nd = ics_max_dense(p[i].run);
            if (nd < 0 || (nd >= 2 && gnuplot_columns(p[i].run, RUNDIR_ICS, names, 4, c) != 0)) {
                fclose(f);
                return -1;
            }
            if (nd < 2) fprintf(f, "NaN notitle");
            for (int d = 2; d <= nd; d++)  // dense layers 2.. (the first has nothing below it)
                fprintf(f, "%s\"< awk -F, '$%d == %d' %s/%s\" using %d:%d with lines lw 1.5 lc %d title 'dense %d'",
                        d > 2 ? ", " : "", c[DENSE], d, p[i].run, RUNDIR_ICS, c[STEP], w ? c[COS] : c[L2], d - 1, d);
            fputc('\n', f);
        }
    fprintf(f, "unset multiplot\n");
    return close_script(f, script);
}

int plot_sweep(const char *dir, const char *axis, const char *const *bases, int n_bases) {
    char plots[BNLAB_PATH_MAX], script[BNLAB_PATH_MAX];
    const char *names[] = {"base", axis, "final_mean", "final_std"};
    enum { BASE, X, MEAN, STD };
    int c[4];
    if (gnuplot_columns(dir, CMPDIR_SWEEP_CSV, names, 4, c) != 0) return -1;
    rundir_file(plots, sizeof plots, dir, RUNDIR_PLOTS);
    if (make_dirs(plots) != 0) return -1;
    FILE *f = open_script(plots, "sweep", script, sizeof script);
    if (!f) return -1;
    fprintf(f, "set title 'Final test accuracy vs %s (mean, error bars: one std over seeds)'\n"
               "set xlabel '%s'\nset ylabel 'final test accuracy'\nset key bottom left\nset yrange [0:1]\n"
               "stats '%s/%s' skip 1 using %d nooutput\n"
               "if (STATS_min > 0 && STATS_max / STATS_min > 20) set logscale x\n"
               "set format x '%%g'\nplot ",
            axis, axis, dir, CMPDIR_SWEEP_CSV, c[X]);
    for (int i = 0; i < n_bases; i++)
        fprintf(f, "%s\"< awk -F, '$%d == \\\"%s\\\"' %s/%s\" using %d:%d:%d with yerrorlines lw 2 pt 7 lc %d title '%s'",
                i ? ", " : "", c[BASE], bases[i], dir, CMPDIR_SWEEP_CSV, c[X], c[MEAN], c[STD], i + 1, bases[i]);
    fputc('\n', f);
    if (close_script(f, script) != 0) return -1;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bnlab: gnuplot is not installed: apt-get install gnuplot-nox. The script is %s\n", script);
        return 1;
    }
    if (run_gnuplot(script) != 0) return bnlab_fail("gnuplot failed on %s", script);
    printf("plot: %s/sweep.png\n", plots);
    return 0;
}

// The panels of a comparison (one per variant, its first seed's run) from DIR/compare.json: their number, with
// the number of seeds in *seeds. -1 + message.
static int compare_panels(const char *dir, const char *path, panel_t *panels, int *seeds) {
    char *text;
    size_t len;
    if (read_whole_file(path, 1 << 20, &text, &len) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    if (!cJSON_IsArray(vars) || !cJSON_IsArray(sd) || !cJSON_IsNumber(sd->child)) {
        cJSON_Delete(root);
        return bnlab_fail("%s: not a bnlab comparison file", path);
    }
    *seeds = cJSON_GetArraySize(sd);
    int np = 0;
    for (const cJSON *v = vars->child; v && np < PLOT_MAX_PANELS; v = v->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        if (!cJSON_IsString(name)) continue;
        snprintf(panels[np].name, sizeof panels[np].name, "%s", name->valuestring);
        rundir_of_seed(panels[np].run, sizeof panels[np].run, dir, name->valuestring, (long)sd->child->valuedouble);
        np++;
    }
    cJSON_Delete(root);
    return np;
}

int plot_dir(const char *dir) {
    panel_t panels[PLOT_MAX_PANELS];
    int np = 0, is_compare = 0, seeds = 1;
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    if (path_exists(path)) {
        if ((np = compare_panels(dir, path, panels, &seeds)) < 0) return -1;
        is_compare = 1;
    } else {
        rundir_file(path, sizeof path, dir, RUNDIR_METRICS_CSV);
        if (!path_exists(path)) return bnlab_fail("%s: neither a run directory (metrics.csv) nor a comparison (compare.json)", dir);
        const char *base = strrchr(dir, '/');
        snprintf(panels[0].name, sizeof panels[0].name, "%s", base && base[1] ? base + 1 : dir);
        path_fmt(panels[0].run, sizeof panels[0].run, "%s", dir);
        np = 1;
    }
    char plots[BNLAB_PATH_MAX];
    rundir_file(plots, sizeof plots, dir, RUNDIR_PLOTS);
    if (make_dirs(plots) != 0) return -1;
    char scripts[4][BNLAB_PATH_MAX];
    int made[4] = {0};
    if (plot_accuracy(dir, plots, panels, np, is_compare, seeds, scripts[0]) != 0) return -1;
    made[0] = 1;
    int rc = plot_percentiles(plots, panels, np, scripts[1]);
    if (rc < 0) return -1;
    made[1] = rc == 0;
    if (plot_layer_stats(plots, panels, np, scripts[2]) != 0) return -1;
    made[2] = 1;
    rc = plot_ics(plots, panels, np, scripts[3]);
    if (rc < 0) return -1;
    made[3] = rc == 0;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bnlab: gnuplot is not installed, so no PNGs were made: apt-get install gnuplot-nox "
                        "(scripts/setup.sh does it). The gnuplot scripts are in %s and the data beside them.\n", plots);
        return 1;
    }
    int failed = 0;
    for (int i = 0; i < 4; i++)
        if (made[i]) {
            if (run_gnuplot(scripts[i]) != 0) {
                fprintf(stderr, "bnlab: gnuplot failed on %s\n", scripts[i]);
                failed = 1;
            } else {
                char png[BNLAB_PATH_MAX];
                path_fmt(png, sizeof png, "%s", scripts[i]);
                strcpy(png + strlen(png) - 3, ".png");
                printf("plot: %s\n", png);
            }
        }
    return failed;
}
