// run/jacobian.h: the singular values of each hidden block's Jacobian equal an independent float64 computation — the
// block's forward pass written again here in double, differentiated by central finite differences, and the singular
// values from the eigenvalues of J^T J by a cyclic Jacobi method of this file — for (a) the per-example Jacobian with
// the batch statistics held fixed and (b) the whole batch's Jacobian with BN's dependence on the batch; (a) of a block
// with more inputs than outputs (by W W^T, run/jacobian.h) and of one with fewer (by W^T diag(s)^2 W). Negative
// controls: a planted error (the batch coupling left out, one weight changed by 1 %, one row of W 1 % larger for (a))
// fails the same comparison.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/rng.h"
#include "base/util.h"
#include "run/jacobian.h"

enum { IN = 12, H1 = 6, C = 3, B = 5 };  // block 0 wider than tall ((a) by QR); block 1 either (test_model's h2)

static double act(layer_kind_t k, double z) {
    return k == LAYER_TANH ? tanh(z) : k == LAYER_SIGMOID ? 1 / (1 + exp(-z)) : z > 0 ? z : 0;
}

// The block's forward pass in double: X (B, in) -> Y (B, out). With stats (mean, invstd per feature) given, the batch
// statistics are held at them; else computed from X (biased variance, eps inside the root, as Algorithm 1).
static void block_forward(double *Y, const double *X, const model_t *m, const jac_block_t *b, const double *fixed_mu,
                          const double *fixed_is, double *mu_out, double *is_out) {
    const layer_t *d = &m->layers[b->first];
    double u[B][16];
    for (int e = 0; e < B; e++)
        for (int j = 0; j < b->out; j++) {
            double s = d->b ? d->b[j] : 0;
            for (int k = 0; k < b->in; k++) s += (double)d->W[j * b->in + k] * X[e * b->in + k];
            u[e][j] = s;
        }
    for (int j = 0; j < b->out; j++) {
        double mu = 0, var = 0, is = 1;
        if (b->norm >= 0) {
            const layer_t *n = &m->layers[b->norm];
            for (int e = 0; e < B; e++) mu += u[e][j];
            mu /= B;
            for (int e = 0; e < B; e++) var += (u[e][j] - mu) * (u[e][j] - mu);
            var /= B;
            is = 1 / sqrt(var + n->spec.eps);
            if (fixed_mu) mu = fixed_mu[j], is = fixed_is[j];
            if (mu_out) mu_out[j] = mu, is_out[j] = is;
            for (int e = 0; e < B; e++) u[e][j] = n->gamma[j] * (u[e][j] - mu) * is + n->beta[j];
        }
        for (int e = 0; e < B; e++) Y[e * b->out + j] = act(m->layers[b->act].spec.kind, u[e][j]);
    }
}

// Central differences: J (B out) x (B in), row-major; per_example: statistics held at the unperturbed batch's, and
// only the diagonal blocks (an example's own input) filled.
static void fd_jacobian(double *J, const double *X0, const model_t *m, const jac_block_t *b, int per_example) {
    const int R = B * b->out, Cn = B * b->in;
    double X[B * 16], Yp[B * 16], Ym[B * 16], mu[16], is[16];
    block_forward(Yp, X0, m, b, NULL, NULL, mu, is);
    memset(J, 0, sizeof(double) * R * Cn);
    for (int c = 0; c < Cn; c++) {
        const double h = 1e-6;
        memcpy(X, X0, sizeof(double) * Cn);
        X[c] = X0[c] + h;
        block_forward(Yp, X, m, b, per_example ? mu : NULL, is, NULL, NULL);
        X[c] = X0[c] - h;
        block_forward(Ym, X, m, b, per_example ? mu : NULL, is, NULL, NULL);
        for (int r = 0; r < R; r++)
            if (!per_example || r / b->out == c / b->in) J[r * Cn + c] = (Yp[r] - Ym[r]) / (2 * h);
    }
}

// Singular values of the rows x cols matrix A (double): square roots of the eigenvalues of A^T A by cyclic Jacobi
// rotations, descending; min(rows, cols) of them into s.
static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}
// Eigenvalues of the symmetric n x n matrix M (row-major, destroyed) by cyclic Jacobi rotations, descending, into ev;
// stops when the off-diagonal part is below 1e-30 of the whole (relative: any scale).
static void jacobi_eig(double *ev, double *M, int n) {
    double total = 0;
    for (int i = 0; i < n * n; i++) total += M[i] * M[i];
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) off += M[p * n + q] * M[p * n + q];
        if (off <= 1e-30 * total) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = M[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (M[q * n + q] - M[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), sn = t * c;
                for (int k = 0; k < n; k++) {  // M <- G^T M G, columns then rows
                    double mkp = M[k * n + p], mkq = M[k * n + q];
                    M[k * n + p] = c * mkp - sn * mkq, M[k * n + q] = sn * mkp + c * mkq;
                }
                for (int k = 0; k < n; k++) {
                    double mpk = M[p * n + k], mqk = M[q * n + k];
                    M[p * n + k] = c * mpk - sn * mqk, M[q * n + k] = sn * mpk + c * mqk;
                }
            }
    }
    for (int i = 0; i < n; i++) ev[i] = M[i * n + i];
    qsort(ev, (size_t)n, sizeof *ev, cmp_desc);
}

static void jacobi_sv(double *s, const double *A, int rows, int cols) {
    double *M = calloc((size_t)cols * cols, sizeof *M), *ev = calloc((size_t)cols, sizeof *ev);
    for (int i = 0; i < cols; i++)
        for (int j = 0; j < cols; j++) {
            double t = 0;
            for (int r = 0; r < rows; r++) t += A[r * cols + i] * A[r * cols + j];
            M[i * cols + j] = t;
        }
    jacobi_eig(ev, M, cols);
    for (int i = 0; i < (rows < cols ? rows : cols); i++) s[i] = sqrt(fmax(ev[i], 0));
    free(ev), free(M);
}

// Largest |got - want| over n descending values, relative to want's largest.
static double max_rel(const float *got, const double *want, int n) {
    double e = 0;
    for (int i = 0; i < n; i++) e = fmax(e, fabs(got[i] - want[i]));
    return e / want[0];
}

static void desc_floats(float *v, int n) {
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && v[k] > v[k - 1]; k--) {
            float t = v[k];
            v[k] = v[k - 1], v[k - 1] = t;
        }
}

#define TOL 1e-6  // float inputs, float64 Gram eigenvalues (run/jacobian.h) against float64 FD: ~1e-7 of the largest

static void test_model(layer_kind_t a1, int h2) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = H1, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                        {.kind = a1},
                        {.kind = LAYER_DENSE, .units = h2, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_RELU},
                        {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
    model_t m;
    CHECK(model_build(&m, s, 6, IN, C, B) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 7);
    rng_t r;
    rng_seed(&r, 3, 9);
    for (int j = 0; j < H1; j++) m.layers[1].gamma[j] = 0.5f + (float)rng_uniform(&r), m.layers[1].beta[j] = 0.3f * (float)rng_normal(&r);
    for (int j = 0; j < h2; j++) m.layers[3].b[j] = 0.2f * (float)rng_normal(&r);
    float x[B * IN];
    for (int i = 0; i < B * IN; i++) x[i] = (float)rng_normal(&r);

    jac_t jc;
    CHECK(jac_init(&jc, &m, B) == 0, "jac_init: %s", bnlab_errmsg());
    CHECK(jc.n_blocks == 2 && jc.blocks[0].norm == 1 && jc.blocks[0].act == 2 && jc.blocks[1].norm == -1 &&
              jc.blocks[1].act == 4 && !jc.blocks[0].unsupported && !jc.blocks[1].unsupported,
          "blocks found: %d", jc.n_blocks);
    jac_forward(&jc, &m, x, B);
    for (int k = 0; k < 2; k++) {
        const jac_block_t *b = &jc.blocks[k];
        double X[B * 16], Y[B * 16];
        const float *xin = k == 0 ? x : m.layers[b->first - 1].y;
        for (int i = 0; i < B * b->in; i++) X[i] = xin[i];
        // The double forward pass is the model's (so the finite differences are of the forward pass it runs).
        block_forward(Y, X, &m, b, NULL, NULL, NULL, NULL);
        double ferr = 0;
        for (int i = 0; i < B * b->out; i++) ferr = fmax(ferr, fabs(Y[i] - m.layers[b->last].y[i]));
        CHECK(ferr < 1e-5, "block %d: float64 forward differs from the model's by %g", k, ferr);

        const int R = B * b->out, Cn = B * b->in, mn = b->in < b->out ? b->in : b->out;
        double *J = calloc((size_t)R * Cn, sizeof *J), *Jfix = calloc((size_t)R * Cn, sizeof *J);
        double sv_full[128], sv_ex[B][16], sv_fix[128];
        fd_jacobian(J, X, &m, b, 0);
        fd_jacobian(Jfix, X, &m, b, 1);
        // (a): each example's block of the fixed-statistics Jacobian.
        long n = jac_example_sv(&jc, &m, k, B);
        CHECK(n == B * mn, "block %d: %ld per-example singular values", k, n);
        double worst = 0;
        for (int e = 0; e < B && n == B * mn; e++) {
            double Je[16 * 16];
            for (int rr = 0; rr < b->out; rr++)
                for (int c = 0; c < b->in; c++) Je[rr * b->in + c] = Jfix[(e * b->out + rr) * Cn + e * b->in + c];
            jacobi_sv(sv_ex[e], Je, b->out, b->in);
            worst = fmax(worst, max_rel(jc.sv + e * mn, sv_ex[e], mn));
        }
        CHECK(worst < TOL, "block %d (a): singular values off by %g of the largest", k, worst);
        // Negative control for (a): one row of weights 1 % larger fails the same comparison.
        {
            layer_t *d = &m.layers[b->first];
            float keep[16];
            for (int c = 0; c < b->in; c++) keep[c] = d->W[c], d->W[c] *= 1.01f;
            double moved = 0;
            if (jac_example_sv(&jc, &m, k, B) == B * mn)
                for (int e = 0; e < B; e++) moved = fmax(moved, max_rel(jc.sv + e * mn, sv_ex[e], mn));
            CHECK(moved > TOL, "negative control: block %d (a) with a row 1%% larger passed (%g)", k, moved);
            for (int c = 0; c < b->in; c++) d->W[c] = keep[c];
        }
        // (b): the whole batch.
        n = jac_batch_sv(&jc, &m, k, B);
        int nf = R < Cn ? R : Cn;
        CHECK(n == nf, "block %d: %ld batch singular values, want %d", k, n, nf);
        jacobi_sv(sv_full, J, R, Cn);
        float got[128];
        memcpy(got, jc.sv, sizeof(float) * nf);
        desc_floats(got, nf);
        double err = max_rel(got, sv_full, nf);
        CHECK(err < TOL, "block %d (b): singular values off by %g of the largest", k, err);
        // The explicit matrix, entry by entry.
        float *Jm = calloc((size_t)R * Cn, sizeof *Jm);
        double merr = 0, jmax = 0;
        CHECK(jac_batch_matrix(&jc, &m, k, B, Jm) == 0, "matrix: %s", bnlab_errmsg());
        for (int i = 0; i < R * Cn; i++) merr = fmax(merr, fabs(Jm[i] - J[i])), jmax = fmax(jmax, fabs(J[i]));
        CHECK(merr < 1e-5 * jmax + 1e-7, "block %d (b): matrix entries off by %g (largest %g)", k, merr, jmax);
        if (k == 0) {
            // BN's projection: out singular values are 0 (each feature's shift across the batch) and out are of order
            // eps / var (its scale: all but eps / (var + eps) of it removed), run/jacobian.h.
            if (a1 != LAYER_RELU)
                CHECK(got[nf - 2 * H1] < 1e-5 * got[0] && got[nf - 2 * H1 - 1] > 1e-3 * got[0],
                      "BN block: expected exactly %d zero singular values, got %g then %g", 2 * H1,
                      got[nf - 2 * H1 - 1], got[nf - 2 * H1]);
            // Negative control 1: the coupling left out (the fixed-statistics Jacobian as the reference) fails.
            jacobi_sv(sv_fix, Jfix, R, Cn);
            double e1 = max_rel(got, sv_fix, nf);
            CHECK(e1 > 10 * TOL, "negative control: the fixed-statistics spectrum passed for the batch one (%g)", e1);
        }
        // Negative control 2: one weight changed by 1 % fails the comparison.
        layer_t *d = &m.layers[b->first];
        float keep = d->W[0];
        d->W[0] *= 1.01f;
        if (jac_batch_sv(&jc, &m, k, B) == nf) {
            memcpy(got, jc.sv, sizeof(float) * nf);
            desc_floats(got, nf);
            double e2 = max_rel(got, sv_full, nf);
            CHECK(e2 > TOL, "negative control: a 1%% weight change passed (%g)", e2);
        }
        d->W[0] = keep;
        free(J), free(Jfix), free(Jm);
    }
    jac_free(&jc);
    model_free(&m);
}

// Larger blocks than test_model's (whose n <= 8 leaves the tridiagonal reduction and the QL iteration little to do):
// (a) of a 24 -> 20 block (20 x 20 Gram matrices, 8 examples: two groups of JAC_LANES) and of a 20 -> 40 one
// (fewer inputs: 20 x 20 of W^T diag(s)^2 W), (b) of the BN block (7 x 20 = 140 square, 160 x 192 Jacobian), each
// against the float64 Jacobi singular values of the explicit matrix: J_b = diag(f' gamma invstd) W in double for
// (a), jac_batch_matrix (checked entry by entry against finite differences above) for (b). Negative control: one
// weight 1 % larger fails the same comparison.
static void test_larger(void) {
    enum { LB = 8, LIN = 24, L1 = 20, L2 = 40 };
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = L1, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                        {.kind = LAYER_TANH},
                        {.kind = LAYER_DENSE, .units = L2, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_SIGMOID},
                        {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
    model_t m;
    CHECK(model_build(&m, s, 6, LIN, C, LB) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 11);
    rng_t r;
    rng_seed(&r, 5, 1);
    for (int j = 0; j < L1; j++) m.layers[1].gamma[j] = 0.5f + (float)rng_uniform(&r);
    static float x[LB * LIN];
    for (int i = 0; i < LB * LIN; i++) x[i] = (float)rng_normal(&r);
    jac_t jc;
    CHECK(jac_init(&jc, &m, LB) == 0, "jac_init: %s", bnlab_errmsg());
    jac_forward(&jc, &m, x, LB);
    for (int k = 0; k < 2; k++) {
        const jac_block_t *b = &jc.blocks[k];
        layer_t *d = &m.layers[b->first];
        const float *z = m.layers[b->act - 1].y, *y = m.layers[b->act].y;
        const int mn = b->in < b->out ? b->in : b->out;
        static double J[L2 * L2], want[LB][L2];
        for (int e = 0; e < LB; e++) {
            for (int i = 0; i < b->out; i++) {
                double zz = z[e * b->out + i], yy = y[e * b->out + i];
                double fp = k == 0 ? 1 - tanh(zz) * tanh(zz) : yy * (1 - yy);
                double sc = k == 0 ? (double)m.layers[1].gamma[i] * m.layers[1].invstd[i] : 1;
                for (int c = 0; c < b->in; c++) J[i * b->in + c] = fp * sc * d->W[i * b->in + c];
            }
            jacobi_sv(want[e], J, b->out, b->in);
        }
        for (int planted = 0; planted < 2; planted++) {
            float keep = d->W[3];
            if (planted) d->W[3] *= 1.01f;
            double worst = 0;
            CHECK(jac_example_sv(&jc, &m, k, LB) == LB * mn, "block %d: count", k);
            for (int e = 0; e < LB; e++) worst = fmax(worst, max_rel(jc.sv + e * mn, want[e], mn));
            if (planted) CHECK(worst > TOL, "negative control: block %d (a), n %d: a weight 1%% larger passed (%g)", k, mn, worst);
            else CHECK(worst < TOL, "block %d (a), n %d: singular values off by %g of the largest", k, mn, worst);
            d->W[3] = keep;
        }
    }
    // (b) of the BN block.
    const int R = LB * L1, Cn = LB * LIN, nf = R;
    float *Jm = calloc((size_t)R * Cn, sizeof *Jm);
    double *Jd = calloc((size_t)R * Cn, sizeof *Jd), *want = calloc((size_t)Cn, sizeof *want);
    CHECK(jac_batch_matrix(&jc, &m, 0, LB, Jm) == 0, "matrix: %s", bnlab_errmsg());
    for (int i = 0; i < R * Cn; i++) Jd[i] = Jm[i];
    jacobi_sv(want, Jd, R, Cn);
    for (int planted = 0; planted < 2; planted++) {
        float keep = m.layers[0].W[3];
        if (planted) m.layers[0].W[3] *= 1.01f;
        CHECK(jac_batch_sv(&jc, &m, 0, LB) == nf, "(b): count");
        static float got[LB * L1];
        memcpy(got, jc.sv, sizeof(float) * nf);
        desc_floats(got, nf);
        // jac_batch_matrix's float entries carry ~1e-7 relative rounding: the reference's own accuracy.
        double err = max_rel(got, want, nf);
        if (planted) CHECK(err > TOL, "negative control: (b) 140 x 140 with a weight 1%% larger passed (%g)", err);
        else CHECK(err < TOL, "(b) 140 x 140: singular values off by %g of the largest", err);
        m.layers[0].W[3] = keep;
    }
    free(Jm), free(Jd), free(want);
    // A diverged model (a NaN or inf weight or gamma): no spectrum, one message, for (a) and (b) — and once finite
    // again it is measured.
    for (int bad = 0; bad < 4; bad++) {
        float *where = bad < 2 ? &m.layers[0].W[5] : &m.layers[1].gamma[2], keep = *where;
        *where = bad % 2 ? INFINITY : NAN;
        jac_forward(&jc, &m, x, LB);
        CHECK(jac_example_sv(&jc, &m, 0, LB) < 0 && jac_batch_sv(&jc, &m, 0, LB) < 0, "a %s %s gave a spectrum",
              bad % 2 ? "inf" : "NaN", bad < 2 ? "weight" : "gamma");
        CHECK_MSG(bnlab_errmsg(), "non-finite values");
        *where = keep;
    }
    jac_forward(&jc, &m, x, LB);
    CHECK(jac_example_sv(&jc, &m, 0, LB) == LB * L1 && jac_batch_sv(&jc, &m, 0, LB) == nf, "finite again: no spectrum");
    // A dead block (BN's outputs near -200: tanh is -1 in float, f' = 1 - y^2 exactly 0): all its singular values
    // are 0, (a) and (b), a result and not an error.
    for (int f = 0; f < L1; f++) m.layers[1].beta[f] = -200;
    jac_forward(&jc, &m, x, LB);
    float top = -1;
    CHECK(jac_example_sv(&jc, &m, 0, LB) == LB * L1, "dead block (a): %s", bnlab_errmsg());
    for (int i = 0; i < LB * L1; i++) top = fmaxf(top, jc.sv[i]);
    CHECK(top == 0, "dead block (a): largest singular value %g", top);
    CHECK(jac_batch_sv(&jc, &m, 0, LB) == nf, "dead block (b): %s", bnlab_errmsg());
    for (int i = 0; i < nf; i++) top = fmaxf(top, jc.sv[i]);
    CHECK(top == 0, "dead block (b): largest singular value %g", top);
    jac_free(&jc);
    model_free(&m);
}

// jac_lanes_eigenvalues (the engine of (a)) on hostile matrices, each lane against cyclic Jacobi in double: the zero
// matrix, repeated eigenvalues (a diagonal of 2s and 5s), rank 1 (v v^T, and a constant matrix), an indefinite one,
// scales 1e-30 and 1e30, a cluster (I + 1e-12 noise), n 1 and 2; a lane with a NaN and one with an inf entry are not
// computed (the mask) while the others in their call are; every call returns (the loops are bounded). Negative
// control: the eigenvalues of a matrix with one entry changed by 1e-6 fail the same comparison.
enum { LN = 13 };
static void lanes_fill(double *a, int n, int l, const double *M) {  // M row-major n x n -> lane l's packed lower
    for (int r = 0; r < n; r++)
        for (int c = 0; c <= r; c++) a[((size_t)r * (r + 1) / 2 + c) * JAC_LANES + l] = M[r * n + c];
}
static double lanes_err(const double *ev, int n, int l, const double *M0) {  // max |error| / max |lambda| (or abs)
    double M[LN * LN], want[LN], got[LN], big = 0, e = 0;
    memcpy(M, M0, sizeof(double) * n * n);
    jacobi_eig(want, M, n);
    for (int i = 0; i < n; i++) got[i] = ev[i * JAC_LANES + l], big = fmax(big, fabs(want[i]));
    qsort(got, (size_t)n, sizeof *got, cmp_desc);
    for (int i = 0; i < n; i++) e = fmax(e, fabs(got[i] - want[i]));
    return big > 0 ? e / big : e;
}
static void test_lanes_eigenvalues(void) {
    static double mats[3][JAC_LANES][LN * LN];
    rng_t r;
    rng_seed(&r, 17, 4);
    double v[LN], R[LN * LN];
    for (int i = 0; i < LN; i++) v[i] = rng_normal(&r);
    for (int i = 0; i < LN * LN; i++) R[i] = rng_normal(&r);
    for (int i = 0; i < LN; i++)
        for (int k = 0; k < LN; k++) {
            double spd = 0;
            for (int q = 0; q < LN; q++) spd += R[i * LN + q] * R[k * LN + q];
            double sym = R[i * LN + k] + R[k * LN + i];
            mats[0][0][i * LN + k] = 0;                                                   // zero
            mats[0][1][i * LN + k] = i == k ? (i % 2 ? 2.0 : 5.0) : 0;                    // repeated
            mats[0][2][i * LN + k] = v[i] * v[k];                                         // rank 1
            mats[0][3][i * LN + k] = 0.7;                                                 // constant: rank 1
            mats[1][0][i * LN + k] = 1e-30 * spd;                                         // tiny
            mats[1][1][i * LN + k] = 1e30 * spd;                                          // huge
            mats[1][2][i * LN + k] = (i == k) + 1e-12 * sym;                              // cluster at 1
            mats[1][3][i * LN + k] = sym;                                                 // indefinite
            mats[2][0][i * LN + k] = mats[2][1][i * LN + k] = mats[2][2][i * LN + k] = mats[2][3][i * LN + k] = spd;
        }
    mats[2][1][3 * LN + 2] = mats[2][1][2 * LN + 3] = NAN;
    mats[2][3][5 * LN + 5] = INFINITY;
    static double a[LN * (LN + 1) / 2 * JAC_LANES], ev[LN * JAC_LANES], ws[JAC_LANES_WS(LN)];
    for (int set = 0; set < 3; set++)
        for (int n = 1; n <= LN; n += n < 2 ? 1 : LN - 2) {  // n 1, 2 (the leading block) and 13
            double M[LN * LN];
            for (int l = 0; l < JAC_LANES; l++) {
                for (int i = 0; i < n; i++)
                    for (int k = 0; k < n; k++) M[i * n + k] = mats[set][l][i * LN + k];
                lanes_fill(a, n, l, M);
            }
            int nonfin = -1;
            const int bad = jac_lanes_eigenvalues(ev, a, n, 30, ws, &nonfin);
            const int want_nonfin = set == 2 && n == LN ? 0xa : 0;  // NaN and inf sit outside the 1 x 1 and 2 x 2
            CHECK(bad == 0 && nonfin == want_nonfin, "set %d n %d: not converged %#x, non-finite %#x (want %#x)", set,
                  n, bad, nonfin, want_nonfin);
            for (int l = 0; l < JAC_LANES; l++) {
                if (nonfin & (1 << l)) continue;
                for (int i = 0; i < n; i++)
                    for (int k = 0; k < n; k++) M[i * n + k] = mats[set][l][i * LN + k];
                const double err = lanes_err(ev, n, l, M);
                CHECK(err < 1e-12 && (set || l || err == 0), "set %d lane %d n %d: eigenvalues off by %g", set, l, n,
                      err);
                if (n == LN && set == 1 && l == 3) {  // negative control: one entry moved by 1e-6
                    M[1 * n + 0] += 1e-6, M[0 * n + 1] += 1e-6;
                    const double moved = lanes_err(ev, n, l, M);
                    CHECK(moved > 1e-12, "negative control: a moved entry passed (%g)", moved);
                }
            }
        }
    // The cap: one sweep per eigenvalue is not enough for a 13 x 13 matrix: the lanes are reported, not wrong.
    for (int l = 0; l < JAC_LANES; l++) lanes_fill(a, LN, l, mats[2][0]);
    int nonfin = 0;
    CHECK(jac_lanes_eigenvalues(ev, a, LN, 1, ws, &nonfin) == 0xf && nonfin == 0,
          "max_sweeps 1 on 13 x 13: lanes not reported as not converged");
}

// The fallback of (a): with the QL capped at one sweep per eigenvalue every example goes to LAPACK dsyev (j.fallbacks
// counts them), and its singular values equal the lanes' (checked against float64 above) within 1e-6 of the largest.
static void test_fallback(void) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = 20, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                        {.kind = LAYER_SIGMOID},
                        {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
    model_t m;
    CHECK(model_build(&m, s, 4, 24, C, 6) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 3);
    rng_t r;
    rng_seed(&r, 2, 2);
    float x[6 * 24];
    for (int i = 0; i < 6 * 24; i++) x[i] = (float)rng_normal(&r);
    jac_t jc;
    CHECK(jac_init(&jc, &m, 0) == 0, "jac_init: %s", bnlab_errmsg());
    jac_forward(&jc, &m, x, 6);
    static float first[6 * 20];
    CHECK(jac_example_sv(&jc, &m, 0, 6) == 6 * 20 && jc.fallbacks == 0, "default: %ld fallbacks", jc.fallbacks);
    memcpy(first, jc.sv, sizeof first);
    jc.max_sweeps = 1;
    CHECK(jac_example_sv(&jc, &m, 0, 6) == 6 * 20 && jc.fallbacks == 6, "capped: %ld fallbacks, want 6", jc.fallbacks);
    double e = 0, big = 0;
    for (int i = 0; i < 6 * 20; i++) e = fmax(e, fabs(jc.sv[i] - first[i])), big = fmax(big, first[i]);
    CHECK(e < 1e-6 * big, "the fallback's singular values differ by %g of the largest", e / big);
    jac_free(&jc);
    model_free(&m);
}

static void test_summary_and_refusals(void) {
    float v[] = {4, 0, 1, 0.5f, 2, 0.25f, 1.5f, 3, 0};
    jac_summary_t s;
    float tmp[9];
    jac_summarize(&s, v, 9, 2, tmp);  // the two zeros left out: 0.25 0.5 1 1.5 2 3 4
    CHECK(s.n == 7 && s.median == 1.5 && s.min == 0.25 && s.max == 4, "summary n %zu median %g", s.n, s.median);
    CHECK_NEAR(s.frac_near1, 4.0 / 7, 1e-12, "fraction in [0.5, 2]");
    CHECK_NEAR(s.p10, 0.25 + 0.6 * 0.25, 1e-6, "p10 (numpy's linear interpolation)");
    // A layernorm block is listed, not measured; a ghost BN block too.
    layer_spec_t sp[] = {{.kind = LAYER_DENSE, .units = 4, .init = {.kind = INIT_XAVIER_NORMAL}},
                         {.kind = LAYER_LAYERNORM, .eps = 1e-5},
                         {.kind = LAYER_TANH},
                         {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
    model_t m;
    jac_t j;
    CHECK(model_build(&m, sp, 4, 5, 3, 4) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 1);
    CHECK(jac_init(&j, &m, 4) == 0 && j.n_blocks == 1 && j.blocks[0].unsupported, "layernorm block marked");
    float x[20] = {0};
    jac_forward(&j, &m, x, 4);
    CHECK(jac_example_sv(&j, &m, 0, 4) < 0, "an unsupported block was measured");
    CHECK_MSG(bnlab_errmsg(), "not measured: a normalization other than plain batchnorm");
    jac_free(&j);
    CHECK(jac_init(&j, &m, JAC_MAX_FULL_BATCH + 1) != 0, "a too-large full batch accepted");
    model_free(&m);
    sp[1] = (layer_spec_t){.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .variant = BN_GHOST, .ghost_batch = 2};
    CHECK(model_build(&m, sp, 4, 5, 3, 4) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 1);
    CHECK(jac_init(&j, &m, 4) == 0 && j.blocks[0].unsupported && strstr(j.blocks[0].unsupported, "plain batchnorm"),
          "a ghost-batch block is not marked unsupported");
    jac_free(&j);
    model_free(&m);
    // Anatomy's ablation options change the Jacobian: centring only is not measured either.
    sp[1] = (layer_spec_t){.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bn_normalize = BN_NORM_MEAN};
    CHECK(model_build(&m, sp, 4, 5, 3, 4) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 1);
    CHECK(jac_init(&j, &m, 4) == 0 && j.blocks[0].unsupported, "a mean-only BN block is not marked unsupported");
    jac_free(&j);
    model_free(&m);
}

int main(void) {
    test_model(LAYER_TANH, 5);
    test_model(LAYER_SIGMOID, 5);
    test_model(LAYER_RELU, 5);
    test_model(LAYER_TANH, 8);  // block 1 taller than wide: (a) by the out x in SVD
    test_larger();
    test_lanes_eigenvalues();
    test_fallback();
    test_summary_and_refusals();
    return check_summary("jacobian");
}
