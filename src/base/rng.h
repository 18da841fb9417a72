// rng.h — PCG32 (O'Neill 2014, XSH-RR 64/32) with independent streams.
//
// One explicit seed drives everything; each consumer (init, shuffle, dropout, noise) gets its own
// stream so that, e.g., adding dropout does not change the initial weights or the batch order.
#ifndef BNLAB_RNG_H
#define BNLAB_RNG_H

#include <stdint.h>

enum rng_stream { RNG_STREAM_INIT = 1, RNG_STREAM_SHUFFLE = 2, RNG_STREAM_DROPOUT = 3, RNG_STREAM_NOISE = 4, RNG_STREAM_RECALIBRATE = 5,
                  RNG_STREAM_LSUV = 6 };

typedef struct {
    uint64_t state;
    uint64_t inc;      // odd; selects the stream
    int has_spare;     // Box-Muller produces pairs; the second is kept here
    double spare;
} rng_t;

// Seeds generator r with (seed, stream): streams with different ids are independent sequences.
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);
// Next 32 uniform bits.
uint32_t rng_u32(rng_t *r);
// Uniform double in [0, 1), 53 random bits.
double rng_uniform(rng_t *r);
// Uniform integer in [0, n) without modulo bias (Lemire's method); n > 0.
uint32_t rng_below(rng_t *r, uint32_t n);
// Standard normal N(0, 1) by the Box-Muller transform.
double rng_normal(rng_t *r);
// Fisher-Yates shuffle of idx[0..n).
void rng_shuffle(rng_t *r, uint32_t *idx, uint32_t n);

#endif
