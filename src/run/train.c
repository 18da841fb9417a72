#include "run/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/util.h"
#include "io/jsonfile.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "run/checkpoint.h"
#include "run/infer.h"
#include "run/rundir.h"

volatile sig_atomic_t train_stop_requested = 0;

// Each split may take at most what the run's memory budget leaves (a file's header is checked before allocating).
static int load_split(const config_t *c, dataset_t *ds, int test, size_t max_bytes) {
    if (c->data.format == DATA_IDX)
        return idx_load(ds, test ? c->data.test_images : c->data.train_images,
                        test ? c->data.test_labels : c->data.train_labels, c->data.classes, max_bytes);
    return csv_load(ds, test ? c->data.test_csv : c->data.train_csv, c->data.classes, 1, max_bytes);
}

static double dataset_bytes(const dataset_t *d) {
    return (double)d->n * d->dim * (d->u8 ? 1 : sizeof(float)) + (double)d->n * sizeof(int32_t);
}

// Everything a run allocates besides the data: the model, SGD momentum, ICS's four parameter-sized copies, a
// checkpoint's three (parameters and momentum in file layout, the file), the example order, the input batch and the
// percentile candidates — refused before allocating if it does not fit.
static int check_memory(const trainer_t *t, int max_batch) {
    const config_t *c = &t->cfg;
    model_plan_t plan;
    if (model_plan(&plan, c->model.layers, c->model.n_layers, (int)t->train.dim, max_batch) != 0) return -1;
    double data = dataset_bytes(&t->train) + dataset_bytes(&t->test), p = (double)plan.n_params * sizeof(float);
    double model = plan.bytes + p * (1 + (c->log.ics_every > 0 ? 4 : 0) + (c->log.landscape.every > 0 ? 2 : 0) +
                                     3);  // + 3: a checkpoint's copies
    double buffers = (double)t->train.n * sizeof(uint32_t) + (double)max_batch * t->train.dim * sizeof(float) +
                     (double)max_batch * plan.widest * sizeof(float) +
                     // the test set's evaluation order (run/evalorder.h): order, the examples in that order,
                     // logits, and while it is built the nonzero masks
                     dataset_bytes(&t->test) +
                     (double)t->test.n * (sizeof(uint32_t) + sizeof(float) * (double)c->data.classes +
                                          sizeof(uint64_t) * (double)((t->test.dim + 63) / 64));
    double need = data + model + buffers;
    size_t budget = memory_budget();
    if (budget == SIZE_MAX || need <= (double)budget) return 0;
    char n[32], b[32], d[32], m[32];
    format_bytes(n, sizeof n, need), format_bytes(b, sizeof b, (double)budget);
    format_bytes(d, sizeof d, data), format_bytes(m, sizeof m, model);
    return bnlab_fail("model: this run needs about %s (data %s, %zu parameters: model, gradients, momentum, ICS "
                      "and checkpoint copies %s) but %s are available; make the layers narrower or turn off log.ics_every, or "
                      "raise the limit with --max-memory", n, d, plan.n_params, m, b);
}

// model.lsuv: one batch of train.batch_size examples, drawn without replacement by its own stream (the run's
// shuffle, dropout and noise streams are left as they were), and model_lsuv on it.
static void lsuv_init(trainer_t *t) {
    const int B = t->cfg.train.batch_size;
    uint32_t *idx = xmalloc(sizeof(uint32_t) * t->train.n, "LSUV order");
    for (uint32_t i = 0; i < t->train.n; i++) idx[i] = i;
    rng_t r;
    rng_seed(&r, t->cfg.seed, RNG_STREAM_LSUV);
    rng_shuffle(&r, idx, t->train.n);
    dataset_gather(&t->train, &t->pp, idx, B, t->x, t->y);
    model_lsuv(&t->model, t->x, B, 1e-3, 10);
    free(idx);
}

int trainer_setup(trainer_t *t, const config_t *cfg) {
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    const config_t *c = &t->cfg;
    size_t budget = memory_budget();
    if (load_split(c, &t->train, 0, budget) != 0) goto fail;
    size_t used = (size_t)dataset_bytes(&t->train);
    if (load_split(c, &t->test, 1, budget > used ? budget - used : 1) != 0) goto fail;
    if (t->train.dim != t->test.dim) {
        bnlab_fail("data: training examples have %u features but test examples have %u", t->train.dim, t->test.dim);
        goto fail;
    }
    dataset_truncate(&t->train, (uint32_t)c->data.train_limit);
    dataset_truncate(&t->test, (uint32_t)c->data.test_limit);
    if ((long)t->train.n < c->train.batch_size) {
        bnlab_fail("train.batch_size: %d is more than the %u training examples", c->train.batch_size, t->train.n);
        goto fail;
    }
    t->pp = config_preprocess(c);
    preprocess_fit(&t->pp, &t->train);

    // One buffer set serves training batches, evaluation batches and the probe set.
    int max_batch = c->train.batch_size > c->train.eval_batch_size ? c->train.batch_size : c->train.eval_batch_size;
    if (check_memory(t, max_batch) != 0) goto fail;
    if (gemm_select(c->train.gemm) != 0) goto fail;  // before the model is built: its products are prepared for it
    if (model_build(&t->model, c->model.layers, c->model.n_layers, (int)t->train.dim, c->data.classes, max_batch) !=
        0)
        goto fail;
    model_init(&t->model, c->seed);
    // The batch sizes a run uses (model_build prepared max_batch): training batches, evaluation batches, the last
    // (short) ones of the test set and of the probe set, and the percentile batch (the probe set's first batch).
    const uint32_t ebs = (uint32_t)c->train.eval_batch_size;
    const uint32_t probe_n = (uint32_t)c->log.probe_size < t->test.n ? (uint32_t)c->log.probe_size : t->test.n;
    model_prepare_gemm(&t->model, c->train.batch_size);
    model_prepare_gemm(&t->model, (int)(t->test.n % ebs));
    model_prepare_gemm(&t->model, (int)(probe_n % ebs));
    model_prepare_gemm(&t->model, (int)(probe_n < ebs ? probe_n : ebs));
    t->x = xmalloc(sizeof(float) * (size_t)max_batch * t->train.dim, "input batch");
    t->y = xmalloc(sizeof(int32_t) * (size_t)max_batch, "label batch");
    // The test set's evaluation order (run/evalorder.h): the environment variable BNLAB_EVAL_ORDER=file keeps file
    // order (tests and measurements: the logs are the same bits either way); grouped (the default) or unset orders.
    const char *eo = getenv("BNLAB_EVAL_ORDER");
    if (eo && *eo && strcmp(eo, "file") && strcmp(eo, "grouped")) {
        bnlab_fail("environment BNLAB_EVAL_ORDER: expected grouped or file, found \"%s\"", eo);
        goto fail;
    }
    // Built only where an evaluation can use it (infer.h forward_set_ordered: not under OpenBLAS, whose rows differ).
    if ((!eo || strcmp(eo, "file")) && model_per_example(&t->model, MODE_EVAL, c->train.eval_batch_size))
        eval_order_build(&t->test_order, &t->test, &t->pp, t->test.n, c->train.eval_batch_size, c->data.classes);
    if (c->model.lsuv) lsuv_init(t);
    sgd_init(&t->opt, &c->train.optim, t->model.n_params);
    rng_seed(&t->shuffle_rng, c->seed, RNG_STREAM_SHUFFLE);
    rng_seed(&t->train_rng.dropout, c->seed, RNG_STREAM_DROPOUT);
    rng_seed(&t->train_rng.noise, c->seed, RNG_STREAM_NOISE);
    t->order = xmalloc(sizeof(uint32_t) * t->train.n, "example order");
    for (uint32_t i = 0; i < t->train.n; i++) t->order[i] = i;
    act_stats_init(&t->epoch_stats, c->model.n_layers);
    // The last partial batch of an epoch is dropped: every step sees exactly batch_size examples.
    t->steps_per_epoch = (long)(t->train.n / (uint32_t)c->train.batch_size);
    t->total_steps = c->train.steps > 0 ? c->train.steps : c->train.epochs * t->steps_per_epoch;
    t->prog = (train_progress_t){.best_acc = -1.0, .last_acc = NAN, .best_step = -1};
    t->last_row = (metrics_row_t){.step = -1};
    act_stats_reset(&t->epoch_stats);
    rec_view_t v = trainer_view(t);
    if (recorders_init(&t->rec, &v) != 0) goto fail;
    return 0;
fail:
    trainer_free(t);
    return -1;
}

void trainer_free(trainer_t *t) {
    dataset_free(&t->train);
    dataset_free(&t->test);
    preprocess_free(&t->pp);
    model_free(&t->model);
    sgd_free(&t->opt);
    free(t->order);
    eval_order_free(&t->test_order);
    free(t->x);
    free(t->y);
    act_stats_free(&t->epoch_stats);
    recorders_free(&t->rec);
    memset(t, 0, sizeof *t);
}

rec_view_t trainer_view(trainer_t *t) {
    const config_t *c = &t->cfg;
    uint32_t probe_n = (uint32_t)c->log.probe_size < t->test.n ? (uint32_t)c->log.probe_size : t->test.n;
    return (rec_view_t){.cfg = c, .model = &t->model, .opt = &t->opt, .test = &t->test, .pp = &t->pp,
                        .probe_n = probe_n, .x = t->x, .y = t->y, .rng = &t->train_rng, .step = t->prog.step,
                        .steps_per_epoch = t->steps_per_epoch, .lr = NAN};
}

void trainer_evaluate(trainer_t *t, const dataset_t *ds, uint32_t n, double *loss, double *acc, act_stats_t *stats) {
    trainer_forward_set(t, ds, n, MODE_EVAL, loss, acc, stats);
}

static void add_batch_stats(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    act_stats_add(ctx, m, B);
}

void trainer_forward_set(trainer_t *t, const dataset_t *ds, uint32_t n, forward_mode_t mode, double *loss,
                         double *acc, act_stats_t *stats) {
    // Training-mode looks draw from copies of the streams: they must not change the run's own draws.
    train_rng_t r = t->train_rng;
    forward_pass_t p = {.mode = mode, .rng = &r, .batch = t->cfg.train.eval_batch_size, .x = t->x, .y = t->y,
                        .fn = stats ? add_batch_stats : NULL, .ctx = stats,
                        .order = t->test_order.perm ? &t->test_order : NULL};
    long hits;
    *loss = forward_set(&t->model, &t->pp, ds, n, &p, &hits);
    *acc = (double)hits / n;
}

double trainer_step_grad(trainer_t *t, int *correct) {
    const int B = t->cfg.train.batch_size;
    long in_epoch = t->prog.step % t->steps_per_epoch;
    if (in_epoch == 0) rng_shuffle(&t->shuffle_rng, t->order, t->train.n);  // a new epoch: reshuffle
    dataset_gather(&t->train, &t->pp, t->order + (size_t)in_epoch * B, B, t->x, t->y);
    if (in_epoch + 1 < t->steps_per_epoch)  // the next batch, loading while this one computes
        dataset_prefetch(&t->train, t->order + (size_t)(in_epoch + 1) * B, B);
    model_forward(&t->model, t->x, B, MODE_TRAIN, &t->train_rng);
    double loss = model_loss_backward_head(&t->model, t->y, B, correct);
    if (isfinite(loss)) model_backward(&t->model, t->x, B);
    return loss;
}

void trainer_step_update(trainer_t *t, double lr) {
    if (t->opt.sums_next) {  // a recorder asked this update for its sums (run/updatelog.h): the same update
        sgd_step_sums(&t->opt, t->model.params, t->model.grads, t->model.n_decay, lr, t->opt.sums_next);
        t->opt.sums_next = NULL;
    } else {
        sgd_step(&t->opt, t->model.params, t->model.grads, t->model.n_decay, lr);
    }
    t->prog.step++;
}

// ---------------------------------------------------------------------------------------------
// The trainer's part of a checkpoint (run/checkpoint.h writes the model, optimizer and preprocessing):
//   trainer.order (U32, n_train), trainer.epoch_stats (F64, layers x 6: count, mean, m2, min, max, saturated;
//   zeros for an empty layer), trainer.progress (F64, 7),
//   rng.shuffle, rng.dropout, rng.noise (U64 [4]: PCG32 state, increment, Box-Muller spare).
// Infinities (an empty accumulator's min/max) and NaN (no evaluation yet) are stored as 0 / -1: a checkpoint holds
// finite numbers only.

#define PROGRESS_LEN 7
#define STATS_LEN ACT_ACC_PACKED
#define RNG_LEN 4

static const char *const RNG_NAMES[3] = {"rng.shuffle", "rng.dropout", "rng.noise"};

static rng_t *trainer_rng(trainer_t *t, int k) {
    return k == 0 ? &t->shuffle_rng : k == 1 ? &t->train_rng.dropout : &t->train_rng.noise;
}

static void rng_pack(uint64_t out[RNG_LEN], const rng_t *r) {
    out[0] = r->state, out[1] = r->inc, out[2] = (uint64_t)r->has_spare;
    memcpy(&out[3], &r->spare, sizeof(double));
}

static int rng_unpack(rng_t *r, const uint64_t in[RNG_LEN], const char *path, const char *name) {
    if ((in[1] & 1u) == 0 || in[2] > 1) return bnlab_fail("%s: tensor %s is not a PCG32 state", path, name);
    r->state = in[0], r->inc = in[1], r->has_spare = (int)in[2];
    memcpy(&r->spare, &in[3], sizeof(double));
    if (!isfinite(r->spare)) return bnlab_fail("%s: tensor %s: non-finite spare normal", path, name);
    return 0;
}

static void progress_pack(double out[PROGRESS_LEN], const train_progress_t *p) {
    double v[PROGRESS_LEN] = {(double)p->step, p->run_loss, (double)p->run_hits, (double)p->run_steps,
                              p->best_acc, isnan(p->last_acc) ? -1.0 : p->last_acc, (double)p->best_step};
    memcpy(out, v, sizeof v);
}

static int progress_unpack(train_progress_t *p, const double v[PROGRESS_LEN], long total_steps, const char *path) {
    if (v[0] < 0 || v[0] > (double)total_steps || v[0] != floor(v[0]))
        return bnlab_fail("%s: trainer.progress: step %.0f is outside this run's 0..%ld steps", path, v[0], total_steps);
    *p = (train_progress_t){.step = (long)v[0], .run_loss = v[1], .run_hits = (long)v[2], .run_steps = (long)v[3],
                            .best_acc = v[4], .last_acc = v[5] < 0 ? NAN : v[5], .best_step = (long)v[6]};
    return 0;
}

int trainer_checkpoint(const trainer_t *t, const char *run_dir) {
    const model_t *m = &t->model;
    ckpt_writer_t w;
    checkpoint_begin(&w, m, t->opt.velocity, &t->pp, &t->cfg, t->prog.step);
    int64_t oshape[1] = {t->train.n}, sshape[2] = {m->n_layers, STATS_LEN}, pshape[1] = {PROGRESS_LEN},
            rshape[1] = {RNG_LEN};
    double *stats = xmalloc(sizeof(double) * (size_t)m->n_layers * STATS_LEN, "stats copy"), prog[PROGRESS_LEN];
    uint64_t rngs[3][RNG_LEN];
    act_stats_pack(&t->epoch_stats, stats);
    progress_pack(prog, &t->prog);
    st_add(&w.f, "trainer.order", ST_U32, 1, oshape, t->order);
    st_add(&w.f, "trainer.epoch_stats", ST_F64, 2, sshape, stats);
    st_add(&w.f, "trainer.progress", ST_F64, 1, pshape, prog);
    for (int k = 0; k < 3; k++) {
        rng_pack(rngs[k], trainer_rng((trainer_t *)t, k));
        st_add(&w.f, RNG_NAMES[k], ST_U64, 1, rshape, rngs[k]);
    }
    int rc = checkpoint_commit(&w, run_dir, t->cfg.train.checkpoint.keep);
    free(stats);
    return rc;
}

// The order must be a permutation of the training set, or a batch would read out of bounds.
static int check_permutation(const uint32_t *order, uint32_t n, const char *path) {
    unsigned char *seen = xcalloc(n, 1, "permutation check");
    int perm = 1;
    for (uint32_t i = 0; i < n && perm; i++) {
        if (order[i] >= n || seen[order[i]]) perm = 0;
        else seen[order[i]] = 1;
    }
    free(seen);
    return perm ? 0 : bnlab_fail("%s: tensor trainer.order is not a permutation of the %u training examples", path, n);
}

int trainer_resume(trainer_t *t, const st_file_t *f) {
    model_t *m = &t->model;
    preprocess_free(&t->pp);
    if (checkpoint_load_model(m, f) != 0 || checkpoint_load_velocity(m, f, t->opt.velocity) != 0 ||
        checkpoint_load_preprocess(&t->pp, &t->cfg, f, t->train.dim) != 0)
        return -1;
    int64_t oshape[1] = {t->train.n}, sshape[2] = {m->n_layers, STATS_LEN}, pshape[1] = {PROGRESS_LEN},
            rshape[1] = {RNG_LEN};
    if (st_get(f, "trainer.order", ST_U32, 1, oshape, t->order) != 0 ||
        check_permutation(t->order, t->train.n, f->path) != 0)
        return -1;
    for (int k = 0; k < 3; k++) {
        uint64_t r[RNG_LEN];
        if (st_get(f, RNG_NAMES[k], ST_U64, 1, rshape, r) != 0 || rng_unpack(trainer_rng(t, k), r, f->path,
                                                                              RNG_NAMES[k]) != 0)
            return -1;
    }
    double *stats = xmalloc(sizeof(double) * (size_t)m->n_layers * STATS_LEN, "stats copy"), prog[PROGRESS_LEN];
    int rc = st_get(f, "trainer.epoch_stats", ST_F64, 2, sshape, stats) != 0 ||
             st_get(f, "trainer.progress", ST_F64, 1, pshape, prog) != 0 ||
             progress_unpack(&t->prog, prog, t->total_steps, f->path) != 0 ||
             act_stats_unpack(&t->epoch_stats, stats, f->path) != 0;
    free(stats);
    return rc ? -1 : 0;
}

// After a non-finite loss: the first layer whose output or parameters hold NaN/Inf, for the message.
static void describe_divergence(const model_t *m, int B, char *out, size_t cap) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *w[LAYER_MAX_PARAMS];
        size_t nw[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(l, w, nw, NULL); k < nt; k++)
            for (size_t j = 0; j < nw[k]; j++)
                if (!isfinite(w[k][j])) {
                    snprintf(out, cap, "parameters of model.layers[%d] (%s)", i, layer_kind_name(l->spec.kind));
                    return;
                }
        for (size_t j = 0; j < (size_t)B * l->out; j++)
            if (!isfinite(l->y[j])) {
                snprintf(out, cap, "output of model.layers[%d] (%s)", i, layer_kind_name(l->spec.kind));
                return;
            }
    }
    snprintf(out, cap, "loss (logits overflowed)");
}

static void progress_bar(long step, long total, double secs) {
    int width = 30, filled = (int)(width * step / (total ? total : 1));
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] step %ld/%ld  %.1fs ", bar, step, total, secs);
    fflush(stderr);
}

static cJSON *summary_json(const char *status, long steps, double final_acc, double best_acc, long best_step,
                           double secs) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "status", status);
    cJSON_AddNumberToObject(s, "steps", (double)steps);
    if (isfinite(final_acc)) cJSON_AddNumberToObject(s, "final_test_acc", final_acc);
    else cJSON_AddNullToObject(s, "final_test_acc");
    if (best_step >= 0) {
        cJSON_AddNumberToObject(s, "best_test_acc", best_acc);
        cJSON_AddNumberToObject(s, "best_step", (double)best_step);
    }
    cJSON_AddNumberToObject(s, "seconds", secs);
    struct rusage ru;  // the process's peak resident memory: data + model + buffers
    if (getrusage(RUSAGE_SELF, &ru) == 0) cJSON_AddNumberToObject(s, "peak_rss_mb", ru.ru_maxrss / 1024.0);
    return s;
}


// Removes what killed writes left in the run directory: temporary files of processes that no longer run.
static int remove_leftovers(const char *run_dir) {
    char ckpt[BNLAB_PATH_MAX];
    rundir_file(ckpt, sizeof ckpt, run_dir, RUNDIR_CHECKPOINTS);
    return remove_stale_temps(run_dir) != 0 || remove_stale_temps(ckpt) != 0 ? -1 : 0;
}

static int session_open(train_session_t *s, trainer_t *t, const char *run_dir, int append) {
    const config_t *c = &t->cfg;
    memset(s, 0, sizeof *s);
    s->run_dir = run_dir;
    rec_view_t v = trainer_view(t);
    if (remove_leftovers(run_dir) != 0 || recorders_open(&t->rec, &v, run_dir, append) != 0) return -1;
    s->bar = c->log.progress == PROGRESS_ALWAYS || (c->log.progress == PROGRESS_AUTO && isatty(2));
    s->t0 = now_seconds() - t->prog.seconds_before;
    s->last_bar = -1.0;
    s->open = 1;
    return 0;
}

static void clear_bar(const train_session_t *s) {
    if (s->bar) fprintf(stderr, "\r\033[K");
}

static void report_divergence(const trainer_t *t, const train_session_t *s, long step, double loss) {
    char where[128];
    describe_divergence(&t->model, t->cfg.train.batch_size, where, sizeof where);
    if (s->bar) fputc('\n', stderr);
    bnlab_fail("diverged at step %ld: the loss is %s; first non-finite values in the %s. "
               "Lower train.optimizer.lr or add batchnorm layers. Logs so far are in %s",
               step + 1, isnan(loss) ? "NaN" : "infinite", where, s->run_dir);
    fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());  // also bnlab_errmsg() for a caller without a console
}

// One optimizer step with the measurements that look at it: the batch's statistics, then the recorders' on_step
// (percentiles of the batch, ICS and the landscape re-run the pass on the same batch and draws). Returns the loss
// (non-finite: nothing was updated).
static double train_step(trainer_t *t, long step, double lr) {
    const config_t *c = &t->cfg;
    const int B = c->train.batch_size;
    train_rng_t r_before = t->train_rng;  // ICS replays this step's dropout and noise draws
    int correct;
    double loss = trainer_step_grad(t, &correct);
    if (!isfinite(loss)) return loss;
    if (c->log.stats) act_stats_add(&t->epoch_stats, &t->model, B);
    rec_view_t v = trainer_view(t);
    v.step = step, v.rng = &r_before, v.batch = B, v.lr = lr, v.loss = loss;
    recorders_on_step(&t->rec, &v);
    trainer_step_update(t, lr);
    t->prog.run_loss += loss;
    t->prog.run_hits += correct;
    t->prog.run_steps++;
    return loss;
}

// The test columns of a metrics row: the whole test set in evaluation mode, and with log.eval_batch_stats once
// more with each test batch normalized by its own statistics (MODE_EVAL_BATCH: nothing updated, no random draw).
// Writes the row and keeps the run's last and best test accuracy.
static void evaluate_and_log(trainer_t *t, train_session_t *s, metrics_row_t *row) {
    train_progress_t *p = &t->prog;
    trainer_evaluate(t, &t->test, t->test.n, &row->test_loss, &row->test_acc, NULL);
    row->test_loss_bs = row->test_acc_bs = NAN;
    if (t->cfg.log.eval_batch_stats)
        trainer_forward_set(t, &t->test, t->test.n, MODE_EVAL_BATCH, &row->test_loss_bs, &row->test_acc_bs, NULL);
    row->seconds = now_seconds() - s->t0;
    rec_view_t v = trainer_view(t);
    v.row = row, v.lr = row->lr;
    recorders_on_eval(&t->rec, &v);
    p->last_acc = row->test_acc;
    t->last_row = *row;
    if (row->test_acc > p->best_acc) p->best_acc = row->test_acc, p->best_step = row->step;
}

// The row of step 0, before any update: where every curve starts. No training batch has been seen, so its train
// columns are NaN (empty in metrics.csv, null in metrics.jsonl) rather than a number measured some other way.
static void log_initial_evaluation(trainer_t *t, train_session_t *s) {
    metrics_row_t row = {.step = 0, .epoch = 0, .train_loss = NAN, .train_acc = NAN,
                         .lr = sgd_lr_at(&t->cfg.train.optim, 0)};
    evaluate_and_log(t, s, &row);
    if (s->quiet) return;
    clear_bar(s);  // the epoch lines' columns, so the start sits above them
    printf("epoch %4d  step %7d  %-28s | test loss %.4f acc %.4f | lr %.3g | %.1fs\n", 0, 0, "(before any update)",
           row.test_loss, row.test_acc, row.lr, row.seconds);
    if (fflush(stdout) != 0 || ferror(stdout)) s->quiet = 1;
}

// A metrics row: the training loss and accuracy since the last row and the test columns (evaluate_and_log); at an
// epoch's end (or the run's) also a console line.
static void log_evaluation(trainer_t *t, train_session_t *s, double lr, int epoch_end, int last) {
    train_progress_t *p = &t->prog;
    const long done = p->step, epoch = done / t->steps_per_epoch;
    metrics_row_t row = {.step = done, .epoch = (double)done / t->steps_per_epoch,
                         .train_loss = p->run_loss / p->run_steps,
                         .train_acc = (double)p->run_hits / ((double)p->run_steps * t->cfg.train.batch_size),
                         .lr = lr};
    evaluate_and_log(t, s, &row);
    if ((epoch_end || last) && !s->quiet) {
        clear_bar(s);
        printf("epoch %4ld  step %7ld  train loss %.4f acc %.4f | test loss %.4f acc %.4f | lr %.3g | %.1fs\n",
               epoch_end ? epoch : epoch + 1, done, row.train_loss, row.train_acc, row.test_loss, row.test_acc, lr,
               row.seconds);
        // The console is a courtesy, the logs are the record: a stdout that fails (| head, EPIPE; SIGPIPE is
        // ignored by the CLI) ends the printing, never the run.
        if (fflush(stdout) != 0 || ferror(stdout)) s->quiet = 1;
    }
    p->run_loss = 0.0, p->run_hits = 0, p->run_steps = 0;
}

// At an epoch's end (or the run's): the recorders' on_epoch over the epoch's statistics (layer_stats.csv, tensorboard),
// then a fresh epoch.
static void log_epoch_stats(trainer_t *t, int epoch_end) {
    const long done = t->prog.step, epoch = done / t->steps_per_epoch;
    rec_view_t v = trainer_view(t);
    v.epoch = epoch_end ? epoch : epoch + 1;  // a final partial epoch is numbered as the next one
    v.epoch_stats = &t->epoch_stats;
    recorders_on_epoch(&t->rec, &v);
    act_stats_reset(&t->epoch_stats);
}

static void show_progress(const trainer_t *t, train_session_t *s) {
    if (!s->bar) return;
    double now = now_seconds();
    if (now - s->last_bar > 0.1) s->last_bar = now, progress_bar(t->prog.step, t->total_steps, now - s->t0);
}


// Ends the session: the logs are closed (a failure there fails the run), then summary.json, written last, records
// the status. Returns the final status; for TRAIN_ERROR one message: the failure (the caller's, in bnlab_errmsg(),
// or the logs'), and whether summary.json could record it.
static int session_close(trainer_t *t, train_session_t *s, int status) {
    const train_progress_t *p = &t->prog;
    char first[BNLAB_ERRMSG_MAX] = "";
    if (status == TRAIN_ERROR) snprintf(first, sizeof first, "%s", bnlab_errmsg());
    if (recorders_close(&t->rec) != 0 && status != TRAIN_ERROR) {
        status = TRAIN_ERROR;
        snprintf(first, sizeof first, "%s", bnlab_errmsg());
    }
    clear_bar(s);
    const char *state = run_status_name(status == TRAIN_OK ? RUN_COMPLETED : status == TRAIN_DIVERGED ? RUN_DIVERGED
                                        : status == TRAIN_INTERRUPTED ? RUN_INTERRUPTED : RUN_FAILED);
    cJSON *summary = summary_json(state, p->step, p->last_acc, p->best_acc, p->best_step, now_seconds() - s->t0);
    int rc = write_json(s->run_dir, RUNDIR_SUMMARY, summary);
    cJSON_Delete(summary);
    if (rc != 0 && status == TRAIN_ERROR) {
        char second[BNLAB_ERRMSG_MAX];
        snprintf(second, sizeof second, "%s", bnlab_errmsg());
        bnlab_fail("%s; the failed status could not be recorded either: %s", first, second);
    } else if (status == TRAIN_ERROR) {
        bnlab_fail("%s", first);
    }
    return rc != 0 ? TRAIN_ERROR : status;
}

int trainer_begin(trainer_t *t, train_session_t *s, const char *run_dir, int append) {
    const config_t *c = &t->cfg;
    // Before the logs open: a recorder that measures the initial network there (jacobian.csv's step 0) computes as
    // every later step does — with the run's thread count (not OpenBLAS's default, all cores) and flush-to-zero.
    if (c->train.flush_denormals) enable_flush_to_zero();
    gemm_set_threads(c->threads);
    if (session_open(s, t, run_dir, append) != 0) return TRAIN_ERROR;
    // A fresh run starts its curves at step 0; a resumed one (step > 0, logs appended) already has that row.
    if (t->prog.step == 0 && !append) {
        log_initial_evaluation(t, s);
        if (recorders_check(&t->rec) != 0) return TRAIN_ERROR;
    }
    return TRAIN_OK;
}

// One step of the run with everything that follows it: evaluation, epoch statistics, the recorders, a checkpoint,
// an interruption. TRAIN_OK to go on.
static int advance_one(trainer_t *t, train_session_t *s) {
    const config_t *c = &t->cfg;
    const long step = t->prog.step;
    const double lr = sgd_lr_at(&c->train.optim, step);
    rec_view_t v = trainer_view(t);
    recorders_before_step(&t->rec, &v);
    double loss = train_step(t, step, lr);
    if (!isfinite(loss)) {
        report_divergence(t, s, step, loss);
        return TRAIN_DIVERGED;
    }
    const long done = t->prog.step, every = c->train.checkpoint.every;
    const int epoch_end = done % t->steps_per_epoch == 0, last = done == t->total_steps;
    const int stop = train_stop_requested != 0;
    if (epoch_end || last || (c->train.eval_every > 0 && done % c->train.eval_every == 0))
        log_evaluation(t, s, lr, epoch_end, last);
    if ((epoch_end || last) && c->log.stats) log_epoch_stats(t, epoch_end);
    v = trainer_view(t);
    v.last = last;
    recorders_after_step(&t->rec, &v);
    // A log that lost a row ends the run before the checkpoint: the last good one stays the newest, and a
    // resume from it rewrites the logs whole.
    if (recorders_check(&t->rec) != 0) return TRAIN_ERROR;
    if ((every > 0 && done % every == 0) || (last && c->train.checkpoint.final) || stop) {
        t->prog.seconds_before = now_seconds() - s->t0;
        if (trainer_checkpoint(t, s->run_dir) != 0) return TRAIN_ERROR;  // the caller prints the message
    }
    if (stop && !last) {
        clear_bar(s);
        fprintf(stderr, "bnlab: interrupted after step %ld of %ld; checkpoint and logs written. Resume with: "
                        "bnlab train --resume %s\n", done, t->total_steps, s->run_dir);
        return TRAIN_INTERRUPTED;
    }
    show_progress(t, s);
    return TRAIN_OK;
}

int trainer_advance(trainer_t *t, train_session_t *s, long n) {
    int status = TRAIN_OK;
    for (long i = 0; i < n && status == TRAIN_OK && t->prog.step < t->total_steps; i++) status = advance_one(t, s);
    if (status == TRAIN_DIVERGED && recorders_check(&t->rec) != 0) status = TRAIN_ERROR;  // logs lost rows
    return status;
}

int trainer_end(trainer_t *t, train_session_t *s, int status) { return session_close(t, s, status); }

int trainer_run(trainer_t *t, const char *run_dir, int append) {
    train_session_t s;
    int status = trainer_begin(t, &s, run_dir, append);
    if (!s.open) return TRAIN_ERROR;  // the run directory could not be opened: nothing to close
    if (status == TRAIN_OK) status = trainer_advance(t, &s, t->total_steps);
    return trainer_end(t, &s, status);
}
