#include "view/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void series_init(series_t *s, int cols) { *s = (series_t){.cols = cols}; }

void series_add(series_t *s, const double *row) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        double *v = xmalloc((size_t)s->cap * (size_t)s->cols * sizeof *v, "plot series");
        if (s->n) memcpy(v, s->v, (size_t)s->n * (size_t)s->cols * sizeof *v);
        free(s->v);
        s->v = v;
    }
    memcpy(s->v + (size_t)s->n * (size_t)s->cols, row, (size_t)s->cols * sizeof *row);
    s->n++;
}

int series_row_finite(const series_t *s, int i) {
    for (int k = 0; k < s->cols; k++)
        if (!isfinite(s->v[(size_t)i * (size_t)s->cols + (size_t)k])) return 0;
    return 1;
}

int series_last_finite(const series_t *s) {
    for (int i = s->n - 1; i >= 0; i--)
        if (series_row_finite(s, i)) return i;
    return -1;
}

void series_free(series_t *s) {
    free(s->v);
    *s = (series_t){0};
}

static int cmp_step(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) { return cmp_step(a, b); }

void series_median_by_step(series_t *s, series_t *out) { series_reduce_by_step(s, out, SERIES_MEDIAN); }

void series_reduce_by_step(series_t *s, series_t *out, series_reduce_t how) {
    series_init(out, s->cols);
    if (s->n == 0) return;
    // qsort is not stable, but rows of one step are only ever reduced to their median: their order does not matter.
    qsort(s->v, (size_t)s->n, sizeof(double) * (size_t)s->cols, cmp_step);
    double *vals = xmalloc(sizeof(double) * (size_t)s->n, "median"), *row = xmalloc(sizeof(double) * (size_t)s->cols,
                                                                                       "median row");
    for (int i = 0; i < s->n;) {
        int j = i;
        while (j < s->n && s->v[(size_t)j * s->cols] == s->v[(size_t)i * s->cols]) j++;
        row[0] = s->v[(size_t)i * s->cols];
        for (int c = 1; c < s->cols; c++) {
            int m = 0;
            for (int r = i; r < j; r++) {
                double v = s->v[(size_t)r * s->cols + c];
                if (isfinite(v)) vals[m++] = v;
            }
            qsort(vals, (size_t)m, sizeof *vals, cmp_double);
            row[c] = m == 0                 ? NAN
                     : how == SERIES_MIN    ? vals[0]
                     : how == SERIES_MAX    ? vals[m - 1]
                     : m % 2                ? vals[m / 2]
                                            : (vals[m / 2 - 1] + vals[m / 2]) / 2;
        }
        series_add(out, row);
        i = j;
    }
    free(vals), free(row);
}

void series_median_thin_all(series_t *s, int n, int max) {
    for (int k = 0; k < n; k++) {
        series_t m;
        series_median_by_step(&s[k], &m);
        series_free(&s[k]);
        series_thin(&m, max);
        s[k] = m;
    }
}

void series_thin(series_t *s, int max) {
    if (s->n <= max) return;
    for (int j = 0; j < max; j++) {  // row j * (n - 1) / (max - 1): distinct, increasing, from the first to the last
        long i = (long)j * (s->n - 1) / (max - 1);
        memmove(&s->v[(size_t)j * s->cols], &s->v[(size_t)i * s->cols], sizeof(double) * (size_t)s->cols);
    }
    s->n = max;
}

void series_extent(const series_t *s, int c0, int c1, double *lo, double *hi) {
    for (int r = 0; r < s->n; r++)
        for (int c = c0; c <= c1; c++) {
            double v = s->v[(size_t)r * s->cols + c];
            if (isfinite(v) && v < *lo) *lo = v;
            if (isfinite(v) && v > *hi) *hi = v;
        }
}
