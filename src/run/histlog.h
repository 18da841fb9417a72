// histlog.h — log.histograms: how the input of each hidden layer's nonlinearity is distributed, over time.
// Every log.histograms.every steps (counted after the update; step 0 is the initialization) and at the run's last
// step, one row per hidden layer of RUNDIR_HISTOGRAMS (histograms.csv): the output of the layer just before each
// nonlinearity (a registry kind with the `nonlinearity` flag, as percentiles.c finds them: "hidden" h = 1, 2, ...)
// over the probe images (the first log.probe_size test images) in training mode — MODE_TRAIN_FROZEN in batches of
// train.eval_batch_size on copies of the random streams: BN normalizes by each batch, nothing is updated, the run
// itself is unchanged (its other logs are byte-identical with histograms on or off).
// Columns (rundir.h): step,hidden,layer,layer_type,units,n,lo,hi,under,over,c0..c{bins-1}: layer = the model.layers
// index whose output is counted, n = the finite values counted (probe images x units; non-finite values are left
// out), and bin j covers [lo + j w, lo + (j+1) w), w = (hi - lo) / bins; values below lo count in bin 0 and values at
// or above hi in the last bin, so the counts always sum to n; under and over say how many of bin 0's and of the last
// bin's counts lie outside [lo, hi) (a page draws them as bins of their own beyond the axis). Logs written before
// bnlab recorded under and over lack the two columns (readers accept both; a resumed run keeps its file's columns).
// Edges: log.histograms.range [lo, hi] fixes them for every layer; "adaptive" fixes each layer's edges once, from its
// first histogram: that histogram's [min, max] widened 2x about its middle (a constant layer: middle ± |middle|, or
// ± 1 at 0). Later frames keep those edges so they compare over time. A resumed run reads them back from the rows it
// kept (printed with 17 significant digits: exact), so it writes what an uninterrupted run would.
#ifndef BNLAB_HISTLOG_H
#define BNLAB_HISTLOG_H

#include <stdint.h>

#include "base/util.h"
#include "run/recorder.h"

// Its files in the run directory (its row's, run/recorder.h) and their headers.
#define RUNDIR_HISTOGRAMS "histograms.csv"     // every log.histograms.every steps: one row per hidden layer (histlog.h)

typedef struct {
    int on;            // every other call does nothing while 0
    wfile_t out;
    long every;
    int bins, n_hidden;
    uint32_t probe_n;
    int *src;          // (n_hidden) model.layers index whose output feeds hidden h + 1
    double *lo, *hi;   // (n_hidden) edges; lo >= hi: not fixed yet (adaptive)
    double *min, *max; // (n_hidden) the range pass of a first adaptive histogram
    uint64_t *count;   // (n_hidden x bins)
    uint64_t *n;       // (n_hidden) finite values
    uint64_t *under, *over;  // (n_hidden) of them, below lo and at or above hi
    int old_format;    // a resumed run whose histograms.csv has no under, over columns: rows without them
} histlog_t;

// The recorder (a row of run/recorders.c), with log.histograms.every > 0 and probe images:
//   open        opens histograms.csv (append = 1: a resumed run, whose kept rows give back adaptive edges) and, at
//               step 0, writes the initialization's histograms;
//   after_step  the histograms, if the step is a multiple of every or the run's last;
//   check, close as every recorder (close also frees).
extern const recorder_t HISTOGRAMS_RECORDER;

#endif
