#include "run/jacobian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/bnvariants.h"
#include "run/percentiles.h"

#ifndef BNLAB_HAVE_BLAS
#define BNLAB_HAVE_BLAS 1
#endif
#if BNLAB_HAVE_BLAS
// LAPACK's Fortran entry point (OpenBLAS exports it; Debian ships no lapacke.h). The trailing size_t is the hidden
// length of the CHARACTER argument that gfortran-compiled code expects.
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u, const int *ldu,
             float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info, size_t jobz_len);
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork, int *info);
#else
// The WebAssembly build has no LAPACK: jac_init refuses (below), so this is never called.
static void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u,
                    const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info,
                    size_t jobz_len) {
    (void)jobz, (void)m, (void)n, (void)a, (void)lda, (void)s, (void)u, (void)ldu, (void)vt, (void)ldvt, (void)work;
    (void)lwork, (void)iwork, (void)jobz_len;
    *info = -1;
}
static void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork,
                    int *info) {
    (void)m, (void)n, (void)a, (void)lda, (void)tau, (void)work, (void)lwork;
    *info = -1;
}
#endif

// Singular values of the column-major m x n matrix a (destroyed), descending, into s (min(m, n)). 0 or -1.
static int svd_values(jac_t *j, float *a, int m, int n, float *s) {
    int info = 0, one = 1;
    float dummy = 0;
    sgesdd_("N", &m, &n, a, &m, s, &dummy, &one, &dummy, &one, j->work, &j->lwork, j->iwork, &info, 1);
    if (info != 0) return bnlab_fail("jacobian: LAPACK sgesdd failed (info %d)", info);
    return 0;
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

// sgesdd's workspace for an m x n problem (singular values only).
static int lwork_for(int m, int n, int *iwork) {
    int info = 0, one = 1, lw = -1;
    float q = 0, dummy = 0, a = 0, s = 0;
    sgesdd_("N", &m, &n, &a, &m, &s, &dummy, &one, &dummy, &one, &q, &lw, iwork, &info, 1);
    return info == 0 ? (int)q + 1 : -1;
}

// sgeqrf's workspace for an m x n problem.
static int qr_lwork_for(int m, int n) {
    int info = 0, lw = -1;
    float q = 0, a = 0, tau = 0;
    sgeqrf_(&m, &n, &a, &m, &tau, &q, &lw, &info);
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
    // The largest matrix and workspace over the blocks: (a) out x in, (b) (full out) x (full in) where it fits.
    // (a) of a block with more inputs than outputs is the out x out matrix diag(s) R^T (below): its QR factors too.
    size_t cells = 1, mn_max = 1, qr_cells = 0;
    int lwork = 1, iw[1];
    for (int k = 0; k < j->n_blocks; k++) {
        const jac_block_t *b = &j->blocks[k];
        if (b->in > widest) widest = b->in;
        if (b->out > widest) widest = b->out;
        const int wide = b->in > b->out;
        if (wide) {
            const size_t c = (size_t)b->in * (size_t)b->out;
            qr_cells = c > qr_cells ? c : qr_cells;
            int lw = qr_lwork_for(b->in, b->out);
            if (lw < 0) return jac_free(j), bnlab_fail("jacobian: LAPACK sgeqrf workspace query failed");
            lwork = lw > lwork ? lw : lwork;
        }
        int shapes[2][2] = {{b->out, wide ? b->out : b->in}, {full_batch * b->in, full_batch * b->out}};
        for (int w = 0; w < 1 + jac_batch_fits(j, k); w++) {
            size_t c = (size_t)shapes[w][0] * (size_t)shapes[w][1];
            size_t mn = (size_t)(shapes[w][0] < shapes[w][1] ? shapes[w][0] : shapes[w][1]);
            cells = c > cells ? c : cells, mn_max = mn > mn_max ? mn : mn_max;
            int lw = lwork_for(shapes[w][0], shapes[w][1], iw);
            if (lw < 0) return jac_free(j), bnlab_fail("jacobian: LAPACK sgesdd workspace query failed");
            lwork = lw > lwork ? lw : lwork;
        }
    }
    j->J = xcalloc(cells, sizeof(float), "jacobian matrix");
    j->sv = xcalloc((size_t)m->max_batch * (size_t)widest + mn_max, sizeof(float), "singular values");
    j->sort_tmp = xcalloc((size_t)m->max_batch * (size_t)widest + mn_max, sizeof(float), "singular value sort");
    j->fprime = xcalloc((size_t)m->max_batch * (size_t)widest, sizeof(float), "f'");
    j->scale = xcalloc((size_t)widest, sizeof(float), "gamma invstd");
    j->iwork = xcalloc(8 * mn_max, sizeof(int), "LAPACK iwork");
    j->lwork = lwork;
    j->work = xcalloc((size_t)j->lwork, sizeof(float), "LAPACK work");
    if (qr_cells) {
        j->qr = xcalloc(qr_cells, sizeof(float), "jacobian: QR of the weights");
        j->tau = xcalloc((size_t)widest, sizeof(float), "jacobian: QR reflectors");
    }
    return 0;
}

void jac_free(jac_t *j) {
    free(j->blocks), free(j->J), free(j->sv), free(j->sort_tmp), free(j->fprime), free(j->scale), free(j->work);
    free(j->iwork);
    free(j->qr);
    free(j->tau);
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

static float weight(const layer_t *d, int row, int col) { return d->W[(size_t)row * (size_t)d->in + (size_t)col]; }

long jac_example_sv(jac_t *j, model_t *m, int k, int B) {
    const jac_block_t *b = &j->blocks[k];
    if (b->unsupported) return bnlab_fail("jacobian: block %d (model.layers[%d]) not measured: %s", k, b->first,
                                          b->unsupported);
    block_factors(j, m, b, B);
    const layer_t *d = &m->layers[b->first];
    const int mn = b->in < b->out ? b->in : b->out;
    if (b->in > b->out) {
        // More inputs than outputs (the 784-input first block): W^T = Q R (W row-major out x in is column-major
        // in x out), so diag(s) W = diag(s) R^T Q^T with Q^T's rows orthonormal: the same singular values as the
        // out x out matrix diag(s) R^T — one QR per probe instead of an out x in SVD per example.
        int info = 0, rows = b->in, cols = b->out;
        memcpy(j->qr, d->W, sizeof(float) * (size_t)rows * (size_t)cols);
        sgeqrf_(&rows, &cols, j->qr, &rows, j->tau, j->work, &j->lwork, &info);
        if (info != 0) return bnlab_fail("jacobian: LAPACK sgeqrf failed (info %d)", info);
        for (int e = 0; e < B; e++) {
            // Column-major out x out: element (r, c) = s_r R[c, r] (R upper: 0 for c > r) at J[c * out + r].
            for (int c = 0; c < b->out; c++)
                for (int r = 0; r < b->out; r++)
                    j->J[(size_t)c * b->out + r] =
                        c <= r ? j->fprime[(size_t)e * b->out + r] * j->scale[r] * j->qr[(size_t)r * rows + c] : 0.0f;
            if (svd_values(j, j->J, b->out, b->out, j->sv + (size_t)e * mn) != 0) return -1;
        }
        return (long)B * mn;
    }
    for (int e = 0; e < B; e++) {
        // Column-major out x in: element (r, c) at J[c * out + r].
        for (int r = 0; r < b->out; r++) {
            float s = j->fprime[(size_t)e * b->out + r] * j->scale[r];
            for (int c = 0; c < b->in; c++) j->J[(size_t)c * b->out + r] = s * weight(d, r, c);
        }
        if (svd_values(j, j->J, b->out, b->in, j->sv + (size_t)e * mn) != 0) return -1;
    }
    return (long)B * mn;
}

int jac_batch_matrix(jac_t *j, model_t *m, int k, int B, float *J) {
    const jac_block_t *b = &j->blocks[k];
    if (b->unsupported) return bnlab_fail("jacobian: block %d (model.layers[%d]) not measured: %s", k, b->first,
                                          b->unsupported);
    if (B > j->full_batch || B < 2) return bnlab_fail("jacobian: full-batch probe of %d examples; expected 2..%d", B,
                                                      j->full_batch);
    if (J == j->J && !jac_batch_fits(j, k))
        return bnlab_fail("jacobian: block %d (model.layers[%d]): the whole-batch Jacobian of %d examples is larger "
                          "than %d x %d", k, b->first, j->full_batch, JAC_MAX_FULL_SIDE, JAC_MAX_FULL_SIDE);
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

long jac_batch_sv(jac_t *j, model_t *m, int k, int B) {
    const jac_block_t *b = &j->blocks[k];
    if (b->norm < 0 && !b->unsupported) {  // block-diagonal: its singular values are the B examples' (a)
        if (B > j->full_batch || B < 2) return bnlab_fail("jacobian: full-batch probe of %d examples; expected 2..%d",
                                                          B, j->full_batch);
        return jac_example_sv(j, m, k, B);
    }
    if (jac_batch_matrix(j, m, k, B, j->J) != 0) return -1;
    // Row-major (B out) x (B in) is column-major (B in) x (B out): the transpose, same singular values.
    int rows = B * b->in, cols = B * b->out;
    if (svd_values(j, j->J, rows, cols, j->sv) != 0) return -1;
    return rows < cols ? rows : cols;
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
