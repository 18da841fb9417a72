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

// What an update sums about itself, per parameter tensor (log.update_ratios_every, run/updatelog.h): with b a tensor's
// values before the update, a after it and g its gradient (the step's, not including weight decay),
//   {Σb, Σb², Σd, Σd², Σg, Σg²} in double, d = (double)a − (double)b,
// each sum in SGD_LANES independent lanes (the tensor's value i in lane i mod 8, in increasing i), added lane by lane
// at the end: vectorized (AVX-512 where the CPU has it), and every copy performs the same double operations per lane
// (a product of two floats is exact in double, so b·b + s fused or not is the same number), so the same bits.
enum { SGD_LANES = 8, SGD_SUMS = 6 };
typedef struct {
    int n;                     // tensors: a partition of the parameter block (each inside [0, n_decay) or outside)
    const size_t *at, *len;    // (n) each tensor's offset in the parameter block and its length
    double (*sums)[SGD_SUMS];  // (n) out: each tensor's sums
    float *before;             // (n_params) out: the parameters before the update (b)
} sgd_sums_t;

typedef struct {
    optim_spec_t spec;
    float *velocity;  // (n) momentum buffers, same layout as the parameters
    size_t n;
    const sgd_sums_t *sums_next;  // non-NULL: the trainer's next update is sgd_step_sums into it (then NULL again);
                                  // set by run/updatelog.c before the update of a logged step
} sgd_t;

void sgd_init(sgd_t *o, const optim_spec_t *spec, size_t n_params);
void sgd_free(sgd_t *o);
// Learning rate in force at step t (0-based): lr * gamma^floor(t / step_size) for LR_STEP, lr * per_step^t for
// LR_EXPONENTIAL.
double sgd_lr_at(const optim_spec_t *spec, long t);
void sgd_step(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr);
// sgd_step, bit for bit (parameters and momentum buffers), that also sums itself into s (above) in the same pass over
// the parameters: θ read once, b stored as it is read. No allocation.
void sgd_step_sums(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr, const sgd_sums_t *s);
// The same sums of a tensor of n values from b, a and g in memory (no update): the reference sgd_step_sums is tested
// against, and the AVX-512 copy against the plain loop (sgd_sums_portable). No allocation.
void sgd_sums(double out[SGD_SUMS], const float *b, const float *a, const float *g, size_t n);
void sgd_sums_portable(double out[SGD_SUMS], const float *b, const float *a, const float *g, size_t n);
// sgd_step_sums with the plain loops only (for tests: the AVX-512 copy must give the same bits).
void sgd_step_sums_portable(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr,
                            const sgd_sums_t *s);

#endif
