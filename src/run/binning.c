#include "run/binning.h"

#include <math.h>

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
