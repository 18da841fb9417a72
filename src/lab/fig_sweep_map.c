// sweep_map: a sweep over two grid keys (e.g. depth x learning rate, configs/sweep-depth-lr.json) as one heatmap per
// base variant: a cell per grid point, filled by the median final test accuracy over the seeds that completed (a
// shade of the base's colour, white at chance 0.1 and the full colour at 1) and labelled with it; a cell where a seed
// diverged is hatched and says "diverged" (how many of the seeds when there are several). With targets in the spec,
// a second row: the median steps to the first target over the completed seeds (fewer: darker, linearly from white at
// the longest run's length; "never" when most did not reach it, as sweep.csv's median). Read from compare.json's variants
// ("base", "grid") and each run's summary and metrics (lab/summary.h, as bnlab sweep collect reads them).
// Not a sweep, or a grid of one key or of three: no figure, a note saying what the figure needs.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "lab/summary.h"
#include "run/rundir.h"

#define SM_MAX_BASES 8
#define SM_MAX_SEEDS 64

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Index of v among vals[0..n) (sorted, distinct), adding it if new.
static int value_index(double *vals, int *n, double v) {
    for (int i = 0; i < *n; i++)
        if (vals[i] == v) return i;
    if (*n == FIG_MAX_CAT) return -1;
    vals[(*n)++] = v;
    qsort(vals, (size_t)*n, sizeof *vals, cmp_double);
    for (int i = 0; i < *n; i++)
        if (vals[i] == v) return i;
    return -1;
}

static int not_a_sweep(figmodel_t *m, const char *why) {
    figmodel_init(m, "sweep_map", 0, 1);
    snprintf(m->note, sizeof m->note, "The two-key sweep map: %s (it draws a sweep over two grid keys, e.g. bnlab "
             "sweep configs/sweep-depth-lr.json: depth x learning rate).", why);
    return 1;
}

int fig_sweep_map(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    if (!src->is_compare) return not_a_sweep(m, "this is one run");
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, src->dir, CMPDIR_SPEC);
    cJSON *root = view_compare_json_read(path);
    if (!root) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *g0 = cJSON_GetObjectItemCaseSensitive(vars ? vars->child : NULL, "grid");
    const char *key[2] = {NULL, NULL};
    int nkeys = 0, rc = 0;
    for (const cJSON *g = cJSON_IsObject(g0) ? g0->child : NULL; g; g = g->next, nkeys++)
        if (nkeys < 2) key[nkeys] = g->string;
    if (nkeys != 2) {
        cJSON_Delete(root);
        return not_a_sweep(m, nkeys ? "its grid has not two keys" : "this comparison has no grid");
    }
    long seeds[SM_MAX_SEEDS];
    int ns = src->n_spec_seeds < SM_MAX_SEEDS ? src->n_spec_seeds : SM_MAX_SEEDS;
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    for (int k = 0; k < ns; k++) seeds[k] = (long)cJSON_GetArrayItem(sd, k)->valuedouble;
    // The cells: per base, grid point (row = key 0's value, column = key 1's): median final accuracy, diverged seeds.
    char bases[SM_MAX_BASES][VIEW_NAME_MAX];
    view_variant_t bv[SM_MAX_BASES];
    int nb = 0, nrow = 0, ncol = 0, more = 0;
    double rows[FIG_MAX_CAT], cols[FIG_MAX_CAT];
    typedef struct { int base; double r, c, acc, steps, diverged; } cell_t;
    double target[1] = {NAN}, most_steps = 1;  // the first target; the longest run (steps), for the colour scale
    double shortest = INFINITY, longest = 0;    // the completed runs' lengths: "after N steps" when they are equal
    const cJSON *tg = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "targets"), 0);
    int has_target = cJSON_IsNumber(tg);
    if (has_target) target[0] = tg->valuedouble;
    int ncell = 0, cap = cJSON_GetArraySize(vars);
    cell_t *cell = xcalloc((size_t)(cap > 0 ? cap : 1), sizeof *cell, "sweep map");
    for (const cJSON *v = vars->child; v && rc == 0; v = v->next) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(v, "grid"), *b = cJSON_GetObjectItemCaseSensitive(v, "base");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        const cJSON *a0 = cJSON_GetObjectItemCaseSensitive(g, key[0]), *a1 = cJSON_GetObjectItemCaseSensitive(g, key[1]);
        if (!cJSON_IsString(name) || !cJSON_IsNumber(a0) || !cJSON_IsNumber(a1)) {
            rc = 2;  // not a grid of numbers: said below
            break;
        }
        const char *base = cJSON_IsString(b) ? b->valuestring : name->valuestring;
        int bi = 0;
        while (bi < nb && strcmp(bases[bi], base)) bi++;
        if (bi == nb) {
            if (nb == SM_MAX_BASES) {
                more = 1;
                continue;
            }
            view_copy_utf8(bases[nb], sizeof bases[nb], base);
            char run[BNLAB_PATH_MAX];
            rundir_of_seed(run, sizeof run, src->dir, name->valuestring, seeds[0]);
            view_run_variant(run, &bv[nb]);
            view_copy_utf8(bv[nb].name, sizeof bv[nb].name, bases[nb]);
            memset(bv[nb].setting, 0, sizeof bv[nb].setting);  // a base is its network: the settings are the grid's
            nb++;
        }
        // Values are added in sorted order; cells keep the values themselves and are placed at the end.
        if (value_index(rows, &nrow, a0->valuedouble) < 0 || value_index(cols, &ncol, a1->valuedouble) < 0) {
            more = 1;
            continue;
        }
        variant_result_t vr;
        variant_result_read(&vr, src->dir, name->valuestring, seeds, ns, target, has_target);
        double acc[SM_MAX_SEEDS], steps[SM_MAX_SEEDS];
        int n = 0, div = 0;
        for (int k = 0; k < vr.n_seeds; k++) {
            const run_result_t *rr = &vr.runs[k];
            if (rr->ok) {
                acc[n] = rr->final_acc;
                steps[n++] = has_target && rr->steps_to[0] >= 0 ? (double)rr->steps_to[0] : INFINITY;
                double len = rr->curve.n ? (double)rr->curve.step[rr->curve.n - 1] : NAN;
                if (len > most_steps) most_steps = len;
                if (len < shortest) shortest = len;
                if (len > longest) longest = len;
            }
            div += rr->diverged;
        }
        cell[ncell++] = (cell_t){bi, a0->valuedouble, a1->valuedouble, n ? median(acc, n) : NAN, n ? median(steps, n) : NAN, div};
        variant_result_free(&vr);
    }
    if (rc == 2) {
        cJSON_Delete(root), free(cell);
        return not_a_sweep(m, "its grid values are not all numbers");
    }
    view_name_variants(bv, nb, 1);  // the panels' titles in words, as every comparison's legends (view/variant.h)
    // The one order of view/variant.h: no normalization first, then BN, ...
    int order[SM_MAX_BASES];
    for (int i = 0; i < nb; i++) order[i] = i;
    for (int i = 1; i < nb; i++)
        for (int j = i; j > 0 && bv[order[j]].cls < bv[order[j - 1]].cls; j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    int rows_of_panels = has_target ? 2 : 1;
    figmodel_init(m, "sweep_map", rows_of_panels * nb, nb);
    snprintf(m->xlabel, sizeof m->xlabel, "%s", fig_grid_key_words(key[1]));
    char also[96] = "";
    if (has_target) snprintf(also, sizeof also, "; below, the median steps to %g%% (darker: fewer)", 100 * target[0]);
    char after[48] = "";  // what every cell trained for, when it is the same (issue 21: say the steps per point)
    if (longest > 0 && shortest == longest) snprintf(after, sizeof after, " after %.0f steps", longest);
    snprintf(m->title, sizeof m->title, "Final test accuracy%s at each %s and %s: the median over the completed "
             "seeds (%d in the spec; darker: higher; white: chance, 0.1)%s; hatched: a seed diverged%s", after,
             fig_grid_key_words(key[0]), fig_grid_key_words(key[1]), ns, also, more ? ". Some grid points left out (at most 8 bases, 16 values per key)" : "");
    for (int q = 0; q < rows_of_panels * nb; q++) {
        int pi = q % nb, bi = order[pi], row = q / nb;
        figpanel_t *p = &m->p[q];
        if (row) snprintf(p->title, sizeof p->title, "%s: steps to %g%% test accuracy", bv[bi].label, 100 * target[0]);
        else snprintf(p->title, sizeof p->title, "%s: final accuracy", bv[bi].label);
        snprintf(p->ylabel, sizeof p->ylabel, "%s", fig_grid_key_words(key[0]));
        snprintf(p->note, sizeof p->note, "no run");
        p->nxcat = ncol, p->nycat = nrow;
        for (int i = 0; i < ncol; i++) snprintf(p->xcat[i], sizeof p->xcat[i], "%g", cols[i]);
        for (int i = 0; i < nrow; i++) snprintf(p->ycat[i], sizeof p->ycat[i], "%g", rows[i]);
        p->x0 = -0.5, p->x1 = ncol - 0.5, p->y0 = -0.5, p->y1 = nrow - 0.5, p->yfixed = 1;
        series_t s;
        series_init(&s, 5);
        for (int c = 0; c < ncell; c++) {
            if (cell[c].base != bi) continue;
            int r = 0, k = 0;
            while (rows[r] != cell[c].r) r++;
            while (cols[k] != cell[c].c) k++;
            series_add(&s, (double[5]){k, r, row ? cell[c].steps : cell[c].acc, cell[c].diverged, ns});
        }
        figcurve_t *fc = figmodel_add(p, CURVE_CELLS, &s, 0, 1, 0, bv[bi].color, 0, 1, 1, NULL);
        if (fc && row) fc->lo = most_steps, fc->hi = 0, fc->digits = 0;  // fewer steps: darker
        else if (fc) fc->lo = 0.1, fc->hi = 1, fc->digits = 2;
        series_free(&s);
    }
    cJSON_Delete(root);
    free(cell);
    return 0;
}
