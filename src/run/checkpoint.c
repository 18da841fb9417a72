#include "run/checkpoint.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/util.h"
#include "io/jsonpath.h"
#include "run/rundir.h"

#define NAME_LEN 96

// The config as stored in checkpoints: the resolved JSON, unformatted.
static char *canonical_config(const config_t *c) {
    cJSON *j = config_to_json(c);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

// Visits every tensor of a kind's list for every layer that has it: fn(ctx, layer index, layer, description).
typedef void (*tensor_fn)(void *ctx, int i, const layer_t *l, const tensor_desc_t *d);

static void for_each_tensor(const model_t *m, int params, tensor_fn fn, void *ctx) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        const layer_kind_info_t *k = layer_kind(l->spec.kind);
        for (const tensor_desc_t *d = params ? k->params : k->state; d && d->name; d++)
            if (layer_has_tensor(l, d)) fn(ctx, i, l, d);
    }
}

// The shape a tensor has in the file: (out, in) for a dense weight whatever its storage, else (out).
static int file_shape(const layer_t *l, const tensor_desc_t *d, int64_t shape[2]) {
    shape[0] = l->out, shape[1] = l->in;
    return d->shape == SHAPE_OUT_IN ? 2 : 1;
}

typedef struct {
    ckpt_writer_t *w;
    const model_t *m;
    const float *block;  // file-layout copy of a parameter-layout block, or NULL for the layer's own tensor
    const char *prefix, *suffix;
} add_ctx;

static void add_tensor(void *p, int i, const layer_t *l, const tensor_desc_t *d) {
    add_ctx *c = p;
    int64_t shape[2];
    int nd = file_shape(l, d, shape);
    const float *data = layer_tensor(l, d);
    if (c->block) data = c->block + (data - c->m->params);
    char name[NAME_LEN];  // st_add copies it
    snprintf(name, sizeof name, "%slayers.%d.%s%s", c->prefix, i, d->name, c->suffix);
    st_add(&c->w->f, name, ST_F32, nd, shape, data);
}

// Per layer, the torch.nn module computing the same in evaluation mode and its arguments (null: none), so that
// torch_load.py builds the network from the registry's word rather than its own copy of it.
static char *torch_modules(const model_t *m) {
    size_t cap = 640 * (size_t)m->n_layers + 16, n = 0;  // an entry is the module name and < 512 of arguments
    char *s = xmalloc(cap, "torch module list");
    n += (size_t)snprintf(s + n, cap - n, "[");
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        const layer_kind_info_t *k = layer_kind(l->spec.kind);
        if (i) n += (size_t)snprintf(s + n, cap - n, ", ");
        char args[512];
        int a = k->torch_module ? k->torch_args(l, args, sizeof args) : -1;
        if (a < 0) n += (size_t)snprintf(s + n, cap - n, "null");  // no torch.nn module computes the same
        else n += (size_t)snprintf(s + n, cap - n, "{\"module\": \"%s\", \"args\": %s}", k->torch_module, args);
    }
    snprintf(s + n, cap - n, "]");
    return s;
}

void checkpoint_begin(ckpt_writer_t *w, const model_t *m, const float *velocity, const preprocess_t *pp,
                      const config_t *cfg, long step) {
    memset(w, 0, sizeof *w);
    st_init(&w->f);
    w->step = step;
    w->pfile = xmalloc(sizeof(float) * m->n_params, "parameter copy");
    model_params_to_file(m, w->pfile, m->params);
    add_ctx pc = {w, m, w->pfile, "", ""};
    for_each_tensor(m, 1, add_tensor, &pc);
    if (velocity) {
        w->vfile = xmalloc(sizeof(float) * m->n_params, "momentum copy");
        model_params_to_file(m, w->vfile, velocity);
        add_ctx vc = {w, m, w->vfile, "optimizer.", ".momentum_buffer"};
        for_each_tensor(m, 1, add_tensor, &vc);
    }
    add_ctx sc = {w, m, NULL, "", ""};
    for_each_tensor(m, 0, add_tensor, &sc);
    for (int i = 0; i < m->n_layers; i++) {
        if (!layer_kind(m->layers[i].spec.kind)->counts_batches) continue;
        char name[NAME_LEN];
        snprintf(name, sizeof name, "layers.%d.num_batches_tracked", i);
        st_add(&w->f, name, ST_I64, 0, NULL, &m->layers[i].batches);
    }
    if (pp->standardize) {
        int64_t shape[1] = {m->in_dim};
        st_add(&w->f, "preprocess.mean", ST_F32, 1, shape, pp->mean);
        st_add(&w->f, "preprocess.inv_std", ST_F32, 1, shape, pp->inv_std);
    }
    w->config_text = canonical_config(cfg);
    w->torch_text = torch_modules(m);
    char num[32];
    st_meta(&w->f, "format", CKPT_FORMAT);
    st_meta(&w->f, "bnlab_version", BNLAB_VERSION);
    snprintf(num, sizeof num, "%ld", step);
    st_meta(&w->f, "step", num);
    snprintf(num, sizeof num, "%d", m->in_dim);
    st_meta(&w->f, "input_features", num);
    st_meta(&w->f, "config", w->config_text);
    st_meta(&w->f, "torch", w->torch_text);
}

// ---------------------------------------------------------------------------------------------
// Integrity: a CRC-32 of every tensor's bytes ("checksums": {name: hex}) and of all other metadata
// ("metadata_crc32"), written last and verified on every load, so a flipped bit in a weight, a random stream or the
// step, or a config edited inside the file, is refused rather than used.

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *tensor_checksums(const st_file_t *f) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < f->n; i++) {
        char hex[16];
        snprintf(hex, sizeof hex, "%08lx", (unsigned long)crc32_extend(0, f->t[i].data, st_tensor_bytes(&f->t[i])));
        cJSON_AddStringToObject(o, f->t[i].name, hex);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

// Over the metadata's keys in sorted order (key NUL value NUL), all but metadata_crc32 itself.
static void metadata_crc(const st_file_t *f, char hex[16]) {
    int n = cJSON_GetArraySize(f->meta), k = 0;
    const char **keys = xmalloc(sizeof(char *) * (size_t)(n ? n : 1), "metadata keys");
    for (const cJSON *e = f->meta->child; e; e = e->next)
        if (strcmp(e->string, "metadata_crc32") != 0) keys[k++] = e->string;
    qsort(keys, (size_t)k, sizeof *keys, str_cmp);
    uint32_t crc = 0;
    for (int i = 0; i < k; i++) {
        const char *v = st_meta_get(f, keys[i]);
        crc = crc32_extend(crc, keys[i], strlen(keys[i]) + 1);
        if (v) crc = crc32_extend(crc, v, strlen(v) + 1);
    }
    free(keys);
    snprintf(hex, 16, "%08lx", (unsigned long)crc);
}

static void add_checksums(ckpt_writer_t *w) {
    w->checksum_text = tensor_checksums(&w->f);
    st_meta(&w->f, "checksums", w->checksum_text);
    char hex[16];
    metadata_crc(&w->f, hex);
    st_meta(&w->f, "metadata_crc32", hex);
}

static int verify_checksums(const st_file_t *f) {
    const char *stored = st_meta_get(f, "checksums"), *mcrc = st_meta_get(f, "metadata_crc32");
    if (!stored || !mcrc) return bnlab_fail("%s: no checksums in __metadata__ (not written by this bnlab)", f->path);
    char hex[16];
    metadata_crc(f, hex);
    if (strcmp(hex, mcrc) != 0)
        return bnlab_fail("%s: __metadata__ does not match its checksum (the file is corrupt or was edited)", f->path);
    char *now = tensor_checksums(f);
    cJSON *a = jp_parse_all(stored, strlen(stored), NULL), *b = jp_parse_all(now, strlen(now), NULL);
    int rc = 0;
    for (const cJSON *e = b ? b->child : NULL; e && !rc; e = e->next) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, e->string);
        if (!cJSON_IsString(s) || strcmp(s->valuestring, e->valuestring) != 0)
            rc = bnlab_fail("%s: tensor %s does not match its checksum (the file is corrupt or was edited)", f->path,
                            e->string);
    }
    if (!rc && cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        rc = bnlab_fail("%s: __metadata__.checksums lists tensors the file does not have", f->path);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(now);
    return rc;
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

static void free_list(char **list, int n) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

static void writer_free(ckpt_writer_t *w) {
    free(w->pfile);
    free(w->vfile);
    free(w->config_text);
    free(w->checksum_text);
    free(w->torch_text);
    st_free(&w->f);
    memset(w, 0, sizeof *w);
}

int checkpoint_commit(ckpt_writer_t *w, const char *run_dir, int keep) {
    char dir[BNLAB_PATH_MAX], path[BNLAB_PATH_MAX];
    path_fmt(dir, sizeof dir, "%s/" RUNDIR_CHECKPOINTS, run_dir);
    path_fmt(path, sizeof path, "%s/step-%09ld.safetensors", dir, w->step);
    add_checksums(w);
    int rc = make_dirs(dir) != 0 || st_write(&w->f, path) != 0 ? -1 : 0;
    writer_free(w);
    if (rc != 0) return -1;
    char **list;
    int count = list_checkpoints(dir, &list);
    for (int i = 0; i < count - keep; i++) {
        char old[BNLAB_PATH_MAX];
        path_fmt(old, sizeof old, "%s/%s", dir, list[i]);
        unlink(old);
    }
    free_list(list, count);
    return 0;
}

int checkpoint_write_file(ckpt_writer_t *w, const char *path) {
    add_checksums(w);
    int rc = st_write(&w->f, path);
    writer_free(w);
    return rc;
}

// The run directories (with a checkpoints/ holding checkpoints) one or two levels inside path — a comparison's
// VARIANT/seed-K or a variant's seed-K — as "seed-1, seed-2, seed-3" (sorted, at most 6, then how many more) into
// out; the number found (0: out is "").
static int runs_inside(const char *path, char *out, size_t cap) {
    char **names = NULL;
    int n = 0, ncap = 0;
    for (int depth = 1; depth <= 2 && n == 0; depth++) {
        DIR *d = opendir(path);
        if (!d) break;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char sub[BNLAB_PATH_MAX];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) continue;
            DIR *d2 = depth == 2 ? opendir(sub) : NULL;
            struct dirent *e2 = NULL;
            do {
                if (depth == 2 && !(e2 = d2 ? readdir(d2) : NULL)) break;
                if (e2 && e2->d_name[0] == '.') continue;
                char run[BNLAB_PATH_MAX], ck[BNLAB_PATH_MAX + 16], name[BNLAB_PATH_MAX];
                if (snprintf(run, sizeof run, "%s%s%s", sub, e2 ? "/" : "", e2 ? e2->d_name : "") >= (int)sizeof run)
                    continue;
                snprintf(ck, sizeof ck, "%s/" RUNDIR_CHECKPOINTS, run);
                char **l;
                int k = list_checkpoints(ck, &l);
                free_list(l, k);
                if (k == 0) continue;
                snprintf(name, sizeof name, "%s%s%s", e->d_name, e2 ? "/" : "", e2 ? e2->d_name : "");
                if (n == ncap) {
                    ncap = ncap ? 2 * ncap : 16;
                    char **p = xmalloc(sizeof(char *) * (size_t)ncap, "run list");
                    if (names) memcpy(p, names, sizeof(char *) * (size_t)n);
                    free(names);
                    names = p;
                }
                size_t len = strlen(name) + 1;
                names[n] = xmalloc(len, "run name");
                memcpy(names[n++], name, len);
            } while (depth == 2);
            if (d2) closedir(d2);
        }
        closedir(d);
    }
    out[0] = '\0';
    if (n) qsort(names, (size_t)n, sizeof(char *), str_cmp);
    for (int i = 0, len = 0; i < n && i < 6; i++)
        len += snprintf(out + len, cap > (size_t)len ? cap - (size_t)len : 0, "%s%s", i ? ", " : "", names[i]);
    if (n > 6) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, " and %d more", n - 6);
    }
    free_list(names, n);
    return n;
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
    path_fmt(dir, sizeof dir, "%s/" RUNDIR_CHECKPOINTS, path);
    char **list;
    int n = list_checkpoints(dir, &list);
    if (n == 0) {  // a comparison's or variant's directory: name the runs in it
        char runs[512];
        int k = runs_inside(path, runs, sizeof runs);
        if (k > 0)
            return bnlab_fail("%s: not a run directory (no %s/); it holds %d run%s: %s; name one, e.g. %s/%.*s", path,
                              RUNDIR_CHECKPOINTS, k, k == 1 ? "" : "s", runs, path, (int)strcspn(runs, ", "), runs);
        return bnlab_fail("%s: no checkpoints in %s", path, dir);
    }
    int rc = snprintf(file, file_cap, "%s/%s", dir, list[n - 1]) >= (int)file_cap ? -1 : 0;
    free_list(list, n);
    if (rc) return bnlab_fail("%s: path too long", path);
    snprintf(run_dir, run_cap, "%s", path);
    return 0;
}

int checkpoint_open(st_file_t *f, const char *file, config_t *cfg, const char *const *overrides, int n_overrides) {
    if (st_read(f, file, CKPT_MAX_BYTES) != 0) return -1;
    const char *fmt = st_meta_get(f, "format"), *text = st_meta_get(f, "config");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0 || !text) {
        st_free(f);
        return bnlab_fail("%s: not a bnlab checkpoint of this version (__metadata__.format is not \"%s\", or no "
                          "config)", file, CKPT_FORMAT);
    }
    if (verify_checksums(f) != 0) {
        st_free(f);
        return -1;
    }
    char where[BNLAB_PATH_MAX + 32];
    snprintf(where, sizeof where, "%s: __metadata__.config", file);
    if (config_parse_stored(cfg, text, strlen(text), where, overrides, n_overrides) != 0) {
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        st_free(f);
        return bnlab_fail("%s", msg);
    }
    return 0;
}

int checkpoint_check_run(const st_file_t *f, const char *file, const char *run_dir) {
    char dir[BNLAB_PATH_MAX], base[BNLAB_PATH_MAX], cfg_path[BNLAB_PATH_MAX];
    path_dirname(dir, sizeof dir, file);
    path_fmt(base, sizeof base, "%s/" RUNDIR_CHECKPOINTS, run_dir);
    const char *slash = strrchr(dir, '/');
    if (strcmp(slash ? slash + 1 : dir, RUNDIR_CHECKPOINTS) != 0)
        return bnlab_fail("%s is not inside a run's %s/ directory", file, RUNDIR_CHECKPOINTS);
    path_fmt(cfg_path, sizeof cfg_path, "%s/" RUNDIR_CONFIG, run_dir);
    char *text;
    size_t len;
    if (read_whole_file(cfg_path, CFG_MAX_BYTES, &text, &len) != 0)
        return bnlab_fail("%s: the run directory %s has no readable %s", file, run_dir, RUNDIR_CONFIG);
    config_t c;
    int rc = config_parse_stored(&c, text, len, cfg_path, NULL, 0);
    free(text);
    if (rc != 0) return bnlab_fail("%s: %s is not a run's config", file, cfg_path);
    char *mine = canonical_config(&c);
    int same = strcmp(mine, st_meta_get(f, "config")) == 0;
    free(mine);
    return same ? 0 : bnlab_fail("%s belongs to another run than %s (its config differs from %s)", file, run_dir,
                                 cfg_path);
}

int checkpoint_input_features(const st_file_t *f) {
    const char *s = st_meta_get(f, "input_features");
    char *end;
    long n = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || end == s || n < 1 || n > DATA_MAX_FEATURES)
        return bnlab_fail("%s: __metadata__.input_features: expected a number of features 1..%u, got %s", f->path,
                          DATA_MAX_FEATURES, s ? s : "nothing");
    return (int)n;
}

typedef struct {
    const st_file_t *f;
    const model_t *m;
    float *block;  // parameter-layout destination, or NULL for the layer's own tensor
    const char *prefix, *suffix;
    int rc;
} get_ctx;

static void get_tensor(void *p, int i, const layer_t *l, const tensor_desc_t *d) {
    get_ctx *c = p;
    if (c->rc) return;
    char name[NAME_LEN];
    int64_t shape[2];
    int nd = file_shape(l, d, shape);
    float *dst = layer_tensor(l, d);
    if (c->block) dst = c->block + (dst - c->m->params);
    snprintf(name, sizeof name, "%slayers.%d.%s%s", c->prefix, i, d->name, c->suffix);
    c->rc = st_get(c->f, name, ST_F32, nd, shape, dst);
}

// Reads one parameter-layout block (tensors PREFIX layers.I.NAME SUFFIX) into dst, converting from the file layout.
static int load_param_block(const model_t *m, const st_file_t *f, float *dst, const char *prefix, const char *suffix) {
    float *tmp = xmalloc(sizeof(float) * m->n_params, "parameter copy");
    get_ctx c = {f, m, tmp, prefix, suffix, 0};
    for_each_tensor(m, 1, get_tensor, &c);
    if (!c.rc) model_params_from_file(m, dst, tmp);
    free(tmp);
    return c.rc ? -1 : 0;
}

static int load_batch_counts(model_t *m, const st_file_t *f) {
    for (int i = 0; i < m->n_layers; i++) {
        layer_t *l = &m->layers[i];
        if (!layer_kind(l->spec.kind)->counts_batches) continue;
        char name[NAME_LEN];
        snprintf(name, sizeof name, "layers.%d.num_batches_tracked", i);
        if (st_get(f, name, ST_I64, 0, NULL, &l->batches) != 0) return -1;
        if (l->batches < 0) return bnlab_fail("%s: tensor %s: negative count", f->path, name);
    }
    return 0;
}

int checkpoint_load_model(model_t *m, const st_file_t *f) {
    if (load_param_block(m, f, m->params, "", "") != 0) return -1;
    get_ctx c = {f, m, NULL, "", "", 0};
    for_each_tensor(m, 0, get_tensor, &c);
    if (c.rc) return -1;
    // A variance below zero would take the square root of a negative number in evaluation.
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].rvar)
            for (int j = 0; j < m->layers[i].out; j++)
                if (m->layers[i].rvar[j] < 0)
                    return bnlab_fail("%s: tensor layers.%d.running_var: negative variance", f->path, i);
    return load_batch_counts(m, f);
}

int checkpoint_check_resumable(const st_file_t *f) {
    const char *how = st_meta_get(f, CKPT_META_BN_STATISTICS);
    if (how)
        return bnlab_fail("%s: a recalibrated checkpoint (bnlab recalibrate, BN statistics by %s): inference only, "
                          "with no optimizer or trainer state, so it cannot be resumed; use it with eval or predict, "
                          "or resume from the run's own checkpoint", f->path, how);
    return 0;
}

int checkpoint_load_velocity(const model_t *m, const st_file_t *f, float *velocity) {
    return load_param_block(m, f, velocity, "optimizer.", ".momentum_buffer");
}

int checkpoint_load_preprocess(preprocess_t *pp, const config_t *cfg, const st_file_t *f, uint32_t dim) {
    *pp = config_preprocess(cfg);
    if (!pp->standardize) return 0;
    int64_t shape[1] = {dim};
    pp->mean = xmalloc(sizeof(float) * dim, "feature means");
    pp->inv_std = xmalloc(sizeof(float) * dim, "feature scales");
    if (st_get(f, "preprocess.mean", ST_F32, 1, shape, pp->mean) != 0 ||
        st_get(f, "preprocess.inv_std", ST_F32, 1, shape, pp->inv_std) != 0) {
        preprocess_free(pp);
        return -1;
    }
    return 0;
}
