#include "nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/layers.h"
#include "base/util.h"

#define MODEL_MAX_UNITS 65536
#define MODEL_MAX_FLOATS ((size_t)1 << 31)  // 8 GiB of floats: far beyond an MLP on this machine

static void set_ptr(layer_t *l, size_t field, void *p) { memcpy((char *)l + field, &p, sizeof p); }

// Element counts of everything a model needs, summed over its layers (pass 1 of model_build).
typedef struct {
    size_t decay, rest, state, act, idx;
} model_sizes_t;

static void add_layer_sizes(model_sizes_t *z, const layer_t *l, int max_batch) {
    const layer_kind_info_t *k = layer_kind(l->spec.kind);
    for (const tensor_desc_t *d = k->params; d && d->name; d++)
        *(d->decay ? &z->decay : &z->rest) += layer_tensor_size(l, d, max_batch);
    for (const tensor_desc_t *d = k->state; d && d->name; d++) z->state += layer_tensor_size(l, d, max_batch);
    for (const tensor_desc_t *d = k->buffers; d && d->name; d++) z->act += layer_tensor_size(l, d, max_batch);
    if (k->work_floats) z->act += k->work_floats(&l->spec, max_batch, l->in);
    if (k->work_ints) z->idx += k->work_ints(&l->spec, max_batch, l->in);
    z->act += 2 * (size_t)max_batch * (size_t)l->out;  // y, dy
}

// Pass 2: every tensor a slice of its block, in layer order (weights with decay first in the parameter block).
typedef struct {
    size_t w, r, s, a, i;
} carve_pos_t;

#define CARVE(base, off, n) ((base) + (((off) += (n)) - (n)))

static void carve_layer(model_t *m, layer_t *l, carve_pos_t *p) {
    const layer_kind_info_t *k = layer_kind(l->spec.kind);
    int mb = m->max_batch;
    for (const tensor_desc_t *d = k->params; d && d->name; d++) {
        size_t n = layer_tensor_size(l, d, mb);
        if (!n) continue;
        size_t *off = d->decay ? &p->w : &p->r;
        set_ptr(l, d->grad, m->grads + *off);
        set_ptr(l, d->field, CARVE(m->params, *off, n));
    }
    for (const tensor_desc_t *d = k->state; d && d->name; d++)
        set_ptr(l, d->field, CARVE(m->state, p->s, layer_tensor_size(l, d, mb)));
    for (const tensor_desc_t *d = k->buffers; d && d->name; d++)
        set_ptr(l, d->field, CARVE(m->arena, p->a, layer_tensor_size(l, d, mb)));
    size_t wi = k->work_ints ? k->work_ints(&l->spec, mb, l->in) : 0;
    size_t wf = k->work_floats ? k->work_floats(&l->spec, mb, l->in) : 0;
    if (wi || wf) k->carve_work(l, CARVE(m->iarena, p->i, wi), CARVE(m->arena, p->a, wf), mb);
    size_t BF = (size_t)mb * (size_t)l->out;
    l->y = CARVE(m->arena, p->a, BF);
    l->dy = CARVE(m->arena, p->a, BF);
}

// Pass 1: every layer's shape and the sizes of all blocks. -1 + message on a bad architecture (L is left filled).
static int plan_layers(layer_t *L, model_sizes_t *z, const layer_spec_t *specs, int n_layers, int in_dim,
                       int max_batch) {
    memset(z, 0, sizeof *z);
    int width = in_dim;
    for (int i = 0; i < n_layers; i++) {
        const layer_kind_info_t *k = layer_kind(specs[i].kind);
        L[i].spec = specs[i];
        L[i].in = width;
        L[i].out = k->out_width ? k->out_width(&specs[i], width) : width;
        if (L[i].out < 1 || L[i].out > MODEL_MAX_UNITS)
            return bnlab_fail("model.layers[%d] (%s): expected 1..%d outputs, got %d", i, k->name, MODEL_MAX_UNITS,
                              L[i].out);
        width = L[i].out;
        add_layer_sizes(z, &L[i], max_batch);
    }
    return 0;
}

int model_plan(model_plan_t *p, const layer_spec_t *specs, int n_layers, int in_dim, int max_batch) {
    if (n_layers < 1 || max_batch < 1) return bnlab_fail("model: expected at least one layer and a positive batch");
    layer_t *L = xcalloc((size_t)n_layers, sizeof(layer_t), "layers");
    model_sizes_t z;
    int rc = plan_layers(L, &z, specs, n_layers, in_dim, max_batch);
    int widest = in_dim;
    for (int i = 0; i < n_layers && !rc; i++) widest = L[i].out > widest ? L[i].out : widest;
    free(L);
    if (rc) return -1;
    p->n_params = z.decay + z.rest;
    p->widest = widest;
    // parameters and gradients, state, activations, indices, accumulators (the probs are in z.act's terms below)
    p->bytes = (double)p->n_params * 2 * sizeof(float) + (double)z.state * sizeof(float) +
               (double)z.act * sizeof(float) + (double)z.idx * sizeof(int32_t) + 2.0 * widest * sizeof(double);
    return 0;
}

int model_build(model_t *m, const layer_spec_t *specs, int n_layers, int in_dim, int classes, int max_batch) {
    memset(m, 0, sizeof *m);
    if (n_layers < 1) return bnlab_fail("model.layers: expected at least one layer");
    if (max_batch < 1) return bnlab_fail("model: batch size must be positive");
    if (gemm_select_default() != 0) return -1;
    layer_t *L = xcalloc((size_t)n_layers, sizeof(layer_t), "layers");
    model_sizes_t z;
    if (plan_layers(L, &z, specs, n_layers, in_dim, max_batch) != 0) {
        free(L);
        return -1;
    }
    int width = L[n_layers - 1].out;
    if (width != classes) {
        free(L);
        return bnlab_fail("model.layers[%d]: the last layer has %d outputs, but the data has %d classes "
                       "(the softmax head needs one logit per class)",
                       n_layers - 1, width, classes);
    }
    z.act += (size_t)max_batch * classes;  // probs
    size_t n_params = z.decay + z.rest;
    if (n_params > MODEL_MAX_FLOATS || z.act > MODEL_MAX_FLOATS || z.idx > MODEL_MAX_FLOATS) {
        free(L);
        return bnlab_fail("model: %zu parameters, %zu activation values and %zu sparse-input indices exceed the limit "
                          "of %zu each", n_params, z.act, z.idx, MODEL_MAX_FLOATS);
    }
    m->n_layers = n_layers;
    m->layers = L;
    m->in_dim = in_dim;
    m->classes = classes;
    m->max_batch = max_batch;
    m->n_params = n_params;
    m->n_decay = z.decay;
    m->n_state = z.state;
    m->params = xcalloc(m->n_params, sizeof(float), "parameters");
    m->grads = xcalloc(m->n_params, sizeof(float), "gradients");
    m->state = xcalloc(z.state, sizeof(float), "layer state");
    m->arena = xcalloc(z.act, sizeof(float), "activations");
    m->iarena = z.idx ? xcalloc(z.idx, sizeof(int32_t), "sparse input indices") : NULL;
    int widest = in_dim;
    for (int i = 0; i < n_layers; i++) widest = L[i].out > widest ? L[i].out : widest;
    m->scratch = xcalloc(2 * (size_t)widest, sizeof(double), "accumulators");
    carve_pos_t pos = {.r = z.decay};
    for (int i = 0; i < n_layers; i++) carve_layer(m, &L[i], &pos);
    m->probs = CARVE(m->arena, pos.a, (size_t)max_batch * classes);
    size_t weights = 0;  // room to hold every weight matrix transposed through a pass over many batches (gemm.h)
    for (int i = 0; i < n_layers; i++)
        if (L[i].spec.kind == LAYER_DENSE && !L[i].spec.sparse_input) weights += (size_t)L[i].in * (size_t)L[i].out;
    if (gemm_backend() == GEMM_LIBXSMM) gemm_reserve_held(weights);
    model_prepare_gemm(m, max_batch);
    return 0;
}

void model_prepare_gemm(const model_t *m, int B) {
    if (B < 1 || B > m->max_batch) return;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_kind_info_t *k = layer_kind(m->layers[i].spec.kind);
        if (k->prepare_gemm) k->prepare_gemm(&m->layers[i], B, i > 0);
    }
}
#undef CARVE

void model_free(model_t *m) {
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->state);
    free(m->arena);
    free(m->iarena);
    free(m->scratch);
    memset(m, 0, sizeof *m);
}

// to_file: (in, out) -> (out, in) for tensors stored transposed (sparse-input weights); from_file the reverse; a
// plain copy elsewhere.
static void params_convert(const model_t *m, float *dst, const float *src, int to_file) {
    memcpy(dst, src, sizeof(float) * m->n_params);
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *t[LAYER_MAX_PARAMS];
        size_t n[LAYER_MAX_PARAMS];
        const tensor_desc_t *d[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(l, t, n, d); k < nt; k++) {
            if (!d[k]->transposed || !d[k]->transposed(&l->spec)) continue;
            size_t off = (size_t)(t[k] - m->params), in = (size_t)l->in, out = (size_t)l->out;
            for (size_t o = 0; o < out; o++)
                for (size_t j = 0; j < in; j++) {
                    size_t file = o * in + j, mem = j * out + o;
                    dst[off + (to_file ? file : mem)] = src[off + (to_file ? mem : file)];
                }
        }
    }
}

void model_params_to_file(const model_t *m, float *dst, const float *src) { params_convert(m, dst, src, 1); }
void model_params_from_file(const model_t *m, float *dst, const float *src) { params_convert(m, dst, src, 0); }

// Draws in (out, in) order whatever the storage, so the option sparse_input does not change the initial weights.
static void init_dense(float *W, int in, int out, int transposed, const init_spec_t *s, rng_t *r) {
    size_t n = (size_t)in * out;
    double std = 0.0, a = 0.0;
    int normal = 0;
    switch (s->kind) {
    case INIT_NORMAL: normal = 1, std = s->std; break;
    case INIT_UNIFORM: a = s->a; break;
    case INIT_XAVIER_UNIFORM: a = sqrt(6.0 / (in + out)); break;
    case INIT_XAVIER_NORMAL: normal = 1, std = sqrt(2.0 / (in + out)); break;
    case INIT_HE_NORMAL: normal = 1, std = sqrt(2.0 / in); break;
    case INIT_HE_UNIFORM: a = sqrt(6.0 / in); break;
    }
    for (size_t k = 0; k < n; k++) {
        float w = (float)(normal ? std * rng_normal(r) : a * (2.0 * rng_uniform(r) - 1.0));
        W[transposed ? (k % (size_t)in) * out + k / (size_t)in : k] = w;
    }
}

static void fill_tensor(layer_t *l, const tensor_desc_t *d, rng_t *r) {
    float *t = layer_tensor(l, d);
    size_t n = layer_tensor_size(l, d, 0);
    if (!n) return;
    if (d->fill == FILL_DENSE_INIT) {
        init_dense(t, l->in, l->out, d->transposed && d->transposed(&l->spec), &l->spec.init, r);
        return;
    }
    for (size_t j = 0; j < n; j++) t[j] = d->fill == FILL_ONE ? 1.0f : 0.0f;
}

void model_init(model_t *m, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed, RNG_STREAM_INIT);
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        const layer_kind_info_t *k = layer_kind(l->spec.kind);
        for (const tensor_desc_t *d = k->params; d && d->name; d++) fill_tensor(l, d, &r);
        for (const tensor_desc_t *d = k->state; d && d->name; d++) fill_tensor(l, d, &r);
        l->batches = 0;
    }
}

// The variance of a layer's B x out outputs about their mean (double sums).
static double output_variance(const layer_t *l, int B) {
    size_t n = (size_t)B * (size_t)l->out;
    double s = 0.0, q = 0.0;
    for (size_t k = 0; k < n; k++) s += l->y[k];
    const double mu = s / (double)n;
    for (size_t k = 0; k < n; k++) q += ((double)l->y[k] - mu) * ((double)l->y[k] - mu);
    return q / (double)n;
}

int model_lsuv(model_t *m, const float *x, int B, double tol, int max_iter) {
    int passes = 0;
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        if (!layer_kind(l->spec.kind)->linear) continue;
        for (int it = 0; it < max_iter; it++) {
            model_forward(m, x, B, MODE_EVAL_BATCH, NULL);
            passes++;
            double v = output_variance(l, B);
            if (!(v > 0.0) || fabs(v - 1.0) < tol) break;  // a constant output cannot be scaled to variance 1
            const float s = (float)(1.0 / sqrt(v));
            for (size_t k = 0; k < (size_t)l->out * (size_t)l->in; k++) l->W[k] *= s;
        }
    }
    return passes;
}

// A layer whose registry row fuses it with the sigmoid after it (BN, a biased dense layer) runs both in one pass,
// forward and backward; every value is the same as with separate passes.
static int fuses_with(const layer_t *l, const layer_t *next) {
    const layer_kind_info_t *k = layer_kind(l->spec.kind);
    return next->spec.kind == LAYER_SIGMOID && k->fuses_sigmoid && k->fuses_sigmoid(l);
}

const float *model_forward(model_t *m, const float *x, int B, forward_mode_t mode, train_rng_t *r) {
    const layer_ctx_t c = {.mode = mode, .rng = r, .scratch = m->scratch};
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        const layer_kind_info_t *k = layer_kind(l->spec.kind);
        if (i + 1 < m->n_layers && fuses_with(l, &m->layers[i + 1])) {
            k->forward_sigmoid(l, &m->layers[i + 1], in, B, &c);
            in = m->layers[++i].y;
            continue;
        }
        k->forward(l, in, B, &c);
        in = l->y;
    }
    return in;
}

int model_per_example(const model_t *m, forward_mode_t mode, int B) {
    for (int i = 0; i < m->n_layers; i++)
        if (!layer_per_example(&m->layers[i].spec, mode) || !layer_rows_independent(&m->layers[i], B)) return 0;
    return 1;
}

double model_loss_backward_head(model_t *m, const int32_t *labels, int B, int *correct) {
    layer_t *last = &m->layers[m->n_layers - 1];
    double loss = softmax_xent_forward(m->probs, last->y, labels, B, m->classes, correct);
    softmax_xent_backward(last->dy, m->probs, labels, B, m->classes);
    return loss;
}

void model_backward(model_t *m, const float *x, int B) {
    const layer_ctx_t c = {.mode = MODE_TRAIN, .scratch = m->scratch};
    for (int i = m->n_layers - 1; i >= 0; i--) {
        layer_t *l = &m->layers[i];
        // A sigmoid whose layer below ran it in its own pass: the backward of both in one pass (mirror of forward).
        if (i > 0 && fuses_with(&m->layers[i - 1], l)) {
            layer_t *below = &m->layers[i - 1];
            float *dx = i > 1 ? m->layers[i - 2].dy : NULL;  // no gradient for the data
            const float *in = i > 1 ? m->layers[i - 2].y : x;
            layer_kind(below->spec.kind)->backward_sigmoid(below, l, dx, in, B, &c);
            i--;
            continue;
        }
        float *dx = i > 0 ? m->layers[i - 1].dy : NULL;
        const float *in = i > 0 ? m->layers[i - 1].y : x;
        layer_kind(l->spec.kind)->backward(l, dx, in, B, &c);
    }
}
