// sigmoid_inline.h — the sigmoid of one float, for every loop that applies it (layers.c, the fused BN passes in
// batchnorm.c). A header so that it inlines into each of them: a call inside a loop would stop vectorization.
#ifndef BNLAB_SIGMOID_INLINE_H
#define BNLAB_SIGMOID_INLINE_H

#include <stdint.h>
#include <string.h>

// Callers carry the same optimize attribute (GCC does not inline across different ones): no-trapping-math lets it
// turn the clamp's selects into vector code; it allows no reassociation, so values do not change.
#define SIGMOID_CALLER __attribute__((optimize("no-trapping-math")))

// sigmoid(x) = 1 / (1 + exp(-x)) with exp by range reduction and a polynomial: exp(v) = 2^k exp(r),
// k = round(v / ln 2), r = v - k ln 2 (ln 2 in two parts, so k ln 2 is exact), exp(r) by the degree-6 minimax
// polynomial of Cephes' expf (relative error ~1e-7), 2^k written into the exponent bits; v clamped to
// [-87, 88], where 2^k stays normal. Against expf in double: max abs error 9e-8 (tests/test_gradcheck.c).
// Branch-free, so it vectorizes; plain IEEE operations (no contraction under -std=c11), so the AVX2 and the
// portable build give bit-identical results — and so does every CPU, unlike glibc's per-CPU expf variants.
// Same optimize attribute as its callers (GCC does not inline across different ones), and always inlined: a
// call inside the loop would stop it from vectorizing.
__attribute__((optimize("no-trapping-math"), always_inline)) static inline float sigmoid_one(float x) {
    float v = -x;
    v = v > -87.0f ? v : -87.0f;
    v = v < 88.0f ? v : 88.0f;
    // k = round(v / ln 2) by the 1.5 * 2^23 trick (exact for |v / ln 2| < 2^22, round-to-nearest mode)
    float kf = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    int k = (int)kf;
    float r = v - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return 1.0f / (1.0f + p * scale);
}

#endif
