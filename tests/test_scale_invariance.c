// Ioffe & Szegedy (2015) §3.3: "BN((aW)u) = BN(Wu)" and "∂BN((aW)u)/∂u = ∂BN(Wu)/∂u, ∂BN((aW)u)/∂(aW) =
// (1/a) · ∂BN(Wu)/∂W", checked on bnlab's own model (dense without bias → batchnorm → sigmoid → dense, softmax
// cross-entropy) in training mode, first trained 300 SGD steps on synthetic labelled data (so W, γ, β are learned
// values, not their initialization), then for a ∈ {0.1, 10, 100}: scaling the first dense weight by a leaves the logits,
// the loss, the input gradient and every later parameter's gradient unchanged and divides that weight's gradient
// by a. The identity is exact for BN's ε = 0; bnlab's ε (1e-5 by default) adds ε/(a²σ²) to the normalizer, so this
// test uses ε = 1e-12 to check the identity itself. Tolerance: float32 arithmetic through 2 layers of 16 x 32 —
// 2e-5 on logits (of size ~1), a relative 1e-5 on gradients (measured: under 4e-7) (rounding of a different W, not a different formula:
// an error in the formula moves them by a factor a).
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/model.h"

enum { B = 16, IN = 32, H = 24, K = 5 };

typedef struct {
    float logits[B * K], dw0[H * IN], dw3[K * H], dgamma[H], dx[B * IN];
    double loss;
} pass_t;

static void run(model_t *m, const float *x, const int32_t *y, pass_t *p) {
    const float *out = model_forward(m, x, B, MODE_TRAIN_FROZEN, NULL);
    memcpy(p->logits, out, sizeof p->logits);
    int correct;
    p->loss = model_loss_backward_head(m, y, B, &correct);
    model_backward(m, x, B);
    memcpy(p->dw0, m->layers[0].dW, sizeof p->dw0);
    memcpy(p->dw3, m->layers[3].dW, sizeof p->dw3);
    memcpy(p->dgamma, m->layers[1].dgamma, sizeof p->dgamma);
    memcpy(p->dx, m->layers[0].dy, sizeof p->dx);  // dL/d(Wu): the same in both by the identity
}

static double rel(double got, double want, double scale) { return fabs(got - want) / scale; }

static double max_abs(const float *v, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

int main(void) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = H, .bias = 0, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-12, .momentum = 0.1},
                        {.kind = LAYER_SIGMOID},
                        {.kind = LAYER_DENSE, .units = K, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
    model_t m;
    if (model_build(&m, s, 4, IN, K, B) != 0) return 1;
    model_init(&m, 3);
    rng_t r;
    rng_seed(&r, 9, 0);
    float x[B * IN], w0[H * IN];
    int32_t y[B];
    for (int i = 0; i < B * IN; i++) x[i] = (float)rng_normal(&r);
    for (int i = 0; i < B; i++) y[i] = (int32_t)rng_below(&r, K);
    // Train: labels from a fixed random linear map of the inputs, fresh batches, plain SGD at lr 0.5.
    float proj[IN * K];
    for (int i = 0; i < IN * K; i++) proj[i] = (float)rng_normal(&r);
    double first = 0, last = 0;
    for (int step = 0; step < 300; step++) {
        for (int i = 0; i < B * IN; i++) x[i] = (float)rng_normal(&r);
        for (int i = 0; i < B; i++) {
            int best = 0;
            double bv = -1e30;
            for (int k = 0; k < K; k++) {
                double v = 0;
                for (int j = 0; j < IN; j++) v += x[i * IN + j] * proj[j * K + k];
                if (v > bv) bv = v, best = k;
            }
            y[i] = best;
        }
        model_forward(&m, x, B, MODE_TRAIN, NULL);
        int correct;
        double loss = model_loss_backward_head(&m, y, B, &correct);
        model_backward(&m, x, B);
        for (size_t i = 0; i < m.n_params; i++) m.params[i] -= 0.5f * m.grads[i];
        if (step < 20) first += loss / 20;
        if (step >= 280) last += loss / 20;
    }
    CHECK(last < 0.7 * first, "the network did not train: mean loss %.3f over the first 20 steps, %.3f over the last", first, last);
    memcpy(w0, m.layers[0].W, sizeof w0);
    static pass_t base, scaled;
    run(&m, x, y, &base);
    const double sw0 = max_abs(base.dw0, H * IN), sw3 = max_abs(base.dw3, K * H), sg = max_abs(base.dgamma, H);
    const double sdy = max_abs(base.dx, B * H);
    const float as[] = {0.1f, 10.0f, 100.0f};
    for (int t = 0; t < 3; t++) {
        const float a = as[t];
        for (int i = 0; i < H * IN; i++) m.layers[0].W[i] = a * w0[i];
        run(&m, x, y, &scaled);
        double e_out = 0, e_w0 = 0, e_w3 = 0, e_g = 0, e_dy = 0;
        for (int i = 0; i < B * K; i++) e_out = fmax(e_out, fabs(scaled.logits[i] - base.logits[i]));
        for (int i = 0; i < H * IN; i++) e_w0 = fmax(e_w0, rel(scaled.dw0[i], base.dw0[i] / a, sw0 / a));
        for (int i = 0; i < K * H; i++) e_w3 = fmax(e_w3, rel(scaled.dw3[i], base.dw3[i], sw3));
        for (int i = 0; i < H; i++) e_g = fmax(e_g, rel(scaled.dgamma[i], base.dgamma[i], sg));
        for (int i = 0; i < B * H; i++) e_dy = fmax(e_dy, rel(scaled.dx[i] * a, base.dx[i], sdy));
        printf("a = %g: max |Δlogit| %.2e, ∂L/∂(aW)·a vs ∂L/∂W %.2e, ∂L/∂W_out %.2e, ∂L/∂γ %.2e, "
               "∂L/∂(aWu)·a vs ∂L/∂(Wu) %.2e (relative to the largest entry)\n", a, e_out, e_w0, e_w3, e_g, e_dy);
        CHECK(e_out <= 2e-5, "a = %g: BN((aW)u) = BN(Wu): logits differ by %.3g", a, e_out);
        CHECK_NEAR(scaled.loss, base.loss, 2e-6, "the loss is unchanged");
        CHECK(e_w0 <= 1e-5, "a = %g: ∂L/∂(aW) = (1/a) ∂L/∂W: relative error %.3g", a, e_w0);
        CHECK(e_w3 <= 1e-5 && e_g <= 1e-5, "a = %g: later gradients unchanged: %.3g, %.3g", a, e_w3, e_g);
        CHECK(e_dy <= 1e-5, "a = %g: the gradient at the BN input scales by 1/a: %.3g", a, e_dy);
    }
    model_free(&m);
    return check_summary("scale_invariance");
}
