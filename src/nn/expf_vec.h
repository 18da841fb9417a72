// expf_vec.h — e^x of a whole array of floats, with the bits of glibc's expf (the FMA build), in AVX-512 or AVX2
// where the CPU has them: what softmax/cross-entropy uses (layers.c), 8 or 16 values at a time instead of one libm
// call each.
//
// The function: glibc's expf since 2.27 (sysdeps/ieee754/flt-32/e_expf.c, e_exp2f_data.c; 2.36 here), as the FMA
// variant glibc's ifunc picks on an x86-64 CPU with FMA (sysdeps/x86_64/fpu/multiarch/e_expf-fma.c) computes it, all
// in double: z = x * 32/ln 2; k = round(z), r = z - k (|r| <= 1/2); e^x = 2^(k/32) 2^(r/32) with 2^(k/32) from a
// 32-entry table T[k mod 32] (its exponent bits plus k/32) and 2^(r/32) ~ C0 r^3 + C1 r^2 + C2 r + 1, rounded
// once to float at the end. The fused multiply-adds are where the FMA build's compiler put them (read from its
// machine code and confirmed by the exhaustive test):
//   kd' = fma(32/ln2, x, 1.5*2^52)  (k in the low bits), kd = kd' - 1.5*2^52,  r = fma(32/ln2, x, -kd),
//   s = T[k mod 32] + (k << 47) as bits,  p = fma(C0, r, C1),  q = fma(C2, r, 1),  y = fma(p, r*r, q) * s.
// Outside |x| < 88 as glibc: x > 0x1.62e42ep6 (log 2^128) gives +inf, x < -0x1.9fe368p6 (log 2^-150) and -inf give
// +0, NaN gives x + x. errno is never set (glibc's sets ERANGE on overflow and underflow).
//
// Every copy — AVX-512, AVX2 + FMA, and the portable C with explicit fma() (libm's fma is exact wherever it comes
// from; the WebAssembly build and CPUs without AVX2 run it) — performs these IEEE operations, so each gives the same
// bits on every CPU, under the same flush-to-zero/denormals-are-zero mode (bnlab's threads set it: then a result
// below 2^-126 is flushed to 0, as it is for libm's expf in that mode, and a subnormal x counts as 0).
//
// Another libm: tests/test_expf.c compares this libm's expf with every copy bit for bit — on all 2^31 inputs
// x <= 0 down to -104 (softmax's range) and a 16th of the rest by default, on all 2^32 with BNLAB_EXPF_ALL=1 —
// and requires equality where libm is glibc on an x86-64 CPU with FMA (this machine: 0 of 2^32 differ). Elsewhere
// libm's expf may round differently and the test reports how many inputs differ: glibc's build for CPUs without
// FMA (SSE2, the same operations rounded one by one) differs on 2 of the 2^32 inputs, -0x1.f8cbb2p+5 and
// 0x1.04845ep+5 (measured here by forcing it: GLIBC_TUNABLES=glibc.cpu.hwcaps=-FMA,-AVX2 fails the test on the
// first), musl's and other libcs' expf are other functions. bnlab's softmax uses this function everywhere, so a
// run's logs do not depend on the CPU or the libc through exp, where they did with libm's expf; on such a machine
// they equal this machine's rather than what libm's expf would have given. Against e^x in double the results are
// within glibc's bound of 0.502 ulp (the test measures 0.5016).
#ifndef BNLAB_EXPF_VEC_H
#define BNLAB_EXPF_VEC_H

#include <stddef.h>
#include <stdint.h>

// y[i] = expf(x[i]) for i in [0, n), glibc's bits (above); y may equal x (in place), otherwise no overlap.
void expf_vec(float *y, const float *x, size_t n);
// The same for one value, in portable C (the reference the vector copies must equal).
float expf_one(float x);

// The constants, a struct so that tests can run the code with a planted error (a negative control).
typedef struct {
    uint64_t tab[32];         // bits of 2^(i/32) minus i << 47 (so that adding k << 47 gives 2^(k/32))
    double inv_ln2_n;         // 32 / ln 2
    double shift;             // 1.5 * 2^52: adding it rounds to an integer, kept in the low bits
    double c0, c1, c2;        // the polynomial's coefficients for r (scaled by 32^-3, 32^-2, 32^-1)
} expf_consts_t;
extern const expf_consts_t expf_glibc_consts;

enum { EXPF_PORTABLE, EXPF_AVX2, EXPF_AVX512 };
// 1 if this CPU (and build) can run that copy.
int expf_vec_available(int isa);
// expf_vec with a given copy and constants: tests only (expf_vec picks the widest copy the CPU has).
void expf_vec_with(float *y, const float *x, size_t n, int isa, const expf_consts_t *k);

#endif
