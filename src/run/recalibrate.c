#include "run/recalibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "base/util.h"
#include "nn/bnvariants.h"
#include "nn/registry.h"

// Per BN layer: the sums of mu_B and sigma_B^2 (biased) over the batches, in double, and how many were added.
typedef struct {
    double *mu, *var;  // (n_layers, widest)
    long *count;       // (n_layers)
    int *m;            // (n_layers) the mini-batch size each layer normalized over
} sums_t;

// The layers Algorithm 2 re-estimates: those that train on the batch's statistics (a BN layer with population
// statistics, or frozen ones, is evaluated with the statistics it trains on).
static int is_bn(const layer_t *l) { return layer_trains_on_batch_statistics(l); }

static void add_layer_stats(sums_t *s, int i, size_t w, const layer_t *l, int B) {
    int k;
    const int blocks = layer_norm_blocks(l, B, &k);  // the variant's mini-batches (nn/bnvariants.h)
    for (int g = 0; g < blocks; g++) {
        const float *mu, *var;
        layer_block_stats(l, g, &mu, &var);
        for (int j = 0; j < l->out; j++) s->mu[i * w + j] += mu[j], s->var[i * w + j] += var[j];
        s->count[i]++;
    }
    s->m[i] = k;
}

static void set_running(layer_t *l, const double *mu, const double *var, long count, int m) {
    for (int j = 0; j < l->out; j++)
        layer_set_inference_stats(l, j, mu[j] / count, (double)m / (m - 1) * (var[j] / count));
}

int recalibrate_bn(model_t *m, const preprocess_t *pp, const dataset_t *ds, int n_batches, int batch, uint64_t seed,
                   float *x, int32_t *y) {
    if (batch < 2 || batch > m->max_batch) return bnlab_fail("recalibrate: batch of %d examples (2..%d)", batch,
                                                            m->max_batch);
    int n_bn = 0;
    for (int i = 0; i < m->n_layers; i++) n_bn += is_bn(&m->layers[i]);
    if (n_bn == 0)
        return bnlab_fail("Algorithm 2: the model has no batchnorm layer that trains on the batch's statistics (one "
                          "with population or frozen statistics is evaluated with them as they are): no statistics "
                          "to average");
    if (n_batches < 1)
        return bnlab_fail("Algorithm 2: %u training examples make no full batch of %d: nothing to average", ds->n,
                          batch);
    if ((uint64_t)n_batches * (uint64_t)batch > ds->n)
        return bnlab_fail("recalibrate: %d batches of %d examples need %lld training examples, the data has %u",
                          n_batches, batch, (long long)n_batches * batch, ds->n);
    size_t w = 0;
    for (int i = 0; i < m->n_layers; i++) w = (size_t)m->layers[i].out > w ? (size_t)m->layers[i].out : w;
    sums_t s = {xcalloc((size_t)m->n_layers * w, sizeof(double), "mean sums"),
                xcalloc((size_t)m->n_layers * w, sizeof(double), "variance sums"),
                xcalloc((size_t)m->n_layers, sizeof(long), "counts"), xcalloc((size_t)m->n_layers, sizeof(int), "m")};
    uint32_t *order = xmalloc(sizeof(uint32_t) * ds->n, "example order");
    for (uint32_t i = 0; i < ds->n; i++) order[i] = i;
    rng_t r;
    rng_seed(&r, seed, RNG_STREAM_RECALIBRATE);
    rng_shuffle(&r, order, ds->n);
    for (int b = 0; b < n_batches; b++) {
        dataset_gather(ds, pp, order + (size_t)b * batch, batch, x, y);
        model_forward(m, x, batch, MODE_EVAL_BATCH, NULL);
        for (int i = 0; i < m->n_layers; i++)
            if (is_bn(&m->layers[i])) add_layer_stats(&s, i, w, &m->layers[i], batch);
    }
    int rc = 0;
    for (int i = 0; i < m->n_layers && rc == 0; i++)  // a layer with nothing averaged: refused, nothing replaced
        if (is_bn(&m->layers[i]) && s.count[i] == 0)
            rc = bnlab_fail("Algorithm 2: model.layers[%d] (ghost_batch %d) formed no block of %d examples in "
                            "batches of %d: nothing to average", i, m->layers[i].spec.ghost_batch,
                            m->layers[i].spec.ghost_batch, batch);
    for (int i = 0; i < m->n_layers && rc == 0; i++)
        if (is_bn(&m->layers[i])) set_running(&m->layers[i], s.mu + i * w, s.var + i * w, s.count[i], s.m[i]);
    free(order);
    free(s.mu), free(s.var), free(s.count), free(s.m);
    return rc;
}
