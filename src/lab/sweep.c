#include "lab/sweep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/plot.h"
#include "lab/summary.h"
#include "base/util.h"

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

static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (*len + (size_t)n < *cap) {
            *len += (size_t)n;
            return 0;
        }
        *cap = 2 * (*cap + (size_t)n);
        char *p = xmalloc(*cap, "table");
        memcpy(p, *buf, *len);
        free(*buf);
        *buf = p;
    }
}

int sweep_collect(const char *dir) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    path_fmt(path, sizeof path, "%s/compare.json", dir);
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

    size_t clen = 0, ccap = 4096, mlen = 0, mcap = 4096;
    char *csv = xmalloc(ccap, "csv"), *md = xmalloc(mcap, "md");
    append(&csv, &clen, &ccap, "variant,base");
    append(&md, &mlen, &mcap, "| run | base |");
    for (const cJSON *a = axes ? axes->child : NULL; a; a = a->next) {
        append(&csv, &clen, &ccap, ",%s", a->string);
        append(&md, &mlen, &mcap, " %s |", a->string);
    }
    append(&csv, &clen, &ccap, ",seeds,completed");
    const char *q[2] = {"final", "best"};
    for (int k = 0; k < 2; k++)
        append(&csv, &clen, &ccap, ",%s_mean,%s_std,%s_median,%s_min,%s_max", q[k], q[k], q[k], q[k], q[k]);
    for (int t = 0; t < nt; t++)
        append(&csv, &clen, &ccap, ",steps_to_%g_median,steps_to_%g_min,steps_to_%g_max,reached_%g", tg[t], tg[t],
               tg[t], tg[t]);
    append(&csv, &clen, &ccap, "\n");
    append(&md, &mlen, &mcap, " seeds | final acc, mean ± std | median (min–max) | best acc, mean ± std |");
    for (int t = 0; t < nt; t++) append(&md, &mlen, &mcap, " steps to %g%%, median (min–max) |", 100 * tg[t]);
    append(&md, &mlen, &mcap, "\n|---|---|");
    for (const cJSON *a = axes ? axes->child : NULL; a; a = a->next) append(&md, &mlen, &mcap, "---|");
    append(&md, &mlen, &mcap, "---|---|---|---|");
    for (int t = 0; t < nt; t++) append(&md, &mlen, &mcap, "---|");
    append(&md, &mlen, &mcap, "\n");

    double *fin = xmalloc(sizeof(double) * (size_t)ns, "values"), *bst = xmalloc(sizeof(double) * (size_t)ns, "values");
    double *stp = xmalloc(sizeof(double) * (size_t)ns, "values");
    for (const cJSON *v = vars->child; v; v = v->next) {
        const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(v, "base"), *grid = cJSON_GetObjectItemCaseSensitive(v, "grid");
        run_result_t *runs = xcalloc((size_t)ns, sizeof *runs, "runs");
        int done = 0;
        for (int s = 0; s < ns; s++) {
            char mpath[BNLAB_PATH_MAX];
            path_fmt(mpath, sizeof mpath, "%s/%s/seed-%ld/metrics.csv", dir, name,
                     (long)cJSON_GetArrayItem(seeds, s)->valuedouble);
            char sdir[BNLAB_PATH_MAX];
            path_fmt(sdir, sizeof sdir, "%s/%s/seed-%ld/summary.json", dir, name,
                     (long)cJSON_GetArrayItem(seeds, s)->valuedouble);
            char *st;
            size_t sl;
            int completed = 0;
            if (path_exists(sdir) && read_whole_file(sdir, 1 << 20, &st, &sl) == 0) {
                completed = strstr(st, "\"completed\"") != NULL;
                free(st);
            }
            if (completed && curve_read(&runs[s].curve, mpath) == 0) {
                runs[s].ok = 1;
                run_result_from_curve(&runs[s], tg, nt);
                fin[done] = runs[s].final_acc, bst[done] = runs[s].best_acc;
                done++;
            }
        }
        stat5_t f = stat5(fin, done), b = stat5(bst, done);
        append(&csv, &clen, &ccap, "%s,%s", name, cJSON_IsString(base) ? base->valuestring : name);
        append(&md, &mlen, &mcap, "| %s | %s |", name, cJSON_IsString(base) ? base->valuestring : name);
        for (const cJSON *a = axes ? axes->child : NULL; a; a = a->next) {
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(grid, a->string);
            char *vt = val ? cJSON_PrintUnformatted(val) : NULL;
            append(&csv, &clen, &ccap, ",%s", vt ? vt : "");
            append(&md, &mlen, &mcap, " %s |", vt ? vt : "");
            free(vt);
        }
        append(&csv, &clen, &ccap, ",%d,%d", ns, done);
        stat5_t fs[2] = {f, b};
        for (int k = 0; k < 2; k++)
            if (done) append(&csv, &clen, &ccap, ",%.6g,%.6g,%.6g,%.6g,%.6g", fs[k].mean, fs[k].sd, fs[k].med, fs[k].lo, fs[k].hi);
            else append(&csv, &clen, &ccap, ",,,,,");
        if (done)
            append(&md, &mlen, &mcap, " %d/%d | %.4f ± %.4f | %.4f (%.4f–%.4f) | %.4f ± %.4f |", done, ns, f.mean, f.sd, f.med,
                   f.lo, f.hi, b.mean, b.sd);
        else append(&md, &mlen, &mcap, " 0/%d | — | — | — |", ns);
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
            append(&csv, &clen, &ccap, ",%s,%s,%s,%d", a, lo, hi, reached);
            if (!m) append(&md, &mlen, &mcap, " — |");
            else if (!isfinite(st.med)) append(&md, &mlen, &mcap, " never (%d/%d reached) |", reached, m);
            else append(&md, &mlen, &mcap, " %s (%s–%s) |", a, lo, hi[0] ? hi : "never");
        }
        append(&csv, &clen, &ccap, "\n");
        append(&md, &mlen, &mcap, "\n");
        for (int s = 0; s < ns; s++) curve_free(&runs[s].curve);
        free(runs);
    }
    free(fin), free(bst), free(stp);
    char cpath[BNLAB_PATH_MAX], mpath[BNLAB_PATH_MAX];
    path_fmt(cpath, sizeof cpath, "%s/sweep.csv", dir);
    path_fmt(mpath, sizeof mpath, "%s/sweep.md", dir);
    int rc = write_file_atomic(cpath, csv, clen) != 0 || write_file_atomic(mpath, md, mlen) != 0 ? -1 : 0;
    if (rc == 0) {
        fwrite(md, 1, mlen, stdout);
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
            int n_axes = cJSON_GetArraySize(axes);
            rc = plot_sweep(dir, first->string, n_axes, bases, nb) < 0 ? -1 : 0;
        }
    }
    free(csv);
    free(md);
    cJSON_Delete(spec);
    return rc;
}
