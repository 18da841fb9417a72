// The layer registry's facts (nn/registry.h): which kinds normalize, use batch statistics, have γ/β, are linear maps
// and saturate, as the agreed definitions say; the facts are consistent with the rest of each row (an affine kind has a
// "weight" that starts at 1, a saturating kind is a nonlinearity with sat_low < sat_high); and layer_tensor_grad
// returns each parameter's own gradient tensor (checked against the layer_t fields by name, so a descriptor pointing
// at the wrong field, or an accessor reading .field instead of .grad, fails) and NULL for state and work buffers.
#include <string.h>

#include "check.h"
#include "nn/model.h"
#include "nn/registry.h"

// The agreed meaning of the flags, spelled by kind name here (the test is the one place outside nn/ that may).
static void test_flags(void) {
    static const char *const norms[] = {"batchnorm", "layernorm", "rmsnorm"};
    for (int k = 0; k < LAYER_KIND_COUNT; k++) {
        const layer_kind_info_t *r = layer_kind(k);
        int is_norm = 0;
        for (size_t i = 0; i < sizeof norms / sizeof *norms; i++) is_norm |= !strcmp(r->name, norms[i]);
        CHECK(r->normalizes == is_norm, "%s: normalizes %d", r->name, r->normalizes);
        CHECK(r->uses_batch_statistics == !strcmp(r->name, "batchnorm"), "%s: uses_batch_statistics", r->name);
        CHECK(!r->uses_batch_statistics || r->counts_batches, "%s: batch statistics but no batch counter", r->name);
        CHECK(r->has_affine == is_norm, "%s: has_affine %d", r->name, r->has_affine);
        if (r->has_affine)
            CHECK(r->params && !strcmp(r->params[0].name, "weight") && r->params[0].fill == FILL_ONE,
                  "%s: affine but its first parameter is not a gamma starting at 1", r->name);
        CHECK(r->linear == !strcmp(r->name, "dense"), "%s: linear %d", r->name, r->linear);
        if (r->linear)
            CHECK(r->params && r->params[0].shape == SHAPE_OUT_IN && r->out_width, "%s: linear without W (out, in)",
                  r->name);
        CHECK(r->saturates == (!strcmp(r->name, "sigmoid") || !strcmp(r->name, "tanh")), "%s: saturates %d", r->name,
              r->saturates);
        if (r->saturates)
            CHECK(r->nonlinearity && r->sat_low < r->sat_high, "%s: saturates but [%g, %g]", r->name, r->sat_low,
                  r->sat_high);
    }
    // Per layer: a layer with default options has its kind's facts; batchnorm's ablation options take two away.
    for (int k = 0; k < LAYER_KIND_COUNT; k++) {
        const layer_kind_info_t *r = layer_kind(k);
        layer_spec_t d = {.kind = k};
        CHECK(layer_uses_batch_statistics(&d) == r->uses_batch_statistics && layer_has_affine(&d) == r->has_affine,
              "%s: a default layer's flags differ from its kind's", r->name);
        // Evaluation as a fixed affine map per feature (what bnlab fold folds): batchnorm, not the per-example norms.
        CHECK((r->eval_affine != NULL) == (strcmp(r->name, "batchnorm") == 0), "%s: eval_affine %s", r->name,
              r->eval_affine ? "set" : "unset");
    }
    layer_spec_t pop = {.kind = LAYER_BATCHNORM, .bn_stats = BN_STATS_POPULATION};
    layer_spec_t none = {.kind = LAYER_BATCHNORM, .bn_affine = BN_AFFINE_NONE};
    layer_spec_t frozen = {.kind = LAYER_BATCHNORM, .bn_affine = BN_AFFINE_FROZEN, .freeze_stats_after = 10};
    CHECK(!layer_uses_batch_statistics(&pop) && layer_has_affine(&pop), "statistics population: flags");
    CHECK(layer_uses_batch_statistics(&none) && !layer_has_affine(&none), "affine none: flags");
    CHECK(layer_uses_batch_statistics(&frozen) && layer_has_affine(&frozen),
          "affine frozen, statistics frozen after 10 (batch statistics until then): flags");
    // Per-feature scale invariance (run/unitlog.h's bn_after): BN dividing by the batch's std, and nothing else.
    layer_spec_t bn = {.kind = LAYER_BATCHNORM}, ghost = {.kind = LAYER_BATCHNORM, .variant = BN_GHOST},
                 renorm = {.kind = LAYER_BATCHNORM, .variant = BN_RENORM},
                 mean = {.kind = LAYER_BATCHNORM, .bn_normalize = BN_NORM_MEAN},
                 var = {.kind = LAYER_BATCHNORM, .bn_normalize = BN_NORM_VARIANCE}, ln = {.kind = LAYER_LAYERNORM},
                 dense = {.kind = LAYER_DENSE, .units = 3};
    CHECK(layer_scale_invariant_per_feature(&bn) && layer_scale_invariant_per_feature(&ghost) &&
              layer_scale_invariant_per_feature(&var) && layer_scale_invariant_per_feature(&none),
          "scale-invariant per feature: batchnorm, ghost, variance-only, affine none");
    CHECK(!layer_scale_invariant_per_feature(&renorm) && !layer_scale_invariant_per_feature(&mean) &&
              !layer_scale_invariant_per_feature(&pop) && !layer_scale_invariant_per_feature(&ln) &&
              !layer_scale_invariant_per_feature(&dense),
          "not scale-invariant per feature: renorm, mean-only, population statistics, layernorm, dense");
    const layer_kind_info_t *s = layer_kind(LAYER_SIGMOID);
    CHECK(s->sat_low == 0.02f && s->sat_high == 0.98f, "sigmoid thresholds %g %g (stats.h documents 0.02, 0.98)",
          s->sat_low, s->sat_high);
    const layer_kind_info_t *t = layer_kind(LAYER_TANH);
    CHECK(t->sat_low == -0.97f && t->sat_high == 0.97f, "tanh thresholds %g %g (|t| > 0.97)", t->sat_low, t->sat_high);
}

// Every parameter of a dense + batchnorm + layernorm + rmsnorm net: its gradient is the layer_t field of that name.
static float *named_grad(const layer_t *l, const char *name) {
    if (l->spec.kind == LAYER_DENSE) return !strcmp(name, "weight") ? l->dW : l->db;
    return !strcmp(name, "weight") ? l->dgamma : l->dbeta;
}

static void test_grad_accessor(void) {
    layer_spec_t specs[] = {
        {.kind = LAYER_DENSE, .units = 5, .bias = 1, .init = {INIT_NORMAL, 0.1, 0}},
        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
        {.kind = LAYER_LAYERNORM, .eps = 1e-5},
        {.kind = LAYER_RMSNORM, .eps = 1e-5},
        {.kind = LAYER_SIGMOID},
        {.kind = LAYER_DENSE, .units = 3, .bias = 1, .init = {INIT_NORMAL, 0.1, 0}},
    };
    model_t m;
    int n = (int)(sizeof specs / sizeof *specs), checked = 0;
    CHECK(model_build(&m, specs, n, 4, 3, 8) == 0, "model_build");
    for (int i = 0; i < n; i++) {
        const layer_t *l = &m.layers[i];
        const layer_kind_info_t *r = layer_kind(l->spec.kind);
        for (const tensor_desc_t *d = r->params; d && d->name; d++, checked++) {
            float *g = layer_tensor_grad(l, d), *want = named_grad(l, d->name);
            CHECK(g && g == want && g != layer_tensor(l, d), "layer %d %s.%s: gradient %p, want %p", i, r->name,
                  d->name, (void *)g, (void *)want);
        }
        for (const tensor_desc_t *d = r->state; d && d->name; d++)
            CHECK(layer_tensor_grad(l, d) == NULL, "layer %d state %s has a gradient", i, d->name);
        for (const tensor_desc_t *d = r->buffers; d && d->name; d++)
            CHECK(layer_tensor_grad(l, d) == NULL, "layer %d buffer %s has a gradient", i, d->name);
    }
    CHECK(checked == 9, "%d parameter tensors checked, want 9 (W b, gamma beta, gamma beta, gamma, W b)", checked);
    model_free(&m);
}

int main(void) {
    test_flags();
    test_grad_accessor();
    return check_summary("registry");
}
