#include "io/data.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/util.h"

// ---------------------------------------------------------------------------------------------
// IDX (LeCun's format): 2 zero bytes, type byte 0x08 (uint8), number of dimensions, then each
// dimension as a big-endian uint32, then the data. gzread reads raw files transparently.

static int gz_read_exact(gzFile g, const char *path, void *dst, size_t n, const char *what) {
    unsigned char *p = dst;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(g, p, chunk);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(g, &zerr);
            return bnlab_fail("%s: corrupt gzip data while reading %s: %s", path, what, msg);
        }
        if (got == 0) return bnlab_fail("%s: truncated file: it ends inside the %s", path, what);
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

// Opens path, checks the magic for a uint8 tensor of ndim in [min_nd, max_nd], reads its dims.
static gzFile idx_open(const char *path, int min_nd, int max_nd, uint32_t dims[3], int *ndim) {
    gzFile g = gzopen(path, "rb");
    if (!g) {
        bnlab_fail("%s: cannot open: %s", path, errno ? strerror(errno) : "gzopen failed");
        return NULL;
    }
    unsigned char hdr[4];
    if (gz_read_exact(g, path, hdr, 4, "header") != 0) goto fail;
    if (hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || hdr[3] < min_nd || hdr[3] > max_nd) {
        bnlab_fail("%s: bad IDX magic 0x%02x%02x%02x%02x: expected a uint8 tensor with %d..%d dimensions "
                "(0x0000080%d..0x0000080%d)",
                path, hdr[0], hdr[1], hdr[2], hdr[3], min_nd, max_nd, min_nd, max_nd);
        goto fail;
    }
    *ndim = hdr[3];
    for (int i = 0; i < *ndim; i++) {
        unsigned char b[4];
        if (gz_read_exact(g, path, b, 4, "header") != 0) goto fail;
        dims[i] = be32(b);
    }
    return g;
fail:
    gzclose(g);
    return NULL;
}

static int idx_expect_end(gzFile g, const char *path) {
    unsigned char extra;
    int got = gzread(g, &extra, 1);
    if (got < 0) {
        int zerr;
        return bnlab_fail("%s: corrupt gzip data: %s", path, gzerror(g, &zerr));
    }
    if (got > 0) return bnlab_fail("%s: extra bytes after the data the header describes", path);
    return 0;
}

int idx_load_images(dataset_t *ds, const char *images_path) {
    memset(ds, 0, sizeof *ds);
    uint32_t dims[3] = {0, 0, 0};
    int nd = 0;
    gzFile g = idx_open(images_path, 2, 3, dims, &nd);
    if (!g) return -1;
    uint32_t n = dims[0];
    size_t dim = nd == 3 ? (size_t)dims[1] * dims[2] : dims[1];
    size_t total;
    if (n == 0 || dim == 0) {
        gzclose(g);
        return bnlab_fail("%s: header declares an empty tensor (%u examples of %zu values)", images_path, n, dim);
    }
    if (n > DATA_MAX_EXAMPLES || dim > DATA_MAX_FEATURES || mul_size(n, dim, SIZE_MAX, &total) != 0) {
        gzclose(g);
        return bnlab_fail("%s: header declares %u examples of %zu values, beyond the limits (%u examples, %u "
                       "values each)",
                       images_path, n, dim, DATA_MAX_EXAMPLES, DATA_MAX_FEATURES);
    }
    if (total > DATA_MAX_BYTES) {
        gzclose(g);
        return bnlab_fail("%s: header declares %u x %zu = %zu bytes of pixels, more than the limit of %zu", images_path, n,
                       dim, total, (size_t)DATA_MAX_BYTES);
    }
    // The header may lie: grow the buffer only as bytes actually arrive, so a short file claiming gigabytes fails
    // as truncated after reading what it has, not by allocating what it claims.
    size_t cap = total < ((size_t)64 << 20) ? total : ((size_t)64 << 20), got = 0;
    uint8_t *pix = xmalloc(cap, "IDX pixels");
    while (got < total) {
        if (got == cap) {
            size_t ncap = cap * 2 < total ? cap * 2 : total;
            uint8_t *p2 = xmalloc(ncap, "IDX pixels");
            memcpy(p2, pix, got);
            free(pix);
            pix = p2, cap = ncap;
        }
        if (gz_read_exact(g, images_path, pix + got, cap - got, "pixel data") != 0) {
            gzclose(g);
            free(pix);
            return -1;
        }
        got = cap;
    }
    if (idx_expect_end(g, images_path) != 0) {
        gzclose(g);
        free(pix);
        return -1;
    }
    gzclose(g);
    ds->n = n;
    ds->dim = (uint32_t)dim;
    ds->u8 = pix;
    return 0;
}

static int idx_load_labels(dataset_t *ds, const char *labels_path, const char *images_path, int classes) {
    uint32_t ldims[3] = {0, 0, 0};
    int lnd = 0;
    gzFile g = idx_open(labels_path, 1, 1, ldims, &lnd);
    if (!g) return -1;
    if (ldims[0] != ds->n) {
        gzclose(g);
        return bnlab_fail("%s: %u labels but %s has %u images", labels_path, ldims[0], images_path, ds->n);
    }
    uint8_t *lab8 = xmalloc(ds->n, "IDX labels");
    if (gz_read_exact(g, labels_path, lab8, ds->n, "label data") != 0 || idx_expect_end(g, labels_path) != 0) {
        gzclose(g);
        free(lab8);
        return -1;
    }
    gzclose(g);
    int32_t *labels = xmalloc(sizeof(int32_t) * ds->n, "labels");
    for (uint32_t i = 0; i < ds->n; i++) {
        if (lab8[i] >= classes) {
            int bad = lab8[i];
            free(lab8);
            free(labels);
            return bnlab_fail("%s: label %d of example %u is out of range: expected 0..%d", labels_path, bad, i,
                           classes - 1);
        }
        labels[i] = lab8[i];
    }
    free(lab8);
    ds->labels = labels;
    ds->classes = classes;
    return 0;
}

int idx_load(dataset_t *ds, const char *images_path, const char *labels_path, int classes) {
    if (classes < 2 || classes > DATA_MAX_CLASSES) {
        memset(ds, 0, sizeof *ds);
        return bnlab_fail("classes: expected 2..%d, got %d", DATA_MAX_CLASSES, classes);
    }
    if (idx_load_images(ds, images_path) != 0) return -1;
    if (idx_load_labels(ds, labels_path, images_path, classes) != 0) {
        dataset_free(ds);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// CSV: label,feature,feature,...  An optional first line whose first field is not a number is a header.

#define CSV_MAX_BYTES ((size_t)4 << 30)

static int parse_float_field(const char **p, float *out) {
    char *end;
    errno = 0;
    float v = strtof(*p, &end);
    if (end == *p || errno == ERANGE || !isfinite(v)) return -1;
    while (*end == ' ' || *end == '\t') end++;
    if (*end != ',' && *end != '\n' && *end != '\r' && *end != '\0') return -1;
    *out = v;
    *p = end;
    return 0;
}

int csv_load(dataset_t *ds, const char *path, int classes, int has_label) {
    memset(ds, 0, sizeof *ds);
    if (has_label && (classes < 2 || classes > DATA_MAX_CLASSES))
        return bnlab_fail("classes: expected 2..%d, got %d", DATA_MAX_CLASSES, classes);
    char *text;
    size_t len;
    if (read_whole_file(path, CSV_MAX_BYTES, &text, &len) != 0) return -1;
    if (memchr(text, '\0', len)) {
        free(text);
        return bnlab_fail("%s: binary data (NUL byte) in a CSV file", path);
    }
    // Pass 1: count rows and fields of the first data row.
    const char *p = text;
    size_t line_no = 1;
    float tmp;
    const char *first = p;
    if (parse_float_field(&first, &tmp) != 0) {  // header line
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : text + len;
        line_no = 2;
    }
    const char *data_start = p;
    size_t data_line0 = line_no;
    uint32_t fields = has_label ? 0 : 1, rows = 0;  // features per row: commas (+ 1 without a label)
    for (const char *q = p; *q && *q != '\n'; q++)
        if (*q == ',') fields++;
    for (const char *q = p; *q; q++)
        if (*q == '\n' && q[1] != '\0') rows++;
    if (*p) rows++;
    if (rows == 0 || fields == 0) {
        free(text);
        return bnlab_fail("%s: no data rows (expected: label,feature,...)", path);
    }
    if (fields > DATA_MAX_FEATURES || rows > DATA_MAX_EXAMPLES) {
        free(text);
        return bnlab_fail("%s: %u rows of %u features exceed the limits", path, rows, fields);
    }
    float *x = xmalloc(sizeof(float) * (size_t)rows * fields, "CSV features");
    int32_t *y = has_label ? xmalloc(sizeof(int32_t) * rows, "CSV labels") : NULL;
    p = data_start;
    line_no = data_line0;
    uint32_t r = 0;
    while (*p) {
        if (r == rows) {  // cannot happen after pass 1; a guard against a counting mistake
            free(x), free(y), free(text);
            return bnlab_fail("%s:%zu: more rows than counted", path, line_no);
        }
        if (*p == '\n' || *p == '\r') {  // blank line
            free(x), free(y), free(text);
            return bnlab_fail("%s:%zu: empty line", path, line_no);
        }
        float v;
        uint32_t c = 0;
        if (has_label) {
            if (parse_float_field(&p, &v) != 0 || v != floorf(v) || v < 0 || v >= (float)classes) {
                free(x), free(y), free(text);
                return bnlab_fail("%s:%zu: label must be an integer in 0..%d", path, line_no, classes - 1);
            }
            y[r] = (int32_t)v;
        } else {
            if (parse_float_field(&p, &v) != 0) {
                free(x), free(text);
                return bnlab_fail("%s:%zu: feature 1 is not a finite number", path, line_no);
            }
            x[(size_t)r * fields + c++] = v;
        }
        while (*p == ',') {
            p++;
            if (c >= fields) {
                free(x), free(y), free(text);
                return bnlab_fail("%s:%zu: ragged row: more than %u features", path, line_no, fields);
            }
            if (parse_float_field(&p, &v) != 0) {
                free(x), free(y), free(text);
                return bnlab_fail("%s:%zu: feature %u is not a finite number", path, line_no, c + 1);
            }
            x[(size_t)r * fields + c++] = v;
        }
        if (c != fields) {
            free(x), free(y), free(text);
            return bnlab_fail("%s:%zu: ragged row: %u features, expected %u", path, line_no, c, fields);
        }
        if (*p == '\r' && p[1] == '\n') p++;  // a row ends in \n, \r\n or the end of the file
        if (*p == '\n') p++;
        else if (*p) {
            free(x), free(y), free(text);
            return bnlab_fail("%s:%zu: unexpected character after feature %u", path, line_no, c);
        }
        r++;
        line_no++;
    }
    free(text);
    ds->n = r;
    ds->dim = fields;
    ds->f32 = x;
    ds->labels = y;
    ds->classes = has_label ? classes : 0;
    return 0;
}

void dataset_free(dataset_t *ds) {
    free(ds->u8);
    free(ds->f32);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

void dataset_truncate(dataset_t *ds, uint32_t n) {
    if (n > 0 && n < ds->n) ds->n = n;
}

// ---------------------------------------------------------------------------------------------

static inline float raw_value(const dataset_t *ds, size_t k) { return ds->u8 ? (float)ds->u8[k] : ds->f32[k]; }

static inline float scaled(const dataset_t *ds, const preprocess_t *pp, size_t k) {
    float v = raw_value(ds, k) * pp->scale;
    if (pp->binarize) v = v > pp->threshold ? 1.0f : 0.0f;
    return v;
}

void preprocess_fit(preprocess_t *pp, const dataset_t *ds) {
    pp->mean = NULL;
    pp->inv_std = NULL;
    if (!pp->standardize) return;
    double *s = xcalloc(ds->dim, sizeof(double), "feature sums");
    double *ss = xcalloc(ds->dim, sizeof(double), "feature sums of squares");
    for (uint32_t i = 0; i < ds->n; i++)
        for (uint32_t j = 0; j < ds->dim; j++) {
            double v = scaled(ds, pp, (size_t)i * ds->dim + j);
            s[j] += v;
            ss[j] += v * v;
        }
    pp->mean = xmalloc(sizeof(float) * ds->dim, "feature means");
    pp->inv_std = xmalloc(sizeof(float) * ds->dim, "feature scales");
    for (uint32_t j = 0; j < ds->dim; j++) {
        double m = s[j] / ds->n, var = ss[j] / ds->n - m * m;
        pp->mean[j] = (float)m;
        // A constant feature (MNIST's border pixels) would divide by zero; leave it centred only.
        pp->inv_std[j] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
    }
    free(s);
    free(ss);
}

void preprocess_free(preprocess_t *pp) {
    free(pp->mean);
    free(pp->inv_std);
    pp->mean = pp->inv_std = NULL;
}

static inline void gather_one(const dataset_t *ds, const preprocess_t *pp, uint32_t src, float *x) {
    size_t base = (size_t)src * ds->dim;
    if (ds->u8 && !pp->binarize && !pp->standardize) {  // the common case, as one vectorizable loop
        const uint8_t *p = ds->u8 + base;
        const float scale = pp->scale;  // a local: x could alias pp->scale as far as the compiler knows
        for (uint32_t j = 0; j < ds->dim; j++) x[j] = (float)p[j] * scale;
        return;
    }
    for (uint32_t j = 0; j < ds->dim; j++) {
        float v = scaled(ds, pp, base + j);
        if (pp->standardize) v = (v - pp->mean[j]) * pp->inv_std[j];
        x[j] = v;
    }
}

void dataset_prefetch(const dataset_t *ds, const uint32_t *idx, int n) {
#if defined(__GNUC__)
    size_t bytes = (size_t)ds->dim * (ds->u8 ? 1 : sizeof(float));
    for (int i = 0; i < n; i++) {
        const char *p = ds->u8 ? (const char *)(ds->u8 + (size_t)idx[i] * ds->dim)
                               : (const char *)(ds->f32 + (size_t)idx[i] * ds->dim);
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
    }
#else
    (void)ds, (void)idx, (void)n;
#endif
}

SIMD_CLONES void dataset_gather(const dataset_t *ds, const preprocess_t *pp, const uint32_t *idx, int n, float *x,
                    int32_t *y) {
    for (int i = 0; i < n; i++) {
        gather_one(ds, pp, idx[i], x + (size_t)i * ds->dim);
        if (y) y[i] = ds->labels[idx[i]];
    }
}

SIMD_CLONES void dataset_gather_range(const dataset_t *ds, const preprocess_t *pp, uint32_t start, int n, float *x,
                          int32_t *y) {
    for (int i = 0; i < n; i++) {
        gather_one(ds, pp, start + (uint32_t)i, x + (size_t)i * ds->dim);
        if (y) y[i] = ds->labels ? ds->labels[start + (uint32_t)i] : 0;
    }
}
