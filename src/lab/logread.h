// logread.h — a bnlab CSV log read strictly, as a page or a table made from it must: every complete row has exactly
// the header's number of fields and a number wherever one is asked for; anything else is one message naming the
// file, the line, the column, what was expected and what was found. The one exception is a log being written: its
// last line without a newline is a row cut short and is skipped (run the reader again once it is complete).
// Then rows aggregated over seeds for drawing: sorted by step, the median of the seeds at each step, thinned.
#ifndef BNLAB_LOGREAD_H
#define BNLAB_LOGREAD_H

#include "io/csvtable.h"
#include "lab/figure.h"

// Opens path: 0 read (t holds it), 1 absent (not logged), -1 + message (unreadable, no header line).
int logread_open(csv_table_t *t, const char *path);
// Moves to the next complete row: 1, or 0 past the last (a last line without its newline is skipped); -1 +
// "PATH: line N: K fields, expected M (its header's)".
int logread_next(csv_table_t *t, const char *path);
// Column name's index in t's header, or -1 + "PATH: no column "NAME" in its header".
int logread_column(const csv_table_t *t, const char *path, const char *name);
// Field col of the current row as a number (nan and inf allowed: a diverged run writes them). 0, or -1 +
// "PATH: line N, column "NAME": expected a number, found "TEXT"".
int logread_number(const csv_table_t *t, const char *path, int col, double *out);
// The same for an integer (a step, a layer's index) in [lo, hi].
int logread_integer(const csv_table_t *t, const char *path, int col, long lo, long hi, long *out);

// Rows of s (col 0: the step) from several seeds into out (cols as s): one row per distinct step, in step order,
// each column the median of the finite values at that step (mean of the middle two for an even count; NaN if none
// is finite). s is sorted in place.
void series_median_by_step(series_t *s, series_t *out);
// Keeps max rows of s if it has more (max >= 2): rows j (n - 1) / (max - 1), j = 0 .. max - 1, evenly spread from
// the first to the last. Steps are shown at the pixels' resolution: a panel is about 400 pixels wide.
void series_thin(series_t *s, int max);
// Each of s[0..n) (every seed's rows of one line) replaced by its median by step, thinned to max rows.
void series_median_thin_all(series_t *s, int n, int max);
// The smallest and largest finite value of columns [c0, c1] of s, widening [*lo, *hi].
void series_extent(const series_t *s, int c0, int c1, double *lo, double *hi);

#endif
