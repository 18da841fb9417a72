#include "run/evalorder.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/gemm.h"

// masks (n, words): bit k of example i's row is set where its preprocessed input k is not zero (-0 counts as zero,
// as for the sums). Allocates.
static uint64_t *nonzero_masks(const dataset_t *ds, const preprocess_t *pp, uint32_t n, int words) {
    uint64_t *m = xcalloc((size_t)n * (size_t)words, sizeof(uint64_t), "nonzero masks");
    float *row = xmalloc(sizeof(float) * ds->dim, "example row");
    for (uint32_t i = 0; i < n; i++) {
        dataset_gather(ds, pp, &i, 1, row, NULL);
        uint64_t *mi = m + (size_t)i * words;
        for (uint32_t k = 0; k < ds->dim; k++) mi[k / 64] |= (uint64_t)(row[k] != 0.0f) << (k % 64);
    }
    free(row);
    return m;
}

static int popcount_words(const uint64_t *m, int words) {
    int c = 0;
    for (int w = 0; w < words; w++) c += __builtin_popcountll(m[w]);
    return c;
}

typedef struct {
    int key;
    uint32_t i;
} keyed_t;

static int by_key(const void *a, const void *b) {
    const keyed_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

// perm[0, nf) of examples [0, nf), nf a multiple of batch: sorted by nonzero count, groups filled greedily
// (evalorder.h).
static inline __attribute__((always_inline)) void order_groups_body(uint32_t *perm, const uint64_t *masks, int words,
                                                                    uint32_t nf, int batch, int group) {
    keyed_t *s = xmalloc(sizeof(keyed_t) * (nf ? nf : 1), "evaluation order");
    int *ink = xmalloc(sizeof(int) * (nf ? nf : 1), "nonzero counts");
    for (uint32_t i = 0; i < nf; i++) {
        ink[i] = popcount_words(masks + (size_t)i * words, words);
        s[i] = (keyed_t){.key = ink[i], .i = i};
    }
    qsort(s, nf, sizeof *s, by_key);
    enum { W = EVAL_ORDER_WINDOW };
    uint32_t win[W];  // the next examples left, in sorted order
    int wn = 0;
    uint32_t next = 0;  // s[next ..) not yet in the window
    uint64_t *u = xmalloc(sizeof(uint64_t) * (size_t)words, "group mask");
    for (uint32_t p = 0; p < nf;) {
        while (wn < W && next < nf) win[wn++] = s[next++].i;
        const int in_batch = (int)(p % (uint32_t)batch);
        int g = batch - in_batch < group ? batch - in_batch : group;
        // The group's first example: the next one left.
        perm[p++] = win[0];
        memcpy(u, masks + (size_t)win[0] * words, sizeof(uint64_t) * (size_t)words);
        int size = ink[win[0]];  // pixels in the union u
        memmove(win, win + 1, sizeof(uint32_t) * (size_t)--wn);
        for (int r = 1; r < g; r++) {
            while (wn < W && next < nf) win[wn++] = s[next++].i;
            int best = 0, best_add = -1;
            for (int c = 0; c < wn; c++) {
                // An image adds at least its count less the union's; the window is in ascending count: none after
                // this one can add fewer than the best so far.
                if (best_add >= 0 && ink[win[c]] - size >= best_add) break;
                const uint64_t *mc = masks + (size_t)win[c] * words;
                int add = 0;
                for (int w = 0; w < words; w++) add += __builtin_popcountll(mc[w] & ~u[w]);
                if (best_add < 0 || add < best_add) best = c, best_add = add;
                if (add == 0) break;  // none can add fewer; the earliest such is the pick
            }
            const uint64_t *mb = masks + (size_t)win[best] * words;
            for (int w = 0; w < words; w++) u[w] |= mb[w];
            size += best_add;
            perm[p++] = win[best];
            memmove(win + best, win + best + 1, sizeof(uint32_t) * (size_t)(--wn - best));
        }
    }
    free(u);
    free(ink);
    free(s);
}

// The same compiled for the popcnt instruction, where the CPU has it (without, __builtin_popcountll is a library
// call: the search took 4 times as long).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static void order_groups_popcnt(uint32_t *perm, const uint64_t *masks, int words,
                                                                  uint32_t nf, int batch, int group) {
    order_groups_body(perm, masks, words, nf, batch, group);
}
#endif

static void order_groups(uint32_t *perm, const uint64_t *masks, int words, uint32_t nf, int batch, int group) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("popcnt")) {
        order_groups_popcnt(perm, masks, words, nf, batch, group);
        return;
    }
#endif
    order_groups_body(perm, masks, words, nf, batch, group);
}

void eval_order_build(eval_order_t *o, const dataset_t *ds, const preprocess_t *pp, uint32_t n, int batch,
                      int classes) {
    memset(o, 0, sizeof *o);
    const int words = (int)((ds->dim + 63) / 64), group = gemm_skip_zeros_group();
    const uint32_t nf = n - n % (uint32_t)batch;
    *o = (eval_order_t){.ds = ds, .n = n, .batch = batch, .group = group, .classes = classes};
    o->perm = xmalloc(sizeof(uint32_t) * (n ? n : 1), "evaluation order");
    o->logits = xmalloc(sizeof(float) * (n ? n : 1) * (size_t)classes, "evaluation logits");
    uint64_t *masks = nonzero_masks(ds, pp, nf, words);
    order_groups(o->perm, masks, words, nf, batch, group);
    free(masks);
    for (uint32_t i = nf; i < n; i++) o->perm[i] = i;
    const size_t row = (size_t)ds->dim * (ds->u8 ? 1 : sizeof(float));
    char *copy = xmalloc(row * (n ? n : 1), "examples in evaluation order");
    const char *src = ds->u8 ? (const char *)ds->u8 : (const char *)ds->f32;
    for (uint32_t i = 0; i < n; i++) memcpy(copy + row * i, src + row * o->perm[i], row);
    o->data = (dataset_t){.n = n, .dim = ds->dim, .classes = ds->classes};
    if (ds->u8) o->data.u8 = (uint8_t *)copy;
    else o->data.f32 = (float *)copy;
}

void eval_order_free(eval_order_t *o) {
    free(o->perm);
    free(o->data.u8);
    free(o->data.f32);
    free(o->logits);
    memset(o, 0, sizeof *o);
}

void eval_order_put(eval_order_t *o, uint32_t start, int B, const float *z) {
    const size_t C = (size_t)o->classes;
    for (int i = 0; i < B; i++)
        memcpy(o->logits + (size_t)o->perm[start + (uint32_t)i] * C, z + (size_t)i * C, sizeof(float) * C);
}

double eval_order_terms(const dataset_t *ds, const preprocess_t *pp, const uint32_t *perm, uint32_t n, int batch,
                        int group) {
    const int words = (int)((ds->dim + 63) / 64);
    uint64_t *masks = nonzero_masks(ds, pp, n, words), *u = xmalloc(sizeof(uint64_t) * (size_t)words, "group mask");
    double terms = 0;
    for (uint32_t b0 = 0; b0 < n; b0 += (uint32_t)batch) {
        const uint32_t b1 = n - b0 < (uint32_t)batch ? n : b0 + (uint32_t)batch;
        for (uint32_t g0 = b0; g0 < b1; g0 += (uint32_t)group) {
            const uint32_t g1 = b1 - g0 < (uint32_t)group ? b1 : g0 + (uint32_t)group;
            memset(u, 0, sizeof(uint64_t) * (size_t)words);
            for (uint32_t p = g0; p < g1; p++) {
                const uint64_t *m = masks + (size_t)(perm ? perm[p] : p) * words;
                for (int w = 0; w < words; w++) u[w] |= m[w];
            }
            terms += (double)(g1 - g0) * popcount_words(u, words);
        }
    }
    free(u);
    free(masks);
    return n ? terms / ((double)n * ds->dim) : 0.0;
}
