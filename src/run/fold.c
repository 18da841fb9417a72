#include "run/fold.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "run/checkpoint.h"
#include "run/rundir.h"
#include "run/runfiles.h"

// Whether layer i of m is folded into layer i - 1: an evaluation affine map right after a dense layer with W (out,
// in). -1 + message if layer i normalizes but cannot be folded.
static int folds_into_previous(const model_t *m, int i) {
    const layer_t *l = &m->layers[i];
    const layer_kind_info_t *k = layer_kind(l->spec.kind);
    if (!k->eval_affine) {
        if (k->normalizes)
            return bnlab_fail("model.layers[%d] (%s): normalizes each example by its own statistics, in evaluation "
                              "too: its scale depends on the input, so it is no fixed affine map and does not fold",
                              i, k->name);
        return 0;
    }
    if (i == 0 || !layer_kind(m->layers[i - 1].spec.kind)->linear)
        return bnlab_fail("model.layers[%d] (%s): not directly after a dense layer (%s): nothing to fold it into", i,
                          k->name, i == 0 ? "it is the first layer, on the input"
                                          : layer_kind_name(m->layers[i - 1].spec.kind));
    return 1;
}

int fold_model(model_t *out, config_t *out_cfg, int *n_folded, const model_t *m, const config_t *cfg) {
    memset(out, 0, sizeof *out);
    int *fold = xcalloc((size_t)m->n_layers, sizeof(int), "fold plan");
    int *new_index = xcalloc((size_t)m->n_layers, sizeof(int), "layer map");
    int n = 0, rc = 0;
    for (int i = 0; i < m->n_layers && !rc; i++) {
        int f = folds_into_previous(m, i);
        if (f < 0) rc = -1;
        fold[i] = f > 0;
        n += f > 0;
    }
    if (!rc && n == 0) rc = bnlab_fail("the model has no batchnorm layer: nothing to fold");
    if (rc) {
        free(fold), free(new_index);
        return -1;
    }
    *out_cfg = *cfg;
    int k = 0;
    for (int i = 0; i < m->n_layers; i++) {
        if (fold[i]) {
            out_cfg->model.layers[k - 1].bias = 1;  // the dense layer before it: b' = scale b + shift
            new_index[i] = k - 1;
            continue;
        }
        new_index[i] = k;
        out_cfg->model.layers[k++] = cfg->model.layers[i];
    }
    out_cfg->model.n_layers = k;
    out_cfg->model.lsuv = 0;  // an initialization: the folded weights are what they are
    for (int j = 0; j < out_cfg->log.landscape.n_layers; j++)
        out_cfg->log.landscape.layers[j] = new_index[out_cfg->log.landscape.layers[j]];
    if (model_build(out, out_cfg->model.layers, k, m->in_dim, m->classes, m->max_batch) != 0) {
        free(fold), free(new_index);
        return -1;
    }
    size_t widest = 1;
    for (int i = 0; i < m->n_layers; i++) widest = (size_t)m->layers[i].out > widest ? (size_t)m->layers[i].out : widest;
    float *scale = xmalloc(sizeof(float) * widest, "fold scale"), *shift = xmalloc(sizeof(float) * widest, "fold shift");
    for (int i = 0; i < m->n_layers; i++) {
        if (fold[i] || !layer_kind(m->layers[i].spec.kind)->linear) continue;
        const layer_t *src = &m->layers[i];
        layer_t *dst = &out->layers[new_index[i]];
        const size_t in = (size_t)src->in, o = (size_t)src->out;
        memcpy(dst->W, src->W, sizeof(float) * in * o);
        if (src->b) memcpy(dst->b, src->b, sizeof(float) * o);
        if (i + 1 >= m->n_layers || !fold[i + 1]) continue;
        const layer_t *bn = &m->layers[i + 1];
        layer_kind(bn->spec.kind)->eval_affine(bn, scale, shift);
        const int transposed = src->spec.sparse_input;  // W stored (in, out): scale its columns
        for (size_t r = 0; r < o; r++)
            for (size_t c = 0; c < in; c++) {
                float *w = &dst->W[transposed ? c * o + r : r * in + c];
                *w = (float)((double)scale[r] * *w);
            }
        for (size_t r = 0; r < o; r++)
            dst->b[r] = (float)((double)scale[r] * (src->b ? src->b[r] : 0.0f) + shift[r]);
    }
    *n_folded = n;
    free(scale), free(shift), free(fold), free(new_index);
    return 0;
}

int fold_checkpoint(const infer_t *n, const char *out, const char *bn_statistics, int *n_folded) {
    const char *inputs[1] = {n->file};  // never onto the input, into a run's checkpoints/ or a live run
    if (runfiles_check_output(out, 0, inputs, 1) != 0) return -1;
    model_t folded;
    config_t *cfg = xmalloc(sizeof *cfg, "folded config");
    if (fold_model(&folded, cfg, n_folded, &n->model, &n->cfg) != 0) {
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        free(cfg);
        return bnlab_fail("%s: %s", n->file, msg);
    }
    ckpt_writer_t w;  // at the source checkpoint's step
    checkpoint_begin(&w, &folded, NULL, &n->pp, cfg, n->step);
    st_meta(&w.f, "folded_from", n->file);
    st_meta(&w.f, "bn_statistics", bn_statistics);
    int rc = checkpoint_write_file(&w, out);
    model_free(&folded);
    free(cfg);
    return rc;
}
