#include "lab/logread.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

int logread_open(csv_table_t *t, const char *path) {
    memset(t, 0, sizeof *t);
    if (!path_exists(path)) return 1;
    return csv_table_read(t, path, (size_t)1 << 31) == 0 ? 0 : -1;
}

static int n_fields(const char *line) {
    int n = 1;
    for (; *line && *line != '\n'; line++) n += *line == ',';
    return n;
}

int logread_next(csv_table_t *t, const char *path) {
    if (!csv_table_next(t)) return 0;
    if (!memchr(t->row, '\n', (size_t)(t->text + t->len - t->row))) return 0;  // cut short: still being written
    int n = n_fields(t->row), m = n_fields(t->header);
    if (n != m) return bnlab_fail("%s: line %d: %d fields, expected %d (its header's)", path, t->lineno, n, m);
    return 1;
}

int logread_column(const csv_table_t *t, const char *path, const char *name) {
    return csv_column(t->header, name, path);
}

static int bad_field(const csv_table_t *t, const char *path, int col, const char *expected) {
    size_t nl, fl;
    const char *name = csv_field(t->header, col, &nl), *f = csv_field(t->row, col, &fl);
    if (!f) f = "", fl = 0;
    if (fl > 40) fl = 40;
    return bnlab_fail("%s: line %d, column \"%.*s\": expected %s, found \"%.*s\"", path, t->lineno,
                      (int)(name ? nl : 0), name ? name : "", expected, (int)fl, f);
}

int logread_number(const csv_table_t *t, const char *path, int col, double *out) {
    return csv_field_double(t->row, col, out) == 0 ? 0 : bad_field(t, path, col, "a number");
}

int logread_integer(const csv_table_t *t, const char *path, int col, long lo, long hi, long *out) {
    char what[96];
    snprintf(what, sizeof what, "an integer in [%ld, %ld]", lo, hi);
    if (csv_field_long(t->row, col, out) != 0 || *out < lo || *out > hi) return bad_field(t, path, col, what);
    return 0;
}

static int cmp_step(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) { return cmp_step(a, b); }

void series_median_by_step(series_t *s, series_t *out) {
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
            row[c] = m == 0 ? NAN : m % 2 ? vals[m / 2] : (vals[m / 2 - 1] + vals[m / 2]) / 2;
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
