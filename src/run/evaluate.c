#include "run/evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "nn/layers.h"
#include "nn/registry.h"
#include "run/checkpoint.h"
#include "run/recalibrate.h"

// A data file the checkpoint's config names that is not on this machine (a checkpoint made elsewhere, or in the browser
// lab, whose page held its files at /datasets/mnist-subset/...): one line naming the key to give with --set.
static int data_file_here(const char *key, const char *path) {
    if (path_exists(path)) return 0;
    return bnlab_fail("%s: no such file (the checkpoint's data.%s; give the file with --set data.%s=PATH)", path, key, key);
}

int evaluate_load_split(const config_t *c, dataset_t *ds, int train) {
    const char *const keys[2][3] = {{"test_images", "test_labels", "test_csv"}, {"train_images", "train_labels", "train_csv"}};
    const char *const files[2][3] = {{c->data.test_images, c->data.test_labels, c->data.test_csv},
                                     {c->data.train_images, c->data.train_labels, c->data.train_csv}};
    for (int k = c->data.format == DATA_IDX ? 0 : 2; k < (c->data.format == DATA_IDX ? 2 : 3); k++)
        if (data_file_here(keys[train != 0][k], files[train != 0][k]) != 0) return -1;
    size_t limit = memory_budget();
    int rc = c->data.format == DATA_IDX
                 ? idx_load(ds, train ? c->data.train_images : c->data.test_images,
                            train ? c->data.train_labels : c->data.test_labels, c->data.classes, limit)
                 : csv_load(ds, train ? c->data.train_csv : c->data.test_csv, c->data.classes, 1, limit);
    if (rc == 0) dataset_truncate(ds, (uint32_t)(train ? c->data.train_limit : c->data.test_limit));
    return rc;
}

int evaluate_load_test(const infer_t *n, dataset_t *ds) {
    if (evaluate_load_split(&n->cfg, ds, 0) != 0) return -1;
    if (ds->dim == (uint32_t)n->model.in_dim) return 0;
    bnlab_fail("%s: test examples have %u features, the model expects %d", n->file, ds->dim, n->model.in_dim);
    dataset_free(ds);
    return -1;
}

static void count_confusion(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start;
    evaluation_t *e = ctx;
    const float *z = m->layers[m->n_layers - 1].y;
    for (int i = 0; i < B; i++) e->conf[(size_t)labels[i] * e->C + argmax(z + (size_t)i * e->C, e->C)]++;
}

void evaluate_set(evaluation_t *e, infer_t *n, const dataset_t *ds) {
    *e = (evaluation_t){.n = ds->n, .C = n->model.classes};
    e->conf = xcalloc((size_t)e->C * e->C, sizeof(long), "confusion matrix");
    forward_pass_t p = infer_pass(n, count_confusion, e);
    e->loss = forward_set(&n->model, &n->pp, ds, ds->n, &p, &e->hits);
}

void evaluation_free(evaluation_t *e) {
    free(e->conf);
    e->conf = NULL;
}

int evaluate_recalibrate(infer_t *n, int *batches) {
    dataset_t train;
    if (evaluate_load_split(&n->cfg, &train, 1) != 0) return -1;
    int m = n->cfg.train.batch_size, most = (int)(train.n / (uint32_t)m);
    if (*batches == 0) *batches = most < 1000 ? most : 1000;
    int rc = train.dim != (uint32_t)n->model.in_dim
                 ? bnlab_fail("%s: training examples have %u features, the model expects %d", n->file, train.dim,
                              n->model.in_dim)
                 : recalibrate_bn(&n->model, &n->pp, &train, *batches, m, n->cfg.seed, n->x, n->y);
    if (rc != 0 && !strncmp(bnlab_errmsg(), "Algorithm 2:", 12)) {  // say which checkpoint
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        bnlab_fail("%s: %s", n->file, msg);
    }
    dataset_free(&train);
    return rc;
}

// Loss and accuracy over ds with BN's statistics taken as `mode` says.
static double eval_in_mode(infer_t *n, const dataset_t *ds, forward_mode_t mode, double *acc) {
    forward_pass_t p = infer_pass(n, NULL, NULL);
    p.mode = mode;
    long hits;
    double loss = forward_set(&n->model, &n->pp, ds, ds->n, &p, &hits);
    *acc = (double)hits / ds->n;
    return loss;
}

int evaluate_bn_stats(bn_stats_row_t rows[3], infer_t *n, const dataset_t *ds, int which, int batches) {
    memset(rows, 0, 3 * sizeof *rows);
    if (which & EVAL_BN_RUNNING) {
        rows[0].present = 1;
        snprintf(rows[0].what, sizeof rows[0].what, "running: moving average during training (as torch)");
        rows[0].loss = eval_in_mode(n, ds, MODE_EVAL, &rows[0].acc);
    }
    if (which & EVAL_BN_BATCH) {
        rows[1].present = 1;
        snprintf(rows[1].what, sizeof rows[1].what, "batch: each test batch of %d its own statistics",
                 n->cfg.train.eval_batch_size);
        rows[1].loss = eval_in_mode(n, ds, MODE_EVAL_BATCH, &rows[1].acc);
    }
    if (which & EVAL_BN_ALGORITHM2) {  // last: it replaces the running statistics
        if (evaluate_recalibrate(n, &batches) != 0) return -1;
        rows[2].present = 1;
        snprintf(rows[2].what, sizeof rows[2].what, "algorithm2: averaged over %d training batches of %d", batches,
                 n->cfg.train.batch_size);
        rows[2].loss = eval_in_mode(n, ds, MODE_EVAL, &rows[2].acc);
    }
    return 0;
}

int evaluate_shows_xhat(const layer_t *l) { return layer_uses_batch_statistics(&l->spec); }

int evaluate_xhat(xhat_stats_t **s, infer_t *n, const dataset_t *ds) {
    int any = 0;
    for (int i = 0; i < n->model.n_layers; i++) any |= evaluate_shows_xhat(&n->model.layers[i]);
    *s = NULL;
    if (!any)
        return bnlab_fail("%s: the model has no batchnorm layer on the batch's statistics: --bn-stats xhat has nothing "
                          "to show", n->file);
    *s = xcalloc((size_t)n->model.n_layers, sizeof **s, "xhat statistics");
    for (int i = 0; i < n->model.n_layers; i++) xhat_stats_reset(&(*s)[i]);
    forward_pass_t p = infer_pass(n, xhat_stats_batch, *s);
    p.mode = MODE_EVAL_BATCH;
    long hits;
    forward_set(&n->model, &n->pp, ds, ds->n, &p, &hits);
    return 0;
}

void evaluate_algorithm2_text(char *how, size_t cap, const infer_t *n, int batches) {
    snprintf(how, cap, "algorithm2: %d training batches of %d", batches, n->cfg.train.batch_size);
}

int evaluate_write_recalibrated(const infer_t *n, int batches, const char *out) {
    ckpt_writer_t w;
    checkpoint_begin(&w, &n->model, NULL, &n->pp, &n->cfg, n->step);
    char how[128];
    evaluate_algorithm2_text(how, sizeof how, n, batches);
    st_meta(&w.f, CKPT_META_BN_STATISTICS, how);
    return checkpoint_write_file(&w, out);
}

typedef struct {
    char *csv;
    size_t n, cap;
    int C;
} predictions_t;

static void append_predictions(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)labels;
    predictions_t *p = ctx;
    for (int i = 0; i < B; i++) {
        const float *pr = m->probs + (size_t)i * p->C;
        p->n += (size_t)snprintf(p->csv + p->n, p->cap - p->n, "%u,%d", start + (uint32_t)i, argmax(pr, p->C));
        for (int k = 0; k < p->C; k++) p->n += (size_t)snprintf(p->csv + p->n, p->cap - p->n, ",%.6g", pr[k]);
        p->csv[p->n++] = '\n';
    }
}

int evaluate_predict(char **csv, size_t *len, infer_t *n, const char *input) {
    dataset_t in;
    size_t ilen = strlen(input);
    int is_csv = ilen > 4 && !strcasecmp(input + ilen - 4, ".csv");
    size_t limit = memory_budget() < DATA_DEFAULT_MAX_BYTES ? memory_budget() : DATA_DEFAULT_MAX_BYTES;
    if ((is_csv ? csv_load(&in, input, 0, 0, limit) : idx_load_images(&in, input, limit)) != 0) return -1;
    if (in.dim != (uint32_t)n->model.in_dim) {
        bnlab_fail("%s: examples have %u features, the model expects %d", input, in.dim, n->model.in_dim);
        dataset_free(&in);
        return -1;
    }
    int C = n->model.classes;
    predictions_t p = {.cap = 64 + (size_t)in.n * (size_t)(16 + 14 * C), .C = C};
    p.csv = xmalloc(p.cap, "predictions");
    p.n += (size_t)snprintf(p.csv + p.n, p.cap - p.n, "index,predicted");
    for (int k = 0; k < C; k++) p.n += (size_t)snprintf(p.csv + p.n, p.cap - p.n, ",p%d", k);
    p.csv[p.n++] = '\n';
    forward_pass_t fp = infer_pass(n, append_predictions, &p);
    forward_set(&n->model, &n->pp, &in, in.n, &fp, NULL);
    dataset_free(&in);
    *csv = p.csv, *len = p.n;
    return 0;
}
