// bnlab fold (run/fold.h): the folded network's logits equal the unfolded network's in evaluation mode to float
// rounding, for BN in every variant and ablation option, dense layers with and without bias and a sparse-input
// (transposed) weight. "Float rounding" is measured, not assumed: both float32 networks are compared with the
// unfolded network evaluated in float64 (BN from its formula, written out here), and the folded one must be within
// 10 times the unfolded one's own distance to float64, or 64 float32 ulps of the largest logit. Negative controls:
// the same check fails when the fold leaves out the dense bias, or eps. And the refusals: layernorm/rmsnorm, BN not
// directly after a dense layer, nothing to fold.
#include <stdlib.h>

#include "base/rng.h"
#include "base/util.h"
#include "check.h"
#include "nn/model.h"
#include "nn/registry.h"
#include "run/fold.h"

enum { B = 24, D = 9, C = 3 };
static rng_t R;
static float X[B * D];

static config_t *config_of(const layer_spec_t *s, int n) {
    config_t *c = calloc(1, sizeof *c);
    for (int i = 0; i < n; i++) c->model.layers[i] = s[i];
    c->model.n_layers = n;
    return c;
}

static void randomize(model_t *m) {
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        for (int j = 0; j < l->out; j++) {
            if (l->b) l->b[j] = (float)(0.5 * rng_normal(&R));
            if (l->gamma) l->gamma[j] = (float)(0.5 + rng_uniform(&R)), l->beta[j] = (float)(0.5 * rng_normal(&R));
            if (l->rmean) l->rmean[j] = (float)(0.5 * rng_normal(&R));
            // A state tensor a layer lacks still has a pointer (to nothing): ask the variant.
            if (l->rmean && l->spec.variant != BN_RENORM) l->rvar[j] = (float)(0.05 + 2 * rng_uniform(&R));
            if (l->rmean && l->spec.variant == BN_RENORM) l->rstd[j] = (float)(0.3 + rng_uniform(&R));
        }
        l->batches = 10;
    }
}

// The unfolded network in float64, evaluation mode: every BN from the formula of its variant and options.
static void forward64(double *z, const model_t *m, const float *x) {
    int w = 0;
    for (int i = 0; i < m->n_layers; i++) w = m->layers[i].out > w ? m->layers[i].out : w;
    double *a = malloc(sizeof(double) * B * (w > D ? w : D)), *b = malloc(sizeof(double) * B * (w > D ? w : D));
    for (int k = 0; k < B * D; k++) a[k] = x[k];
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        const layer_spec_t *s = &l->spec;
        for (int r = 0; r < B; r++)
            for (int j = 0; j < l->out; j++) {
                double v, in = a[r * l->in + (j < l->in ? j : 0)];
                switch (s->kind) {
                case LAYER_DENSE:
                    v = l->b ? l->b[j] : 0.0;
                    for (int c = 0; c < l->in; c++)
                        v += (double)(s->sparse_input ? l->W[c * l->out + j] : l->W[j * l->in + c]) * a[r * l->in + c];
                    break;
                case LAYER_BATCHNORM: {
                    double g = l->gamma ? l->gamma[j] : 1.0, be = l->gamma ? l->beta[j] : 0.0;
                    if (s->variant == BN_RENORM) {
                        v = g * (in - l->rmean[j]) / l->rstd[j] + be;
                        break;
                    }
                    double mu = s->bn_normalize == BN_NORM_VARIANCE ? 0.0 : l->rmean[j];
                    double sd = s->bn_normalize == BN_NORM_MEAN ? 1.0 : sqrt((double)l->rvar[j] + s->eps);
                    v = g * (in - mu) / sd + be;
                    break;
                }
                case LAYER_SIGMOID: v = 1.0 / (1.0 + exp(-in)); break;
                case LAYER_RELU: v = in > 0 ? in : 0; break;
                case LAYER_TANH: v = tanh(in); break;
                default: v = in; break;  // dropout, noise: the identity in evaluation
                }
                b[r * l->out + j] = v;
            }
        double *t = a;
        a = b, b = t;
    }
    memcpy(z, a, sizeof(double) * B * C);
    free(a), free(b);
}

static double max_diff(const float *z, const double *ref, double *scale) {
    double d = 0, s = 0;
    for (int k = 0; k < B * C; k++) d = fmax(d, fabs(z[k] - ref[k])), s = fmax(s, fabs(ref[k]));
    *scale = s;
    return d;
}

// Folds m and checks the folded logits; returns 1 if they agree (the check), 0 if not.
static int folded_agrees(const model_t *m, const config_t *cfg, const char *name, int verbose) {
    model_t f;
    config_t *fc = calloc(1, sizeof *fc);
    int n = 0;
    CHECK(fold_model(&f, fc, &n, m, cfg) == 0, "%s: fold_model: %s", name, bnlab_errmsg());
    double z64[B * C], scale;
    model_t *um = (model_t *)m;
    forward64(z64, m, X);
    double du = max_diff(model_forward(um, X, B, MODE_EVAL, NULL), z64, &scale);
    double df = max_diff(model_forward(&f, X, B, MODE_EVAL, NULL), z64, &scale);
    double allowed = fmax(10 * du, 64 * 5.96e-8 * scale);
    int normalizing = 0;
    for (int i = 0; i < f.n_layers; i++) normalizing += layer_kind(f.layers[i].spec.kind)->normalizes;
    if (verbose)
        printf("%s: %d BN folded, %d -> %d layers; logits vs float64: unfolded %.2e, folded %.2e (allowed %.2e)\n", name,
               n, m->n_layers, f.n_layers, du, df, allowed);
    int ok = df <= allowed && normalizing == 0 && f.n_layers + n == m->n_layers;
    model_free(&f);
    free(fc);
    return ok;
}

static void test_net(const layer_spec_t *s, int n, const char *name) {
    model_t m;
    config_t *cfg = config_of(s, n);
    CHECK(model_build(&m, s, n, D, C, B) == 0, "%s: model_build: %s", name, bnlab_errmsg());
    model_init(&m, 3);
    randomize(&m);
    CHECK(folded_agrees(&m, cfg, name, 1), "%s: the folded network's logits differ beyond float rounding", name);
    // Negative controls: the dense biases left out of the fold (zeroed in the source: the float64 reference keeps
    // them), and eps left out (each BN's spec.eps set to 0 for the fold only).
    float *keep = malloc(sizeof(float) * m.n_params);
    memcpy(keep, m.params, sizeof(float) * m.n_params);
    model_t *mm = &m;
    double z64[B * C], sc;
    forward64(z64, mm, X);
    for (int i = 0; i < n; i++)
        if (m.layers[i].b) memset(m.layers[i].b, 0, sizeof(float) * m.layers[i].out);
    model_t f;
    config_t *fc = calloc(1, sizeof *fc);
    int nf;
    fold_model(&f, fc, &nf, &m, cfg);
    double d = max_diff(model_forward(&f, X, B, MODE_EVAL, NULL), z64, &sc);
    CHECK(d > 64 * 5.96e-8 * sc * 100, "%s: leaving out the dense bias changed the logits by only %.2e", name, d);
    model_free(&f);
    memcpy(m.params, keep, sizeof(float) * m.n_params);
    double eps[64];
    for (int i = 0; i < n; i++) eps[i] = m.layers[i].spec.eps, m.layers[i].spec.eps = 0.0;
    fold_model(&f, fc, &nf, &m, cfg);
    for (int i = 0; i < n; i++) m.layers[i].spec.eps = eps[i];
    model_t *fp = &f;
    double du = max_diff(model_forward(&m, X, B, MODE_EVAL, NULL), z64, &sc);
    d = max_diff(model_forward(fp, X, B, MODE_EVAL, NULL), z64, &sc);
    CHECK(d > fmax(10 * du, 64 * 5.96e-8 * sc), "%s: the check accepted a fold without eps (%.2e)", name, d);
    model_free(&f);
    free(fc), free(keep), free(cfg);
    model_free(&m);
}

// eps 1e-3 on the BN layers (1e-5 elsewhere): with variances of 0.05..2, leaving it out moves a logit far beyond
// rounding, so the eps control can fail.
static const layer_spec_t NET_LADDER[] = {
    {.kind = LAYER_DENSE, .units = 8, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 7, .bias = 0, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1, .bn_normalize = BN_NORM_MEAN, .bn_affine = BN_AFFINE_NONE},
    {.kind = LAYER_RELU},
    {.kind = LAYER_DENSE, .units = 7, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1, .bn_normalize = BN_NORM_VARIANCE, .bn_affine = BN_AFFINE_FROZEN},
    {.kind = LAYER_TANH},
    {.kind = LAYER_DENSE, .units = 6, .bias = 0, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1, .bn_stats = BN_STATS_POPULATION, .freeze_stats_after = 4},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
};
static const layer_spec_t NET_VARIANTS[] = {
    {.kind = LAYER_DENSE, .units = 8, .bias = 0, .sparse_input = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1, .variant = BN_RENORM, .r_max = 3, .d_max = 5},
    {.kind = LAYER_SIGMOID},
    {.kind = LAYER_DENSE, .units = 7, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1, .variant = BN_GHOST, .ghost_batch = 4},
    {.kind = LAYER_DROPOUT, .rate = 0.3},
    {.kind = LAYER_RELU},
    {.kind = LAYER_DENSE, .units = 6, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
    {.kind = LAYER_BATCHNORM, .eps = 1e-3, .momentum = 0.1, .variant = BN_CONSTANT_STATS},
    {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
};

// The folded config: BN layers gone, the dense layer before each with a bias, log.landscape's dense-layer indices
// following their layers (model.layers[6] of the ladder network is [4] once two BN layers before it are folded).
static void test_folded_config(void) {
    int n = (int)(sizeof NET_LADDER / sizeof *NET_LADDER), nf;
    config_t *cfg = config_of(NET_LADDER, n), *fc = calloc(1, sizeof *fc);
    cfg->log.landscape.n_layers = 3;
    cfg->log.landscape.layers[0] = 0, cfg->log.landscape.layers[1] = 6, cfg->log.landscape.layers[2] = 12;
    model_t m, f;
    CHECK(model_build(&m, NET_LADDER, n, D, C, B) == 0, "build");
    CHECK(fold_model(&f, fc, &nf, &m, cfg) == 0, "fold: %s", bnlab_errmsg());
    int dense_biased = 1;
    for (int i = 0; i < fc->model.n_layers; i++)
        if (layer_kind(fc->model.layers[i].kind)->linear) dense_biased &= fc->model.layers[i].bias;
    CHECK(fc->model.n_layers == 9 && dense_biased, "folded config: %d layers, every dense biased %d",
          fc->model.n_layers, dense_biased);
    CHECK(fc->log.landscape.layers[0] == 0 && fc->log.landscape.layers[1] == 4 && fc->log.landscape.layers[2] == 8,
          "log.landscape layers %d %d %d, want 0 4 8", fc->log.landscape.layers[0], fc->log.landscape.layers[1],
          fc->log.landscape.layers[2]);
    model_free(&m), model_free(&f);
    free(cfg), free(fc);
}

static void test_refusals(void) {
    const layer_spec_t ln[] = {{.kind = LAYER_DENSE, .units = 5, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
                               {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                               {.kind = LAYER_DENSE, .units = 5, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
                               {.kind = LAYER_LAYERNORM, .eps = 1e-5},
                               {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    const layer_spec_t first[] = {{.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                                  {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    const layer_spec_t after[] = {{.kind = LAYER_DENSE, .units = 5, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
                                  {.kind = LAYER_RELU},
                                  {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                                  {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    const layer_spec_t none[] = {{.kind = LAYER_DENSE, .units = 5, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}},
                                 {.kind = LAYER_SIGMOID},
                                 {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}}};
    struct { const layer_spec_t *s; int n; const char *msg; } cases[] = {
        {ln, 5, "model.layers[3] (layernorm): normalizes each example by its own statistics"},
        {first, 2, "model.layers[0] (batchnorm): not directly after a dense layer (it is the first layer, on the input)"},
        {after, 4, "model.layers[2] (batchnorm): not directly after a dense layer (relu)"},
        {none, 3, "the model has no batchnorm layer: nothing to fold"}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        model_t m, f;
        config_t *cfg = config_of(cases[k].s, cases[k].n), *fc = calloc(1, sizeof *fc);
        int n;
        CHECK(model_build(&m, cases[k].s, cases[k].n, D, C, B) == 0, "refusal case %zu: build", k);
        CHECK(fold_model(&f, fc, &n, &m, cfg) != 0, "refusal case %zu folded", k);
        CHECK_MSG(bnlab_errmsg(), cases[k].msg);
        model_free(&m);
        free(cfg), free(fc);
    }
}

int main(void) {
    rng_seed(&R, 77, 0);
    for (int k = 0; k < B * D; k++) X[k] = rng_uniform(&R) < 0.4 ? 0.0f : (float)(2 * rng_uniform(&R));
    test_net(NET_LADDER, (int)(sizeof NET_LADDER / sizeof *NET_LADDER), "ladder network");
    test_net(NET_VARIANTS, (int)(sizeof NET_VARIANTS / sizeof *NET_VARIANTS), "variants network");
    test_folded_config();
    test_refusals();
    return check_summary("fold");
}
