#include "run/gradstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "run/binning.h"
#include "run/paramlog.h"

int gradstats_init(gradstats_t *g, const model_t *m) {
    memset(g, 0, sizeof *g);
    int widest = 1;
    g->sites = xcalloc((size_t)m->n_layers + 1, sizeof *g->sites, "gradient sites");
    g->act = xcalloc((size_t)m->n_layers + 1, sizeof *g->act, "nonlinearities");
    for (int i = 0; i < m->n_layers; i++) {
        const layer_kind_info_t *k = layer_kind(m->layers[i].spec.kind);
        if (m->layers[i].out > widest) widest = m->layers[i].out;
        if (k->nonlinearity) {
            g->act[g->n_act++] = i;
            if (i > 0) g->sites[g->n_sites++] = (gs_site_t){.layer = i - 1, .hidden = g->n_act, .where = GS_ACT_INPUT};
        } else if (k->normalizes && !(i + 1 < m->n_layers && layer_kind(m->layers[i + 1].spec.kind)->nonlinearity)) {
            g->sites[g->n_sites++] = (gs_site_t){.layer = i, .hidden = g->n_act, .where = GS_NORM_OUTPUT};
        }
    }
    g->hist = xcalloc(PCT_BINS, sizeof *g->hist, "gradient percentiles");
    g->cand = xcalloc(2 * (size_t)m->max_batch * (size_t)widest, sizeof *g->cand, "gradient percentiles");
    return 0;
}

void gradstats_free(gradstats_t *g) {
    free(g->sites), free(g->act), free(g->hist), free(g->cand);
    memset(g, 0, sizeof *g);
}

void gradstats_site(gs_moments_t *out, gradstats_t *g, const model_t *m, int s, int B, const double *q, int nq) {
    const layer_t *l = &m->layers[g->sites[s].layer];
    const size_t n = (size_t)B * (size_t)l->out;
    memset(out, 0, sizeof *out);
    out->n = n;
    param_moments(l->dy, n, &out->norm, &out->mean, &out->std);
    for (size_t i = 0; i < n; i++) out->absmax = fmax(out->absmax, fabs((double)l->dy[i]));
    if (nq > 0 && n > 0) percentiles_select(l->dy, n, q, nq, out->q, g->hist, g->cand);
}

size_t gradstats_hist(const gradstats_t *g, const model_t *m, int s, int B, double lo, double hi, int bins,
                      uint64_t *count) {
    const layer_t *l = &m->layers[g->sites[s].layer];
    return hist_count(count, l->dy, (size_t)B * (size_t)l->out, lo, hi, bins);
}

void gradstats_units(const gradstats_t *g, const model_t *m, int k, int B, int *dead, double *saturated) {
    const layer_t *l = &m->layers[g->act[k]];
    const layer_kind_info_t *info = layer_kind(l->spec.kind);
    size_t sat = 0;
    *dead = 0;
    for (int u = 0; u < l->out; u++) {
        int alive = 0;
        for (int e = 0; e < B; e++) {
            float y = l->y[(size_t)e * l->out + u];
            alive |= y != 0.0f;
            sat += info->saturates && (y < info->sat_low || y > info->sat_high);
        }
        *dead += !alive;
    }
    *saturated = info->saturates ? (double)sat / ((double)B * l->out) : -1;
}
