// run/evalorder.h: the evaluation order groups images with similar nonzero pixels, and forward_set in that order gives
// file order's loss and hits bit for bit.
//  - the order is a permutation (every example once), its last n % batch examples stay in file order, and on the
//    embedded MNIST subset its groups of gemm_skip_zeros_group() rows have fewer terms than file order's;
//  - forward_set with the order: the same loss (all 64 bits) and hits as without, and the order was used (passes);
//    for the paper's network (BN in evaluation mode, sigmoid) and one with dropout and noise, over whole batches,
//    a short last batch, and batches that are not a multiple of the group;
//  - the safety rule: a pass whose layers mix the examples of a batch (BN by batch statistics, MODE_EVAL_BATCH;
//    dropout drawing in MODE_TRAIN_FROZEN) or with a per-batch callback runs in file order — the same bits as
//    without the order, which is not used —, and that rule matters: the same pass done by hand in the order gives
//    other bits. layer_per_example follows each kind's registry row.
// Negative control (tests/test_evalorder.sh): linked with a copy of run/evalorder.c whose eval_order_put puts each
// logit one row off, the loss checks fail.
// With arguments IMAGES LABELS [BATCH]: prints the terms of the first layer's sums in file order and in the order
// for that data set, the time the order took to build, and forward_set's CPU time per pass in both orders
// (interleaved; the paper's network with random weights) — the measurements in docs/performance.md.
#include <stdlib.h>
#include <time.h>

#include "base/util.h"
#include "check.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "run/evalorder.h"
#include "run/infer.h"

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);  // this thread: idle OpenBLAS threads may spin meanwhile
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void build(model_t *m, int net, int max_batch);
static int by_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(const char *images, const char *labels, int batch) {
    dataset_t ds;
    if (idx_load(&ds, images, labels, 10, DATA_DEFAULT_MAX_BYTES) != 0) {
        fprintf(stderr, "%s\n", bnlab_errmsg());
        return 2;
    }
    preprocess_t pp = {.scale = 1.0f / 255};
    eval_order_t o;
    double t0 = seconds();
    eval_order_build(&o, &ds, &pp, ds.n, batch, 10);
    double t1 = seconds();
    const int g = gemm_skip_zeros_group();
    printf("%u examples, batches of %d, groups of %d rows: terms of the first layer's sums, as a fraction of all "
           "(n x %u): one image alone %.4f, file order %.4f, evaluation order %.4f; the order took %.1f ms of CPU "
           "time\n",
           ds.n, batch, g, ds.dim, eval_order_terms(&ds, &pp, NULL, ds.n, batch, 1),
           eval_order_terms(&ds, &pp, NULL, ds.n, batch, g), eval_order_terms(&ds, &pp, o.perm, ds.n, batch, g),
           1e3 * (t1 - t0));
    // forward_set over the set with the paper's network (BN in evaluation mode), in the order and in file order,
    // interleaved: 15 rounds of 5 passes each, CPU time.
    model_t m;
    build(&m, 0, batch);
    float *x = xmalloc(sizeof(float) * (size_t)batch * ds.dim, "x");
    int32_t *y = xmalloc(sizeof(int32_t) * (size_t)batch, "y");
    forward_pass_t file = {.mode = MODE_EVAL, .batch = batch, .x = x, .y = y}, ord = file;
    ord.order = &o;
    enum { R = 15, K = 5 };
    double a[R], b[R], q[R], la = 0, lb = 0;
    long ha = 0, hb = 0;
    for (int r = 0; r < R; r++) {
        double s0 = seconds();
        for (int k = 0; k < K; k++) la = forward_set(&m, &pp, &ds, ds.n, &ord, &ha);
        double s1 = seconds();
        for (int k = 0; k < K; k++) lb = forward_set(&m, &pp, &ds, ds.n, &file, &hb);
        double s2 = seconds();
        a[r] = 1e3 * (s1 - s0) / K, b[r] = 1e3 * (s2 - s1) / K, q[r] = a[r] / b[r];
    }
    qsort(a, R, sizeof *a, by_double), qsort(b, R, sizeof *b, by_double), qsort(q, R, sizeof *q, by_double);
    printf("forward_set, the paper's network (BN, evaluation mode), %d rounds of %d passes, medians of CPU time per "
           "pass: evaluation order %.2f ms, file order %.2f ms, ratio %.3f (%.3f-%.3f); the order %s; loss and hits "
           "%s\n",
           R, K, a[R / 2], b[R / 2], q[R / 2], q[0], q[R - 1],
           forward_set_ordered(&m, &ds, ds.n, &ord) ? "used" : "NOT used (file order both times)",
           !memcmp(&la, &lb, sizeof la) && ha == hb ? "the same bits" : "DIFFER");
    free(x), free(y);
    model_free(&m);
    eval_order_free(&o);
    dataset_free(&ds);
    return 0;
}

// Every example once; the tail in file order.
static void check_permutation(const eval_order_t *o) {
    char *seen = xcalloc(o->n ? o->n : 1, 1, "seen");
    int ok = 1;
    for (uint32_t i = 0; i < o->n; i++) {
        if (o->perm[i] >= o->n || seen[o->perm[i]]) ok = 0;
        else seen[o->perm[i]] = 1;
    }
    CHECK(ok, "n %u, batch %d: the order is not a permutation of [0, n)", o->n, o->batch);
    const uint32_t nf = o->n - o->n % (uint32_t)o->batch;
    int tail = 1, moved = 0;
    for (uint32_t i = 0; i < o->n; i++) {
        if (i >= nf && o->perm[i] != i) tail = 0;
        if (i < nf && o->perm[i] != i) moved = 1;
    }
    CHECK(tail, "n %u, batch %d: the last %u examples are not in file order", o->n, o->batch, o->n - nf);
    CHECK(moved || nf == 0, "n %u, batch %d: the order is file order", o->n, o->batch);
    free(seen);
}

enum { NET_PAPER, NET_NOISY };

// The paper's net (784-100-BN-sigmoid x3-10), or 784-100 (sparse input)-sigmoid-dropout-noise-100-layernorm-relu-10;
// Xavier weights
// and BN running statistics away from 0/1, so that every example's logits are its own.
static void build(model_t *m, int net, int max_batch) {
    layer_spec_t s[16];
    int n = 0;
    const layer_spec_t dense = {.kind = LAYER_DENSE, .units = 100, .bias = 0, .init = {.kind = INIT_XAVIER_UNIFORM}};
    if (net == NET_PAPER) {
        for (int i = 0; i < 3; i++) {
            s[n++] = dense;
            s[n++] = (layer_spec_t){.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1};
            s[n++] = (layer_spec_t){.kind = LAYER_SIGMOID};
        }
    } else {
        s[n] = dense;
        s[n++].sparse_input = 1;  // summed per example over its nonzeros (nn/sparse.h)
        s[n++] = (layer_spec_t){.kind = LAYER_SIGMOID};
        s[n++] = (layer_spec_t){.kind = LAYER_DROPOUT, .rate = 0.3};
        s[n++] = (layer_spec_t){.kind = LAYER_NOISE};
        s[n++] = dense;
        s[n++] = (layer_spec_t){.kind = LAYER_LAYERNORM, .eps = 1e-5};
        s[n++] = (layer_spec_t){.kind = LAYER_RELU};
    }
    s[n++] = (layer_spec_t){.kind = LAYER_DENSE, .units = 10, .bias = 1, .init = {.kind = INIT_XAVIER_UNIFORM}};
    CHECK(model_build(m, s, n, 784, 10, max_batch) == 0, "model_build: %s", bnlab_errmsg());
    model_init(m, 7);
    rng_t r;
    rng_seed(&r, 11, 0);
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        if (!l->rmean) continue;
        for (int j = 0; j < l->out; j++)
            l->rmean[j] = 0.2f * (float)(rng_uniform(&r) - 0.5), l->rvar[j] = 0.5f + (float)rng_uniform(&r),
            l->gamma[j] = 0.5f + (float)rng_uniform(&r), l->beta[j] = 0.3f * (float)(rng_uniform(&r) - 0.5);
    }
}

static void noop_fn(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)m, (void)start, (void)B, (void)labels;
    ++*(int *)ctx;
}

// The pass done by hand in the order, whatever the mode: what forward_set would give without its safety rule.
static double by_hand(model_t *m, const preprocess_t *pp, const dataset_t *ds, eval_order_t *o, forward_mode_t mode,
                      train_rng_t *r, float *x, long *hits) {
    double total = 0;
    *hits = 0;
    for (uint32_t s = 0; s < o->n; s += (uint32_t)o->batch) {
        int B = (int)(o->n - s < (uint32_t)o->batch ? o->n - s : (uint32_t)o->batch);
        dataset_gather(ds, pp, o->perm + s, B, x, NULL);
        eval_order_put(o, s, B, model_forward(m, x, B, mode, r));
    }
    for (uint32_t s = 0; s < o->n; s += (uint32_t)o->batch) {
        int B = (int)(o->n - s < (uint32_t)o->batch ? o->n - s : (uint32_t)o->batch), c;
        total += B * softmax_xent_forward(m->probs, o->logits + (size_t)s * 10, ds->labels + s, B, 10, &c);
        *hits += c;
    }
    return total / o->n;
}

// Returns whether the order was used in evaluation mode.
static int check_passes(const dataset_t *ds, const preprocess_t *pp, uint32_t n, int batch, int net) {
    model_t m;
    build(&m, net, batch);
    model_prepare_gemm(&m, batch);
    if (n % (uint32_t)batch) model_prepare_gemm(&m, (int)(n % (uint32_t)batch));
    eval_order_t o;
    eval_order_build(&o, ds, pp, n, batch, 10);
    check_permutation(&o);
    float *x = xmalloc(sizeof(float) * (size_t)batch * 784, "x");
    int32_t *y = xmalloc(sizeof(int32_t) * (size_t)batch, "y");
    train_rng_t r0;
    rng_seed(&r0.dropout, 5, 1), rng_seed(&r0.noise, 5, 2);
    const forward_mode_t modes[] = {MODE_EVAL, MODE_EVAL_BATCH, MODE_TRAIN_FROZEN};
    int used_eval = 0;
    for (int k = 0; k < 3; k++) {
        const forward_mode_t mode = modes[k];
        train_rng_t r1 = r0, r2 = r0, r3 = r0;
        forward_pass_t file = {.mode = mode, .rng = &r1, .batch = batch, .x = x, .y = y};
        forward_pass_t ord = file;
        ord.rng = &r2, ord.order = &o;
        long h_file, h_ord, h_hand;
        const long before = o.passes;
        const double l_file = forward_set(&m, pp, ds, n, &file, &h_file);
        const double l_ord = forward_set(&m, pp, ds, n, &ord, &h_ord);
        const int per_example = model_per_example(&m, mode, batch), used = o.passes > before;
        if (mode == MODE_EVAL) used_eval = used;
        CHECK(forward_set_ordered(&m, ds, n, &ord) == per_example && used == per_example,
              "net %d, mode %d: the order used %d times, allowed %d, but every layer per example is %d", net, mode,
              (int)(o.passes - before), forward_set_ordered(&m, ds, n, &ord), per_example);
        CHECK(!memcmp(&l_file, &l_ord, sizeof l_file) && h_file == h_ord,
              "net %d, n %u, batch %d, mode %d: the loss in the evaluation order differs: %.17g (%ld hits) in file "
              "order, %.17g (%ld) in the evaluation order",
              net, n, batch, mode, l_file, h_file, l_ord, h_ord);
        if (!per_example && n >= (uint32_t)batch) {  // the rule matters: the order by hand gives other bits
            const double l_hand = by_hand(&m, pp, ds, &o, mode, &r3, x, &h_hand);
            CHECK(memcmp(&l_file, &l_hand, sizeof l_file) != 0,
                  "net %d, mode %d: a pass that mixes examples gave the same loss in the evaluation order (%.17g): "
                  "the safety rule is not shown to matter",
                  net, mode, l_hand);
        }
    }
    // A per-batch callback sees the batches of file order: the order is not used.
    int calls = 0;
    forward_pass_t cb = {.mode = MODE_EVAL, .batch = batch, .x = x, .y = y, .fn = noop_fn, .ctx = &calls,
                         .order = &o};
    const long before = o.passes;
    long h;
    forward_set(&m, pp, ds, n, &cb, &h);
    CHECK(o.passes == before && calls == (int)((n + (uint32_t)batch - 1) / (uint32_t)batch),
          "with a callback: the order was used (%ld) or the callback ran %d times", o.passes - before, calls);
    // An order made for other passes is not used: another n, another batch size.
    forward_pass_t other = {.mode = MODE_EVAL, .batch = batch, .x = x, .y = y, .order = &o};
    CHECK(!forward_set_ordered(&m, ds, n - 1, &other), "the order was allowed for n - 1 examples");
    other.batch = batch - 1;
    CHECK(!forward_set_ordered(&m, ds, n, &other), "the order was allowed for batches of another size");
    free(x), free(y);
    eval_order_free(&o);
    model_free(&m);
    return used_eval;
}

int main(int argc, char **argv) {
    if (argc >= 3) return measure(argv[1], argv[2], argc > 3 ? atoi(argv[3]) : 1000);
    const char *root = getenv("BNLAB_SOURCE_ROOT");
    char img[4096], lab[4096];
    snprintf(img, sizeof img, "%s/datasets/mnist-subset/t10k-images-idx3-ubyte.gz", root ? root : ".");
    snprintf(lab, sizeof lab, "%s/datasets/mnist-subset/t10k-labels-idx1-ubyte.gz", root ? root : ".");
    dataset_t ds;
    if (idx_load(&ds, img, lab, 10, DATA_DEFAULT_MAX_BYTES) != 0) {
        fprintf(stderr, "%s\n", bnlab_errmsg());
        return 2;
    }
    preprocess_t pp = {.scale = 1.0f / 255};

    // layer_per_example follows the rows: BN per example only by its running statistics, dropout and noise only
    // where they do not draw; dense, activations and layernorm always.
    const struct {
        layer_kind_t kind;
        int eval, eval_batch, train;
    } facts[] = {{LAYER_DENSE, 1, 1, 1},   {LAYER_SIGMOID, 1, 1, 1}, {LAYER_RELU, 1, 1, 1},
                 {LAYER_TANH, 1, 1, 1},    {LAYER_LAYERNORM, 1, 1, 1}, {LAYER_RMSNORM, 1, 1, 1},
                 {LAYER_BATCHNORM, 1, 0, 0}, {LAYER_DROPOUT, 1, 1, 0}, {LAYER_NOISE, 1, 1, 0}};
    for (size_t i = 0; i < sizeof facts / sizeof *facts; i++) {
        const layer_spec_t s = {.kind = facts[i].kind};
        CHECK(layer_per_example(&s, MODE_EVAL) == facts[i].eval &&
                  layer_per_example(&s, MODE_EVAL_BATCH) == facts[i].eval_batch &&
                  layer_per_example(&s, MODE_TRAIN) == facts[i].train &&
                  layer_per_example(&s, MODE_TRAIN_FROZEN) == facts[i].train,
              "%s: layer_per_example is not what its registry row says", layer_kind_name(facts[i].kind));
    }

    // The order's groups have fewer terms than file order's (the subset: 2,000 test images).
    eval_order_t o;
    const int g = gemm_skip_zeros_group();
    eval_order_build(&o, &ds, &pp, ds.n, 1000, 10);
    check_permutation(&o);
    const double t_file = eval_order_terms(&ds, &pp, NULL, ds.n, 1000, g),
                 t_ord = eval_order_terms(&ds, &pp, o.perm, ds.n, 1000, g);
    printf("subset, groups of %d: terms %.4f in file order, %.4f in the evaluation order\n", g, t_file, t_ord);
    CHECK(g == 1 || t_ord < 0.85 * t_file, "the evaluation order's groups have %.4f of the terms, file order's %.4f",
          t_ord, t_file);
    // Deterministic: built again, the same order.
    eval_order_t o2;
    eval_order_build(&o2, &ds, &pp, ds.n, 1000, 10);
    CHECK(!memcmp(o.perm, o2.perm, sizeof(uint32_t) * ds.n), "two builds of the order differ");
    eval_order_free(&o2);
    eval_order_free(&o);

    const int used = check_passes(&ds, &pp, ds.n, 1000, NET_PAPER);
    check_passes(&ds, &pp, 1700, 400, NET_PAPER);  // a last batch of 100; batches not a multiple of 3
    check_passes(&ds, &pp, 1000, 250, NET_NOISY);
    check_passes(&ds, &pp, 50, 1000, NET_PAPER);   // no whole batch: file order
    // The portable backend sums each element by itself: its rows never depend on their place, the order is used.
    CHECK(used || gemm_backend() != GEMM_PORTABLE, "portable backend: the evaluation order was not used");
    // tests/test_evalorder.sh reads this line: where the order is not used, a planted un-permutation changes nothing.
    printf("the paper's network, batches of 1000, evaluation mode, backend %s: %s\n", gemm_backend_name(gemm_backend()),
           used ? "evaluation order" : "file order (rows of a product depend on their place: gemm_rows_independent)");
    dataset_free(&ds);
    return check_summary("evalorder");
}
