#include "base/rng.h"

#include <math.h>

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream) {
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    r->has_spare = 0;
    r->spare = 0.0;
    rng_u32(r);
    r->state += seed;
    rng_u32(r);
}

uint32_t rng_u32(rng_t *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

double rng_uniform(rng_t *r) {
    uint64_t hi = rng_u32(r) >> 5, lo = rng_u32(r) >> 6;  // 27 + 26 = 53 bits
    return ((double)hi * 67108864.0 + (double)lo) * (1.0 / 9007199254740992.0);
}

uint32_t rng_below(rng_t *r, uint32_t n) {
    uint64_t m = (uint64_t)rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double rng_normal(rng_t *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1, u2;
    do u1 = rng_uniform(r);
    while (u1 <= 0.0);
    u2 = rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

void rng_shuffle(rng_t *r, uint32_t *idx, uint32_t n) {
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
