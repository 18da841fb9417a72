#include "lab/summary.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "run/rundir.h"
#include "io/jsonfile.h"
#include "run/runlog.h"

#define CURVE_MAX_ROWS 10000000

int curve_read(curve_t *c, const char *path) {
    memset(c, 0, sizeof *c);
    csv_table_t t;
    if (csv_table_read(&t, path, (size_t)1 << 30) != 0) return -1;
    int step_col = csv_column(t.header, "step", path), acc_col = step_col < 0 ? -1 : csv_column(t.header, "test_acc", path);
    size_t rows = 0;
    for (size_t i = 0; i < t.len; i++) rows += t.text[i] == '\n';
    if (acc_col < 0 || rows > CURVE_MAX_ROWS) {
        csv_table_free(&t);
        return acc_col < 0 ? -1 : bnlab_fail("%s: too many rows", path);
    }
    c->step = xmalloc(sizeof(long) * (rows + 1), "curve steps");
    c->acc = xmalloc(sizeof(double) * (rows + 1), "curve accuracies");
    while (csv_table_next(&t)) {
        if (csv_field_long(t.row, step_col, &c->step[c->n]) != 0 || csv_field_double(t.row, acc_col, &c->acc[c->n]) != 0) {
            int lineno = t.lineno;
            curve_free(c);
            csv_table_free(&t);
            return bnlab_fail("%s:%d: malformed row", path, lineno);
        }
        c->n++;
    }
    csv_table_free(&t);
    return 0;
}

void curve_free(curve_t *c) {
    free(c->step);
    free(c->acc);
    memset(c, 0, sizeof *c);
}

long steps_to_target(const curve_t *c, double target) {
    for (int i = 0; i < c->n; i++)
        if (c->acc[i] >= target) return c->step[i];
    return -1;
}

void run_result_from_curve(run_result_t *r, const double *targets, int n_targets) {
    const curve_t *c = &r->curve;
    r->final_acc = c->n ? c->acc[c->n - 1] : NAN;
    r->best_acc = c->n ? c->acc[0] : NAN;
    for (int i = 1; i < c->n; i++)
        if (c->acc[i] > r->best_acc) r->best_acc = c->acc[i];
    for (int t = 0; t < n_targets; t++) r->steps_to[t] = steps_to_target(c, targets[t]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(double *v, int n) {
    if (n == 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

seed_stats_t seed_stats(const variant_result_t *v, seed_quantity_t what, int target) {
    double *x = xmalloc(sizeof(double) * (size_t)(v->n_seeds + 1), "seed values");
    int n = 0;
    for (int s = 0; s < v->n_seeds; s++) {
        const run_result_t *r = &v->runs[s];
        if (!r->ok) continue;
        if (what == SEED_FINAL_ACC) x[n++] = r->final_acc;
        else if (what == SEED_BEST_ACC) x[n++] = r->best_acc;
        else x[n++] = r->steps_to[target] < 0 ? INFINITY : (double)r->steps_to[target];
    }
    seed_stats_t a = {NAN, NAN, NAN, NAN, NAN, n};
    if (n > 0) {
        double sum = 0, ss = 0;
        for (int i = 0; i < n; i++) sum += x[i];
        a.mean = sum / n;
        for (int i = 0; i < n; i++) ss += (x[i] - a.mean) * (x[i] - a.mean);
        a.sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
        a.med = median(x, n);  // sorts x
        a.lo = x[0];
        a.hi = x[n - 1];
    }
    free(x);
    return a;
}

int seeds_reached(const variant_result_t *v, int target) {
    int reached = 0;
    for (int s = 0; s < v->n_seeds; s++) reached += v->runs[s].ok && v->runs[s].steps_to[target] >= 0;
    return reached;
}

void variant_result_read(variant_result_t *v, const char *cmp_dir, const char *name, const long *seeds, int n_seeds,
                         const double *targets, int n_targets) {
    v->name = name;
    v->n_seeds = n_seeds;
    v->runs = xcalloc((size_t)n_seeds, sizeof(run_result_t), "run results");
    for (int s = 0; s < n_seeds; s++) {
        char run[BNLAB_PATH_MAX], metrics[BNLAB_PATH_MAX];
        rundir_of_seed(run, sizeof run, cmp_dir, name, seeds[s]);
        rundir_file(metrics, sizeof metrics, run, RUNDIR_METRICS_CSV);
        run_result_t *r = &v->runs[s];
        size_t len = strlen(run) + 1;
        r->dir = memcpy(xmalloc(len, "run directory"), run, len);
        if (rundir_completed(run) && curve_read(&r->curve, metrics) == 0) {
            r->ok = 1;
            run_result_from_curve(r, targets, n_targets);
        } else r->diverged = rundir_status(run) == RUN_DIVERGED;
    }
}

void variant_result_free(variant_result_t *v) {
    for (int s = 0; s < v->n_seeds; s++) curve_free(&v->runs[s].curve), free(v->runs[s].dir);
    free(v->runs);
    v->runs = NULL;
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

// Non-finite entries (a target never reached) are written as null.
static cJSON *agg_json(seed_stats_t a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "median", num_or_null(a.med));
    cJSON_AddItemToObject(o, "min", num_or_null(a.lo));
    cJSON_AddItemToObject(o, "max", num_or_null(a.hi));
    return o;
}

cJSON *summary_to_json(const variant_result_t *v, int nv, const double *targets, int nt) {
    cJSON *root = cJSON_CreateObject();
    cJSON *tj = cJSON_AddArrayToObject(root, "targets");
    for (int t = 0; t < nt; t++) cJSON_AddItemToArray(tj, cJSON_CreateNumber(targets[t]));
    cJSON_AddStringToObject(root, "reference_variant", nv ? v[0].name : "");
    cJSON *vars = cJSON_AddArrayToObject(root, "variants");
    for (int i = 0; i < nv; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v[i].name);
        cJSON_AddNumberToObject(o, "seeds", v[i].n_seeds);
        seed_stats_t fin = seed_stats(&v[i], SEED_FINAL_ACC, 0);
        cJSON_AddNumberToObject(o, "completed", fin.n);
        cJSON_AddItemToObject(o, "final_test_acc", agg_json(fin));
        cJSON_AddItemToObject(o, "best_test_acc", agg_json(seed_stats(&v[i], SEED_BEST_ACC, 0)));
        cJSON *st = cJSON_AddArrayToObject(o, "steps_to_target");
        for (int t = 0; t < nt; t++) {
            seed_stats_t a = seed_stats(&v[i], SEED_STEPS_TO, t), ref = seed_stats(&v[0], SEED_STEPS_TO, t);
            cJSON *e = agg_json(a);
            cJSON_AddNumberToObject(e, "target", targets[t]);
            cJSON_AddNumberToObject(e, "seeds_reached", seeds_reached(&v[i], t));
            cJSON_AddItemToObject(e, "ratio_to_reference",
                                  num_or_null(isfinite(a.med) && isfinite(ref.med) ? a.med / ref.med : NAN));
            cJSON_AddItemToArray(st, e);
        }
        cJSON_AddItemToArray(vars, o);
    }
    return root;
}

static void fmt_steps(char *out, size_t cap, seed_stats_t a) {
    if (a.n == 0) snprintf(out, cap, "n/a");
    else if (!isfinite(a.med)) snprintf(out, cap, "never");
    else if (a.lo == a.hi) snprintf(out, cap, "%.0f", a.med);
    else if (!isfinite(a.hi)) snprintf(out, cap, "%.0f (%.0f–never)", a.med, a.lo);
    else snprintf(out, cap, "%.0f (%.0f–%.0f)", a.med, a.lo, a.hi);
}

// "0.9815 (0.9789–0.9819)" over several seeds; over one, the value alone (a range of one value says nothing).
static void fmt_acc(char *out, size_t cap, seed_stats_t a) {
    if (a.n == 1) snprintf(out, cap, "%.4f", a.med);
    else snprintf(out, cap, "%.4f (%.4f–%.4f)", a.med, a.lo, a.hi);
}

// The ratio lines of one target: a line per variant that got there (and the reference did), and the variants that
// did not (median seed) folded into one line, so a sweep of many grid points gives a line each, not a page.
static void ratio_lines(strbuf_t *b, const variant_result_t *v, int nv, const double *targets, int t) {
    const double pct = 100 * targets[t];
    seed_stats_t r = seed_stats(&v[0], SEED_STEPS_TO, t);
    strbuf_t never = {0};
    int n_never = 0;
    for (int i = 1; i < nv; i++) {
        seed_stats_t a = seed_stats(&v[i], SEED_STEPS_TO, t);
        if (isfinite(a.med) && r.med == 0)  // no ratio to a start that was already there
            strbuf_printf(b, "- %g%%: %s took %.0f steps; %s was there at step 0 (median seed)\n", pct, v[i].name,
                          a.med, v[0].name);
        else if (isfinite(a.med) && isfinite(r.med))
            strbuf_printf(b, "- %g%%: %s needs %.2f× the steps of %s (%.0f vs %.0f)\n", pct, v[i].name,
                          a.med / r.med, v[0].name, a.med, r.med);
        else if (isfinite(a.med))
            strbuf_printf(b, "- %g%%: %s took %.0f steps; %s never got there (median seed)\n", pct, v[i].name, a.med,
                          v[0].name);
        else strbuf_printf(&never, "%s%s", n_never++ ? ", " : "", v[i].name);
    }
    if (n_never == 1 && isfinite(r.med))
        strbuf_printf(b, "- %g%%: %s never got there (median seed) within its run; %s took %.0f steps\n", pct,
                      never.s, v[0].name, r.med);
    else if (n_never && isfinite(r.med))
        strbuf_printf(b, "- %g%%: never got there (median seed) within their runs: %s; %s took %.0f steps\n", pct,
                      never.s, v[0].name, r.med);
    else if (n_never == 1)
        strbuf_printf(b, "- %g%%: neither %s nor %s got there (median seed)\n", pct, never.s, v[0].name);
    else if (n_never)
        strbuf_printf(b, "- %g%%: none got there (median seed): %s, %s\n", pct, v[0].name, never.s);
    free(never.s);
}

char *summary_to_markdown(const variant_result_t *v, int nv, const double *targets, int nt) {
    strbuf_t b = {0};
    strbuf_printf(&b, "| variant | seeds | final test acc, median (range) | best test acc, median (range) |");
    for (int t = 0; t < nt; t++) strbuf_printf(&b, " steps to %g%% |", 100 * targets[t]);
    strbuf_printf(&b, "\n|---|---|---|---|");
    for (int t = 0; t < nt; t++) strbuf_printf(&b, "---|");
    strbuf_printf(&b, "\n");
    for (int i = 0; i < nv; i++) {
        seed_stats_t f = seed_stats(&v[i], SEED_FINAL_ACC, 0), bst = seed_stats(&v[i], SEED_BEST_ACC, 0);
        char fs[64], bs[64];
        fmt_acc(fs, sizeof fs, f), fmt_acc(bs, sizeof bs, bst);
        strbuf_printf(&b, "| %s | %d/%d | %s | %s |", v[i].name, f.n, v[i].n_seeds, fs, bs);
        for (int t = 0; t < nt; t++) {
            char s[64];
            fmt_steps(s, sizeof s, seed_stats(&v[i], SEED_STEPS_TO, t));
            strbuf_printf(&b, " %s |", s);
        }
        strbuf_printf(&b, "\n");
    }
    // Ratios against the reference (first) variant, target by target.
    if (nv > 1 && nt > 0) strbuf_printf(&b, "\nSteps to reach a target, median over seeds, relative to **%s**:\n\n", v[0].name);
    for (int t = 0; nv > 1 && t < nt; t++) ratio_lines(&b, v, nv, targets, t);
    return b.s;
}

int summary_write_curves(const char *path, const variant_result_t *v, int nv) {
    strbuf_t b = {0};
    strbuf_printf(&b, CMPDIR_CURVES_HEADER);
    for (int i = 0; i < nv; i++) {
        // Steps of the first completed seed; every seed of a variant logs at the same steps.
        const curve_t *ref = NULL;
        for (int s = 0; s < v[i].n_seeds && !ref; s++)
            if (v[i].runs[s].ok) ref = &v[i].runs[s].curve;
        if (!ref) continue;
        double *x = xmalloc(sizeof(double) * (size_t)(v[i].n_seeds + 1), "curve values");
        for (int k = 0; k < ref->n; k++) {
            int n = 0;
            for (int s = 0; s < v[i].n_seeds; s++) {
                const run_result_t *r = &v[i].runs[s];
                if (r->ok && k < r->curve.n && r->curve.step[k] == ref->step[k]) x[n++] = r->curve.acc[k];
            }
            double med = median(x, n);
            strbuf_printf(&b, "%s,%ld,%d,%.9g,%.9g,%.9g\n", v[i].name, ref->step[k], n, med, x[0], x[n - 1]);
        }
        free(x);
    }
    int rc = write_file_atomic(path, b.s, b.len);
    free(b.s);
    return rc;
}

int summary_write_dir(const char *out_dir, const variant_result_t *v, int nv, const double *targets, int nt,
                      int runs_failed, double seconds, cJSON *extra, const char *extra_md) {
    cJSON *sj = summary_to_json(v, nv, targets, nt);
    cJSON_AddNumberToObject(sj, "runs_failed", runs_failed);
    cJSON_AddNumberToObject(sj, "seconds", seconds);
    while (extra && extra->child) {
        cJSON *item = cJSON_DetachItemViaPointer(extra, extra->child);
        cJSON_AddItemToObject(sj, item->string, item);
    }
    cJSON_Delete(extra);
    char *md = summary_to_markdown(v, nv, targets, nt);
    size_t table_len = strlen(md);
    if (extra_md) {
        strbuf_t b = {0};
        strbuf_printf(&b, "%s%s", md, extra_md);
        free(md);
        md = b.s;
    }
    char curves[BNLAB_PATH_MAX], mdpath[BNLAB_PATH_MAX];
    rundir_file(curves, sizeof curves, out_dir, CMPDIR_CURVES);
    rundir_file(mdpath, sizeof mdpath, out_dir, CMPDIR_SUMMARY_MD);
    int rc = write_json(out_dir, CMPDIR_SUMMARY, sj) != 0 || write_file_atomic(mdpath, md, strlen(md)) != 0 ||
             summary_write_curves(curves, v, nv) != 0 ? -1 : 0;
    if (rc == 0) printf("\n%.*s\nsummary: %s/" CMPDIR_SUMMARY_MD ", " CMPDIR_SUMMARY ", " CMPDIR_CURVES "\n", (int)table_len, md, out_dir);
    cJSON_Delete(sj);
    free(md);
    return rc;
}
