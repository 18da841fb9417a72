// bench_threads.c — why a bnlab training step can be slower with 2 OpenBLAS threads than with 1 while its GEMMs
// alone are faster with 2 (issue: ~484 µs/step with 2 threads against ~284 with 1; the same GEMMs back to back
// ~196 µs with 2 against ~245 with 1).
//
// It times the 11 GEMMs of one step of the paper's network (784-100-100-100-10, batch 60; the same calls, shapes
// and transposes as src/cli/bench.c's GEMM-only bound) per step in four settings, each with 1 and 2 threads:
//   gemm     the GEMMs back to back: the GEMM-only bound;
//   +gap     a pause between consecutive GEMMs that computes but writes no memory, as long as the element-wise
//            work bnlab does there (--gap-us, default 4 µs): what OpenBLAS's idle workers do between calls;
//   +writes  the main thread reads and writes each GEMM's output before the next GEMM uses it (as BN, the sigmoid
//            and softmax do), updates every W from its dW after the step (SGD) and writes the next input batch:
//            the cache lines a worker needs were last written on the other core;
//   +both    the two together: what a training step does.
// Best of 5 repeats per setting (noise only adds time). It needs nothing but OpenBLAS; the numbers are what the
// explanation in README "Performance" rests on.
//   usage: bench-threads [--steps N] [--gap-us G]
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int num_threads);  // OpenBLAS's own API (cblas.h declares it in newer versions)

enum { BATCH = 60, LAYERS = 4, REPEATS = 5 };
static const int dims[LAYERS + 1] = {784, 100, 100, 100, 10};
static float *W[LAYERS], *dW[LAYERS];          // (dims[l+1], dims[l]) torch layout, as bnlab's dense layers
static float *act[LAYERS + 1], *dact[LAYERS + 1];  // (BATCH, dims[l])
static volatile float sink;  // keeps the pause's arithmetic from being optimized away

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Computes for us microseconds, touching no memory but a register.
static void pause_us(double us) {
    const double end = now() + us * 1e-6;
    float s = 0.0f;
    while (now() < end) s += 1.0f;
    sink = s;
}

// Reads and writes n floats, as an element-wise layer does its output.
static void touch(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = p[i] * 0.5f + 0.25f;
}

static void between(float *written, size_t n, int gap, int writes, double gap_us) {
    if (writes && written) touch(written, n);
    if (gap) pause_us(gap_us);
}

static void step(int gap, int writes, double gap_us) {
    for (int l = 0; l < LAYERS; l++) {  // forward: act[l+1] (B, out) = act[l] (B, in) W^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BATCH, dims[l + 1], dims[l], 1.0f, act[l], dims[l], W[l],
                    dims[l], 0.0f, act[l + 1], dims[l + 1]);
        between(act[l + 1], (size_t)BATCH * dims[l + 1], gap, writes, gap_us);
    }
    for (int l = LAYERS - 1; l >= 0; l--) {  // backward: dW (out, in) = dact^T act; dact[l] (B, in) = dact[l+1] W
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dims[l + 1], dims[l], BATCH, 1.0f, dact[l + 1],
                    dims[l + 1], act[l], dims[l], 0.0f, dW[l], dims[l]);
        between(NULL, 0, gap, writes, gap_us);
        if (l == 0) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, dims[l], dims[l + 1], 1.0f, dact[l + 1],
                    dims[l + 1], W[l], dims[l], 0.0f, dact[l], dims[l]);
        between(dact[l], (size_t)BATCH * dims[l], gap, writes, gap_us);
    }
    if (!writes) return;
    for (int l = 0; l < LAYERS; l++) {  // SGD, then the next batch
        const size_t n = (size_t)dims[l] * dims[l + 1];
        for (size_t i = 0; i < n; i++) W[l][i] -= 1e-7f * dW[l][i];
    }
    touch(act[0], (size_t)BATCH * dims[0]);
}

static float *filled(size_t n, float scale) {
    float *p = malloc(sizeof(float) * n);
    if (!p) {
        fprintf(stderr, "bench-threads: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)rand() / (float)RAND_MAX;
    return p;
}

int main(int argc, char **argv) {
    int steps = 2000;
    double gap_us = 4.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--gap-us") && i + 1 < argc) gap_us = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench-threads [--steps N] [--gap-us G]\n");
            return 2;
        }
    }
    if (steps < 10 || gap_us < 0) {
        fprintf(stderr, "bench-threads: expected --steps >= 10 and --gap-us >= 0\n");
        return 2;
    }
    srand(1);
    for (int l = 0; l <= LAYERS; l++) {
        act[l] = filled((size_t)BATCH * dims[l], 1.0f);
        dact[l] = filled((size_t)BATCH * dims[l], 1e-3f);
    }
    for (int l = 0; l < LAYERS; l++) {
        W[l] = filled((size_t)dims[l] * dims[l + 1], 0.01f);
        dW[l] = filled((size_t)dims[l] * dims[l + 1], 0.0f);
    }
    static const char *const names[4] = {"gemm", "+gap", "+writes", "+both"};
    printf("%-8s %12s %12s %8s   (µs per step of 11 GEMMs, best of %d x %d steps; gap %.1f µs)\n", "setting",
           "1 thread", "2 threads", "2 / 1", REPEATS, steps, gap_us);
    double us[4][2];
    for (int th = 1; th <= 2; th++) {
        openblas_set_num_threads(th);
        for (int m = 0; m < 4; m++) {
            const int gap = m == 1 || m == 3, writes = m >= 2;
            double best = 1e30;
            for (int r = 0; r < REPEATS; r++) {
                for (int i = 0; i < steps / 10; i++) step(gap, writes, gap_us);  // warm-up
                const double t0 = now();
                for (int i = 0; i < steps; i++) step(gap, writes, gap_us);
                const double dt = (now() - t0) / steps;
                best = dt < best ? dt : best;
            }
            us[m][th - 1] = 1e6 * best;
        }
    }
    for (int m = 0; m < 4; m++)
        printf("%-8s %12.1f %12.1f %7.2fx\n", names[m], us[m][0], us[m][1], us[m][1] / us[m][0]);
    return 0;
}
