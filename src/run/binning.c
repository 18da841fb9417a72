#include "run/binning.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"

size_t hist_count(uint64_t *count, const float *v, size_t n, double lo, double hi, int bins) {
    const double w = (hi - lo) / bins;
    size_t counted = 0;
    for (size_t i = 0; i < n; i++) {
        double y = v[i];
        if (!isfinite(y)) continue;
        double j = floor((y - lo) / w);
        count[j < 0 ? 0 : j >= bins ? bins - 1 : (int)j]++;
        counted++;
    }
    return counted;
}

void hist_outside(uint64_t *under, uint64_t *over, const float *v, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        double y = v[i];
        if (!isfinite(y)) continue;
        *under += y < lo;
        *over += y >= hi;
    }
}

int hist_edges_read(const char *path, int n_hidden, double *lo, double *hi) {
    char *text;
    size_t len;
    if (!path_exists(path)) return 0;
    if (read_whole_file(path, (size_t)1 << 32, &text, &len) != 0) return -1;
    const char *nl = memchr(text, '\n', len);
    int ch = -1, cl = -1, chi = -1, rc = 0;
    if (nl && ((ch = csv_column(text, "hidden", path)) < 0 || (cl = csv_column(text, "lo", path)) < 0 ||
               (chi = csv_column(text, "hi", path)) < 0))
        rc = -1;
    for (const char *line = nl ? nl + 1 : text + len; rc == 0 && line < text + len;) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) break;
        double hid, l, h;
        if (csv_field_double(line, ch, &hid) == 0 && csv_field_double(line, cl, &l) == 0 &&
            csv_field_double(line, chi, &h) == 0 && hid >= 1 && hid <= n_hidden) {
            int k = (int)hid - 1;
            if (!(lo[k] < hi[k]) && l < h) lo[k] = l, hi[k] = h;
        }
        line = end + 1;
    }
    free(text);
    return rc;
}
