#include "run/checkpoint.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define PROGRESS_LEN 7
#define STATS_LEN ACT_ACC_PACKED

// Visits every parameter tensor: fn(name, data offset into the parameter block, ndim, shape).
typedef void (*param_fn)(void *ctx, const char *name, size_t off, int ndim, const int64_t *shape);

static void for_each_param(const model_t *m, param_fn fn, void *ctx) {
    static const char *const role[2] = {"weight", "bias"};  // torch's names: Linear W/b, BatchNorm1d gamma/beta
    char name[64];
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *t[2];
        size_t n[2];
        for (int k = 0, nt = layer_params(l, t, n); k < nt; k++) {
            int64_t shape[2] = {l->out, l->in};
            int dense_w = l->spec.kind == LAYER_DENSE && k == 0;
            snprintf(name, sizeof name, "layers.%d.%s", i, role[k]);
            fn(ctx, name, (size_t)(t[k] - m->params), dense_w ? 2 : 1, shape);
        }
    }
}

typedef struct {
    st_file_t *f;
    const float *base;
    const char *prefix, *suffix;
    char (*names)[96];
    int n;
} add_ctx;

static void add_param(void *p, const char *name, size_t off, int ndim, const int64_t *shape) {
    add_ctx *c = p;
    snprintf(c->names[c->n], 96, "%s%s%s", c->prefix, name, c->suffix);
    st_add(c->f, c->names[c->n], ST_F32, ndim, shape, c->base + off);
    c->n++;
}

static void rng_pack(uint64_t out[4], const rng_t *r) {
    out[0] = r->state, out[1] = r->inc, out[2] = (uint64_t)r->has_spare;
    memcpy(&out[3], &r->spare, sizeof(double));
}

static int rng_unpack(rng_t *r, const uint64_t in[4], const char *path, const char *name) {
    if ((in[1] & 1u) == 0 || in[2] > 1) return bnlab_fail("%s: tensor %s is not a PCG32 state", path, name);
    r->state = in[0], r->inc = in[1], r->has_spare = (int)in[2];
    memcpy(&r->spare, &in[3], sizeof(double));
    if (!isfinite(r->spare)) return bnlab_fail("%s: tensor %s: non-finite spare normal", path, name);
    return 0;
}

static int ckpt_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Names of step-*.safetensors in dir, sorted (the zero-padded step makes name order step order).
static int list_checkpoints(const char *dir, char ***names) {
    DIR *d = opendir(dir);
    *names = NULL;
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "step-", 5) || len < 17 || strcmp(e->d_name + len - 12, ".safetensors")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = xmalloc(sizeof(char *) * (size_t)cap, "checkpoint list");
            if (*names) memcpy(p, *names, sizeof(char *) * (size_t)n);
            free(*names);
            *names = p;
        }
        (*names)[n] = xmalloc(len + 1, "checkpoint name");
        memcpy((*names)[n++], e->d_name, len + 1);
    }
    closedir(d);
    if (n) qsort(*names, (size_t)n, sizeof(char *), ckpt_name_cmp);
    return n;
}

int checkpoint_save(const trainer_t *t, const char *run_dir) {
    const model_t *m = &t->model;
    char dir[BNLAB_PATH_MAX], path[BNLAB_PATH_MAX];
    path_fmt(dir, sizeof dir, "%s/checkpoints", run_dir);
    if (make_dirs(dir) != 0) return -1;
    path_fmt(path, sizeof path, "%s/step-%09ld.safetensors", dir, t->prog.step);

    st_file_t f;
    st_init(&f);
    int max_names = 4 * m->n_layers + 8;
    char(*names)[96] = xcalloc((size_t)max_names * 2, 96, "tensor names");
    // Parameters and momentum buffers in the file layout (torch's): one copy of each block.
    float *pfile = xmalloc(sizeof(float) * m->n_params, "parameter copy");
    float *vfile = xmalloc(sizeof(float) * m->n_params, "momentum copy");
    model_params_to_file(m, pfile, m->params);
    model_params_to_file(m, vfile, t->opt.velocity);
    add_ctx pc = {&f, pfile, "", "", names, 0};
    for_each_param(m, add_param, &pc);
    add_ctx vc = {&f, vfile, "optimizer.", ".momentum_buffer", names, pc.n};
    for_each_param(m, add_param, &vc);
    int n = vc.n;
    int64_t batches = m->bn_batches;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        if (l->spec.kind != LAYER_BATCHNORM) continue;
        int64_t shape[1] = {l->out};
        snprintf(names[n], 96, "layers.%d.running_mean", i);
        st_add(&f, names[n++], ST_F32, 1, shape, l->rmean);
        snprintf(names[n], 96, "layers.%d.running_var", i);
        st_add(&f, names[n++], ST_F32, 1, shape, l->rvar);
        snprintf(names[n], 96, "layers.%d.num_batches_tracked", i);
        st_add(&f, names[n++], ST_I64, 0, NULL, &batches);
    }
    // Trainer state. Infinities (an empty accumulator's min/max) and NaN (no evaluation yet) are stored as 0/-1:
    // a checkpoint holds finite numbers only.
    int64_t oshape[1] = {t->train.n}, sshape[2] = {m->n_layers, STATS_LEN}, pshape[1] = {PROGRESS_LEN};
    st_add(&f, "trainer.order", ST_U32, 1, oshape, t->order);
    double *stats = xcalloc((size_t)m->n_layers * STATS_LEN, sizeof(double), "stats copy");
    act_stats_pack(&t->epoch_stats, stats);
    st_add(&f, "trainer.epoch_stats", ST_F64, 2, sshape, stats);
    const train_progress_t *p = &t->prog;
    double prog[PROGRESS_LEN] = {(double)p->step, p->run_loss, (double)p->run_hits, (double)p->run_steps,
                                 p->best_acc, isnan(p->last_acc) ? -1.0 : p->last_acc, (double)p->best_step};
    st_add(&f, "trainer.progress", ST_F64, 1, pshape, prog);
    uint64_t rngs[3][4];
    int64_t rshape[1] = {4};
    rng_pack(rngs[0], &t->shuffle_rng);
    rng_pack(rngs[1], &t->train_rng.dropout);
    rng_pack(rngs[2], &t->train_rng.noise);
    st_add(&f, "rng.shuffle", ST_U64, 1, rshape, rngs[0]);
    st_add(&f, "rng.dropout", ST_U64, 1, rshape, rngs[1]);
    st_add(&f, "rng.noise", ST_U64, 1, rshape, rngs[2]);

    cJSON *cj = config_to_json(&t->cfg);
    char *ctext = cJSON_PrintUnformatted(cj);
    char step[32];
    snprintf(step, sizeof step, "%ld", p->step);
    st_meta(&f, "format", CKPT_FORMAT);
    st_meta(&f, "bnlab_version", BNLAB_VERSION);
    st_meta(&f, "step", step);
    st_meta(&f, "config", ctext);
    int rc = st_write(&f, path);
    free(ctext);
    cJSON_Delete(cj);
    free(stats);
    free(names);
    free(pfile);
    free(vfile);
    st_free(&f);
    if (rc != 0) return -1;
    // Keep the newest `keep`.
    char **list;
    int count = list_checkpoints(dir, &list);
    for (int i = 0; i < count; i++) {
        if (i < count - t->cfg.train.checkpoint.keep) {
            char old[BNLAB_PATH_MAX];
            path_fmt(old, sizeof old, "%s/%s", dir, list[i]);
            unlink(old);
        }
        free(list[i]);
    }
    free(list);
    return 0;
}

int checkpoint_find(const char *path, char *file, size_t file_cap, char *run_dir, size_t run_cap) {
    struct stat st;
    if (stat(path, &st) != 0) return bnlab_fail("%s: no such checkpoint file or run directory", path);
    if (S_ISREG(st.st_mode)) {
        if (path_join(file, file_cap, ".", path) != 0) return -1;
        char d[BNLAB_PATH_MAX];
        path_dirname(d, sizeof d, file);  // .../RUN/checkpoints
        path_dirname(run_dir, run_cap, d);
        return 0;
    }
    char dir[BNLAB_PATH_MAX];
    path_fmt(dir, sizeof dir, "%s/checkpoints", path);
    char **list;
    int n = list_checkpoints(dir, &list);
    if (n == 0) return bnlab_fail("%s: no checkpoints in %s", path, dir);
    int rc = snprintf(file, file_cap, "%s/%s", dir, list[n - 1]) >= (int)file_cap ? -1 : 0;
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
    if (rc) return bnlab_fail("%s: path too long", path);
    snprintf(run_dir, run_cap, "%s", path);
    return 0;
}

int checkpoint_open(st_file_t *f, const char *file, config_t *cfg) {
    if (st_read(f, file, CKPT_MAX_BYTES) != 0) return -1;
    const char *fmt = st_meta_get(f, "format"), *text = st_meta_get(f, "config");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0 || !text) {
        st_free(f);
        return bnlab_fail("%s: not a bnlab checkpoint (__metadata__.format is not \"%s\", or no config)", file,
                       CKPT_FORMAT);
    }
    char where[BNLAB_PATH_MAX + 32];
    snprintf(where, sizeof where, "%s: __metadata__.config", file);
    if (config_parse(cfg, text, strlen(text), where, "/", NULL, 0) != 0) {
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        st_free(f);
        return bnlab_fail("%s", msg);
    }
    return 0;
}

typedef struct {
    const st_file_t *f;
    float *base;
    const char *prefix, *suffix;
    int rc;
} get_ctx;

static void get_param(void *p, const char *name, size_t off, int ndim, const int64_t *shape) {
    get_ctx *c = p;
    if (c->rc) return;
    char full[128];
    snprintf(full, sizeof full, "%s%s%s", c->prefix, name, c->suffix);
    c->rc = st_get(c->f, full, ST_F32, ndim, shape, c->base + off);
}

// Reads one parameter-layout block (tensors PREFIX<name>SUFFIX) into dst, converting from the file layout.
static int load_param_block(const model_t *m, const st_file_t *f, float *dst, const char *prefix, const char *suffix) {
    float *tmp = xmalloc(sizeof(float) * m->n_params, "parameter copy");
    get_ctx c = {f, tmp, prefix, suffix, 0};
    for_each_param(m, get_param, &c);
    if (!c.rc) model_params_from_file(m, dst, tmp);
    free(tmp);
    return c.rc ? -1 : 0;
}

int checkpoint_load_model(model_t *m, const st_file_t *f) {
    if (load_param_block(m, f, m->params, "", "") != 0) return -1;
    int seen_bn = 0;
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        if (l->spec.kind != LAYER_BATCHNORM) continue;
        char name[96];
        int64_t shape[1] = {l->out}, batches;
        snprintf(name, sizeof name, "layers.%d.running_mean", i);
        if (st_get(f, name, ST_F32, 1, shape, l->rmean) != 0) return -1;
        snprintf(name, sizeof name, "layers.%d.running_var", i);
        if (st_get(f, name, ST_F32, 1, shape, l->rvar) != 0) return -1;
        for (int j = 0; j < l->out; j++)
            if (l->rvar[j] < 0) return bnlab_fail("%s: tensor %s: negative variance", f->path, name);
        snprintf(name, sizeof name, "layers.%d.num_batches_tracked", i);
        if (st_get(f, name, ST_I64, 0, NULL, &batches) != 0) return -1;
        if (batches < 0) return bnlab_fail("%s: tensor %s: negative count", f->path, name);
        if (!seen_bn++) m->bn_batches = batches;
    }
    return 0;
}

int checkpoint_load_trainer(trainer_t *t, const st_file_t *f) {
    model_t *m = &t->model;
    if (checkpoint_load_model(m, f) != 0) return -1;
    if (load_param_block(m, f, t->opt.velocity, "optimizer.", ".momentum_buffer") != 0) return -1;
    int64_t oshape[1] = {t->train.n}, sshape[2] = {m->n_layers, STATS_LEN}, pshape[1] = {PROGRESS_LEN}, rshape[1] = {4};
    if (st_get(f, "trainer.order", ST_U32, 1, oshape, t->order) != 0) return -1;
    // The order must be a permutation of the training set, or a batch would read out of bounds.
    unsigned char *seen = xcalloc(t->train.n, 1, "permutation check");
    int perm = 1;
    for (uint32_t i = 0; i < t->train.n && perm; i++) {
        if (t->order[i] >= t->train.n || seen[t->order[i]]) perm = 0;
        else seen[t->order[i]] = 1;
    }
    free(seen);
    if (!perm) return bnlab_fail("%s: tensor trainer.order is not a permutation of the %u training examples", f->path, t->train.n);
    double *stats = xmalloc(sizeof(double) * (size_t)m->n_layers * STATS_LEN, "stats copy");
    double prog[PROGRESS_LEN];
    uint64_t r[4];
    int rc = st_get(f, "trainer.epoch_stats", ST_F64, 2, sshape, stats) != 0 ||
             st_get(f, "trainer.progress", ST_F64, 1, pshape, prog) != 0 ||
             st_get(f, "rng.shuffle", ST_U64, 1, rshape, r) != 0 || rng_unpack(&t->shuffle_rng, r, f->path, "rng.shuffle") != 0 ||
             st_get(f, "rng.dropout", ST_U64, 1, rshape, r) != 0 || rng_unpack(&t->train_rng.dropout, r, f->path, "rng.dropout") != 0 ||
             st_get(f, "rng.noise", ST_U64, 1, rshape, r) != 0 || rng_unpack(&t->train_rng.noise, r, f->path, "rng.noise") != 0;
    if (!rc) {
        rc = act_stats_unpack(&t->epoch_stats, stats, f->path) != 0;
        if (prog[0] < 0 || prog[0] > (double)t->total_steps || prog[0] != floor(prog[0]))
            rc = bnlab_fail("%s: trainer.progress: step %.0f is outside this run's 0..%ld steps", f->path, prog[0],
                         t->total_steps);
        t->prog = (train_progress_t){.step = (long)prog[0], .run_loss = prog[1], .run_hits = (long)prog[2],
                                     .run_steps = (long)prog[3], .best_acc = prog[4],
                                     .last_acc = prog[5] < 0 ? NAN : prog[5], .best_step = (long)prog[6]};
    }
    free(stats);
    return rc ? -1 : 0;
}
