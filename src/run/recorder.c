#include "run/recorder.h"

#include "run/rundir.h"

int log_open(wfile_t *w, const char *dir, const char *name, int append, const char *header) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, name);
    if (wfile_open(w, path, append) != 0) return -1;
    if (header && w->was_empty) {
        wfile_printf(w, "%s", header);
        wfile_flush(w);
    }
    return wfile_check(w);
}

double rec_probe_pass(const rec_view_t *v, uint32_t n, forward_mode_t mode, batch_fn fn, void *ctx, long *hits) {
    train_rng_t r = *v->rng;  // a copy: the run's own draws are untouched (and each pass draws the same)
    forward_pass_t p = {.mode = mode, .rng = &r, .batch = v->cfg->train.eval_batch_size, .x = v->x, .y = v->y,
                        .fn = fn, .ctx = ctx};
    long h;
    double loss = forward_set(v->model, v->pp, v->test, n, &p, &h);
    if (hits) *hits = h;
    return loss;
}
