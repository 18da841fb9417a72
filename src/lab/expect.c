#include "lab/expect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/jsonpath.h"

static const char *const metric_names[] = {"final_acc", "best_acc", "steps_to", "status", "log", NULL};
static const char *const status_names[] = {"completed", "diverged", "diverged_or_chance", NULL};

// ---- parsing ----

static int variant_index(const char *name, const char *const *variants, int nv) {
    for (int i = 0; i < nv; i++)
        if (!strcmp(variants[i], name)) return i;
    return -1;
}

// A variant name at path.key that the spec runs (key absent: out unchanged). -1 + message.
static int read_variant(const cJSON *o, const char *path, const char *key, char *out, const char *const *variants,
                        int nv) {
    if (jp_string(o, path, key, out, EXPECT_NAME) != 0) return -1;
    if (!out[0] || variant_index(out, variants, nv) >= 0) return 0;
    char p[JP_PATH_MAX];
    jp_join(p, path, key);
    strbuf_t b = {0};
    for (int i = 0; i < nv && i < 12; i++) strbuf_printf(&b, "%s%s", i ? ", " : "", variants[i]);
    if (nv > 12) strbuf_printf(&b, ", ...");
    int rc = bnlab_fail("%s: no variant \"%s\" in this spec (its variants: %s)", p, out, b.s ? b.s : "");
    free(b.s);
    return rc;
}

// "target" of a steps_to expectation: required, and one of the spec's targets (the summary measures only those).
static int read_target(expectation_t *e, const cJSON *o, const char *path, const double *targets, int nt) {
    char p[JP_PATH_MAX];
    jp_join(p, path, "target");
    if (!cJSON_GetObjectItemCaseSensitive(o, "target")) return bnlab_fail("%s: missing (steps_to needs a target)", p);
    e->target_acc = -1;
    if (jp_number(o, path, "target", 0, 1, 1, 0, &e->target_acc) != 0) return -1;
    for (int t = 0; t < nt; t++)
        if (targets[t] == e->target_acc) return e->target = t, 0;
    strbuf_t b = {0};
    for (int t = 0; t < nt; t++) strbuf_printf(&b, "%s%g", t ? ", " : "", targets[t]);
    int rc = bnlab_fail("%s: %g is not one of the spec's targets [%s]", p, e->target_acc, b.s);
    free(b.s);
    return rc;
}

// The bound: exactly one of at_least / at_most (a number) or equals (a status), the one that fits the metric.
static int read_bound(expectation_t *e, const cJSON *o, const char *path) {
    const char *keys[3] = {"at_least", "at_most", "equals"};
    int n = 0;
    for (int k = 0; k < 3; k++)
        if (cJSON_GetObjectItemCaseSensitive(o, keys[k])) e->op = (expect_op_t)k, n++;
    if (n != 1)
        return bnlab_fail("%s: expected exactly one of \"at_least\", \"at_most\", \"equals\", found %d", path, n);
    char p[JP_PATH_MAX];
    jp_join(p, path, keys[e->op]);
    if (e->metric == EXP_STATUS && e->op != EXP_EQUALS)
        return bnlab_fail("%s: a status is compared with \"equals\", not a number", p);
    if (e->metric != EXP_STATUS && e->op == EXP_EQUALS)
        return bnlab_fail("%s: %s is a number: bound it with \"at_least\" or \"at_most\"", p, metric_names[e->metric]);
    if (e->op == EXP_EQUALS) {
        int st = -1;
        if (jp_enum(o, path, "equals", status_names, &st) != 0) return -1;
        e->status = (expect_status_t)st;
        return 0;
    }
    return jp_number(o, path, keys[e->op], -1e300, 0, 1e300, 0, &e->bound);
}

// ratio_to (steps_to only) or difference_to (accuracies only), naming another variant.
static int read_relative(expectation_t *e, const cJSON *o, const char *path, const char *const *variants, int nv) {
    const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(o, "ratio_to");
    const cJSON *diff = cJSON_GetObjectItemCaseSensitive(o, "difference_to");
    char p[JP_PATH_MAX];
    jp_join(p, path, ratio ? "ratio_to" : "difference_to");
    if (ratio && diff) return bnlab_fail("%s: expected one of \"ratio_to\" and \"difference_to\", not both", path);
    if (ratio && e->metric != EXP_STEPS_TO && e->metric != EXP_LOG)
        return bnlab_fail("%s: only for steps_to and log (accuracies are compared with \"difference_to\")", p);
    if (diff && e->metric != EXP_FINAL_ACC && e->metric != EXP_BEST_ACC && e->metric != EXP_LOG)
        return bnlab_fail("%s: only for final_acc, best_acc and log (steps are compared with \"ratio_to\")", p);
    if (read_variant(o, path, ratio ? "ratio_to" : "difference_to", e->relative, variants, nv) != 0) return -1;
    e->ratio = ratio != NULL;
    if (e->relative[0] && !strcmp(e->relative, e->variant))
        return bnlab_fail("%s: \"%s\" is the expectation's own variant", p, e->relative);
    return 0;
}

static int parse_one(expectation_t *e, const cJSON *o, const char *path, const char *const *variants, int nv,
                     const double *targets, int nt) {
    static const char *const keys[] = {"metric", "variant", "target", "ratio_to", "difference_to", "at_least",
                                       "at_most", "equals", "why", "file", "column", "minus", "where",
                                       "ratio_to_where", "rows", "over", "from_step", NULL};
    if (jp_keys(o, path, keys) != 0) return -1;
    memset(e, 0, sizeof *e);
    char p[JP_PATH_MAX];
    int m = -1;
    jp_join(p, path, "metric");
    if (!cJSON_GetObjectItemCaseSensitive(o, "metric")) return bnlab_fail("%s: missing", p);
    if (jp_enum(o, path, "metric", metric_names, &m) != 0) return -1;
    e->metric = (expect_metric_t)m;
    if (e->metric == EXP_LOG && logmetric_parse(&e->log, o, path) != 0) return -1;
    for (int k = 0; e->metric != EXP_LOG && LOGMETRIC_KEYS[k]; k++)
        if (cJSON_GetObjectItemCaseSensitive(o, LOGMETRIC_KEYS[k])) {
            jp_join(p, path, LOGMETRIC_KEYS[k]);
            return bnlab_fail("%s: only for metric \"log\"", p);
        }
    jp_join(p, path, "variant");
    if (!cJSON_GetObjectItemCaseSensitive(o, "variant")) return bnlab_fail("%s: missing", p);
    if (read_variant(o, path, "variant", e->variant, variants, nv) != 0) return -1;
    if (e->metric == EXP_STEPS_TO) {
        if (read_target(e, o, path, targets, nt) != 0) return -1;
    } else if (cJSON_GetObjectItemCaseSensitive(o, "target")) {
        jp_join(p, path, "target");
        return bnlab_fail("%s: only for steps_to", p);
    }
    if (read_relative(e, o, path, variants, nv) != 0 || read_bound(e, o, path) != 0) return -1;
    return jp_string(o, path, "why", e->why, sizeof e->why);
}

int expect_parse(expect_list_t *x, const cJSON *expect, const char *const *variants, int n_variants,
                 const double *targets, int n_targets) {
    x->n = 0;
    if (!expect) return 0;
    int n = cJSON_GetArraySize(expect);
    if (!cJSON_IsArray(expect) || n < 1 || n > EXPECT_MAX) {
        char what[64];
        snprintf(what, sizeof what, "an array of 1..%d expectations", EXPECT_MAX);
        return jp_fail_expected("expect", what, expect);
    }
    int i = 0;
    for (const cJSON *o = expect->child; o; o = o->next, i++) {
        char p[JP_PATH_MAX];
        jp_index(p, "expect", i);
        if (parse_one(&x->e[i], o, p, variants, n_variants, targets, n_targets) != 0) return -1;
    }
    x->n = n;
    return 0;
}

// ---- measuring ----

static int is_ratio(const expectation_t *e) { return e->relative[0] && e->ratio; }

static const variant_result_t *find(const variant_result_t *v, int nv, const char *name) {
    for (int i = 0; i < nv; i++)
        if (!strcmp(v[i].name, name)) return &v[i];
    return NULL;
}

// The metric's median over v's completed seeds (steps: +inf for "never"); NAN when none completed.
static double median_of(const expectation_t *e, const variant_result_t *v) {
    seed_quantity_t q = e->metric == EXP_FINAL_ACC ? SEED_FINAL_ACC : e->metric == EXP_BEST_ACC ? SEED_BEST_ACC
                                                                                                  : SEED_STEPS_TO;
    return v ? seed_stats(v, q, e->target).med : NAN;
}

// A log metric's median over v's completed seeds; NAN when none completed or a seed's log could not be measured
// (its message then in err, if err is still empty).
static double log_median(const expectation_t *e, const variant_result_t *v, char *err, size_t cap) {
    if (!v) return NAN;
    double *x = xcalloc((size_t)v->n_seeds + 1, sizeof *x, "log values");
    int n = 0, bad = 0;
    for (int s = 0; s < v->n_seeds && !bad; s++) {
        if (!v->runs[s].ok || !v->runs[s].dir) continue;
        if (logmetric_measure(&e->log, v->runs[s].dir, &x[n]) == 0) n++;
        else if ((bad = 1) && !err[0]) snprintf(err, cap, "%s", bnlab_errmsg());
    }
    double med = bad ? NAN : median(x, n);
    free(x);
    return med;
}

static void fmt_value(char *out, size_t cap, const expectation_t *e, double x) {
    if (isnan(x)) snprintf(out, cap, "n/a (no completed seed)");
    else if (e->metric == EXP_STEPS_TO) snprintf(out, cap, isinf(x) ? "never" : "%.0f", x);
    else if (e->metric == EXP_LOG) snprintf(out, cap, "%.4g", x);
    else snprintf(out, cap, "%.4f", x);
}

static double value_of(const expectation_t *e, const variant_result_t *v, char *err, size_t cap) {
    return e->metric == EXP_LOG ? log_median(e, v, err, cap) : median_of(e, v);
}

// How a ratio or difference is printed: steps as 13.27, accuracies as +0.0330, log numbers (any scale) in 3 or 4
// significant digits.
static const char *relative_format(const expectation_t *e) {
    if (e->metric == EXP_STEPS_TO) return "%.2f";
    if (e->metric == EXP_LOG) return is_ratio(e) ? "%.3g" : "%+.4g";
    return "%+.4f";
}

static void measure_number(const expectation_t *e, const variant_result_t *v, int nv, expect_result_t *r) {
    char err[512] = "";
    double a = value_of(e, find(v, nv, e->variant), err, sizeof err);
    char as[64], bs[64];
    fmt_value(as, sizeof as, e, a);
    if (err[0]) snprintf(as, sizeof as, "n/a");  // a seed's log could not be read: its message follows
    if (!e->relative[0]) {
        r->value = a;
        snprintf(r->measured, sizeof r->measured, "%s", as);
    } else {
        double b = value_of(e, find(v, nv, e->relative), err, sizeof err);
        fmt_value(bs, sizeof bs, e, b);
        if (isnan(b) && err[0]) snprintf(bs, sizeof bs, "n/a");
        if (e->metric == EXP_STEPS_TO)  // never/never is no ratio; never/N is more than any bound, N/never less
            r->value = isinf(a) && isinf(b) ? NAN : isinf(b) ? (isinf(a) ? NAN : 0.0) : a / b;
        else if (e->metric == EXP_LOG && is_ratio(e)) r->value = a / b;
        else r->value = a - b;
        char v_txt[64];
        if (isnan(r->value)) snprintf(v_txt, sizeof v_txt, "n/a");
        else if (isinf(r->value)) snprintf(v_txt, sizeof v_txt, "∞");
        else snprintf(v_txt, sizeof v_txt, relative_format(e), r->value);
        snprintf(r->measured, sizeof r->measured, "%s (%s %s %s)", v_txt, as, is_ratio(e) ? "/" : "−", bs);
    }
    if (err[0]) snprintf(r->measured + strlen(r->measured), sizeof r->measured - strlen(r->measured), "; %s", err);
    r->passed = !isnan(r->value) && (e->op == EXP_AT_LEAST ? r->value >= e->bound : r->value <= e->bound);
    snprintf(r->expected, sizeof r->expected, "%s %g", e->op == EXP_AT_LEAST ? "at least" : "at most", e->bound);
}

// How each seed ended: completed (learned / at chance), diverged, or neither (failed, interrupted, missing).
static void measure_status(const expectation_t *e, const variant_result_t *v, expect_result_t *r) {
    int learned = 0, chance = 0, diverged = 0, other = 0, n = v ? v->n_seeds : 0;
    for (int s = 0; s < n; s++) {
        const run_result_t *rr = &v->runs[s];
        if (rr->ok && rr->final_acc < EXPECT_CHANCE_ACC) chance++;
        else if (rr->ok) learned++;
        else if (rr->diverged) diverged++;
        else other++;
    }
    r->value = NAN;
    snprintf(r->measured, sizeof r->measured, "%d/%d completed (%d of them at chance, final acc < %g), %d diverged%s",
             learned + chance, n, chance, EXPECT_CHANCE_ACC, diverged, other ? ", some failed or missing" : "");
    if (other) snprintf(r->measured + strlen(r->measured), sizeof r->measured - strlen(r->measured), " (%d)", other);
    r->passed = n > 0 && !other &&
                (e->status == EXP_COMPLETED ? learned + chance == n
                 : e->status == EXP_DIVERGED ? diverged == n
                                             : learned == 0);
    snprintf(r->expected, sizeof r->expected, "%s", status_names[e->status]);
}

int expect_check(const expect_list_t *x, const variant_result_t *v, int nv, expect_result_t *out) {
    int failed = 0;
    for (int i = 0; i < x->n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (x->e[i].metric == EXP_STATUS) measure_status(&x->e[i], find(v, nv, x->e[i].variant), &out[i]);
        else measure_number(&x->e[i], v, nv, &out[i]);
        failed += !out[i].passed;
    }
    return failed;
}

// ---- reporting ----

void expect_describe(char *out, size_t cap, const expectation_t *e) {
    char what[256];
    if (e->metric == EXP_STEPS_TO) snprintf(what, sizeof what, "steps_to %g%%", 100 * e->target_acc);
    else if (e->metric == EXP_LOG) logmetric_describe(what, sizeof what, &e->log);
    else snprintf(what, sizeof what, "%s", metric_names[e->metric]);
    if (!e->relative[0]) snprintf(out, cap, "%s: %s", what, e->variant);
    else snprintf(out, cap, "%s: %s %s %s", what, e->variant, is_ratio(e) ? "/" : "−", e->relative);
}

static int count_failed(const expect_list_t *x, const expect_result_t *r) {
    int n = 0;
    for (int i = 0; i < x->n; i++) n += !r[i].passed;
    return n;
}

void expect_print(const expect_list_t *x, const expect_result_t *r) {
    if (x->n == 0) return;
    printf("\nexpectations%s%s:\n", x->claim[0] ? " — " : "", x->claim);
    for (int i = 0; i < x->n; i++) {
        char d[2 * EXPECT_NAME + 300];
        expect_describe(d, sizeof d, &x->e[i]);
        printf("  %s %s = %s; expected %s\n", r[i].passed ? "✔" : "✘", d, r[i].measured, r[i].expected);
    }
    int failed = count_failed(x, r);
    printf("expectations: %d of %d met%s\n", x->n - failed, x->n, failed ? "" : " ✔");
    fflush(stdout);
}

cJSON *expect_entry_json(const expectation_t *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metric", metric_names[e->metric]);
    cJSON_AddStringToObject(o, "variant", e->variant);
    if (e->metric == EXP_STEPS_TO) cJSON_AddNumberToObject(o, "target", e->target_acc);
    if (e->metric == EXP_LOG) logmetric_add_json(o, &e->log);
    if (e->relative[0]) cJSON_AddStringToObject(o, is_ratio(e) ? "ratio_to" : "difference_to", e->relative);
    if (e->op == EXP_EQUALS) cJSON_AddStringToObject(o, "equals", status_names[e->status]);
    else cJSON_AddNumberToObject(o, e->op == EXP_AT_LEAST ? "at_least" : "at_most", e->bound);
    if (e->why[0]) cJSON_AddStringToObject(o, "why", e->why);
    return o;
}

void expect_add_json(cJSON *root, const expect_list_t *x, const expect_result_t *r) {
    if (x->claim[0]) cJSON_AddStringToObject(root, "claim", x->claim);
    if (x->n == 0) return;
    cJSON *arr = cJSON_AddArrayToObject(root, r ? "expectations" : "expect");
    for (int i = 0; i < x->n; i++) {
        cJSON *o = expect_entry_json(&x->e[i]);
        if (r) {
            cJSON_AddItemToObject(o, "measured", isfinite(r[i].value) ? cJSON_CreateNumber(r[i].value) : cJSON_CreateNull());
            cJSON_AddStringToObject(o, "measured_text", r[i].measured);
            cJSON_AddStringToObject(o, "expected_text", r[i].expected);
            cJSON_AddBoolToObject(o, "passed", r[i].passed);
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (r) cJSON_AddNumberToObject(root, "expectations_failed", count_failed(x, r));
}

char *expect_markdown(const expect_list_t *x, const expect_result_t *r) {
    strbuf_t b = {0};
    strbuf_printf(&b, "\n## Expectations\n\n");
    if (x->claim[0]) strbuf_printf(&b, "Claim: %s\n\n", x->claim);
    strbuf_printf(&b, "| | expectation | measured (median over seeds) | expected |\n|---|---|---|---|\n");
    for (int i = 0; i < x->n; i++) {
        char d[2 * EXPECT_NAME + 300];
        expect_describe(d, sizeof d, &x->e[i]);
        strbuf_printf(&b, "| %s | %s | %s | %s |\n", r[i].passed ? "✔" : "✘", d, r[i].measured, r[i].expected);
    }
    int failed = count_failed(x, r);
    strbuf_printf(&b, "\n%d of %d expectations met.\n", x->n - failed, x->n);
    for (int i = 0, first = 1; i < x->n; i++)
        if (x->e[i].why[0]) {
            strbuf_printf(&b, "%s- expectation %d: %s\n", first ? "\nWhy each bound:\n\n" : "", i + 1, x->e[i].why);
            first = 0;
        }
    return b.s;
}
