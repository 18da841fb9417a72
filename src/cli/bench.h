// bench.h — bnlab bench: training speed of the paper's network against the GEMM-only bound.
//
// The bound is the time the step's own cblas_sgemm calls take alone — the same shapes, operands and order
// (forward y = x W^T per dense layer, backward dW = dy^T x and dx = dy W), on the same buffers — measured in
// the same process right after the real steps. bnlab's step = that + element-wise work + data gathering
// + the update; ratio = bound / step (1.0 would mean everything else is free). With sparse input (the first layer
// skips zero pixels, sparse.h) the bound is still that of the dense products: the ratio then says how far the
// option goes past what the dense network's products alone would take.
// The dense first layer's forward product skips zero pixels too where that gives the same bits (gemm_nt_skip_zeros,
// nn/gemm.h: libxsmm and the portable backend, not OpenBLAS); the bound still times the dense products. Every figure is
// the best of several samples, timed one way (bench.c: seconds_per_call).
//
// Both GEMM backends (nn/gemm.h) run the same cases in one process, and the machine's limit is measured beside them:
// a single core's FP32 FMA peak with AVX2 and, where the CPU has it, AVX-512 registers (bench_fma_peak). The step's
// GFLOP/s counts the dense network's products (2 B in out per product; a sparse-input layer counts as dense), so
// GFLOP/s / peak says how much of the core's arithmetic the step uses.
#ifndef BNLAB_BENCH_H
#define BNLAB_BENCH_H

#include "nn/gemm.h"

typedef struct {
    int batch, bn, threads, sparse;
    gemm_backend_t backend;
    double us_step;       // bnlab training step, microseconds (best of the repeats)
    double us_gemm;       // GEMM-only bound
    double examples_s;    // batch / step time
    double gflops_step;   // the dense network's GEMM flops per step / step time, GFLOP/s
    long peak_rss_kb;     // process peak RSS after the case
} bench_result_t;

// Runs one case on the shipped MNIST subset (real pixels): warm-up, then `steps` timed steps, `repeats` times.
int bench_case(bench_result_t *r, const char *data_dir, int batch, int bn, int threads, int sparse,
               gemm_backend_t backend, int steps, int repeats);

// One core's FP32 multiply-add peak in GFLOP/s with 256-bit (avx512 = 0: AVX2 + FMA) or 512-bit (AVX-512F) vectors,
// measured by independent FMA chains in registers (best of 7 runs of ~10-50 ms); 0 if the CPU lacks the extension.
double bench_fma_peak(int avx512);

// The evaluation of 10,000 test images (the test set of data_dir, in evaluation batches, as a run's metrics rows do it)
// by the BN network with a dense first layer: milliseconds, the best of 3. skip_zeros = 0: the first layer's product
// sums every zero input too (gemm_skip_zeros_enable; the same bits, for comparison). ordered = 0: the test set in file
// order, without the run's evaluation order (run/evalorder.h; the same bits, for comparison).
int bench_eval(double *ms_10k, const char *data_dir, int threads, gemm_backend_t backend, int skip_zeros, int ordered);

// Loads an IDX image file with bnlab's loader and decompresses it with `zcat > /dev/null`, best of 3 each.
int bench_load(const char *images_path, double *ms_bnlab, double *ms_zcat);

// bnlab bench update: what log.update_ratios_every costs a step. The update with its sums (nn/optim.h sgd_step_sums,
// into the paper's BN network's tensors as run/updatelog.c asks for them) against the update alone (sgd_step) and a
// whole training step (gradient + update), on the network's own parameters and a gradient of it, timed in turn
// (200 updates, 200 updates with sums, 50 steps per round, the order rotated every round); min and median over the
// rounds, in microseconds per call.
typedef struct {
    size_t n_params;
    int n_tensors, rounds;
    double us_update[2], us_sums[2], us_step[2];  // {min, median}
} bench_update_t;
int bench_update(bench_update_t *r, const char *data_dir, int rounds);

// bnlab bench: one line per case — batch, BN, threads, input, bnlab us/step and examples/s, the GEMM-only bound,
// their ratio — for the cases the filter words (batch=N bn=on|off threads=N input=dense|sparse) admit, then the IDX
// loading time. A word without '=' is the data directory (default: the shipped MNIST subset). `bnlab bench update
// [DATA_DIR]` runs bench_update only, with `steps` rounds (--steps; the command's default 300). Returns 0, 2 after a
// usage error (printed), or -1 + message.
int bench_command(const char *const *words, int n_words, int steps);

#endif
