// Activation statistics (run/stats.h) against a float64 two-pass reference over the very same float values, on the
// layers where sumsq/n - mean^2 cancels: an offset layer, a saturated sigmoid, many batches of different means;
// exact zeros for a single value and a constant layer; the old one-pass formula as a negative control; and the
// checkpoint layout (pack -> unpack, rejected tensors).
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "check.h"
#include "run/stats.h"

#define REL_TOL 1e-5

// A deterministic N(0, 1) stream (xorshift64* and Box-Muller): the test needs spread, not quality.
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void) {
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return ((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53 + 0x1.0p-54;  // (0, 1)
}
static double normal01(void) { return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01()); }

// The reference: float64 two-pass over y[0, n) (the values the accumulator saw, as floats).
typedef struct {
    double mean, std, min, max;
    uint64_t saturated;
} ref_t;
static ref_t reference(const float *y, size_t n) {
    ref_t r = {0, 0, INFINITY, -INFINITY, 0};
    double s = 0, q = 0;
    for (size_t k = 0; k < n; k++) {
        s += y[k];
        r.min = fmin(r.min, y[k]), r.max = fmax(r.max, y[k]);
        r.saturated += y[k] < 0.02f || y[k] > 0.98f;  // the sigmoid's thresholds as stats.h documents them
    }
    r.mean = s / (double)n;
    for (size_t k = 0; k < n; k++) q += ((double)y[k] - r.mean) * ((double)y[k] - r.mean);
    r.std = sqrt(q / (double)n);
    return r;
}

// The formula this replaced (bnlab before: eight float lanes of sum and sum of squares, combined in double,
// var = sumsq/n - mean^2 clamped at 0), kept as the negative control: the test must be able to see its error.
static double old_one_pass_std(const float *y, size_t n) {
    float sum[8] = {0}, sq[8] = {0};
    for (size_t k = 0; k < n; k++) sum[k % 8] += y[k], sq[k % 8] += y[k] * y[k];
    double s = 0, q = 0;
    for (int u = 0; u < 8; u++) s += sum[u], q += sq[u];
    double mu = s / (double)n, var = q / (double)n - mu * mu;
    return var > 0 ? sqrt(var) : 0.0;
}

static double rel_err(double got, double want) { return fabs(got - want) / fabs(want); }

// The accumulator a (fed with exactly y[0, n)) against the reference, all at REL_TOL.
static void check_against_reference(const act_acc_t *a, const float *y, size_t n, int sigmoid, const char *what) {
    ref_t r = reference(y, n);
    double mean, std, sat;
    act_acc_summary(a, sigmoid, &mean, &std, &sat);
    CHECK(a->count == n, "%s: count %llu, want %zu", what, (unsigned long long)a->count, n);
    CHECK(rel_err(mean, r.mean) <= REL_TOL, "%s: mean %.12g, reference %.12g", what, mean, r.mean);
    CHECK(rel_err(std, r.std) <= REL_TOL, "%s: std %.12g, reference %.12g (rel. error %.3g)", what, std, r.std,
          rel_err(std, r.std));
    CHECK(a->min == r.min && a->max == r.max, "%s: min/max %.9g %.9g, reference %.9g %.9g", what, a->min, a->max,
          r.min, r.max);
    if (sigmoid) CHECK(sat == (double)r.saturated / (double)n, "%s: saturated %.9g, reference %.9g", what, sat,
                       (double)r.saturated / (double)n);
}

// A one-layer model whose last forward pass produced y (B, F): act_stats_add's path, as in training.
static void add_as_layer(act_stats_t *s, float *y, int B, int F, layer_kind_t kind) {
    layer_t l;
    memset(&l, 0, sizeof l);
    l.spec.kind = kind, l.out = F, l.y = y;
    model_t m;
    memset(&m, 0, sizeof m);
    m.n_layers = 1, m.layers = &l;
    act_stats_add(s, &m, B);
}

enum { B = 60, F = 100, N = B * F };

static void test_offset_layer(void) {
    // (a) A dense layer with mean -4.5 and std ~1e-3: sumsq/n and mean^2 agree in their first 7 digits.
    static float y[N];
    for (int k = 0; k < N; k++) y[k] = (float)(-4.5 + 1.3e-3 * normal01());
    act_stats_t s;
    act_stats_init(&s, 1);
    add_as_layer(&s, y, B, F, LAYER_DENSE);
    check_against_reference(&s.acc[0], y, N, 0, "offset layer");
    act_stats_free(&s);
}

static void test_saturated_sigmoid(void) {
    // (b) A saturated sigmoid: pre-activations ~ N(9.2, 0.3^2), outputs ~ 0.9999 with spread ~1e-5 — the case
    // where the one-pass formula returned 0.
    static float y[N];
    for (int k = 0; k < N; k++) y[k] = 1.0f / (1.0f + expf(-(float)(9.2 + 0.3 * normal01())));
    act_stats_t s;
    act_stats_init(&s, 1);
    add_as_layer(&s, y, B, F, LAYER_SIGMOID);
    check_against_reference(&s.acc[0], y, N, 1, "saturated sigmoid");
    ref_t r = reference(y, N);
    CHECK(r.std > 1e-6 && r.std < 1e-4, "the case is not saturated: reference std %.3g", r.std);
    // Negative control: the old formula is far outside the tolerance on the same values.
    double old = old_one_pass_std(y, N);
    CHECK(rel_err(old, r.std) > 100 * REL_TOL, "old one-pass std %.9g vs reference %.9g: the test cannot fail", old,
          r.std);
    printf("saturated sigmoid: reference std %.9g, new %.9g, old one-pass %.9g\n", r.std,
           sqrt(s.acc[0].m2 / (double)s.acc[0].count), old);
    act_stats_free(&s);
}

static void test_many_batches(void) {
    // (c) 40 batches of different sizes (tails of every length mod 16) and means from -50 to +60 with spread
    // 1e-2: Chan's merge must recover the std of the whole set, dominated by the spread between batch means,
    // and each batch's own spread must survive it too (second set: equal spread, means 1000 apart at 1e4).
    enum { NB = 40, MAXN = 700 };
    static float all[NB * MAXN];
    size_t n = 0;
    act_acc_t a = {.min = INFINITY, .max = -INFINITY};
    for (int b = 0; b < NB; b++) {
        size_t nb = 1 + (size_t)(b * 37 % MAXN);
        double mu = -50.0 + 110.0 * b / (NB - 1);
        for (size_t k = 0; k < nb; k++) all[n + k] = (float)(mu + 1e-2 * normal01());
        act_acc_add(&a, all + n, nb, NULL);
        n += nb;
    }
    check_against_reference(&a, all, n, 0, "40 batches, means -50..60");
    // Per-batch spread only: every batch centred on 1e4 exactly; the merged std is the within-batch spread.
    act_acc_t c = {.min = INFINITY, .max = -INFINITY};
    n = 0;
    for (int b = 0; b < NB; b++) {
        size_t nb = 5 + (size_t)(b * 53 % 300);
        for (size_t k = 0; k < nb; k++) all[n + k] = (float)(1e4 + 5e-2 * normal01());
        act_acc_add(&c, all + n, nb, NULL);
        n += nb;
    }
    check_against_reference(&c, all, n, 0, "40 batches at mean 1e4, std 5e-2");
    // Merging two accumulators built separately equals one built on the concatenation.
    act_acc_t l = {.min = INFINITY, .max = -INFINITY}, r = l;
    act_acc_add(&l, all, n / 3, NULL);
    act_acc_add(&r, all + n / 3, n - n / 3, NULL);
    act_acc_merge(&l, &r);
    check_against_reference(&l, all, n, 0, "two halves merged");
    act_acc_t e = {.min = INFINITY, .max = -INFINITY};
    act_acc_merge(&e, &l);  // into an empty one: a copy
    CHECK(memcmp(&e, &l, sizeof e) == 0, "merge into an empty accumulator is not a copy");
    act_acc_merge(&l, &(act_acc_t){.min = INFINITY, .max = -INFINITY});  // of an empty one: nothing
    CHECK(memcmp(&e, &l, sizeof e) == 0, "merging an empty accumulator changed the result");
}

static void test_exact_zeros(void) {
    // (d) One value: mean is that value, std exactly 0; a constant layer (one batch, then many): std exactly 0.
    const float one = 0.7f;
    act_acc_t a = {.min = INFINITY, .max = -INFINITY};
    act_acc_add(&a, &one, 1, layer_kind(LAYER_SIGMOID));
    double mean, std, sat;
    act_acc_summary(&a, 1, &mean, &std, &sat);
    CHECK(mean == (double)one && std == 0.0 && sat == 0.0, "single value: mean %.9g std %.3g sat %g", mean, std, sat);
    static float y[N];
    for (int k = 0; k < N; k++) y[k] = 0.9999f;
    act_stats_t s;
    act_stats_init(&s, 1);
    add_as_layer(&s, y, B, F, LAYER_SIGMOID);
    act_acc_summary(&s.acc[0], 1, &mean, &std, &sat);
    CHECK(mean == (double)0.9999f && std == 0.0 && sat == 1.0, "constant layer: mean %.9g std %.3g sat %g", mean, std,
          sat);
    for (int b = 0; b < 25; b++) add_as_layer(&s, y, B - b, F, LAYER_SIGMOID);  // batches of other sizes
    act_acc_summary(&s.acc[0], 1, &mean, &std, &sat);
    CHECK(mean == (double)0.9999f && std == 0.0, "constant layer, 26 batches: mean %.9g std %.3g", mean, std);
    // Empty: no values, mean and std 0 (as before), infinities kept for min/max.
    act_stats_reset(&s);
    act_acc_summary(&s.acc[0], 1, &mean, &std, &sat);
    CHECK(mean == 0 && std == 0 && sat == 0 && s.acc[0].count == 0, "empty: mean %g std %g sat %g", mean, std, sat);
    act_stats_free(&s);
}

static void test_pack_unpack(void) {
    static float y[N];
    for (int k = 0; k < N; k++) y[k] = 1.0f / (1.0f + expf(-(float)(2.0 * normal01())));
    act_stats_t s, t;
    act_stats_init(&s, 3);
    act_stats_init(&t, 3);
    act_acc_add(&s.acc[0], y, N, layer_kind(LAYER_SIGMOID));
    act_acc_add(&s.acc[0], y, N / 2 + 3, layer_kind(LAYER_SIGMOID));
    act_acc_add(&s.acc[2], y + 7, 1234, NULL);  // layer 1 stays empty
    double packed[3 * ACT_ACC_PACKED];
    act_stats_pack(&s, packed);
    for (int k = 0; k < ACT_ACC_PACKED; k++) CHECK(packed[ACT_ACC_PACKED + k] == 0, "empty layer packed[%d] = %g", k, packed[ACT_ACC_PACKED + k]);
    for (int k = 0; k < 3 * ACT_ACC_PACKED; k++) CHECK(isfinite(packed[k]), "packed[%d] = %g is not finite", k, packed[k]);
    CHECK(packed[0] == (double)(N + N / 2 + 3) && packed[5] == (double)s.acc[0].saturated && packed[5] > 0,
          "layout: count %g saturated %g", packed[0], packed[5]);
    CHECK(act_stats_unpack(&t, packed, "x.safetensors") == 0, "unpack: %s", bnlab_errmsg());
    for (int i = 0; i < 3; i++)
        CHECK(memcmp(&s.acc[i], &t.acc[i], sizeof s.acc[i]) == 0, "layer %d differs after pack -> unpack", i);
    CHECK(t.acc[1].min == INFINITY && t.acc[1].max == -INFINITY, "empty layer unpacked with min %g max %g",
          t.acc[1].min, t.acc[1].max);

    // Rejected: each one corrupt field; the message names the file and the tensor; s is left as it was.
    struct {
        int layer, field;
        double value;
        const char *what;
    } bad[] = {
        {0, 0, -6000.0, "count is not a non-negative integer"}, {2, 0, 12.5, "count is not a non-negative integer"},
        {0, 0, NAN, "count is not a non-negative integer"},     {0, 1, NAN, "mean is not finite"},
        {0, 1, INFINITY, "mean is not finite"},                 {2, 2, -1e-9, "m2 is negative"},
        {0, 3, 2.0, "min > max"},                               {0, 5, 1e9, "saturated is not an integer in [0, count]"},
        {1, 2, 3.0, "count is 0 but"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        double v[3 * ACT_ACC_PACKED];
        memcpy(v, packed, sizeof v);
        v[bad[b].layer * ACT_ACC_PACKED + bad[b].field] = bad[b].value;
        act_stats_reset(&t);
        CHECK(act_stats_unpack(&t, v, "dir/step-000000300.safetensors") == -1, "case %zu (%s %g) accepted", b,
              bad[b].what, bad[b].value);
        CHECK_MSG(bnlab_errmsg(), "dir/step-000000300.safetensors");
        CHECK_MSG(bnlab_errmsg(), "trainer.epoch_stats");
        CHECK_MSG(bnlab_errmsg(), bad[b].what);
        CHECK(t.acc[0].count == 0 && t.acc[2].count == 0, "case %zu: a rejected tensor was partly loaded", b);
    }
    act_stats_free(&s);
    act_stats_free(&t);
}

int main(void) {
    test_offset_layer();
    test_saturated_sigmoid();
    test_many_batches();
    test_exact_zeros();
    test_pack_unpack();
    return check_summary("stats");
}
