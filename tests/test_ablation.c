// BN's ablation ladder (nn/bnvariants.h) and LSUV (nn/model.h): each option changes what it says it changes, and
// nothing else — every check below fails if its option is ignored (the layer then runs plain BN, or LSUV does
// nothing). The gradients are checked in test_gradcheck.c, the formulas against PyTorch in test_torch.sh.
#include <stdlib.h>

#include "base/rng.h"
#include "base/util.h"
#include "check.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "nn/registry.h"
#include "run/config.h"
#include "run/recalibrate.h"

enum { B = 32, D = 6, H = 5, C = 3 };
static rng_t R;
static float X[B * D];
static int32_t Y[B];

// dense (no bias) -> the BN layer under test -> sigmoid -> dense head.
static void build(model_t *m, layer_spec_t bn) {
    layer_spec_t s[4] = {{.kind = LAYER_DENSE, .units = H, .bias = 0, .init = {.kind = INIT_NORMAL, .std = 0.7}},
                         bn, {.kind = LAYER_SIGMOID},
                         {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_NORMAL, .std = 0.5}}};
    s[1].kind = LAYER_BATCHNORM, s[1].eps = 1e-5, s[1].momentum = 0.1;
    CHECK(model_build(m, s, 4, D, C, B) == 0, "model_build: %s", bnlab_errmsg());
    model_init(m, 11);
    layer_t *l = &m->layers[1];
    if (l->gamma)
        for (int j = 0; j < H; j++) l->gamma[j] = (float)(0.5 + j * 0.25), l->beta[j] = (float)(0.1 * j - 0.2);
}

// Per feature mean and variance (biased) of y (B, H).
static void moments(const float *y, double *mean, double *var) {
    for (int j = 0; j < H; j++) {
        double s = 0, q = 0;
        for (int i = 0; i < B; i++) s += y[i * H + j];
        s /= B;
        for (int i = 0; i < B; i++) q += (y[i * H + j] - s) * (y[i * H + j] - s);
        mean[j] = s, var[j] = q / B;
    }
}

// normalize "mean": each feature's output has mean beta and keeps the input's spread (times gamma); "variance": the
// output's variance is gamma^2 (up to eps) and its mean is not beta (the input is not centred: the dense layer's
// output has a non-zero mean here, its inputs being positive).
static void test_normalize(void) {
    model_t m;
    double mean[H], var[H], in_mean[H], in_var[H];
    build(&m, (layer_spec_t){.bn_normalize = BN_NORM_MEAN});
    model_forward(&m, X, B, MODE_TRAIN, NULL);
    moments(m.layers[0].y, in_mean, in_var);
    moments(m.layers[1].y, mean, var);
    int centred = 1, spread = 1, off_one = 0;
    for (int j = 0; j < H; j++) {
        double g = m.layers[1].gamma[j];
        centred &= fabs(mean[j] - m.layers[1].beta[j]) < 1e-5;
        spread &= fabs(var[j] - g * g * in_var[j]) <= 1e-5 * g * g * in_var[j];
        off_one |= fabs(var[j] / (g * g) - 1.0) > 0.05;
    }
    CHECK(centred && spread && off_one, "normalize \"mean\": centred %d, spread kept %d, not scaled to 1 %d", centred,
          spread, off_one);
    model_free(&m);

    build(&m, (layer_spec_t){.bn_normalize = BN_NORM_VARIANCE});
    model_forward(&m, X, B, MODE_TRAIN, NULL);
    moments(m.layers[0].y, in_mean, in_var);
    moments(m.layers[1].y, mean, var);
    int scaled = 1, uncentred = 1;
    for (int j = 0; j < H; j++) {
        double g = m.layers[1].gamma[j], b = m.layers[1].beta[j], s = 1.0 / sqrt(in_var[j] + 1e-5);
        scaled &= fabs(var[j] - g * g * in_var[j] / (in_var[j] + 1e-5)) < 1e-4 * g * g;
        uncentred &= fabs(mean[j] - (g * in_mean[j] * s + b)) < 1e-4 * (1 + fabs(mean[j])) && fabs(in_mean[j] * s) > 0.05;
    }
    CHECK(scaled && uncentred, "normalize \"variance\": variance gamma^2 %d, mean gamma mu/sigma + beta %d", scaled,
          uncentred);
    model_free(&m);
}

// affine "none": no gamma or beta at all (fewer parameters, no weight/bias tensors, y = xhat); "frozen": the tensors
// exist, but their gradients are 0 so SGD leaves them where they started, while the rest of the network learns.
static void test_affine(void) {
    model_t plain, none;
    build(&plain, (layer_spec_t){0});
    build(&none, (layer_spec_t){.bn_affine = BN_AFFINE_NONE});
    float *t[LAYER_MAX_PARAMS];
    size_t n[LAYER_MAX_PARAMS];
    CHECK(layer_params(&none.layers[1], t, n, NULL) == 0 && layer_params(&plain.layers[1], t, n, NULL) == 2,
          "affine \"none\": the BN layer has %d parameter tensors", layer_params(&none.layers[1], t, n, NULL));
    CHECK(none.n_params + 2 * H == plain.n_params, "affine \"none\": %zu parameters, plain BN %zu", none.n_params,
          plain.n_params);
    CHECK(!layer_has_affine(&none.layers[1].spec) && layer_has_affine(&plain.layers[1].spec),
          "layer_has_affine does not follow the option");
    model_forward(&none, X, B, MODE_TRAIN, NULL);
    double mean[H], var[H];
    moments(none.layers[1].y, mean, var);
    int unit = 1;
    for (int j = 0; j < H; j++) unit &= fabs(mean[j]) < 1e-5 && fabs(var[j] - 1.0) < 1e-3;
    CHECK(unit, "affine \"none\": the output is not xhat (mean 0, variance 1)");
    model_free(&plain), model_free(&none);

    for (int frozen = 0; frozen < 2; frozen++) {
        model_t m;
        build(&m, (layer_spec_t){.bn_affine = frozen ? BN_AFFINE_FROZEN : BN_AFFINE_LEARNED});
        float g0[H], b0[H], w0 = m.layers[0].W[0];
        memcpy(g0, m.layers[1].gamma, sizeof g0), memcpy(b0, m.layers[1].beta, sizeof b0);
        optim_spec_t os = {.lr = 0.5, .momentum = 0.9};
        sgd_t o;
        sgd_init(&o, &os, m.n_params);
        for (int s = 0; s < 5; s++) {
            model_forward(&m, X, B, MODE_TRAIN, NULL);
            model_loss_backward_head(&m, Y, B, NULL);
            model_backward(&m, X, B);
            sgd_step(&o, m.params, m.grads, m.n_decay, 0.5);
        }
        int same = !memcmp(g0, m.layers[1].gamma, sizeof g0) && !memcmp(b0, m.layers[1].beta, sizeof b0);
        CHECK(same == frozen, "affine \"%s\": gamma and beta %s after 5 SGD steps", frozen ? "frozen" : "learned",
              same ? "unchanged" : "moved");
        CHECK(m.layers[0].W[0] != w0, "affine \"%s\": the dense weights did not learn", frozen ? "frozen" : "learned");
        sgd_free(&o);
        model_free(&m);
    }
}

// statistics "population": a training step normalizes by the running statistics as they were before it (so its
// output is the evaluation-mode output of that moment), and still moves them by the batch's; freeze_stats_after k:
// the first k steps are BN's (running statistics moving), from step k on the statistics stand still and training
// normalizes by them.
static void test_statistics(void) {
    model_t m;
    build(&m, (layer_spec_t){.bn_stats = BN_STATS_POPULATION});
    CHECK(!layer_uses_batch_statistics(&m.layers[1].spec), "statistics \"population\": the layer flag says batch");
    float *y_eval = malloc(sizeof(float) * B * H), rm0[H];
    for (int s = 0; s < 3; s++) {
        model_forward(&m, X + s, B - 1, MODE_EVAL, NULL);  // a different batch each step (shifted by s values)
        memcpy(y_eval, m.layers[1].y, sizeof(float) * (B - 1) * H);
        memcpy(rm0, m.layers[1].rmean, sizeof rm0);
        model_forward(&m, X + s, B - 1, MODE_TRAIN, NULL);
        double d = 0;
        for (int k = 0; k < (B - 1) * H; k++) d = fmax(d, fabs(y_eval[k] - m.layers[1].y[k]));
        CHECK(d < 1e-5, "statistics \"population\", step %d: training output %.3g from the running-statistics output", s, d);
        CHECK(memcmp(rm0, m.layers[1].rmean, sizeof rm0) != 0, "statistics \"population\": running mean did not move");
    }
    model_free(&m);

    const int k = 3;
    build(&m, (layer_spec_t){.freeze_stats_after = k});
    for (int s = 0; s < k + 3; s++) {
        memcpy(rm0, m.layers[1].rmean, sizeof rm0);
        model_forward(&m, X + s, B - 1, MODE_EVAL, NULL);
        memcpy(y_eval, m.layers[1].y, sizeof(float) * (B - 1) * H);
        model_forward(&m, X + s, B - 1, MODE_TRAIN, NULL);
        int moved = memcmp(rm0, m.layers[1].rmean, sizeof rm0) != 0;
        double d = 0;
        for (int q = 0; q < (B - 1) * H; q++) d = fmax(d, fabs(y_eval[q] - m.layers[1].y[q]));
        CHECK(moved == (s < k), "freeze_stats_after %d, step %d: running statistics %s", k, s, moved ? "moved" : "still");
        CHECK((d < 1e-5) == (s >= k), "freeze_stats_after %d, step %d: training output %.3g from evaluation's", k, s, d);
    }
    CHECK(m.layers[1].batches == k + 3, "num_batches_tracked %ld, want %d", (long)m.layers[1].batches, k + 3);
    free(y_eval);
    model_free(&m);
}

// Algorithm 2 (recalibrate_bn) re-estimates the layers that train on the batch's statistics and leaves those that
// train on fixed ones — population statistics, or frozen past freeze_stats_after — as they are (their inference
// already uses what training used); before its freeze a freeze_stats_after layer is re-estimated like BN.
static void test_recalibrate(void) {
    const layer_spec_t opts[] = {{0}, {.bn_stats = BN_STATS_POPULATION}, {.freeze_stats_after = 3},
                                 {.freeze_stats_after = 30}};
    const int replaced[] = {1, 0, 0, 1};
    uint8_t pix[B * D];
    for (int k = 0; k < B * D; k++) pix[k] = (uint8_t)(X[k] * 100);
    dataset_t ds = {.n = B, .dim = D, .u8 = pix, .labels = Y, .classes = C};
    preprocess_t pp = {.scale = 1.0f / 100};
    float x[B * D];
    int32_t y[B];
    for (size_t o = 0; o < sizeof opts / sizeof *opts; o++) {
        model_t m;
        build(&m, opts[o]);
        layer_t *l = &m.layers[1];
        for (int s = 0; s < 5; s++) model_forward(&m, X, B, MODE_TRAIN, NULL);  // 5 batches: past a freeze at 3
        CHECK(layer_trains_on_batch_statistics(l) == replaced[o], "option %zu: trains on batch statistics %d", o,
              layer_trains_on_batch_statistics(l));
        float rm[H], rv[H];
        memcpy(rm, l->rmean, sizeof rm), memcpy(rv, l->rvar, sizeof rv);
        int rc = recalibrate_bn(&m, &pp, &ds, 2, B / 2, 1, x, y);
        int same = !memcmp(rm, l->rmean, sizeof rm) && !memcmp(rv, l->rvar, sizeof rv);
        CHECK(replaced[o] ? rc == 0 && !same : rc != 0 && same, "option %zu: recalibrate rc %d, statistics %s", o, rc,
              same ? "kept" : "replaced");
        model_free(&m);
    }
}

// Evaluation of every option is the affine map eval_affine reports (what bnlab fold folds), to float rounding.
static void test_eval_affine(void) {
    const layer_spec_t opts[] = {{0}, {.bn_normalize = BN_NORM_MEAN}, {.bn_normalize = BN_NORM_VARIANCE},
                                 {.bn_affine = BN_AFFINE_NONE}, {.bn_affine = BN_AFFINE_FROZEN},
                                 {.bn_stats = BN_STATS_POPULATION}, {.freeze_stats_after = 2}};
    for (size_t o = 0; o < sizeof opts / sizeof *opts; o++) {
        model_t m;
        build(&m, opts[o]);
        layer_t *l = &m.layers[1];
        for (int j = 0; j < H; j++) l->rmean[j] = (float)(0.5 - 0.2 * j), l->rvar[j] = (float)(0.3 + 0.4 * j);
        model_forward(&m, X, B, MODE_EVAL, NULL);
        float scale[H], shift[H];
        CHECK(layer_kind(l->spec.kind)->eval_affine(l, scale, shift) == 0, "eval_affine refused option %zu", o);
        double d = 0;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < H; j++) {
                double want = (double)scale[j] * m.layers[0].y[i * H + j] + shift[j];
                d = fmax(d, fabs(l->y[i * H + j] - want) / (1 + fabs(want)));
            }
        CHECK(d < 1e-6, "option %zu: evaluation differs from its affine map by %.3g", o, d);
        model_free(&m);
    }
}

// LSUV: each dense layer's output has variance 1 on the batch (within the tolerance); without it, far from 1.
static void test_lsuv(void) {
    for (int on = 0; on < 2; on++) {
        layer_spec_t s[5] = {{.kind = LAYER_DENSE, .units = 8, .bias = 1, .init = {.kind = INIT_NORMAL, .std = 0.01}},
                             {.kind = LAYER_TANH},
                             {.kind = LAYER_DENSE, .units = 7, .bias = 0, .init = {.kind = INIT_NORMAL, .std = 3}},
                             {.kind = LAYER_RELU},
                             {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_NORMAL, .std = 0.01}}};
        model_t m;
        CHECK(model_build(&m, s, 5, D, C, B) == 0, "lsuv model_build");
        model_init(&m, 5);
        int passes = on ? model_lsuv(&m, X, B, 1e-3, 10) : 0;
        model_forward(&m, X, B, MODE_EVAL_BATCH, NULL);
        for (int i = 0; i < 5; i += 2) {
            const layer_t *l = &m.layers[i];
            double s1 = 0, s2 = 0;
            for (int k = 0; k < B * l->out; k++) s1 += l->y[k];
            s1 /= B * l->out;
            for (int k = 0; k < B * l->out; k++) s2 += (l->y[k] - s1) * (l->y[k] - s1);
            double v = s2 / (B * l->out);
            CHECK((fabs(v - 1.0) < 1e-3) == on, "LSUV %s: layer %d output variance %.6g", on ? "on" : "off", i, v);
        }
        if (on) CHECK(passes == 6, "LSUV: %d passes, want 2 per dense layer (scale, then confirm)", passes);
        model_free(&m);
    }
}

// The config keys: parsed into the spec, written back only when set (earlier configs resolve as before), refused
// with another variant, and model.lsuv likewise.
static void test_config(void) {
    const char *base = "{\"name\": \"t\", \"data\": {\"train_images\": \"a\", \"train_labels\": \"b\", \"test_images\": "
                       "\"c\", \"test_labels\": \"d\"}, \"model\": {%s\"layers\": [{\"type\": \"dense\", \"units\": 4}, "
                       "{\"type\": \"batchnorm\"%s}, {\"type\": \"dense\", \"units\": 10}]}, \"train\": {\"steps\": 1}}";
    char text[1024];
    config_t c;
    snprintf(text, sizeof text, base, "\"lsuv\": true, ",
             ", \"normalize\": \"variance\", \"affine\": \"none\", \"statistics\": \"population\", \"freeze_stats_after\": 7");
    CHECK(config_parse(&c, text, strlen(text), "t", NULL, NULL, 0) == 0, "parse: %s", bnlab_errmsg());
    const layer_spec_t *l = &c.model.layers[1];
    CHECK(l->bn_normalize == BN_NORM_VARIANCE && l->bn_affine == BN_AFFINE_NONE && l->bn_stats == BN_STATS_POPULATION &&
              l->freeze_stats_after == 7 && c.model.lsuv == 1, "options not parsed into the spec");
    cJSON *j = config_to_json(&c);
    char *out = cJSON_PrintUnformatted(j);
    CHECK_MSG(out, "\"normalize\":\"variance\",\"affine\":\"none\",\"statistics\":\"population\",\"freeze_stats_after\":7");
    CHECK_MSG(out, "\"lsuv\":true");
    free(out), cJSON_Delete(j);
    snprintf(text, sizeof text, base, "", "");
    CHECK(config_parse(&c, text, strlen(text), "t", NULL, NULL, 0) == 0, "parse: %s", bnlab_errmsg());
    j = config_to_json(&c);
    out = cJSON_PrintUnformatted(j);
    CHECK(!strstr(out, "normalize") && !strstr(out, "affine") && !strstr(out, "statistics") && !strstr(out, "freeze") &&
              !strstr(out, "lsuv"), "defaults written back: %s", out);
    free(out), cJSON_Delete(j);
    snprintf(text, sizeof text, base, "", ", \"variant\": \"renorm\", \"normalize\": \"mean\"");
    CHECK(config_parse(&c, text, strlen(text), "t", NULL, NULL, 0) != 0, "normalize accepted with renorm");
    CHECK_MSG(bnlab_errmsg(), "model.layers[1].normalize");
    CHECK_MSG(bnlab_errmsg(), "with variant \"standard\"");
    snprintf(text, sizeof text, base, "", ", \"affine\": \"off\"");
    CHECK(config_parse(&c, text, strlen(text), "t", NULL, NULL, 0) != 0, "affine \"off\" accepted");
    CHECK_MSG(bnlab_errmsg(), "\"learned\"");
}

int main(void) {
    rng_seed(&R, 2024, 0);
    for (int k = 0; k < B * D; k++) X[k] = (float)(rng_uniform(&R) * 2.0 + 0.2 * (k % D));  // positive, as pixels
    for (int i = 0; i < B; i++) Y[i] = (int32_t)rng_below(&R, C);
    test_normalize();
    test_affine();
    test_statistics();
    test_eval_affine();
    test_recalibrate();
    test_lsuv();
    test_config();
    return check_summary("ablation");
}
