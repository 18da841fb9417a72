// Li & Arora 2020 ("An exponential learning rate schedule for deep learning", Theorem 2.1): for a loss that is
// scale-invariant in every parameter, SGD with weight decay λ at a constant rate η gives the same network as SGD
// without weight decay at the growing rate η̃_t = η(1−ηλ)^−(2t+1), t = 0, 1, ...: w_t = (1−ηλ)^t · w̃_t. Derivation
// (bnlab's update w ← w − η(g + λw), g(c·w) = g(w)/c): with w_t = c_t w̃_t, c_t = (1−ηλ)^t,
//   c_{t+1} w̃_{t+1} = (1−ηλ) c_t w̃_t − η g(w̃_t)/c_t   ⇒   w̃_{t+1} = w̃_t − η/(c_t c_{t+1}) · g(w̃_t).
// In bnlab that rate is train.lr_schedule {"type": "exponential"} with lr = η/(1−ηλ), per_step = (1−ηλ)^−2.
//
// Checked on bnlab's own model and optimizer (sgd_step, sgd_lr_at), training mode, plain SGD, η = 0.5, λ = 0.01 (ηλ =
// 0.005, so the rate grows e-fold in 100 steps and the two runs' weights differ by a factor 0.995^t: a real test of
// the schedule, not of a rate ≈ constant), 100 steps on synthetic labelled batches, the same batches in both runs:
//  - every parameter scale-invariant: dense (no bias) → BN (no affine) → sigmoid → dense (no bias) → BN (no affine),
//    ε = 1e-12 (BN's ε breaks the invariance by ε/σ²; the weights of the decayed run shrink to ~0.6x). After every
//    step the logits of a fixed held-out batch agree (max |Δ| printed; bound 1e-5 — measured 2.2e-6 over 100 steps,
//    2.3e-6 over 1000 steps where the decayed weights have shrunk to 0.0067x: float32 rounding of differently scaled
//    weights, not growing) and W_decay = 0.995^t · W_schedule (relative 1e-5; measured 5e-7). With BN's default
//    ε = 1e-5 the logits drift apart: 1.2e-5 at step 10, 8.6e-5 at step 100 — ε/σ² is not scale-invariant;
//  - the schedule off by one step (exponent −(2t+3), or −(2t−1)): the logits must differ by more than 10x the bound
//    (measured 0.014, 1000x); weight decay dropped at a constant rate: likewise (measured 0.36);
//  - negative control: the head a plain dense layer (not followed by BN, so not scale-invariant; weight decay still
//    shrinks it): the logits must differ by more than 10x the bound.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/model.h"
#include "nn/optim.h"

enum { B = 32, IN = 20, H = 24, K = 5, STEPS = 100 };
static const double ETA = 0.5, LAMBDA = 0.01, EPS = 1e-12, TOL = 1e-5;

typedef struct {
    float x[STEPS][B * IN], xe[B * IN];
    int32_t y[STEPS][B];
} data_t;

static void make_data(data_t *d) {
    rng_t r;
    rng_seed(&r, 17, 0);
    float proj[IN * K];
    for (int i = 0; i < IN * K; i++) proj[i] = (float)rng_normal(&r);
    for (int s = 0; s <= STEPS; s++) {
        float *x = s < STEPS ? d->x[s] : d->xe;
        for (int i = 0; i < B * IN; i++) x[i] = (float)rng_normal(&r);
        if (s == STEPS) break;
        for (int i = 0; i < B; i++) {
            int best = 0;
            double bv = -1e30;
            for (int k = 0; k < K; k++) {
                double v = 0;
                for (int j = 0; j < IN; j++) v += x[i * IN + j] * proj[j * K + k];
                if (v > bv) bv = v, best = k;
            }
            d->y[s][i] = best;
        }
    }
}

// Trains `steps` steps; after step t (1-based) writes the held-out batch's logits to out[t-1] and the first dense
// weight's scale-free copy to w0[t-1] if w0 is not NULL.
static void train(int head_bn, double lr, lr_schedule_kind_t sched, double per_step, double wd, const data_t *d,
                  float (*out)[B * K], float (*w0)[H * IN]) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = H, .bias = 0, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = EPS, .momentum = 0.1, .bn_affine = BN_AFFINE_NONE},
                        {.kind = LAYER_SIGMOID},
                        {.kind = LAYER_DENSE, .units = K, .bias = 0, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = EPS, .momentum = 0.1, .bn_affine = BN_AFFINE_NONE}};
    model_t m;
    if (model_build(&m, s, head_bn ? 5 : 4, IN, K, B) != 0) exit(1);
    model_init(&m, 3);
    optim_spec_t os = {.lr = lr, .weight_decay = wd, .schedule = sched, .per_step = per_step};
    sgd_t o;
    sgd_init(&o, &os, m.n_params);
    for (int t = 0; t < STEPS; t++) {
        model_forward(&m, d->x[t], B, MODE_TRAIN, NULL);
        int correct;
        model_loss_backward_head(&m, d->y[t], B, &correct);
        model_backward(&m, d->x[t], B);
        sgd_step(&o, m.params, m.grads, m.n_decay, sgd_lr_at(&os, t));
        memcpy(out[t], model_forward(&m, d->xe, B, MODE_TRAIN_FROZEN, NULL), sizeof out[t]);
        if (w0) memcpy(w0[t], m.layers[0].W, sizeof w0[t]);
    }
    sgd_free(&o);
    model_free(&m);
}

static double max_diff(const float *a, const float *b, int n) {
    double e = 0;
    for (int i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]));
    return e;
}

// The largest logit difference over all steps, with the step where it first passes TOL (or -1).
static double compare(float (*a)[B * K], float (*b)[B * K], const char *what) {
    double worst = 0;
    long first = -1;
    for (int t = 0; t < STEPS; t++) {
        double e = max_diff(a[t], b[t], B * K);
        if (e > TOL && first < 0) first = t + 1;
        worst = fmax(worst, e);
    }
    printf("%s: max |Δlogit| over %d steps %.3g (at steps 1, 10, 100: %.3g, %.3g, %.3g); first step past %g: %ld\n",
           what, STEPS, worst, max_diff(a[0], b[0], B * K), max_diff(a[9], b[9], B * K),
           max_diff(a[STEPS - 1], b[STEPS - 1], B * K), TOL, first);
    return worst;
}

int main(void) {
    static data_t d;
    static float wd_out[STEPS][B * K], sc_out[STEPS][B * K], off_out[STEPS][B * K];
    static float wd_w[STEPS][H * IN], sc_w[STEPS][H * IN];
    make_data(&d);
    const double q = 1 - ETA * LAMBDA;

    // The equivalence: weight decay at η vs no weight decay at η(1−ηλ)^−(2t+1).
    train(1, ETA, LR_CONSTANT, 1, LAMBDA, &d, wd_out, wd_w);
    train(1, ETA / q, LR_EXPONENTIAL, 1 / (q * q), 0, &d, sc_out, sc_w);
    double e = compare(wd_out, sc_out, "weight decay vs exponential rate (all scale-invariant)");
    CHECK(e <= TOL, "Li & Arora: the logits differ by %.3g (bound %g)", e, TOL);
    double ew = 0;
    for (int t = 0; t < STEPS; t++) {
        double c = pow(q, t + 1), num = 0, den = 0;
        for (int i = 0; i < H * IN; i++)
            num = fmax(num, fabs(wd_w[t][i] - c * sc_w[t][i])), den = fmax(den, fabs(c * sc_w[t][i]));
        ew = fmax(ew, num / den);
    }
    printf("W_decay vs (1−ηλ)^t · W_schedule: max relative difference %.3g; (1−ηλ)^100 = %.4f\n", ew, pow(q, STEPS));
    CHECK(ew <= TOL, "the decayed run's weights are (1−ηλ)^t times the other's: relative %.3g", ew);

    // The schedule off by one step, both ways: it must fail.
    train(1, ETA / (q * q * q), LR_EXPONENTIAL, 1 / (q * q), 0, &d, off_out, NULL);
    e = compare(wd_out, off_out, "off by one step: η(1−ηλ)^−(2t+3)");
    CHECK(e > 10 * TOL, "the test sees a schedule off by one step: logits differ by only %.3g", e);
    train(1, ETA * q, LR_EXPONENTIAL, 1 / (q * q), 0, &d, off_out, NULL);
    e = compare(wd_out, off_out, "off by one step: η(1−ηλ)^−(2t−1)");
    CHECK(e > 10 * TOL, "the test sees a schedule off by one step: logits differ by only %.3g", e);
    // No schedule at all (weight decay dropped, constant rate).
    train(1, ETA, LR_CONSTANT, 1, 0, &d, off_out, NULL);
    e = compare(wd_out, off_out, "weight decay dropped, constant rate");
    CHECK(e > 10 * TOL, "the test sees weight decay dropped: logits differ by only %.3g", e);

    // Negative control: the head not followed by BN is not scale-invariant; the equivalence must fail.
    train(0, ETA, LR_CONSTANT, 1, LAMBDA, &d, wd_out, NULL);
    train(0, ETA / q, LR_EXPONENTIAL, 1 / (q * q), 0, &d, sc_out, NULL);
    e = compare(wd_out, sc_out, "negative control, head without BN");
    CHECK(e > 10 * TOL, "a head not followed by BN breaks the equivalence: logits differ by only %.3g", e);
    return check_summary("li_arora");
}
