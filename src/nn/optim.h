// optim.h — SGD with momentum (optionally Nesterov), weight decay, and the learning-rate schedule.
//
// Update, as torch.optim.SGD (dampening 0), for every parameter w with gradient g:
//   g' = g + wd * w            (weight decay only on dense weights, the [0, n_decay) prefix)
//   v  = mu * v + g'           (v starts at 0; torch's first-step v = g' is the same thing)
//   w -= lr * (nesterov ? g' + mu * v : v)
#ifndef BNLAB_OPTIM_H
#define BNLAB_OPTIM_H

#include <stddef.h>

typedef enum { LR_CONSTANT, LR_STEP, LR_EXPONENTIAL } lr_schedule_kind_t;

typedef struct {
    double lr, momentum, weight_decay;
    int nesterov;
    lr_schedule_kind_t schedule;
    long step_size;  // LR_STEP: every step_size steps ...
    double gamma;    // ... multiply the rate by gamma
    double per_step; // LR_EXPONENTIAL: lr * per_step^t (> 1 grows: Li & Arora 2020's η(1−ηλ)^−(2t+1) without weight
                     // decay is lr = η/(1−ηλ), per_step = (1−ηλ)^−2)
} optim_spec_t;

typedef struct {
    optim_spec_t spec;
    float *velocity;  // (n) momentum buffers, same layout as the parameters
    size_t n;
} sgd_t;

void sgd_init(sgd_t *o, const optim_spec_t *spec, size_t n_params);
void sgd_free(sgd_t *o);
// Learning rate in force at step t (0-based): lr * gamma^floor(t / step_size) for LR_STEP, lr * per_step^t for
// LR_EXPONENTIAL.
double sgd_lr_at(const optim_spec_t *spec, long t);
void sgd_step(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr);

#endif
