// Central-difference gradient checks for every layer and for a whole network.
//
// Each case defines a scalar L = sum_k r_k y_k (r fixed random) so dL/dy = r, runs the layer's backward with
// dy = r, and compares every analytic derivative with (L(v + h) - L(v - h)) / 2h, L accumulated in double.
// Tolerance from the error model, not tuned: |analytic - numeric| <= 1e-2 * max(|a|, |n|) + noise, where
// noise = 8 * 2^-24 * sum_k |r_k y_k| / h bounds the float32 rounding of the forward pass (cancellation
// in L(v+h) - L(v-h)), plus the O(h^2) truncation term, small for the h used. The negative controls at the
// end show the same check rejects a wrong gradient.
#include <stdlib.h>

#include "nn/batchnorm.h"
#include "nn/bnvariants.h"
#include "check.h"
#include "nn/layernorm.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "base/rng.h"
#include "nn/sparse.h"

static rng_t R;

static void fill_normal(float *v, size_t n, double scale) {
    for (size_t i = 0; i < n; i++) v[i] = (float)(scale * rng_normal(&R));
}
// Values bounded away from zero (relu's kink) by more than the step h.
static void fill_away_from_zero(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double a = 0.1 + fabs(rng_normal(&R));
        v[i] = (float)(rng_uniform(&R) < 0.5 ? -a : a);
    }
}

typedef double (*loss_fn)(void *ctx, double *abs_sum);

// Optional: a signature of the non-smooth choices of the last forward pass (which ReLU inputs are > 0).
// Where v +- h lands on different sides of a kink, the central difference is not a derivative; such
// entries are skipped and counted, not compared.
static unsigned long long (*kink_signature)(void *ctx);
static int kinks_skipped;

static double dot_r(const float *r, const float *y, size_t n, double *abs_sum) {
    double s = 0.0, a = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += (double)r[i] * y[i];
        a += fabs((double)r[i] * y[i]);
    }
    *abs_sum = a;
    return s;
}

// Checks analytic g (n) against central differences of f in v (n); returns the number of mismatches.
// At most max_checks entries are checked (evenly spaced) to keep large cases fast.
static int gradcheck(const char *what, loss_fn f, void *ctx, float *v, const float *g, size_t n, double h,
                     size_t max_checks, int verbose) {
    int bad = 0;
    size_t stride = n > max_checks ? n / max_checks : 1;
    double worst = 0.0;
    for (size_t i = 0; i < n; i += stride) {
        float keep = v[i];
        double a1, a2;
        v[i] = keep + (float)h;
        double hp = (double)v[i] - keep;  // the step actually taken in float
        double lp = f(ctx, &a1);
        unsigned long long sp = kink_signature ? kink_signature(ctx) : 0;
        v[i] = keep - (float)h;
        double hm = keep - (double)v[i];
        double lm = f(ctx, &a2);
        unsigned long long sm = kink_signature ? kink_signature(ctx) : 0;
        v[i] = keep;
        if (sp != sm) {
            kinks_skipped++;
            continue;
        }
        double num = (lp - lm) / (hp + hm);
        double noise = 8.0 * 5.96e-8 * (a1 > a2 ? a1 : a2) / h;
        double tol = 1e-2 * fmax(fabs(g[i]), fabs(num)) + noise + 1e-7;
        double err = fabs(g[i] - num);
        if (err / tol > worst) worst = err / tol;
        if (err > tol) {
            if (verbose && bad < 3)
                fprintf(stderr, "  %s[%zu]: analytic %.8g numeric %.8g (tol %.3g)\n", what, i, g[i], num, tol);
            bad++;
        }
    }
    (void)worst;
    return bad;
}

#define GRADCHECK(what, f, ctx, v, g, n, h) \
    do { int bad_ = gradcheck(what, f, ctx, v, g, n, h, 400, 1); \
         CHECK(bad_ == 0, "%s: %d entries disagree with central differences", what, bad_); } while (0)

// ---------------------------------------------------------------------------------------------- dense
typedef struct { int B, in, out; float *x, *W, *b, *y, *r; } dense_ctx;
static double dense_loss(void *p, double *abs_sum) {
    dense_ctx *c = p;
    dense_forward(c->y, c->x, c->W, c->b, c->B, c->in, c->out);
    return dot_r(c->r, c->y, (size_t)c->B * c->out, abs_sum);
}
static void test_dense(int bias) {
    dense_ctx c = {.B = 5, .in = 7, .out = 4};
    size_t nx = (size_t)c.B * c.in, nw = (size_t)c.in * c.out, ny = (size_t)c.B * c.out;
    c.x = malloc(4 * nx), c.W = malloc(4 * nw), c.b = bias ? malloc(4 * c.out) : NULL, c.y = malloc(4 * ny),
    c.r = malloc(4 * ny);
    float *dx = malloc(4 * nx), *dW = malloc(4 * nw), *db = bias ? malloc(4 * c.out) : NULL;
    fill_normal(c.x, nx, 1), fill_normal(c.W, nw, 0.5), fill_normal(c.r, ny, 1);
    if (bias) fill_normal(c.b, c.out, 0.5);
    dense_backward(dx, dW, db, c.r, c.x, c.W, c.B, c.in, c.out);
    GRADCHECK("dense dx", dense_loss, &c, c.x, dx, nx, 1e-2);
    GRADCHECK("dense dW", dense_loss, &c, c.W, dW, nw, 1e-2);
    if (bias) GRADCHECK("dense db", dense_loss, &c, c.b, db, (size_t)c.out, 1e-2);
    free(c.x), free(c.W), free(c.b), free(c.y), free(c.r), free(dx), free(dW), free(db);
}

// ------------------------------------------------------------------------------- sparse-input dense
// The layer that skips zero inputs (sparse.h) stores WT (in, out). Checked three ways: against dense_forward on the
// transposed weights (equal up to the rounding of two summation orders), by central differences, and its list of
// nonzeros against a direct count (-0.0 skipped, NaN kept and propagated), AVX2 and portable lists alike.
typedef struct { int B, in, out; float *x, *WT, *b, *y, *r; sparse_batch_t s; } sparse_ctx;
static double sparse_loss(void *p, double *abs_sum) {
    sparse_ctx *c = p;
    sparse_dense_forward(c->y, &c->s, c->x, c->WT, c->b, c->B, c->in, c->out);
    return dot_r(c->r, c->y, (size_t)c->B * c->out, abs_sum);
}
static void test_sparse_dense(int B, int in, int out, int bias) {
    sparse_ctx c = {.B = B, .in = in, .out = out};
    size_t nx = (size_t)B * in, nw = (size_t)in * out, ny = (size_t)B * out;
    c.x = malloc(4 * nx), c.WT = malloc(4 * nw), c.b = bias ? malloc(4 * out) : NULL, c.y = malloc(4 * ny),
    c.r = malloc(4 * ny);
    int32_t *ints = malloc(sizeof(int32_t) * sparse_batch_ints(B, in));
    float *floats = malloc(sizeof(float) * sparse_batch_floats(B, in));
    sparse_batch_carve(&c.s, ints, floats, B, in);
    float *W = malloc(4 * nw), *yd = malloc(4 * ny), *dx = malloc(4 * nx), *dWT = malloc(4 * nw),
          *db = bias ? malloc(4 * out) : NULL;
    fill_normal(c.x, nx, 1), fill_normal(c.WT, nw, 0.5), fill_normal(c.r, ny, 1);
    if (bias) fill_normal(c.b, out, 0.5);
    int nonzeros = 0;
    for (size_t i = 0; i < nx; i++) {  // about 70 % zeros, one of them -0.0
        if (rng_uniform(&R) < 0.7) c.x[i] = i == 1 ? -0.0f : 0.0f;
        nonzeros += c.x[i] != 0.0f;
    }
    for (int k = 0; k < in; k++)
        for (int o = 0; o < out; o++) W[(size_t)o * in + k] = c.WT[(size_t)k * out + o];
    sparse_dense_forward(c.y, &c.s, c.x, c.WT, c.b, B, in, out);
    dense_forward(yd, c.x, W, c.b, B, in, out);
    CHECK(c.s.row_ptr[B] == nonzeros, "sparse %dx%d->%d: %d nonzeros listed, %d in x", B, in, out, c.s.row_ptr[B],
          nonzeros);
    int far = 0;
    for (int i = 0; i < B; i++)
        for (int o = 0; o < out; o++) {
            double mag = bias ? fabs(c.b[o]) : 0.0;  // the sum of |terms|: each order rounds within in * 2^-24 of it
            for (int k = 0; k < in; k++) mag += fabs((double)c.x[(size_t)i * in + k] * W[(size_t)o * in + k]);
            double d = fabs((double)c.y[(size_t)i * out + o] - yd[(size_t)i * out + o]);
            far += d > 2.0 * (in + 1) * 5.96e-8 * mag;
        }
    CHECK(far == 0, "sparse %dx%d->%d: %d outputs differ from the dense layer beyond rounding", B, in, out, far);
    sparse_dense_backward(dx, dWT, db, &c.s, c.r, c.WT, B, in, out);
    GRADCHECK("sparse dense dx", sparse_loss, &c, c.x, dx, nx, 1e-2);
    GRADCHECK("sparse dense dWT", sparse_loss, &c, c.WT, dWT, nw, 1e-2);
    if (bias) GRADCHECK("sparse dense db", sparse_loss, &c, c.b, db, (size_t)out, 1e-2);
    // The 8-float sums (CPUs without AVX-512) give the same bits as the 16-float ones this CPU may use.
    float *y8 = malloc(4 * ny), *dWT8 = malloc(4 * nw);
    sparse_force_narrow(1);
    sparse_dense_forward(y8, &c.s, c.x, c.WT, c.b, B, in, out);
    sparse_dense_backward(NULL, dWT8, NULL, &c.s, c.r, c.WT, B, in, out);
    sparse_force_narrow(0);
    sparse_dense_forward(c.y, &c.s, c.x, c.WT, c.b, B, in, out);
    sparse_dense_backward(NULL, dWT, NULL, &c.s, c.r, c.WT, B, in, out);
    CHECK(!memcmp(y8, c.y, 4 * ny) && !memcmp(dWT8, dWT, 4 * nw),
          "sparse %dx%d->%d: 8- and 16-float sums give different bits", B, in, out);
    free(y8), free(dWT8);
    // A NaN input is not skipped: it reaches every output of its example.
    c.x[0] = NAN;
    sparse_dense_forward(c.y, &c.s, c.x, c.WT, c.b, B, in, out);
    int nan_out = 0;
    for (int o = 0; o < out; o++) nan_out += isnan(c.y[o]);
    CHECK(nan_out == out, "sparse: a NaN input reached %d of %d outputs", nan_out, out);
    // Both ways of listing nonzeros give the same list (a row whose length is not a multiple of 8, with NaN, -0.0).
    int32_t col[2][64];
    float val[2][64];
    int32_t n[2];
    for (int p = 0; p < 2; p++) n[p] = sparse_compress(col[p], val[p], c.x, in < 64 ? in : 64, p);
    CHECK(n[0] == n[1] && !memcmp(col[0], col[1], sizeof(int32_t) * n[0]) &&
              !memcmp(val[0], val[1], sizeof(float) * n[0]),
          "sparse: the AVX2 and portable lists of nonzeros differ (%d vs %d entries)", n[0], n[1]);
    free(c.x), free(c.WT), free(c.b), free(c.y), free(c.r), free(ints), free(floats), free(W), free(yd), free(dx),
        free(dWT), free(db);
}

// ------------------------------------------------------------------------------------ element-wise
typedef struct { size_t n; float *x, *y, *r, *mask; int kind; } ew_ctx;
static void ew_forward(ew_ctx *c) {
    switch (c->kind) {
    case 0: sigmoid_forward(c->y, c->x, c->n); break;
    case 1: relu_forward(c->y, c->x, c->n); break;
    case 2: tanh_forward(c->y, c->x, c->n); break;
    default: dropout_forward(c->y, c->x, c->mask, c->n); break;
    }
}
static double ew_loss(void *p, double *abs_sum) {
    ew_ctx *c = p;
    ew_forward(c);
    return dot_r(c->r, c->y, c->n, abs_sum);
}
static void test_elementwise(int kind, const char *name) {
    ew_ctx c = {.n = 60, .kind = kind};
    c.x = malloc(4 * c.n), c.y = malloc(4 * c.n), c.r = malloc(4 * c.n), c.mask = malloc(4 * c.n);
    float *dx = malloc(4 * c.n);
    fill_away_from_zero(c.x, c.n);
    fill_normal(c.r, c.n, 1);
    dropout_mask(c.mask, c.n, 0.3f, &R);  // a fixed mask: the same one in every forward call
    ew_forward(&c);
    switch (kind) {
    case 0: sigmoid_backward(dx, c.r, c.y, c.n); break;
    case 1: relu_backward(dx, c.r, c.y, c.n); break;
    case 2: tanh_backward(dx, c.r, c.y, c.n); break;
    default: dropout_backward(dx, c.r, c.mask, c.n); break;
    }
    GRADCHECK(name, ew_loss, &c, c.x, dx, c.n, 1e-2);
    free(c.x), free(c.y), free(c.r), free(c.mask), free(dx);
}

// The sigmoid's polynomial exp: close to the true sigmoid everywhere, and the same bits from the AVX2 path (on a
// CPU that has it) and the portable one.
static void test_sigmoid_accuracy(void) {
    enum { N = 200001 };
    static float x[N], a[N], b[N];
    for (int i = 0; i < N; i++) x[i] = -100.0f + 200.0f * (float)i / (N - 1);
    sigmoid_forward(a, x, N);
    sigmoid_forward_portable(b, x, N);
    CHECK(memcmp(a, b, sizeof a) == 0, "dispatched and portable sigmoid differ");
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        double d = fabs(a[i] - 1.0 / (1.0 + exp(-(double)x[i])));
        worst = d > worst ? d : worst;
    }
    // float's spacing near 0.5..1 is 6e-8: within two spacings of the exact value.
    CHECK(worst < 1.2e-7, "sigmoid max abs error %.3g", worst);
}

// ---------------------------------------------------------------------------------- shift noise
typedef struct { int B, F; float *x, *y, *r, *s, *m; } noise_ctx;
static double noise_loss(void *p, double *abs_sum) {
    noise_ctx *c = p;
    noise_forward(c->y, c->x, c->s, c->m, c->B, c->F);
    return dot_r(c->r, c->y, (size_t)c->B * c->F, abs_sum);
}
static void test_noise(void) {
    noise_ctx c = {.B = 6, .F = 5};
    size_t n = 30;
    c.x = malloc(4 * n), c.y = malloc(4 * n), c.r = malloc(4 * n), c.s = malloc(4 * 5), c.m = malloc(4 * 5);
    float *dx = malloc(4 * n);
    fill_normal(c.x, n, 1), fill_normal(c.r, n, 1);
    noise_draw(c.s, c.m, c.F, &R);  // fixed for the check, as the fixed dropout mask
    noise_backward(dx, c.r, c.s, c.B, c.F);
    GRADCHECK("noise dx (fixed draw)", noise_loss, &c, c.x, dx, n, 1e-2);
    free(c.x), free(c.y), free(c.r), free(c.s), free(c.m), free(dx);
}

// -------------------------------------------------------------------------------------- batchnorm
typedef struct { int B, F; float eps; float *x, *gamma, *beta, *y, *xhat, *mean, *var, *invstd, *r; } bn_ctx;
static double bn_loss(void *p, double *abs_sum) {
    bn_ctx *c = p;
    double acc[2 * 64];
    batchnorm_forward_train(c->y, c->xhat, c->mean, c->var, c->invstd, c->x, c->gamma, c->beta, c->B, c->F, c->eps, acc);
    return dot_r(c->r, c->y, (size_t)c->B * c->F, abs_sum);
}
static bn_ctx bn_make(int B, int F, float eps) {
    bn_ctx c = {.B = B, .F = F, .eps = eps};
    size_t n = (size_t)B * F;
    c.x = malloc(4 * n), c.y = malloc(4 * n), c.xhat = malloc(4 * n), c.r = malloc(4 * n);
    c.gamma = malloc(4 * F), c.beta = malloc(4 * F), c.mean = malloc(4 * F), c.var = malloc(4 * F),
    c.invstd = malloc(4 * F);
    fill_normal(c.x, n, 2.0);
    for (size_t i = 0; i < n; i++) c.x[i] += 1.5f;  // a non-zero mean, as after a dense layer
    fill_normal(c.r, n, 1);
    for (int j = 0; j < F; j++) c.gamma[j] = (float)(0.5 + rng_uniform(&R)), c.beta[j] = (float)rng_normal(&R);
    return c;
}
static void bn_free(bn_ctx *c) {
    free(c->x), free(c->y), free(c->xhat), free(c->r), free(c->gamma), free(c->beta), free(c->mean), free(c->var),
        free(c->invstd);
}
static void test_batchnorm(int B, float eps) {
    char name[64];
    int F = 4;
    bn_ctx c = bn_make(B, F, eps);
    size_t n = (size_t)B * F;
    float *dx = malloc(4 * n), *dg = malloc(4 * F), *db = malloc(4 * F);
    double unused;
    bn_loss(&c, &unused);
    double acc[2 * 64];
    batchnorm_backward(dx, dg, db, c.r, c.xhat, c.gamma, c.invstd, B, F, acc);
    snprintf(name, sizeof name, "batchnorm B=%d dx", B);
    GRADCHECK(name, bn_loss, &c, c.x, dx, n, 1e-2);
    snprintf(name, sizeof name, "batchnorm B=%d dgamma", B);
    GRADCHECK(name, bn_loss, &c, c.gamma, dg, (size_t)F, 1e-2);
    snprintf(name, sizeof name, "batchnorm B=%d dbeta", B);
    GRADCHECK(name, bn_loss, &c, c.beta, db, (size_t)F, 1e-2);
    free(dx), free(dg), free(db);
    bn_free(&c);
}

// ---------------------------------------------------------------------------------------- softmax
typedef struct { int B, C; float *z, *p; int32_t *y; } sm_ctx;
static double sm_loss(void *p, double *abs_sum) {
    sm_ctx *c = p;
    double l = softmax_xent_forward(c->p, c->z, c->y, c->B, c->C, NULL);
    *abs_sum = fabs(l);
    return l;
}
static void test_softmax(void) {
    sm_ctx c = {.B = 6, .C = 5};
    size_t n = (size_t)c.B * c.C;
    c.z = malloc(4 * n), c.p = malloc(4 * n), c.y = malloc(4 * c.B);
    float *dz = malloc(4 * n);
    fill_normal(c.z, n, 2);
    for (int i = 0; i < c.B; i++) c.y[i] = (int32_t)rng_below(&R, (uint32_t)c.C);
    double unused;
    sm_loss(&c, &unused);
    softmax_xent_backward(dz, c.p, c.y, c.B, c.C);
    GRADCHECK("softmax cross-entropy dz", sm_loss, &c, c.z, dz, n, 1e-2);
    // Saturated logits: the loss stays finite (log-sum-exp), no overflow.
    c.z[0] = 1000.0f, c.z[1] = -1000.0f;
    CHECK(isfinite(sm_loss(&c, &unused)), "loss not finite with logits of +-1000");
    free(c.z), free(c.p), free(c.y), free(dz);
}

// ---------------------------------------------------------------------------------- batch renormalization
// r and d are constants in backprop (Ioffe 2017): checked where they sit at their clamps, so that the finite
// differences of the real forward pass hold them constant too (sigma tiny: r = r_max; mu far: d = -d_max).
typedef struct { int B, F; float *x, *gamma, *beta, *y, *xbn, *mean, *var, *invstd, *r, *d, *rm, *rs, *w; } brn_ctx;
static double brn_loss(void *p, double *abs_sum) {
    brn_ctx *c = p;
    double acc[2 * 64];
    batchrenorm_forward_train(c->y, c->xbn, c->mean, c->var, c->invstd, c->r, c->d, c->x, c->gamma, c->beta, c->rm,
                              c->rs, c->B, c->F, 1e-5f, 2.0f, 0.5f, acc);
    return dot_r(c->w, c->y, (size_t)c->B * c->F, abs_sum);
}
static void test_batchrenorm(int B) {
    enum { F = 4 };
    size_t n = (size_t)B * F;
    brn_ctx c = {.B = B, .F = F};
    float gamma[F], beta[F], mean[F], var[F], invstd[F], r[F], d[F], rm[F], rs[F], gr[F], dg[F], db[F];
    c.gamma = gamma, c.beta = beta, c.mean = mean, c.var = var, c.invstd = invstd, c.r = r, c.d = d, c.rm = rm, c.rs = rs;
    c.x = malloc(4 * n), c.y = malloc(4 * n), c.xbn = malloc(4 * n), c.w = malloc(4 * n);
    fill_normal(c.x, n, 2.0);
    fill_normal(c.w, n, 1.0);
    for (int j = 0; j < F; j++)
        gamma[j] = (float)(0.5 + rng_uniform(&R)), beta[j] = (float)rng_normal(&R), rm[j] = 100.0f, rs[j] = 1e-3f;
    float *dx = malloc(4 * n);
    double unused, acc[2 * 64];
    brn_loss(&c, &unused);
    int clamped = 1;
    for (int j = 0; j < F; j++) clamped &= r[j] == 2.0f && d[j] == -0.5f;
    CHECK(clamped, "batch renorm: r and d not at their clamps (test setup)");
    batchrenorm_backward(dx, dg, db, c.w, c.xbn, gamma, invstd, r, d, gr, B, F, acc);
    GRADCHECK("batch renorm dx (r, d constant)", brn_loss, &c, c.x, dx, n, 1e-2);
    GRADCHECK("batch renorm dgamma", brn_loss, &c, gamma, dg, (size_t)F, 1e-2);
    GRADCHECK("batch renorm dbeta", brn_loss, &c, beta, db, (size_t)F, 1e-2);
    // With r = 1 and d = 0 (limits 1 and 0) the training pass is BN's, bit for bit.
    float y_bn[64 * F];
    batchnorm_forward_train(y_bn, c.xbn, mean, var, invstd, c.x, gamma, beta, B, F, 1e-5f, acc);
    batchrenorm_forward_train(c.y, c.xbn, mean, var, invstd, r, d, c.x, gamma, beta, rm, rs, B, F, 1e-5f, 1.0f, 0.0f, acc);
    CHECK(memcmp(y_bn, c.y, 4 * n) == 0, "batch renorm with r_max 1, d_max 0 differs from BN");
    free(c.x), free(c.y), free(c.xbn), free(c.w), free(dx);
}

// ---------------------------------------------------------------------------------- BN's ablation ladder
// Each normalization (mean and variance, mean only, variance only) by the batch's statistics and by fixed running
// statistics (constants: the finite differences of the real forward pass hold them constant too), with gamma and
// beta and without (affine "none": NULL).
typedef struct {
    int B, F, running, affine;
    bn_normalize_t norm;
    float *x, *gamma, *beta, *y, *xhat, *mean, *var, *invstd, *nmu, *ninv, *rm, *rv, *r;
} abl_ctx;
static double abl_loss(void *p, double *abs_sum) {
    abl_ctx *c = p;
    double acc[2 * 64];
    batchnorm_ablation_forward_train(c->y, c->xhat, c->mean, c->var, c->invstd, c->nmu, c->ninv, c->x,
                                     c->affine ? c->gamma : NULL, c->affine ? c->beta : NULL, c->rm, c->rv,
                                     c->running, c->norm, c->B, c->F, 1e-5f, acc);
    return dot_r(c->r, c->y, (size_t)c->B * c->F, abs_sum);
}
static void test_bn_ablation(bn_normalize_t norm, int running, int affine, int B) {
    static const char *const NORMS[] = {"mean_variance", "mean", "variance"};
    enum { F = 4 };
    char name[128];
    size_t n = (size_t)B * F;
    float gamma[F], beta[F], mean[F], var[F], invstd[F], nmu[F], ninv[F], rm[F], rv[F], dg[F], db[F];
    abl_ctx c = {.B = B, .F = F, .running = running, .affine = affine, .norm = norm, .gamma = gamma, .beta = beta,
                 .mean = mean, .var = var, .invstd = invstd, .nmu = nmu, .ninv = ninv, .rm = rm, .rv = rv};
    c.x = malloc(4 * n), c.y = malloc(4 * n), c.xhat = malloc(4 * n), c.r = malloc(4 * n);
    float *dx = malloc(4 * n);
    fill_normal(c.x, n, 2.0);
    for (size_t i = 0; i < n; i++) c.x[i] += 1.5f;  // a non-zero mean: "variance" must not centre it away
    fill_normal(c.r, n, 1);
    for (int j = 0; j < F; j++) {
        gamma[j] = (float)(0.5 + rng_uniform(&R)), beta[j] = (float)rng_normal(&R);
        rm[j] = (float)rng_normal(&R), rv[j] = (float)(0.5 + 2 * rng_uniform(&R));
    }
    double unused, acc[2 * 64];
    abl_loss(&c, &unused);
    batchnorm_ablation_backward(dx, affine ? dg : NULL, affine ? db : NULL, c.r, c.xhat, affine ? gamma : NULL, mean,
                                ninv, !running, norm, B, F, acc);
    const char *how = running ? "running stats" : "batch stats";
    snprintf(name, sizeof name, "BN %s, %s, %s B=%d dx", NORMS[norm], how, affine ? "affine" : "no affine", B);
    GRADCHECK(name, abl_loss, &c, c.x, dx, n, 1e-2);
    if (affine) {
        snprintf(name, sizeof name, "BN %s, %s dgamma", NORMS[norm], how);
        GRADCHECK(name, abl_loss, &c, gamma, dg, (size_t)F, 1e-2);
        snprintf(name, sizeof name, "BN %s, %s dbeta", NORMS[norm], how);
        GRADCHECK(name, abl_loss, &c, beta, db, (size_t)F, 1e-2);
    }
    // Negative control: the same check rejects the backward of another rung (the formula of plain BN for "mean" and
    // "variance", the constant-statistics one for batch statistics).
    if (!running) {
        bn_normalize_t other = norm == BN_NORM_MEAN_VARIANCE ? BN_NORM_VARIANCE : BN_NORM_MEAN_VARIANCE;
        batchnorm_ablation_backward(dx, NULL, NULL, c.r, c.xhat, affine ? gamma : NULL, mean, ninv, 1, other, B, F, acc);
        int bad = gradcheck("wrong rung", abl_loss, &c, c.x, dx, n, 1e-2, 400, 0);
        CHECK(bad > (int)n / 4, "%s: the check accepted the %s backward (%d of %zu flagged)", name, NORMS[other], bad, n);
        batchnorm_ablation_backward(dx, NULL, NULL, c.r, c.xhat, affine ? gamma : NULL, mean, ninv, 0, norm, B, F, acc);
        bad = gradcheck("statistics as constants", abl_loss, &c, c.x, dx, n, 1e-2, 400, 0);
        CHECK(bad > (int)n / 4, "%s: the check accepted constant statistics (%d of %zu flagged)", name, bad, n);
    }
    free(c.x), free(c.y), free(c.xhat), free(c.r), free(dx);
}

// ---------------------------------------------------------------------------------- layernorm, rmsnorm
typedef struct { int B, F, rms; float eps; float *x, *gamma, *beta, *y, *xhat, *inv, *r; } ln_ctx;
static double ln_loss(void *p, double *abs_sum) {
    ln_ctx *c = p;
    if (c->rms) rmsnorm_forward(c->y, c->xhat, c->inv, c->x, c->gamma, c->B, c->F, c->eps);
    else layernorm_forward(c->y, c->xhat, c->inv, c->x, c->gamma, c->beta, c->B, c->F, c->eps);
    return dot_r(c->r, c->y, (size_t)c->B * c->F, abs_sum);
}
static void test_rownorm(int rms, int B, int F, float eps) {
    char name[64];
    const char *kind = rms ? "rmsnorm" : "layernorm";
    size_t n = (size_t)B * F;
    ln_ctx c = {.B = B, .F = F, .rms = rms, .eps = eps};
    c.x = malloc(4 * n), c.y = malloc(4 * n), c.xhat = malloc(4 * n), c.r = malloc(4 * n), c.inv = malloc(4 * (size_t)B);
    c.gamma = malloc(4 * (size_t)F), c.beta = malloc(4 * (size_t)F);
    fill_normal(c.x, n, 2.0);
    for (size_t i = 0; i < n; i++) c.x[i] += 1.5f;  // a non-zero mean, as after a dense layer
    fill_normal(c.r, n, 1);
    for (int j = 0; j < F; j++) c.gamma[j] = (float)(0.5 + rng_uniform(&R)), c.beta[j] = (float)rng_normal(&R);
    float *dx = malloc(4 * n), *dg = malloc(4 * (size_t)F), *db = malloc(4 * (size_t)F);
    double unused;
    ln_loss(&c, &unused);
    if (rms) rmsnorm_backward(dx, dg, c.r, c.xhat, c.gamma, c.inv, B, F);
    else layernorm_backward(dx, dg, db, c.r, c.xhat, c.gamma, c.inv, B, F);
    snprintf(name, sizeof name, "%s B=%d F=%d dx", kind, B, F);
    GRADCHECK(name, ln_loss, &c, c.x, dx, n, 1e-2);
    snprintf(name, sizeof name, "%s B=%d F=%d dgamma", kind, B, F);
    GRADCHECK(name, ln_loss, &c, c.gamma, dg, (size_t)F, 1e-2);
    if (!rms) {
        snprintf(name, sizeof name, "%s B=%d F=%d dbeta", kind, B, F);
        GRADCHECK(name, ln_loss, &c, c.beta, db, (size_t)F, 1e-2);
    }
    // The normalized rows: layernorm's have mean 0 and variance var/(var + eps), rmsnorm's mean square ms/(ms + eps),
    // with var (ms) recovered from the stored 1/sqrt(var + eps).
    int off = 0;
    for (int i = 0; i < B; i++) {
        double m = 0, q = 0, inv2 = (double)c.inv[i] * c.inv[i];
        for (int j = 0; j < F; j++) {
            double v = c.xhat[(size_t)i * F + j];
            m += v, q += v * v;
        }
        m /= F, q /= F;
        double want = (1.0 / inv2 - eps) * inv2;
        off += (!rms && fabs(m) > 1e-5) || fabs((rms ? q : q - m * m) - want) > 1e-5;
    }
    CHECK(off == 0, "%s: %d of %d rows not normalized", kind, off, B);
    free(c.x), free(c.y), free(c.xhat), free(c.r), free(c.inv), free(c.gamma), free(c.beta), free(dx), free(dg), free(db);
}

// ------------------------------------------------------------------------------------ whole model
typedef struct { model_t *m; float *x; int32_t *y; int B; } net_ctx;
// MODE_TRAIN, or MODE_TRAIN_FROZEN for layers whose training output depends on running statistics a real step moves.
static forward_mode_t net_mode = MODE_TRAIN;
static double net_loss(void *p, double *abs_sum) {
    net_ctx *c = p;
    train_rng_t r;  // the same dropout mask and shift noise in every call
    rng_seed(&r.dropout, 99, RNG_STREAM_DROPOUT);
    rng_seed(&r.noise, 99, RNG_STREAM_NOISE);
    const float *z = model_forward(c->m, c->x, c->B, net_mode, &r);
    double l = softmax_xent_forward(c->m->probs, z, c->y, c->B, c->m->classes, NULL);
    *abs_sum = fabs(l);
    return l;
}
static unsigned long long net_signature(void *p) {
    net_ctx *c = p;
    unsigned long long sig = 1469598103934665603ULL;  // FNV-1a over the ReLU input signs
    for (int i = 0; i < c->m->n_layers; i++)
        if (c->m->layers[i].spec.kind == LAYER_RELU) {
            const float *in = c->m->layers[i - 1].y;
            for (int k = 0; k < c->B * c->m->layers[i].out; k++) sig = (sig ^ (in[k] > 0.0f)) * 1099511628211ULL;
        }
    return sig;
}
// Two networks: every layer kind with non-adjacent pairs, and one made of the pairs model_forward fuses (BN or a
// biased dense layer followed by a sigmoid, BN straight on the input) plus a sparse-input layer with a bias.
static const layer_spec_t NET_ALL_KINDS[] = {
    {.kind = LAYER_DENSE, .units = 8, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
    {.kind = LAYER_NOISE},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 7, .bias = 0, .init = {.kind = INIT_HE_NORMAL}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
    {.kind = LAYER_TANH},
    {.kind = LAYER_DROPOUT, .rate = 0.25},
    {.kind = LAYER_DENSE, .units = 6, .bias = 1, .init = {.kind = INIT_NORMAL, .std = 0.5}},
    {.kind = LAYER_RELU},
    {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_UNIFORM, .a = 0.5}},
};
// Ghost BN: statistics over blocks of 4 of the 16 examples, then blocks of 5 (5 + 5 + 6: a last block takes the
// rest). eps = 0.1 as for BN at batch 2 and 3 above: blocks this small normalize so sharply that with eps = 1e-5
// a step of h = 1e-2 in a weight leaves the region where central differences are accurate.
static const layer_spec_t NET_GHOST[] = {
    {.kind = LAYER_DENSE, .units = 8, .bias = 0, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 0.1, .momentum = 0.1, .variant = BN_GHOST, .ghost_batch = 4},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 6, .bias = 0, .init = {.kind = INIT_HE_NORMAL}},
    {.kind = LAYER_BATCHNORM, .eps = 0.1, .momentum = 0.1, .variant = BN_GHOST, .ghost_batch = 5},
    {.kind = LAYER_TANH},
    {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_UNIFORM, .a = 0.5}},
};
// The per-example normalizations in a network of their own (the one above is already deep enough for float noise).
static const layer_spec_t NET_ROWNORM[] = {
    {.kind = LAYER_DENSE, .units = 8, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_LAYERNORM, .eps = 1e-5},
    {.kind = LAYER_RELU},
    {.kind = LAYER_DENSE, .units = 6, .bias = 0, .init = {.kind = INIT_XAVIER_NORMAL}},
    {.kind = LAYER_RMSNORM, .eps = 1e-5},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_UNIFORM, .a = 0.5}},
};
static const layer_spec_t NET_FUSED[] = {
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 8, .bias = 1, .sparse_input = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 7, .bias = 1, .init = {.kind = INIT_NORMAL, .std = 0.8}},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 6, .bias = 0, .init = {.kind = INIT_HE_NORMAL}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_UNIFORM, .a = 0.5}},
};
// The ablation options in one network (a look, MODE_TRAIN_FROZEN: population and frozen statistics must not move
// between the finite differences). Layer 4 is past its freeze (batches set to 5 > 3 below), layer 7 before it.
static const layer_spec_t NET_ABLATION[] = {
    {.kind = LAYER_DENSE, .units = 8, .bias = 0, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bn_normalize = BN_NORM_MEAN, .bn_affine = BN_AFFINE_NONE},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 7, .bias = 0, .init = {.kind = INIT_HE_NORMAL}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bn_normalize = BN_NORM_VARIANCE, .freeze_stats_after = 3},
    {.kind = LAYER_TANH},
    {.kind = LAYER_DENSE, .units = 6, .bias = 0, .init = {.kind = INIT_XAVIER_NORMAL}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bn_normalize = BN_NORM_VARIANCE, .freeze_stats_after = 1000},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 6, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bn_stats = BN_STATS_POPULATION},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_UNIFORM, .a = 0.5}},
};
static void test_network(const layer_spec_t *s, int n_layers, const char *name) {
    kinks_skipped = 0;
    model_t m;
    int B = 16, D = 5;
    CHECK(model_build(&m, s, n_layers, D, 3, B) == 0, "%s: model_build failed", name);
    model_init(&m, 7);
    for (int i = 0; i < n_layers && net_mode == MODE_TRAIN_FROZEN; i++)  // the ablation network: running statistics
        if (m.layers[i].spec.kind == LAYER_BATCHNORM) {                   // away from 0 and 1, past a freeze at 3
            for (int j = 0; j < m.layers[i].out; j++)
                m.layers[i].rmean[j] = (float)(0.3 * rng_normal(&R)), m.layers[i].rvar[j] = (float)(0.5 + rng_uniform(&R));
            m.layers[i].batches = 5;
        }
    float *x = malloc(4 * (size_t)B * D);
    int32_t *y = malloc(4 * (size_t)B);
    fill_normal(x, (size_t)B * D, 1);
    for (int i = 0; i < B; i++) y[i] = (int32_t)rng_below(&R, 3);
    net_ctx c = {&m, x, y, B};
    double unused;
    net_loss(&c, &unused);
    model_loss_backward_head(&m, y, B, NULL);
    model_backward(&m, x, B);
    float *g = malloc(4 * m.n_params);
    memcpy(g, m.grads, 4 * m.n_params);
    kink_signature = net_signature;
    GRADCHECK(name, net_loss, &c, m.params, g, m.n_params, 1e-2);
    kink_signature = NULL;
    // Skips must stay rare, or the check would be checking little.
    CHECK(kinks_skipped <= (int)m.n_params / 20, "%d of %zu entries skipped at ReLU kinks", kinks_skipped,
          m.n_params);
    printf("%s: %zu parameters checked, %d skipped at ReLU kinks\n", name, m.n_params, kinks_skipped);
    free(x), free(y), free(g);
    model_free(&m);
}

// ------------------------------------------------------------------------------- negative controls
// The backward that ignores mu's and var's dependence on x (dx = gamma * invstd * dy) is wrong, and
// the check must say so; so must a single dense weight gradient off by 5%.
static void test_controls(void) {
    bn_ctx c = bn_make(8, 3, 1e-5f);
    size_t n = 8 * 3;
    float *dx = malloc(4 * n);
    double unused;
    bn_loss(&c, &unused);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 3; j++) dx[i * 3 + j] = c.gamma[j] * c.invstd[j] * c.r[i * 3 + j];
    int bad = gradcheck("naive batchnorm dx", bn_loss, &c, c.x, dx, n, 1e-2, 400, 0);
    CHECK(bad > (int)n / 2, "the check accepted the naive BN gradient (%d of %zu flagged)", bad, n);
    free(dx);
    bn_free(&c);

    dense_ctx d = {.B = 5, .in = 7, .out = 4};
    size_t nx = 35, nw = 28, ny = 20;
    d.x = malloc(4 * nx), d.W = malloc(4 * nw), d.b = NULL, d.y = malloc(4 * ny), d.r = malloc(4 * ny);
    float *dW = malloc(4 * nw);
    fill_normal(d.x, nx, 1), fill_normal(d.W, nw, 0.5), fill_normal(d.r, ny, 1);
    dense_backward(NULL, dW, NULL, d.r, d.x, d.W, d.B, d.in, d.out);
    int k = 0;
    for (int i = 1; i < (int)nw; i++)
        if (fabsf(dW[i]) > fabsf(dW[k])) k = i;
    dW[k] *= 1.05f;
    bad = gradcheck("dense dW off by 5%", dense_loss, &d, d.W, dW, nw, 1e-2, 400, 0);
    CHECK(bad == 1, "expected exactly the perturbed entry to be flagged, got %d", bad);
    free(d.x), free(d.W), free(d.y), free(d.r), free(dW);
}

int main(void) {
    rng_seed(&R, 12345, 0);
    test_dense(1);
    test_dense(0);
    // Output widths that reach every tile shape: 100 = 12 vectors + 4, 13 = 8 + 4 + 1, 4, 3 and 1 one by one;
    // input widths that leave a tail after blocks of 8.
    test_sparse_dense(5, 21, 13, 1);
    test_sparse_dense(3, 37, 100, 0);
    test_sparse_dense(4, 9, 4, 1);
    test_sparse_dense(6, 70, 3, 0);
    test_sparse_dense(2, 8, 1, 1);
    test_sparse_dense(3, 20, 203, 1);  // several tiles per row at either width
    test_sigmoid_accuracy();
    test_elementwise(0, "sigmoid dx");
    test_elementwise(1, "relu dx");
    test_elementwise(2, "tanh dx");
    test_elementwise(3, "dropout dx (fixed mask)");
    test_noise();
    // eps = 0.1 at B = 2 and 3: with eps = 1e-5 a batch of two normalizes to exactly +-1 and dx ~ eps/(2 sigma^3)
    // vanishes, which would check nothing; a larger eps keeps every term of the formula in play.
    test_batchnorm(2, 0.1f);
    test_batchnorm(3, 0.1f);
    test_batchnorm(3, 1e-5f);
    test_batchnorm(64, 1e-5f);
    test_rownorm(0, 5, 7, 1e-5f);
    test_rownorm(0, 3, 2, 0.1f);  // F = 2: as BN at batch 2, a larger eps keeps every term in play
    test_rownorm(1, 5, 7, 1e-5f);
    test_rownorm(1, 1, 4, 1e-5f);  // a batch of one is fine: no statistic crosses examples
    test_softmax();
    test_network(NET_ALL_KINDS, (int)(sizeof NET_ALL_KINDS / sizeof *NET_ALL_KINDS), "network of every kind");
    test_network(NET_ROWNORM, (int)(sizeof NET_ROWNORM / sizeof *NET_ROWNORM), "network of layernorm and rmsnorm");
    test_network(NET_FUSED, (int)(sizeof NET_FUSED / sizeof *NET_FUSED), "network of fused pairs");
    test_controls();
    // Later additions draw their random numbers after the cases above, which keeps those cases' data unchanged.
    test_batchrenorm(6);
    test_batchrenorm(2);
    test_network(NET_GHOST, (int)(sizeof NET_GHOST / sizeof *NET_GHOST), "network of ghost BN");
    for (int norm = 0; norm < 3; norm++)
        for (int running = 0; running < 2; running++) {
            test_bn_ablation((bn_normalize_t)norm, running, 1, 8);
            test_bn_ablation((bn_normalize_t)norm, running, 0, 5);
        }
    net_mode = MODE_TRAIN_FROZEN;
    test_network(NET_ABLATION, (int)(sizeof NET_ABLATION / sizeof *NET_ABLATION), "network of BN ablation options");
    net_mode = MODE_TRAIN;
    return check_summary("gradcheck");
}
