#include "run/unitlog.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nn/registry.h"
#include "run/rundir.h"

static int uu_init(void *st, const rec_view_t *v) {
    unitlog_t *u = st;
    u->every = ((const unitlog_cfg_t *)v->settings)->every;
    u->before = xmalloc(sizeof(float) * v->model->n_params, "unit updates: parameters before the update");
    return 0;
}

static void uu_step(void *st, const rec_view_t *v) {
    unitlog_t *u = st;
    u->pending = 0;
    if ((v->step + 1) % u->every != 0) return;
    memcpy(u->before, v->model->params, sizeof(float) * v->model->n_params);
    u->pending = v->step + 1;
    u->lr = v->lr;
}

// Whether layer i + 1 makes the rows of layer i's W scale-invariant (nn/registry.h).
static int bn_after(const model_t *m, int i) {
    if (i + 1 >= m->n_layers) return 0;
    return layer_scale_invariant_per_feature(&m->layers[i + 1].spec);
}

static void uu_after(void *st, const rec_view_t *v) {
    unitlog_t *u = st;
    const model_t *m = v->model;
    if (u->pending == 0 || u->pending != v->step) return;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (!layer_kind(l->spec.kind)->linear) continue;
        const float *before = u->before + (l->W - m->params);
        // Row r of W: (out, in) row-major, or a column of the (in, out) transposed storage of a sparse-input layer.
        const size_t row = l->spec.sparse_input ? 1 : (size_t)l->in, stride = l->spec.sparse_input ? (size_t)l->out : 1;
        double nsum = 0, emean = 0, emin = INFINITY, emax = 0, asum = 0, a2 = 0, amin = INFINITY, amax = 0;
        int zero = 0;
        for (int r = 0; r < l->out; r++) {
            const float *w0 = before + r * row, *w1 = l->W + r * row;
            // Δ = w1 − w0 formed on the fly in double (the difference of two nearby floats, exact), two passes:
            // a = ‖w‖², b = w·Δ, then p = ‖Δ − (b/a) w‖²; θ = atan2(‖w‖·√p, a + b).
            double a = 0, b = 0;
            for (int j = 0; j < l->in; j++) {
                const double x = w0[j * stride], dx = (double)w1[j * stride] - x;
                a += x * x, b += x * dx;
            }
            if (a == 0) {
                zero = 1;
                continue;
            }
            const double c = b / a;
            double p = 0;
            for (int j = 0; j < l->in; j++) {
                const double x = w0[j * stride], e = ((double)w1[j * stride] - x) - c * x;
                p += e * e;
            }
            const double th = atan2(sqrt(a) * sqrt(p), a + b), eff = u->lr / a;
            nsum += sqrt(a), emean += eff, emin = fmin(emin, eff), emax = fmax(emax, eff);
            asum += th, a2 += th * th, amin = fmin(amin, th), amax = fmax(amax, th);
        }
        const double n = l->out;
        wfile_printf(&u->out, "%ld,%d,layers.%d.weight,%d,%d,%.9g,%.9g,", v->step, i, i, l->out, bn_after(m, i), u->lr,
                     nsum / n);
        if (zero) wfile_printf(&u->out, ",,,,,,\n");
        else
            wfile_printf(&u->out, "%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", emean / n, emin, emax, asum / n,
                         sqrt(a2 / n), amin, amax);
    }
    wfile_flush(&u->out);
    u->pending = 0;
}

static void uu_free(void *st) { free(((unitlog_t *)st)->before); }

static const key_desc_t UU_KEYS[] = {
    {.name = "unit_updates_every", .type = KEY_LONG, .field = offsetof(unitlog_cfg_t, every), .lo = 0, .hi = 1e9,
     .def = 0, .flags = KEY_OMIT_ZERO},
    {0}};

const recorder_t UNIT_UPDATES_RECORDER = {
    .name = "unit_updates", .keys = UU_KEYS,
    .files = {{RUNDIR_UNIT_UPDATES, RUNDIR_UNIT_UPDATES_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1,
               .wfile = REC_WFILE(unitlog_t, out)}},
    .turn_on = "log.unit_updates_every=10",
    .state_size = sizeof(unitlog_t),
    .init = uu_init, .on_step = uu_step, .after_step = uu_after, .free = uu_free,
};
