#include "run/infer.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "run/checkpoint.h"

int forward_set_ordered(const model_t *m, const dataset_t *ds, uint32_t n, const forward_pass_t *p) {
    const eval_order_t *o = p->order;
    return o && o->ds == ds && o->n == n && o->batch == p->batch && o->classes == m->classes && ds->labels && !p->fn &&
           model_per_example(m, p->mode, p->batch);
}

// forward_set in p->order: the logits of every example put in place, then the loss and hits per batch of file order.
static double forward_set_in_order(model_t *m, const preprocess_t *pp, const dataset_t *ds, uint32_t n,
                                   const forward_pass_t *p, long *hits) {
    eval_order_t *o = p->order;
    double total = 0.0;
    long h = 0;
    gemm_hold_begin();
    for (uint32_t start = 0; start < n; start += (uint32_t)p->batch) {
        int B = (int)((n - start) < (uint32_t)p->batch ? (n - start) : (uint32_t)p->batch);
        dataset_gather_range(&o->data, pp, start, B, p->x, NULL);  // examples perm[start ..), in sequence
        eval_order_put(o, start, B, model_forward(m, p->x, B, p->mode, p->rng));
    }
    gemm_hold_end();
    for (uint32_t start = 0; start < n; start += (uint32_t)p->batch) {
        int B = (int)((n - start) < (uint32_t)p->batch ? (n - start) : (uint32_t)p->batch);
        int correct;
        total += B * softmax_xent_forward(m->probs, o->logits + (size_t)start * (size_t)m->classes, ds->labels + start,
                                          B, m->classes, &correct);
        h += correct;
    }
    o->passes++;
    if (hits) *hits = h;
    return n ? total / n : 0.0;
}

double forward_set(model_t *m, const preprocess_t *pp, const dataset_t *ds, uint32_t n, const forward_pass_t *p,
                   long *hits) {
    if (forward_set_ordered(m, ds, n, p)) return forward_set_in_order(m, pp, ds, n, p, hits);
    double total = 0.0;
    long h = 0;
    gemm_hold_begin();  // the weights stay as they are through the pass: each is transposed once (nn/gemm.h)
    for (uint32_t start = 0; start < n; start += (uint32_t)p->batch) {
        int B = (int)((n - start) < (uint32_t)p->batch ? (n - start) : (uint32_t)p->batch);
        dataset_gather_range(ds, pp, start, B, p->x, p->y);
        const float *z = model_forward(m, p->x, B, p->mode, p->rng);
        int correct;
        total += B * softmax_xent_forward(m->probs, z, p->y, B, m->classes, &correct);
        h += correct;
        if (p->fn) p->fn(p->ctx, m, start, B, p->y);
    }
    gemm_hold_end();
    if (hits) *hits = h;
    return n ? total / n : 0.0;
}

int infer_load(infer_t *n, const char *path, const char *const *overrides, int n_overrides) {
    memset(n, 0, sizeof *n);
    char run_dir[BNLAB_PATH_MAX];
    st_file_t f;
    if (checkpoint_find(path, n->file, sizeof n->file, run_dir, sizeof run_dir) != 0 ||
        checkpoint_open(&f, n->file, &n->cfg, overrides, n_overrides) != 0)
        return -1;
    const char *step = st_meta_get(&f, "step");
    n->step = step ? strtol(step, NULL, 10) : 0;
    int dim = checkpoint_input_features(&f), eb = n->cfg.train.eval_batch_size;
    // Room for a training batch too: recalibration (Algorithm 2) runs training-sized batches.
    int mb = eb > n->cfg.train.batch_size ? eb : n->cfg.train.batch_size;
    int rc = dim < 0 ||
             model_build(&n->model, n->cfg.model.layers, n->cfg.model.n_layers, dim, n->cfg.data.classes, mb) != 0 ||
             checkpoint_load_model(&n->model, &f) != 0 ||
             checkpoint_load_preprocess(&n->pp, &n->cfg, &f, (uint32_t)dim) != 0;
    st_free(&f);
    if (rc) {
        infer_free(n);
        return -1;
    }
    n->x = xmalloc(sizeof(float) * (size_t)mb * (size_t)dim, "input batch");
    n->y = xcalloc((size_t)mb, sizeof(int32_t), "label batch");
    return 0;
}

void infer_free(infer_t *n) {
    model_free(&n->model);
    preprocess_free(&n->pp);
    free(n->x);
    free(n->y);
    memset(n, 0, sizeof *n);
}

forward_pass_t infer_pass(infer_t *n, batch_fn fn, void *ctx) {
    return (forward_pass_t){.mode = MODE_EVAL, .batch = n->cfg.train.eval_batch_size, .x = n->x, .y = n->y,
                            .fn = fn, .ctx = ctx};
}
