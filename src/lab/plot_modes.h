// plot_modes.h — the "modes" figure of bnlab plot: BN's train/eval gap over training (Ioffe & Szegedy 2015, §3.1 and
// Algorithm 2). Per panel (a variant, or the run), medians over seeds at each logged evaluation of
//   test accuracy, evaluation mode     test_acc: BN normalizes by its running statistics (thick, solid)
//   test accuracy, batch statistics    test_acc_batchstats: each test batch by its own statistics (dashed)
//   training-batch accuracy            train_acc: the training batches since the previous row (dotted)
// The batch-statistics column exists only in runs with log.eval_batch_stats. A network without BN has one way to
// evaluate, so its panel says so instead of drawing the same curve twice. No run with the column: no figure.
#ifndef BNLAB_PLOT_MODES_H
#define BNLAB_PLOT_MODES_H

typedef struct {
    const char *name;         // the panel's title: a variant, or the run directory's name
    const char *const *runs;  // (n_runs) its run directories, one per seed
    int n_runs;
    int bn;                   // its network has batchnorm layers
    double xscale;            // x = step x xscale (1, or the batch size for examples seen)
    long diverged_at;         // the drawn seed's run diverged at this step; -1 if not
} modes_panel_t;

// Writes DIR/plots/modes.gp and its data (lab/figure.h; the caller renders it). title_seeds: what the curves are
// over, for the title ("median of 3 seeds", or "seed 1"). 0: written; 1: no run logged the batch-statistics column (no
// figure); -1 + message: an unreadable metrics.csv.
int plot_modes(const char *plots, const modes_panel_t *panels, int np, const char *xlabel, const char *title_seeds);

#endif
