// bench.h — bnlab bench: training speed of the paper's network against the GEMM-only bound.
//
// The bound is the time the step's own cblas_sgemm calls take alone — the same shapes, operands and order
// (forward y = x W^T per dense layer, backward dW = dy^T x and dx = dy W), on the same buffers — measured in
// the same process right after the real steps. bnlab's step = that + element-wise work + data gathering
// + the update; ratio = bound / step (1.0 would mean everything else is free). With sparse input (the first layer
// skips zero pixels, sparse.h) the bound is still that of the dense products: the ratio then says how far the
// option goes past what the dense network's products alone would take.
#ifndef BNLAB_BENCH_H
#define BNLAB_BENCH_H

typedef struct {
    int batch, bn, threads, sparse;
    double us_step;       // bnlab training step, microseconds (best of the repeats)
    double us_gemm;       // GEMM-only bound
    double examples_s;    // batch / step time
    long peak_rss_kb;     // process peak RSS after the case
} bench_result_t;

// Runs one case on the shipped MNIST subset (real pixels): warm-up, then `steps` timed steps, `repeats` times.
int bench_case(bench_result_t *r, const char *data_dir, int batch, int bn, int threads, int sparse, int steps,
               int repeats);

// Loads an IDX image file with bnlab's loader and decompresses it with `zcat > /dev/null`, best of 3 each.
int bench_load(const char *images_path, double *ms_bnlab, double *ms_zcat);

// bnlab bench: one line per case — batch, BN, threads, input, bnlab us/step and examples/s, the GEMM-only bound,
// their ratio — for the cases the filter words (batch=N bn=on|off threads=N input=dense|sparse) admit, then the IDX
// loading time. A word without '=' is the data directory (default: the shipped MNIST subset). Returns 0, 2 after a
// usage error (printed), or -1 + message.
int bench_command(const char *const *words, int n_words, int steps);

#endif
