#include "lab/figures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/jsonpath.h"
#include "run/rundir.h"

// In the order of the report's page and of bnlab plot's output.
const figure_kind_t FIGURE_KINDS[] = {
    {"accuracy", "Test accuracy", fig_accuracy},
    {"loss", "Loss", fig_loss},
    {"percentiles", "One unit's input to its nonlinearity (Ioffe & Szegedy Fig. 1(b, c))", fig_percentiles},
    {"layers", "Each hidden layer's input to its nonlinearity: percentiles over steps", fig_layers},
    {"saturation", "Saturated units per hidden layer", fig_saturation},
    {"layer_stats", "Each nonlinearity's output: mean over units and examples", fig_layer_stats},
    {"ics", "Internal covariate shift (Santurkar et al. 2018, Def. 2.1)", fig_ics},
    {"modes", "BN's train/eval gap: running vs batch statistics", fig_modes},
    {"params", "Parameters: ‖W‖ of each dense layer, γ and β of each BN layer", fig_params},
    {"landscape", "Loss landscape along the gradient (Santurkar et al. 2018, Fig. 4)", fig_landscape},
    {"landscape_eta", "Gradient predictiveness against the step size (Santurkar et al. 2018, Fig. 11)", fig_landscape_eta},
    // The backward pass (issue 24): lab/fig_backward.c, lab/fig_sweep_map.c.
    {"gradients", "The backward pass: each hidden layer's gradient ∂L/∂h, percentiles over steps", fig_gradients},
    {"update_ratios", "Update and gradient ratios per dense layer: ‖ΔW‖/‖W‖ against 10⁻³", fig_update_ratios},
    {"jacobian", "Layer Jacobians' singular values (Ioffe & Szegedy §3.3)", fig_jacobian},
    {"dead_units", "Dead units: hidden units that output 0 for the whole batch", fig_dead_units},
    {"gradient_depth", "The gradient at initialization, layer by layer (Yang et al. 2019)", fig_gradient_depth},
    {"gradinit", "The gradient at initialization, averaged over inits and batches (bnlab gradinit)", fig_gradinit},
    {"sweep", "A sweep: final test accuracy against the swept key", fig_sweep},
    {"sweep_map", "A sweep over two keys: final accuracy at each grid point", fig_sweep_map},
    // What BN is made of (issue 25, docs/anatomy.md)
    {"ladder", "The ablation ladder: which part of BN does the work", fig_ladder},
    {"unit_updates", "Weight decay as a learning rate: each unit's angular update and effective rate", fig_unit_updates},
    {"curvature", "Curvature: the Hessian's top eigenvalue and the edge of stability", fig_curvature},
};
const int N_FIGURE_KINDS = (int)(sizeof FIGURE_KINDS / sizeof FIGURE_KINDS[0]);

const figure_kind_t *figure_kind_find(const char *name) {
    for (int k = 0; k < N_FIGURE_KINDS; k++)
        if (!strcmp(FIGURE_KINDS[k].name, name)) return &FIGURE_KINDS[k];
    return NULL;
}

int figure_only_has(const char *only, const char *name) {
    if (!only) return 1;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len + (e != NULL);
    }
    return 0;
}

int figure_only_check(const char *only) {
    if (!only) return 0;
    for (const char *p = only;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (int k = 0; k < N_FIGURE_KINDS && !found; k++)
            found = strlen(FIGURE_KINDS[k].name) == len && !strncmp(p, FIGURE_KINDS[k].name, len);
        if (!found) {
            strbuf_t kinds = {0};
            for (int k = 0; k < N_FIGURE_KINDS; k++) strbuf_printf(&kinds, "%s%s", k ? ", " : "", FIGURE_KINDS[k].name);
            bnlab_fail("--only: no figure kind \"%.*s\" (the kinds: %s)", (int)len, p, kinds.s);
            free(kinds.s);
            return -1;
        }
        if (!e) return 0;
        p = e + 1;
    }
}

const char *fig_grid_key_words(const char *path) {
    static const char *const words[][2] = {{"lr", "learning rate η"}, {"batch_size", "batch size (examples per step)"},
                                           {"repeat", "depth (repeated blocks)"}, {"momentum", "momentum"},
                                           {"weight_decay", "weight decay"}, {"epochs", "epochs"},
                                           {"steps", "training steps"}};
    const char *last = strrchr(path, '.');
    last = last ? last + 1 : path;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!strcmp(last, words[k][0])) return words[k][1];
    return path;
}

void fig_mark_diverged(figpanel_t *p, const view_source_t *src, int i, double xk, const series_t *runs, int col) {
    int nd = 0;
    long lo = -1, hi = -1;
    series_t cross;
    series_init(&cross, 2);
    for (int k = 0; k < src->ns; k++) {
        char run[BNLAB_PATH_MAX];
        view_run_dir(src, i, k, run, sizeof run);
        long step = view_diverged_at(run);
        if (step < 0) continue;
        double y = 0;
        for (int r = runs[k].n - 1; r >= 0; r--)
            if (isfinite(runs[k].v[(size_t)r * (size_t)runs[k].cols + (size_t)col])) {
                y = runs[k].v[(size_t)r * (size_t)runs[k].cols + (size_t)col];
                break;
            }
        series_add(&cross, (double[2]){(double)step * xk, y});
        lo = nd == 0 || step < lo ? step : lo, hi = step > hi ? step : hi;
        nd++;
    }
    if (nd) {
        char title[VIEW_NAME_MAX + 80];
        const char *who = src->is_compare ? src->v[i].label : "", *sep = src->is_compare ? ": " : "";
        if (src->ns == 1) snprintf(title, sizeof title, "%s%sdiverged at step %ld", who, sep, lo);
        else if (lo == hi) snprintf(title, sizeof title, "%s%s%d of %d diverged (step %ld)", who, sep, nd, src->ns, lo);
        else snprintf(title, sizeof title, "%s%s%d of %d diverged (steps %ld-%ld)", who, sep, nd, src->ns, lo, hi);
        figmodel_add(p, CURVE_POINTS, &cross, 0, 1, 0, src->v[i].color, FIG_CROSS, 4, 1, title);
    }
    series_free(&cross);
}

cJSON *figure_run_config(const char *run) { return rundir_read_json(run, RUNDIR_CONFIG); }
