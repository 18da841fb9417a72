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

// One CSV row for scratch[0..n): the input of nonlinearity `hidden`, i.e. the output of model layer `src`.
static void write_row(pct_log_t *p, long step, int hidden, int src, const char *type, int unit, size_t n) {
    sort_floats(p->scratch, n);
    if (unit >= 0) fprintf(p->out, "%ld,%d,%d,%s,%d,%zu", step, hidden, src, type, unit, n);
    else fprintf(p->out, "%ld,%d,%d,%s,all,%zu", step, hidden, src, type, n);
    for (int k = 0; k < p->spec.n_q; k++) fprintf(p->out, ",%.9g", percentile_sorted(p->scratch, n, p->spec.q[k]));
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
