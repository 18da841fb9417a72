// No allocation inside the training step: malloc/calloc/realloc are wrapped at link time (-Wl,--wrap), so
// every allocation made by bnlab's own code is counted, and a span of training steps must add none.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run/config.h"
#include "run/gradstats.h"
#include "run/jacobian.h"
#include "run/landscape.h"
#include "run/recorders.h"
#include "run/rundir.h"
#include "run/train.h"
#include "base/util.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t c, size_t n);
void *__real_realloc(void *p, size_t n);
static long allocations;
void *__wrap_malloc(size_t n) { allocations++; return __real_malloc(n); }
void *__wrap_calloc(size_t c, size_t n) { allocations++; return __real_calloc(c, n); }
void *__wrap_realloc(void *p, size_t n) { allocations++; return __real_realloc(p, n); }

int main(void) {
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
    // The counter works: setup allocates.
    long a0 = allocations;
    trainer_t t2;
    trainer_setup(&t2, &cfg);
    CHECK(allocations > a0, "the allocation counter counted nothing");
    trainer_free(&t2);
    trainer_free(&t);
    return check_summary("noalloc");
}
