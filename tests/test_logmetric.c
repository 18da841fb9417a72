// lab/logmetric.h on synthetic logs: each reduction ("final", "max", "min", "mean", "range", "drift", "first" with
// from_step), "minus", combining rows ("one" refusing two, "max", "mean"), "ratio_to_where", numeric and text
// filters, empty fields skipped; parse errors and measuring errors naming the JSON path or the file and column.
#include <stdlib.h>
#include <unistd.h>

#include "base/util.h"
#include "check.h"
#include "lab/logmetric.h"

static char dir[64];

static void put(const char *name, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

// Parses json and measures it on dir: the value, or NAN with the message in bnlab_errmsg().
static double measure(const char *json, int *parse_rc) {
    cJSON *o = cJSON_Parse(json);
    logmetric_t m;
    double v = NAN;
    *parse_rc = logmetric_parse(&m, o, "expect[0]");
    if (*parse_rc == 0 && logmetric_measure(&m, dir, &v) != 0) v = NAN;
    cJSON_Delete(o);
    return v;
}

static double ok(const char *json) {
    int rc;
    double v = measure(json, &rc);
    CHECK(rc == 0 && !isnan(v), "%s: rc %d, %s", json, rc, bnlab_errmsg());
    return v;
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/bnlab-logmetric-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    // Layer 1's p50 over steps 0..300: 0, 4, 1, 2 — its last value 2; layer 2 constant 5; an empty field skipped.
    put("percentiles.csv", "step,hidden,layer,layer_type,unit,n,p15,p50,p85\n"
                           "0,1,0,dense,,10,-1,0,1\n0,2,3,dense,,10,4,5,6\n"
                           "100,1,0,dense,,10,-1,4,9\n100,2,3,dense,,10,4,5,6\n"
                           "200,1,0,dense,,10,-1,1,3\n200,2,3,dense,,10,4,,6\n"
                           "300,1,0,dense,,10,-1,2,3\n300,2,3,dense,,10,4,5,6\n");
    const char *p50 = "{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"where\": {\"hidden\": 1}, \"over\": \"%s\"%s}";
    char j[512];
    double want[] = {2, 4, 0, 7.0 / 4, 4, 2};
    const char *over[] = {"final", "max", "min", "mean", "range", "drift"};
    for (int k = 0; k < 6; k++) {
        snprintf(j, sizeof j, p50, over[k], "");
        CHECK_NEAR(ok(j), want[k], 1e-12, over[k]);
    }
    snprintf(j, sizeof j, p50, "first", "");
    CHECK_NEAR(ok(j), 0, 1e-12, "first: step 0's");
    snprintf(j, sizeof j, p50, "first", ", \"from_step\": 1");
    CHECK_NEAR(ok(j), 4, 1e-12, "first from step 1: step 100's");
    CHECK_NEAR(ok("{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"where\": {\"hidden\": 2}, \"over\": \"first\", \"from_step\": 150}"),
               5, 1e-12, "first from step 150 of layer 2: step 200's field is empty, step 300's");
    snprintf(j, sizeof j, p50, "drift", ", \"from_step\": 150");
    CHECK_NEAR(ok(j), 1, 1e-12, "drift from step 150: |1 - 2|");
    snprintf(j, sizeof j, p50, "range", ", \"minus\": \"p15\", \"from_step\": 100");
    CHECK_NEAR(ok(j), 3, 1e-12, "range of p50 - p15 from step 100: 5 - 2");
    CHECK_NEAR(ok("{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"where\": {\"layer_type\": \"dense\", \"hidden\": 2}, \"over\": \"mean\"}"),
               5, 1e-12, "layer 2, its empty field skipped");
    CHECK_NEAR(ok("{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"rows\": \"max\", \"over\": \"min\"}"), 1, 1e-12,
               "max over layers per step (5, 5, 1: layer 2 empty at 200, 5), min over steps");
    CHECK_NEAR(ok("{\"file\": \"percentiles.csv\", \"column\": \"p85\", \"rows\": \"mean\"}"), 4.5, 1e-12, "mean over rows");
    CHECK_NEAR(ok("{\"file\": \"percentiles.csv\", \"column\": \"p85\", \"where\": {\"hidden\": 1}, \"ratio_to_where\": {\"hidden\": 2}, \"over\": \"max\"}"),
               1.5, 1e-12, "ratio of two filters per step: 9 / 6");

    int rc;
    CHECK(isnan(measure("{\"file\": \"percentiles.csv\", \"column\": \"p50\"}", &rc)) && rc == 0, "two rows a step");
    CHECK_MSG(bnlab_errmsg(), "percentiles.csv: more than one row at step 0");
    CHECK(isnan(measure("{\"file\": \"percentiles.csv\", \"column\": \"p99\", \"where\": {\"hidden\": 1}}", &rc)), "column");
    CHECK_MSG(bnlab_errmsg(), "no column \"p99\"");
    CHECK(isnan(measure("{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"where\": {\"hidden\": 7}}", &rc)), "no rows");
    CHECK_MSG(bnlab_errmsg(), "no row at step >= 0 matches");
    CHECK(isnan(measure("{\"file\": \"percentiles.csv\", \"column\": \"layer_type\", \"where\": {\"hidden\": 1}}", &rc)), "text");
    CHECK_MSG(bnlab_errmsg(), "column layer_type: expected a number, found \"dense\"");
    CHECK(isnan(measure("{\"file\": \"param_stats.csv\", \"column\": \"norm\"}", &rc)) && rc == 0, "missing log");
    CHECK_MSG(bnlab_errmsg(), "param_stats.csv");

    struct { const char *json, *msg; } bad[] = {
        {"{\"column\": \"p50\"}", "expect[0].file: missing"},
        {"{\"file\": \"x.csv\", \"column\": \"p50\"}", "expect[0].file: expected one of"},
        {"{\"file\": \"percentiles.csv\"}", "expect[0].column: missing"},
        {"{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"over\": \"last\"}", "expect[0].over: expected one of"},
        {"{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"rows\": \"sum\"}", "expect[0].rows: expected one of"},
        {"{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"where\": {}}", "expect[0].where: expected an object of 1.."},
        {"{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"where\": {\"hidden\": [1]}}", "expect[0].where.hidden: expected a number or a string"},
        {"{\"file\": \"percentiles.csv\", \"column\": \"p50\", \"from_step\": -1}", "expect[0].from_step"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        measure(bad[k].json, &rc);
        CHECK(rc != 0, "%s parsed", bad[k].json);
        CHECK_MSG(bnlab_errmsg(), bad[k].msg);
    }
    char p[256];
    snprintf(p, sizeof p, "%s/percentiles.csv", dir), unlink(p);
    rmdir(dir);
    return check_summary("logmetric");
}
