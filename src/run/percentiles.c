#include "run/percentiles.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/rundir.h"
#include "run/recorder.h"
#include "base/util.h"

// glibc's qsort (msort.c, the stable merge sort it runs on arrays that fit in memory) with the comparison
// (x > y) - (x < y), step for step: halves n / 2 and n - n / 2, each sorted, then merged taking the left value unless
// it compares greater. The same steps give the same output for every input, -0.0 beside +0.0 (equal: they keep their
// order) and NaN (equal to everything, so the result depends on the steps) included; tests/test_analysis.c compares
// it with qsort byte for byte. qsort allocates its merge buffer (malloc above 1 KB), this one takes it from the
// caller.
static void merge_sort(float *b, size_t n, float *tmp) {
    if (n <= 1) return;
    size_t n1 = n / 2, n2 = n - n1;
    float *b1 = b, *b2 = b + n1, *t = tmp;
    merge_sort(b1, n1, tmp);
    merge_sort(b2, n2, tmp);
    while (n1 > 0 && n2 > 0) {
        if (!(*b1 > *b2)) *t++ = *b1++, n1--;  // compares <= 0: the left one first (stable)
        else *t++ = *b2++, n2--;
    }
    if (n1 > 0) memcpy(t, b1, n1 * sizeof *t);
    memcpy(b, tmp, (n - n2) * sizeof *b);  // what is left of the right half is already in place
}

void sort_floats(float *v, size_t n, float *tmp) { merge_sort(v, n, tmp); }

double percentile_sorted(const float *s, size_t n, double q) {
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n) return s[n - 1];
    double f = pos - (double)lo;
    return (double)s[lo] + f * ((double)s[lo + 1] - (double)s[lo]);
}

int pct_log_init(pct_log_t *p, const pct_spec_t *spec, const model_t *m) {
    memset(p, 0, sizeof *p);
    p->spec = *spec;
    p->hidden_layer = xmalloc(sizeof(int) * (size_t)(m->n_layers + 1), "hidden layer list");
    int widest = 1;
    for (int i = 1; i < m->n_layers; i++)  // a nonlinearity at index 0 would measure the data itself
        if (layer_kind(m->layers[i].spec.kind)->nonlinearity) {
            p->hidden_layer[p->n_hidden++] = i;
            if (m->layers[i].in > widest) widest = m->layers[i].in;
        }
    for (int u = 0; u < spec->n_units; u++) {
        int h = spec->units[u].hidden;
        if (h == -1) h = p->n_hidden;
        if (p->n_hidden == 0) {
            pct_log_free(p);
            char kinds[128] = "";
            for (int k = 0, n = 0; k < layer_kind_count(); k++)
                if (layer_kind((layer_kind_t)k)->nonlinearity)
                    n += snprintf(kinds + n, sizeof kinds - (size_t)n, "%s%s", n ? ", " : "", layer_kind_name(k));
            return bnlab_fail("log.percentiles.units[%d]: the model has no nonlinearity (%s) after its first layer to "
                              "follow; set log.percentiles.every to 0", u, kinds);
        }
        if (h < 1 || h > p->n_hidden) {
            int n = p->n_hidden;  // before pct_log_free clears it
            pct_log_free(p);
            return bnlab_fail("log.percentiles.units[%d].hidden: expected 1..%d or -1 (the model has %d "
                              "nonlinearities), got %d", u, n, n, spec->units[u].hidden);
        }
        p->spec.units[u].hidden = h;
        int width = m->layers[p->hidden_layer[h - 1]].in;
        if (spec->units[u].unit < 0 || spec->units[u].unit >= width) {
            pct_log_free(p);
            return bnlab_fail("log.percentiles.units[%d].unit: expected 0..%d (hidden %d has %d units), got %d", u,
                           width - 1, h, width, spec->units[u].unit);
        }
    }
    p->scratch = xmalloc(sizeof(float) * (size_t)m->max_batch, "percentile scratch");  // one unit's column
    p->cand = xmalloc(sizeof(float) * 2 * (size_t)m->max_batch * (size_t)widest, "percentile candidates");
    p->hist = xmalloc(sizeof(uint32_t) * PCT_BINS, "percentile histogram");
    return 0;
}

int pct_log_open(pct_log_t *p, const char *run_dir, int append) {
    if (p->spec.every <= 0) return 0;
    char header[256];
    rundir_percentiles_header(header, sizeof header, p->spec.q, p->spec.n_q);
    return log_open(&p->out, run_dir, RUNDIR_PERCENTILES, append, header);
}

int pct_log_close(pct_log_t *p) { return wfile_close(&p->out); }

// A float's bits as an unsigned key with the same order (negatives flipped, positives' sign bit set); -0.0 is
// taken as +0.0 so equal values share a key. (NaN is not ordered; a run stops before logging one.)
// Branch-free: signs are mixed at random, a branch on them would mispredict half the time.
static inline uint32_t order_key(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t flip = (uint32_t)-(int32_t)(u >> 31) | 0x80000000u;  // all ones for a negative, the sign bit otherwise
    return (u ^ flip) + (u == 0x80000000u);                       // -0.0: 0x7fffffff + 1, the key of +0.0
}

// Radix selection: one pass counts the values per 16-bit key prefix, the counts locate each wanted rank's bin and
// its rank inside it, a second pass copies those bins' values out, and each bin (a sliver of the range) is sorted.
// Two passes without data-dependent branches in the first, instead of quickselect's mispredicted partitions.
void percentiles_select(const float *v, size_t n, const double *q, int nq, double *out, uint32_t *hist, float *cand) {
    size_t rank[2 * PCT_MAX_Q];  // wanted ranks, ascending, distinct
    int m = 0;
    for (int k = 0; k < nq; k++) {
        size_t lo = (size_t)floor(q[k] / 100.0 * (double)(n - 1));
        rank[m++] = lo;
        if (lo + 1 < n) rank[m++] = lo + 1;
    }
    for (int a = 1; a < m; a++)  // insertion sort of at most 18 ranks
        for (int b = a; b > 0 && rank[b - 1] > rank[b]; b--) {
            size_t t = rank[b];
            rank[b] = rank[b - 1], rank[b - 1] = t;
        }
    memset(hist, 0, sizeof(uint32_t) * PCT_BINS);
    for (size_t i = 0; i < n; i++) hist[order_key(v[i]) >> 16]++;
    // Each rank's bin and the number of values in lower bins.
    uint32_t bin[2 * PCT_MAX_Q], count[2 * PCT_MAX_Q];
    size_t below[2 * PCT_MAX_Q], cum = 0;
    for (uint32_t b = 0, r = 0; b < PCT_BINS && r < (uint32_t)m; b++) {
        while (r < (uint32_t)m && rank[r] < cum + hist[b]) bin[r] = b, count[r] = hist[b], below[r++] = cum;
        cum += hist[b];
    }
    // hist becomes a write cursor (1-based offset into cand) for the wanted bins, 0 elsewhere.
    size_t start[2 * PCT_MAX_Q], fill = 0;
    memset(hist, 0, sizeof(uint32_t) * PCT_BINS);
    for (int r = 0; r < m; r++) {
        if (r > 0 && bin[r] == bin[r - 1]) {
            start[r] = start[r - 1];
            continue;
        }
        start[r] = fill;
        hist[bin[r]] = (uint32_t)fill + 1;
        fill += count[r];
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t *c = &hist[order_key(v[i]) >> 16];
        if (*c) cand[(*c)++ - 1] = v[i];
    }
    for (int r = 0; r < m; r++)
        if (r == 0 || bin[r] != bin[r - 1]) sort_floats(cand + start[r], count[r], cand + n);
    for (int k = 0; k < nq; k++) {
        double pos = q[k] / 100.0 * (double)(n - 1);
        size_t lo = (size_t)floor(pos);
        double a = 0.0, b = 0.0;
        for (int r = 0; r < m; r++) {
            float val = cand[start[r] + (rank[r] - below[r])];
            if (rank[r] == lo) a = val;
            if (rank[r] == lo + 1) b = val;
        }
        out[k] = lo + 1 >= n ? a : a + (pos - (double)lo) * (b - a);
    }
}

// One CSV row for v[0..n): the input of nonlinearity `hidden`, i.e. the output of model layer `src`.
static void write_row(pct_log_t *p, long step, int hidden, int src, const char *type, int unit, const float *v,
                      size_t n) {
    double val[PCT_MAX_Q];
    percentiles_select(v, n, p->spec.q, p->spec.n_q, val, p->hist, p->cand);
    if (unit >= 0) wfile_printf(&p->out, "%ld,%d,%d,%s,%d,%zu", step, hidden, src, type, unit, n);
    else wfile_printf(&p->out, "%ld,%d,%d,%s,all,%zu", step, hidden, src, type, n);
    for (int k = 0; k < p->spec.n_q; k++) wfile_printf(&p->out, ",%.9g", val[k]);
    wfile_printf(&p->out, "\n");
}

void pct_log_step(pct_log_t *p, const model_t *m, int B, long step) {
    if (!p->out.open || step % p->spec.every != 0) return;
    for (int u = 0; u < p->spec.n_units; u++) {
        int h = p->spec.units[u].hidden, li = p->hidden_layer[h - 1], j = p->spec.units[u].unit;
        const layer_t *src = &m->layers[li - 1];  // the layer whose output the nonlinearity receives
        for (int i = 0; i < B; i++) p->scratch[i] = src->y[(size_t)i * src->out + j];
        write_row(p, step, h, li - 1, layer_kind_name(src->spec.kind), j, p->scratch, (size_t)B);
    }
    for (int h = 1; h <= p->n_hidden; h++) {
        int li = p->hidden_layer[h - 1];
        const layer_t *src = &m->layers[li - 1];
        write_row(p, step, h, li - 1, layer_kind_name(src->spec.kind), -1, src->y, (size_t)B * src->out);
    }
    wfile_flush(&p->out);
}

void pct_log_free(pct_log_t *p) {
    wfile_close(&p->out);  // a failure was reported by the session, or the run is being abandoned anyway
    free(p->hidden_layer);
    free(p->scratch);
    free(p->cand);
    free(p->hist);
    memset(p, 0, sizeof *p);
}

// ---- the recorder

static int pct_enabled(const config_t *c) { return c->log.percentiles.every > 0; }
static int pct_init(void *st, const rec_view_t *v) { return pct_log_init(st, &v->cfg->log.percentiles, v->model); }
static int pct_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    (void)v;
    return pct_log_open(st, run_dir, append);
}

// Source "probe": the probe images (at most one evaluation batch) in training mode before the step, on copies of the
// streams, running statistics untouched, so the run itself does not change.
static void pct_before_step(void *st, const rec_view_t *v) {
    pct_log_t *p = st;
    const uint32_t eb = (uint32_t)v->cfg->train.eval_batch_size;
    const int n = (int)(v->probe_n < eb ? v->probe_n : eb);
    if (p->spec.source != PCT_SOURCE_PROBE || n <= 0 || v->step % p->spec.every != 0) return;
    train_rng_t r = *v->rng;
    dataset_gather_range(v->test, v->pp, 0, n, v->x, v->y);
    model_forward(v->model, v->x, n, MODE_TRAIN_FROZEN, &r);
    pct_log_step(p, v->model, n, v->step);
}

// Source "batch": the step's own training batch.
static void pct_on_step(void *st, const rec_view_t *v) {
    pct_log_t *p = st;
    if (p->spec.source == PCT_SOURCE_BATCH) pct_log_step(p, v->model, v->batch, v->step);
}

static int pct_check(const void *st) { return wfile_check(&((const pct_log_t *)st)->out); }
static int pct_close(void *st) { return pct_log_close(st); }
static void pct_free(void *st) { pct_log_free(st); }

const recorder_t PERCENTILES_RECORDER = {
    .name = "percentiles",
    .files = {{RUNDIR_PERCENTILES, NULL, REC_RESUME_BEFORE_UPDATE, REC_CSV, .expect = 1}},
    .enabled = pct_enabled, .turn_on = "log.percentiles.every=20",
    .state_size = sizeof(pct_log_t),
    .init = pct_init, .open = pct_open, .before_step = pct_before_step, .on_step = pct_on_step, .check = pct_check,
    .close = pct_close, .free = pct_free,
};
