#include "cli/bench.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nn/model.h"
#include "run/train.h"
#include "base/spawn.h"
#include "base/util.h"
#include "cli/options.h"

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

// The dense network's matrix products alone, on the model's own buffers. A sparse-input layer's W is stored
// (in, out): the same products with the transposes swapped, same shapes and operation counts.
static void gemm_step(const model_t *m, const float *x, int B) {
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (layer_kind(l->spec.kind)->linear) {
            int t = l->spec.sparse_input;  // y = x W^T, or x WT
            cblas_sgemm(CblasRowMajor, CblasNoTrans, t ? CblasNoTrans : CblasTrans, B, l->out, l->in, 1.0f, in,
                        l->in, l->W, t ? l->out : l->in, 0.0f, l->y, l->out);
        }
        in = l->y;
    }
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const layer_t *l = &m->layers[i];
        if (!layer_kind(l->spec.kind)->linear) continue;
        const float *lin = i > 0 ? m->layers[i - 1].y : x;
        if (l->spec.sparse_input)  // dWT (in, out) = x^T dy
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->in, l->out, B, 1.0f, lin, l->in, l->dy, l->out,
                        0.0f, l->dW, l->out);
        else  // dW (out, in) = dy^T x
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->out, l->in, B, 1.0f, l->dy, l->out, lin, l->in,
                        0.0f, l->dW, l->in);
        if (i > 0) {
            int t = l->spec.sparse_input;  // dx = dy W, or dy WT^T
            cblas_sgemm(CblasRowMajor, CblasNoTrans, t ? CblasTrans : CblasNoTrans, B, l->in, l->out, 1.0f, l->dy,
                        l->out, l->W, t ? l->out : l->in, 0.0f, m->layers[i - 1].dy, l->in);
        }
    }
}

int bench_load(const char *images_path, double *ms_bnlab, double *ms_zcat) {
    double best = 1e30, bestz = 1e30;
    const char *zcat[] = {"zcat", images_path, NULL};  // no shell: the path is an argument, never parsed
    for (int k = 0; k < 3; k++) {
        dataset_t ds;
        double t0 = now_seconds();
        if (idx_load_images(&ds, images_path, DATA_DEFAULT_MAX_BYTES) != 0) return -1;
        double t = now_seconds() - t0;
        dataset_free(&ds);
        best = t < best ? t : best;
        t0 = now_seconds();
        if (spawn_wait(zcat, NULL, NULL) != 0) return bnlab_fail("zcat failed on %s", images_path);
        t = now_seconds() - t0;
        bestz = t < bestz ? t : bestz;
    }
    *ms_bnlab = 1e3 * best;
    *ms_zcat = 1e3 * bestz;
    return 0;
}

int bench_case(bench_result_t *r, const char *data_dir, int batch, int bn, int threads, int sparse, int steps,
               int repeats) {
    config_t c;
    if (paper_config(&c, data_dir, batch, bn, threads, sparse) != 0) return -1;
    trainer_t t;
    if (trainer_setup(&t, &c) != 0) return -1;
    enable_flush_to_zero();
    openblas_set_num_threads(threads);
    // The best of the repeats, for bnlab, the bound and PyTorch alike: on a shared machine noise only ever adds
    // time, so the fastest repeat is the closest to what the code itself costs.
    double ts = 1e30, tg = 1e30;
    const double lr = t.cfg.train.optim.lr;
    int correct;
    for (int w = 0; w < steps / 4 + 10; w++) {  // warm-up: caches, BLAS threads, the FTZ regime
        trainer_step_grad(&t, &correct);
        trainer_step_update(&t, lr);
    }
    for (int k = 0; k < repeats; k++) {
        double t0 = now_seconds();
        for (int s = 0; s < steps; s++) {
            trainer_step_grad(&t, &correct);
            trainer_step_update(&t, lr);
        }
        double dt = (now_seconds() - t0) / steps;
        ts = dt < ts ? dt : ts;
        t0 = now_seconds();
        for (int s = 0; s < steps; s++) gemm_step(&t.model, t.x, batch);
        dt = (now_seconds() - t0) / steps;
        tg = dt < tg ? dt : tg;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *r = (bench_result_t){.batch = batch, .bn = bn, .threads = threads, .sparse = sparse, .us_step = 1e6 * ts,
                          .us_gemm = 1e6 * tg, .examples_s = batch / ts,
                          .peak_rss_kb = ru.ru_maxrss};
    trainer_free(&t);
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
    for (int i = 0; i < n_words; i++) {
        int ok = 0;
        if (!strchr(words[i], '=')) {
            data_dir = words[i];
            continue;
        }
        for (int k = 0; k < 4; k++) ok |= !strncmp(words[i], known[k], strlen(known[k]));
        if (!ok) return usage_error("bench: unknown filter '%s' (expected batch=N, bn=on|off, threads=N, input=dense|sparse)", words[i]);
    }
    // The kernels OpenBLAS chose decide the bound: say which, and whether the environment chose them.
    const char *pinned = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS kernels: %s (%s)\n", openblas_get_corename(),
           pinned ? "OPENBLAS_CORETYPE is set in the environment" : "chosen by OpenBLAS for this CPU");
    printf("%6s %4s %7s %6s %12s %12s %12s %8s %10s\n", "batch", "bn", "threads", "input", "us/step", "examples/s",
           "gemm us/step", "ratio", "peak RSS");
    const int batches[2] = {60, 256};
    int ran = 0;
    for (int bi = 0; bi < 2; bi++)
        for (int bn = 1; bn >= 0; bn--)
            for (int th = 1; th <= 2; th++)
                for (int sp = 0; sp <= 1; sp++) {
                    if (!bench_admits(words, n_words, batches[bi], bn, th, sp)) continue;  // ignores the data dir
                    bench_result_t r;
                    if (bench_case(&r, data_dir, batches[bi], bn, th, sp, steps, 5) != 0) return -1;
                    printf("%6d %4s %7d %6s %12.1f %12.0f %12.1f %8.2f %7.1f MB\n", r.batch, r.bn ? "on" : "off",
                           r.threads, r.sparse ? "sparse" : "dense", r.us_step, r.examples_s, r.us_gemm,
                           r.us_gemm / r.us_step, r.peak_rss_kb / 1024.0);
                    fflush(stdout);
                    ran++;
                }
    if (!ran) return usage_error("bench: no case matches the filters%s", "");
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
