// expect.h — what a comparison expects, written in its spec before it runs, checked against its summary after.
//
// A spec's "expect" is a list of expectations, each one number (or status) of one variant and a bound:
//   {"metric": "steps_to", "target": 0.9, "variant": "nobn", "ratio_to": "bn", "at_least": 5}
//   {"metric": "final_acc", "variant": "bn", "difference_to": "nobn", "at_least": 0}
//   {"metric": "status", "variant": "nobn-lr16", "equals": "diverged_or_chance"}
// metric: "final_acc" / "best_acc" (test accuracy, median over the seeds that completed), "log" (a number read from
// each completed seed's logs as lab/logmetric.h says, median over them; compared alone, "ratio_to" or
// "difference_to" another variant's), "steps_to" (median first
// step reaching "target", which must be one of the spec's targets; a target never reached counts as infinitely
// many steps) or "status" (how every seed of the variant ended). A number is compared as it is, or as its ratio
// to another variant's ("ratio_to", steps_to only) or its difference from it ("difference_to", accuracies only),
// with "at_least" or "at_most" (inclusive); a status with "equals": "completed" (every seed completed),
// "diverged" (every seed diverged), "diverged_or_chance" (every seed diverged or completed below
// EXPECT_CHANCE_ACC final test accuracy: it learned nothing). "why" (text) says how the bound was chosen.
// Each expectation is parsed through the key table (base/keys.h, run/config.h keys_parse_object), as configs and specs
// are: unknown keys, values of the wrong type or range, missing keys and keys that do not fit the metric are one line
// naming the JSON path, what was expected and what was found ("expect[0].equals: only used with metric \"status\"");
// then unknown variants, a missing or second bound, a target not among the spec's: errors naming the JSON path too. A variant without a completed seed, a ratio of two "never"s, a failed run among a
// status's seeds: the expectation is not met (its measured value says why).
#ifndef BNLAB_EXPECT_H
#define BNLAB_EXPECT_H

#include <cjson/cJSON.h>

#include "lab/logmetric.h"
#include "lab/summary.h"

#define EXPECT_MAX 32
#define EXPECT_NAME 128
#define EXPECT_TEXT 1024
// Final test accuracy below this is "chance" for a status: twice the 10% of guessing one of MNIST's 10 classes.
#define EXPECT_CHANCE_ACC 0.2

typedef enum { EXP_FINAL_ACC, EXP_BEST_ACC, EXP_STEPS_TO, EXP_STATUS, EXP_LOG } expect_metric_t;
typedef enum { EXP_AT_LEAST, EXP_AT_MOST, EXP_EQUALS } expect_op_t;
typedef enum { EXP_COMPLETED, EXP_DIVERGED, EXP_DIVERGED_OR_CHANCE } expect_status_t;

typedef struct {
    expect_metric_t metric;
    char variant[EXPECT_NAME];
    char relative[EXPECT_NAME];  // the ratio_to / difference_to variant; "" when the number stands alone
    int ratio;                   // 1: relative is "ratio_to" (value / relative's), 0: "difference_to" (value − it)
    int target;                  // steps_to: index into the spec's targets
    double target_acc;           // steps_to: that target
    expect_op_t op;
    double bound;                // at_least / at_most
    expect_status_t status;      // equals
    logmetric_t log;             // metric "log": which number of which log (lab/logmetric.h)
    char why[EXPECT_TEXT];
} expectation_t;

typedef struct {
    char claim[EXPECT_TEXT];  // the spec's "claim": the paper and section it tests ("" if none)
    expectation_t e[EXPECT_MAX];
    int n;
} expect_list_t;

// The spec's "expect" array (NULL: none) into x->e, checked against the variant names (after any grid expansion)
// and the spec's targets. -1 + message naming the JSON path (expect[2].ratio_to: ...).
int expect_parse(expect_list_t *x, const cJSON *expect, const char *const *variants, int n_variants,
                 const double *targets, int n_targets);

// One expectation measured.
typedef struct {
    int passed;
    double value;        // the number compared (NAN for a status or when there is none; may be +inf: "never")
    char measured[512];  // what was measured, for people: "nobn / bn = 6.70 (3350 / 500 steps)"
    char expected[160];  // the bound: "at least 5"
} expect_result_t;

// Measures x->e[i] on the variants' results (v[0..nv), matched by name) into out[i]. Returns how many failed.
int expect_check(const expect_list_t *x, const variant_result_t *v, int nv, expect_result_t *out);
// Each expectation with its measurement: one line each ("✔ ..." / "✘ ..."), then a closing line; onto stdout.
void expect_print(const expect_list_t *x, const expect_result_t *r);
// An expectation as a spec states it (every key it had, in the spec's vocabulary): compare.json records them.
cJSON *expect_entry_json(const expectation_t *e);
// summary.json's "claim" (when stated), "expectations" (per expectation its entry, then "measured" (a number, or
// null for a status, "never" or none), "measured_text", "expected_text", "passed") and "expectations_failed",
// added to root. r NULL: the entries alone (compare.json).
void expect_add_json(cJSON *root, const expect_list_t *x, const expect_result_t *r);
// summary.md's section on them (caller frees).
char *expect_markdown(const expect_list_t *x, const expect_result_t *r);
// "steps_to 90%: nobn / bn" — what an expectation measures, for its lines and table.
void expect_describe(char *out, size_t cap, const expectation_t *e);

#endif
