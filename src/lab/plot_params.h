// plot_params.h — the "params" figure of bnlab plot and bnlab report, from each run's param_stats.csv (log.param_stats, run/paramlog.h).
//   top row     ‖W‖₂ of the k-th dense layer's weight over training, one panel per dense layer (the first 4, the title
//               saying so when there are more), a curve
//               per variant: BN and no BN on shared, logarithmic axes (§3.3: behind BN, W's scale is free to grow)
//   bottom row  γ (solid) and β (dashed) of the k-th BN layer, one panel per BN layer (up to 4), a curve per variant
//               with BN: the mean over the layer's units with a band of ± one std over them (the log has mean and
//               std, not percentiles); shared y axis
// No figure (return 1) when no run logged param_stats.csv.
#ifndef BNLAB_PLOT_PARAMS_H
#define BNLAB_PLOT_PARAMS_H

typedef struct {
    const char *name;  // the variant (legend)
    const char *run;   // the run directory drawn (one seed)
    double xscale;     // x per step (1, or the batch size when plotting examples)
    const char *color; // the variant's colour and line style (view/variant.h)
    int style;
} params_panel_t;

// The figure is built on view/figmodel.h: fig_params in lab/figures.h (the seed drawn: figure_input_t.seed_index).

#endif
