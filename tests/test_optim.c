// SGD, the learning-rate schedule and the RNG streams, against hand-computed values.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/optim.h"
#include "base/rng.h"
#include "base/util.h"

static void test_sgd(void) {
    // Two parameters: [0] a dense weight (decayed), [1] a bias (not decayed). Constant gradient 1.
    optim_spec_t s = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5};
    sgd_t o;
    sgd_init(&o, &s, 2);
    float w[2] = {1.0f, 1.0f}, g[2] = {1.0f, 1.0f};
    sgd_step(&o, w, g, 1, s.lr);
    // step 1: g' = 1 + 0.5 * 1 = 1.5, v = 1.5, w = 1 - 0.15 = 0.85; bias: v = 1, w = 0.9
    CHECK_NEAR(w[0], 0.85, 1e-7, "decayed weight after step 1");
    CHECK_NEAR(w[1], 0.9, 1e-7, "bias after step 1");
    sgd_step(&o, w, g, 1, s.lr);
    // step 2: g' = 1 + 0.425 = 1.425, v = 0.9 * 1.5 + 1.425 = 2.775, w = 0.85 - 0.2775 = 0.5725
    CHECK_NEAR(w[0], 0.5725, 1e-6, "decayed weight after step 2");
    CHECK_NEAR(w[1], 0.9 - 0.19, 1e-6, "bias after step 2 (v = 1.9)");
    sgd_free(&o);

    optim_spec_t n = {.lr = 0.1, .momentum = 0.9, .nesterov = 1};
    sgd_init(&o, &n, 1);
    float x[1] = {0.0f}, gx[1] = {1.0f};
    sgd_step(&o, x, gx, 0, n.lr);  // v = 1; w -= 0.1 * (1 + 0.9 * 1)
    CHECK_NEAR(x[0], -0.19, 1e-7, "Nesterov step");
    sgd_free(&o);

    optim_spec_t st = {.lr = 1.0, .schedule = LR_STEP, .step_size = 10, .gamma = 0.5};
    CHECK(sgd_lr_at(&st, 0) == 1.0 && sgd_lr_at(&st, 9) == 1.0 && sgd_lr_at(&st, 10) == 0.5 &&
              sgd_lr_at(&st, 25) == 0.25, "step decay");
    optim_spec_t se = {.lr = 0.5, .schedule = LR_EXPONENTIAL, .per_step = 1.25};
    CHECK(sgd_lr_at(&se, 0) == 0.5 && sgd_lr_at(&se, 1) == 0.625 && sgd_lr_at(&se, 3) == 0.9765625,
          "exponential: lr · per_step^t");
    se.per_step = 0.5;
    CHECK(sgd_lr_at(&se, 2) == 0.125, "exponential decay");
}

static void test_rng(void) {
    rng_t a, b, c;
    rng_seed(&a, 42, 1);
    rng_seed(&b, 42, 1);
    rng_seed(&c, 42, 2);
    int same = 1, diff = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        same &= x == y;
        diff += x != z;
    }
    CHECK(same, "same seed and stream, different numbers");
    CHECK(diff > 95, "streams 1 and 2 are not independent (%d of 100 differ)", diff);
    // Moments of the normal and uniform generators over 200k draws (5-sigma bounds).
    double s = 0, ss = 0, u = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double v = rng_normal(&a);
        s += v, ss += v * v;
        u += rng_uniform(&b);
    }
    CHECK_NEAR(s / n, 0.0, 5.0 / sqrt(n), "normal mean");
    CHECK_NEAR(ss / n, 1.0, 5.0 * sqrt(2.0 / n), "normal variance");
    CHECK_NEAR(u / n, 0.5, 5.0 * sqrt(1.0 / 12 / n), "uniform mean");
    uint32_t idx[50], hit[50] = {0};
    for (int i = 0; i < 50; i++) idx[i] = (uint32_t)i;
    rng_shuffle(&a, idx, 50);
    for (int i = 0; i < 50; i++) hit[idx[i]]++;
    int perm = 1;
    for (int i = 0; i < 50; i++) perm &= hit[i] == 1;
    CHECK(perm, "shuffle is not a permutation");
}

// sgd_step_sums (log.update_ratios_every) is sgd_step bit for bit — parameters and momentum buffers — for plain SGD,
// momentum and Nesterov, with and without weight decay, with flush-to-zero off and on, on tensors of every length up
// to 40 and random ones (tails of every length), decayed ones first; b is what the parameters were; each tensor's sums
// are sgd_sums_portable's of (b, a, g) bit for bit, from the dispatched copy (AVX-512 here) and the plain loops.
// Negative controls: the same comparisons catch a decayed prefix one tensor short, a single value's update off by one
// ulp, and the sums of one serial accumulator instead of 8 lanes.
static void test_step_sums(void) {
    enum { T = 9, MAXN = 5000 };
    rng_t r;
    rng_seed(&r, 7, 0);
    static float p0[T * MAXN], g[T * MAXN], v0[T * MAXN], p1[T * MAXN], v1[T * MAXN], p2[T * MAXN], v2[T * MAXN],
        bk[T * MAXN];
    size_t at[T], len[T];
    double sums[T][SGD_SUMS], ref[SGD_SUMS];
    int cases = 0, upd = 0, bits = 0, before = 0, wide = 0, decayed = 0, decay_caught = 0, ulp_caught = 0, serial_caught = 0;
    for (int trial = 0; trial < 48; trial++) {
        const int mode = trial % 3;
        optim_spec_t sp = {.lr = 0.05 * (1 + trial % 4), .momentum = mode ? 0.9 : 0.0, .nesterov = mode == 2,
                           .weight_decay = trial % 4 < 2 ? 0.01 : 0.0};
        size_t n = 0, n_decay = 0;
        for (int t = 0; t < T; t++) {
            len[t] = trial < 5 ? (size_t)(trial * T + t) % 40 + 1 : 1 + rng_below(&r, MAXN);
            at[t] = n, n += len[t];
            if (t < 3) n_decay = n;  // three decayed tensors first, as the model lays them out
        }
        for (size_t i = 0; i < n; i++) {
            const int tiny = rng_below(&r, 50) == 0;  // a few values below float's normal range
            p0[i] = (float)((tiny ? 1e-39 : 1.0) * (i % 7 == 0 ? 1.0 + 0.01 * rng_normal(&r) : 0.1 * rng_normal(&r)));
            g[i] = (float)((tiny ? 1e-40 : 1e-2) * rng_normal(&r));
            v0[i] = mode ? (float)(1e-2 * rng_normal(&r)) : 0.0f;
        }
        if (trial == 24) enable_flush_to_zero();  // the second half with flush-to-zero on (train.flush_denormals)
        for (int copy = 0; copy < 2; copy++) {  // 0: dispatched (AVX-512 where the CPU has it), 1: the plain loops
            sgd_t o, q;
            sgd_init(&o, &sp, n), sgd_init(&q, &sp, n);
            memcpy(o.velocity, v0, sizeof(float) * n), memcpy(q.velocity, v0, sizeof(float) * n);
            memcpy(p1, p0, sizeof(float) * n), memcpy(p2, p0, sizeof(float) * n);
            sgd_step(&o, p1, g, n_decay, sp.lr);
            sgd_sums_t s = {.n = T, .at = at, .len = len, .sums = sums, .before = bk};
            if (copy == 0) sgd_step_sums(&q, p2, g, n_decay, sp.lr, &s);
            else sgd_step_sums_portable(&q, p2, g, n_decay, sp.lr, &s);
            memcpy(v1, o.velocity, sizeof(float) * n), memcpy(v2, q.velocity, sizeof(float) * n);
            cases++;
            upd += memcmp(p1, p2, sizeof(float) * n) != 0 || memcmp(v1, v2, sizeof(float) * n) != 0;
            before += memcmp(bk, p0, sizeof(float) * n) != 0;
            for (int t = 0; t < T; t++) {
                sgd_sums_portable(ref, p0 + at[t], p2 + at[t], g + at[t], len[t]);
                bits += memcmp(ref, sums[t], sizeof ref) != 0;
            }
            // Negative controls. A decayed prefix one tensor short:
            if (sp.weight_decay > 0) {
                memcpy(p2, p0, sizeof(float) * n), memcpy(q.velocity, v0, sizeof(float) * n);
                sgd_step_sums(&q, p2, g, at[2], sp.lr, &s);
                decayed++, decay_caught += memcmp(p1, p2, sizeof(float) * n) != 0;
            }
            // One value's update off by one ulp (the sums of the tensor holding it):
            memcpy(p2, p1, sizeof(float) * n);
            size_t k = at[4] + len[4] / 2;
            while (k > at[4] && fabsf(p2[k]) < 1e-30f) k--;  // a normal value (flush-to-zero reads the others as 0)
            p2[k] = nextafterf(p2[k], INFINITY);
            sgd_sums_portable(ref, p0 + at[4], p2 + at[4], g + at[4], len[4]);
            ulp_caught += memcmp(ref, sums[4], sizeof ref) != 0;
            // One serial accumulator (the largest tensor):
            int big = 0;
            for (int t = 1; t < T; t++) big = len[t] > len[big] ? t : big;
            double serial[SGD_SUMS] = {0};
            for (size_t i = at[big]; i < at[big] + len[big]; i++) {
                const double b = p0[i], d = (double)p1[i] - b, gg = g[i];
                serial[0] += b, serial[1] += b * b, serial[2] += d, serial[3] += d * d, serial[4] += gg,
                    serial[5] += gg * gg;
            }
            serial_caught += len[big] > 64 && memcmp(serial, sums[big], sizeof serial) != 0;
            wide += len[big] > 64;
            sgd_free(&o), sgd_free(&q);
        }
    }
    CHECK(upd == 0, "sgd_step_sums: parameters or momentum buffers differ from sgd_step's in %d of %d cases", upd,
          cases);
    CHECK(before == 0, "sgd_step_sums: the stored parameters differ from those before the update in %d of %d cases",
          before, cases);
    CHECK(bits == 0, "sgd_step_sums: %d of %d tensors' sums differ from sgd_sums_portable's", bits, cases * T);
    CHECK(decayed > 0 && decay_caught == decayed, "negative control: a decayed prefix one tensor short passed in %d of "
          "%d cases", decayed - decay_caught, decayed);
    CHECK(ulp_caught == cases, "negative control: a one-ulp change passed in %d of %d cases", cases - ulp_caught,
          cases);
    CHECK(wide > 60 && serial_caught == wide, "negative control: serial sums equal the lanes' in %d of %d tensors",
          wide - serial_caught, wide);
}

// Plain SGD where the weight decay is 0 skips g + 0·b in sgd_step_sums (the same bits for every finite b); a parameter
// that is ±inf or NaN makes that product NaN in sgd_step, so the tensor holding it is updated the full way: the
// parameters equal sgd_step's bit for bit (NaN payloads included) and the sums are the plain loop's (non-finite where
// its are).
static void test_step_sums_nonfinite(void) {
    enum { T = 4, N = 301 };
    static float p0[T * N], g[T * N], p1[T * N], p2[T * N], bk[T * N];
    size_t at[T], len[T];
    double sums[T][SGD_SUMS], ref[SGD_SUMS];
    rng_t r;
    rng_seed(&r, 11, 0);
    int cases = 0, upd = 0, sums_off = 0, shortcut_differs = 0;
    const float bad[3] = {INFINITY, -INFINITY, NAN};
    for (int trial = 0; trial < 12; trial++) {
        const optim_spec_t sp = {.lr = 0.1, .weight_decay = trial % 2 ? 0.01 : 0.0};
        size_t n = 0;
        for (int t = 0; t < T; t++) at[t] = n, len[t] = N - (size_t)t * 7, n += len[t];  // lengths 301, 294, 287, 280
        const size_t n_decay = at[2];  // the first two tensors decayed
        for (size_t i = 0; i < n; i++) p0[i] = (float)(0.1 * rng_normal(&r)), g[i] = (float)(1e-2 * rng_normal(&r));
        // One non-finite value in a tensor (a whole group of 8 or the tail), in turn, and a zero gradient at one.
        const int t_bad = trial % T;
        const size_t k = at[t_bad] + (trial / T == 2 ? len[t_bad] - 1 : (size_t)(trial * 37) % (len[t_bad] - 8));
        p0[k] = bad[trial % 3];
        if (trial % 3 == 1) g[k] = 0.0f;
        for (int copy = 0; copy < 2; copy++) {
            sgd_t o, q;
            sgd_init(&o, &sp, n), sgd_init(&q, &sp, n);
            memcpy(p1, p0, sizeof(float) * n), memcpy(p2, p0, sizeof(float) * n);
            sgd_step(&o, p1, g, n_decay, sp.lr);
            sgd_sums_t s = {.n = T, .at = at, .len = len, .sums = sums, .before = bk};
            if (copy == 0) sgd_step_sums(&q, p2, g, n_decay, sp.lr, &s);
            else sgd_step_sums_portable(&q, p2, g, n_decay, sp.lr, &s);
            cases++;
            upd += memcmp(p1, p2, sizeof(float) * n) != 0;
            for (int t = 0; t < T; t++) {
                sgd_sums_portable(ref, p0 + at[t], p2 + at[t], g + at[t], len[t]);
                for (int j = 0; j < SGD_SUMS; j++)
                    sums_off += isfinite(ref[j]) ? memcmp(&ref[j], &sums[t][j], sizeof ref[j]) != 0 : isfinite(sums[t][j]);
            }
            sgd_free(&o), sgd_free(&q);
        }
        // Control: the shortcut's value at the bad parameter differs from sgd_step's (so the full way is what keeps
        // them equal) wherever that parameter's weight decay is 0.
        const float eta = (float)sp.lr, shortcut = p0[k] - eta * g[k];
        uint32_t a, b;
        memcpy(&a, &shortcut, sizeof a), memcpy(&b, &p1[k], sizeof b);
        shortcut_differs += a != b;
    }
    CHECK(upd == 0, "sgd_step_sums with a non-finite parameter: parameters differ from sgd_step's in %d of %d cases",
          upd, cases);
    CHECK(sums_off == 0, "sgd_step_sums with a non-finite parameter: %d sums differ from the plain loop's", sums_off);
    CHECK(shortcut_differs >= 4, "control: b - eta g equals sgd_step's b - eta (g + 0 b) at a non-finite b in all but "
          "%d of 12 trials", shortcut_differs);
}

int main(void) {
    test_sgd();
    test_step_sums();
    test_step_sums_nonfinite();
    test_rng();
    return check_summary("optim");
}
