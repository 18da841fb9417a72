#include "percentiles.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runlog.h"
#include "util.h"

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void sort_floats(float *v, size_t n) { qsort(v, n, sizeof *v, cmp_float); }

double percentile_sorted(const float *s, size_t n, double q) {
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n) return s[n - 1];
    double f = pos - (double)lo;
    return (double)s[lo] + f * ((double)s[lo + 1] - (double)s[lo]);
}

static int is_nonlinearity(layer_kind_t k) { return k == LAYER_SIGMOID || k == LAYER_RELU || k == LAYER_TANH; }

int pct_log_init(pct_log_t *p, const pct_spec_t *spec, const model_t *m) {
    memset(p, 0, sizeof *p);
    p->spec = *spec;
    p->hidden_layer = xmalloc(sizeof(int) * (size_t)(m->n_layers + 1), "hidden layer list");
    int widest = 1;
    for (int i = 1; i < m->n_layers; i++)  // a nonlinearity at index 0 would measure the data itself
        if (is_nonlinearity(m->layers[i].spec.kind)) {
            p->hidden_layer[p->n_hidden++] = i;
            if (m->layers[i].in > widest) widest = m->layers[i].in;
        }
    for (int u = 0; u < spec->n_units; u++) {
        int h = spec->units[u].hidden;
        if (h == -1) h = p->n_hidden;
        if (p->n_hidden == 0 || h < 1 || h > p->n_hidden) {
            pct_log_free(p);
            return bn_fail("log.percentiles.units[%d].hidden: expected 1..%d or -1 (the model has %d nonlinearities), "
                           "got %d", u, p->n_hidden, p->n_hidden, spec->units[u].hidden);
        }
        p->spec.units[u].hidden = h;
        int width = m->layers[p->hidden_layer[h - 1]].in;
        if (spec->units[u].unit < 0 || spec->units[u].unit >= width) {
            pct_log_free(p);
            return bn_fail("log.percentiles.units[%d].unit: expected 0..%d (hidden %d has %d units), got %d", u,
                           width - 1, h, width, spec->units[u].unit);
        }
    }
    p->scratch = xmalloc(sizeof(float) * (size_t)m->max_batch * (size_t)widest, "percentile scratch");
    return 0;
}

int pct_log_open(pct_log_t *p, const char *run_dir, int append) {
    if (p->spec.every <= 0) return 0;
    char header[256] = "step,hidden,layer,layer_type,unit,n";
    for (int k = 0; k < p->spec.n_q; k++) {
        size_t n = strlen(header);
        snprintf(header + n, sizeof header - n, ",p%g", p->spec.q[k]);
    }
    strcat(header, "\n");
    p->out = log_open(run_dir, "percentiles.csv", append, header);
    return p->out ? 0 : -1;
}

// Places the k-th smallest of v[lo..hi) at v[k], smaller ones before it and larger ones after (Hoare's
// quickselect, median-of-three pivot; in place, expected O(n), no allocation).
static void select_kth(float *v, size_t lo, size_t hi, size_t k) {
    // Ranges of up to 16 are finished by insertion sort: for 2 elements the partition below may not shrink the
    // range; from 3 up the median-of-three pivot guarantees it does.
    while (hi - lo > 16) {
        size_t mid = lo + (hi - lo) / 2;
        float a = v[lo], b = v[mid], c = v[hi - 1];
        float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi - 1;
        for (;;) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            float t = v[i];
            v[i] = v[j], v[j] = t;
            i++, j--;
        }
        // [lo, j] <= pivot <= [j + 1, hi)
        if (k <= j) hi = j + 1;
        else lo = j + 1;
    }
    for (size_t a = lo + 1; a < hi; a++)
        for (size_t b = a; b > lo && v[b - 1] > v[b]; b--) {
            float t = v[b];
            v[b] = v[b - 1], v[b - 1] = t;
        }
}

// The order statistics a set of percentiles needs, selected in increasing order over shrinking ranges;
// out[k] = the q[k]-th percentile, interpolated as percentile_sorted() does, hence the same values as sorting.
void percentiles_select(float *v, size_t n, const double *q, int nq, double *out) {
    size_t idx[2 * PCT_MAX_Q];
    int m = 0;
    for (int k = 0; k < nq; k++) {
        size_t lo = (size_t)floor(q[k] / 100.0 * (double)(n - 1));
        idx[m++] = lo;
        if (lo + 1 < n) idx[m++] = lo + 1;
    }
    for (int a = 1; a < m; a++)  // insertion sort of at most 18 indices
        for (int b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
            size_t t = idx[b];
            idx[b] = idx[b - 1], idx[b - 1] = t;
        }
    size_t from = 0;
    for (int a = 0; a < m; a++) {
        if (a > 0 && idx[a] == idx[a - 1]) continue;
        select_kth(v, from, n, idx[a]);
        from = idx[a] + 1;
    }
    for (int k = 0; k < nq; k++) {
        double pos = q[k] / 100.0 * (double)(n - 1);
        size_t lo = (size_t)floor(pos);
        out[k] = lo + 1 >= n ? (double)v[n - 1]
                             : (double)v[lo] + (pos - (double)lo) * ((double)v[lo + 1] - (double)v[lo]);
    }
}

// One CSV row for scratch[0..n): the input of nonlinearity `hidden`, i.e. the output of model layer `src`.
static void write_row(pct_log_t *p, long step, int hidden, int src, const char *type, int unit, size_t n) {
    double val[PCT_MAX_Q];
    percentiles_select(p->scratch, n, p->spec.q, p->spec.n_q, val);
    if (unit >= 0) fprintf(p->out, "%ld,%d,%d,%s,%d,%zu", step, hidden, src, type, unit, n);
    else fprintf(p->out, "%ld,%d,%d,%s,all,%zu", step, hidden, src, type, n);
    for (int k = 0; k < p->spec.n_q; k++) fprintf(p->out, ",%.9g", val[k]);
    fputc('\n', p->out);
}

void pct_log_step(pct_log_t *p, const model_t *m, int B, long step) {
    if (!p->out || step % p->spec.every != 0) return;
    for (int u = 0; u < p->spec.n_units; u++) {
        int h = p->spec.units[u].hidden, li = p->hidden_layer[h - 1], j = p->spec.units[u].unit;
        const layer_t *src = &m->layers[li - 1];  // the layer whose output the nonlinearity receives
        for (int i = 0; i < B; i++) p->scratch[i] = src->y[(size_t)i * src->out + j];
        write_row(p, step, h, li - 1, layer_kind_name(src->spec.kind), j, (size_t)B);
    }
    for (int h = 1; h <= p->n_hidden; h++) {
        int li = p->hidden_layer[h - 1];
        const layer_t *src = &m->layers[li - 1];
        size_t n = (size_t)B * src->out;
        memcpy(p->scratch, src->y, sizeof(float) * n);
        write_row(p, step, h, li - 1, layer_kind_name(src->spec.kind), -1, n);
    }
    fflush(p->out);
}

void pct_log_free(pct_log_t *p) {
    if (p->out) fclose(p->out);
    free(p->hidden_layer);
    free(p->scratch);
    memset(p, 0, sizeof *p);
}
