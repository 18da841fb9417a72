#include "nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/batchnorm.h"
#include "nn/layers.h"
#include "base/util.h"

#define MODEL_MAX_UNITS 65536
#define MODEL_MAX_FLOATS ((size_t)1 << 31)  // 8 GiB of floats: far beyond an MLP on this machine

const char *layer_kind_name(layer_kind_t k) {
    switch (k) {
    case LAYER_DENSE: return "dense";
    case LAYER_BATCHNORM: return "batchnorm";
    case LAYER_SIGMOID: return "sigmoid";
    case LAYER_RELU: return "relu";
    case LAYER_TANH: return "tanh";
    case LAYER_DROPOUT: return "dropout";
    case LAYER_NOISE: return "noise";
    }
    return "?";
}

int model_build(model_t *m, const layer_spec_t *specs, int n_layers, int in_dim, int classes, int max_batch) {
    memset(m, 0, sizeof *m);
    if (n_layers < 1) return bnlab_fail("model.layers: expected at least one layer");
    if (max_batch < 1) return bnlab_fail("model: batch size must be positive");
    layer_t *L = xcalloc((size_t)n_layers, sizeof(layer_t), "layers");
    // Pass 1: shapes and sizes.
    size_t n_w = 0, n_rest = 0, n_state = 0, n_act = 0, n_idx = 0;
    int width = in_dim;
    for (int i = 0; i < n_layers; i++) {
        L[i].spec = specs[i];
        L[i].in = width;
        if (specs[i].kind == LAYER_DENSE) {
            if (specs[i].units < 1 || specs[i].units > MODEL_MAX_UNITS) {
                free(L);
                return bnlab_fail("model.layers[%d].units: expected 1..%d, got %d", i, MODEL_MAX_UNITS,
                               specs[i].units);
            }
            width = specs[i].units;
            n_w += (size_t)L[i].in * width;
            if (specs[i].bias) n_rest += (size_t)width;
            if (specs[i].sparse_input) {
                n_act += sparse_batch_floats(max_batch, L[i].in);
                n_idx += sparse_batch_ints(max_batch, L[i].in);
            }
        } else if (specs[i].kind == LAYER_BATCHNORM) {
            n_rest += 2 * (size_t)width;
            n_state += 2 * (size_t)width;
            n_act += (size_t)max_batch * width + 3 * (size_t)width;  // xhat, mean/var/invstd
        } else if (specs[i].kind == LAYER_DROPOUT) {
            n_act += (size_t)max_batch * width;  // mask
        } else if (specs[i].kind == LAYER_NOISE) {
            n_act += 2 * (size_t)width;  // s, m
        }
        L[i].out = width;
        n_act += 2 * (size_t)max_batch * width;  // y, dy
    }
    if (width != classes) {
        free(L);
        return bnlab_fail("model.layers[%d]: the last layer has %d outputs, but the data has %d classes "
                       "(the softmax head needs one logit per class)",
                       n_layers - 1, width, classes);
    }
    n_act += (size_t)max_batch * classes;  // probs
    if (n_w + n_rest > MODEL_MAX_FLOATS || n_act > MODEL_MAX_FLOATS || n_idx > MODEL_MAX_FLOATS) {
        free(L);
        return bnlab_fail("model: %zu parameters, %zu activation values and %zu sparse-input indices exceed the limit of "
                       "%zu each", n_w + n_rest, n_act, n_idx, MODEL_MAX_FLOATS);
    }
    m->n_layers = n_layers;
    m->layers = L;
    m->in_dim = in_dim;
    m->classes = classes;
    m->max_batch = max_batch;
    m->n_params = n_w + n_rest;
    m->n_decay = n_w;
    m->n_state = n_state;
    m->params = xcalloc(m->n_params, sizeof(float), "parameters");
    m->grads = xcalloc(m->n_params, sizeof(float), "gradients");
    m->state = xcalloc(n_state, sizeof(float), "BN running statistics");
    m->arena = xcalloc(n_act, sizeof(float), "activations");
    m->iarena = n_idx ? xcalloc(n_idx, sizeof(int32_t), "sparse input indices") : NULL;
    int widest = in_dim;
    for (int i = 0; i < n_layers; i++) widest = L[i].out > widest ? L[i].out : widest;
    m->scratch = xcalloc(2 * (size_t)widest, sizeof(double), "accumulators");
    // Pass 2: carve. Weights in [0, n_w), then biases/gamma/beta in layer order.
    size_t pw = 0, pr = n_w, ps = 0, pa = 0, pi = 0;
#define CARVE(base, off, n) ((base) + (((off) += (n)) - (n)))
    for (int i = 0; i < n_layers; i++) {
        layer_t *l = &L[i];
        size_t F = (size_t)l->out, BF = (size_t)max_batch * F;
        if (l->spec.kind == LAYER_DENSE) {
            size_t nw = (size_t)l->in * F;
            l->dW = m->grads + pw;
            l->W = CARVE(m->params, pw, nw);
            if (l->spec.bias) {
                l->db = m->grads + pr;
                l->b = CARVE(m->params, pr, F);
            }
            if (l->spec.sparse_input)
                sparse_batch_carve(&l->sp, CARVE(m->iarena, pi, sparse_batch_ints(max_batch, l->in)),
                                   CARVE(m->arena, pa, sparse_batch_floats(max_batch, l->in)), max_batch, l->in);
        } else if (l->spec.kind == LAYER_BATCHNORM) {
            l->dgamma = m->grads + pr;
            l->gamma = CARVE(m->params, pr, F);
            l->dbeta = m->grads + pr;
            l->beta = CARVE(m->params, pr, F);
            l->rmean = CARVE(m->state, ps, F);
            l->rvar = CARVE(m->state, ps, F);
            l->xhat = CARVE(m->arena, pa, BF);
            l->mean = CARVE(m->arena, pa, F);
            l->var = CARVE(m->arena, pa, F);
            l->invstd = CARVE(m->arena, pa, F);
        } else if (l->spec.kind == LAYER_DROPOUT) {
            l->mask = CARVE(m->arena, pa, BF);
        } else if (l->spec.kind == LAYER_NOISE) {
            l->noise_s = CARVE(m->arena, pa, F);
            l->noise_m = CARVE(m->arena, pa, F);
        }
        l->y = CARVE(m->arena, pa, BF);
        l->dy = CARVE(m->arena, pa, BF);
    }
    m->probs = CARVE(m->arena, pa, (size_t)max_batch * classes);
#undef CARVE
    return 0;
}

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

int layer_params(const layer_t *l, float *t[2], size_t n[2]) {
    int k = 0;
    if (l->spec.kind == LAYER_DENSE) {
        t[k] = l->W, n[k++] = (size_t)l->in * l->out;
        if (l->b) t[k] = l->b, n[k++] = (size_t)l->out;
    } else if (l->spec.kind == LAYER_BATCHNORM) {
        t[k] = l->gamma, n[k++] = (size_t)l->out;
        t[k] = l->beta, n[k++] = (size_t)l->out;
    }
    return k;
}

// to_file: (in, out) -> (out, in) for sparse-input weights; from_file the reverse; a plain copy elsewhere.
static void params_convert(const model_t *m, float *dst, const float *src, int to_file) {
    memcpy(dst, src, sizeof(float) * m->n_params);
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (l->spec.kind != LAYER_DENSE || !l->spec.sparse_input) continue;
        size_t off = (size_t)(l->W - m->params), in = (size_t)l->in, out = (size_t)l->out;
        for (size_t o = 0; o < out; o++)
            for (size_t k = 0; k < in; k++) {
                size_t file = o * in + k, mem = k * out + o;
                dst[off + (to_file ? file : mem)] = src[off + (to_file ? mem : file)];
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

void model_init(model_t *m, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed, RNG_STREAM_INIT);
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        if (l->spec.kind == LAYER_DENSE) {
            init_dense(l->W, l->in, l->out, l->spec.sparse_input, &l->spec.init, &r);
            if (l->b) memset(l->b, 0, sizeof(float) * l->out);
        } else if (l->spec.kind == LAYER_BATCHNORM) {
            for (int j = 0; j < l->out; j++) {
                l->gamma[j] = 1.0f, l->beta[j] = 0.0f;
                l->rmean[j] = 0.0f, l->rvar[j] = 1.0f;
            }
        }
    }
    m->bn_batches = 0;
}

// The layer after i when it is a sigmoid: BN and biased dense layers apply it in their own last pass (fused, as
// the speed issue asks; every value is the same as with separate passes).
static layer_t *next_sigmoid(model_t *m, int i) {
    return i + 1 < m->n_layers && m->layers[i + 1].spec.kind == LAYER_SIGMOID ? &m->layers[i + 1] : NULL;
}

const float *model_forward(model_t *m, const float *x, int B, forward_mode_t mode, train_rng_t *r) {
    const int train = mode != MODE_EVAL;
    if (mode == MODE_TRAIN) m->bn_batches++;
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i], *act = next_sigmoid(m, i);
        size_t n = (size_t)B * l->out;
        switch (l->spec.kind) {
        case LAYER_DENSE:
            if (l->spec.sparse_input) {  // adds its bias itself
                sparse_dense_forward(l->y, &l->sp, in, l->W, l->b, B, l->in, l->out);
                act = NULL;
            } else if (act && l->b) {
                dense_forward(l->y, in, l->W, NULL, B, l->in, l->out);
                bias_sigmoid_forward(act->y, l->y, l->b, B, l->out);
            } else {
                dense_forward(l->y, in, l->W, l->b, B, l->in, l->out);
                act = NULL;
            }
            break;
        case LAYER_BATCHNORM: {
            float eps = (float)l->spec.eps;
            if (train) {
                if (act)
                    batchnorm_sigmoid_forward_train(act->y, l->y, l->xhat, l->mean, l->var, l->invstd, in, l->gamma,
                                                    l->beta, B, l->out, eps, m->scratch);
                else
                    batchnorm_forward_train(l->y, l->xhat, l->mean, l->var, l->invstd, in, l->gamma, l->beta, B,
                                            l->out, eps, m->scratch);
                if (mode == MODE_TRAIN) {
                    float mom = l->spec.cumulative ? 1.0f / (float)m->bn_batches : (float)l->spec.momentum;
                    batchnorm_update_running(l->rmean, l->rvar, l->mean, l->var, B, l->out, mom);
                }
            } else if (act) {
                batchnorm_sigmoid_forward_eval(act->y, l->y, in, l->gamma, l->beta, l->rmean, l->rvar, B, l->out, eps);
            } else {
                batchnorm_forward_eval(l->y, in, l->gamma, l->beta, l->rmean, l->rvar, B, l->out, eps);
            }
            break;
        }
        case LAYER_SIGMOID: sigmoid_forward(l->y, in, n); break;
        case LAYER_RELU: relu_forward(l->y, in, n); break;
        case LAYER_TANH: tanh_forward(l->y, in, n); break;
        case LAYER_DROPOUT:
            if (train) {
                dropout_mask(l->mask, n, (float)l->spec.rate, &r->dropout);
                dropout_forward(l->y, in, l->mask, n);
            } else {
                memcpy(l->y, in, sizeof(float) * n);
            }
            break;
        case LAYER_NOISE:
            if (train) {
                noise_draw(l->noise_s, l->noise_m, l->out, &r->noise);
                noise_forward(l->y, in, l->noise_s, l->noise_m, B, l->out);
            } else {
                memcpy(l->y, in, sizeof(float) * n);
            }
            break;
        }
        if (l->spec.kind != LAYER_DENSE && l->spec.kind != LAYER_BATCHNORM) act = NULL;
        if (act) i++;  // the sigmoid is done
        in = act ? act->y : l->y;
    }
    return in;
}

double model_loss_backward_head(model_t *m, const int32_t *labels, int B, int *correct) {
    layer_t *last = &m->layers[m->n_layers - 1];
    double loss = softmax_xent_forward(m->probs, last->y, labels, B, m->classes, correct);
    softmax_xent_backward(last->dy, m->probs, labels, B, m->classes);
    return loss;
}

void model_backward(model_t *m, const float *x, int B) {
    for (int i = m->n_layers - 1; i >= 0; i--) {
        layer_t *l = &m->layers[i];
        const float *in = i > 0 ? m->layers[i - 1].y : x;
        float *din = i > 0 ? m->layers[i - 1].dy : NULL;  // no gradient for the data
        size_t n = (size_t)B * l->out;
        // A sigmoid after a BN or biased dense layer: its backward runs inside theirs (mirror of model_forward).
        layer_t *prev = l->spec.kind == LAYER_SIGMOID && i > 0 ? &m->layers[i - 1] : NULL;
        if (prev && prev->spec.kind == LAYER_BATCHNORM) {
            // dgamma/dbeta are needed even when the BN layer's dx is not (BN on the raw input): xhat is dead after
            // this call, safe scratch for an unused dx.
            float *dx = i > 1 ? m->layers[i - 2].dy : prev->xhat;
            batchnorm_sigmoid_backward(dx, prev->dgamma, prev->dbeta, prev->dy, l->dy, l->y, prev->xhat, prev->gamma,
                                       prev->invstd, B, prev->out, m->scratch);
            i--;
            continue;
        }
        if (prev && prev->spec.kind == LAYER_DENSE && prev->b && !prev->spec.sparse_input) {
            sigmoid_bias_backward(prev->dy, prev->db, l->dy, l->y, B, prev->out);
            dense_backward(i > 1 ? m->layers[i - 2].dy : NULL, prev->dW, NULL, prev->dy, i > 1 ? m->layers[i - 2].y : x,
                           prev->W, B, prev->in, prev->out);
            i--;
            continue;
        }
        switch (l->spec.kind) {
        case LAYER_DENSE:
            if (l->spec.sparse_input) sparse_dense_backward(din, l->dW, l->db, &l->sp, l->dy, l->W, B, l->in, l->out);
            else dense_backward(din, l->dW, l->db, l->dy, in, l->W, B, l->in, l->out);
            break;
        case LAYER_BATCHNORM: {
            float *dx = din ? din : l->xhat;  // as above
            batchnorm_backward(dx, l->dgamma, l->dbeta, l->dy, l->xhat, l->gamma, l->invstd, B, l->out, m->scratch);
            break;
        }
        case LAYER_SIGMOID: if (din) sigmoid_backward(din, l->dy, l->y, n); break;
        case LAYER_RELU: if (din) relu_backward(din, l->dy, l->y, n); break;
        case LAYER_TANH: if (din) tanh_backward(din, l->dy, l->y, n); break;
        case LAYER_DROPOUT: if (din) dropout_backward(din, l->dy, l->mask, n); break;
        case LAYER_NOISE: if (din) noise_backward(din, l->dy, l->noise_s, B, l->out); break;
        }
    }
}
