// sweep: a sweep over one grid key that takes numbers (a learning rate, a batch size, ...): the final test accuracy
// against that key, one line per base variant through the median over seeds, an error bar at each point over the
// seeds' range (sweep.csv's final_median, final_min, final_max, the runs bnlab sweep collect counts as completed);
// variants offset sideways a little so that none hides another; a log x axis when the grid spans a factor of 10 or
// more, ticked at the grid's values (round ticks on a linear axis of more than 12 values); the title says the steps
// each point trained for (one number when they are equal, else at each x). Colours and legend words as every
// comparison's (view/variant.h: each base is its first run's network). Not a sweep, a grid of two keys (sweep_map
// draws those), no sweep.csv yet, or fewer than two completed x values: no figure, a note saying why.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/rundir.h"
#include "view/logread.h"
#include "view/variant.h"

#define SW_MAX_BASES 64

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// One base variant's sweep points from sweep.csv: rows (x, final_median, final_min, final_max, steps) of its runs
// with at least one completed seed, in x order, read strictly (view/logread.h); *variant: the name of its first
// run (its network gives the base's colour); steps: the first completed seed's summary.json "steps" (NaN if none).
static int read_sweep_points(const char *path, const char *dir, const char *axis, const char *base, series_t *s,
                             char *variant, size_t cap, long seed) {
    const char *names[] = {"variant", "base", axis, "completed", "final_median", "final_min", "final_max"};
    enum { VAR, BASE, X, DONE, MED, MIN, MAX, NCOL };
    int col[NCOL];
    csv_table_t t;
    int rc = logread_open(&t, path);
    if (rc != 0) return rc > 0 ? bnlab_fail("%s: missing", path) : -1;
    for (int c = 0; c < NCOL && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    variant[0] = '\0';
    long done;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = 0;
        if (!csv_field_is(t.row, col[BASE], base)) continue;
        if ((rc = logread_integer(&t, path, col[DONE], 0, 1L << 30, &done)) != 0 || done == 0) continue;
        double r[5];
        rc = logread_finite(&t, path, col[X], &r[0]) || logread_number(&t, path, col[MED], &r[1]) ||
             logread_number(&t, path, col[MIN], &r[2]) || logread_number(&t, path, col[MAX], &r[3]) ? -1 : 0;
        size_t len;
        const char *v = csv_field(t.row, col[VAR], &len);
        char run[BNLAB_PATH_MAX], name[VIEW_NAME_MAX];
        snprintf(name, sizeof name, "%.*s", (int)len, v);
        if (!variant[0]) snprintf(variant, cap, "%s", name);
        rundir_of_seed(run, sizeof run, dir, name, seed);
        cJSON *sum = rundir_read_json(run, RUNDIR_SUMMARY);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(sum, "steps");
        r[4] = cJSON_IsNumber(st) ? st->valuedouble : NAN;
        cJSON_Delete(sum);
        if (rc == 0 && isfinite(r[1])) series_add(s, r);
    }
    csv_table_free(&t);
    if (s->n > 1) qsort(s->v, (size_t)s->n, 5 * sizeof *s->v, cmp_double);  // rows sort by their first value, x
    return rc < 0 ? -1 : 0;
}

static int no_figure(figmodel_t *m, const char *why) {
    figmodel_init(m, "sweep", 0, 1);
    snprintf(m->note, sizeof m->note, "The sweep figure: %s.", why);
    return 1;
}

int fig_sweep_dir(figmodel_t *m, const char *dir, int say) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    cJSON *root = view_compare_json_read(path);
    if (!root) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *g0 = cJSON_GetObjectItemCaseSensitive(vars ? vars->child : NULL, "grid");
    const cJSON *key = cJSON_IsObject(g0) ? g0->child : NULL;
    int rc = 0;
    if (!key || !cJSON_IsNumber(key)) rc = no_figure(m, "this comparison has no grid of numbers (bnlab sweep makes one)");
    else if (key->next)
        rc = no_figure(m, key->next->next ? "its grid has more than two keys" : "its grid has two keys (sweep_map draws it)");
    long seed = 1;
    const cJSON *sd = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "seeds"), 0);
    if (cJSON_IsNumber(sd)) seed = (long)sd->valuedouble;
    rundir_file(path, sizeof path, dir, CMPDIR_SWEEP_CSV);
    if (rc == 0 && !path_exists(path)) rc = no_figure(m, "no " CMPDIR_SWEEP_CSV " yet (bnlab sweep collect writes it)");
    if (rc != 0) {
        cJSON_Delete(root);
        return rc;
    }
    const char *axis = key->string, *words = fig_grid_key_words(axis);
    // The bases in the order of their variants (as in sweep.csv: a variant without a base is its own).
    const char *bases[SW_MAX_BASES];
    int nb = 0;
    for (const cJSON *v = vars->child; v && nb < SW_MAX_BASES; v = v->next) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(v, "base"), *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        const char *base = cJSON_IsString(b) ? b->valuestring : cJSON_IsString(name) ? name->valuestring : NULL;
        int seen = !base;
        for (int k = 0; k < nb && !seen; k++) seen = !strcmp(bases[k], base);
        if (!seen) bases[nb++] = base;
    }
    // Each base's points, colour and style: what its first run is, from that run's config.json (a sweep has more runs
    // than a view source keeps); bases of one class differ by line style and marker.
    series_t *s = xcalloc(SW_MAX_BASES, sizeof *s, "sweep points");
    view_variant_t *look = xcalloc(SW_MAX_BASES, sizeof *look, "sweep variants");
    int count[VC_COUNT] = {0}, total = 0, n = 0;
    for (int i = 0; i < nb && rc == 0; i++, n++) {
        series_init(&s[i], 5);
        char first[VIEW_NAME_MAX], run[BNLAB_PATH_MAX];
        rc = read_sweep_points(path, dir, axis, bases[i], &s[i], first, sizeof first, seed);
        rundir_of_seed(run, sizeof run, dir, first, seed);
        (void)view_run_variant(run, &look[i]);
        view_copy_utf8(look[i].name, sizeof look[i].name, bases[i]);
        memset(look[i].setting, 0, sizeof look[i].setting);  // a base is its network: the settings are the sweep's
        look[i].style = count[look[i].cls]++;
        total += s[i].n;
        if (rc == 0 && s[i].n == 0 && say) printf("sweep: %s has no completed run: left out of the plot\n", bases[i]);
    }
    view_name_variants(look, n, 1);  // legends in words, as every comparison's (view/variant.h)
    // The grid's completed values.
    double xs[FIG_MAX_CAT * 4];
    int nx = 0;
    for (int i = 0; i < n && rc == 0; i++)
        for (int r = 0; r < s[i].n; r++) {
            double x = s[i].v[(size_t)r * 5];
            int k = 0;
            while (k < nx && xs[k] != x) k++;
            if (k == nx && nx < (int)(sizeof xs / sizeof xs[0])) xs[nx++] = x;
        }
    qsort(xs, (size_t)nx, sizeof *xs, cmp_double);
    char why[256];
    snprintf(why, sizeof why, "every completed run is at %s = %g: a figure needs two values of it", axis, nx ? xs[0] : 0);
    if (rc == 0 && nx == 0) rc = no_figure(m, "no run completed, so no figure");
    else if (rc == 0 && nx == 1) rc = no_figure(m, why);  // no line from a single point: say why instead
    if (rc == 0) {
        figmodel_init(m, "sweep", 1, 1);
        figpanel_t *p = &m->p[0];
        snprintf(m->xlabel, sizeof m->xlabel, "%s", words);
        snprintf(p->ylabel, sizeof p->ylabel, "final test accuracy");
        // What differs across the x axis besides x: the steps each point trained for (the first base's runs); one
        // number when they are all the same (a learning-rate sweep), else the steps at each x (a batch-size sweep).
        strbuf_t note = {0};
        for (int i = 0; i < n && !note.len; i++) {
            double first = NAN;
            int same = 1;
            for (int r = 0; r < s[i].n; r++) {
                double st = s[i].v[(size_t)r * 5 + 4];
                if (!isfinite(st)) continue;
                if (isnan(first)) first = st;
                same &= st == first;
            }
            if (isnan(first)) continue;
            if (same) {
                strbuf_printf(&note, "steps per point: %.0f at every %s", first, words);
                continue;
            }
            for (int r = 0; r < s[i].n; r++) {
                double st = s[i].v[(size_t)r * 5 + 4];
                if (isfinite(st)) strbuf_printf(&note, "%s%.0f at %g", note.len ? ", " : "steps per point: ", st, s[i].v[(size_t)r * 5]);
            }
        }
        int used = 0;
        for (int i = 0; i < n; i++) used += s[i].n > 0;
        // Lines short enough for a slide's title (view/figure.h figure_wrap) with the longest key words.
        snprintf(m->title, sizeof m->title, "Final test accuracy vs %s: median over seeds\nerror bar: their range%s%s%s",
                 words, used > 1 ? "; variants offset sideways a little, so that none hides another" : "",
                 note.len ? "\n" : "", note.len ? note.s : "");
        free(note.s);
        // The x axis from the points themselves: logarithmic when every value is > 0 and they span at least a
        // factor of 10; ticks at the values when there are few (or on a log axis), else round ones.
        p->xlog = xs[0] > 0 && xs[nx - 1] / xs[0] >= 10;
        if ((p->xlog || nx <= 12) && nx <= FIG_MAX_CAT) {
            memcpy(p->xtick, xs, (size_t)nx * sizeof *xs);
            p->nxtick = nx;
        }
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < n; i++) series_extent(&s[i], 1, 3, &lo, &hi);
        p->y0 = fmin(lo, 1), p->y1 = fmax(hi, lo + 0.01), p->yfixed = 1;
        int order[SW_MAX_BASES];  // the bases in the one order of their variants (view/variant.h)
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && look[order[j]].cls < look[order[j - 1]].cls; j--) {
                int t = order[j];
                order[j] = order[j - 1], order[j - 1] = t;
            }
        int oi = 0;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            if (!s[i].n) continue;
            figcurve_t *c = figmodel_add(p, CURVE_RANGE, &s[i], 0, 1, 2, look[i].color, look[i].style, 3, 1, look[i].label);
            // Offsets: a fraction of the panel's width (figmodel_xshift), centred on the point.
            if (c && used > 1) c->xshift = 0.03 * ((double)oi - (used - 1) / 2.0) / used;
            if (c) c->marker = oi + 1;  // a marker per variant (black and white prints), a dash per class
            oi++;
        }
        figmodel_finish(m, 0, 0, 0);
    }
    for (int i = 0; i < n; i++) series_free(&s[i]);
    free(s);
    free(look);
    cJSON_Delete(root);
    return rc;
}

int fig_sweep(figmodel_t *m, const figure_input_t *in) {
    if (!in->src->is_compare) return no_figure(m, "this is one run; it draws a sweep over one grid key (bnlab sweep)");
    return fig_sweep_dir(m, in->src->dir, 0);
}
