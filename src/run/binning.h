// binning.h — one histogram rule for every log that counts values into bins (histlog.h's, gradstats.h's).
#ifndef BNLAB_BINNING_H
#define BNLAB_BINNING_H

#include <stddef.h>
#include <stdint.h>

// Adds v[0..n) to count[0..bins): bin j covers [lo + j w, lo + (j+1) w), w = (hi - lo) / bins; values below lo count
// in bin 0 and values at or above hi in the last bin; non-finite values are left out. Returns the values counted.
size_t hist_count(uint64_t *count, const float *v, size_t n, double lo, double hi, int bins);
// Of those, the finite values below lo (added to *under) and at or above hi (to *over): what the edge bins hold from
// outside [lo, hi).
void hist_outside(uint64_t *under, uint64_t *over, const float *v, size_t n, double lo, double hi);

// A kept histogram log (histograms.csv, gradient_histograms.csv: columns hidden, lo, hi) gives back the edges of a
// resumed run: the first row of each hidden layer h (1..n_hidden) whose lo[h-1] >= hi[h-1] (not fixed yet) sets them.
// A file that does not exist sets nothing. 0, -1 + message.
int hist_edges_read(const char *path, int n_hidden, double *lo, double *hi);

#endif
