#include "lab/plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_LAYERS 16
// noenhanced: titles are plain text ("Ioffe & Szegedy", "p_15"), not gnuplot markup.
#define TERMINAL "set terminal pngcairo noenhanced size 1280,720 font 'Sans,13' linewidth 1.5\n" \
                 "set format x '%%.0s%%c'\nset key opaque box\n"

typedef struct {
    char name[128];
    char run[BNLAB_PATH_MAX];  // run directory shown for per-run figures (seed 1 of a comparison)
} panel_t;

// Indices of nonlinearity layers (from the first epoch's train rows of layer_stats.csv) and their types.
static int read_hidden_layers(const char *run, int *idx, char types[][16]) {
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/layer_stats.csv", run);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < PLOT_MAX_LAYERS) {
        long epoch;
        int layer;
        char source[16], type[16];
        if (sscanf(line, "%ld,%*[^,],%15[^,],%d,%15[^,],", &epoch, source, &layer, type) != 4) continue;
        if (epoch != 1) break;
        if (strcmp(source, "train") == 0 && (!strcmp(type, "sigmoid") || !strcmp(type, "relu") || !strcmp(type, "tanh"))) {
            idx[n] = layer;
            snprintf(types[n], 16, "%s", type);
            n++;
        }
    }
    fclose(f);
    return n;
}

// The first per-unit row of percentiles.csv: which hidden layer and unit it follows.
static int read_pct_unit(const char *run, int *hidden, int *unit) {
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/percentiles.csv", run);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%*[^,],%d,%*[^,],%*[^,],%d,", hidden, unit) == 2) {
            found = 0;
            break;
        }
    fclose(f);
    return found;
}

static int run_gnuplot(const char *script_path) {
    char cmd[BNLAB_PATH_MAX + 16];
    path_fmt(cmd, sizeof cmd, "gnuplot '%s'", script_path);
    return system(cmd) == 0 ? 0 : -1;
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
            fprintf(f, "%s'%s/curves.csv' skip 1 using 2:(strcol(1) eq '%s' ? $5 : NaN):(strcol(1) eq '%s' ? $6 : NaN) "
                       "with filledcurves lc %d notitle, '' skip 1 using 2:(strcol(1) eq '%s' ? $4 : NaN) with lines "
                       "lw 2 lc %d title '%s'",
                    i ? ", \\\n     " : "", dir, p[i].name, p[i].name, i + 1, p[i].name, i + 1, p[i].name);
        else
            fprintf(f, "'%s/metrics.csv' skip 1 using 1:6 with lines lw 2 lc 1 title 'test accuracy'", p[i].run);
    }
    fputc('\n', f);
    fclose(f);
    return 0;
}

static int plot_percentiles(const char *plots, const panel_t *p, int np, char *script) {
    int hidden = 0, unit = 0;
    if (read_pct_unit(p[0].run, &hidden, &unit) != 0) return 1;  // nothing logged: no figure
    FILE *f = open_script(plots, "percentiles", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    fprintf(f, "set multiplot layout 1,%d title \"Input to a sigmoid (hidden layer %d, unit %d) during training: 15th, "
               "50th, 85th percentiles\\n(Ioffe & Szegedy 2015, Fig. 1(b, c))\"\n"
               "set xlabel 'training step'\nset ylabel 'input value'\nset key bottom right\n",
            np, hidden, unit);
    for (int i = 0; i < np; i++) {
        fprintf(f, "set title '%s'\nplot ", p[i].name);
        const char *names[3] = {"15th", "50th", "85th"};
        for (int k = 0; k < 3; k++)
            // Rows of one unit are interleaved with other rows: select them with awk, so the line is unbroken.
            fprintf(f, "%s\"< awk -F, '$2 == %d && $5 == \\\"%d\\\"' %s/percentiles.csv\" using 1:%d with lines lw 2 "
                       "lc %d title '%s'",
                    k ? ", " : "", hidden, unit, p[i].run, 7 + k, k + 1, names[k]);
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\n");
    fclose(f);
    return 0;
}

static int plot_layer_stats(const char *plots, const panel_t *p, int np, char *script) {
    int idx[PLOT_MAX_LAYERS];
    char types[PLOT_MAX_LAYERS][16];
    FILE *f = open_script(plots, "layer_stats", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    fprintf(f, "set multiplot layout 1,%d title 'Activations of each hidden layer during training: mean ± std over the "
               "epoch batches'\nset xlabel 'epoch'\nset ylabel 'activation'\nset key top right\n"
               "set style fill transparent solid 0.15 noborder\n",
            np);
    for (int i = 0; i < np; i++) {
        int n = read_hidden_layers(p[i].run, idx, types);
        fprintf(f, "set title '%s'\nplot ", p[i].name);
        if (n == 0) fprintf(f, "NaN notitle");
        for (int k = 0; k < n; k++)
            fprintf(f, "%s\"< awk -F, '$3 == \\\"train\\\" && $4 == %d' %s/layer_stats.csv\" using 1:($7 - $8):($7 + $8) "
                       "with filledcurves lc %d notitle, '' using 1:7 with lines lw 2 lc %d title 'hidden %d (%s, layer %d)'",
                    k ? ", \\\n     " : "", idx[k], p[i].run, k + 1, k + 1, k + 1, types[k], idx[k]);
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\n");
    fclose(f);
    return 0;
}

// The largest dense-layer number in a run's ics.csv (0 if none).
static int ics_max_dense(const char *run) {
    char path[BNLAB_PATH_MAX], line[256];
    path_fmt(path, sizeof path, "%s/ics.csv", run);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int max = 0, d;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%*[^,],%*[^,],%d,", &d) == 1 && d > max) max = d;
    fclose(f);
    return max;
}

static int plot_ics(const char *plots, const panel_t *p, int np, char *script) {
    if (ics_max_dense(p[0].run) < 2) return 1;  // not logged
    FILE *f = open_script(plots, "ics", script, BNLAB_PATH_MAX);
    if (!f) return -1;
    fprintf(f, "set multiplot layout 2,%d title \"Internal covariate shift (Santurkar et al. 2018, Def. 2.1): G = gradient "
               "of W_i before the step, G' = after updating only the layers below i\"\n"
               "set xlabel 'training step'\nset key top right\n", np);
    const char *what[2] = {"||G - G'||", "cos(G, G')"};
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < np; i++) {
            fprintf(f, "set title \"%s: %s\"\n%s\nplot ", p[i].name, what[c],
                    c ? "unset logscale y\nset yrange [*:1]" : "set logscale y\nset yrange [*:*]");
            int nd = ics_max_dense(p[i].run);
            if (nd < 2) fprintf(f, "NaN notitle");
            for (int d = 2; d <= nd; d++)  // dense layers 2.. (the first has nothing below it)
                fprintf(f, "%s\"< awk -F, '$3 == %d' %s/ics.csv\" using 1:%d with lines lw 1.5 lc %d title 'dense %d'",
                        d > 2 ? ", " : "", d, p[i].run, c ? 6 : 5, d - 1, d);
            fputc('\n', f);
        }
    fprintf(f, "unset multiplot\n");
    fclose(f);
    return 0;
}

int plot_sweep(const char *dir, const char *axis, int n_axes, const char *const *bases, int n_bases) {
    char plots[BNLAB_PATH_MAX], script[BNLAB_PATH_MAX];
    path_fmt(plots, sizeof plots, "%s/plots", dir);
    if (make_dirs(plots) != 0) return -1;
    FILE *f = open_script(plots, "sweep", script, sizeof script);
    if (!f) return -1;
    int xcol = 3, mcol = n_axes + 5;  // variant, base, the grid paths, seeds, completed, final_mean, final_std
    fprintf(f, "set title 'Final test accuracy vs %s (mean, error bars: one std over seeds)'\n"
               "set xlabel '%s'\nset ylabel 'final test accuracy'\nset key bottom left\nset yrange [0:1]\n"
               "stats '%s/sweep.csv' skip 1 using %d nooutput\n"
               "if (STATS_min > 0 && STATS_max / STATS_min > 20) set logscale x\n"
               "set format x '%%g'\nplot ",
            axis, axis, dir, xcol);
    for (int i = 0; i < n_bases; i++)
        fprintf(f, "%s\"< awk -F, '$2 == \\\"%s\\\"' %s/sweep.csv\" using %d:%d:%d with yerrorlines lw 2 pt 7 lc %d title '%s'",
                i ? ", " : "", bases[i], dir, xcol, mcol, mcol + 1, i + 1, bases[i]);
    fputc('\n', f);
    fclose(f);
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bnlab: gnuplot is not installed: apt-get install gnuplot-nox. The script is %s\n", script);
        return 1;
    }
    if (run_gnuplot(script) != 0) return bnlab_fail("gnuplot failed on %s", script);
    printf("plot: %s/sweep.png\n", plots);
    return 0;
}

int plot_dir(const char *dir) {
    panel_t panels[PLOT_MAX_PANELS];
    int np = 0, is_compare = 0, seeds = 1;
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/compare.json", dir);
    if (path_exists(path)) {
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
        seeds = cJSON_GetArraySize(sd);
        for (const cJSON *v = vars->child; v && np < PLOT_MAX_PANELS; v = v->next) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
            if (!cJSON_IsString(name)) continue;
            snprintf(panels[np].name, sizeof panels[np].name, "%s", name->valuestring);
            path_fmt(panels[np].run, sizeof panels[np].run, "%s/%s/seed-%ld", dir, name->valuestring,
                     (long)sd->child->valuedouble);
            np++;
        }
        cJSON_Delete(root);
        is_compare = 1;
    } else {
        path_fmt(path, sizeof path, "%s/metrics.csv", dir);
        if (!path_exists(path)) return bnlab_fail("%s: neither a run directory (metrics.csv) nor a comparison (compare.json)", dir);
        const char *base = strrchr(dir, '/');
        snprintf(panels[0].name, sizeof panels[0].name, "%s", base && base[1] ? base + 1 : dir);
        path_fmt(panels[0].run, sizeof panels[0].run, "%s", dir);
        np = 1;
    }
    char plots[BNLAB_PATH_MAX];
    path_fmt(plots, sizeof plots, "%s/plots", dir);
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
