#include "run/jacobian.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/bnvariants.h"
#include "run/percentiles.h"

#ifndef BNLAB_HAVE_BLAS
#define BNLAB_HAVE_BLAS 1
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define BNLAB_LANES_TARGET __attribute__((target_clones("avx2", "default")))  // same operations, same bits
#else
#define BNLAB_LANES_TARGET
#endif

#if BNLAB_HAVE_BLAS
// BLAS/LAPACK's Fortran entry points (OpenBLAS exports them; Debian ships no lapacke.h). Each trailing size_t is the
// hidden length of a CHARACTER argument that gfortran-compiled code expects.
void dsyrk_(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha, const double *a,
            const int *lda, const double *beta, double *c, const int *ldc, size_t uplo_len, size_t trans_len);
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
            const int *lwork, int *info, size_t jobz_len, size_t uplo_len);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork,
             int *info);
#else
// The WebAssembly build has no LAPACK: jac_init refuses (below), so these are never called.
static void dsyrk_(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha,
                   const double *a, const int *lda, const double *beta, double *c, const int *ldc, size_t uplo_len,
                   size_t trans_len) {
    (void)uplo, (void)trans, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)beta, (void)c, (void)ldc;
    (void)uplo_len, (void)trans_len;
}
static void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                   double *work, const int *lwork, int *info, size_t jobz_len, size_t uplo_len) {
    (void)jobz, (void)uplo, (void)n, (void)a, (void)lda, (void)w, (void)work, (void)lwork, (void)jobz_len;
    (void)uplo_len;
    *info = -1;
}
static void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
                    const int *lwork, int *info) {
    (void)m, (void)n, (void)a, (void)lda, (void)tau, (void)work, (void)lwork;
    *info = -1;
}
#endif

// The singular values of a matrix A from its n x n Gram matrix g (A A^T or A^T A, double, column-major, lower
// triangle read, destroyed): the square roots of g's eigenvalues (LAPACK dsyev, no vectors), descending, into
// s[0..n) (a rounding-negative eigenvalue of a singular g gives 0). 0 or -1.
static int gram_sv(jac_t *j, double *g, int n, float *s) {
    int info = 0;
    dsyev_("N", "L", &n, g, &n, j->ev, j->dwork, &j->dlwork, &info, 1, 1);
    if (info != 0) return bnlab_fail("jacobian: LAPACK dsyev failed (info %d)", info);
    for (int i = 0; i < n; i++) s[i] = (float)sqrt(j->ev[n - 1 - i] > 0 ? j->ev[n - 1 - i] : 0.0);
    return 0;
}

// The lanes' packed lower triangles: element (i, c <= i) of lane l at a[PK(i, c) + l].
#define PK(i, c) (((size_t)(i) * (size_t)((i) + 1) / 2 + (size_t)(c)) * JAC_LANES)

// Householder reflector of column c of the lanes' matrices (rows c+1..n-1; LAPACK dlarfg's): v (by row, v[c+1] = 1),
// tau, and beta, the off-diagonal e[c] of the tridiagonal form. A column with nothing below row c+1: tau 0, beta its
// entry (H = I).
static void householder_lanes(const double *a, int n, int c, double *v, double *tau, double *e) {
    enum { L = JAC_LANES };
    double xn[L], al[L], sc[L];
    for (int l = 0; l < L; l++) al[l] = a[PK(c + 1, c) + l], xn[l] = 0;
    for (int i = c + 2; i < n; i++)
        for (int l = 0; l < L; l++) xn[l] += a[PK(i, c) + l] * a[PK(i, c) + l];
    for (int l = 0; l < L; l++) {
        const double beta = xn[l] == 0 ? al[l] : -copysign(sqrt(al[l] * al[l] + xn[l]), al[l]);
        tau[l] = xn[l] == 0 ? 0 : (beta - al[l]) / beta;
        sc[l] = xn[l] == 0 ? 0 : 1 / (al[l] - beta);
        e[(size_t)c * L + l] = beta;
        v[(c + 1) * L + l] = 1;
    }
    for (int i = c + 2; i < n; i++)
        for (int l = 0; l < L; l++) v[i * L + l] = a[PK(i, c) + l] * sc[l];
}

// JAC_LANES symmetric n x n matrices (a: packed lower triangles, lanes innermost; destroyed) reduced to tridiagonal
// form by Householder reflections (LAPACK dsytd2's method: H = I - tau v v^T, p = tau A v, w = p - tau/2 (p.v) v,
// A <- A - v w^T - w v^T), the same eigenvalues: lane l's diagonal into d[i JAC_LANES + l], off-diagonal into
// e[i JAC_LANES + l] (i < n - 1). Each lane is scaled by its largest entry first (no under- or overflow in the
// squares). One pass over the trailing matrix per column: the update of step k and the product A v of step k + 1
// together (the next reflector first, from the updated column k + 1). Every operation is one lane's own, the lanes
// side by side in a vector: twice dsytd2's speed for n = 100 (4 lanes, AVX2). ws: 4 n JAC_LANES doubles.
BNLAB_LANES_TARGET static void tridiag_lanes(double *a, int n, double *d, double *e, double *ws) {
    enum { L = JAC_LANES };
    double *v = ws, *p = ws + (size_t)n * L, *v2 = ws + 2 * (size_t)n * L, *p2 = ws + 3 * (size_t)n * L;
    double tau[L], tau2[L], scale[L];
    const size_t cells = (size_t)n * (size_t)(n + 1) / 2;
    for (int l = 0; l < L; l++) scale[l] = 0;
    for (size_t i = 0; i < cells; i++)
        for (int l = 0; l < L; l++) scale[l] = fabs(a[i * L + l]) > scale[l] ? fabs(a[i * L + l]) : scale[l];
    for (int l = 0; l < L; l++) scale[l] = scale[l] > 0 ? scale[l] : 1;
    for (size_t i = 0; i < cells; i++)
        for (int l = 0; l < L; l++) a[i * L + l] /= scale[l];
    for (int l = 0; l < L; l++) d[l] = a[PK(0, 0) + l];
    if (n > 1) {
        householder_lanes(a, n, 0, v, tau, e);
        for (int i = 1; i < n; i++)  // p = tau A[1.., 1..] v
            for (int l = 0; l < L; l++) p[i * L + l] = 0;
        for (int i = 1; i < n; i++) {
            const double *row = a + PK(i, 0);
            double acc[L];
            for (int l = 0; l < L; l++) acc[l] = row[i * L + l] * v[i * L + l];
            for (int c = 1; c < i; c++)
                for (int l = 0; l < L; l++)
                    acc[l] += row[c * L + l] * v[c * L + l], p[c * L + l] += row[c * L + l] * v[i * L + l];
            for (int l = 0; l < L; l++) p[i * L + l] += acc[l];
        }
        for (int i = 1; i < n; i++)
            for (int l = 0; l < L; l++) p[i * L + l] *= tau[l];
    }
    for (int k = 0; k + 2 < n; k++) {  // v, tau, p of column k; rows and columns k+1.. not yet updated by it
        double dot[L];
        for (int l = 0; l < L; l++) dot[l] = 0;
        for (int i = k + 1; i < n; i++)
            for (int l = 0; l < L; l++) dot[l] += p[i * L + l] * v[i * L + l];
        for (int l = 0; l < L; l++) dot[l] *= -0.5 * tau[l];
        for (int i = k + 1; i < n; i++)  // p becomes w
            for (int l = 0; l < L; l++) p[i * L + l] += dot[l] * v[i * L + l];
        for (int i = k + 1; i < n; i++)  // column k+1 updated, then its reflector
            for (int l = 0; l < L; l++)
                a[PK(i, k + 1) + l] -= v[i * L + l] * p[(k + 1) * L + l] + p[i * L + l] * v[(k + 1) * L + l];
        for (int l = 0; l < L; l++) d[(size_t)(k + 1) * L + l] = a[PK(k + 1, k + 1) + l];
        householder_lanes(a, n, k + 1, v2, tau2, e);
        for (int i = k + 2; i < n; i++)
            for (int l = 0; l < L; l++) p2[i * L + l] = 0;
        for (int i = k + 2; i < n; i++) {  // rows and columns k+2.. updated, and p2 = A v2 of the updated values
            double *row = a + PK(i, 0);
            double vi[L], wi[L], v2i[L], acc[L];
            for (int l = 0; l < L; l++) vi[l] = v[i * L + l], wi[l] = p[i * L + l], v2i[l] = v2[i * L + l], acc[l] = 0;
            for (int c = k + 2; c < i; c++)
                for (int l = 0; l < L; l++) {
                    const double x = row[c * L + l] - (vi[l] * p[c * L + l] + wi[l] * v[c * L + l]);
                    row[c * L + l] = x;
                    acc[l] += x * v2[c * L + l];
                    p2[c * L + l] += x * v2i[l];
                }
            for (int l = 0; l < L; l++) {
                const double x = row[i * L + l] - (vi[l] * p[i * L + l] + wi[l] * v[i * L + l]);
                row[i * L + l] = x;
                p2[i * L + l] += acc[l] + x * v2i[l];
            }
        }
        for (int i = k + 2; i < n; i++)
            for (int l = 0; l < L; l++) p2[i * L + l] *= tau2[l];
        double *t = v;
        v = v2, v2 = t, t = p, p = p2, p2 = t;
        for (int l = 0; l < L; l++) tau[l] = tau2[l];
    }
    for (int l = 0; l < L; l++) {
        if (n > 1) d[(size_t)(n - 1) * L + l] = a[PK(n - 1, n - 1) + l];
        for (int i = 0; i < n; i++) d[(size_t)i * L + l] *= scale[l];
        for (int i = 0; i + 1 < n; i++) e[(size_t)i * L + l] *= scale[l];
    }
}

// The eigenvalues of JAC_LANES symmetric tridiagonal n x n matrices at once, into d: lane k's diagonal
// d[i JAC_LANES + k], its off-diagonal e[i JAC_LANES + k] = T[i + 1, i] (i < n - 1; e's last row is scratch; e
// destroyed). LAPACK dsterf's iteration (QL with Wilkinson's shift, root-free: Pal, Walker and Kahan's, on the squares
// of e, two divisions a step and no square root), each lane scaled by its largest entry first. The lanes sweep in
// step, one vector operation for the 4 lanes' step i (a lane outside its own range [l, m) keeps its values), so the
// chains of divisions of the 4 overlap: 3x dsterf's speed for n = 100. Each lane finds its own deflation and shift.
// Returns the bit mask of lanes that did not converge in max_sweeps sweeps for one eigenvalue (the caller recomputes
// them).
typedef double v4d __attribute__((vector_size(32)));
typedef double v4d_u __attribute__((vector_size(32), aligned(8)));  // a load or store at a double's alignment
typedef long long v4m __attribute__((vector_size(32)));
#define V4_SELECT(mask, a, b) ((v4d)((((v4m)(a)) & (mask)) | (((v4m)(b)) & ~(mask))))
_Static_assert(JAC_LANES == 4, "ql_lanes: one 4-double vector of lanes");
BNLAB_LANES_TARGET static int ql_lanes(double *d, double *e, int n, int max_sweeps) {
    enum { L = JAC_LANES };
    int l[L], m[L], iter[L], live[L], bad = 0;
    double scale[L];
    for (int k = 0; k < L; k++) {
        double mx = 0;
        for (int i = 0; i < n; i++) mx = fabs(d[i * L + k]) > mx ? fabs(d[i * L + k]) : mx;
        for (int i = 0; i + 1 < n; i++) mx = fabs(e[i * L + k]) > mx ? fabs(e[i * L + k]) : mx;
        scale[k] = mx > 0 ? mx : 1;
        for (int i = 0; i < n; i++) {
            const double t = i + 1 < n ? e[i * L + k] / scale[k] : 0;
            d[i * L + k] /= scale[k], e[i * L + k] = t * t;  // e: squares from here on
        }
        l[k] = 0, iter[k] = 0;
    }
    const double eps2 = DBL_EPSILON * DBL_EPSILON;
    for (;;) {  // one sweep of every lane with an eigenvalue left; l[k] only grows, to n, or iter[k] passes max_sweeps
        int lo = n, hi = -1;
        v4d p, c, s, gam, sig;
        v4m first, last;
        for (int k = 0; k < L; k++) {
            live[k] = 0, p[k] = 0, gam[k] = 0, sig[k] = 0, c[k] = 1, s[k] = 0;
            while (l[k] < n) {
                int mm = l[k];  // the first negligible off-diagonal from l: T[l..mm] is the block to reduce
                while (mm < n - 1 && !(e[mm * L + k] <= eps2 * fabs(d[mm * L + k] * d[(mm + 1) * L + k]))) mm++;
                if (mm == l[k]) {  // d[l] is an eigenvalue
                    l[k]++, iter[k] = 0;
                    continue;
                }
                if (++iter[k] > max_sweeps) {
                    bad |= 1 << k, l[k] = n;
                    break;
                }
                const int ll = l[k];
                const double rte = sqrt(e[ll * L + k]), q = (d[(ll + 1) * L + k] - d[ll * L + k]) / (2 * rte);
                sig[k] = d[ll * L + k] - rte / (q + copysign(hypot(q, 1.0), q));  // Wilkinson's shift
                gam[k] = d[mm * L + k] - sig[k], p[k] = gam[k] * gam[k];
                m[k] = mm, live[k] = 1;
                lo = ll < lo ? ll : lo, hi = mm - 1 > hi ? mm - 1 : hi;
                break;
            }
            first[k] = live[k] ? l[k] : n + 1, last[k] = live[k] ? m[k] - 1 : -1;
        }
        if (hi < 0) break;
        for (int i = hi; i >= lo; i--) {  // dsterf's inner loop, the 4 lanes in step
            const v4m iv = {i, i, i, i}, act = (iv >= first) & (iv <= last), inner = act & (iv != last);
            const v4d bb = *(const v4d_u *)(e + (size_t)i * L), r = p + bb;
            v4d_u *e1 = (v4d_u *)(e + (size_t)(i + 1) * L), *d1 = (v4d_u *)(d + (size_t)(i + 1) * L);
            if (i + 1 < n) *e1 = V4_SELECT(inner, s * r, *e1);
            const v4d cn = p / r, sn = bb / r, alpha = *(const v4d_u *)(d + (size_t)i * L);
            const v4d gn = cn * (alpha - sig) - sn * gam;
            *d1 = V4_SELECT(act, gam + (alpha - gn), *d1);
            const v4d pn = V4_SELECT(cn != 0, (gn * gn) / cn, c * bb);  // c: the step's old c
            c = V4_SELECT(act, cn, c), s = V4_SELECT(act, sn, s);
            gam = V4_SELECT(act, gn, gam), p = V4_SELECT(act, pn, p);
        }
        for (int k = 0; k < L; k++)
            if (live[k]) e[l[k] * L + k] = s[k] * p[k], d[l[k] * L + k] = sig[k] + gam[k];
    }
    for (int k = 0; k < L; k++)
        for (int i = 0; i < n; i++) d[i * L + k] *= scale[k];
    return bad;
}

int jac_lanes_eigenvalues(double *ev, double *a, int n, int max_sweeps, double *ws, int *nonfinite) {
    enum { L = JAC_LANES };
    const size_t cells = (size_t)n * (size_t)(n + 1) / 2;
    int bad_input = 0;
    for (size_t i = 0; i < cells; i++)
        for (int l = 0; l < L; l++) bad_input |= !isfinite(a[i * L + l]) << l;
    for (int l = 0; l < L; l++)  // a lane with a non-finite entry: the zero matrix, so the others run as usual
        if (bad_input & (1 << l))
            for (size_t i = 0; i < cells; i++) a[i * L + l] = 0;
    double *e = ws + 4 * (size_t)n * L;
    tridiag_lanes(a, n, ev, e, ws);
    const int bad = ql_lanes(ev, e, n, max_sweeps < 1 ? 1 : max_sweeps);
    for (int l = 0; l < L; l++)
        if (bad_input & (1 << l))
            for (int i = 0; i < n; i++) ev[(size_t)i * L + l] = NAN;
    *nonfinite = bad_input;
    return bad & ~bad_input;
}

static int is_nonlinearity(const layer_t *l) { return layer_kind(l->spec.kind)->nonlinearity; }

// Block k of m starting at the linear layer `first`; its shape and whether it is measured.
static void find_block(jac_block_t *b, const model_t *m, int first) {
    memset(b, 0, sizeof *b);
    b->first = first, b->norm = -1, b->act = -1;
    int i = first + 1;
    while (i < m->n_layers && !layer_kind(m->layers[i].spec.kind)->linear) i++;
    b->last = i - 1;
    b->in = m->layers[first].in, b->out = m->layers[b->last].out;
    for (int k = first + 1; k <= b->last; k++) {
        const layer_t *l = &m->layers[k];
        const layer_kind_info_t *info = layer_kind(l->spec.kind);
        if (is_nonlinearity(l) && b->act < 0) b->act = k;
        else if (info->normalizes && b->norm < 0 && b->act < 0) b->norm = k;
        else b->unsupported = "a layer other than one normalization before one nonlinearity";
    }
    if (b->act < 0 && !b->unsupported) b->unsupported = "no nonlinearity";
    if (m->layers[first].spec.sparse_input) b->unsupported = "a sparse-input dense layer";
    if (b->norm >= 0 && !b->unsupported && !layer_bn_standard(&m->layers[b->norm].spec))
        b->unsupported = "a normalization other than plain batchnorm (variant \"standard\", default options, a gamma)";
}

// dsyev's workspace for an n x n problem (eigenvalues only).
static int ev_lwork_for(int n) {
    int info = 0, lw = -1;
    double q = 0, a = 0, w = 0;
    dsyev_("N", "L", &n, &a, &n, &w, &q, &lw, &info, 1, 1);
    return info == 0 ? (int)q + 1 : -1;
}

// dgeqrf's workspace for an m x n problem.
static int qr_lwork_for(int m, int n) {
    int info = 0, lw = -1;
    double q = 0, a = 0, tau = 0;
    dgeqrf_(&m, &n, &a, &m, &tau, &q, &lw, &info);
    return info == 0 ? (int)q + 1 : -1;
}

int jac_batch_fits(const jac_t *j, int k) {
    const jac_block_t *b = &j->blocks[k];
    return j->full_batch >= 2 && (long)j->full_batch * b->in <= JAC_MAX_FULL_SIDE &&
           (long)j->full_batch * b->out <= JAC_MAX_FULL_SIDE;
}

int jac_init(jac_t *j, const model_t *m, int full_batch) {
    memset(j, 0, sizeof *j);
    if (!BNLAB_HAVE_BLAS)
        return bnlab_fail("log.jacobian_every: the Jacobian's singular values need LAPACK (OpenBLAS's), which the "
                          "WebAssembly build does not have: expected 0 here");
    if (full_batch < 0 || full_batch > JAC_MAX_FULL_BATCH)
        return bnlab_fail("jacobian: full-batch probe of %d examples; expected 0..%d", full_batch, JAC_MAX_FULL_BATCH);
    int n = 0, widest = 1;
    for (int i = 0; i + 1 < m->n_layers; i++)
        if (layer_kind(m->layers[i].spec.kind)->linear) n++;
    j->blocks = xcalloc(n ? (size_t)n : 1, sizeof *j->blocks, "jacobian blocks");
    j->max_batch = m->max_batch, j->full_batch = full_batch;
    for (int i = 0; i + 1 < m->n_layers; i++)
        if (layer_kind(m->layers[i].spec.kind)->linear) find_block(&j->blocks[j->n_blocks++], m, i);
    // The largest Gram matrix and workspace over the blocks: (a) min(in, out) square; (b) of a BN block where it fits
    // ((full - 1) out) square (run/jacobian.h), with the weights in double and W W^T (out x out).
    size_t w_cells = 1, gw_cells = 1, g_cells = 1, t_cells = 1;
    int n_max = 1, na_max = 1, lwork = 1;
    for (int k = 0; k < j->n_blocks; k++) {
        const jac_block_t *b = &j->blocks[k];
        if (b->in > widest) widest = b->in;
        if (b->out > widest) widest = b->out;
        const size_t wc = (size_t)b->in * (size_t)b->out, gc = (size_t)b->out * (size_t)b->out;
        w_cells = wc > w_cells ? wc : w_cells, gw_cells = gc > gw_cells ? gc : gw_cells;
        int sizes[2] = {b->in < b->out ? b->in : b->out, 0};
        if (b->norm >= 0 && jac_batch_fits(j, k)) {
            sizes[1] = (full_batch - 1) * b->out;
            const size_t tc = (size_t)b->out * (size_t)(full_batch - 1) * (size_t)(full_batch - 1);
            t_cells = tc > t_cells ? tc : t_cells;
            int lw = qr_lwork_for(full_batch, full_batch - 1);
            if (lw < 0) return jac_free(j), bnlab_fail("jacobian: LAPACK dgeqrf workspace query failed");
            lwork = lw > lwork ? lw : lwork;
        }
        na_max = sizes[0] > na_max ? sizes[0] : na_max;
        for (int w = 0; w < 2; w++) {
            if (sizes[w] < 1) continue;
            const size_t c = (size_t)sizes[w] * (size_t)sizes[w];
            g_cells = c > g_cells ? c : g_cells, n_max = sizes[w] > n_max ? sizes[w] : n_max;
            int lw = ev_lwork_for(sizes[w]);
            if (lw < 0) return jac_free(j), bnlab_fail("jacobian: LAPACK dsyev workspace query failed");
            lwork = lw > lwork ? lw : lwork;
        }
    }
    const size_t n_sv = (size_t)(m->max_batch + 1) * (size_t)widest + (size_t)JAC_MAX_FULL_SIDE;
    j->sv = xcalloc(n_sv, sizeof(float), "singular values");
    j->sort_tmp = xcalloc(n_sv, sizeof(float), "singular value sort");
    j->fprime = xcalloc((size_t)m->max_batch * (size_t)widest, sizeof(float), "f'");
    j->scale = xcalloc((size_t)widest, sizeof(float), "gamma invstd");
    j->wd = xcalloc(w_cells, sizeof(double), "jacobian: weights in double");
    j->gw = xcalloc(gw_cells, sizeof(double), "jacobian: W W^T");
    j->g = xcalloc(g_cells, sizeof(double), "jacobian: Gram matrix");
    j->ev = xcalloc((size_t)n_max, sizeof(double), "jacobian: eigenvalues");
    j->t = xcalloc(t_cells, sizeof(double), "jacobian: per-feature factors");
    j->qa = xcalloc((size_t)JAC_MAX_FULL_BATCH * JAC_MAX_FULL_BATCH, sizeof(double), "jacobian: per-feature QR");
    j->tau = xcalloc((size_t)JAC_MAX_FULL_BATCH, sizeof(double), "jacobian: QR reflectors");
    j->td = xcalloc((size_t)JAC_LANES * (size_t)na_max, sizeof(double), "jacobian: tridiagonals");
    j->lanes = xcalloc((size_t)JAC_LANES * (size_t)na_max * (size_t)(na_max + 1) / 2, sizeof(double),
                       "jacobian: Gram matrices");
    j->lane_ws = xcalloc(JAC_LANES_WS(na_max), sizeof(double), "jacobian: Householder vectors");
    j->dlwork = lwork;
    j->max_sweeps = 30;
    j->dwork = xcalloc((size_t)lwork, sizeof(double), "LAPACK work");
    return 0;
}

void jac_free(jac_t *j) {
    free(j->blocks), free(j->sv), free(j->sort_tmp), free(j->fprime), free(j->scale), free(j->wd), free(j->gw);
    free(j->g), free(j->ev), free(j->t), free(j->qa), free(j->tau), free(j->dwork), free(j->td);
    free(j->lanes), free(j->lane_ws);
    memset(j, 0, sizeof *j);
}

void jac_forward(jac_t *j, model_t *m, const float *x, int B) {
    model_forward(m, x, B, MODE_EVAL_BATCH, NULL);
    j->x = x;
}

// f'(z) of block b's nonlinearity for the last forward pass (B rows) into j->fprime, by the layer's own backward
// with dy = 1 (its dy buffer is a work buffer, rewritten by every backward pass), and gamma * invstd into j->scale.
static void block_factors(jac_t *j, model_t *m, const jac_block_t *b, int B) {
    layer_t *a = &m->layers[b->act];
    const layer_ctx_t c = {.mode = MODE_EVAL_BATCH, .scratch = m->scratch};
    for (size_t i = 0; i < (size_t)B * (size_t)a->out; i++) a->dy[i] = 1.0f;
    const float *z = m->layers[b->act - 1].y;
    layer_kind(a->spec.kind)->backward(a, j->fprime, z, B, &c);
    for (int f = 0; f < b->out; f++)
        j->scale[f] = b->norm >= 0 ? m->layers[b->norm].gamma[f] * m->layers[b->norm].invstd[f] : 1.0f;
}

// A model whose values are not finite (a diverged run) has no spectrum: no row, as LAPACK's SVD refused it before.
static long nonfinite(const jac_block_t *b, int k) {
    return bnlab_fail("jacobian: block %d (model.layers[%d]): non-finite values (a diverged model?)", k, b->first);
}

static float weight(const layer_t *d, int row, int col) { return d->W[(size_t)row * (size_t)d->in + (size_t)col]; }

// Block b's weights in double into j->wd (column-major in x out: W's row-major layout) and G = W W^T (out x out,
// column-major, lower triangle) into j->gw.
static void weights_gram(jac_t *j, const model_t *m, const jac_block_t *b) {
    const layer_t *d = &m->layers[b->first];
    const size_t cells = (size_t)b->in * (size_t)b->out;
    for (size_t i = 0; i < cells; i++) j->wd[i] = d->W[i];
    const double one = 1, zero = 0;
    dsyrk_("L", "T", &b->out, &b->in, &one, j->wd, &b->in, &zero, j->gw, &b->out, 1, 1);
}

// f'(z[e]) gamma invstd of row r (block_factors' two factors, multiplied in double).
static double row_scale(const jac_t *j, const jac_block_t *b, int e, int r) {
    return (double)j->fprime[(size_t)e * b->out + r] * (double)j->scale[r];
}

// Example e's Gram matrix of (a) (min(in, out) square, lower triangle, column-major) into j->g, after
// block_factors and weights_gram: J_b J_b^T = diag(s) W W^T diag(s) (out x out), s = f'(z_b) gamma invstd, G scaled
// (no product per example); or, with fewer inputs than outputs, J_b^T J_b = W^T diag(s)^2 W (in x in): W's rows
// scaled by s (column r of the in x out array j->wd, rewritten from W), then dsyrk.
static void example_gram(jac_t *j, const model_t *m, const jac_block_t *b, int e) {
    const int out = b->out, in = b->in;
    if (out <= in) {
        for (int c = 0; c < out; c++) {
            const double sc = row_scale(j, b, e, c);
            for (int r = c; r < out; r++)
                j->g[(size_t)c * out + r] = row_scale(j, b, e, r) * sc * j->gw[(size_t)c * out + r];
        }
        return;
    }
    const layer_t *d = &m->layers[b->first];
    for (int r = 0; r < out; r++) {
        const double sr = row_scale(j, b, e, r);
        for (int c = 0; c < in; c++) j->wd[(size_t)r * in + c] = sr * (double)weight(d, r, c);
    }
    const double one = 1, zero = 0;
    dsyrk_("L", "N", &in, &out, &one, j->wd, &in, &zero, j->g, &in, 1, 1);
}

long jac_example_sv(jac_t *j, model_t *m, int k, int B) {
    const jac_block_t *b = &j->blocks[k];
    if (b->unsupported) return bnlab_fail("jacobian: block %d (model.layers[%d]) not measured: %s", k, b->first,
                                          b->unsupported);
    block_factors(j, m, b, B);
    weights_gram(j, m, b);
    int mn = b->in < b->out ? b->in : b->out;
    // JAC_LANES examples at a time (jac_lanes_eigenvalues); a lane whose QL iteration does not converge within
    // j->max_sweeps is done again by LAPACK dsyev (j->fallbacks counts them; never seen at the default 30). An unused
    // lane holds the zero matrix.
    for (int e0 = 0; e0 < B; e0 += JAC_LANES) {
        const int lanes = B - e0 < JAC_LANES ? B - e0 : JAC_LANES;
        for (int l = 0; l < JAC_LANES; l++) {
            if (l >= lanes) {
                for (int r = 0; r < mn; r++)
                    for (int c = 0; c <= r; c++) j->lanes[PK(r, c) + l] = 0;
                continue;
            }
            example_gram(j, m, b, e0 + l);
            for (int r = 0; r < mn; r++)
                for (int c = 0; c <= r; c++) j->lanes[PK(r, c) + l] = j->g[(size_t)c * mn + r];
        }
        int nonfin = 0;
        const int bad = jac_lanes_eigenvalues(j->td, j->lanes, mn, j->max_sweeps, j->lane_ws, &nonfin);
        if (nonfin) return nonfinite(b, k);
        for (int l = 0; l < lanes; l++) {
            float *sv = j->sv + (size_t)(e0 + l) * mn;
            if (bad & (1 << l)) {
                example_gram(j, m, b, e0 + l);
                if (gram_sv(j, j->g, mn, sv) != 0) return -1;
                j->fallbacks++;
                continue;
            }
            for (int i = 0; i < mn; i++) {
                const double ev = j->td[(size_t)i * JAC_LANES + l];
                j->sort_tmp[i] = (float)sqrt(ev > 0 ? ev : 0.0);
            }
            sort_floats(j->sort_tmp, (size_t)mn, j->sort_tmp + mn);
            for (int i = 0; i < mn; i++) sv[i] = j->sort_tmp[mn - 1 - i];  // descending
        }
    }
    return (long)B * mn;
}

int jac_batch_matrix(jac_t *j, model_t *m, int k, int B, float *J) {
    const jac_block_t *b = &j->blocks[k];
    if (b->unsupported) return bnlab_fail("jacobian: block %d (model.layers[%d]) not measured: %s", k, b->first,
                                          b->unsupported);
    if (B > j->full_batch || B < 2) return bnlab_fail("jacobian: full-batch probe of %d examples; expected 2..%d", B,
                                                      j->full_batch);
    block_factors(j, m, b, B);
    const layer_t *d = &m->layers[b->first];
    const float *xhat = b->norm >= 0 ? m->layers[b->norm].xhat : NULL;
    const size_t cols = (size_t)B * (size_t)b->in;
    for (int e = 0; e < B; e++)
        for (int r = 0; r < b->out; r++) {
            float s = j->fprime[(size_t)e * b->out + r] * j->scale[r];
            float *row = J + ((size_t)e * b->out + r) * cols;
            for (int c = 0; c < B; c++) {
                float p = xhat ? (float)(e == c) - 1.0f / (float)B -
                                     xhat[(size_t)e * b->out + r] * xhat[(size_t)c * b->out + r] / (float)B
                               : (float)(e == c);
                for (int q = 0; q < b->in; q++) row[(size_t)c * b->in + q] = s * p * weight(d, r, q);
            }
        }
    return 0;
}

// Column a (0..B-2) of the B x (B-1) Helmert basis of the vectors that sum to 0: a + 1 entries 1/sqrt((a+1)(a+2)),
// then -(a+1)/sqrt((a+1)(a+2)), then zeros. Orthonormal columns, each orthogonal to the vector of ones.
static double helmert(int row, int a) {
    const double norm = 1 / sqrt((double)(a + 1) * (double)(a + 2));
    return row <= a ? norm : row == a + 1 ? -(double)(a + 1) * norm : 0.0;
}

long jac_batch_sv(jac_t *j, model_t *m, int k, int B) {
    const jac_block_t *b = &j->blocks[k];
    if (b->norm < 0 && !b->unsupported) {  // block-diagonal: its singular values are the B examples' (a)
        if (B > j->full_batch || B < 2) return bnlab_fail("jacobian: full-batch probe of %d examples; expected 2..%d",
                                                          B, j->full_batch);
        return jac_example_sv(j, m, k, B);
    }
    if (b->unsupported) return bnlab_fail("jacobian: block %d (model.layers[%d]) not measured: %s", k, b->first,
                                          b->unsupported);
    if (B > j->full_batch || B < 2) return bnlab_fail("jacobian: full-batch probe of %d examples; expected 2..%d", B,
                                                      j->full_batch);
    if (!jac_batch_fits(j, k))
        return bnlab_fail("jacobian: block %d (model.layers[%d]): the whole-batch Jacobian of %d examples is larger "
                          "than %d x %d", k, b->first, j->full_batch, JAC_MAX_FULL_SIDE, JAC_MAX_FULL_SIDE);
    // run/jacobian.h (b): per feature f, A_f = diag(s_f) Q = U_f R_f (Householder QR, B x (B-1)) and
    // T_f = R_f (I - t t^T / B), t = Q^T xhat_f; the eigenvalues of H[(f, a), (g, c)] = G[f, g] (T_f T_g^T)[a, c].
    block_factors(j, m, b, B);
    weights_gram(j, m, b);
    const float *xhat = m->layers[b->norm].xhat;
    const int out = b->out, q = B - 1, n = q * out;
    for (int f = 0; f < out; f++) {
        double t[JAC_MAX_FULL_BATCH], *A = j->qa, *T = j->t + (size_t)f * q * q;
        for (int a = 0; a < q; a++) {
            t[a] = 0;
            for (int e = 0; e < B; e++) {
                t[a] += helmert(e, a) * (double)xhat[(size_t)e * out + f];
                A[(size_t)a * B + e] = row_scale(j, b, e, f) * helmert(e, a);  // column-major B x q
            }
        }
        int info = 0, rows = B, cols = q;
        dgeqrf_(&rows, &cols, A, &rows, j->tau, j->dwork, &j->dlwork, &info);
        if (info != 0) return bnlab_fail("jacobian: LAPACK dgeqrf failed (info %d)", info);
        // T = R M, M = I - t t^T / B; R upper triangular in A's upper part. T row-major q x q.
        for (int r = 0; r < q; r++)
            for (int c = 0; c < q; c++) {
                double v = 0;
                for (int i = r; i < q; i++) v += A[(size_t)i * B + r] * ((double)(i == c) - t[i] * t[c] / B);
                T[r * q + c] = v;
            }
    }
    for (int g = 0; g < out; g++)  // column block g, row blocks f >= g (the lower triangle)
        for (int f = g; f < out; f++) {
            const double gfg = j->gw[(size_t)g * out + f];
            const double *Tf = j->t + (size_t)f * q * q, *Tg = j->t + (size_t)g * q * q;
            for (int c = 0; c < q; c++)
                for (int a = 0; a < q; a++) {
                    double v = 0;
                    for (int i = 0; i < q; i++) v += Tf[a * q + i] * Tg[c * q + i];
                    j->g[(size_t)(g * q + c) * n + (size_t)(f * q + a)] = gfg * v;
                }
        }
    for (size_t i = 0; i < (size_t)n; i++)  // H's diagonal: a non-finite factor makes one of them non-finite
        if (!isfinite(j->g[i * n + i])) return nonfinite(b, k);
    const long count = (long)B * (b->in < out ? b->in : out);  // min(B out, B in)
    if (gram_sv(j, j->g, n, j->sv) != 0) return -1;  // n values, then the out zeros of the common shift
    for (long i = n; i < count; i++) j->sv[i] = 0;
    return count;
}

void jac_summarize(jac_summary_t *s, float *sv, size_t n, size_t drop, float *tmp) {
    memset(s, 0, sizeof *s);
    sort_floats(sv, n, tmp);
    if (drop >= n) return;
    sv += drop, n -= drop;
    size_t near = 0;
    for (size_t i = 0; i < n; i++) near += sv[i] >= 0.5f && sv[i] <= 2.0f;
    s->n = n;
    s->median = percentile_sorted(sv, n, 50), s->p10 = percentile_sorted(sv, n, 10);
    s->p90 = percentile_sorted(sv, n, 90);
    s->min = sv[0], s->max = sv[n - 1];
    s->frac_near1 = (double)near / (double)n;
}
