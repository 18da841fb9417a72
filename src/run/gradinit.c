#include "run/gradinit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "run/gradstats.h"
#include "run/jacobian.h"
#include "run/train.h"

double gradinit_slope(const double *y, int n) {
    double mx = (n - 1) / 2.0, my = 0, sxy = 0, sxx = 0;
    for (int i = 0; i < n; i++) my += y[i];
    my /= n;
    for (int i = 0; i < n; i++) sxy += (i - mx) * (y[i] - my), sxx += (i - mx) * (i - mx);
    return sxy / sxx;
}

typedef struct {
    uint32_t *order;         // (train.n) the measurement's example order (a shuffle of its own: the run's is untouched)
    int n_dense, n_sites;
    int *dense;              // (n_dense) model.layers index of each dense layer
    double *gw, *gh;         // (samples, n_dense), (samples, n_sites) squared norms
    double *slope;           // (samples) fitted slope of log ‖dW‖² per sample (NAN: not fitted)
    int samples;
} measure_t;

static double sq_norm(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return s;
}

// Measurement batch b (of the measurement's own order, wrapping around the training set) into t->x, t->y, forward in
// training mode without updating the running statistics (dropout from a copy of the run's stream), loss and backward.
static double batch_grad(trainer_t *t, const measure_t *m, int b) {
    const int B = t->cfg.train.batch_size;
    const uint32_t per = t->train.n / (uint32_t)B;
    dataset_gather(&t->train, &t->pp, m->order + (size_t)((uint32_t)b % per) * B, B, t->x, t->y);
    train_rng_t r = t->train_rng;
    int correct;
    model_forward(&t->model, t->x, B, MODE_TRAIN_FROZEN, &r);
    double loss = model_loss_backward_head(&t->model, t->y, B, &correct);
    if (isfinite(loss)) model_backward(&t->model, t->x, B);
    return loss;
}

// One sample: measurement batch b's gradients (no update) into row s. 0, or 1 if the loss was not finite.
static int sample(trainer_t *t, gradstats_t *g, measure_t *m, int s, int b) {
    if (!isfinite(batch_grad(t, m, b))) return 1;
    for (int k = 0; k < m->n_dense; k++) {
        const layer_t *l = &t->model.layers[m->dense[k]];
        m->gw[(size_t)s * m->n_dense + k] = sq_norm(l->dW, (size_t)l->in * l->out);
    }
    const int B = t->cfg.train.batch_size;
    for (int k = 0; k < m->n_sites; k++) {
        gs_moments_t mo;
        gradstats_site(&mo, g, &t->model, k, B, NULL, 0);
        m->gh[(size_t)s * m->n_sites + k] = mo.norm * mo.norm;
    }
    // The fit: hidden dense layers 1 .. n_dense - 3 (0-based; the first and the last hidden one left out, and the head).
    const int lo = 1, n = m->n_dense - 3;
    double y[CFG_MAX_LAYERS];
    m->slope[s] = NAN;
    if (n >= 2) {
        int ok = 1;
        for (int i = 0; i < n; i++) {
            double v = m->gw[(size_t)s * m->n_dense + lo + i];
            ok &= v > 0 && isfinite(v);
            y[i] = ok ? log(v) : 0;
        }
        if (ok) m->slope[s] = gradinit_slope(y, n);
    }
    return 0;
}

static void mean_sd(const double *v, int n, int stride, double *mean, double *sd, int *count) {
    double s = 0, ss = 0;
    int c = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[(size_t)i * stride])) s += v[(size_t)i * stride], c++;
    *mean = c ? s / c : NAN;
    for (int i = 0; i < n; i++)
        if (isfinite(v[(size_t)i * stride])) ss += (v[(size_t)i * stride] - *mean) * (v[(size_t)i * stride] - *mean);
    *sd = c > 1 ? sqrt(ss / (c - 1)) : NAN;
    *count = c;
}

// What the CSV says of the network and the measurement beside each row (gradinit.h).
typedef struct {
    strbuf_t *b;            // NULL: no file
    const char *name, *norm, *activation;
    int bn, depth, batch;
    double theory;          // NAN: none
} csv_t;

static void csv_num(strbuf_t *b, double v) {
    if (isfinite(v)) strbuf_printf(b, ",%.9g", v);
    else strbuf_printf(b, ",");
}

static void report(FILE *out, const trainer_t *t, const gradstats_t *g, const measure_t *m, int inits, int per_init,
                   const char *when, int after, long steps, const csv_t *csv) {
    // The fit's interval: over the inits' mean slopes if there are several, else over the batches of the one.
    double units[CFG_MAX_LAYERS > 1000 ? CFG_MAX_LAYERS : 1000];
    int n_units = 0;
    if (inits > 1) {
        for (int i = 0; i < inits && n_units < 1000; i++) {
            double mean, sd;
            int c;
            mean_sd(m->slope + (size_t)i * per_init, per_init, 1, &mean, &sd, &c);
            if (c) units[n_units++] = mean;
        }
    } else {
        for (int i = 0; i < m->samples && n_units < 1000; i++)
            if (isfinite(m->slope[i])) units[n_units++] = m->slope[i];
    }
    double slope, slope_sd;
    int c;
    mean_sd(units, n_units, 1, &slope, &slope_sd, &c);
    const int fitted = m->n_dense - 3 >= 2 && c > 0;
    double half = c > 1 ? 1.96 * slope_sd / sqrt((double)c) : NAN;
    double growth = fitted ? exp(-slope) : NAN, lo = fitted ? exp(-slope - half) : NAN, hi = fitted ? exp(-slope + half) : NAN;
    // One CSV row: the network, the measurement, the layer's numbers, the fit.
#define CSV_ROW(quantity, layer, model_layer, mean, sd, n)                                                          \
    if (csv->b) {                                                                                                  \
        strbuf_printf(csv->b, "%s,%s,%d,%s,%d,%d,%s,%ld,%s,%d,%d", csv->name, csv->norm, csv->bn, csv->activation, \
                      csv->depth, csv->batch, after ? "after" : "init", steps, quantity, layer, model_layer);      \
        csv_num(csv->b, mean), csv_num(csv->b, sd);                                                                \
        strbuf_printf(csv->b, ",%d", n);                                                                           \
        csv_num(csv->b, growth), csv_num(csv->b, lo), csv_num(csv->b, hi);                                        \
        if (fitted) strbuf_printf(csv->b, ",%d,%s,%d,%d", c, inits > 1 ? "inits" : "batches", 2, m->n_dense - 2); \
        else strbuf_printf(csv->b, ",,,,");                                                                        \
        csv_num(csv->b, csv->theory);                                                                              \
        strbuf_printf(csv->b, "\n");                                                                               \
    }
    fprintf(out, "%s: %d samples (%d init%s x %d batches of %d)\n", when, m->samples, inits, inits == 1 ? "" : "s",
            per_init, t->cfg.train.batch_size);
    fprintf(out, "  %-6s %-10s %14s %12s %10s\n", "layer", "type", "mean |dL/dW|^2", "sd", "ratio");
    double prev = NAN;
    for (int k = 0; k < m->n_dense; k++) {
        double mean, sd;
        int n;
        mean_sd(m->gw + k, m->samples, m->n_dense, &mean, &sd, &n);
        fprintf(out, "  %-6d %-10s %14.6g %12.4g %10.4g\n", m->dense[k], "dense", mean, sd, k ? prev / mean : NAN);
        prev = mean;
        CSV_ROW("dW", k + 1, m->dense[k], mean, sd, n)
    }
    fprintf(out, "  %-6s %-10s %14s %12s\n", "hidden", "at input", "mean |dL/dh|^2", "sd");
    for (int k = 0; k < m->n_sites; k++) {
        double mean, sd;
        int n;
        mean_sd(m->gh + k, m->samples, m->n_sites, &mean, &sd, &n);
        fprintf(out, "  %-6d %-10s %14.6g %12.4g\n", g->sites[k].hidden,
                layer_kind_name(t->model.layers[g->sites[k].layer].spec.kind), mean, sd);
        CSV_ROW(g->sites[k].where == GS_ACT_INPUT ? "dh" : "dh_norm", g->sites[k].hidden, g->sites[k].layer, mean, sd, n)
    }
#undef CSV_ROW
    if (!fitted) {
        fprintf(out, "  growth: not fitted (needs 4 or more hidden dense layers and finite gradients)\n");
        return;
    }
    fprintf(out, "  growth per layer going backward, fitted over dense layers %d..%d: |dL/dW|^2 x %.4f (95%% interval "
            "%.4f..%.4f over %d %s), |dL/dW| x %.4f\n", m->dense[1], m->dense[m->n_dense - 3], growth, lo, hi, c,
            inits > 1 ? "inits" : "batches of one init", exp(-slope / 2));
    fprintf(out, "  Yang et al. 2019, BN + ReLU, wide layers and large batches: |dL/dW|^2 x pi/(pi-1) = %.4f, "
            "|dL/dW| x %.4f\n", M_PI / (M_PI - 1), sqrt(M_PI / (M_PI - 1)));
}

static int spectra(FILE *out, trainer_t *t, const measure_t *m, int full, const char *when) {
    jac_t j;
    if (jac_init(&j, &t->model, full) != 0) return -1;
    const int B = t->cfg.train.batch_size;
    batch_grad(t, m, 0);  // gathers the first measurement batch into t->x (its gradients are not used)
    fprintf(out, "%s: Jacobian singular values per hidden block ((a) %d examples, batch statistics held fixed; (b) "
            "the whole batch of the first %d, BN's coupling included, its 2 x units smallest (~0) left out)\n", when, B, full);
    fprintf(out, "  %-6s %-4s %8s %8s %8s %8s %8s %10s\n", "block", "", "n", "median", "p10", "p90", "max", "in[0.5,2]");
    int rc = 0;
    for (int k = 0; k < j.n_blocks && rc == 0; k++) {
        const jac_block_t *b = &j.blocks[k];
        if (b->unsupported) {
            fprintf(out, "  %-6d not measured: %s\n", b->first, b->unsupported);
            continue;
        }
        for (int which = 0; which < 2 && rc == 0; which++) {
            if (which && !jac_batch_fits(&j, k)) {
                fprintf(out, "  %-6d %-4s not measured: %d x %d inputs is more than %d columns\n", b->first, "(b)", full,
                        b->in, JAC_MAX_FULL_SIDE);
                continue;
            }
            jac_forward(&j, &t->model, t->x, which ? full : B);
            long n = which ? jac_batch_sv(&j, &t->model, k, full) : jac_example_sv(&j, &t->model, k, B);
            if (n < 0) {
                rc = -1;
                break;
            }
            jac_summary_t s;
            jac_summarize(&s, j.sv, (size_t)n, which && b->norm >= 0 ? 2 * (size_t)b->out : 0, j.sort_tmp);
            fprintf(out, "  %-6d %-4s %8zu %8.4f %8.4f %8.4f %8.4f %10.3f\n", b->first, which ? "(b)" : "(a)", s.n,
                    s.median, s.p10, s.p90, s.max, s.frac_near1);
        }
    }
    jac_free(&j);
    return rc;
}

int gradinit_run(const config_t *cfg, const gradinit_opts_t *o, FILE *out) {
    if (o->jacobian && (o->jacobian < 2 || o->jacobian > JAC_MAX_FULL_BATCH || o->jacobian > cfg->train.batch_size))
        return bnlab_fail("--jacobian: expected 2..%d examples (and at most train.batch_size %d), got %d",
                          JAC_MAX_FULL_BATCH, cfg->train.batch_size, o->jacobian);
    trainer_t t;
    if (trainer_setup(&t, cfg) != 0) return -1;
    gradstats_t g;
    gradstats_init(&g, &t.model);
    measure_t m = {0};
    m.dense = xcalloc((size_t)t.model.n_layers, sizeof(int), "dense layers");
    for (int i = 0; i < t.model.n_layers; i++)
        if (layer_kind(t.model.layers[i].spec.kind)->linear) m.dense[m.n_dense++] = i;
    m.n_sites = g.n_sites;
    const size_t cap = (size_t)o->inits * (size_t)o->batches;
    m.gw = xcalloc(cap * (size_t)m.n_dense, sizeof(double), "gradient norms");
    m.gh = xcalloc(cap * (size_t)(m.n_sites ? m.n_sites : 1), sizeof(double), "gradient norms");
    m.slope = xcalloc(cap, sizeof(double), "slopes");
    m.order = xcalloc(t.train.n, sizeof(uint32_t), "example order");
    for (uint32_t i = 0; i < t.train.n; i++) m.order[i] = i;
    rng_t shuffle;
    rng_seed(&shuffle, cfg->seed, RNG_STREAM_SHUFFLE);
    rng_shuffle(&shuffle, m.order, t.train.n);
    // The network as the file names it: its one nonlinearity (or "mixed"), its depth, the theory's growth.
    csv_t csv = {.b = o->csv ? xcalloc(1, sizeof(strbuf_t), "gradinit CSV") : NULL, .name = cfg->name,
                 .norm = o->norm ? o->norm : "unknown", .bn = o->bn, .activation = "none", .batch = cfg->train.batch_size,
                 .theory = NAN};
    for (int i = 0; i < t.model.n_layers; i++) {
        const layer_kind_info_t *info = layer_kind(t.model.layers[i].spec.kind);
        if (!info->nonlinearity) continue;
        csv.activation = csv.depth++ == 0 || !strcmp(csv.activation, info->name) ? info->name : "mixed";
    }
    if (csv.bn && csv.depth && strcmp(csv.activation, "mixed")) {
        int k = layer_kind_find(csv.activation);
        double gr = k >= 0 ? layer_kind((layer_kind_t)k)->bn_grad_growth : 0;
        if (gr > 0) csv.theory = gr;
    }
    if (csv.b) strbuf_printf(csv.b, "%s\n", GRADINIT_CSV_HEADER);
    int rc = 0, skipped = 0;
    fprintf(out, "gradinit: %s: %d layers (%d dense), batch %d\n", cfg->name, t.model.n_layers, m.n_dense,
            cfg->train.batch_size);
    for (int i = 0; i < o->inits; i++) {
        model_init(&t.model, cfg->seed + (uint64_t)i);
        for (int b = 0; b < o->batches; b++) {
            int s = i * o->batches + b;
            if (sample(&t, &g, &m, s, b)) {
                skipped++;
                for (int k = 0; k < m.n_dense; k++) m.gw[(size_t)s * m.n_dense + k] = NAN;
                for (int k = 0; k < m.n_sites; k++) m.gh[(size_t)s * m.n_sites + k] = NAN;
                m.slope[s] = NAN;
            }
        }
    }
    m.samples = o->inits * o->batches;
    report(out, &t, &g, &m, o->inits, o->batches, "step 0", 0, 0, &csv);
    if (skipped) fprintf(out, "  (%d samples with a non-finite loss left out)\n", skipped);
    if (o->jacobian) rc = spectra(out, &t, &m, o->jacobian, "step 0");
    if (rc == 0 && o->steps > 0) {
        model_init(&t.model, cfg->seed);
        int correct;
        long done = 0;
        for (; done < o->steps; done++) {
            double loss = trainer_step_grad(&t, &correct);
            if (!isfinite(loss)) break;
            trainer_step_update(&t, sgd_lr_at(&cfg->train.optim, t.prog.step));
        }
        char when[64];
        snprintf(when, sizeof when, "after %ld SGD steps", done);
        memset(m.slope, 0, cap * sizeof(double));
        skipped = 0;
        for (int b = 0; b < o->batches; b++)
            if (sample(&t, &g, &m, b, b)) {
                skipped++;
                for (int k = 0; k < m.n_dense; k++) m.gw[(size_t)b * m.n_dense + k] = NAN;
                for (int k = 0; k < m.n_sites; k++) m.gh[(size_t)b * m.n_sites + k] = NAN;
                m.slope[b] = NAN;
            }
        m.samples = o->batches;
        report(out, &t, &g, &m, 1, o->batches, when, 1, done, &csv);
        if (skipped) fprintf(out, "  (%d samples with a non-finite loss left out)\n", skipped);
        if (done < o->steps) fprintf(out, "  (the loss was not finite at step %ld: stopped there)\n", done);
        if (o->jacobian) rc = spectra(out, &t, &m, o->jacobian, when);
    }
    if (rc == 0 && csv.b && write_file_atomic(o->csv, csv.b->s, csv.b->len) != 0) rc = -1;
    if (csv.b) free(csv.b->s), free(csv.b);
    free(m.order), free(m.dense), free(m.gw), free(m.gh), free(m.slope);
    gradstats_free(&g);
    trainer_free(&t);
    return rc;
}
