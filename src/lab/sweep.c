#include "lab/sweep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/plot.h"
#include "lab/summary.h"
#include "base/util.h"
#include "run/rundir.h"

typedef struct {
    double mean, sd, med, lo, hi;
    int n;
} stat5_t;

static stat5_t stat5(double *v, int n) {
    stat5_t s = {NAN, NAN, NAN, NAN, NAN, n};
    if (n == 0) return s;
    double sum = 0, ss = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    s.mean = sum / n;
    for (int i = 0; i < n; i++) ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    s.med = median(v, n);  // sorts v
    s.lo = v[0], s.hi = v[n - 1];
    return s;
}

int sweep_collect(const char *dir) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    if (read_whole_file(path, 1 << 24, &text, &len) != 0) return -1;
    cJSON *spec = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(spec, "variants");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(spec, "seeds");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(spec, "targets");
    int nt = cJSON_GetArraySize(targets), ns = cJSON_GetArraySize(seeds);
    if (!cJSON_IsArray(vars) || !cJSON_IsArray(seeds) || !cJSON_IsArray(targets) || nt > SUMMARY_MAX_TARGETS ||
        ns < 1) {
        cJSON_Delete(spec);
        return bnlab_fail("%s: not a bnlab comparison file", path);
    }
    double tg[SUMMARY_MAX_TARGETS];
    for (int t = 0; t < nt; t++) tg[t] = cJSON_GetArrayItem(targets, t)->valuedouble;
    // Grid paths from the first variant that has a grid.
    const cJSON *axes = NULL;
    for (const cJSON *v = vars->child; v && !axes; v = v->next) axes = cJSON_GetObjectItemCaseSensitive(v, "grid");

    strbuf_t csv = {0}, md = {0};
    strbuf_printf(&csv, "variant,base");
    strbuf_printf(&md, "| run | base |");
    for (const cJSON *a = axes ? axes->child : NULL; a; a = a->next) {
        strbuf_printf(&csv, ",%s", a->string);
        strbuf_printf(&md, " %s |", a->string);
    }
    strbuf_printf(&csv, ",seeds,completed");
    const char *q[2] = {"final", "best"};
    for (int k = 0; k < 2; k++)
        strbuf_printf(&csv, ",%s_mean,%s_std,%s_median,%s_min,%s_max", q[k], q[k], q[k], q[k], q[k]);
    for (int t = 0; t < nt; t++)
        strbuf_printf(&csv, ",steps_to_%g_median,steps_to_%g_min,steps_to_%g_max,reached_%g", tg[t], tg[t],
               tg[t], tg[t]);
    strbuf_printf(&csv, "\n");
    strbuf_printf(&md, " seeds | final acc, mean ± std | median (min–max) | best acc, mean ± std |");
    for (int t = 0; t < nt; t++) strbuf_printf(&md, " steps to %g%%, median (min–max) |", 100 * tg[t]);
    strbuf_printf(&md, "\n|---|---|");
    for (const cJSON *a = axes ? axes->child : NULL; a; a = a->next) strbuf_printf(&md, "---|");
    strbuf_printf(&md, "---|---|---|---|");
    for (int t = 0; t < nt; t++) strbuf_printf(&md, "---|");
    strbuf_printf(&md, "\n");

    double *fin = xmalloc(sizeof(double) * (size_t)ns, "values"), *bst = xmalloc(sizeof(double) * (size_t)ns, "values");
    double *stp = xmalloc(sizeof(double) * (size_t)ns, "values");
    for (const cJSON *v = vars->child; v; v = v->next) {
        const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(v, "base"), *grid = cJSON_GetObjectItemCaseSensitive(v, "grid");
        run_result_t *runs = xcalloc((size_t)ns, sizeof *runs, "runs");
        int done = 0;
        for (int s = 0; s < ns; s++) {
            char run[BNLAB_PATH_MAX], mpath[BNLAB_PATH_MAX];
            rundir_of_seed(run, sizeof run, dir, name, (long)cJSON_GetArrayItem(seeds, s)->valuedouble);
            rundir_file(mpath, sizeof mpath, run, RUNDIR_METRICS_CSV);
            int completed = rundir_completed(run);
            if (completed && curve_read(&runs[s].curve, mpath) == 0) {
                runs[s].ok = 1;
                run_result_from_curve(&runs[s], tg, nt);
                fin[done] = runs[s].final_acc, bst[done] = runs[s].best_acc;
                done++;
            }
        }
        stat5_t f = stat5(fin, done), b = stat5(bst, done);
        strbuf_printf(&csv, "%s,%s", name, cJSON_IsString(base) ? base->valuestring : name);
        strbuf_printf(&md, "| %s | %s |", name, cJSON_IsString(base) ? base->valuestring : name);
        for (const cJSON *a = axes ? axes->child : NULL; a; a = a->next) {
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(grid, a->string);
            char *vt = val ? cJSON_PrintUnformatted(val) : NULL;
            strbuf_printf(&csv, ",%s", vt ? vt : "");
            strbuf_printf(&md, " %s |", vt ? vt : "");
            free(vt);
        }
        strbuf_printf(&csv, ",%d,%d", ns, done);
        stat5_t fs[2] = {f, b};
        for (int k = 0; k < 2; k++)
            if (done) strbuf_printf(&csv, ",%.6g,%.6g,%.6g,%.6g,%.6g", fs[k].mean, fs[k].sd, fs[k].med, fs[k].lo, fs[k].hi);
            else strbuf_printf(&csv, ",,,,,");
        if (done)
            strbuf_printf(&md, " %d/%d | %.4f ± %.4f | %.4f (%.4f–%.4f) | %.4f ± %.4f |", done, ns, f.mean, f.sd, f.med,
                   f.lo, f.hi, b.mean, b.sd);
        else strbuf_printf(&md, " 0/%d | — | — | — |", ns);
        for (int t = 0; t < nt; t++) {
            int m = 0, reached = 0;
            for (int s = 0; s < ns; s++)
                if (runs[s].ok) {
                    stp[m++] = runs[s].steps_to[t] < 0 ? INFINITY : (double)runs[s].steps_to[t];
                    reached += runs[s].steps_to[t] >= 0;
                }
            stat5_t st = stat5(stp, m);
            char a[32] = "", lo[32] = "", hi[32] = "";
            if (m && isfinite(st.med)) snprintf(a, sizeof a, "%.0f", st.med);
            if (m && isfinite(st.lo)) snprintf(lo, sizeof lo, "%.0f", st.lo);
            if (m && isfinite(st.hi)) snprintf(hi, sizeof hi, "%.0f", st.hi);
            strbuf_printf(&csv, ",%s,%s,%s,%d", a, lo, hi, reached);
            if (!m) strbuf_printf(&md, " — |");
            else if (!isfinite(st.med)) strbuf_printf(&md, " never (%d/%d reached) |", reached, m);
            else strbuf_printf(&md, " %s (%s–%s) |", a, lo, hi[0] ? hi : "never");
        }
        strbuf_printf(&csv, "\n");
        strbuf_printf(&md, "\n");
        for (int s = 0; s < ns; s++) curve_free(&runs[s].curve);
        free(runs);
    }
    free(fin), free(bst), free(stp);
    char cpath[BNLAB_PATH_MAX], mpath[BNLAB_PATH_MAX];
    rundir_file(cpath, sizeof cpath, dir, CMPDIR_SWEEP_CSV);
    rundir_file(mpath, sizeof mpath, dir, CMPDIR_SWEEP_MD);
    int rc = write_file_atomic(cpath, csv.s, csv.len) != 0 || write_file_atomic(mpath, md.s, md.len) != 0 ? -1 : 0;
    if (rc == 0) {
        fwrite(md.s, 1, md.len, stdout);
        printf("\nsweep: %s, %s\n", cpath, mpath);
        // Plot when the first grid path takes numbers (a learning rate, a rate of dropout, ...).
        const cJSON *first = axes ? axes->child : NULL;
        const cJSON *g0 = cJSON_GetObjectItemCaseSensitive(vars->child, "grid");
        if (first && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(g0, first->string))) {
            const char *bases[64];
            int nb = 0;
            for (const cJSON *v = vars->child; v && nb < 64; v = v->next) {
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(v, "base");
                int seen = !cJSON_IsString(b);
                for (int k = 0; k < nb && !seen; k++) seen = !strcmp(bases[k], b->valuestring);
                if (!seen) bases[nb++] = b->valuestring;
            }
            rc = plot_sweep(dir, first->string, bases, nb) < 0 ? -1 : 0;
        }
    }
    free(csv.s);
    free(md.s);
    cJSON_Delete(spec);
    return rc;
}
