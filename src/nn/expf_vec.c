#include "nn/expf_vec.h"

#include <math.h>
#include <string.h>

// The values glibc's e_exp2f_data.c holds (tests/test_expf.c recomputes the table from 2^(i/32) in long double).
const expf_consts_t expf_glibc_consts = {
    .tab = {0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
            0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
            0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
            0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
            0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
            0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
            0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
            0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540},
    .inv_ln2_n = 0x1.71547652b82fep+0 * 32,
    .shift = 0x1.8p+52,
    .c0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32,
    .c1 = 0x1.ebfce50fac4f3p-3 / 32 / 32,
    .c2 = 0x1.62e42ff0c52d6p-1 / 32,
};

// Beyond these glibc does not compute: above, +inf; below, +0.
#define EXPF_HI 0x1.62e42ep6f    // log(2^128) rounded down
#define EXPF_LO (-0x1.9fe368p6f) // log(2^-150) rounded

static inline float expf_portable(float x, const expf_consts_t *k) {
    if (isnan(x)) return x + x;
    if (x > EXPF_HI) return INFINITY;
    if (x < EXPF_LO) return 0.0f;  // -inf too
    double xd = (double)x;
    double kds = fma(k->inv_ln2_n, xd, k->shift);
    uint64_t ki;
    memcpy(&ki, &kds, sizeof ki);
    double kd = kds - k->shift;
    double r = fma(k->inv_ln2_n, xd, -kd);
    uint64_t t = k->tab[ki & 31] + (ki << 47);
    double s;
    memcpy(&s, &t, sizeof s);
    double p = fma(k->c0, r, k->c1);
    double r2 = r * r;
    double q = fma(k->c2, r, 1.0);
    double y = fma(p, r2, q) * s;
    return (float)y;
}

float expf_one(float x) { return expf_portable(x, &expf_glibc_consts); }

static void expf_vec_portable(float *y, const float *x, size_t n, const expf_consts_t *k) {
    for (size_t i = 0; i < n; i++) y[i] = expf_portable(x[i], k);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

// 16 floats a round: two halves of 8 in double; the table is 4 registers of 8 entries, looked up with two
// two-register permutes (index bits 0-3) and a select on bit 4.
__attribute__((target("avx512f"))) static void expf_vec_avx512(float *y, const float *x, size_t n,
                                                                const expf_consts_t *k) {
    const __m512d inv = _mm512_set1_pd(k->inv_ln2_n), shift = _mm512_set1_pd(k->shift), one = _mm512_set1_pd(1.0);
    const __m512d c0 = _mm512_set1_pd(k->c0), c1 = _mm512_set1_pd(k->c1), c2 = _mm512_set1_pd(k->c2);
    const __m512i t0 = _mm512_loadu_si512(k->tab), t1 = _mm512_loadu_si512(k->tab + 8);
    const __m512i t2 = _mm512_loadu_si512(k->tab + 16), t3 = _mm512_loadu_si512(k->tab + 24);
    const __m512i bit4 = _mm512_set1_epi64(16);
    const __m512 hi = _mm512_set1_ps(EXPF_HI), lo = _mm512_set1_ps(EXPF_LO), inf = _mm512_set1_ps(INFINITY);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 live = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(live, x + i);
        __m512d half[2];
        for (int h = 0; h < 2; h++) {
            __m256 xh = h == 0 ? _mm512_castps512_ps256(xv)
                               : _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1));
            __m512d xd = _mm512_cvtps_pd(xh);
            __m512d kds = _mm512_fmadd_pd(inv, xd, shift);
            __m512i ki = _mm512_castpd_si512(kds);
            __m512d kd = _mm512_sub_pd(kds, shift);
            __m512d r = _mm512_fmsub_pd(inv, xd, kd);
            __m512i tl = _mm512_permutex2var_epi64(t0, ki, t1), th = _mm512_permutex2var_epi64(t2, ki, t3);
            __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, bit4), tl, th);
            t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
            __m512d p = _mm512_fmadd_pd(c0, r, c1);
            __m512d r2 = _mm512_mul_pd(r, r);
            __m512d q = _mm512_fmadd_pd(c2, r, one);
            half[h] = _mm512_mul_pd(_mm512_fmadd_pd(p, r2, q), _mm512_castsi512_pd(t));
        }
        __m512 yv = _mm512_castpd_ps(_mm512_insertf64x4(
            _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(half[0]))),
            _mm256_castps_pd(_mm512_cvtpd_ps(half[1])), 1));
        yv = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xv, hi, _CMP_GT_OQ), yv, inf);
        yv = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xv, lo, _CMP_LT_OQ), yv, _mm512_setzero_ps());
        yv = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q), yv, _mm512_add_ps(xv, xv));
        _mm512_mask_storeu_ps(y + i, live, yv);
    }
}

// 8 floats a round: two halves of 4 in double; the table by a gather.
__attribute__((target("avx2,fma"))) static void expf_vec8_avx2(float *y, const float *x, const expf_consts_t *k) {
    const __m256d inv = _mm256_set1_pd(k->inv_ln2_n), shift = _mm256_set1_pd(k->shift), one = _mm256_set1_pd(1.0);
    const __m256d c0 = _mm256_set1_pd(k->c0), c1 = _mm256_set1_pd(k->c1), c2 = _mm256_set1_pd(k->c2);
    const __m256i low5 = _mm256_set1_epi64x(31);
    __m256 xv = _mm256_loadu_ps(x);
    __m128 out[2];
    for (int h = 0; h < 2; h++) {
        __m256d xd = _mm256_cvtps_pd(h == 0 ? _mm256_castps256_ps128(xv) : _mm256_extractf128_ps(xv, 1));
        __m256d kds = _mm256_fmadd_pd(inv, xd, shift);
        __m256i ki = _mm256_castpd_si256(kds);
        __m256d kd = _mm256_sub_pd(kds, shift);
        __m256d r = _mm256_fmsub_pd(inv, xd, kd);
        __m256i t = _mm256_i64gather_epi64((const long long *)k->tab, _mm256_and_si256(ki, low5), 8);
        t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
        __m256d p = _mm256_fmadd_pd(c0, r, c1);
        __m256d r2 = _mm256_mul_pd(r, r);
        __m256d q = _mm256_fmadd_pd(c2, r, one);
        out[h] = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_fmadd_pd(p, r2, q), _mm256_castsi256_pd(t)));
    }
    __m256 yv = _mm256_insertf128_ps(_mm256_castps128_ps256(out[0]), out[1], 1);
    yv = _mm256_blendv_ps(yv, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(xv, _mm256_set1_ps(EXPF_HI), _CMP_GT_OQ));
    yv = _mm256_blendv_ps(yv, _mm256_setzero_ps(), _mm256_cmp_ps(xv, _mm256_set1_ps(EXPF_LO), _CMP_LT_OQ));
    yv = _mm256_blendv_ps(yv, _mm256_add_ps(xv, xv), _mm256_cmp_ps(xv, xv, _CMP_UNORD_Q));
    _mm256_storeu_ps(y, yv);
}

__attribute__((target("avx2,fma"))) static void expf_vec_avx2(float *y, const float *x, size_t n,
                                                               const expf_consts_t *k) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) expf_vec8_avx2(y + i, x + i, k);
    if (i < n) {  // the last 1..7 through a padded copy
        float bx[8] = {0}, by[8];
        memcpy(bx, x + i, (n - i) * sizeof *x);
        expf_vec8_avx2(by, bx, k);
        memcpy(y + i, by, (n - i) * sizeof *y);
    }
}
#endif

int expf_vec_available(int isa) {
    switch (isa) {
    case EXPF_PORTABLE: return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    case EXPF_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case EXPF_AVX512: return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

void expf_vec_with(float *y, const float *x, size_t n, int isa, const expf_consts_t *k) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == EXPF_AVX512) {
        expf_vec_avx512(y, x, n, k);
        return;
    }
    if (isa == EXPF_AVX2) {
        expf_vec_avx2(y, x, n, k);
        return;
    }
#else
    (void)isa;
#endif
    expf_vec_portable(y, x, n, k);
}

void expf_vec(float *y, const float *x, size_t n) {
    static int isa = -1;  // decided once; the answer never changes
    if (isa < 0)
        isa = expf_vec_available(EXPF_AVX512) ? EXPF_AVX512 : expf_vec_available(EXPF_AVX2) ? EXPF_AVX2 : EXPF_PORTABLE;
    expf_vec_with(y, x, n, isa, &expf_glibc_consts);
}
