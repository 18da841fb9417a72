// series.h — rows of numbers (a curve's points, a band's edges) and the one aggregation over seeds every figure of
// bnlab plot and bnlab report uses: the median at each step over the seeds that logged it (non-finite values left
// out), and thinning to about a panel's pixel width.
#ifndef BNLAB_VIEW_SERIES_H
#define BNLAB_VIEW_SERIES_H

#include "base/util.h"

// Rows of numbers, the points of one curve (or band) in x order; a row with a non-finite value breaks the line.
typedef struct {
    double *v;  // (n x cols) row-major
    int cols, n, cap;
} series_t;
void series_init(series_t *s, int cols);
void series_add(series_t *s, const double *row);
// 1 if every value of row i is finite.
int series_row_finite(const series_t *s, int i);
// Index of the last row whose values are all finite, or -1.
int series_last_finite(const series_t *s);
void series_free(series_t *s);

// Rows of s (col 0: the step) from several seeds into out (cols as s): one row per distinct step, in step order,
// each column the median of the finite values at that step (mean of the middle two for an even count; NaN if none
// is finite). s is sorted in place.
void series_median_by_step(series_t *s, series_t *out);
// The same with another reduction of each column at each step: the median (as above), the smallest or the largest
// finite value (a band over seeds: their range).
typedef enum { SERIES_MEDIAN, SERIES_MIN, SERIES_MAX } series_reduce_t;
void series_reduce_by_step(series_t *s, series_t *out, series_reduce_t how);
// Keeps max rows of s if it has more (max >= 2): rows j (n - 1) / (max - 1), j = 0 .. max - 1, evenly spread from
// the first to the last. Steps are shown at the pixels' resolution: a panel is about 400 pixels wide.
void series_thin(series_t *s, int max);
// Each of s[0..n) (every seed's rows of one line) replaced by its median by step, thinned to max rows.
void series_median_thin_all(series_t *s, int n, int max);
// The smallest and largest finite value of columns [c0, c1] of s, widening [*lo, *hi].
void series_extent(const series_t *s, int c0, int c1, double *lo, double *hi);

#endif
