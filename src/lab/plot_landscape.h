// plot_landscape.h — Santurkar, Tsipras, Ilyas & Mądry (2018, arXiv:1805.11604) Fig. 4 and Fig. 11 views for
// bnlab plot, from the runs' landscape_band.csv and landscape.csv (log.landscape, run/landscape.h). Two figures in
// DIR/plots, each as PNG, SVG and PDF through figure.h:
//   landscape      three panels, every variant on the same axes in its colour of the other figures:
//                  (a) loss landscape: the band min_η .. max_η of L(θ_t − η g_t) against step t;
//                  (b) gradient predictiveness: the band min_η .. max_η of ‖∇L(θ_t − η g_t) − g_t‖;
//                  (c) effective β-smoothness: β_eff(t) = max_η ‖∇L(θ_t − η g_t) − g_t‖ / ‖η g_t‖.
//                  Over seeds (bnlab's choice): in (a, b) the dark band runs from the median over seeds of the η-band's
//                  lower end to the median of its upper end, the light band from the lowest lower end to the
//                  highest upper end; in (c) the line is the median over seeds and the light band their range.
//                  Over more than 200 probes (bnlab's choice, for legibility) (c)'s median is a thin line under its
//                  running median over 21 probes (centred; fewer at the ends).
//   landscape_eta  Fig. 11's view: ‖∇L(θ_t − η g_t) − g_t‖ against η at a few probe steps t (a panel each, shared
//                  axes), median over seeds with their range as a band.
// A y axis is logarithmic when every value drawn is > 0 and they span a factor of 10 or more (bnlab's choice),
// else linear. One probe (a short run) is drawn as points with error bars; a diverged run is drawn up to its last
// finite probe and marked with a cross at its divergence step.
#ifndef BNLAB_PLOT_LANDSCAPE_H
#define BNLAB_PLOT_LANDSCAPE_H

#define LSPLOT_MAX_STEPS 4  // panels of landscape_eta

// One variant as the other figures draw it.
typedef struct {
    const char *name;           // legend text
    const char *color;          // "#RRGGBB": the variant's colour everywhere (view/variant.h)
    double xk;                  // x of a step: step × xk (1, or the batch size for an examples axis)
    int n_runs;                 // its seeds' runs
    const char *const *runs;    // their directories
    const long *diverged_at;    // per run: the step it diverged at, or −1
} lsplot_variant_t;

typedef struct {
    const char *xlabel;         // "training step" or the examples axis' label
    const char *seeds;          // how the seeds are named in titles, e.g. "3 seeds" or "seed 1"
    int n_seeds;                // their number
    long steps[LSPLOT_MAX_STEPS];  // landscape_eta's probe steps; n_steps = 0: the probes nearest to 1/10, 1/2 and
    int n_steps;                   // all of the last probe step of the run probed furthest
} lsplot_opts_t;

// Writes DIR/plots/landscape.gp and landscape_eta.gp with their data and renders them (printing "plot: PATH.png"
// for each). 0: both written; 2: no run has landscape_band.csv (nothing logged: no figure, stale ones removed);
// 1: gnuplot missing or failed (message printed); -1 + message: a log could not be read.
int plot_landscape(const char *plots, const lsplot_variant_t *v, int nv, const lsplot_opts_t *o);

#endif
