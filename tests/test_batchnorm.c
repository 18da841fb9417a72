// Batch normalization against values worked out by hand and against the identities of Algorithms 1 and 2.
#include <stdlib.h>

#include "nn/batchnorm.h"
#include "check.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "base/rng.h"
#include "base/util.h"
#include "run/recalibrate.h"
#include "run/xhatstats.h"

// The seed document's example, done right: two examples, three features, gamma = beta = 1, eps = 1e-5.
// mu = (x1 + x2) / 2; biased var = ((x1 - x2) / 2)^2; xhat1 = (x1 - mu) / sqrt(var + eps); y1 = xhat1 + 1.
static void test_worked_example(void) {
    const float x[6] = {0.23f, 1.26f, -2.41f, 0.56f, 0.75f, 1.00f};  // (2, 3)
    const float gamma[3] = {1, 1, 1}, beta[3] = {1, 1, 1};
    float y[6], xhat[6], mean[3], var[3], invstd[3];
    double acc[6];
    batchnorm_forward_train(y, xhat, mean, var, invstd, x, gamma, beta, 2, 3, 1e-5f, acc);
    const double mu[3] = {0.395, 1.005, -0.705}, v[3] = {0.027225, 0.065025, 2.907025};
    const double xh1[3] = {-0.999816, 0.999923, -0.999998}, y1[3] = {0.000184, 1.999923, 0.0000017};
    for (int j = 0; j < 3; j++) {
        CHECK_NEAR(mean[j], mu[j], 1e-6, "mean");
        CHECK_NEAR(var[j], v[j], 1e-6, "biased variance");
        CHECK_NEAR(xhat[j], xh1[j], 1e-6, "xhat of example 1");
        CHECK_NEAR(y[j], y1[j], 1e-6, "y of example 1");
        CHECK_NEAR(xhat[3 + j], -xh1[j], 1e-6, "xhat of example 2 mirrors example 1");
        // Not the blog's +-0.707: that divides by the unbiased variance (0.05445, ...) in training.
        CHECK(fabs(fabs(xhat[j]) - 0.70710678) > 0.2, "xhat used the unbiased variance");
    }
    // One running-statistics update, momentum 0.1 = weight of the new batch, running_var starting at 1 and
    // receiving the unbiased variance (B/(B-1) = 2): rmean = 0.1 mu, rvar = 0.9 + 0.1 * 2 * var.
    float rmean[3] = {0, 0, 0}, rvar[3] = {1, 1, 1};
    batchnorm_update_running(rmean, rvar, mean, var, 2, 3, 0.1f);
    const double rm[3] = {0.0395, 0.1005, -0.0705}, rv[3] = {0.905445, 0.913005, 1.481405};
    for (int j = 0; j < 3; j++) {
        CHECK_NEAR(rmean[j], rm[j], 1e-6, "running mean after one batch");
        CHECK_NEAR(rvar[j], rv[j], 1e-6, "running var after one batch (unbiased, 0.05445 etc.)");
    }
}

// Algorithm 1 backward: for every feature, sum_i dx_i = 0 and sum_i dx_i xhat_i = 0 (the normalization
// removes the mean and scale, so shifting or scaling a feature's inputs cannot change the loss).
static void test_backward_identities(void) {
    rng_t r;
    rng_seed(&r, 3, 0);
    enum { B = 32, F = 5 };
    float x[B * F], dy[B * F], y[B * F], xhat[B * F], dx[B * F], g[F], b[F], mean[F], var[F], invstd[F], dg[F], db[F];
    for (int k = 0; k < B * F; k++) x[k] = (float)(3.0 * rng_normal(&r) + 2.0), dy[k] = (float)rng_normal(&r);
    for (int j = 0; j < F; j++) g[j] = (float)(0.5 + rng_uniform(&r)), b[j] = (float)rng_normal(&r);
    double acc[2 * F];
    batchnorm_forward_train(y, xhat, mean, var, invstd, x, g, b, B, F, 1e-5f, acc);
    batchnorm_backward(dx, dg, db, dy, xhat, g, invstd, B, F, acc);
    for (int j = 0; j < F; j++) {
        double s = 0, sx = 0, mag = 0, ym = 0, yv = 0;
        for (int i = 0; i < B; i++) {
            s += dx[i * F + j];
            sx += dx[i * F + j] * xhat[i * F + j];
            mag += fabs(dx[i * F + j]);
            ym += y[i * F + j];
        }
        // float32 rounding of B terms: a relative 1e-5 of their magnitude is far above it and far below
        // any missing term (which would be of the order of mag itself).
        CHECK_NEAR(s, 0.0, 1e-5 * mag, "sum of dx over the batch");
        CHECK_NEAR(sx, 0.0, 1e-5 * mag, "sum of dx * xhat over the batch");
        ym /= B;
        for (int i = 0; i < B; i++) yv += (y[i * F + j] - ym) * (y[i * F + j] - ym);
        CHECK_NEAR(ym, b[j], 1e-5, "training output mean is beta");
        CHECK_NEAR(sqrt(yv / B), g[j] * sqrt(var[j] / (var[j] + 1e-5)), 1e-5, "training output std is gamma");
    }
}

// Algorithm 2: the inference output is the affine map y = scale x + shift folded from gamma, beta and the
// population statistics; a network in evaluation mode is a function of its input alone.
static void test_eval_folded(void) {
    rng_t r;
    rng_seed(&r, 4, 0);
    enum { B = 16, F = 6 };
    float x[B * F], y[B * F], g[F], b[F], rm[F], rv[F], scale[F], shift[F];
    for (int k = 0; k < B * F; k++) x[k] = (float)(2.0 * rng_normal(&r));
    for (int j = 0; j < F; j++) {
        g[j] = (float)(0.5 + rng_uniform(&r)), b[j] = (float)rng_normal(&r);
        rm[j] = (float)rng_normal(&r), rv[j] = (float)(0.1 + rng_uniform(&r));
    }
    batchnorm_forward_eval(y, x, g, b, rm, rv, B, F, 1e-5f);
    batchnorm_fold(scale, shift, g, b, rm, rv, F, 1e-5f);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            double want = (double)scale[j] * x[i * F + j] + shift[j];
            CHECK_NEAR(y[i * F + j], want, 1e-5 * (1.0 + fabs(want)), "eval output = folded affine map");
        }
    // Evaluation of one example does not depend on what else is in the batch.
    float y1[F];
    batchnorm_forward_eval(y1, x + 5 * F, g, b, rm, rv, 1, F, 1e-5f);
    for (int j = 0; j < F; j++) CHECK(y1[j] == y[5 * F + j], "eval output depends on the batch");
}

// The cumulative average (torch momentum=None): after k batches the running mean is the plain mean of
// the k batch means and the running variance the mean of the k unbiased batch variances.
static void test_cumulative_and_model(void) {
    layer_spec_t s[] = {{.kind = LAYER_BATCHNORM, .eps = 1e-5, .cumulative = 1},
                        {.kind = LAYER_DENSE, .units = 2, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    model_t m;
    enum { B = 4, F = 3, K = 5 };
    CHECK(model_build(&m, s, 2, F, 2, B) == 0, "build");
    model_init(&m, 1);
    rng_t r;
    rng_seed(&r, 5, 0);
    double sum_mean[F] = {0}, sum_var[F] = {0};
    float x[B * F];
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < B * F; i++) x[i] = (float)(rng_normal(&r) + k);
        for (int j = 0; j < F; j++) {
            double mu = 0, v = 0;
            for (int i = 0; i < B; i++) mu += x[i * F + j];
            mu /= B;
            for (int i = 0; i < B; i++) v += (x[i * F + j] - mu) * (x[i * F + j] - mu);
            sum_mean[j] += mu, sum_var[j] += v / (B - 1);
        }
        model_forward(&m, x, B, MODE_TRAIN, NULL);
    }
    for (int j = 0; j < F; j++) {
        CHECK_NEAR(m.layers[0].rmean[j], sum_mean[j] / K, 1e-5, "cumulative running mean");
        CHECK_NEAR(m.layers[0].rvar[j], sum_var[j] / K, 1e-5, "cumulative running var (unbiased)");
    }
    // A frozen training-mode pass normalizes by the batch but leaves the running statistics alone.
    float keep_m[F], keep_v[F];
    memcpy(keep_m, m.layers[0].rmean, sizeof keep_m);
    memcpy(keep_v, m.layers[0].rvar, sizeof keep_v);
    int64_t seen = m.layers[0].batches;
    for (int i = 0; i < B * F; i++) x[i] += 10.0f;
    model_forward(&m, x, B, MODE_TRAIN_FROZEN, NULL);
    CHECK(memcmp(keep_m, m.layers[0].rmean, sizeof keep_m) == 0 && memcmp(keep_v, m.layers[0].rvar, sizeof keep_v) == 0 &&
              m.layers[0].batches == seen, "MODE_TRAIN_FROZEN changed the running statistics");
    CHECK_NEAR(m.layers[0].y[0] + m.layers[0].y[F] + m.layers[0].y[2 * F] + m.layers[0].y[3 * F], 0.0, 1e-5,
               "MODE_TRAIN_FROZEN normalizes by the batch");
    // In evaluation mode the model's BN layer applies Algorithm 2 with those statistics.
    model_forward(&m, x, B, MODE_EVAL, NULL);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            double want = (x[i * F + j] - m.layers[0].rmean[j]) / sqrt(m.layers[0].rvar[j] + 1e-5);
            CHECK_NEAR(m.layers[0].y[i * F + j], want, 1e-5, "model eval uses running statistics");
        }
    model_free(&m);
}

// The fused passes (BN + sigmoid, bias + sigmoid, and their backward) compute every value as the separate passes
// do: compared bit for bit, at the paper's width and at one that leaves vector remainders.
static void test_fused_equals_separate(int B, int F) {
    rng_t r;
    rng_seed(&r, 11, 0);
    size_t n = (size_t)B * F;
    float *x = malloc(4 * n), *ds = malloc(4 * n), *g = malloc(4 * (size_t)F), *b = malloc(4 * (size_t)F);
    float *y1 = malloc(4 * n), *y2 = malloc(4 * n), *s1 = malloc(4 * n), *s2 = malloc(4 * n), *xh1 = malloc(4 * n),
          *xh2 = malloc(4 * n), *g1 = malloc(4 * n), *g2 = malloc(4 * n), *dx1 = malloc(4 * n), *dx2 = malloc(4 * n);
    float st1[3 * 512], st2[3 * 512], dg1[512], dg2[512], db1[512], db2[512], rm[512], rv[512];
    double acc[2 * 512];
    for (size_t k = 0; k < n; k++) x[k] = (float)(2.0 * rng_normal(&r) - 1.0), ds[k] = (float)rng_normal(&r);
    for (int j = 0; j < F; j++) {
        g[j] = (float)(0.5 + rng_uniform(&r)), b[j] = (float)rng_normal(&r);
        rm[j] = (float)rng_normal(&r), rv[j] = (float)(0.5 + rng_uniform(&r));
    }
    // training forward, then backward through the sigmoid and BN
    batchnorm_forward_train(y1, xh1, st1, st1 + F, st1 + 2 * F, x, g, b, B, F, 1e-5f, acc);
    sigmoid_forward(s1, y1, n);
    batchnorm_sigmoid_forward_train(s2, y2, xh2, st2, st2 + F, st2 + 2 * F, x, g, b, B, F, 1e-5f, acc);
    CHECK(!memcmp(y1, y2, 4 * n) && !memcmp(s1, s2, 4 * n) && !memcmp(xh1, xh2, 4 * n) &&
              !memcmp(st1, st2, 4 * 3 * (size_t)F),
          "fused BN + sigmoid forward (training) differs from the separate passes (%dx%d)", B, F);
    sigmoid_backward(g1, ds, s1, n);
    batchnorm_backward(dx1, dg1, db1, g1, xh1, g, st1 + 2 * F, B, F, acc);
    batchnorm_sigmoid_backward(dx2, dg2, db2, g2, ds, s2, xh2, g, st2 + 2 * F, B, F, acc);
    CHECK(!memcmp(g1, g2, 4 * n) && !memcmp(dx1, dx2, 4 * n) && !memcmp(dg1, dg2, 4 * (size_t)F) &&
              !memcmp(db1, db2, 4 * (size_t)F),
          "fused sigmoid + BN backward differs from the separate passes (%dx%d)", B, F);
    // evaluation forward
    batchnorm_forward_eval(y1, x, g, b, rm, rv, B, F, 1e-5f);
    sigmoid_forward(s1, y1, n);
    batchnorm_sigmoid_forward_eval(s2, y2, x, g, b, rm, rv, B, F, 1e-5f);
    CHECK(!memcmp(y1, y2, 4 * n) && !memcmp(s1, s2, 4 * n),
          "fused BN + sigmoid forward (evaluation) differs from the separate passes (%dx%d)", B, F);
    // a dense layer's bias and a sigmoid
    memcpy(y1, x, 4 * n), memcpy(y2, x, 4 * n);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) y1[(size_t)i * F + j] += b[j];
    sigmoid_forward(s1, y1, n);
    bias_sigmoid_forward(s2, y2, b, B, F);
    CHECK(!memcmp(y1, y2, 4 * n) && !memcmp(s1, s2, 4 * n), "fused bias + sigmoid differs (%dx%d)", B, F);
    sigmoid_backward(g1, ds, s1, n);
    dense_bias_backward(db1, g1, B, F);
    sigmoid_bias_backward(g2, db2, ds, s2, B, F);
    CHECK(!memcmp(g1, g2, 4 * n) && !memcmp(db1, db2, 4 * (size_t)F), "fused sigmoid + bias backward differs (%dx%d)",
          B, F);
    free(x), free(ds), free(g), free(b), free(y1), free(y2), free(s1), free(s2), free(xh1), free(xh2), free(g1),
        free(g2), free(dx1), free(dx2);
}

// Algorithm 2 (run/recalibrate.h): after recalibration a BN layer on the raw input holds the mean of the batch
// means and m/(m-1) times the mean of the biased batch variances, over the batches the shuffled order gives —
// recomputed here from the data by the same order, independently of the model.
static void test_algorithm2(void) {
    enum { N = 48, D = 3, M = 6, NB = 5 };
    static uint8_t pix[N * D];
    static int32_t labels[N];
    rng_t r;
    rng_seed(&r, 4, 0);
    for (int i = 0; i < N * D; i++) pix[i] = (uint8_t)rng_below(&r, 256);
    for (int i = 0; i < N; i++) labels[i] = (int32_t)rng_below(&r, 2);
    dataset_t ds = {.n = N, .dim = D, .u8 = pix, .labels = labels, .classes = 2};
    preprocess_t pp = {.scale = 1.0f / 255};
    layer_spec_t specs[2] = {{.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                             {.kind = LAYER_DENSE, .units = 2, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    model_t m;
    CHECK(model_build(&m, specs, 2, D, 2, M) == 0, "model_build: %s", bnlab_errmsg());
    model_init(&m, 1);
    float x[M * D];
    int32_t y[M];
    CHECK(recalibrate_bn(&m, &pp, &ds, NB, M, 77, x, y) == 0, "recalibrate: %s", bnlab_errmsg());
    uint32_t order[N];
    for (uint32_t i = 0; i < N; i++) order[i] = i;
    rng_seed(&r, 77, RNG_STREAM_RECALIBRATE);
    rng_shuffle(&r, order, N);
    for (int j = 0; j < D; j++) {
        double sm = 0, sv = 0;
        for (int b = 0; b < NB; b++) {
            double mu = 0, v = 0;
            for (int i = 0; i < M; i++) mu += pix[order[b * M + i] * D + j] / 255.0;
            mu /= M;
            for (int i = 0; i < M; i++) {
                double d = pix[order[b * M + i] * D + j] / 255.0 - mu;
                v += d * d;
            }
            sm += mu, sv += v / M;
        }
        CHECK_NEAR(m.layers[0].rmean[j], sm / NB, 1e-6, "Algorithm 2 mean");
        CHECK_NEAR(m.layers[0].rvar[j], (double)M / (M - 1) * sv / NB, 1e-6, "Algorithm 2 variance (m/(m-1))");
    }
    CHECK(recalibrate_bn(&m, &pp, &ds, N / M + 1, M, 77, x, y) != 0, "more batches than the data holds accepted");
    CHECK_MSG(bnlab_errmsg(), "need 54 training examples, the data has 48");
    model_free(&m);
}

// At batch 2 every xhat is +-d / sqrt(d^2 + eps), d = (x1 - x2) / 2, whatever the inputs (docs §3, §11): features
// whose half-differences d run from 1e-4 (below sqrt(eps) = 3.2e-3, where |xhat| is far from 1) to 100; the
// statistics of run/xhatstats.h then see the two rows opposite and count which are within 1e-3 of 1.
static void test_batch_of_two(void) {
    enum { F = 13 };
    const float eps = 1e-5f;
    float x[2 * F], y[2 * F], xhat[2 * F], mean[F], var[F], invstd[F], gamma[F], beta[F];
    double acc[2 * F];
    rng_t r;
    rng_seed(&r, 7, 0);
    long want_near = 0;
    for (int j = 0; j < F; j++) {
        double d = 1e-4 * pow(10.0, j / 2.0);  // 1e-4 .. 1e2
        x[j] = (float)(rng_normal(&r) * 3.0);
        x[F + j] = x[j] - (float)(2.0 * d);
        gamma[j] = 2.0f, beta[j] = -1.0f;  // xhat is before them
    }
    batchnorm_forward_train(y, xhat, mean, var, invstd, x, gamma, beta, 2, F, eps, acc);
    for (int j = 0; j < F; j++) {
        double d = ((double)x[j] - (double)x[F + j]) / 2.0, want = d / sqrt(d * d + eps);
        CHECK_NEAR(xhat[j], want, 2e-6, "batch of 2: xhat of row 1 is d / sqrt(d^2 + eps)");
        CHECK(xhat[F + j] == -xhat[j], "batch of 2: the rows are opposite (%g, %g)", xhat[j], xhat[F + j]);
        want_near += 2 * (fabs(want) >= 1.0 - XHAT_NEAR_ONE);
    }
    xhat_stats_t s;
    xhat_stats_reset(&s);
    xhat_stats_add(&s, xhat, 2, F);
    CHECK(s.n == 2 * F && s.near_one == want_near && want_near > 0 && want_near < 2 * F,
          "xhat stats: n %ld, near one %ld (want %ld)", s.n, s.near_one, want_near);
    CHECK(s.max_abs_mean == 0.0 && s.max_abs <= 1.0 && s.min_abs < 0.1, "xhat stats: mean %g, max %g, min %g",
          s.max_abs_mean, s.max_abs, s.min_abs);
    // Hand values: rows (1, 0), (-1, 2), (0, 4): |xhat| min 0, max 4, sum of squares 22, largest |column mean| 2.
    const float h[6] = {1, 0, -1, 2, 0, 4};
    xhat_stats_reset(&s);
    xhat_stats_add(&s, h, 3, 2);
    CHECK(s.n == 6 && s.min_abs == 0.0 && s.max_abs == 4.0 && s.sum_sq == 22.0 && s.max_abs_mean == 2.0 &&
          s.near_one == 4, "xhat stats by hand: n %ld min %g max %g sq %g mean %g near %ld", s.n, s.min_abs,
          s.max_abs, s.sum_sq, s.max_abs_mean, s.near_one);
}

// Batch Renorm's r_max/d_max schedule runs on the layer's own count of training batches (num_batches_tracked, which a
// checkpoint stores and train --init / --resume carry over), not on the run's step: with the count set to t, one
// training batch whose sigma_B / sigma and (mu_B - mu) / sigma are far beyond every limit clips r and d at exactly
// the limits at t — 1 and 0 before renorm_start (10), halfway at 15 (r_max 2, d_max 2.5), the limits from 20 on.
static void test_renorm_schedule_counts_layer_batches(void) {
    layer_spec_t s[] = {{.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .variant = BN_RENORM, .r_max = 3,
                         .d_max = 5, .renorm_start = 10, .r_max_step = 20, .d_max_step = 20},
                        {.kind = LAYER_DENSE, .units = 2, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    enum { B = 4, F = 2 };
    const long counts[] = {0, 9, 10, 15, 20, 1000};
    const double want_r[] = {1, 1, 1, 2, 3, 3}, want_d[] = {0, 0, 0, 2.5, 5, 5};
    for (int c = 0; c < 6; c++) {
        model_t m;
        CHECK(model_build(&m, s, 2, F, 2, B) == 0, "build: %s", bnlab_errmsg());
        model_init(&m, 1);
        layer_t *l = &m.layers[0];
        for (int j = 0; j < F; j++) l->rmean[j] = 0.0f, l->rstd[j] = 1e-3f;  // sigma_B / sigma ~ 1000
        l->batches = counts[c];
        float x[B * F] = {100, 100, 102, 102, 98, 98, 100.5f, 100.5f};         // mu_B ~ 100: (mu_B - mu) / sigma huge
        model_forward(&m, x, B, MODE_TRAIN, NULL);
        for (int j = 0; j < F; j++) {
            CHECK(fabs(l->rn_r[j] - want_r[c]) < 1e-6, "renorm r %g at layer count %ld, want %g", l->rn_r[j], counts[c],
                  want_r[c]);
            CHECK(fabs(l->rn_d[j] - want_d[c]) < 1e-6, "renorm d %g at layer count %ld, want %g", l->rn_d[j], counts[c],
                  want_d[c]);
        }
        CHECK(l->batches == counts[c] + 1, "the training batch was not counted");
        model_free(&m);
    }
}

int main(void) {
    test_batch_of_two();
    test_worked_example();
    test_backward_identities();
    test_eval_folded();
    test_cumulative_and_model();
    test_fused_equals_separate(60, 100);
    test_fused_equals_separate(7, 13);
    test_algorithm2();
    test_renorm_schedule_counts_layer_batches();
    return check_summary("batchnorm");
}
