#include "lab/sweep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/jsonpath.h"
#include "lab/plot.h"
#include "lab/spec.h"
#include "lab/summary.h"
#include "run/rundir.h"

#define SWEEP_MAX_SEEDS 1000

// What sweep collect needs of OUT/compare.json.
typedef struct {
    cJSON *root;
    const cJSON *vars;   // [{"name", "base", "grid"}, ...]
    const cJSON *axes;   // the grid of the first variant that has one: its paths, in order (NULL without a grid)
    long seeds[SWEEP_MAX_SEEDS];
    int ns, nt;
    double tg[SUMMARY_MAX_TARGETS];
} collect_spec_t;

// The values a collect reads of each variant, seed and target, checked once here (a hand-edited or older
// compare.json must give a message, not a crash): targets and seeds into c. -1 + message.
static int check_collect_spec(collect_spec_t *c, const cJSON *seeds, const cJSON *targets, const char *path) {
    for (int t = 0; t < c->nt; t++) {
        const cJSON *v = cJSON_GetArrayItem(targets, t);
        if (!cJSON_IsNumber(v)) return bnlab_fail("%s: targets[%d]: expected a number", path, t);
        c->tg[t] = v->valuedouble;
    }
    for (int s = 0; s < c->ns; s++) {
        const cJSON *v = cJSON_GetArrayItem(seeds, s);
        if (!cJSON_IsNumber(v)) return bnlab_fail("%s: seeds[%d]: expected a number", path, s);
        c->seeds[s] = (long)v->valuedouble;
    }
    int k = 0;
    for (const cJSON *v = c->vars->child; v; v = v->next, k++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name"), *base = cJSON_GetObjectItemCaseSensitive(v, "base");
        if (!cJSON_IsString(name) || !name_valid(name->valuestring))
            return bnlab_fail("%s: variants[%d]: expected a \"name\" (letters, digits, -_.), found %s", path, k,
                              cJSON_IsString(name) ? name->valuestring : name ? "another type" : "none");
        if (base && !cJSON_IsString(base))
            return bnlab_fail("%s: variants[%d].base: expected a string", path, k);
    }
    if (k == 0) return bnlab_fail("%s: variants: expected at least one", path);
    return 0;
}

static int read_collect_spec(collect_spec_t *c, const char *dir) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    if (!(c->root = compare_json_read(path))) return -1;
    c->vars = cJSON_GetObjectItemCaseSensitive(c->root, "variants");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(c->root, "seeds");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(c->root, "targets");
    c->nt = cJSON_GetArraySize(targets), c->ns = cJSON_GetArraySize(seeds);
    if (!cJSON_IsArray(c->vars) || !cJSON_IsArray(seeds) || !cJSON_IsArray(targets) || c->nt > SUMMARY_MAX_TARGETS ||
        c->ns < 1 || c->ns > SWEEP_MAX_SEEDS) {
        cJSON_Delete(c->root);
        return bnlab_fail("%s: not a bnlab comparison file", path);
    }
    if (check_collect_spec(c, seeds, targets, path) != 0) {
        cJSON_Delete(c->root);
        return -1;
    }
    c->axes = NULL;
    for (const cJSON *v = c->vars->child; v && !c->axes; v = v->next) c->axes = cJSON_GetObjectItemCaseSensitive(v, "grid");
    return 0;
}

static void write_headers(strbuf_t *csv, strbuf_t *md, const collect_spec_t *c) {
    strbuf_printf(csv, "variant,base");
    strbuf_printf(md, "| run | base |");
    for (const cJSON *a = c->axes ? c->axes->child : NULL; a; a = a->next) {
        strbuf_printf(csv, ",%s", a->string);
        strbuf_printf(md, " %s |", a->string);
    }
    strbuf_printf(csv, ",seeds,completed");
    const char *q[2] = {"final", "best"};
    for (int k = 0; k < 2; k++)
        strbuf_printf(csv, ",%s_mean,%s_std,%s_median,%s_min,%s_max", q[k], q[k], q[k], q[k], q[k]);
    for (int t = 0; t < c->nt; t++)
        strbuf_printf(csv, ",steps_to_%g_median,steps_to_%g_min,steps_to_%g_max,reached_%g", c->tg[t], c->tg[t],
                      c->tg[t], c->tg[t]);
    strbuf_printf(csv, "\n");
    strbuf_printf(md, " seeds | final acc, mean ± std | median (min–max) | best acc, mean ± std |");
    for (int t = 0; t < c->nt; t++) strbuf_printf(md, " steps to %g%%, median (min–max) |", 100 * c->tg[t]);
    strbuf_printf(md, "\n|---|---|");
    for (const cJSON *a = c->axes ? c->axes->child : NULL; a; a = a->next) strbuf_printf(md, "---|");
    strbuf_printf(md, "---|---|---|---|");
    for (int t = 0; t < c->nt; t++) strbuf_printf(md, "---|");
    strbuf_printf(md, "\n");
}

// The steps-to-target cells of one run's row.
static void write_steps_cells(strbuf_t *csv, strbuf_t *md, const variant_result_t *vr, const collect_spec_t *c) {
    for (int t = 0; t < c->nt; t++) {
        seed_stats_t st = seed_stats(vr, SEED_STEPS_TO, t);
        int m = st.n, reached = seeds_reached(vr, t);
        char a[32] = "", lo[32] = "", hi[32] = "";
        if (m && isfinite(st.med)) snprintf(a, sizeof a, "%.0f", st.med);
        if (m && isfinite(st.lo)) snprintf(lo, sizeof lo, "%.0f", st.lo);
        if (m && isfinite(st.hi)) snprintf(hi, sizeof hi, "%.0f", st.hi);
        strbuf_printf(csv, ",%s,%s,%s,%d", a, lo, hi, reached);
        if (!m) strbuf_printf(md, " — |");
        else if (!isfinite(st.med)) strbuf_printf(md, " never (%d/%d reached) |", reached, m);
        else if (st.lo == st.hi) strbuf_printf(md, " %s |", a);  // one seed, or all alike: no range to show
        else strbuf_printf(md, " %s (%s–%s) |", a, lo, hi[0] ? hi : "never");
    }
}

// One row per run (a variant at a grid point), over its seeds that completed.
static void write_row(strbuf_t *csv, strbuf_t *md, const cJSON *v, const char *dir, const collect_spec_t *c) {
    const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(v, "base"), *grid = cJSON_GetObjectItemCaseSensitive(v, "grid");
    variant_result_t vr;
    variant_result_read(&vr, dir, name, c->seeds, c->ns, c->tg, c->nt);
    seed_stats_t f = seed_stats(&vr, SEED_FINAL_ACC, 0), b = seed_stats(&vr, SEED_BEST_ACC, 0);
    int done = f.n, ns = c->ns;
    strbuf_printf(csv, "%s,%s", name, cJSON_IsString(base) ? base->valuestring : name);
    strbuf_printf(md, "| %s | %s |", name, cJSON_IsString(base) ? base->valuestring : name);
    for (const cJSON *a = c->axes ? c->axes->child : NULL; a; a = a->next) {
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(grid, a->string);
        char *vt = val ? cJSON_PrintUnformatted(val) : NULL;
        strbuf_printf(csv, ",%s", vt ? vt : "");
        strbuf_printf(md, " %s |", vt ? vt : "");
        free(vt);
    }
    strbuf_printf(csv, ",%d,%d", ns, done);
    seed_stats_t fs[2] = {f, b};
    for (int k = 0; k < 2; k++)
        if (done) strbuf_printf(csv, ",%.6g,%.6g,%.6g,%.6g,%.6g", fs[k].mean, fs[k].sd, fs[k].med, fs[k].lo, fs[k].hi);
        else strbuf_printf(csv, ",,,,,");
    if (done == 1)  // one seed: its values, no spread (a std of one value is not 0, it is undefined)
        strbuf_printf(md, " 1/%d | %.4f | %.4f | %.4f |", ns, f.mean, f.med, b.mean);
    else if (done)
        strbuf_printf(md, " %d/%d | %.4f ± %.4f | %.4f (%.4f–%.4f) | %.4f ± %.4f |", done, ns, f.mean, f.sd, f.med, f.lo,
                      f.hi, b.mean, b.sd);
    else strbuf_printf(md, " 0/%d | — | — | — |", ns);
    write_steps_cells(csv, md, &vr, c);
    strbuf_printf(csv, "\n");
    strbuf_printf(md, "\n");
    variant_result_free(&vr);
}

// sweep.png when the first grid path takes numbers (a learning rate, a rate of dropout, ...): one line per base.
static int plot_if_numeric(const char *dir, const collect_spec_t *c) {
    const cJSON *first = c->axes ? c->axes->child : NULL;
    const cJSON *g0 = cJSON_GetObjectItemCaseSensitive(c->vars->child, "grid");
    if (!first || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(g0, first->string))) return 0;
    return plot_sweep(dir) < 0 ? -1 : 0;
}

int sweep_collect(const char *dir) {
    collect_spec_t c;
    if (read_collect_spec(&c, dir) != 0) return -1;
    strbuf_t csv = {0}, md = {0};
    write_headers(&csv, &md, &c);
    for (const cJSON *v = c.vars->child; v; v = v->next) write_row(&csv, &md, v, dir, &c);
    char cpath[BNLAB_PATH_MAX], mpath[BNLAB_PATH_MAX];
    rundir_file(cpath, sizeof cpath, dir, CMPDIR_SWEEP_CSV);
    rundir_file(mpath, sizeof mpath, dir, CMPDIR_SWEEP_MD);
    int rc = write_file_atomic(cpath, csv.s, csv.len) != 0 || write_file_atomic(mpath, md.s, md.len) != 0 ? -1 : 0;
    if (rc == 0) {
        fwrite(md.s, 1, md.len, stdout);
        printf("\nsweep: %s, %s\n", cpath, mpath);
        rc = plot_if_numeric(dir, &c);
    }
    free(csv.s);
    free(md.s);
    cJSON_Delete(c.root);
    return rc;
}
