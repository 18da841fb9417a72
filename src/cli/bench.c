#include "cli/bench.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nn/gemm.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "nn/registry.h"
#include "run/train.h"
#include "base/spawn.h"
#include "base/util.h"
#include "cli/options.h"

// Every figure of the bench is timed the same way: seconds per call of one thing done `calls` times in a row, the best
// (smallest) of several such samples — on a shared machine noise only ever adds time, so the fastest sample is the
// closest to what the code itself costs. Where two things are compared they are sampled alternately.
typedef void (*bench_fn)(void *ctx);
static double seconds_per_call(bench_fn fn, void *ctx, long calls) {
    double t0 = now_seconds();
    for (long i = 0; i < calls; i++) fn(ctx);
    return (now_seconds() - t0) / (double)calls;
}
static double at_most(double best, double t) { return t < best ? t : best; }

// The paper's network, as configs/mnist-{bn,nobn}.json, built through the config parser.
static int paper_config(config_t *c, const char *data_dir, int batch, int bn, int threads, int sparse) {
    char text[4096], first[256], hidden[256];
    // One hidden layer; %s: extra keys of its dense layer (the first one may skip zero inputs).
    const char *layer = bn ? "{\"type\": \"dense\", \"units\": 100, \"bias\": false%s}, {\"type\": \"batchnorm\"}, "
                             "{\"type\": \"sigmoid\"}"
                           : "{\"type\": \"dense\", \"units\": 100%s}, {\"type\": \"sigmoid\"}";
    snprintf(first, sizeof first, layer, sparse ? ", \"sparse_input\": true" : "");
    snprintf(hidden, sizeof hidden, layer, "");
    snprintf(text, sizeof text,
             "{\"name\": \"bench\", \"threads\": %d, \"data\": {\"train_images\": \"train-images-idx3-ubyte.gz\", "
             "\"train_labels\": \"train-labels-idx1-ubyte.gz\", \"test_images\": \"t10k-images-idx3-ubyte.gz\", "
             "\"test_labels\": \"t10k-labels-idx1-ubyte.gz\"}, \"model\": {\"init\": {\"type\": \"normal\", "
             "\"std\": 0.01}, \"layers\": [%s, %s, %s, {\"type\": \"dense\", \"units\": 10}]}, \"train\": "
             "{\"batch_size\": %d, \"steps\": 1000000, \"optimizer\": {\"lr\": 0.5}}, \"log\": {\"stats\": false, "
             "\"probe_size\": 0, \"ics_every\": 0, \"percentiles\": {\"every\": 0}}}",
             threads, first, hidden, hidden, batch);
    return config_parse(c, text, strlen(text), "bench", data_dir, NULL, 0);
}

// The dense network's matrix products alone, on the model's own buffers, through the same backend (nn/gemm.h) as the
// step. A sparse-input layer's W is stored (in, out): the same products with the transposes swapped, same shapes and
// operation counts (they are prepared here, at setup: the step itself does not run them).
static void gemm_step(const model_t *m, const float *x, int B) {
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (layer_kind(l->spec.kind)->linear) {
            if (l->spec.sparse_input) gemm(GEMM_NN, l->y, in, l->W, B, l->out, l->in);  // y = x WT
            else gemm(GEMM_NT, l->y, in, l->W, B, l->out, l->in);                       // y = x W^T
        }
        in = l->y;
    }
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const layer_t *l = &m->layers[i];
        if (!layer_kind(l->spec.kind)->linear) continue;
        const float *lin = i > 0 ? m->layers[i - 1].y : x;
        if (l->spec.sparse_input) gemm(GEMM_TN, l->dW, lin, l->dy, l->in, l->out, B);  // dWT (in, out) = x^T dy
        else gemm(GEMM_TN, l->dW, l->dy, lin, l->out, l->in, B);                      // dW (out, in) = dy^T x
        if (i == 0) continue;
        if (l->spec.sparse_input) gemm(GEMM_NT, m->layers[i - 1].dy, l->dy, l->W, B, l->in, l->out);  // dx = dy WT^T
        else gemm(GEMM_NN, m->layers[i - 1].dy, l->dy, l->W, B, l->in, l->out);                      // dx = dy W
    }
}

static void gemm_step_prepare(const model_t *m, int B) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (!layer_kind(l->spec.kind)->linear || !l->spec.sparse_input) continue;
        gemm_prepare(GEMM_NN, B, l->out, l->in);
        gemm_prepare(GEMM_TN, l->in, l->out, B);
        if (i > 0) gemm_prepare(GEMM_NT, B, l->in, l->out);
    }
}

// Multiply-adds of those products: per dense layer B in out for y and dW, and for dx but in the first layer.
static double gemm_step_flops(const model_t *m, int B) {
    double f = 0.0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (layer_kind(l->spec.kind)->linear) f += 2.0 * B * l->in * l->out * (i > 0 ? 3 : 2);
    }
    return f;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// Independent FMA chains, enough to cover the FMA latency on every pipe: a = a m + c, which stays near 1 (no
// denormals, no overflow). One core; the compiler may not fold them (each depends on the last).
// Twelve chains (latency 4 x 2 pipes needs 8), written out so that each stays in a register.
#define FMA_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define FMA_N 12
#define FMA_LOOP(V, SET1, FMADD, ADD)                                         \
    V m = SET1(0.9999999f), c = SET1(1e-7f);                                  \
    FMA_CHAINS(FMA_DECL)                                                      \
    for (long it = 0; it < iters; it++) { FMA_CHAINS(FMA_STEP) }              \
    V s = a0;                                                                 \
    FMA_CHAINS(FMA_SUM)
#define FMA_DECL(j) V a##j = SET1(1.0f + 0.01f * j);
#define FMA_STEP(j) a##j = FMADD(a##j, m, c);
#define FMA_SUM(j) s = j ? ADD(s, a##j) : s;
__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters) {
#define V __m256
#define SET1 _mm256_set1_ps
#define FMADD _mm256_fmadd_ps
#define ADD _mm256_add_ps
    FMA_LOOP(V, SET1, FMADD, ADD)
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
#undef V
#undef SET1
#undef FMADD
#undef ADD
}
__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters) {
#define V __m512
#define SET1 _mm512_set1_ps
#define FMADD _mm512_fmadd_ps
#define ADD _mm512_add_ps
    FMA_LOOP(V, SET1, FMADD, ADD)
    return _mm512_reduce_add_ps(s);
#undef V
#undef SET1
#undef FMADD
#undef ADD
}

typedef struct {
    int avx512;
    long iters;
    volatile float sink;  // keeps the loops' results alive
} fma_ctx_t;
static void fma_once(void *ctx) {
    fma_ctx_t *f = ctx;
    f->sink += f->avx512 ? fma_loop_avx512(f->iters) : fma_loop_avx2(f->iters);
}
#endif

double bench_fma_peak(int avx512) {
#if defined(__x86_64__) && defined(__GNUC__)
    int has = avx512 ? __builtin_cpu_supports("avx512f") : __builtin_cpu_supports("avx2");
    if (!has || !__builtin_cpu_supports("fma")) return 0.0;
    fma_ctx_t f = {.avx512 = avx512, .iters = 2000000};
    const double flops = 2.0 * f.iters * FMA_N * (avx512 ? 16 : 8);
    double best = 1e30;
    for (int k = 0; k < 7; k++) best = at_most(best, seconds_per_call(fma_once, &f, 1));
    return flops / best * 1e-9;
#else
    (void)avx512;
    return 0.0;
#endif
}

typedef struct {
    trainer_t *t;
    double loss, acc;
} eval_ctx_t;
static void eval_once(void *ctx) {
    eval_ctx_t *e = ctx;
    trainer_evaluate(e->t, &e->t->test, e->t->test.n, &e->loss, &e->acc, NULL);
}

int bench_eval(double *ms_10k, const char *data_dir, int threads, gemm_backend_t backend, int skip_zeros, int ordered) {
    config_t c;
    if (paper_config(&c, data_dir, 60, 1, threads, 0) != 0) return -1;
    c.train.gemm = backend;
    trainer_t t;
    if (trainer_setup(&t, &c) != 0) return -1;
    if (!ordered) eval_order_free(&t.test_order);  // file order (trainer_forward_set: no order without one)
    enable_flush_to_zero();
    openblas_set_num_threads(threads);
    gemm_skip_zeros_enable(skip_zeros);
    // The test set in evaluation batches (1000 by default), forward only, enough passes for about 10,000 images.
    eval_ctx_t e = {.t = &t};
    const uint32_t n = t.test.n, passes = (10000 + n - 1) / n;
    double best = 1e30;
    eval_once(&e);  // warm-up
    for (int k = 0; k < 3; k++) best = at_most(best, seconds_per_call(eval_once, &e, passes));
    gemm_skip_zeros_enable(1);
    *ms_10k = 1e3 * best / n * 10000.0;
    trainer_free(&t);
    return 0;
}

typedef struct {
    const char *path;
    int failed;  // bnlab's loader (message set) or zcat
} load_ctx_t;
static void load_once(void *ctx) {
    load_ctx_t *l = ctx;
    dataset_t ds;
    if (idx_load_images(&ds, l->path, DATA_DEFAULT_MAX_BYTES) != 0) l->failed = 1;
    else dataset_free(&ds);
}
static void zcat_once(void *ctx) {
    load_ctx_t *l = ctx;
    const char *zcat[] = {"zcat", l->path, NULL};  // no shell: the path is an argument, never parsed
    if (spawn_wait(zcat, NULL, NULL) != 0) l->failed = 1;
}

int bench_load(const char *images_path, double *ms_bnlab, double *ms_zcat) {
    double best = 1e30, bestz = 1e30;
    load_ctx_t l = {.path = images_path}, z = {.path = images_path};
    for (int k = 0; k < 3 && !l.failed && !z.failed; k++) {
        best = at_most(best, seconds_per_call(load_once, &l, 1));
        bestz = at_most(bestz, seconds_per_call(zcat_once, &z, 1));
    }
    if (l.failed) return -1;
    if (z.failed) return bnlab_fail("zcat failed on %s", images_path);
    *ms_bnlab = 1e3 * best;
    *ms_zcat = 1e3 * bestz;
    return 0;
}

typedef struct {
    trainer_t *t;
    double lr;
} step_ctx_t;
static void step_once(void *ctx) {  // one training step
    step_ctx_t *s = ctx;
    int correct;
    trainer_step_grad(s->t, &correct);
    trainer_step_update(s->t, s->lr);
}
static void gemm_once(void *ctx) {  // the step's products alone
    step_ctx_t *s = ctx;
    gemm_step(&s->t->model, s->t->x, s->t->cfg.train.batch_size);
}

int bench_case(bench_result_t *r, const char *data_dir, int batch, int bn, int threads, int sparse,
               gemm_backend_t backend, int steps, int repeats) {
    config_t c;
    if (paper_config(&c, data_dir, batch, bn, threads, sparse) != 0) return -1;
    c.train.gemm = backend;
    trainer_t t;
    if (trainer_setup(&t, &c) != 0) return -1;
    gemm_step_prepare(&t.model, batch);
    enable_flush_to_zero();
    openblas_set_num_threads(threads);
    // The best of the repeats, for bnlab, the bound and PyTorch alike (seconds_per_call).
    double ts = 1e30, tg = 1e30;
    step_ctx_t sc = {.t = &t, .lr = t.cfg.train.optim.lr};
    seconds_per_call(step_once, &sc, steps / 4 + 10);  // warm-up: caches, BLAS threads, the FTZ regime
    for (int k = 0; k < repeats; k++) {
        ts = at_most(ts, seconds_per_call(step_once, &sc, steps));
        tg = at_most(tg, seconds_per_call(gemm_once, &sc, steps));
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *r = (bench_result_t){.batch = batch, .bn = bn, .threads = threads, .sparse = sparse, .backend = backend,
                          .us_step = 1e6 * ts, .us_gemm = 1e6 * tg, .examples_s = batch / ts,
                          .gflops_step = gemm_step_flops(&t.model, batch) / ts * 1e-9,
                          .peak_rss_kb = ru.ru_maxrss};
    trainer_free(&t);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// bnlab bench update: the update with its sums (log.update_ratios_every, nn/optim.h sgd_step_sums) against the update
// alone (sgd_step) and a whole training step, on the paper's BN network's own parameters and gradient.

typedef struct {
    trainer_t *t;
    sgd_sums_t s;
} update_ctx_t;
static void update_once(void *ctx) {
    update_ctx_t *u = ctx;
    trainer_t *t = u->t;
    sgd_step(&t->opt, t->model.params, t->model.grads, t->model.n_decay, t->cfg.train.optim.lr);
}
static void update_sums_once(void *ctx) {
    update_ctx_t *u = ctx;
    trainer_t *t = u->t;
    sgd_step_sums(&t->opt, t->model.params, t->model.grads, t->model.n_decay, t->cfg.train.optim.lr, &u->s);
}
static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_update(bench_update_t *r, const char *data_dir, int rounds) {
    enum { KINDS = 3, MAX_ROUNDS = 1000 };
    if (rounds < 1 || rounds > MAX_ROUNDS) return bnlab_fail("bench update: %d rounds; expected 1..%d", rounds, MAX_ROUNDS);
    config_t c;
    if (paper_config(&c, data_dir, 60, 1, 1, 0) != 0) return -1;
    trainer_t t;
    if (trainer_setup(&t, &c) != 0) return -1;
    enable_flush_to_zero();
    openblas_set_num_threads(1);
    // The tensors as run/updatelog.c hands them to the update: each trainable tensor of the parameter block.
    const model_t *m = &t.model;
    size_t at[64], len[64];
    double sums[64][SGD_SUMS];
    int n = 0;
    for (int i = 0; i < m->n_layers; i++) {
        float *w[LAYER_MAX_PARAMS];
        size_t nw[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(&m->layers[i], w, nw, NULL); k < nt; k++, n++) {
            if (n == 64) return trainer_free(&t), bnlab_fail("bench update: more than 64 tensors");
            at[n] = (size_t)(w[k] - m->params), len[n] = nw[k];
        }
    }
    float *before = xmalloc(sizeof(float) * m->n_params, "bench update: parameters before");
    update_ctx_t u = {.t = &t, .s = {.n = n, .at = at, .len = len, .sums = sums, .before = before}};
    step_ctx_t sc = {.t = &t, .lr = t.cfg.train.optim.lr};
    seconds_per_call(step_once, &sc, 100);  // warm-up; then a gradient of the trained net, applied over and over
    // Each round times the three in turn (the order rotated): 200 updates, 200 updates with sums, 50 steps.
    static double us[KINDS][MAX_ROUNDS];
    const bench_fn fn[KINDS] = {update_once, update_sums_once, step_once};
    void *ctx[KINDS] = {&u, &u, &sc};
    const long calls[KINDS] = {200, 200, 50};
    for (int k = 0; k < rounds; k++)
        for (int j = 0; j < KINDS; j++) {
            const int w = (j + k) % KINDS;
            us[w][k] = 1e6 * seconds_per_call(fn[w], ctx[w], calls[w]);
        }
    for (int w = 0; w < KINDS; w++) qsort(us[w], (size_t)rounds, sizeof(double), cmp_double);
    *r = (bench_update_t){.n_params = m->n_params, .n_tensors = n, .rounds = rounds,
                          .us_update = {us[0][0], us[0][rounds / 2]}, .us_sums = {us[1][0], us[1][rounds / 2]},
                          .us_step = {us[2][0], us[2][rounds / 2]}};
    free(before);
    trainer_free(&t);
    return 0;
}

static int bench_update_command(const char *data_dir, int rounds) {
    bench_update_t r;
    if (bench_update(&r, data_dir, rounds) != 0) return -1;
    printf("The update of the paper's BN network (%zu parameters in %d tensors), %d rounds, microseconds per call "
           "(min / median):\n", r.n_params, r.n_tensors, r.rounds);
    printf("  update alone (sgd_step)                 %8.2f / %8.2f\n", r.us_update[0], r.us_update[1]);
    printf("  update with its sums (sgd_step_sums)    %8.2f / %8.2f\n", r.us_sums[0], r.us_sums[1]);
    printf("  training step (gradient + update)       %8.2f / %8.2f\n", r.us_step[0], r.us_step[1]);
    for (int k = 0; k < 2; k++)
        printf("  the sums cost (%s) %.2f us = %.1f %% of a step\n", k ? "medians" : "minima ",
               (k ? r.us_sums[1] - r.us_update[1] : r.us_sums[0] - r.us_update[0]),
               100.0 * (k ? r.us_sums[1] - r.us_update[1] : r.us_sums[0] - r.us_update[0]) /
                   (k ? r.us_step[1] : r.us_step[0]));
    return 0;
}

// Does a filter word (KEY=VALUE: batch=60, bn=on|off, threads=1, input=dense|sparse) admit this case?
static int bench_admits(const char *const *words, int n, int batch, int bn, int threads, int sparse) {
    char b[16], t[16];
    snprintf(b, sizeof b, "batch=%d", batch), snprintf(t, sizeof t, "threads=%d", threads);
    const char *keys[4] = {b, bn ? "bn=on" : "bn=off", t, sparse ? "input=sparse" : "input=dense"};
    for (int i = 0; i < n; i++) {
        size_t klen = strcspn(words[i], "=");
        for (int k = 0; k < 4; k++)
            if (!strncmp(words[i], keys[k], klen + 1) && strcmp(words[i], keys[k])) return 0;
    }
    return 1;
}

int bench_command(const char *const *words, int n_words, int steps) {
    static const char *const known[4] = {"batch=", "bn=", "threads=", "input="};
    const char *data_dir = BNLAB_SOURCE_ROOT "/datasets/mnist-subset";
    if (n_words >= 1 && !strcmp(words[0], "update")) {  // bnlab bench update [--steps ROUNDS] [DATA_DIR]
        if (n_words > 2 || (n_words == 2 && strchr(words[1], '=')))
            return usage_error("bench update: expected at most a data directory after 'update'%s", "");
        return bench_update_command(n_words == 2 ? words[1] : data_dir, steps);
    }
    for (int i = 0; i < n_words; i++) {
        int ok = 0;
        if (!strchr(words[i], '=')) {
            data_dir = words[i];
            continue;
        }
        for (int k = 0; k < 4; k++) ok |= !strncmp(words[i], known[k], strlen(known[k]));
        if (!ok) return usage_error("bench: unknown filter '%s' (expected batch=N, bn=on|off, threads=N, input=dense|sparse)", words[i]);
    }
    // The kernels OpenBLAS chose decide its bound: say which, and whether the environment chose them.
    const char *pinned = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS kernels: %s (%s)\n", openblas_get_corename(),
           pinned ? "OPENBLAS_CORETYPE is set in the environment" : "chosen by OpenBLAS for this CPU");
    printf("libxsmm JIT target: %s (%s AVX-512 kernels)\n", gemm_libxsmm_target(),
           gemm_libxsmm_avx512() ? "with" : "no");
    if (gemm_select(GEMM_AUTO) != 0) return -1;
    printf("GEMM backend for runs (auto): %s — %s\n", gemm_backend_name(gemm_backend()), gemm_reason());
    // The machine's limit: one core's FMA peak, per vector width.
    double peak2 = bench_fma_peak(0), peak5 = bench_fma_peak(1), peak = peak5 > peak2 ? peak5 : peak2;
    printf("FMA peak, one core, FP32: AVX2 %.1f GFLOP/s", peak2);
    if (peak5 > 0) printf(", AVX-512 %.1f GFLOP/s", peak5);
    else printf(", AVX-512 not on this CPU");
    printf("; %% peak below = step GFLOP/s / (%.1f x threads)\n", peak);
    printf("%6s %4s %7s %6s %8s %10s %11s %12s %6s %7s %6s %10s\n", "batch", "bn", "threads", "input", "gemm",
           "us/step", "examples/s", "gemm us/step", "ratio", "GFLOP/s", "%peak", "peak RSS");
    const int batches[2] = {60, 256};
    int ran = 0;
    for (int bi = 0; bi < 2; bi++)
        for (int bn = 1; bn >= 0; bn--)
            for (int th = 1; th <= 2; th++)
                for (int sp = 0; sp <= 1; sp++) {
                    if (!bench_admits(words, n_words, batches[bi], bn, th, sp)) continue;  // ignores the data dir
                    bench_result_t r[2];
                    for (int b = 0; b < 2; b++) {  // both backends, one after the other, in this process
                        bench_result_t *q = &r[b];
                        if (bench_case(q, data_dir, batches[bi], bn, th, sp, b ? GEMM_LIBXSMM : GEMM_OPENBLAS, steps,
                                       5) != 0)
                            return -1;
                        printf("%6d %4s %7d %6s %8s %10.1f %11.0f %12.1f %6.2f %7.1f %5.1f%% %7.1f MB\n", q->batch,
                               q->bn ? "on" : "off", q->threads, q->sparse ? "sparse" : "dense",
                               gemm_backend_name(q->backend), q->us_step, q->examples_s, q->us_gemm,
                               q->us_gemm / q->us_step, q->gflops_step, 100.0 * q->gflops_step / (peak * th),
                               q->peak_rss_kb / 1024.0);
                        fflush(stdout);
                    }
                    printf("%6s %4s %7s %6s %8s %9.2fx faster step with libxsmm, GEMMs alone %.2fx\n", "", "", "", "",
                           "", r[0].us_step / r[1].us_step, r[0].us_gemm / r[1].us_gemm);
                    ran++;
                }
    if (!ran) return usage_error("bench: no case matches the filters%s", "");
    // The large products: evaluating the test set (batches of 1000), per backend and thread count.
    // libxsmm also with every zero input of the first layer summed (gemm_nt_skip_zeros off), and in file order instead
    // of the run's evaluation order (run/evalorder.h): the same bits, slower.
    printf("\nEvaluation of 10,000 test images (BN, dense input, batches of 1000):");
    for (int th = 1; th <= 2; th++)
        for (int b = 0; b < 4; b++) {
            double ms;
            if (bench_eval(&ms, data_dir, th, b ? GEMM_LIBXSMM : GEMM_OPENBLAS, b != 2, b != 3) != 0) return -1;
            printf("%s %s %d thread%s %.1f ms", th + b > 1 ? "," : "",
                   b == 0   ? "openblas"
                   : b == 1 ? "libxsmm"
                   : b == 2 ? "libxsmm without skipping zero inputs"
                            : "libxsmm in file order",
                   th, th > 1 ? "s" : "", ms);
            fflush(stdout);
        }
    printf("\n");
    // Loading: the largest gzip'd IDX at hand (full Fashion-MNIST when installed) against zcat.
    const char *fashion = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    char subset[BNLAB_PATH_MAX];
    path_fmt(subset, sizeof subset, "%s/train-images-idx3-ubyte.gz", data_dir);
    const char *img = path_exists(fashion) ? fashion : subset;
    double ms, msz;
    if (bench_load(img, &ms, &msz) != 0) return -1;
    printf("\nIDX load %s: bnlab %.1f ms, zcat %.1f ms (%.2fx)\n", img, ms, msz, ms / msz);
    return 0;
}
