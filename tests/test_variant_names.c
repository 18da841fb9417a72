// A variant's legend text from its config alone (view/variant.h, view_name_variants): the comparisons of configs/
// in miniature. Each case gives configs (as a run writes config.json: every setting resolved) and spec names, and
// wants the exact legends: what differs between variants of one network in the papers' words ("BN, η = 16"), the
// ablation ladder's words for what BN layers keep or lose, the class alone when nothing else differs, and the name
// when no word tells two variants apart. Controls: names that lie (a variant named "bn-lr16" trained at η = 0.5) do
// not reach the legend; the same settings across different networks are not named; a checker that compares legends
// with the wanted ones fails on a planted swap.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "view/variant.h"

// A config.json of a sigmoid MLP of 3 hidden layers: "bn" (BN before every sigmoid), "nobn", "ln" (LayerNorm), "bnN"
// (BN before the N-th sigmoid only), or "nobnN" (no BN, N hidden layers); extra: more JSON of the BN layers ("" for none); lr, batch; model_extra: more keys of "model".
static cJSON *config(const char *net, const char *bn_extra, double lr, int batch, const char *model_extra) {
    char layers[2048] = "", buf[4096];
    int hidden = !strncmp(net, "nobn", 4) && net[4] ? net[4] - '0' : 3;
    for (int h = 1; h <= hidden; h++) {
        size_t n = strlen(layers);
        int bn = !strcmp(net, "bn") || (!strncmp(net, "bn", 2) && net[2] - '0' == h);
        const char *norm = bn ? "batchnorm" : !strcmp(net, "ln") ? "layernorm" : NULL;
        if (norm)
            snprintf(layers + n, sizeof layers - n, "{\"type\": \"dense\", \"units\": 100, \"bias\": false}, {\"type\": \"%s\"%s%s}, {\"type\": \"sigmoid\"}, ",
                     norm, bn && bn_extra[0] ? ", " : "", bn ? bn_extra : "");
        else snprintf(layers + n, sizeof layers - n, "{\"type\": \"dense\", \"units\": 100}, {\"type\": \"sigmoid\"}, ");
    }
    snprintf(buf, sizeof buf, "{\"seed\": 1, \"model\": {\"init\": {\"type\": \"normal\", \"std\": 0.01}%s, \"layers\": [%s"
             "{\"type\": \"dense\", \"units\": 10}]}, \"train\": {\"batch_size\": %d, \"eval_every\": %d, \"optimizer\": "
             "{\"type\": \"sgd\", \"lr\": %g, \"momentum\": 0}}}",
             model_extra, layers, batch, batch * 7, lr);
    cJSON *c = cJSON_Parse(buf);
    if (!c) fprintf(stderr, "bad test config: %s\n", buf);
    return c;
}

typedef struct {
    const char *name, *net, *bn_extra, *model_extra;
    double lr;
    int batch;
    const char *want;
} case_t;

// Names the variants of cases[0..n) and counts the legends that differ from the wanted ones (printing them).
static int mismatches(const char *what, const case_t *c, int n, int is_compare, int plant_swap) {
    view_variant_t *v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        snprintf(v[i].name, sizeof v[i].name, "%s", c[i].name);
        cJSON *cfg = config(c[i].net, c[i].bn_extra ? c[i].bn_extra : "", c[i].lr, c[i].batch,
                            c[i].model_extra ? c[i].model_extra : "");
        view_variant_read(&v[i], cfg);
        cJSON_Delete(cfg);
    }
    view_name_variants(v, n, is_compare);
    if (plant_swap && n > 1) {
        char t[VIEW_NAME_MAX];
        memcpy(t, v[0].label, sizeof t), memcpy(v[0].label, v[1].label, sizeof t), memcpy(v[1].label, t, sizeof t);
    }
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].label, c[i].want)) {
            bad++;
            if (!plant_swap) fprintf(stderr, "  %s: %s: legend \"%s\", want \"%s\"\n", what, c[i].name, v[i].label, c[i].want);
        }
    free(v);
    return bad;
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void) {
    // configs/lr-bn.json: BN and no BN, each at η = 0.5 and 16. The names lie (swapped): the legend follows the configs.
    const case_t lr[] = {{"bn-lr16", "bn", 0, 0, 0.5, 60, "BN, η = 0.5"},
                         {"bn-lr0.5", "bn", 0, 0, 16, 60, "BN, η = 16"},
                         {"nobn-lr0.5", "nobn", 0, 0, 0.5, 60, "no BN, η = 0.5"},
                         {"nobn-lr16", "nobn", 0, 0, 16, 60, "no BN, η = 16"}};
    CHECK(mismatches("lr-bn", lr, N(lr), 1, 0) == 0, "lr-bn legends (above)");
    // Negative control: the checker sees two legends swapped.
    CHECK(mismatches("lr-bn planted", lr, N(lr), 1, 1) == 2, "a planted swap of two legends is not seen");
    // One run (not a comparison): its directory's name.
    const case_t one[] = {{"run-7", "bn", 0, 0, 16, 60, "run-7"}};
    CHECK(mismatches("one run", one, N(one), 0, 0) == 0, "one run's legend (above)");
    // Fig. 1: BN and no BN at different learning rates, one variant each: the rates are not what the comparison varies.
    const case_t fig1[] = {{"bn", "bn", 0, 0, 0.5, 60, "BN"}, {"nobn", "nobn", 0, 0, 0.1, 60, "no BN"}};
    CHECK(mismatches("fig1", fig1, N(fig1), 1, 0) == 0, "fig1 legends (above)");
    // Control: the same two rates within BN are named, and no BN (one variant) says its rate too.
    const case_t three[] = {{"a", "bn", 0, 0, 0.5, 60, "BN, η = 0.5"}, {"b", "bn", 0, 0, 0.1, 60, "BN, η = 0.1"},
                            {"c", "nobn", 0, 0, 0.1, 60, "no BN, η = 0.1"}};
    CHECK(mismatches("three", three, N(three), 1, 0) == 0, "BN at two rates beside no BN (above)");
    // configs/modes-small-batch.json: batch sizes (eval_every differs too, and is no legend's business).
    const case_t batch[] = {{"bn-batch2", "bn", 0, 0, 0.5, 2, "BN, batch size 2"}, {"bn-batch60", "bn", 0, 0, 0.5, 60, "BN, batch size 60"}};
    CHECK(mismatches("batch", batch, N(batch), 1, 0) == 0, "batch-size legends (above)");
    // configs/ablations.json: what the BN layers keep or lose (the ladder's words), LSUV.
    const case_t abl[] = {{"bn", "bn", "", 0, 0.5, 60, "BN"},
                          {"mean-only", "bn", "\"normalize\": \"mean\"", 0, 0.5, 60, "BN: centring only"},
                          {"variance-only", "bn", "\"normalize\": \"variance\"", 0, 0.5, 60, "BN: scaling only"},
                          {"no-affine", "bn", "\"affine\": \"none\"", 0, 0.5, 60, "BN: no γ, β"},
                          {"frozen-affine", "bn", "\"affine\": \"frozen\"", 0, 0.5, 60, "BN: γ, β fixed"},
                          {"freeze", "bn", "\"freeze_stats_after\": 50", 0, 0.5, 60, "BN: statistics fixed after step 50"},
                          {"population", "bn", "\"statistics\": \"population\"", 0, 0.5, 60, "BN: population statistics"},
                          {"bn-last-hidden", "bn3", "", 0, 0.5, 60, "BN in hidden layer 3 only"},
                          {"lsuv-nobn", "nobn", 0, ", \"lsuv\": true", 0.5, 60, "no BN, LSUV init"},
                          {"nobn", "nobn", 0, 0, 0.5, 60, "no BN"}};
    CHECK(mismatches("ablations", abl, N(abl), 1, 0) == 0, "ablation legends (above)");
    // Two networks that no word here tells apart (where a layer sits, a BN option not named): their names.
    const case_t same[] = {{"eps-small", "bn", "\"eps\": 1e-5", 0, 0.5, 60, "eps-small"},
                           {"eps-large", "bn", "\"eps\": 1e-3", 0, 0.5, 60, "eps-large"},
                           {"nobn", "nobn", 0, 0, 0.5, 60, "no BN"}};
    CHECK(mismatches("same words", same, N(same), 1, 0) == 0, "variants no word tells apart (above)");
    // No batch statistics anywhere: "no normalization" beside LayerNorm.
    const case_t ln[] = {{"ln", "ln", 0, 0, 0.5, 60, "LayerNorm"}, {"none", "nobn", 0, 0, 0.5, 60, "no normalization"}};
    CHECK(mismatches("layernorm", ln, N(ln), 1, 0) == 0, "LayerNorm legends (above)");
    // configs/sweep-depth-lr.json's grid: depth and η, each named where it differs (one hidden layer: "layer").
    const case_t depth[] = {{"d1", "nobn1", 0, 0, 0.1, 60, "no BN, η = 0.1, 1 hidden layer"},
                            {"d4", "nobn4", 0, 0, 0.1, 60, "no BN, η = 0.1, 4 hidden layers"},
                            {"d4-fast", "nobn4", 0, 0, 10, 60, "no BN, η = 10, 4 hidden layers"},
                            {"bn", "bn", 0, 0, 0.1, 60, "BN, η = 0.1, 3 hidden layers"}};
    CHECK(mismatches("depth", depth, N(depth), 1, 0) == 0, "depth x learning rate legends (above)");
    // configs/claims/curvature.json: two BN runs that differ only in their length (one cut short to probe its
    // first steps) are told apart by their steps, not left as "bn" and "bn-early" beside worded legends.
    {
        const long steps[3] = {5000, 500, 5000};
        const double lr[3] = {0.5, 0.5, 0.1};
        const char *want[3] = {"BN, η = 0.5, 5000 steps", "BN, η = 0.5, 500 steps", "BN, η = 0.1, 5000 steps"};
        view_variant_t v[3] = {0};
        for (int i = 0; i < 3; i++) {
            snprintf(v[i].name, sizeof v[i].name, "bn%d", i);
            cJSON *cfg = config("bn", "", lr[i], 60, "");
            cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(cfg, "train"), "steps", (double)steps[i]);
            view_variant_read(&v[i], cfg);
            cJSON_Delete(cfg);
        }
        view_name_variants(v, 3, 1);
        for (int i = 0; i < 3; i++) CHECK(!strcmp(v[i].label, want[i]), "run length named: '%s', want '%s'", v[i].label, want[i]);
        // Control: with the same length they are not named by it.
        view_variant_t w[2] = {0};
        for (int i = 0; i < 2; i++) {
            snprintf(w[i].name, sizeof w[i].name, "bn%d", i);
            cJSON *cfg = config("bn", "", lr[i + 1], 60, "");
            cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(cfg, "train"), "steps", 5000);
            view_variant_read(&w[i], cfg);
            cJSON_Delete(cfg);
        }
        view_name_variants(w, 2, 1);
        CHECK(!strstr(w[0].label, "steps") && !strstr(w[1].label, "steps"), "equal lengths not named: '%s', '%s'", w[0].label, w[1].label);
    }
    return check_summary("variant_names");
}
