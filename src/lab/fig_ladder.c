// ladder: the ablation ladder of a comparison (configs/ablations.json, docs/anatomy.md) as a dot plot. One row per
// variant, in the one order of view/variant.h (no normalization first), named as in every legend (view_name_variants:
// what its BN layers keep or lose, "BN: centring only", "BN in hidden layer 3 only", "no BN, LSUV init"; --label
// NAME=TEXT replaces the words). Panels:
//   final test accuracy                  each seed (small, faint), the median over seeds (large, the variant's
//                                         marker) and the range (a bar from the lowest to the highest seed)
//   steps to each target of compare.json  the same for the first logged evaluation at or above the target; a seed
//                                         that never got there is no dot: its row says "never" or "k of n never"
//                                         and the bar runs to the axis's end (the longest run), as summary.md's
//                                         "75 (50–never)"
// The numbers are lab/summary.h's (seed_stats: the median of an even count is the mean of the middle two; a target
// never reached counts as +infinity), so the figure says what summary.json says. One run, or a comparison of one
// variant: no figure (a ladder needs rungs).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "lab/summary.h"
#include "run/rundir.h"

// The targets of the comparison (compare.json "targets"): their number (at most SUMMARY_MAX_TARGETS), -1 + message.
static int read_targets(const char *dir, double *t) {
    char path[BNLAB_PATH_MAX];
    path_fmt(path, BNLAB_PATH_MAX, "%s/compare.json", dir);
    cJSON *root = view_compare_json_read(path);
    if (!root) return -1;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "targets"), *e;
    int n = 0, rc = 0;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble > 0 && e->valuedouble <= 1)) {
            rc = bnlab_fail("%s: targets[%d]: expected an accuracy in (0, 1], found %s", path, n,
                            cJSON_IsNumber(e) ? "a number outside it" : "something else");
            break;
        }
        if (n < SUMMARY_MAX_TARGETS) t[n++] = e->valuedouble;
    }
    cJSON_Delete(root);
    return rc < 0 ? -1 : n;
}

// One row of a panel: the seeds' values (finite ones only), the median's mark, the range's bar [lo, hi] (hi may be
// the axis's end) at y.
static void row(figpanel_t *p, const view_variant_t *v, const double *x, int n, double med, double lo, double hi, double y) {
    series_t s;
    series_init(&s, 3);
    for (int k = 0; k < n && n > 1; k++)  // one seed: its value is the mark
        if (isfinite(x[k])) series_add(&s, (double[3]){x[k], y, 0});
    if (s.n) figmodel_add(p, CURVE_POINTS, &s, 0, 1, 0, v->color, v->style, 3, 0.45, NULL);
    series_free(&s);
    if (isfinite(lo) && isfinite(hi) && hi > lo) {
        series_init(&s, 3);
        series_add(&s, (double[3]){lo, y - 0.09, y + 0.09});
        series_add(&s, (double[3]){hi, y - 0.09, y + 0.09});
        figmodel_add(p, CURVE_BAND, &s, 0, 1, 2, v->color, 0, 1, 0.6, NULL);
        series_free(&s);
    }
    if (isfinite(med)) {
        series_init(&s, 3);
        series_add(&s, (double[3]){med, y, 0});
        figmodel_add(p, CURVE_POINTS, &s, 0, 1, 0, v->color, v->style, 7, 1, NULL);
        series_free(&s);
    }
}

int fig_ladder(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    if (!src->is_compare || src->nv < 2) {
        figmodel_init(m, "ladder", 0, 1);
        snprintf(m->note, sizeof m->note, "The ablation ladder: a comparison's figure, one row per variant (bnlab "
                 "compare configs/ablations.json); this is %s.", src->is_compare ? "a comparison of one variant" : "one run");
        return 1;
    }
    double targets[SUMMARY_MAX_TARGETS];
    int nt = read_targets(src->dir, targets);
    if (nt < 0) return -1;
    variant_result_t *vr = xcalloc((size_t)src->nv, sizeof *vr, "ladder");
    int done = 0;
    double last = 0;  // the longest run's last evaluation: the steps axis's end
    for (int i = 0; i < src->nv; i++) {
        variant_result_read(&vr[i], src->dir, src->v[i].name, src->seeds, src->ns, targets, nt);
        for (int k = 0; k < src->ns; k++) {
            const run_result_t *r = &vr[i].runs[k];
            done += r->ok;
            if (r->ok && r->curve.n) last = fmax(last, (double)r->curve.step[r->curve.n - 1]);
        }
    }
    if (!done) {
        figmodel_init(m, "ladder", 0, 1);
        snprintf(m->note, sizeof m->note, "The ablation ladder: no run of this comparison has completed yet (it is "
                 "drawn from each completed run's metrics.csv, as summary.md).");
    } else {
        // A panel per target some seed reached; those no seed reached are named in the title instead of drawn empty.
        int np = 1, nv = src->nv, tj[1 + SUMMARY_MAX_TARGETS] = {0};
        strbuf_t unreached = {0};
        for (int t = 0; t < nt; t++) {
            int any = 0;
            for (int i = 0; i < nv; i++) any |= seeds_reached(&vr[i], t) > 0;
            if (any) tj[np++] = t;
            else strbuf_printf(&unreached, "%s%g %%", unreached.len ? " or " : "", 100 * targets[t]);
        }
        figmodel_init(m, "ladder", np, 1);  // one column: the rows' names fit once per panel, at full width
        char what[160];
        if (src->ns > 1) snprintf(what, sizeof what, "the median over %d seeds (large mark), the range (bar), each seed "
                                  "(small dot)", src->ns);
        else snprintf(what, sizeof what, "one seed (seed %ld)", src->seeds[0]);
        snprintf(m->title, sizeof m->title, "Each rung: %s%s%s%s", what, unreached.len ? ". No seed reached " : "",
                 unreached.len ? unreached.s : "", unreached.len ? "." : "");
        free(unreached.s);
        char words[VIEW_MAX_VARIANTS][44];  // each row's name: its legend's words (view/variant.h)
        for (int i = 0; i < nv; i++) view_copy_utf8(words[i], sizeof words[i], src->v[i].label);
        double xlo = INFINITY, xhi = -INFINITY;
        for (int j = 0; j < np; j++) {
            figpanel_t *p = &m->p[j];
            p->nycat = nv, p->xfixed = 1;
            if (j == 0) {
                snprintf(p->title, sizeof p->title, "Final test accuracy");
                snprintf(p->xlabel, sizeof p->xlabel, "test accuracy at the last step");
            } else {
                snprintf(p->title, sizeof p->title, "Steps to %g %% test accuracy", 100 * targets[tj[j]]);
                snprintf(p->xlabel, sizeof p->xlabel, "training steps (the first evaluation at or above %g %%)", 100 * targets[tj[j]]);
            }
            for (int i = 0; i < nv; i++) {
                const view_variant_t *v = &src->v[i];
                double y = nv - 1 - i, x[VIEW_MAX_SEEDS];
                int n = 0, never = 0, ok = 0;
                for (int k = 0; k < src->ns; k++) {
                    const run_result_t *r = &vr[i].runs[k];
                    if (!r->ok) continue;
                    ok++;
                    if (j == 0) x[n++] = r->final_acc;
                    else if (r->steps_to[tj[j]] >= 0) x[n++] = (double)r->steps_to[tj[j]];
                    else never++;
                }
                seed_stats_t a = seed_stats(&vr[i], j == 0 ? SEED_FINAL_ACC : SEED_STEPS_TO, tj[j]);
                double hi = isfinite(a.hi) ? a.hi : last;
                if (j == 0) xlo = fmin(xlo, a.lo), xhi = fmax(xhi, a.hi);
                row(p, v, x, n, a.med, a.lo, hi, y);
                char cat[128];  // the words and what the row lacks, cut to FIG_CAT_LEN at a character's edge
                if (j > 0 && never == ok && ok) snprintf(cat, sizeof cat, "%.43s: never", words[i]);
                else if (j > 0 && never) snprintf(cat, sizeof cat, "%.43s: %d of %d never", words[i], never, ok);
                else if (!ok) snprintf(cat, sizeof cat, "%.43s: not completed", words[i]);
                else snprintf(cat, sizeof cat, "%.43s", words[i]);
                view_copy_utf8(p->ycat[nv - 1 - i], FIG_CAT_LEN, cat);
            }
            if (j > 0) p->x0 = 0, p->x1 = last > 0 ? last : 1;
        }
        double pad = 0.05 * (xhi > xlo ? xhi - xlo : 0.1);
        m->p[0].x0 = fmax(0, xlo - pad), m->p[0].x1 = fmin(1, xhi + pad);
        figmodel_finish(m, 0, 0, 0);
    }
    for (int i = 0; i < src->nv; i++) variant_result_free(&vr[i]);
    free(vr);
    return done ? 0 : 1;
}
