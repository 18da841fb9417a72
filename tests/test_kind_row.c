// A new layer kind is one registry row: this test compiles nn/registry.c with two rows more (REGISTRY_TEST_ROWS) —
// "zznorm", a normalization by batch statistics with γ and β (batchnorm's kernels under a name no code outside nn/
// knows), and "zzsig", a saturating nonlinearity (sigmoid's kernels) with thresholds of its own, 0.3 and 0.7 (sigmoid's
// are 0.02 and 0.98) — then trains small networks with them in-process and draws them with lab/ and view/ exactly as
// bnlab plot and report do, with no line of lab/ or view/ changed. Checked against a twin that uses "batchnorm":
//  - ordered, coloured, labelled: two comparisons, {nobn, zz, ln} and {nobn, bn, ln}, load (view/source.h) with the
//    variants in the same order, the same classes, colours, line styles and class labels, position for position;
//    zznorm + dropout is "BN with noise" as batchnorm + dropout is; the Fig. 1 network test holds for both;
//  - the γ/β panel: fig_params draws "BN layer k: γ (solid), β (dashed)" with curves for each zznorm layer;
//  - the saturation line: fig_saturation draws one panel per zzsig layer with a line whose values are the fraction
//    outside (0.3, 0.7) — about 0.4 here, where sigmoid's thresholds would count about 0 (BN'd inputs are ~N(0, 1):
//    σ(z) < 0.3 or > 0.7 for |z| > 0.85, probability 0.40; beyond 0.02/0.98 for |z| > 3.9, probability 1e-4).
// Negative control (tests/test_kind_row.sh): the same test linked with a copy of lab/plot_params.c in which the γ/β
// panel is decided by the name "batchnorm" fails on the γ/β checks.
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define REGISTRY_TEST_COUNT 2
#define REGISTRY_TEST_ROWS                                                                                          \
    [LAYER_KIND_COUNT] = {.name = "zznorm", .keys = BN_KEYS, .params = BN_PARAMS, .state = BN_STATE,               \
                          .buffers = BN_BUFFERS, .counts_batches = 1, .normalizes = 1, .uses_batch_statistics = 1,   \
                          .has_affine = 1, .layer_uses_batch_statistics = bn_uses_batch_statistics,                 \
                          .layer_has_affine = bn_has_affine, .statistics_frozen = bn_frozen_now,                    \
                          .eval_affine = bn_eval_affine, .forward = bn_fwd, .backward = bn_bwd},                   \
    [LAYER_KIND_COUNT + 1] = {.name = "zzsig", .keys = NO_KEYS, .nonlinearity = 1, .saturates = 1, .sat_low = 0.3f, \
                              .sat_high = 0.7f, .forward = sigmoid_fwd, .backward = sigmoid_bwd},
#include "nn/registry.c"

#include "base/util.h"
#include "lab/figures.h"
#include "run/launch.h"
#include "view/source.h"

static char T[256];

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

// Trains a 784-16-16-10 net with layers norm, act (and dropout after each act when drop) into dir: 40 steps.
static int train(const char *dir, const char *norm, const char *act, int drop) {
    const char *root = getenv("BNLAB_SOURCE_ROOT");
    char blk[256], layers[1024], text[4096], cfg_path[512];
    if (norm[0])
        snprintf(blk, sizeof blk, "{\"type\": \"dense\", \"units\": 16, \"bias\": false}, {\"type\": \"%s\"}, "
                 "{\"type\": \"%s\"}%s", norm, act, drop ? ", {\"type\": \"dropout\", \"rate\": 0.1}" : "");
    else snprintf(blk, sizeof blk, "{\"type\": \"dense\", \"units\": 16}, {\"type\": \"%s\"}", act);
    snprintf(layers, sizeof layers, "[%s, %s, {\"type\": \"dense\", \"units\": 10}]", blk, blk);
    snprintf(text, sizeof text,
             "{\"name\": \"k\", \"seed\": 1, \"data\": {\"format\": \"idx\", "
             "\"train_images\": \"%s/datasets/mnist-subset/train-images-idx3-ubyte.gz\", "
             "\"train_labels\": \"%s/datasets/mnist-subset/train-labels-idx1-ubyte.gz\", "
             "\"test_images\": \"%s/datasets/mnist-subset/t10k-images-idx3-ubyte.gz\", "
             "\"test_labels\": \"%s/datasets/mnist-subset/t10k-labels-idx1-ubyte.gz\", \"train_limit\": 600, "
             "\"test_limit\": 200}, \"model\": {\"layers\": %s}, \"train\": {\"batch_size\": 30, \"steps\": 40, "
             "\"optimizer\": {\"type\": \"sgd\", \"lr\": 0.5}, \"eval_every\": 20, \"checkpoint\": {\"final\": false}}, "
             "\"log\": {\"progress\": \"never\", \"ics_every\": 0, \"param_stats\": true, \"probe_size\": 100, "
             "\"percentiles\": {\"every\": 20}}}",
             root, root, root, root, layers);
    snprintf(cfg_path, sizeof cfg_path, "%s/cfg-%s-%s-%d.json", T, norm[0] ? norm : "none", act, drop);
    write_text(cfg_path, text);
    config_t cfg;
    trainer_t t;
    if (config_load(&cfg, cfg_path, NULL, 0) != 0) return -1;
    if (make_dirs(dir) != 0) return -1;
    if (launch_new(&t, &cfg, &(launch_new_t){.config = cfg_path, .run_dir = dir, .force = 1}) != 0) return -1;
    if (launch_start_dir(dir, &cfg) != 0) return trainer_free(&t), -1;
    int rc = trainer_run(&t, dir, 0);
    trainer_free(&t);
    return rc == TRAIN_ERROR ? -1 : 0;
}

// A comparison directory cmp with variants names[0..3) (runs trained by the caller into cmp/NAME/seed-1).
static void compare_json(const char *cmp, const char *const names[3]) {
    char path[600], text[512];
    snprintf(path, sizeof path, "%s/compare.json", cmp);
    snprintf(text, sizeof text, "{\"name\": \"c\", \"variants\": [{\"name\": \"%s\"}, {\"name\": \"%s\"}, "
             "{\"name\": \"%s\"}], \"seeds\": [1]}", names[0], names[1], names[2]);
    write_text(path, text);
}

static void test_registry(void) {
    CHECK(layer_kind_count() == LAYER_KIND_COUNT + 2, "layer_kind_count() = %d", layer_kind_count());
    CHECK(layer_kind_find("zznorm") == LAYER_KIND_COUNT && layer_kind_find("zzsig") == LAYER_KIND_COUNT + 1,
          "the test rows are found by name");
    char list[512];
    layer_kind_list(list, sizeof list);
    CHECK(strstr(list, "\"zznorm\"") && strstr(list, "\"zzsig\""), "the kind list names them: %s", list);
}

// Builds the two comparisons and checks that zz takes bn's place in every respect the view gives a variant.
static void test_order_colour_label(void) {
    const char *const zz[3] = {"nobn", "zz", "ln"}, *const bn[3] = {"nobn", "bn", "ln"};
    const char *const kinds[3][2] = {{"", "sigmoid"}, {"zznorm", "zzsig"}, {"layernorm", "sigmoid"}};
    char dir[512];
    for (int c = 0; c < 2; c++) {
        const char *const *names = c ? bn : zz;
        for (int i = 0; i < 3; i++) {
            const char *norm = i == 1 && c ? "batchnorm" : kinds[i][0], *act = i == 1 && c ? "sigmoid" : kinds[i][1];
            snprintf(dir, sizeof dir, "%s/cmp-%d/%s/seed-1", T, c, names[i]);
            CHECK(train(dir, norm, act, 0) == 0, "train %s: %s", dir, bnlab_errmsg());
        }
        snprintf(dir, sizeof dir, "%s/cmp-%d", T, c);
        compare_json(dir, names);
    }
    view_source_t *s[2];
    for (int c = 0; c < 2; c++) {
        s[c] = xcalloc(1, sizeof *s[c], "source");
        snprintf(dir, sizeof dir, "%s/cmp-%d", T, c);
        CHECK(view_source_load(s[c], dir, &(view_source_opts_t){0}) == 0, "load %s: %s", dir, bnlab_errmsg());
    }
    CHECK(s[0]->nv == 3 && s[1]->nv == 3, "3 variants each: %d, %d", s[0]->nv, s[1]->nv);
    for (int i = 0; i < 3 && s[0]->nv == 3 && s[1]->nv == 3; i++) {
        const view_variant_t *a = &s[0]->v[i], *b = &s[1]->v[i];
        int twin = (!strcmp(a->name, "zz") && !strcmp(b->name, "bn")) || !strcmp(a->name, b->name);
        CHECK(twin, "position %d: %s in the zznorm comparison, %s in the batchnorm one (ordered alike)", i, a->name,
              b->name);
        CHECK(a->cls == b->cls && !strcmp(a->color, b->color) && a->style == b->style,
              "%s vs %s: class %d/%d, colour %s/%s, style %d/%d (coloured alike)", a->name, b->name, a->cls, b->cls,
              a->color, b->color, a->style, b->style);
        CHECK(!strcmp(view_class_info(a->cls)->what, view_class_info(b->cls)->what) && a->fig1 == b->fig1,
              "%s vs %s: labelled \"%s\" / \"%s\", Fig. 1 net %d/%d", a->name, b->name, view_class_info(a->cls)->what,
              view_class_info(b->cls)->what, a->fig1, b->fig1);
        if (!strcmp(a->name, "zz"))
            CHECK(a->cls == VC_BN && !strcmp(view_class_info(a->cls)->what, "batch normalization"),
                  "zznorm is batch normalization (class %d)", a->cls);
    }
    // With dropout after it: "BN with noise or dropout", as batchnorm.
    cJSON *l1 = cJSON_Parse("[{\"type\": \"dense\", \"units\": 4}, {\"type\": \"zznorm\"}, {\"type\": \"zzsig\"}, "
                            "{\"type\": \"dropout\", \"rate\": 0.1}]");
    cJSON *l2 = cJSON_Parse("[{\"type\": \"dense\", \"units\": 4}, {\"type\": \"batchnorm\"}, {\"type\": \"sigmoid\"}, "
                            "{\"type\": \"dropout\", \"rate\": 0.1}]");
    CHECK(view_classify(l1) == VC_BN_NOISY && view_classify(l2) == VC_BN_NOISY, "with dropout: %d, %d",
          view_classify(l1), view_classify(l2));
    cJSON_Delete(l1), cJSON_Delete(l2);
    // The two figures, on the zznorm comparison.
    figure_input_t in = {.src = s[0], .xlabel = "training step", .seed_index = 0};
    for (int i = 0; i < 3; i++) in.xk[i] = 1;
    figmodel_t m;
    int rc = fig_params(&m, &in);
    CHECK(rc == 0, "fig_params: %d %s", rc, rc < 0 ? bnlab_errmsg() : "");
    int gb = 0, gb_curves = 0;
    char zg[VIEW_NAME_MAX + 8] = "zz γ", zb[VIEW_NAME_MAX + 8] = "zz β";  // zz's legend text: its label (view/source.h)
    for (int i = 0; i < s[0]->nv; i++)
        if (!strcmp(s[0]->v[i].name, "zz"))
            snprintf(zg, sizeof zg, "%s γ", s[0]->v[i].label), snprintf(zb, sizeof zb, "%s β", s[0]->v[i].label);
    for (int k = 0; rc == 0 && k < m.np; k++)
        if (strstr(m.p[k].title, "γ (solid), β (dashed)")) {
            gb++;
            for (int c = 0; c < m.p[k].nc; c++) gb_curves += !strcmp(m.p[k].c[c].label, zg) || !strcmp(m.p[k].c[c].label, zb);
        }
    CHECK(gb == 2, "the γ/β panel: %d panels for the 2 zznorm layers (γ and β of a new normalization drawn)", gb);
    CHECK(gb_curves == 4, "the γ/β panel: %d curves of zz's γ and β (expected 2 layers x 2)", gb_curves);
    CHECK(rc != 0 || strstr(m.title, "γ and β of"), "the γ/β panel: the figure's title names γ and β: %s", rc == 0 ? m.title : "");
    if (rc >= 0) figmodel_free(&m);
    rc = fig_saturation(&m, &in);
    CHECK(rc == 0, "fig_saturation: %d %s", rc, rc < 0 ? bnlab_errmsg() : "");
    double zmax[2] = {-1, -1}, nmax[2] = {-1, -1};
    for (int k = 0; rc == 0 && k < m.np && k < 2; k++)
        for (int c = 0; c < m.p[k].nc; c++) {
            const figcurve_t *cv = &m.p[k].c[c];
            if (cv->kind != CURVE_LINE) continue;
            double *mx = !strcmp(cv->color, s[0]->v[0].color) ? nmax : !strcmp(cv->color, s[0]->v[1].color) ? zmax : NULL;
            for (int r = 0; mx && r < cv->data.n; r++)
                if (cv->data.v[(size_t)r * cv->data.cols + 1] > mx[k]) mx[k] = cv->data.v[(size_t)r * cv->data.cols + 1];
        }
    CHECK(rc == 0 && m.np >= 2, "the saturation figure: %d panels (one per hidden layer)", rc == 0 ? m.np : -1);
    for (int k = 0; k < 2; k++) {
        CHECK(zmax[k] > 0.25 && zmax[k] < 0.6, "hidden layer %d: zzsig's saturation line, max %.3g — the fraction "
              "outside its own (0.3, 0.7), about 0.4 (sigmoid's thresholds would give ~1e-4)", k + 1, zmax[k]);
        CHECK(nmax[k] >= 0 && nmax[k] < 0.1, "control: no BN's sigmoid in the same panel: max %.3g (below 0.1)", nmax[k]);
    }
    if (rc >= 0) figmodel_free(&m);
    for (int c = 0; c < 2; c++) free(s[c]);
}

// usage: test_kind_row DIR (an empty directory the caller removes: tests/test_kind_row.sh)
int main(int argc, char **argv) {
    if (argc != 2 || !getenv("BNLAB_SOURCE_ROOT")) {
        fprintf(stderr, "usage: BNLAB_SOURCE_ROOT=... test_kind_row DIR\n");
        return 2;
    }
    snprintf(T, sizeof T, "%s", argv[1]);
    test_registry();
    test_order_colour_label();
    return check_summary("kind_row");
}
