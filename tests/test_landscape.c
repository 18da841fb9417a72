// The loss-landscape probes (run/landscape.h) where the answer is known:
// (a) a linear softmax model, whose Hessian-vector product along g is computed independently in double (its own
//     softmax gradient, central differences): β_eff at a small step equals ‖Hg‖/‖g‖;
// (b) a network with BN, shift noise and dropout: at η = 0 the probe reproduces the step's loss and gradient exactly
//     (same batch, same draws, BN on the batch's statistics), and as η → 0 the loss change is −η‖g‖² to first order
//     and the gradient difference shrinks in proportion to η; a probe with other draws does not (a negative control);
// and the probe leaves parameters, gradients and BN running statistics as it found them; `params` restricts g.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/rng.h"
#include "nn/layers.h"
#include "run/landscape.h"

enum { IN = 4, C = 3, B = 6, NP = C * IN + C };  // linear softmax: W (C, IN) then b (C)

// The batch-mean softmax cross-entropy gradient of the linear model in double, written out independently of nn/:
// θ = [W (C x IN), b (C)], dz = p − e_y, dW = mean dz xᵀ, db = mean dz.
static void ref_grad(const double *th, const double *x, const int32_t *y, double *g) {
    memset(g, 0, sizeof(double) * NP);
    for (int i = 0; i < B; i++) {
        double z[C], mx = -1e300, s = 0;
        for (int c = 0; c < C; c++) {
            z[c] = th[C * IN + c];
            for (int j = 0; j < IN; j++) z[c] += th[c * IN + j] * x[i * IN + j];
            mx = z[c] > mx ? z[c] : mx;
        }
        for (int c = 0; c < C; c++) s += z[c] = exp(z[c] - mx);
        for (int c = 0; c < C; c++) {
            double d = (z[c] / s - (c == y[i])) / B;
            for (int j = 0; j < IN; j++) g[c * IN + j] += d * x[i * IN + j];
            g[C * IN + c] += d;
        }
    }
}

static double norm(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i] * v[i];
    return sqrt(s);
}

static void test_linear_softmax_beta(void) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = C, .bias = 1}};
    model_t m;
    CHECK(model_build(&m, s, 1, IN, C, B) == 0, "build");
    rng_t r;
    rng_seed(&r, 7, 0);
    float xf[B * IN];
    double x[B * IN], th[NP];
    int32_t y[B];
    for (int i = 0; i < B * IN; i++) x[i] = xf[i] = (float)(2 * rng_uniform(&r) - 1);
    for (int i = 0; i < B; i++) y[i] = (int32_t)(i % C);
    for (int i = 0; i < C * IN; i++) m.layers[0].W[i] = (float)(2 * rng_uniform(&r) - 1);
    for (int c = 0; c < C; c++) m.layers[0].b[c] = (float)(rng_uniform(&r) - 0.5);
    for (int i = 0; i < C * IN; i++) th[i] = m.layers[0].W[i];
    for (int c = 0; c < C; c++) th[C * IN + c] = m.layers[0].b[c];
    train_rng_t tr = {0};
    model_forward(&m, xf, B, MODE_TRAIN, &tr);
    double L0 = model_loss_backward_head(&m, y, B, NULL);
    model_backward(&m, xf, B);

    // Hg by central differences of the reference gradient along g: error O(h²‖∇³L‖‖g‖³) ≈ 1e-10 relative at
    // h‖g‖ = 1e-5, far below the tolerance below.
    double g[NP], gp[NP], gm[NP], tp[NP], tm[NP], hg[NP];
    ref_grad(th, x, y, g);
    double gn = norm(g, NP), h = 1e-5 / gn;
    for (int i = 0; i < NP; i++) tp[i] = th[i] + h * g[i], tm[i] = th[i] - h * g[i];
    ref_grad(tp, x, y, gp);
    ref_grad(tm, x, y, gm);
    for (int i = 0; i < NP; i++) hg[i] = (gp[i] - gm[i]) / (2 * h);
    double want = norm(hg, NP) / gn;
    CHECK_NEAR(m.layers[0].dW[0], g[0], 1e-6, "bnlab's gradient matches the reference");

    // One step of η with η‖g‖ = 1e-3: ‖∇L(θ − ηg) − g‖/(η‖g‖) = ‖Hg‖/‖g‖ + O(η‖g‖·‖∇³L‖/‖H‖) (relative ~1e-3);
    // float rounding of θ − ηg (6e-8·|θ| ≤ 6e-8 per coordinate against a step of 1e-3 in norm: ~3e-4 relative) and
    // of the float gradients (~1e-7·‖g‖ against η‖Hg‖: ~1e-4) add less. 1 % covers all three with a margin; a wrong
    // step size, norm or direction is off by far more (the next check shows the ratio moves with η).
    ls_spec_t sp = {.every = 1, .lo = 1e-3 / gn, .hi = 0.5 / gn, .points = 2, .spacing = LS_LOG};
    landscape_t l;
    landscape_init(&l, &sp, &m);
    float p0[NP], g0[NP];
    memcpy(p0, m.params, sizeof p0), memcpy(g0, m.grads, sizeof g0);
    CHECK(landscape_probe(&l, &m, xf, y, B, &tr, 1.0, L0, 0) == 1, "probe due");
    CHECK_NEAR(l.grad_norm, gn, 1e-6 * gn, "grad_norm = ‖g‖");
    CHECK_NEAR(l.beta[0], want, 0.01 * want, "β at small η = ‖Hg‖/‖g‖ (finite-difference Hessian-vector product)");
    CHECK(fabs(l.beta[1] - want) > 0.02 * want, "at η‖g‖ = 0.5 the ratio has moved (%g vs %g): the check can fail",
          l.beta[1], want);
    CHECK_NEAR(l.beta_eff, fmax(l.beta[0], l.beta[1]), 0, "β_eff is the max over η");
    CHECK_NEAR(l.loss[0], L0 - l.eta[0] * gn * gn, 1e-3 * l.eta[0] * gn * gn, "L(θ − ηg) ≈ L − η‖g‖²");
    CHECK(memcmp(p0, m.params, sizeof p0) == 0 && memcmp(g0, m.grads, sizeof g0) == 0,
          "the probe changed the parameters or gradients");
    landscape_free(&l);
    model_free(&m);
}

// A small BN network with every random layer; the step's forward/backward as the trainer does it.
static void build_noisy_net(model_t *m, float *x, int32_t *y, int n, train_rng_t *r_before, double *L0) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = 8, .bias = 0, .init = {.kind = INIT_XAVIER_UNIFORM}},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                        {.kind = LAYER_NOISE},
                        {.kind = LAYER_SIGMOID},
                        {.kind = LAYER_DROPOUT, .rate = 0.3},
                        {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    CHECK(model_build(m, s, 6, 5, 3, n) == 0, "build");
    model_init(m, 3);
    rng_t r;
    rng_seed(&r, 11, 0);
    for (int i = 0; i < n * 5; i++) x[i] = (float)(2 * rng_uniform(&r) - 1);
    for (int i = 0; i < n; i++) y[i] = (int32_t)(i % 3);
    rng_seed(&r_before->dropout, 5, 1);
    rng_seed(&r_before->noise, 5, 2);
    train_rng_t tr = *r_before;
    model_forward(m, x, n, MODE_TRAIN, &tr);
    *L0 = model_loss_backward_head(m, y, n, NULL);
    model_backward(m, x, n);
}

static void test_eta_to_zero(void) {
    enum { N = 16 };
    model_t m;
    float x[N * 5];
    int32_t y[N];
    train_rng_t rb;
    double L0;
    build_noisy_net(&m, x, y, N, &rb, &L0);
    float *p0 = malloc(sizeof(float) * m.n_params), *g0 = malloc(sizeof(float) * m.n_params);
    float *s0 = malloc(sizeof(float) * m.n_state);
    memcpy(p0, m.params, sizeof(float) * m.n_params), memcpy(g0, m.grads, sizeof(float) * m.n_params);
    memcpy(s0, m.state, sizeof(float) * m.n_state);
    long batches = m.layers[1].batches;
    // η = 0, 1e-4, 2e-4, 3e-4 (linear spacing from 0: the API allows lo = 0, the config does not).
    ls_spec_t sp = {.every = 10, .lo = 0, .hi = 3e-4, .points = 4, .spacing = LS_LINEAR};
    landscape_t l;
    landscape_init(&l, &sp, &m);
    CHECK(landscape_probe(&l, &m, x, y, N, &rb, 1.0, L0, 7) == 0, "step 7 is not a probe step of every 10");
    CHECK(landscape_probe(&l, &m, x, y, N, &rb, 1.0, L0, 20) == 1, "step 20 is");
    CHECK(l.grad_diff[0] == 0.0, "η = 0: the same gradient bit for bit (same draws), got ‖Δ‖ = %g", l.grad_diff[0]);
    CHECK(l.loss[0] == L0, "η = 0: the batch loss exactly, got %.17g vs %.17g", l.loss[0], L0);
    double gn2 = l.grad_norm * l.grad_norm;
    for (int k = 1; k < 4; k++) {
        double first = l.eta[k] * gn2;  // first-order decrease; the remainder is O(η²β‖g‖²), ~1e-4 of it here
        CHECK_NEAR(L0 - l.loss[k], first, 0.02 * first + 1e-6, "L − L(θ − ηg) ≈ η‖g‖²");
        // ‖Δ‖ ≈ η‖Hg‖: proportional to η, so ‖Δ‖/η is the same at every small η (the ratio is β)
        CHECK_NEAR(l.beta[k], l.beta[1], 0.05 * l.beta[1], "‖Δ‖ shrinks in proportion to η");
    }
    CHECK(l.grad_diff[1] < l.grad_diff[2] && l.grad_diff[2] < l.grad_diff[3], "‖Δ‖ grows with η");
    CHECK(l.loss_min == l.loss[3] && l.loss_max == L0 && l.diff_min == 0.0, "bands over the points");
    CHECK(memcmp(p0, m.params, sizeof(float) * m.n_params) == 0 && memcmp(g0, m.grads, sizeof(float) * m.n_params) == 0,
          "the probe changed the parameters or gradients");
    CHECK(memcmp(s0, m.state, sizeof(float) * m.n_state) == 0 && m.layers[1].batches == batches,
          "the probe changed BN's running statistics or batch count");
    // Negative control: other dropout and noise draws at η = 0 give another gradient — the check above can fail.
    train_rng_t other = rb;
    rng_seed(&other.dropout, 6, 1);
    landscape_probe(&l, &m, x, y, N, &other, 1.0, L0, 30);
    CHECK(l.grad_diff[0] > 1e-3 * l.grad_norm, "other draws: ‖Δ‖ = %g at η = 0", l.grad_diff[0]);
    landscape_free(&l);

    // params = [5] (the last dense layer): g and the differences over its W and b only.
    ls_spec_t last = {.every = 1, .lo = 0.5, .hi = 1, .points = 2, .n_layers = 1, .layers = {5}};
    landscape_init(&l, &last, &m);
    landscape_probe(&l, &m, x, y, N, &rb, 1.0, L0, 0);
    const layer_t *d = &m.layers[5];
    double s = 0;
    for (int i = 0; i < d->in * d->out; i++) s += (double)d->dW[i] * d->dW[i];
    for (int i = 0; i < d->out; i++) s += (double)d->db[i] * d->db[i];
    CHECK_NEAR(l.grad_norm, sqrt(s), 1e-9 * sqrt(s), "params [5]: ‖g‖ over that layer's W and b");
    CHECK(memcmp(p0, m.params, sizeof(float) * m.n_params) == 0, "params [5]: parameters restored");
    landscape_free(&l);
    free(p0), free(g0), free(s0);
    model_free(&m);
}

static void test_factors(void) {
    ls_spec_t lin = {.lo = 0.5, .hi = 4, .points = 8, .spacing = LS_LINEAR};
    CHECK_NEAR(landscape_factor(&lin, 0), 0.5, 0, "first");
    CHECK_NEAR(landscape_factor(&lin, 1), 1.0, 1e-15, "linear step 0.5");
    CHECK(landscape_factor(&lin, 7) == 4.0, "last is hi exactly");
    ls_spec_t lg = {.lo = 0.5, .hi = 4, .points = 4, .spacing = LS_LOG};
    CHECK_NEAR(landscape_factor(&lg, 1), 1.0, 1e-12, "log: 0.5, 1, 2, 4");
    CHECK_NEAR(landscape_factor(&lg, 2), 2.0, 1e-12, "log");
    ls_spec_t one = {.lo = 0.5, .hi = 4, .points = 1};
    CHECK(landscape_factor(&one, 0) == 0.5, "one point: lo");
}

int main(void) {
    test_factors();
    test_linear_softmax_beta();
    test_eta_to_zero();
    return check_summary("landscape");
}
