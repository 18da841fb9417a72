// run/gradstats.h: dLoss/dh at every site, its mean, std and percentiles, dead units and saturated fractions equal an
// independent float64 computation on the same parameters and batch: the network downstream of the site written again
// here in double and differentiated by central finite differences of the loss; activations from a double forward
// pass. Negative control: a downstream weight changed by 1 % makes the same comparison fail. Also hist_count
// (run/binning.h), the binning rule it shares.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/rng.h"
#include "base/util.h"
#include "run/binning.h"
#include "run/gradinit.h"
#include "run/gradstats.h"

enum { IN = 7, B = 6, C = 3, W_MAX = 8 };

// Layers first..n-1 of m in double on a (B, width) with batch statistics; returns the mean cross-entropy. acts (or
// NULL): each layer's output, (n_layers, B, W_MAX).
static double forward_from(const model_t *m, int first, const double *a, const int32_t *labels, double *acts) {
    double cur[B * W_MAX], nxt[B * W_MAX];
    int width = first == 0 ? m->in_dim : m->layers[first - 1].out;
    memcpy(cur, a, sizeof(double) * B * width);
    for (int i = first; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        switch (l->spec.kind) {
        case LAYER_DENSE:
            for (int e = 0; e < B; e++)
                for (int j = 0; j < l->out; j++) {
                    double s = l->b ? l->b[j] : 0;
                    for (int k = 0; k < l->in; k++) s += (double)l->W[j * l->in + k] * cur[e * width + k];
                    nxt[e * l->out + j] = s;
                }
            break;
        case LAYER_BATCHNORM:
            for (int j = 0; j < l->out; j++) {
                double mu = 0, var = 0;
                for (int e = 0; e < B; e++) mu += cur[e * width + j];
                mu /= B;
                for (int e = 0; e < B; e++) var += (cur[e * width + j] - mu) * (cur[e * width + j] - mu);
                double is = 1 / sqrt(var / B + l->spec.eps);
                for (int e = 0; e < B; e++) nxt[e * l->out + j] = l->gamma[j] * (cur[e * width + j] - mu) * is + l->beta[j];
            }
            break;
        default:
            for (int t = 0; t < B * l->out; t++) {
                double z = cur[t];
                nxt[t] = l->spec.kind == LAYER_TANH ? tanh(z) : l->spec.kind == LAYER_SIGMOID ? 1 / (1 + exp(-z))
                                                                                              : z > 0 ? z : 0;
            }
        }
        width = l->out;
        memcpy(cur, nxt, sizeof(double) * B * width);
        if (acts) memcpy(acts + (size_t)i * B * W_MAX, cur, sizeof(double) * B * width);
    }
    double loss = 0;
    for (int e = 0; e < B; e++) {
        double mx = cur[e * C], s = 0;
        for (int c = 1; c < C; c++) mx = fmax(mx, cur[e * C + c]);
        for (int c = 0; c < C; c++) s += exp(cur[e * C + c] - mx);
        loss += log(s) + mx - cur[e * C + labels[e]];
    }
    return loss / B;
}

// dLoss/d(output of layer s) by central differences around the model's own (float) values of it.
static void fd_grad(double *g, const model_t *m, int s, const int32_t *labels) {
    const layer_t *l = &m->layers[s];
    double z[B * W_MAX];
    for (int t = 0; t < B * l->out; t++) z[t] = l->y[t];
    for (int t = 0; t < B * l->out; t++) {
        const double h = 1e-6, keep = z[t];
        z[t] = keep + h;
        double lp = forward_from(m, s + 1, z, labels, NULL);
        z[t] = keep - h;
        double lm = forward_from(m, s + 1, z, labels, NULL);
        z[t] = keep;
        g[t] = (lp - lm) / (2 * h);
    }
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Largest disagreement of the module's numbers for site s with the float64 gradient g (n values), relative to max |g|.
static double site_error(const gs_moments_t *mo, const double *g, int n, const double *q, int nq) {
    double mean = 0, m2 = 0, mx = 0, sorted[B * W_MAX];
    for (int t = 0; t < n; t++) mean += g[t], mx = fmax(mx, fabs(g[t]));
    mean /= n;
    for (int t = 0; t < n; t++) m2 += (g[t] - mean) * (g[t] - mean);
    double err = fmax(fabs(mo->mean - mean), fabs(mo->std - sqrt(m2 / n)));
    err = fmax(err, fabs(mo->absmax - mx));
    memcpy(sorted, g, sizeof(double) * n);
    qsort(sorted, (size_t)n, sizeof(double), cmp_d);
    for (int i = 0; i < nq; i++) {
        double pos = q[i] / 100 * (n - 1), lo = floor(pos);
        int k = (int)lo;
        double want = k + 1 < n ? sorted[k] + (pos - lo) * (sorted[k + 1] - sorted[k]) : sorted[k];
        err = fmax(err, fabs(mo->q[i] - want));
    }
    return err / mx;
}

#define TOL 1e-4  // float32 backward against float64: ~1e-6 of the largest gradient; central differences ~1e-9

static void test_sites(void) {
    layer_spec_t s[] = {{.kind = LAYER_DENSE, .units = 8, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                        {.kind = LAYER_TANH},
                        {.kind = LAYER_DENSE, .units = 6, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_RELU},
                        {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                        {.kind = LAYER_DENSE, .units = 5, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}},
                        {.kind = LAYER_SIGMOID},
                        {.kind = LAYER_DENSE, .units = C, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
    const int NL = 9;
    model_t m;
    CHECK(model_build(&m, s, NL, IN, C, B) == 0, "build: %s", bnlab_errmsg());
    model_init(&m, 5);
    rng_t r;
    rng_seed(&r, 11, 2);
    for (int j = 0; j < 8; j++) m.layers[1].gamma[j] = j < 3 ? 4.0f : 0.7f + 0.5f * (float)rng_uniform(&r);  // tanh saturates
    m.layers[3].b[0] = -50.0f, m.layers[3].b[4] = -50.0f;  // two ReLU units dead on every input
    for (int j = 0; j < 5; j++) m.layers[6].b[j] = 3.0f * (float)rng_normal(&r);  // some sigmoid outputs saturate
    float x[B * IN];
    double xd[B * IN];
    int32_t labels[B];
    for (int i = 0; i < B * IN; i++) x[i] = (float)rng_normal(&r), xd[i] = x[i];
    for (int e = 0; e < B; e++) labels[e] = (int32_t)rng_below(&r, C);
    model_forward(&m, x, B, MODE_TRAIN_FROZEN, NULL);
    int correct;
    model_loss_backward_head(&m, labels, B, &correct);
    model_backward(&m, x, B);

    gradstats_t g;
    CHECK(gradstats_init(&g, &m) == 0, "init");
    // Sites: tanh's input (BN 1's output), relu's input (dense 3), BN 5's output (before a dense), sigmoid's input.
    static const int want_layer[] = {1, 3, 5, 6}, want_hidden[] = {1, 2, 2, 3};
    static const gs_where_t want_where[] = {GS_ACT_INPUT, GS_ACT_INPUT, GS_NORM_OUTPUT, GS_ACT_INPUT};
    CHECK(g.n_sites == 4 && g.n_act == 3, "sites %d, nonlinearities %d", g.n_sites, g.n_act);
    const double q[] = {0, 15, 50, 85, 100};
    for (int k = 0; k < g.n_sites && k < 4; k++) {
        const gs_site_t *st = &g.sites[k];
        CHECK(st->layer == want_layer[k] && st->hidden == want_hidden[k] && st->where == want_where[k],
              "site %d: layer %d hidden %d where %d", k, st->layer, st->hidden, (int)st->where);
        const int n = B * m.layers[st->layer].out;
        double gd[B * W_MAX];
        fd_grad(gd, &m, st->layer, labels);
        gs_moments_t mo;
        gradstats_site(&mo, &g, &m, k, B, q, 5);
        CHECK(mo.n == (size_t)n, "site %d: n %zu", k, mo.n);
        double err = site_error(&mo, gd, n, q, 5);
        CHECK(err < TOL, "site %d (layer %d): mean/std/max/percentiles off by %g of the largest gradient", k, st->layer,
              err);
        // Histogram: the counts of the float64 gradient's values by the same rule, within a value or two of an edge.
        uint64_t cnt[10] = {0}, want[10] = {0};
        size_t counted = gradstats_hist(&g, &m, k, B, -mo.absmax, mo.absmax, 10, cnt);
        CHECK(counted == (size_t)n, "site %d: histogram counted %zu of %d", k, counted, n);
        uint64_t moved = 0;
        for (int t = 0; t < n; t++) {
            double j = floor((gd[t] + mo.absmax) / (2 * mo.absmax / 10));
            want[j < 0 ? 0 : j >= 10 ? 9 : (int)j]++;
        }
        for (int b = 0; b < 10; b++) moved += cnt[b] > want[b] ? cnt[b] - want[b] : want[b] - cnt[b];
        CHECK(moved <= 2, "site %d: histogram differs from the float64 one by %llu counts", k, (unsigned long long)moved);
        // Negative control: a weight downstream of the site changed by 1 % — the float64 reference moves out of
        // tolerance (the last dense layer is downstream of every site).
        float keep = m.layers[8].W[0];
        m.layers[8].W[0] *= 1.01f;
        double gbad[B * W_MAX];
        fd_grad(gbad, &m, st->layer, labels);
        m.layers[8].W[0] = keep;
        double bad = site_error(&mo, gbad, n, q, 5);
        CHECK(bad > TOL, "negative control: a 1%% weight change passed at site %d (%g)", k, bad);
    }
    // Dead units and saturation against a float64 forward pass with the test's own thresholds.
    double acts[9 * B * W_MAX];
    forward_from(&m, 0, xd, labels, acts);
    for (int k = 0; k < g.n_act; k++) {
        int li = g.act[k], dead, want_dead = 0, sat = 0;
        const layer_t *l = &m.layers[li];
        const double *y = acts + (size_t)li * B * W_MAX;
        double frac;
        gradstats_units(&g, &m, k, B, &dead, &frac);
        for (int u = 0; u < l->out; u++) {
            int alive = 0;
            for (int e = 0; e < B; e++) alive |= y[e * l->out + u] != 0;
            want_dead += !alive;
        }
        for (int t = 0; t < B * l->out; t++)
            sat += l->spec.kind == LAYER_TANH ? fabs(y[t]) > 0.97 : l->spec.kind == LAYER_SIGMOID ? y[t] < 0.02 || y[t] > 0.98 : 0;
        CHECK(dead == want_dead, "nonlinearity %d: %d dead units, want %d", k, dead, want_dead);
        if (l->spec.kind == LAYER_RELU) CHECK(dead == 2 && frac == -1, "relu: %d dead (want the 2 planted), frac %g", dead, frac);
        else CHECK_NEAR(frac, (double)sat / (B * l->out), 1e-12, "saturated fraction");
        if (l->spec.kind == LAYER_TANH) CHECK(sat >= B * 3 / 2, "tanh: the planted saturation (%d values) is missing", sat);
    }
    gradstats_free(&g);
    model_free(&m);
}

static void test_binning(void) {
    const float v[] = {-5, 0, 0.1f, 0.25f, 0.5f, 0.99f, 1, 7, NAN, INFINITY};
    uint64_t c[4] = {0};
    size_t n = hist_count(c, v, 10, 0, 1, 4);
    CHECK(n == 8, "counted %zu (non-finite left out)", n);
    CHECK(c[0] == 3 && c[1] == 1 && c[2] == 1 && c[3] == 3, "bins %llu %llu %llu %llu", (unsigned long long)c[0],
          (unsigned long long)c[1], (unsigned long long)c[2], (unsigned long long)c[3]);
}

// gradinit's fit: the least-squares slope recovers a geometric growth exactly, and a planted outlier moves it.
static void test_slope(void) {
    double y[10];
    for (int i = 0; i < 10; i++) y[i] = log(5.0) - i * log(1.4669);  // |dW|^2 shrinking 1.4669x per layer forward
    CHECK_NEAR(exp(-gradinit_slope(y, 10)), 1.4669, 1e-12, "growth of an exact geometric sequence");
    y[9] += 1;
    CHECK(fabs(exp(-gradinit_slope(y, 10)) - 1.4669) > 1e-3, "a planted outlier did not move the fit");
    double two[2] = {1, 3};
    CHECK_NEAR(gradinit_slope(two, 2), 2, 1e-15, "slope through two points");
}

int main(void) {
    test_sites();
    test_slope();
    test_binning();
    return check_summary("gradstats");
}
