// run/evaluate.h without the command line: loss, accuracy and confusion matrix against a float64 forward pass of the
// same weights (BN in evaluation mode, then a dense layer, softmax cross-entropy), the --bn-stats rows against the
// plain evaluation, x̂ statistics on the layers the registry names; and Algorithm 2's per-variant facts asked of
// nn/bnvariants.h (ghost blocks of exactly ghost_batch rows; renorm's sigma = sqrt(Var + eps)).
#include <math.h>
#include <stdlib.h>

#include "base/rng.h"
#include "base/util.h"
#include "check.h"
#include "nn/bnvariants.h"
#include "run/evaluate.h"

enum { N = 50, D = 4, C = 3, EB = 8 };  // 50 examples in evaluation batches of 8 (the last one of 2)

static uint8_t pix[N * D];
static int32_t labels[N];

// An infer_t by hand: BN (running statistics set away from 0/1 so that using them matters) -> dense(C).
static void make(infer_t *n, dataset_t *ds, int bn) {
    memset(n, 0, sizeof *n);
    rng_t r;
    rng_seed(&r, 9, 0);
    for (int i = 0; i < N * D; i++) pix[i] = (uint8_t)rng_below(&r, 256);
    for (int i = 0; i < N; i++) labels[i] = (int32_t)rng_below(&r, C);
    *ds = (dataset_t){.n = N, .dim = D, .u8 = pix, .labels = labels, .classes = C};
    layer_spec_t specs[2] = {{.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                             {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    CHECK(model_build(&n->model, specs + !bn, 2 - !bn, D, C, EB) == 0, "model_build: %s", bnlab_errmsg());
    model_init(&n->model, 3);
    if (bn)
        for (int j = 0; j < D; j++) {
            layer_t *l = &n->model.layers[0];
            l->rmean[j] = 0.3f + 0.1f * j, l->rvar[j] = 0.05f + 0.02f * j, l->gamma[j] = 1.5f - 0.2f * j,
            l->beta[j] = 0.1f * j;
        }
    n->pp = (preprocess_t){.scale = 1.0f / 255};
    n->cfg.train.eval_batch_size = EB;
    n->cfg.train.batch_size = EB;
    snprintf(n->file, sizeof n->file, "hand-made.ckpt");
    n->x = xmalloc(sizeof(float) * EB * D, "x");
    n->y = xcalloc(EB, sizeof(int32_t), "y");
}

// Loss, hits and the confusion matrix in float64 from the model's weights, BN with its running statistics.
static double reference(const infer_t *n, int bn, long *hits, long *conf) {
    const layer_t *b = bn ? &n->model.layers[0] : NULL, *d = &n->model.layers[bn];
    double total = 0;
    *hits = 0;
    for (int i = 0; i < N; i++) {
        double h[D], z[C], mx = -INFINITY, s = 0;
        for (int j = 0; j < D; j++) {
            h[j] = pix[i * D + j] / 255.0;
            if (b) h[j] = (h[j] - b->rmean[j]) / sqrt((double)b->rvar[j] + b->spec.eps) * b->gamma[j] + b->beta[j];
        }
        int arg = 0;
        for (int k = 0; k < C; k++) {
            z[k] = d->b[k];
            for (int j = 0; j < D; j++) z[k] += (double)d->W[k * D + j] * h[j];
            if (z[k] > mx) mx = z[k], arg = k;
        }
        for (int k = 0; k < C; k++) s += exp(z[k] - mx);
        total += log(s) + mx - z[labels[i]];
        *hits += arg == labels[i];
        conf[labels[i] * C + arg]++;
    }
    return total / N;
}

static void test_evaluate_set(int bn) {
    infer_t n;
    dataset_t ds;
    make(&n, &ds, bn);
    evaluation_t e;
    evaluate_set(&e, &n, &ds);
    long hits, conf[C * C] = {0}, sum = 0;
    double want = reference(&n, bn, &hits, conf);
    CHECK_NEAR(e.loss, want, 1e-5, bn ? "loss with BN's running statistics" : "loss without BN");
    CHECK(e.hits == hits && e.n == N && e.C == C, "hits %ld of %u, want %ld of %d", e.hits, e.n, hits, N);
    for (int k = 0; k < C * C; k++) {
        CHECK(e.conf[k] == conf[k], "confusion[%d][%d] = %ld, want %ld", k / C, k % C, e.conf[k], conf[k]);
        sum += e.conf[k];
    }
    CHECK(sum == N, "confusion matrix counts %ld examples, want %d", sum, N);
    if (bn) {  // negative control: the reference with other statistics does not match
        n.model.layers[0].rmean[1] += 0.05f;
        long h2, c2[C * C] = {0};
        CHECK(fabs(reference(&n, bn, &h2, c2) - e.loss) > 1e-4, "the loss check cannot see a changed mean");
        n.model.layers[0].rmean[1] -= 0.05f;
        // --bn-stats rows: running equals the plain evaluation; batch differs (its own statistics per batch of 8).
        bn_stats_row_t rows[3];
        CHECK(evaluate_bn_stats(rows, &n, &ds, EVAL_BN_RUNNING | EVAL_BN_BATCH, 0) == 0, "%s", bnlab_errmsg());
        CHECK(rows[0].present && rows[1].present && !rows[2].present, "rows present: %d %d %d", rows[0].present,
              rows[1].present, rows[2].present);
        CHECK(rows[0].loss == e.loss && rows[0].acc == (double)e.hits / N, "running row %.9g, evaluation %.9g",
              rows[0].loss, e.loss);
        CHECK(rows[1].loss != e.loss, "batch row equals the running one: %.9g", rows[1].loss);
        CHECK_MSG(rows[1].what, "each test batch of 8 its own statistics");
        xhat_stats_t *s;
        CHECK(evaluate_xhat(&s, &n, &ds) == 0, "%s", bnlab_errmsg());
        CHECK(s && s[0].n == (long)N * D && s[1].n == 0, "x̂ values: layer 0 %ld (want %d), layer 1 %ld", s ? s[0].n : -1,
              N * D, s ? s[1].n : -1);
        CHECK(s && s[0].max_abs_mean < 1e-5, "x̂ batch means: %.3g", s ? s[0].max_abs_mean : -1.0);
        free(s);
    } else {
        xhat_stats_t *s;
        CHECK(evaluate_xhat(&s, &n, &ds) != 0 && s == NULL, "x̂ of a model without BN accepted");
        CHECK_MSG(bnlab_errmsg(), "hand-made.ckpt: the model has no batchnorm layer");
    }
    evaluation_free(&e);
    infer_free(&n);
}

// nn/bnvariants.h's Algorithm 2 facts per variant.
static void test_variant_blocks(void) {
    layer_t g = {.spec = {.kind = LAYER_BATCHNORM, .variant = BN_GHOST, .ghost_batch = 4}}, s = g;
    s.spec.variant = BN_STANDARD;
    int m;
    static const int B[5] = {8, 9, 10, 11, 4}, want[5] = {2, 1, 2, 2, 1};  // 9 = 4 + 5 (a row joined): one block
    for (int i = 0; i < 5; i++) {
        CHECK(layer_norm_blocks(&g, B[i], &m) == want[i] && m == 4, "ghost 4, batch %d: %d blocks of %d, want %d of 4",
              B[i], layer_norm_blocks(&g, B[i], &m), m, want[i]);
        CHECK(layer_norm_blocks(&s, B[i], &m) == 1 && m == B[i], "standard, batch %d: blocks of %d", B[i], m);
    }
    float rmean[1], rvar[1] = {-1}, rstd[1] = {-1};
    layer_t rn = {.spec = {.kind = LAYER_BATCHNORM, .variant = BN_RENORM, .eps = 0.25}, .rmean = rmean, .rvar = rvar,
                  .rstd = rstd};
    layer_set_inference_stats(&rn, 0, 0.5, 2.0);
    CHECK(rmean[0] == 0.5f && rstd[0] == 1.5f && rvar[0] == -1, "renorm: mean %g, sigma %g (want 1.5), var %g", rmean[0],
          rstd[0], rvar[0]);
    layer_t st = rn;
    st.spec.variant = BN_STANDARD;
    layer_set_inference_stats(&st, 0, 0.25, 3.0);
    CHECK(rmean[0] == 0.25f && rvar[0] == 3.0f && rstd[0] == 1.5f, "standard: mean %g, var %g", rmean[0], rvar[0]);
}

int main(void) {
    test_evaluate_set(1);
    test_evaluate_set(0);
    test_variant_blocks();
    return check_summary("evaluate");
}
