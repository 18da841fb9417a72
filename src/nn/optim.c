#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>

#include "base/util.h"

void sgd_init(sgd_t *o, const optim_spec_t *spec, size_t n_params) {
    o->spec = *spec;
    o->n = n_params;
    o->velocity = xcalloc(n_params, sizeof(float), "momentum buffers");
}

void sgd_free(sgd_t *o) {
    free(o->velocity);
    o->velocity = NULL;
}

double sgd_lr_at(const optim_spec_t *s, long t) {
    if (s->schedule == LR_STEP) return s->lr * pow(s->gamma, (double)(t / s->step_size));
    if (s->schedule == LR_EXPONENTIAL) return s->lr * pow(s->per_step, (double)t);
    return s->lr;
}

SIMD_CLONES void sgd_step(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr) {
    const float mu = (float)o->spec.momentum, wd = (float)o->spec.weight_decay, eta = (float)lr;
    float *v = o->velocity;
    // Two ranges (decayed weights, the rest) and the Nesterov choice hoisted out: branch-free loops vectorize.
    // Per element the arithmetic is the same as the one-loop form.
    for (int part = 0; part < 2; part++) {
        size_t lo = part ? n_decay : 0, hi = part ? o->n : n_decay;
        float w = part ? 0.0f : wd;
        if (o->spec.momentum == 0.0)  // v = 0 v + g is g exactly: skip the velocity stream (v stays 0)
            for (size_t k = lo; k < hi; k++) params[k] -= eta * (grads[k] + w * params[k]);
        else if (o->spec.nesterov)
            for (size_t k = lo; k < hi; k++) {
                float g = grads[k] + w * params[k];
                v[k] = mu * v[k] + g;
                params[k] -= eta * (g + mu * v[k]);
            }
        else
            for (size_t k = lo; k < hi; k++) {
                float g = grads[k] + w * params[k];
                v[k] = mu * v[k] + g;
                params[k] -= eta * v[k];
            }
    }
}
