#include "lab/expect.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/jsonpath.h"
#include "run/config.h"

static const char *const metric_names[] = {"final_acc", "best_acc", "steps_to", "status", "log", NULL};
static const char *const status_names[] = {"completed", "diverged", "diverged_or_chance", NULL};

// ---- parsing ----

static int variant_index(const char *name, const char *const *variants, int nv) {
    for (int i = 0; i < nv; i++)
        if (!strcmp(variants[i], name)) return i;
    return -1;
}

// ---- the key table (base/keys.h): what an expectation may say, parsed with the config's strict errors ----

// An expectation as written (its keys' fields), before the checks between keys and against the spec.
typedef struct {
    int metric;
    char variant[EXPECT_NAME], ratio_to[EXPECT_NAME], difference_to[EXPECT_NAME];
    double target, at_least, at_most;  // NAN: not given
    int equals;                        // -1: not given
    char why[EXPECT_TEXT];
} expect_keys_t;

static int metric_is(const void *o, int a, int b, int c) {
    int m = ((const expect_keys_t *)o)->metric;
    return m == a || m == b || m == c;
}
static int is_steps_to(const void *o) { return metric_is(o, EXP_STEPS_TO, -1, -1); }
static int is_log(const void *o) { return metric_is(o, EXP_LOG, -1, -1); }
static int is_status(const void *o) { return metric_is(o, EXP_STATUS, -1, -1); }
static int is_number(const void *o) { return !is_status(o); }
static int takes_ratio(const void *o) { return metric_is(o, EXP_STEPS_TO, EXP_LOG, -1); }
static int takes_difference(const void *o) { return metric_is(o, EXP_FINAL_ACC, EXP_BEST_ACC, EXP_LOG); }

// Keys read by lab/logmetric.h (logmetric_parse), after these: present-only here.
static int read_later(const void *json, const char *path, void *obj) {
    (void)json, (void)path, (void)obj;
    return 0;
}

#define F(f) offsetof(expect_keys_t, f)
#define NAME_KEY(key, f, req, help_, app, when_)                                                               \
    {.name = key, .type = KEY_STRING, .field = F(f), .cap = EXPECT_NAME, .flags = req, .help = help_, .applies = app, \
     .when = when_}
#define LOG_KEY(key) \
    {.name = key, .type = KEY_CUSTOM, .parse = read_later, .applies = is_log, .when = "with metric \"log\""}
// metric first: the other keys' conditions read it.
static const key_desc_t EXPECT_KEYS[] = {
    {.name = "metric", .type = KEY_ENUM, .field = F(metric), .words = metric_names, .flags = KEY_REQUIRED,
     .help = "one of final_acc, best_acc, steps_to, status, log"},
    NAME_KEY("variant", variant, KEY_REQUIRED, "the variant whose number is compared", NULL, NULL),
    {.name = "target", .type = KEY_DOUBLE, .field = F(target), .lo = 0, .hi = 1, .flags = KEY_LO_OPEN | KEY_REQUIRED,
     .def = NAN, .applies = is_steps_to, .when = "with metric \"steps_to\""},
    NAME_KEY("ratio_to", ratio_to, 0, NULL, takes_ratio, "with metric \"steps_to\" or \"log\" (accuracies are compared "
             "with \"difference_to\")"),
    NAME_KEY("difference_to", difference_to, 0, NULL, takes_difference, "with metric \"final_acc\", \"best_acc\" or "
             "\"log\" (steps are compared with \"ratio_to\")"),
    {.name = "at_least", .type = KEY_DOUBLE, .field = F(at_least), .lo = -1e300, .hi = 1e300, .def = NAN,
     .applies = is_number, .when = "with a number's metric (a status is compared with \"equals\")"},
    {.name = "at_most", .type = KEY_DOUBLE, .field = F(at_most), .lo = -1e300, .hi = 1e300, .def = NAN,
     .applies = is_number, .when = "with a number's metric (a status is compared with \"equals\")"},
    {.name = "equals", .type = KEY_ENUM, .field = F(equals), .words = status_names, .def = -1, .applies = is_status,
     .when = "with metric \"status\" (a number is bounded with \"at_least\" or \"at_most\")"},
    {.name = "why", .type = KEY_STRING, .field = F(why), .cap = EXPECT_TEXT},
    LOG_KEY("file"), LOG_KEY("column"), LOG_KEY("minus"), LOG_KEY("where"), LOG_KEY("ratio_to_where"), LOG_KEY("rows"),
    LOG_KEY("over"), LOG_KEY("from_step"),
    {0}};
#undef F

// A variant name at path.key (given: not "") that the spec runs. -1 + message.
static int check_variant(const char *name, const char *path, const char *key, const char *const *variants, int nv) {
    if (!name[0] || variant_index(name, variants, nv) >= 0) return 0;
    char p[JP_PATH_MAX];
    jp_join(p, path, key);
    strbuf_t b = {0};
    for (int i = 0; i < nv && i < 12; i++) strbuf_printf(&b, "%s%s", i ? ", " : "", variants[i]);
    if (nv > 12) strbuf_printf(&b, ", ...");
    int rc = bnlab_fail("%s: no variant \"%s\" in this spec (its variants: %s)", p, name, b.s ? b.s : "");
    free(b.s);
    return rc;
}

// A steps_to target must be one of the spec's targets (the summary measures only those).
static int check_target(expectation_t *e, const char *path, const double *targets, int nt) {
    for (int t = 0; t < nt; t++)
        if (targets[t] == e->target_acc) return e->target = t, 0;
    char p[JP_PATH_MAX];
    jp_join(p, path, "target");
    strbuf_t b = {0};
    for (int t = 0; t < nt; t++) strbuf_printf(&b, "%s%g", t ? ", " : "", targets[t]);
    int rc = bnlab_fail("%s: %g is not one of the spec's targets [%s]", p, e->target_acc, b.s ? b.s : "");
    free(b.s);
    return rc;
}

// The checks between keys, then the expectation from its keys.
static int from_keys(expectation_t *e, const expect_keys_t *k, const cJSON *o, const char *path,
                     const char *const *variants, int nv, const double *targets, int nt) {
    int bounds = !isnan(k->at_least) + !isnan(k->at_most) + (k->equals >= 0);
    if (bounds != 1)
        return bnlab_fail("%s: expected exactly one of \"at_least\", \"at_most\", \"equals\", found %d", path, bounds);
    if (k->ratio_to[0] && k->difference_to[0])
        return bnlab_fail("%s: expected one of \"ratio_to\" and \"difference_to\", not both", path);
    memset(e, 0, sizeof *e);
    e->metric = (expect_metric_t)k->metric;
    if (e->metric == EXP_LOG && logmetric_parse(&e->log, o, path) != 0) return -1;
    snprintf(e->variant, sizeof e->variant, "%s", k->variant);
    if (check_variant(e->variant, path, "variant", variants, nv) != 0) return -1;
    if (e->metric == EXP_STEPS_TO) {
        e->target_acc = k->target;
        if (check_target(e, path, targets, nt) != 0) return -1;
    }
    e->ratio = k->ratio_to[0] != 0;
    const char *rel_key = e->ratio ? "ratio_to" : "difference_to";
    snprintf(e->relative, sizeof e->relative, "%s", e->ratio ? k->ratio_to : k->difference_to);
    if (check_variant(e->relative, path, rel_key, variants, nv) != 0) return -1;
    if (e->relative[0] && !strcmp(e->relative, e->variant)) {
        char p[JP_PATH_MAX];
        jp_join(p, path, rel_key);
        return bnlab_fail("%s: \"%s\" is the expectation's own variant", p, e->relative);
    }
    e->op = !isnan(k->at_least) ? EXP_AT_LEAST : !isnan(k->at_most) ? EXP_AT_MOST : EXP_EQUALS;
    e->bound = e->op == EXP_AT_LEAST ? k->at_least : k->at_most;
    if (e->op == EXP_EQUALS) e->status = (expect_status_t)k->equals;
    snprintf(e->why, sizeof e->why, "%s", k->why);
    return 0;
}

static int parse_one(expectation_t *e, const cJSON *o, const char *path, const char *const *variants, int nv,
                     const double *targets, int nt) {
    expect_keys_t *k = xcalloc(1, sizeof *k, "expectation keys");
    keys_parse_defaults(EXPECT_KEYS, k);
    int rc = keys_parse_object(o, path, EXPECT_KEYS, k);
    if (rc == 0) rc = from_keys(e, k, o, path, variants, nv, targets, nt);
    free(k);
    return rc;
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
