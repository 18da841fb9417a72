// The analysis tools: ICS on a network small enough to work out by hand, percentiles, medians and
// steps-to-target on a synthetic metrics file, and the shift-noise distribution.
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "run/ics.h"
#include "nn/layers.h"
#include "run/percentiles.h"
#include "run/updatelog.h"
#include "base/rng.h"
#include "lab/summary.h"
#include "base/util.h"

// x -> h = w1 x -> z = (a h, b h) -> softmax cross-entropy with label 0, SGD without momentum, rate eta.
// By hand: dW2 = (p - e0) h, dw1 = x ((p0 - 1) a + p1 b); after the update of layer 1 only,
// w1' = w1 - eta dw1, h' = w1' x, and G' = (p' - e0) h'. ICS of dense layer 2 = ||G - G'||.
static void test_ics_by_hand(void) {
    const double x = 0.8, w1 = 0.5, a = 1.2, b = -0.7, eta = 0.3;
    double h = w1 * x, z0 = a * h, z1 = b * h, e0 = exp(z0), e1 = exp(z1);
    double p0 = e0 / (e0 + e1), p1 = e1 / (e0 + e1);
    double G[2] = {(p0 - 1) * h, p1 * h};
    double dw1 = x * ((p0 - 1) * a + p1 * b);
    double h2 = (w1 - eta * dw1) * x, f0 = exp(a * h2), f1 = exp(b * h2);
    double q0 = f0 / (f0 + f1), q1 = f1 / (f0 + f1);
    double Gp[2] = {(q0 - 1) * h2, q1 * h2};
    double want_l2 = hypot(G[0] - Gp[0], G[1] - Gp[1]);
    double want_cos = (G[0] * Gp[0] + G[1] * Gp[1]) / (hypot(G[0], G[1]) * hypot(Gp[0], Gp[1]));

    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = 1, .bias = 0}, {.kind = LAYER_DENSE, .units = 2, .bias = 0}};
    model_t m;
    CHECK(model_build(&m, s, 2, 1, 2, 1) == 0, "build");
    m.layers[0].W[0] = (float)w1, m.layers[1].W[0] = (float)a, m.layers[1].W[1] = (float)b;
    float xf[1] = {(float)x};
    int32_t y[1] = {0};
    train_rng_t r = {0};
    model_forward(&m, xf, 1, MODE_TRAIN, &r);
    model_loss_backward_head(&m, y, 1, NULL);
    model_backward(&m, xf, 1);
    CHECK_NEAR(m.layers[1].dW[0], G[0], 1e-6, "G by hand");
    CHECK_NEAR(m.layers[0].dW[0], dw1, 1e-6, "dw1 by hand");
    optim_spec_t os = {.lr = eta};
    sgd_t opt;
    sgd_init(&opt, &os, m.n_params);
    ics_t ics;
    ics_init(&ics, &m, 1);
    float params[3], grads[3];
    memcpy(params, m.params, sizeof params);
    memcpy(grads, m.grads, sizeof grads);
    double l2[2], cs[2];
    ics_measure(&ics, &m, &opt, xf, y, 1, &r, eta, 0, l2, cs);
    CHECK_NEAR(l2[1], want_l2, 1e-6 + 1e-4 * want_l2, "ICS ||G - G'|| of dense layer 2");
    CHECK_NEAR(cs[1], want_cos, 1e-5, "cos(G, G')");
    CHECK(want_l2 > 1e-3, "the hand case should have a visible shift (%g)", want_l2);
    CHECK(memcmp(params, m.params, sizeof params) == 0 && memcmp(grads, m.grads, sizeof grads) == 0,
          "ics_measure changed the parameters or gradients");
    ics_free(&ics);
    sgd_free(&opt);
    model_free(&m);
}

static void test_percentiles(void) {
    float v[5] = {4, 0, 3, 1, 2}, tmp[5];
    sort_floats(v, 5, tmp);
    CHECK(v[0] == 0 && v[4] == 4, "sorted");
    CHECK_NEAR(percentile_sorted(v, 5, 50), 2.0, 0, "median of 0..4");
    CHECK_NEAR(percentile_sorted(v, 5, 15), 0.6, 1e-12, "15th percentile interpolates: 0.15 * 4 = 0.6");
    CHECK_NEAR(percentile_sorted(v, 5, 85), 3.4, 1e-6, "85th percentile");
    CHECK_NEAR(percentile_sorted(v, 5, 100), 4.0, 0, "100th");
    float one[1] = {7};
    CHECK_NEAR(percentile_sorted(one, 1, 15), 7.0, 0, "single value");
    double d[4] = {3, 1, 4, 2};
    CHECK_NEAR(median(d, 4), 2.5, 0, "even median");
    double e[3] = {INFINITY, 1, 5};
    CHECK_NEAR(median(e, 3), 5, 0, "median with a never-reached (+inf) seed");
}

// Selected percentiles equal the sorted ones exactly, for every small size, on data with many ties (a few bins
// hold everything), on continuous data over many magnitudes and both signs (ranks in different bins), and with
// -0.0 beside +0.0.
static void test_percentiles_select(void) {
    rng_t r;
    rng_seed(&r, 11, 0);
    static float a[3000], b[3000], cand[6000], tmp[3000];
    static uint32_t hist[PCT_BINS];
    const double q[5] = {0, 15, 50, 85, 100};
    int bad = 0;
    for (int trial = 0; trial < 900; trial++) {
        size_t n = trial < 100 ? (size_t)trial + 1 : 1 + rng_below(&r, 3000);
        uint32_t levels = 1 + rng_below(&r, trial % 3 ? 1000 : 5);  // some arrays mostly ties
        for (size_t i = 0; i < n; i++) {
            if (trial % 3 == 2)  // continuous: normal values times 10^(-6..6), a few zeros of either sign
                a[i] = rng_below(&r, 50) == 0 ? (rng_below(&r, 2) ? -0.0f : 0.0f)
                                               : (float)(rng_normal(&r) * pow(10.0, (double)rng_below(&r, 13) - 6.0));
            else
                a[i] = (float)rng_below(&r, levels) - 2.5f;
            b[i] = a[i];
        }
        double got[5];
        percentiles_select(a, n, q, 5, got, hist, cand);
        sort_floats(b, n, tmp);
        for (int k = 0; k < 5; k++) bad += got[k] != percentile_sorted(b, n, q[k]);
    }
    CHECK(bad == 0, "%d selected percentiles differ from sorting", bad);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// A planted error for the negative control: the same merge sort, but a tie takes the right value first (unstable).
static void merge_ties_right(float *b, size_t n, float *tmp) {
    if (n <= 1) return;
    size_t n1 = n / 2, n2 = n - n1;
    float *b1 = b, *b2 = b + n1, *t = tmp;
    merge_ties_right(b1, n1, tmp);
    merge_ties_right(b2, n2, tmp);
    while (n1 > 0 && n2 > 0) {
        if (*b1 < *b2) *t++ = *b1++, n1--;
        else *t++ = *b2++, n2--;
    }
    if (n1 > 0) memcpy(t, b1, n1 * sizeof *t);
    memcpy(b, tmp, (n - n2) * sizeof *b);
}

// sort_floats (no allocation) gives what glibc's qsort with the same comparison gave before it, byte for byte —
// the order of -0.0 and +0.0 and where NaNs (of several payloads) end up included — for every size up to 40 and
// random ones up to 5000 (qsort mallocs its buffer from 256 floats on). Negative control: the merge with ties taken
// from the right differs on the same arrays.
static void test_sort_floats_is_qsort(void) {
    rng_t r;
    rng_seed(&r, 12, 0);
    static float a[5000], want[5000], got[5000], planted[5000], tmp[5000];
    const uint32_t nans[3] = {0x7fc00000u, 0xffc00001u, 0x7f800123u};
    int bad = 0, caught = 0;
    for (int trial = 0; trial < 400; trial++) {
        size_t n = trial < 40 ? (size_t)trial + 1 : 1 + rng_below(&r, 5000);
        for (size_t i = 0; i < n; i++) {
            uint32_t k = rng_below(&r, 10);
            if (k == 0) a[i] = rng_below(&r, 2) ? -0.0f : 0.0f;
            else if (k == 1 && trial % 2) memcpy(&a[i], &nans[rng_below(&r, 3)], sizeof(float));
            else a[i] = (float)rng_below(&r, trial % 3 ? 7 : 1000) - 3.0f;
        }
        memcpy(want, a, n * sizeof *a), memcpy(got, a, n * sizeof *a), memcpy(planted, a, n * sizeof *a);
        qsort(want, n, sizeof *want, cmp_float);
        sort_floats(got, n, tmp);
        merge_ties_right(planted, n, tmp);
        bad += memcmp(want, got, n * sizeof *got) != 0;
        caught += memcmp(want, planted, n * sizeof *planted) != 0;
    }
    CHECK(bad == 0, "sort_floats differs from qsort on %d of 400 arrays", bad);
    CHECK(caught > 300, "negative control: a merge sort unstable on ties matched qsort on %d of 400 arrays",
          400 - caught);
}

// sgd_sums / update_moments (log.update_ratios_every): the dispatched copy (AVX-512 where the CPU has it) gives
// the plain loop's bits, for every size up to 40 and random ones (tails of every length); norms and spreads agree
// with a two-pass long double reference to 1e-13 for centred tensors, γ-like ones (1 ± s) and γ-like ones with a
// tiny spread (these through the shifted sums); a constant tensor has spread exactly 0. Negative controls: the
// reference catches a planted error of 1e-10, and the unshifted formula is wrong where the shifted sums are used.
static double ref_std(const float *x, const float *y, size_t n, int diff) {
    long double s = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) s += diff ? (long double)y[i] - x[i] : x[i];
    long double mu = s / n;
    for (size_t i = 0; i < n; i++) {
        long double v = (diff ? (long double)y[i] - x[i] : x[i]) - mu;
        m2 += v * v;
    }
    return (double)sqrtl(m2 / n);
}

static void test_update_sums(void) {
    rng_t r;
    rng_seed(&r, 13, 0);
    static float b[5000], a[5000], g[5000];
    int bits = 0, far = 0, caught = 0, multi = 0, shifted = 0;
    for (int trial = 0; trial < 300; trial++) {
        size_t n = trial < 40 ? (size_t)trial + 1 : 1 + rng_below(&r, 5000);
        double scale = pow(10.0, (double)rng_below(&r, 7) - 3.0);
        int kind = trial % 3;  // 0: centred (weights), 1: γ-like 1 ± scale, 2: γ-like with a tiny spread
        double mean = kind ? 1.0 : 0.0, spread = kind == 2 ? 1e-6 : scale;
        for (size_t i = 0; i < n; i++) {
            b[i] = (float)(mean + spread * rng_normal(&r));
            a[i] = b[i] - (float)(1e-3 * scale * rng_normal(&r));
            g[i] = (float)(kind == 2 ? 1.0 + 1e-6 * rng_normal(&r) : scale * rng_normal(&r));
        }
        double s[UPDATE_SUMS], p[UPDATE_SUMS], mo[UPDATE_MOMENTS];
        sgd_sums(s, b, a, g, n);
        sgd_sums_portable(p, b, a, g, n);
        bits += memcmp(s, p, sizeof s) != 0;
        shifted += update_spread(s[0], s[1], n) < 0 || update_spread(s[4], s[5], n) < 0;
        update_moments(mo, b, a, g, n);
        double want[UPDATE_MOMENTS] = {0, ref_std(b, NULL, n, 0), 0, ref_std(b, a, n, 1), ref_std(g, NULL, n, 0)};
        long double nb = 0, nd = 0;
        for (size_t i = 0; i < n; i++) {
            const long double di = (long double)a[i] - b[i];
            nb += (long double)b[i] * b[i], nd += di * di;
        }
        want[0] = (double)sqrtl(nb), want[2] = (double)sqrtl(nd);
        for (int k = 0; k < UPDATE_MOMENTS; k++)
            if (n > 1 || k % 2 == 0) far += fabs(mo[k] - want[k]) > 1e-13 * want[k];
        if (n > 1) multi++, caught += fabs(mo[1] * (1 + 1e-10) - want[1]) > 1e-13 * want[1];
    }
    CHECK(bits == 0, "sgd_sums: the dispatched copy and the plain loop differ in %d of 300 tensors", bits);
    CHECK(far == 0, "update_moments: %d norms or spreads off a long double two-pass reference by more than 1e-13", far);
    CHECK(shifted >= 100, "only %d of 300 tensors took the shifted sums (the γ-like ones with a tiny spread must)",
          shifted);
    CHECK(caught == multi, "negative control: a 1e-10 error passed in %d of %d tensors", multi - caught, multi);
    // Negative control for the shifted sums: on γ = 1 ± 1e-6 the plain Σx² − (Σx)²/n loses the spread.
    for (int i = 0; i < 1000; i++) b[i] = (float)(1.0 + 1e-6 * rng_normal(&r)), a[i] = b[i], g[i] = 0;
    double s[UPDATE_SUMS], mo[UPDATE_MOMENTS];
    sgd_sums(s, b, a, g, 1000);
    double naive = sqrt(fabs(s[1] - s[0] * (s[0] / 1000)) / 1000), want = ref_std(b, NULL, 1000, 0);
    CHECK(fabs(naive - want) > 1e-6 * want && update_spread(s[0], s[1], 1000) < 0,
          "negative control: the unshifted spread of 1 ± 1e-6 was accurate (%g against %g), or not refused", naive,
          want);
    for (int i = 0; i < 100; i++) b[i] = 1.1f, a[i] = 1.1f, g[i] = 0.3f;
    update_moments(mo, b, a, g, 100);
    CHECK(mo[1] == 0 && mo[2] == 0 && mo[3] == 0 && mo[4] == 0,
          "update_moments: a constant tensor has a spread (%g %g %g)", mo[1], mo[3], mo[4]);
}

static void test_steps_to_target(void) {
    char path[] = "/tmp/bnlab-metrics-XXXXXX";
    int fd = mkstemp(path);
    const char *csv = "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n"
                      "100,1,2.0,0.3,1.9,0.55,0.1,0.5\n"
                      "200,2,1.0,0.7,0.9,0.81,0.1,1.0\n"
                      "300,3,0.5,0.9,0.6,0.79,0.1,1.5\n"
                      "400,4,0.3,0.95,0.4,0.905,0.1,,\n";
    CHECK(write(fd, csv, strlen(csv)) == (ssize_t)strlen(csv), "write");
    close(fd);
    run_result_t r = {0};
    CHECK(curve_read(&r.curve, path) == 0, "read: %s", bnlab_errmsg());
    CHECK(r.curve.n == 4, "rows %d", r.curve.n);
    double targets[3] = {0.8, 0.9, 0.95};
    run_result_from_curve(&r, targets, 3);
    CHECK(r.steps_to[0] == 200, "80%% first reached at 200, got %ld", r.steps_to[0]);
    CHECK(r.steps_to[1] == 400, "90%% first reached at 400, got %ld", r.steps_to[1]);
    CHECK(r.steps_to[2] == -1, "95%% never reached");
    CHECK_NEAR(r.final_acc, 0.905, 1e-12, "final");
    CHECK_NEAR(r.best_acc, 0.905, 1e-12, "best");
    // Two variants: B needs 2x the steps of A for 80%; summary JSON carries the ratio.
    run_result_t ra = r, rb = r;
    rb.steps_to[0] = 400;
    variant_result_t v[2] = {{"A", &ra, 1}, {"B", &rb, 1}};
    ra.ok = rb.ok = 1;
    cJSON *j = summary_to_json(v, 2, targets, 3);
    cJSON *vb = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "variants"), 1);
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(vb, "steps_to_target"), 0);
    CHECK_NEAR(cJSON_GetObjectItem(t0, "ratio_to_reference")->valuedouble, 2.0, 1e-12, "ratio B/A");
    cJSON *t2 = cJSON_GetArrayItem(cJSON_GetObjectItem(vb, "steps_to_target"), 2);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(t2, "median")), "never reached -> null");
    char *md = summary_to_markdown(v, 2, targets, 3);
    CHECK_MSG(md, "80%: B needs 2.00× the steps of A (400 vs 200)");
    CHECK_MSG(md, "| never |");
    free(md);
    cJSON_Delete(j);
    curve_free(&r.curve);
    // Malformed files are errors, not garbage.
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds\n100,1,2.0\n";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad), "write");
    close(fd);
    CHECK(curve_read(&r.curve, path) != 0, "accepted a short row");
    CHECK_MSG(bnlab_errmsg(), ":2: malformed row");
    unlink(path);
}

static void test_noise_distribution(void) {
    rng_t r;
    rng_seed(&r, 5, RNG_STREAM_NOISE);
    enum { F = 100, T = 2000 };
    float s[F], m[F];
    double ms = 0, ss = 0, lo = 1e9, hi = -1e9;
    for (int t = 0; t < T; t++) {
        noise_draw(s, m, F, &r);
        double mm = 0;
        for (int j = 0; j < F; j++) mm += m[j], ss += s[j], lo = fmin(lo, m[j]), hi = fmax(hi, m[j]);
        ms += mm / F;
    }
    // m ~ U(mu_t +- 0.1), mu_t ~ U(-0.5, 0.5): within [-0.6, 0.6], mean 0; s ~ N(sigma_t, 0.1), E = 1.125.
    CHECK(lo >= -0.6 && hi <= 0.6, "shift outside [-0.6, 0.6]: %g..%g", lo, hi);
    CHECK_NEAR(ms / T, 0.0, 5 * sqrt(1.0 / 12 / T), "mean shift");
    CHECK_NEAR(ss / (T * F), 1.125, 5 * 0.25 / sqrt(12.0 * T), "mean scale");
}

int main(void) {
    test_ics_by_hand();
    test_percentiles();
    test_percentiles_select();
    test_sort_floats_is_qsort();
    test_update_sums();
    test_steps_to_target();
    test_noise_distribution();
    return check_summary("analysis");
}
