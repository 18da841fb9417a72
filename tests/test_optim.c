// SGD, the learning-rate schedule and the RNG streams, against hand-computed values.
#include <stdlib.h>

#include "check.h"
#include "nn/optim.h"
#include "base/rng.h"

static void test_sgd(void) {
    // Two parameters: [0] a dense weight (decayed), [1] a bias (not decayed). Constant gradient 1.
    optim_spec_t s = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5};
    sgd_t o;
    sgd_init(&o, &s, 2);
    float w[2] = {1.0f, 1.0f}, g[2] = {1.0f, 1.0f};
    sgd_step(&o, w, g, 1, s.lr);
    // step 1: g' = 1 + 0.5 * 1 = 1.5, v = 1.5, w = 1 - 0.15 = 0.85; bias: v = 1, w = 0.9
    CHECK_NEAR(w[0], 0.85, 1e-7, "decayed weight after step 1");
    CHECK_NEAR(w[1], 0.9, 1e-7, "bias after step 1");
    sgd_step(&o, w, g, 1, s.lr);
    // step 2: g' = 1 + 0.425 = 1.425, v = 0.9 * 1.5 + 1.425 = 2.775, w = 0.85 - 0.2775 = 0.5725
    CHECK_NEAR(w[0], 0.5725, 1e-6, "decayed weight after step 2");
    CHECK_NEAR(w[1], 0.9 - 0.19, 1e-6, "bias after step 2 (v = 1.9)");
    sgd_free(&o);

    optim_spec_t n = {.lr = 0.1, .momentum = 0.9, .nesterov = 1};
    sgd_init(&o, &n, 1);
    float x[1] = {0.0f}, gx[1] = {1.0f};
    sgd_step(&o, x, gx, 0, n.lr);  // v = 1; w -= 0.1 * (1 + 0.9 * 1)
    CHECK_NEAR(x[0], -0.19, 1e-7, "Nesterov step");
    sgd_free(&o);

    optim_spec_t st = {.lr = 1.0, .schedule = LR_STEP, .step_size = 10, .gamma = 0.5};
    CHECK(sgd_lr_at(&st, 0) == 1.0 && sgd_lr_at(&st, 9) == 1.0 && sgd_lr_at(&st, 10) == 0.5 &&
              sgd_lr_at(&st, 25) == 0.25, "step decay");
    optim_spec_t se = {.lr = 0.5, .schedule = LR_EXPONENTIAL, .per_step = 1.25};
    CHECK(sgd_lr_at(&se, 0) == 0.5 && sgd_lr_at(&se, 1) == 0.625 && sgd_lr_at(&se, 3) == 0.9765625,
          "exponential: lr · per_step^t");
    se.per_step = 0.5;
    CHECK(sgd_lr_at(&se, 2) == 0.125, "exponential decay");
}

static void test_rng(void) {
    rng_t a, b, c;
    rng_seed(&a, 42, 1);
    rng_seed(&b, 42, 1);
    rng_seed(&c, 42, 2);
    int same = 1, diff = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        same &= x == y;
        diff += x != z;
    }
    CHECK(same, "same seed and stream, different numbers");
    CHECK(diff > 95, "streams 1 and 2 are not independent (%d of 100 differ)", diff);
    // Moments of the normal and uniform generators over 200k draws (5-sigma bounds).
    double s = 0, ss = 0, u = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double v = rng_normal(&a);
        s += v, ss += v * v;
        u += rng_uniform(&b);
    }
    CHECK_NEAR(s / n, 0.0, 5.0 / sqrt(n), "normal mean");
    CHECK_NEAR(ss / n, 1.0, 5.0 * sqrt(2.0 / n), "normal variance");
    CHECK_NEAR(u / n, 0.5, 5.0 * sqrt(1.0 / 12 / n), "uniform mean");
    uint32_t idx[50], hit[50] = {0};
    for (int i = 0; i < 50; i++) idx[i] = (uint32_t)i;
    rng_shuffle(&a, idx, 50);
    for (int i = 0; i < 50; i++) hit[idx[i]]++;
    int perm = 1;
    for (int i = 0; i < 50; i++) perm &= hit[i] == 1;
    CHECK(perm, "shuffle is not a permutation");
}

int main(void) {
    test_sgd();
    test_rng();
    return check_summary("optim");
}
