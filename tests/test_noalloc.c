#define _GNU_SOURCE  // dladdr
// No allocation inside the training step: malloc/calloc/realloc are defined here (calling glibc's allocator), so they
// take the place of libc's for the whole process (libxsmm, linked statically, has its own weak __real_malloc, which
// rules out -Wl,--wrap; glibc routes its own calls through them too); a call is counted when it comes from code
// linked into this program — bnlab's and libxsmm's — or from libc (qsort's merge buffer, stdio's lazy buffers: what
// bnlab calls into), and a span of training steps must add none. Under AddressSanitizer (scripts/sanitize.sh) its
// allocation hook counts every allocation instead.
#include <cblas.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/gemm.h"
#include "run/config.h"
#include "run/gradstats.h"
#include "run/jacobian.h"
#include "run/landscape.h"
#include "run/percentiles.h"
#include "run/recorders.h"
#include "run/rundir.h"
#include "run/train.h"
#include "base/util.h"

static long allocations;
#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer its allocator serves the process: count through its hook instead (declared here: GCC ships
// the runtime but not clang's sanitizer/allocator_interface.h).
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void count_allocation(const volatile void *p, size_t n) {
    (void)p, (void)n;
    allocations++;
}
static void count_free(const volatile void *p) { (void)p; }  // the runtime refuses a NULL hook
static void counter_init(void) {
    if (!__sanitizer_install_malloc_and_free_hooks(count_allocation, count_free)) {
        fprintf(stderr, "noalloc: the sanitizer refused the allocation hook\n");
        exit(1);
    }
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t c, size_t n);
void *__libc_realloc(void *p, size_t n);
// Counted when the caller is code linked into this program (bnlab's and libxsmm's) or libc (qsort's buffer, stdio's
// lazy buffers, allocated for what bnlab calls); OpenBLAS's (its threads' bookkeeping) are not bnlab's to fix.
static const void *exe_base, *libc_base;
static void count(const void *caller) {
    Dl_info i;
    if (exe_base && dladdr(caller, &i) && (i.dli_fbase == exe_base || i.dli_fbase == libc_base)) allocations++;
}
void *malloc(size_t n) {
    count(__builtin_return_address(0));
    return __libc_malloc(n);
}
void *calloc(size_t c, size_t n) {
    count(__builtin_return_address(0));
    return __libc_calloc(c, n);
}
void *realloc(void *p, size_t n) {
    count(__builtin_return_address(0));
    return __libc_realloc(p, n);
}
static void counter_init(void) {
    Dl_info i;
    if (dladdr((const void *)&count, &i)) exe_base = i.dli_fbase;
    if (dladdr((const void *)&qsort, &i)) libc_base = i.dli_fbase;  // qsort is libc's own
}
#endif

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int main(void) {
    // One BLAS thread, as trainer_run sets for threads: 1. (Multithreaded OpenBLAS 0.3.21 mallocs once per product it
    // splits — its own bookkeeping, counted here since every allocation in the process is; libxsmm's kernels do not.)
    openblas_set_num_threads(1);
    counter_init();
    const char *root = getenv("BNLAB_SOURCE_ROOT");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/datasets/mnist-subset", root ? root : ".");
    // BN, dropout and shift noise, and a sparse-input first layer, so every layer kind's step runs; BN's ablation
    // options (a freeze at step 50 of the 200 counted), and LSUV at setup.
    const char *text =
        "{\"name\": \"t\", \"data\": {\"train_images\": \"train-images-idx3-ubyte.gz\", \"train_labels\": "
        "\"train-labels-idx1-ubyte.gz\", \"test_images\": \"t10k-images-idx3-ubyte.gz\", \"test_labels\": "
        "\"t10k-labels-idx1-ubyte.gz\", \"train_limit\": 600}, \"model\": {\"layers\": [{\"type\": \"dense\", \"units\": "
        "32, \"bias\": false, \"sparse_input\": true}, {\"type\": \"batchnorm\"}, {\"type\": \"noise\"}, {\"type\": \"sigmoid\"}, {\"type\": "
        "\"dropout\", \"rate\": 0.3}, {\"type\": \"dense\", \"units\": 16}, {\"type\": \"batchnorm\", \"normalize\": "
        "\"variance\", \"affine\": \"none\", \"freeze_stats_after\": 50}, {\"type\": \"relu\"}, {\"type\": \"dense\", "
        "\"units\": 12}, {\"type\": \"batchnorm\", \"normalize\": \"mean\", \"affine\": \"frozen\", \"statistics\": "
        "\"population\"}, {\"type\": \"relu\"}, {\"type\": \"dense\", \"units\": 10}], \"lsuv\": true}, \"train\": {\"steps\": 100000, \"optimizer\": {\"lr\": 0.1, \"momentum\": 0.9, "
        "\"weight_decay\": 1e-4}}}";
    config_t cfg;
    CHECK(config_parse(&cfg, text, strlen(text), "t", dir, NULL, 0) == 0, "config: %s", bnlab_errmsg());
    trainer_t t;
    CHECK(trainer_setup(&t, &cfg) == 0, "setup: %s", bnlab_errmsg());
    // Under libxsmm the hidden layers' products run JIT kernels dispatched at setup (32 -> 16: y, dW, dx at batch 60).
    if (gemm_backend() == GEMM_LIBXSMM)
        CHECK(gemm_uses_jit(GEMM_NT, 60, 16, 32) && gemm_uses_jit(GEMM_TN, 16, 32, 60) &&
                  gemm_uses_jit(GEMM_NN, 60, 32, 16),
              "libxsmm: the step's products have no JIT kernels");
    int correct;
    trainer_step_grad(&t, &correct);  // first step outside the count: lazy initializations anywhere below us
    trainer_step_update(&t, 0.1);
    long before = allocations;
    for (int s = 0; s < 200; s++) {  // 200 steps of 60 cross epoch boundaries (10 steps per epoch): reshuffles too
        trainer_step_grad(&t, &correct);
        act_stats_add(&t.epoch_stats, &t.model, t.cfg.train.batch_size);  // as train.c does after each step
        trainer_step_update(&t, 0.1);
    }
    CHECK(allocations == before, "%ld allocations in 200 training steps", allocations - before);
    CHECK(t.epoch_stats.acc[0].count == 200ull * (uint64_t)t.cfg.train.batch_size * (uint64_t)t.model.layers[0].out,
          "activation statistics counted %llu values", (unsigned long long)t.epoch_stats.acc[0].count);
    // The landscape probes allocate their buffers once, at init: probing allocates nothing.
    ls_spec_t ls = {.every = 1, .lo = 0.5, .hi = 4, .points = 8, .spacing = LS_LOG};
    landscape_t land;
    landscape_init(&land, &ls, &t.model);
    before = allocations;
    for (int s = 0; s < 20; s++) {
        train_rng_t r = t.train_rng;
        double loss = trainer_step_grad(&t, &correct);
        landscape_probe(&land, &t.model, t.x, t.y, t.cfg.train.batch_size, &r, 0.1, loss, s);
        trainer_step_update(&t, 0.1);
    }
    CHECK(allocations == before, "%ld allocations in 20 probed training steps", allocations - before);
    landscape_free(&land);
    // Every recorder on (run/recorders.h): init and open allocate, their hooks never — a run's steps, evaluations
    // and epochs with every log written.
    char tmp[] = "/tmp/bnlab-noalloc-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
    const char *on[REC_MAX + 2] = {"log.probe_size=100"};
    int n_on = 1;
    for (int i = 0; i < recorders_count(); i++)
        if (recorders_row(i)->turn_on) on[n_on++] = recorders_row(i)->turn_on;  // each row's own switch
    on[n_on] = NULL;
    config_t all;
    CHECK(config_parse(&all, text, strlen(text), "t", dir, on, n_on) == 0, "config: %s", bnlab_errmsg());
    trainer_t t3;
    CHECK(trainer_setup(&t3, &all) == 0, "setup: %s", bnlab_errmsg());
    rec_view_t v = trainer_view(&t3);
    CHECK(recorders_open(&t3.rec, &v, tmp, 0) == 0, "open: %s", bnlab_errmsg());
    int enabled = 0;
    for (int i = 0; i < recorders_count(); i++) enabled += t3.rec.state[i] != NULL;
    CHECK(enabled == recorders_count(), "%d of %d recorders enabled: does a row's turn_on turn it on?", enabled,
          recorders_count());
    before = allocations;
    for (int s = 0; s < 120; s++) {  // turn_on's periods are 20 to 60 steps: every hook writes
        v = trainer_view(&t3);
        recorders_before_step(&t3.rec, &v);
        train_rng_t r = t3.train_rng;
        v.loss = trainer_step_grad(&t3, &correct), v.rng = &r, v.batch = t3.cfg.train.batch_size, v.lr = 0.1;
        recorders_on_step(&t3.rec, &v);
        trainer_step_update(&t3, 0.1);
        metrics_row_t row = {.step = t3.prog.step, .lr = 0.1};
        v = trainer_view(&t3);
        v.row = &row, v.lr = 0.1;
        recorders_on_eval(&t3.rec, &v);
        v = trainer_view(&t3);
        v.epoch_stats = &t3.epoch_stats, v.epoch = 1;
        recorders_on_epoch(&t3.rec, &v);
        v = trainer_view(&t3);
        v.last = s == 119;
        recorders_after_step(&t3.rec, &v);
    }
    CHECK(allocations == before, "%ld allocations in 120 steps with every recorder", allocations - before);
    CHECK(recorders_check(&t3.rec) == 0 && recorders_close(&t3.rec) == 0, "close: %s", bnlab_errmsg());
    trainer_free(&t3);
    CHECK(rundir_remove(tmp) == 0, "remove %s: %s", tmp, bnlab_errmsg());
    // Gradient statistics (run/gradstats.h) and Jacobian spectra (run/jacobian.h) allocate at init only.
    gradstats_t gs;
    jac_t jc;
    gradstats_init(&gs, &t.model);
    CHECK(jac_init(&jc, &t.model, 4) == 0, "jac_init: %s", bnlab_errmsg());
    const double q[] = {15, 50, 85};
    uint64_t counts[8];
    before = allocations;
    for (int s = 0; s < 5; s++) {
        trainer_step_grad(&t, &correct);
        for (int k = 0; k < gs.n_sites; k++) {
            gs_moments_t mo;
            gradstats_site(&mo, &gs, &t.model, k, t.cfg.train.batch_size, q, 3);
            memset(counts, 0, sizeof counts);
            gradstats_hist(&gs, &t.model, k, t.cfg.train.batch_size, -1, 1, 8, counts);
        }
        for (int k = 0; k < gs.n_act; k++) {
            int dead;
            double sat;
            gradstats_units(&gs, &t.model, k, t.cfg.train.batch_size, &dead, &sat);
        }
        trainer_step_update(&t, 0.1);
        jac_forward(&jc, &t.model, t.x, t.cfg.train.batch_size);
        for (int k = 0; k < jc.n_blocks; k++)
            if (!jc.blocks[k].unsupported) jac_example_sv(&jc, &t.model, k, t.cfg.train.batch_size);
    }
    CHECK(allocations == before, "%ld allocations in 5 steps with gradient statistics and Jacobian spectra",
          allocations - before);
    jac_free(&jc);
    gradstats_free(&gs);
    // The model above has no block the Jacobian probe measures (sparse input, noise, BN ablations): here one with two
    // plain-BN blocks, (a) and (b) (the per-feature QR and the reduced Gram matrix of run/jacobian.h) on each.
    {
        layer_spec_t js[] = {{.kind = LAYER_DENSE, .units = 16, .init = {.kind = INIT_XAVIER_NORMAL}},
                             {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                             {.kind = LAYER_SIGMOID},
                             {.kind = LAYER_DENSE, .units = 12, .init = {.kind = INIT_XAVIER_NORMAL}},
                             {.kind = LAYER_BATCHNORM, .eps = 1e-5, .momentum = 0.1},
                             {.kind = LAYER_TANH},
                             {.kind = LAYER_DENSE, .units = 10, .bias = 1, .init = {.kind = INIT_XAVIER_NORMAL}}};
        model_t jm;
        CHECK(model_build(&jm, js, 7, 20, 10, 8) == 0, "build: %s", bnlab_errmsg());
        model_init(&jm, 1);
        static float jx[8 * 20];
        for (int i = 0; i < 8 * 20; i++) jx[i] = (float)((i * 37) % 11) / 5.0f - 1.0f;
        CHECK(jac_init(&jc, &jm, 8) == 0, "jac_init: %s", bnlab_errmsg());
        long measured = 0;
        before = allocations;
        for (int s = 0; s < 3; s++) {
            jac_forward(&jc, &jm, jx, 8);
            for (int k = 0; k < jc.n_blocks; k++)
                measured += (jac_example_sv(&jc, &jm, k, 8) > 0) + (jac_batch_sv(&jc, &jm, k, 8) > 0);
        }
        CHECK(allocations == before, "%ld allocations in 3 Jacobian probes of a BN model", allocations - before);
        CHECK(measured == 12, "%ld of 12 Jacobian spectra measured: %s", measured, bnlab_errmsg());
        jac_free(&jc);
        model_free(&jm);
    }
    // The paper's network with its dense first layer (the NT product's transposition buffer under libxsmm), with the
    // evaluation of the test set between steps as a run does it.
    const char *paper =
        "{\"name\": \"p\", \"data\": {\"train_images\": \"train-images-idx3-ubyte.gz\", \"train_labels\": "
        "\"train-labels-idx1-ubyte.gz\", \"test_images\": \"t10k-images-idx3-ubyte.gz\", \"test_labels\": "
        "\"t10k-labels-idx1-ubyte.gz\", \"train_limit\": 600, \"test_limit\": 1500}, \"model\": {\"layers\": [{\"type\": "
        "\"dense\", \"units\": 100}, {\"type\": \"sigmoid\"}, {\"type\": \"dense\", \"units\": 100}, {\"type\": "
        "\"sigmoid\"}, {\"type\": \"dense\", \"units\": 10}]}, \"train\": {\"steps\": 1000, \"optimizer\": {\"lr\": 0.5}}}";
    config_t pc;
    CHECK(config_parse(&pc, paper, strlen(paper), "p", dir, NULL, 0) == 0, "config: %s", bnlab_errmsg());
    trainer_t tp;
    CHECK(trainer_setup(&tp, &pc) == 0, "setup: %s", bnlab_errmsg());
    if (gemm_backend() == GEMM_LIBXSMM)
        CHECK(gemm_uses_jit(GEMM_NT, 60, 100, 784) && gemm_uses_jit(GEMM_NT, 1000, 100, 784) &&
                  gemm_uses_jit(GEMM_NT, 500, 100, 784),
              "libxsmm: no JIT kernel for the first layer's training, evaluation or last evaluation batch");
    trainer_step_grad(&tp, &correct);
    trainer_step_update(&tp, 0.5);
    double loss, acc;
    trainer_evaluate(&tp, &tp.test, tp.test.n, &loss, &acc, NULL);
    long in_eval = 0;
    before = allocations;
    for (int s = 0; s < 30; s++) {
        trainer_step_grad(&tp, &correct);
        trainer_step_update(&tp, 0.5);
        if (s % 10 == 9) {
            long a = allocations;
            trainer_evaluate(&tp, &tp.test, tp.test.n, &loss, &acc, NULL);
            in_eval += allocations - a;
        }
    }
    CHECK(allocations - in_eval == before, "%ld allocations in 30 steps of the dense paper network",
          allocations - in_eval - before);
    CHECK(in_eval == 0, "%ld allocations in 3 evaluations of the test set", in_eval);
    trainer_free(&tp);
    // The counter sees libc's allocations: glibc's qsort mallocs its merge buffer for 1 KB or more (what
    // sort_floats replaced), and a first write to a stream whose buffer was never set allocates it (the reason the
    // CLI gives stdout its buffer before a run starts); sort_floats on the same values allocates nothing.
    static float vals[4096], scratch[4096];
    for (int i = 0; i < 4096; i++) vals[i] = (float)((i * 7919) % 4096);
    before = allocations;
    qsort(vals, 4096, sizeof *vals, cmp_float);
    CHECK(allocations > before, "negative control: qsort of 4096 floats counted no allocation");
    for (int i = 0; i < 4096; i++) vals[i] = (float)((i * 7919) % 4096);
    before = allocations;
    sort_floats(vals, 4096, scratch);
    CHECK(allocations == before, "sort_floats allocated %ld times", allocations - before);
    FILE *f = tmpfile();
    CHECK(f != NULL, "tmpfile");
    before = allocations;
    fputs("x\n", f);
    CHECK(allocations > before, "negative control: a first write to a stream without a buffer counted no allocation");
    fclose(f);
    static char fbuf[BUFSIZ];
    f = tmpfile();
    CHECK(f != NULL && setvbuf(f, fbuf, _IOFBF, sizeof fbuf) == 0, "tmpfile + setvbuf");
    before = allocations;
    fputs("x\n", f);
    CHECK(allocations == before, "a write to a stream given its buffer allocated %ld times", allocations - before);
    fclose(f);
    // The counter works: setup allocates.
    long a0 = allocations;
    trainer_t t2;
    trainer_setup(&t2, &cfg);
    CHECK(allocations > a0, "the allocation counter counted nothing");
    trainer_free(&t2);
    trainer_free(&t);
    return check_summary("noalloc");
}
