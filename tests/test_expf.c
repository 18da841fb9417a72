// expf_vec (nn/expf_vec.h): every copy against libm's expf on all 2^32 float inputs, bit for bit; against e^x in
// double (max ulp); the constants against their definition; and negative controls — a planted wrong table entry,
// a planted wrong coefficient and the same operations without fused multiply-adds must each be caught.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "check.h"
#include "base/rng.h"
#include "nn/expf_vec.h"
#include "nn/layers.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

enum { CHUNK = 1 << 16 };
static const char *const isa_name[] = {"portable", "avx2", "avx512"};

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

// Is libm's expf the function expf_vec copies? glibc on an x86-64 CPU with FMA picks its FMA build (the header).
static int libm_is_glibc_fma(void) {
#if defined(__GLIBC__) && defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

// The operations of expf_one without fused multiply-adds: glibc's build for CPUs without FMA.
static float expf_unfused(float x) {
    const expf_consts_t *k = &expf_glibc_consts;
    if (isnan(x)) return x + x;
    if (x > 0x1.62e42ep6f) return INFINITY;
    if (x < -0x1.9fe368p6f) return 0.0f;
    double xd = x, z = k->inv_ln2_n * xd, kds = z + k->shift, kd = kds - k->shift, r = z - kd, s;
    uint64_t ki, t;
    memcpy(&ki, &kds, sizeof ki);
    t = k->tab[ki & 31] + (ki << 47);
    memcpy(&s, &t, sizeof s);
    double p = k->c0 * r + k->c1, q = k->c2 * r + 1.0, y = (p * (r * r) + q) * s;
    return (float)y;
}

// Inputs with bits in [lo, hi], a chunk of 65,536 consecutive ones in every `stride` (1 = all of them): counts
// per copy the outputs (with constants k) whose bits differ from libm's expf (from expf_unfused if unfused). The
// portable copy (libm's fma calls where the build has no FMA: slow) runs on every 32nd chunk only, unless all.
static void count_differences(uint64_t differ[3], uint64_t lo, uint64_t hi, uint64_t stride, const expf_consts_t *k,
                              int unfused, int all, const char *what) {
    static float x[CHUNK], ref[CHUNK], got[CHUNK];
    int shown = 0;
    uint64_t chunk = 0;
    for (uint64_t base = lo; base <= hi; base += (uint64_t)CHUNK * stride, chunk++) {
        size_t n = hi - base + 1 < CHUNK ? (size_t)(hi - base + 1) : CHUNK;
        for (size_t i = 0; i < n; i++) x[i] = from_bits((uint32_t)(base + i));
        for (size_t i = 0; i < n; i++) ref[i] = unfused ? expf_unfused(x[i]) : expf(x[i]);
        for (int isa = EXPF_PORTABLE; isa <= EXPF_AVX512; isa++) {
            if (!expf_vec_available(isa) || (isa == EXPF_PORTABLE && !all && chunk % 32 != 0)) continue;
            expf_vec_with(got, x, n, isa, k);
            if (memcmp(got, ref, n * sizeof *got) == 0) continue;  // the usual case, at memory speed
            for (size_t i = 0; i < n; i++)
                if (to_bits(got[i]) != to_bits(ref[i])) {
                    if (what && shown++ < 3)
                        fprintf(stderr, "  %s, %s: expf(%a) = %a, reference %a\n", what, isa_name[isa],
                                (double)x[i], (double)got[i], (double)ref[i]);
                    differ[isa]++;
                }
        }
    }
}

// The largest error of copy isa against e^x in double, in float ulps of the result, over inputs [lo, hi] sampled
// every `step`; only results in float's normal range (a subnormal's ulp is fixed; those are checked bit for bit).
static double max_ulp(uint32_t lo, uint32_t hi, uint32_t step, int isa, float *worst) {
    static float x[CHUNK], y[CHUNK];
    double m = 0.0;
    for (uint64_t base = lo; base <= hi; base += (uint64_t)CHUNK * step) {
        size_t n = 0;
        for (uint64_t b = base; b <= hi && n < CHUNK; b += step) x[n++] = from_bits((uint32_t)b);
        expf_vec_with(y, x, n, isa, &expf_glibc_consts);
        for (size_t i = 0; i < n; i++) {
            double e = exp((double)x[i]);
            if (!(e >= 0x1p-126 && e < 0x1p128)) continue;
            int ex;
            frexp(e, &ex);                   // e in [2^(ex-1), 2^ex): a float ulp there is 2^(ex-24)
            double u = fabs((double)y[i] - e) / ldexp(1.0, ex - 24);
            if (u > m) m = u, *worst = x[i];
        }
    }
    return m;
}

static void set_ftz(int on) {
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? csr | 0x8040u : csr & ~0x8040u);  // FTZ (bit 15) and DAZ (bit 6)
#else
    (void)on;
#endif
}


// softmax_xent_forward as it was before expf_vec, one expf call per value (libm's, or expf_one where libm's expf is
// another function): the layer must give its bits.
static double softmax_reference(float *probs, const float *logits, const int32_t *labels, int B, int C, int *correct,
                                int libm, int planted) {
    double loss = 0.0;
    int hits = 0;
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * C;
        float *p = probs + (size_t)i * C;
        int arg = argmax(z, C);
        float zmax = z[arg];
        double sum = 0.0;
        for (int c = 0; c < C; c++) p[c] = libm ? expf(z[c] - zmax) : expf_one(z[c] - zmax);
        float fsum = 0.0f;  // the planted change: the sum in float
        for (int c = 0; c < C; c++) sum += p[c], fsum += p[c];
        if (planted) sum = fsum;
        float inv = (float)(1.0 / sum);
        for (int c = 0; c < C; c++) p[c] *= inv;
        loss += log(sum) - (double)(z[labels[i]] - zmax);
        hits += arg == labels[i];
    }
    *correct = hits;
    return loss / B;
}

// planted: the reference sums each row in float, a change the comparison must catch.
static void check_softmax(int libm, int planted) {
    enum { BMAX = 1000, CMAX = 13 };
    static float z[BMAX * CMAX], p[BMAX * CMAX], q[BMAX * CMAX];
    static int32_t y[BMAX];
    const int Bs[] = {1, 7, 64, 65, 1000}, Cs[] = {2, 10, 13};
    rng_t r;
    rng_seed(&r, 27, 0);
    int cases_differ = 0;
    for (int bi = 0; bi < 5; bi++)
        for (int ci = 0; ci < 3; ci++) {
            int B = Bs[bi], C = Cs[ci], differ = 0, hp, hq;
            for (int i = 0; i < B * C; i++) z[i] = (float)(8.0 * rng_normal(&r));
            z[0] = -INFINITY;  // a probability of exactly 0
            if (B * C > 20) z[17] = z[18] = 3.0f, z[19] = 1e-30f;  // a tie and a tiny value
            for (int i = 0; i < B; i++) y[i] = (int32_t)(rng_uniform(&r) * C) % C;
            double lp = softmax_xent_forward(p, z, y, B, C, &hp);
            double lq = softmax_reference(q, z, y, B, C, &hq, libm, planted);
            for (int i = 0; i < B * C; i++) differ += to_bits(p[i]) != to_bits(q[i]);
            cases_differ += differ > 0 || lp != lq || hp != hq;
            if (!planted)
                CHECK(differ == 0 && lp == lq && hp == hq, "softmax_xent_forward B=%d C=%d: %d probabilities differ, "
                      "loss %.17g vs %.17g, correct %d vs %d", B, C, differ, lp, lq, hp, hq);
        }
    if (planted) {
        printf("softmax against a reference summing in float: %d of 15 cases differ\n", cases_differ);
        CHECK(cases_differ > 0, "a sum in float was not caught");
    }
}

int main(void) {
    const expf_consts_t *k = &expf_glibc_consts;
    // The table: bits of 2^(i/32) rounded to double, minus i << 47; 32/ln 2 and the shift.
    for (int i = 0; i < 32; i++) {
        double v = (double)exp2l(i / 32.0L);
        uint64_t b;
        memcpy(&b, &v, sizeof b);
        CHECK(k->tab[i] == b - ((uint64_t)i << 47), "tab[%d] = %016llx, 2^(%d/32) gives %016llx", i,
              (unsigned long long)k->tab[i], i, (unsigned long long)(b - ((uint64_t)i << 47)));
    }
    CHECK(k->inv_ln2_n == (double)(32.0L / logl(2.0L)), "32/ln2 = %a", k->inv_ln2_n);
    CHECK(k->shift == 0x1.8p52, "shift %a", k->shift);

    int strict = libm_is_glibc_fma();
    const char *env = getenv("BNLAB_EXPF_ALL");
    int all = env && strcmp(env, "1") == 0;
    printf("libm's expf %s glibc's FMA build: bit-for-bit comparison %s\n", strict ? "is" : "may not be",
           strict ? "required" : "reported only");
    for (int isa = EXPF_PORTABLE; isa <= EXPF_AVX512; isa++)
        if (!expf_vec_available(isa)) printf("%s: not on this CPU\n", isa_name[isa]);
    double t0 = now_seconds();
    // Every float where expf computes, all of them for softmax's range (x <= 0, down to -104: below -103.97 glibc
    // returns 0 in a branch), every 16th chunk of the positive ones up to 88.8 (above 88.72: +inf) and of the rest
    // (x < -104, the NaNs); every float of all four (2^32) with BNLAB_EXPF_ALL=1 (a minute or two).
    uint64_t d[3] = {0};
    count_differences(d, 0x80000000u, to_bits(-104.0f), 1, k, 0, all, strict ? "libm" : NULL);
    count_differences(d, 0, to_bits(88.8f), all ? 1 : 16, k, 0, all, strict ? "libm" : NULL);
    count_differences(d, to_bits(-104.0f) + 1, 0xffffffffu, all ? 1 : 16, k, 0, all, strict ? "libm" : NULL);
    count_differences(d, to_bits(88.8f) + 1, 0x7fffffffu, all ? 1 : 16, k, 0, all, strict ? "libm" : NULL);
    // and the edges one by one: +-0, +-inf, the thresholds and their neighbours, NaNs of both signs
    const uint32_t edges[] = {0, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u,
                              0xffbfffffu, to_bits(0x1.62e42ep6f), to_bits(0x1.62e42ep6f) + 1,
                              to_bits(0x1.62e42ep6f) - 1, to_bits(-0x1.9fe368p6f), to_bits(-0x1.9fe368p6f) + 1,
                              to_bits(-0x1.9fe368p6f) - 1, to_bits(-0x1.9d1d9ep6f), to_bits(88.0f), to_bits(-88.0f)};
    for (size_t e = 0; e < sizeof edges / sizeof *edges; e++)
        count_differences(d, edges[e], edges[e], 1, k, 0, 1, strict ? "libm" : NULL);
    for (int isa = EXPF_PORTABLE; isa <= EXPF_AVX512; isa++) {
        if (!expf_vec_available(isa)) continue;
        printf("%s: %llu inputs differ from libm's expf\n", isa_name[isa], (unsigned long long)d[isa]);
        if (strict) CHECK(d[isa] == 0, "%s: %llu inputs differ from libm's expf", isa_name[isa],
                          (unsigned long long)d[isa]);
    }
    printf("(%.1f s)\n", now_seconds() - t0);
    // The same under flush-to-zero / denormals-are-zero (bnlab's threads run so): the inputs whose results are
    // subnormal (x in [-105, -87]) and the subnormal inputs, every copy on all of them.
    set_ftz(1);
    uint64_t dz[3] = {0};
    count_differences(dz, to_bits(-87.0f), to_bits(-105.0f), 1, k, 0, 1, "flush-to-zero");
    count_differences(dz, 0, 0x007fffff, 1, k, 0, 1, "flush-to-zero");
    count_differences(dz, 0x80000000u, 0x807fffffu, 1, k, 0, 1, "flush-to-zero");
    set_ftz(0);
    for (int isa = EXPF_PORTABLE; isa <= EXPF_AVX512; isa++) {
        if (!expf_vec_available(isa)) continue;
        printf("%s under flush-to-zero: %llu inputs differ\n", isa_name[isa], (unsigned long long)dz[isa]);
        if (strict) CHECK(dz[isa] == 0, "%s under flush-to-zero: %llu inputs differ", isa_name[isa],
                          (unsigned long long)dz[isa]);
    }

    // Against e^x in double: glibc's documented bound is 0.502 ulp.
    int best = expf_vec_available(EXPF_AVX512) ? EXPF_AVX512 : expf_vec_available(EXPF_AVX2) ? EXPF_AVX2 : EXPF_PORTABLE;
    float worst = 0.0f;
    double u = max_ulp(0x80000000u, to_bits(-88.0f), 61, best, &worst);
    double up = max_ulp(0, to_bits(88.5f), 61, best, &worst);
    if (up > u) u = up;
    printf("max error against exp in double: %.4f ulp (at %a), every 61st input in [-88, 88.5]\n", u, (double)worst);
    CHECK(u <= 0.502, "max error %.4f ulp at %a", u, (double)worst);

    // Negative controls: each planted change must be seen by the same comparison, on the inputs in [-1, -0.5)
    // (8.4 million, a 4,096th of the sweep above).
    uint64_t nlo = to_bits(-0.5f), nhi = to_bits(-1.0f) - 1;
    if (strict) {
        expf_consts_t bad = *k;
        bad.tab[21] ^= 1u << 20;  // one bit of 2^(21/32), 2^-32 of it: a mistyped hex digit
        uint64_t dt[3] = {0}, dc[3] = {0};
        count_differences(dt, nlo, nhi, 1, &bad, 0, 1, NULL);
        bad = *k;
        bad.c1 *= 1.0 + 0x1p-24;  // the r^2 coefficient off by 2^-24 of itself
        count_differences(dc, nlo, nhi, 1, &bad, 0, 1, NULL);
        for (int isa = EXPF_PORTABLE; isa <= EXPF_AVX512; isa++) {
            if (!expf_vec_available(isa)) continue;
            printf("%s: table entry 21 off by 2^-32: %llu inputs differ; C1 off by 2^-24: %llu\n", isa_name[isa],
                   (unsigned long long)dt[isa], (unsigned long long)dc[isa]);
            CHECK(dt[isa] > 0, "%s: a wrong table entry was not caught", isa_name[isa]);
            CHECK(dc[isa] > 0, "%s: a wrong coefficient was not caught", isa_name[isa]);
        }
    }
    // Rounding each product before adding (glibc's build for CPUs without FMA computes so): with BNLAB_EXPF_ALL=1,
    // how many of the 2^32 inputs that changes.
    if (all) {
        uint64_t du[3] = {0};
        count_differences(du, 0, 0xffffffffu, 1, k, 1, 0, "without fused multiply-adds");
        for (int isa = EXPF_AVX2; isa <= EXPF_AVX512; isa++)
            if (expf_vec_available(isa))
                printf("%s against the same operations without fused multiply-adds: %llu of 2^32 inputs differ\n",
                       isa_name[isa], (unsigned long long)du[isa]);
    }
    // The layer: its probabilities, loss and hits have the bits of the loop with one expf call per value.
    check_softmax(strict, 0);
    set_ftz(1);
    check_softmax(strict, 0);
    set_ftz(0);
    check_softmax(strict, 1);
    printf("%.1f s\n", now_seconds() - t0);
    return check_summary("test_expf");
}
