#include "run/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/jsonpath.h"
#include "base/util.h"

static const char *const INIT_TYPES[] = {"normal", "uniform", "xavier_uniform", "xavier_normal",
                                         "he_normal", "he_uniform", NULL};
static const char *const FORMATS[] = {"idx", "csv", NULL};
static const char *const PROGRESS[] = {"auto", "always", "never", NULL};
static const char *const SCHEDULES[] = {"constant", "step", NULL};

static void config_defaults(config_t *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "run");
    c->seed = 1;
    c->threads = 1;
    c->data.format = DATA_IDX;
    c->data.classes = 10;
    c->data.scale = -1.0;
    c->data.threshold = 0.5;
    c->model.init.kind = INIT_XAVIER_UNIFORM;
    c->train.batch_size = 60;
    c->train.optim = (optim_spec_t){.lr = 0.1, .momentum = 0.0, .weight_decay = 0.0, .nesterov = 0,
                                    .schedule = LR_CONSTANT, .step_size = 1, .gamma = 1.0};
    c->train.eval_batch_size = 1000;
    c->train.flush_denormals = 1;
    c->train.checkpoint.every = 0;
    c->train.checkpoint.keep = 3;
    c->train.checkpoint.final = 1;
    snprintf(c->log.dir, sizeof c->log.dir, "runs");
    c->log.probe_size = 1000;
    c->log.stats = 1;
    c->log.progress = PROGRESS_AUTO;
    c->log.ics_every = 500;
    c->log.percentiles = (pct_spec_t){.every = 100, .q = {15, 50, 85}, .n_q = 3,
                                      .units = {{.hidden = -1, .unit = 0}}, .n_units = 1};
}

// ---------------------------------------------------------------------------------------------
// Overrides: "a.b[2].c=value" sets that path in the tree before validation.

static int apply_override(cJSON *root, const char *assignment) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) return bnlab_fail("--set %s: expected PATH=VALUE", assignment);
    char path[JP_PATH_MAX];
    size_t plen = (size_t)(eq - assignment);
    if (plen >= sizeof path) return bnlab_fail("--set: path too long");
    memcpy(path, assignment, plen);
    path[plen] = '\0';
    const char *text = eq + 1;
    cJSON *value = cJSON_Parse(text);
    if (!value) value = cJSON_CreateString(text);  // bare word: a string
    cJSON *node = root;
    char *save = NULL;
    char *seg = strtok_r(path, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        char *br = strchr(seg, '[');
        long index = -1;
        if (br) {
            char *end;
            index = strtol(br + 1, &end, 10);
            if (end == br + 1 || *end != ']' || end[1] != '\0' || index < 0) {
                cJSON_Delete(value);
                return bnlab_fail("--set %s: bad index in '%s'", assignment, seg);
            }
            *br = '\0';
        }
        if (!cJSON_IsObject(node)) {
            cJSON_Delete(value);
            return bnlab_fail("--set %s: '%s' is not inside an object", assignment, seg);
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, seg);
        if (index >= 0) {
            if (!cJSON_IsArray(child) || index >= cJSON_GetArraySize(child)) {
                cJSON_Delete(value);
                return bnlab_fail("--set %s: %s has no element [%ld]", assignment, seg, index);
            }
            cJSON *elem = cJSON_GetArrayItem(child, (int)index);
            if (!next) {
                cJSON_ReplaceItemInArray(child, (int)index, value);
                return 0;
            }
            node = elem;
        } else if (!next) {
            if (cJSON_IsNull(value)) {  // PATH=null removes the key: its default applies again
                cJSON_DeleteItemFromObjectCaseSensitive(node, seg);
                cJSON_Delete(value);
            } else if (child) {
                cJSON_ReplaceItemInObjectCaseSensitive(node, seg, value);
            } else {
                cJSON_AddItemToObject(node, seg, value);
            }
            return 0;
        } else {
            if (!child) child = cJSON_AddObjectToObject(node, seg);
            node = child;
        }
        seg = next;
    }
    cJSON_Delete(value);
    return bnlab_fail("--set %s: empty path", assignment);
}

// ---------------------------------------------------------------------------------------------

static int parse_init(const cJSON *o, const char *path, init_spec_t *out) {
    static const char *const keys[] = {"type", "std", "a", NULL};
    if (jp_keys(o, path, keys) != 0) return -1;
    int kind = -1;
    if (!cJSON_GetObjectItemCaseSensitive(o, "type")) {
        char p[JP_PATH_MAX];
        jp_join(p, path, "type");
        return bnlab_fail("%s: missing (one of normal, uniform, xavier_uniform, xavier_normal, he_normal, he_uniform)",
                       p);
    }
    if (jp_enum(o, path, "type", INIT_TYPES, &kind) != 0) return -1;
    init_spec_t s = {.kind = (init_kind_t)kind, .std = 0.01, .a = 0.05};
    if (jp_number(o, path, "std", 0, 1, 100, 0, &s.std) != 0) return -1;
    if (jp_number(o, path, "a", 0, 1, 100, 0, &s.a) != 0) return -1;
    const char *only = s.kind == INIT_NORMAL ? "std" : s.kind == INIT_UNIFORM ? "a" : NULL;
    const char *params[] = {"std", "a"};
    for (int i = 0; i < 2; i++)
        if (cJSON_GetObjectItemCaseSensitive(o, params[i]) && (!only || strcmp(only, params[i]) != 0)) {
            char p[JP_PATH_MAX];
            jp_join(p, path, params[i]);
            return bnlab_fail("%s: not used by init type \"%s\"", p, INIT_TYPES[kind]);
        }
    *out = s;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Keys described by key_desc_t rows (base/keys.h): defaults, parsing and the resolved JSON from one table.

static void *key_field(void *obj, size_t off) { return (char *)obj + off; }
static const void *key_cfield(const void *obj, size_t off) { return (const char *)obj + off; }

static void keys_default(const key_desc_t *keys, void *obj, const init_spec_t *default_init) {
    for (const key_desc_t *k = keys; k->name; k++) {
        void *f = key_field(obj, k->field);
        switch (k->type) {
        case KEY_BOOL:
        case KEY_INT: *(int *)f = (int)k->def; break;
        case KEY_DOUBLE: *(double *)f = k->def; break;
        case KEY_DOUBLE_OR_WORD: *(double *)f = k->def, *(int *)key_field(obj, k->word_field) = 0; break;
        case KEY_INIT: *(init_spec_t *)f = *default_init; break;
        }
    }
}

// "(0, 1]" for a number key's range.
static void key_range(char *out, size_t cap, const key_desc_t *k) {
    snprintf(out, cap, "%c%.10g, %.10g%c", k->flags & KEY_LO_OPEN ? '(' : '[', k->lo, k->hi,
             k->flags & KEY_HI_OPEN ? ')' : ']');
}

static int parse_double_or_word(const cJSON *o, const char *path, const key_desc_t *k, void *obj) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k->name);
    if (!v) return 0;
    if (cJSON_IsString(v) && !strcmp(v->valuestring, k->word)) {
        *(int *)key_field(obj, k->word_field) = 1;
        return 0;
    }
    double x = 0;
    if (cJSON_IsNumber(v)) x = v->valuedouble;
    int lo_ok = k->flags & KEY_LO_OPEN ? x > k->lo : x >= k->lo, hi_ok = k->flags & KEY_HI_OPEN ? x < k->hi : x <= k->hi;
    if (!cJSON_IsNumber(v) || !isfinite(x) || !lo_ok || !hi_ok) {
        char p[JP_PATH_MAX], d[64], range[64];
        jp_join(p, path, k->name);
        jp_describe(d, sizeof d, v);
        key_range(range, sizeof range, k);
        return bnlab_fail("%s: expected a number in %s or \"%s\", got %s", p, range, k->word, d);
    }
    *(double *)key_field(obj, k->field) = x;
    return 0;
}

static int parse_key(const cJSON *o, const char *path, const key_desc_t *k, void *obj) {
    char p[JP_PATH_MAX];
    jp_join(p, path, k->name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k->name);
    if (!v && (k->flags & KEY_REQUIRED)) return bnlab_fail("%s: missing (%s)", p, k->help);
    void *f = key_field(obj, k->field);
    switch (k->type) {
    case KEY_BOOL: return jp_bool(o, path, k->name, f);
    case KEY_INT: {
        long long x = *(int *)f;
        if (jp_int(o, path, k->name, (long long)k->lo, (long long)k->hi, &x) != 0) return -1;
        *(int *)f = (int)x;
        return 0;
    }
    case KEY_DOUBLE:
        return jp_number(o, path, k->name, k->lo, (k->flags & KEY_LO_OPEN) != 0, k->hi, (k->flags & KEY_HI_OPEN) != 0,
                         f);
    case KEY_DOUBLE_OR_WORD: return parse_double_or_word(o, path, k, obj);
    case KEY_INIT: return v ? parse_init(v, p, f) : 0;
    }
    return 0;
}

// Parses an object described by keys (plus "type", which the caller read): unknown keys are errors.
static int parse_keys(const cJSON *o, const char *path, const key_desc_t *keys, void *obj) {
    const char *allowed[32] = {"type"};
    int n = 1;
    for (const key_desc_t *k = keys; k->name && n < 31; k++) allowed[n++] = k->name;
    allowed[n] = NULL;
    if (jp_keys(o, path, allowed) != 0) return -1;
    for (const key_desc_t *k = keys; k->name; k++)
        if (parse_key(o, path, k, obj) != 0) return -1;
    return 0;
}

static cJSON *init_to_json(const init_spec_t *s);

static void keys_to_json(cJSON *o, const key_desc_t *keys, const void *obj) {
    for (const key_desc_t *k = keys; k->name; k++) {
        const void *f = key_cfield(obj, k->field);
        switch (k->type) {
        case KEY_BOOL: cJSON_AddBoolToObject(o, k->name, *(const int *)f); break;
        case KEY_INT: cJSON_AddNumberToObject(o, k->name, *(const int *)f); break;
        case KEY_DOUBLE: cJSON_AddNumberToObject(o, k->name, *(const double *)f); break;
        case KEY_DOUBLE_OR_WORD:
            if (*(const int *)key_cfield(obj, k->word_field)) cJSON_AddStringToObject(o, k->name, k->word);
            else cJSON_AddNumberToObject(o, k->name, *(const double *)f);
            break;
        case KEY_INIT: cJSON_AddItemToObject(o, k->name, init_to_json(f)); break;
        }
    }
}

// One layer: its "type" names a registry row, whose keys say the rest.
static int parse_layer(const cJSON *o, const char *path, const init_spec_t *default_init, layer_spec_t *l) {
    if (jp_object(o, path) != 0) return -1;
    char p[JP_PATH_MAX], kinds[256];
    jp_join(p, path, "type");
    layer_kind_list(kinds, sizeof kinds);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!type) return bnlab_fail("%s: missing (one of %s)", p, kinds);
    int kind = cJSON_IsString(type) ? layer_kind_find(type->valuestring) : -1;
    if (kind < 0) {
        char d[64];
        jp_describe(d, sizeof d, type);
        return bnlab_fail("%s: expected one of %s, got %s", p, kinds, d);
    }
    memset(l, 0, sizeof *l);
    l->kind = (layer_kind_t)kind;
    const key_desc_t *keys = layer_kind(l->kind)->keys;
    keys_default(keys, l, default_init);
    return parse_keys(o, path, keys, l);
}

// Joins a data path with the config's directory and makes it absolute; the file must exist. (A stored config,
// base_dir NULL, keeps its paths as hints: they are checked when a file is read.)
static int resolve_data_path(char *p, const char *base_dir, const char *jpath) {
    char joined[2 * CFG_STR + 2];
    if (p[0] == '/' || !base_dir[0]) snprintf(joined, sizeof joined, "%s", p);
    else snprintf(joined, sizeof joined, "%s/%s", base_dir, p);
    char real[PATH_MAX];
    if (!realpath(joined, real)) return bnlab_fail("%s: cannot use file %s: %s", jpath, joined, strerror(errno));
    if (strlen(real) >= CFG_STR) return bnlab_fail("%s: path too long", jpath);
    snprintf(p, CFG_STR, "%s", real);
    return 0;
}

static int parse_data(const cJSON *o, config_t *c, const char *base_dir) {
    static const char *const keys[] = {"format", "train_images", "train_labels", "test_images", "test_labels",
                                       "train_csv", "test_csv", "classes", "scale", "binarize", "threshold",
                                       "standardize", "train_limit", "test_limit", NULL};
    if (jp_keys(o, "data", keys) != 0) return -1;
    int fmt = 0;
    if (jp_enum(o, "data", "format", FORMATS, &fmt) != 0) return -1;
    c->data.format = (data_format_t)fmt;
    struct { const char *key; char *dst; data_format_t fmt; } files[] = {
        {"train_images", c->data.train_images, DATA_IDX}, {"train_labels", c->data.train_labels, DATA_IDX},
        {"test_images", c->data.test_images, DATA_IDX},   {"test_labels", c->data.test_labels, DATA_IDX},
        {"train_csv", c->data.train_csv, DATA_CSV},       {"test_csv", c->data.test_csv, DATA_CSV},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[JP_PATH_MAX];
        jp_join(p, "data", files[i].key);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, files[i].key);
        if (files[i].fmt != c->data.format) {
            if (v) return bnlab_fail("%s: not used with data.format \"%s\"", p, FORMATS[fmt]);
            continue;
        }
        if (!v) return bnlab_fail("%s: missing (required with data.format \"%s\")", p, FORMATS[fmt]);
        if (jp_string(o, "data", files[i].key, files[i].dst, CFG_STR) != 0) return -1;
        if (base_dir && resolve_data_path(files[i].dst, base_dir, p) != 0) return -1;
    }
    long long classes = c->data.classes, tl = 0, vl = 0;
    if (jp_int(o, "data", "classes", 2, 1000, &classes) != 0) return -1;
    c->data.classes = (int)classes;
    if (jp_number(o, "data", "scale", 0, 1, 1e6, 0, &c->data.scale) != 0) return -1;
    if (c->data.scale < 0) c->data.scale = c->data.format == DATA_IDX ? 1.0 / 255.0 : 1.0;
    if (jp_bool(o, "data", "binarize", &c->data.binarize) != 0) return -1;
    if (jp_number(o, "data", "threshold", -1e30, 0, 1e30, 0, &c->data.threshold) != 0) return -1;
    if (jp_bool(o, "data", "standardize", &c->data.standardize) != 0) return -1;
    if (jp_int(o, "data", "train_limit", 0, 100000000, &tl) != 0) return -1;
    if (jp_int(o, "data", "test_limit", 0, 100000000, &vl) != 0) return -1;
    c->data.train_limit = (long)tl;
    c->data.test_limit = (long)vl;
    return 0;
}

static int parse_model(const cJSON *o, config_t *c) {
    static const char *const keys[] = {"init", "layers", "loss", NULL};
    if (jp_keys(o, "model", keys) != 0) return -1;
    static const char *const losses[] = {"softmax_cross_entropy", NULL};
    int loss = 0;
    if (jp_enum(o, "model", "loss", losses, &loss) != 0) return -1;
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(o, "init");
    if (init && parse_init(init, "model.init", &c->model.init) != 0) return -1;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(o, "layers");
    if (!layers) return bnlab_fail("model.layers: missing (a list of layers ending in one with a unit per class)");
    int n = cJSON_GetArraySize(layers);
    if (!cJSON_IsArray(layers) || n < 1 || n > CFG_MAX_LAYERS) {
        char d[64];
        jp_describe(d, sizeof d, layers);
        if (cJSON_IsArray(layers)) snprintf(d, sizeof d, "%d layers", n);
        return bnlab_fail("model.layers: expected an array of 1..%d layers, got %s", CFG_MAX_LAYERS, d);
    }
    int i = 0;
    for (const cJSON *l = layers->child; l; l = l->next, i++) {
        char p[JP_PATH_MAX];
        jp_index(p, "model.layers", i);
        if (parse_layer(l, p, &c->model.init, &c->model.layers[i]) != 0) return -1;
    }
    c->model.n_layers = n;
    return 0;
}

static int parse_train(const cJSON *o, config_t *c) {
    static const char *const keys[] = {"batch_size", "steps", "epochs", "optimizer", "lr_schedule", "eval_every",
                                       "eval_batch_size", "flush_denormals", "checkpoint", NULL};
    if (jp_keys(o, "train", keys) != 0) return -1;
    long long bs = c->train.batch_size, steps = 0, epochs = 0, ev = 0, ebs = c->train.eval_batch_size;
    // A batch of one has zero batch variance: Algorithm 1 is undefined (torch refuses it too).
    if (jp_int(o, "train", "batch_size", 2, 65536, &bs) != 0) return -1;
    if (jp_int(o, "train", "steps", 1, 1000000000, &steps) != 0) return -1;
    if (jp_int(o, "train", "epochs", 1, 1000000, &epochs) != 0) return -1;
    if ((steps > 0) == (epochs > 0))
        return bnlab_fail("train: expected exactly one of \"steps\" and \"epochs\", got %s",
                       steps > 0 ? "both" : "neither");
    if (jp_int(o, "train", "eval_every", 0, 1000000000, &ev) != 0) return -1;
    if (jp_int(o, "train", "eval_batch_size", 1, 65536, &ebs) != 0) return -1;
    if (jp_bool(o, "train", "flush_denormals", &c->train.flush_denormals) != 0) return -1;
    c->train.batch_size = (int)bs;
    c->train.steps = (long)steps;
    c->train.epochs = (long)epochs;
    c->train.eval_every = (long)ev;
    c->train.eval_batch_size = (int)ebs;

    optim_spec_t *s = &c->train.optim;
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(o, "optimizer");
    if (opt) {
        static const char *const okeys[] = {"type", "lr", "momentum", "nesterov", "weight_decay", NULL};
        static const char *const types[] = {"sgd", NULL};
        int t = 0;
        if (jp_keys(opt, "train.optimizer", okeys) != 0) return -1;
        if (jp_enum(opt, "train.optimizer", "type", types, &t) != 0) return -1;
        if (jp_number(opt, "train.optimizer", "lr", 0, 1, 1e6, 0, &s->lr) != 0) return -1;
        if (jp_number(opt, "train.optimizer", "momentum", 0, 0, 1, 1, &s->momentum) != 0) return -1;
        if (jp_bool(opt, "train.optimizer", "nesterov", &s->nesterov) != 0) return -1;
        if (jp_number(opt, "train.optimizer", "weight_decay", 0, 0, 1e6, 0, &s->weight_decay) != 0) return -1;
        if (s->nesterov && s->momentum == 0)
            return bnlab_fail("train.optimizer.nesterov: Nesterov momentum needs train.optimizer.momentum > 0");
    }
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(o, "checkpoint");
    if (ck) {
        static const char *const ckeys[] = {"every", "keep", "final", NULL};
        long long every = c->train.checkpoint.every, keep = c->train.checkpoint.keep;
        if (jp_keys(ck, "train.checkpoint", ckeys) != 0 ||
            jp_int(ck, "train.checkpoint", "every", 0, 1000000000, &every) != 0 ||
            jp_int(ck, "train.checkpoint", "keep", 1, 1000000, &keep) != 0 ||
            jp_bool(ck, "train.checkpoint", "final", &c->train.checkpoint.final) != 0)
            return -1;
        c->train.checkpoint.every = (long)every;
        c->train.checkpoint.keep = (int)keep;
    }
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(o, "lr_schedule");
    if (sch) {
        static const char *const skeys[] = {"type", "step_size", "gamma", NULL};
        int t = 0;
        if (jp_keys(sch, "train.lr_schedule", skeys) != 0) return -1;
        if (jp_enum(sch, "train.lr_schedule", "type", SCHEDULES, &t) != 0) return -1;
        s->schedule = (lr_schedule_kind_t)t;
        long long ss = s->step_size;
        if (jp_int(sch, "train.lr_schedule", "step_size", 1, 1000000000, &ss) != 0) return -1;
        if (jp_number(sch, "train.lr_schedule", "gamma", 0, 1, 1, 0, &s->gamma) != 0) return -1;
        s->step_size = (long)ss;
        if (s->schedule == LR_CONSTANT && (cJSON_GetObjectItemCaseSensitive(sch, "step_size") ||
                                           cJSON_GetObjectItemCaseSensitive(sch, "gamma")))
            return bnlab_fail("train.lr_schedule: step_size and gamma are only used with type \"step\"");
        if (s->schedule == LR_STEP && !cJSON_GetObjectItemCaseSensitive(sch, "step_size"))
            return bnlab_fail("train.lr_schedule.step_size: missing (required with type \"step\")");
    }
    return 0;
}

static int parse_percentiles(const cJSON *o, pct_spec_t *p) {
    const char *path = "log.percentiles";
    static const char *const keys[] = {"every", "source", "q", "units", NULL};
    static const char *const sources[] = {"probe", "batch", NULL};
    if (jp_keys(o, path, keys) != 0) return -1;
    int src = (int)p->source;
    if (jp_enum(o, path, "source", sources, &src) != 0) return -1;
    p->source = (pct_source_t)src;
    long long every = p->every;
    if (jp_int(o, path, "every", 0, 1000000000, &every) != 0) return -1;
    p->every = (long)every;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "q");
    if (q) {
        int n = cJSON_GetArraySize(q), i = 0;
        if (!cJSON_IsArray(q) || n < 1 || n > PCT_MAX_Q)
            return bnlab_fail("%s.q: expected an array of 1..%d percentiles in [0, 100]", path, PCT_MAX_Q);
        for (const cJSON *e = q->child; e; e = e->next, i++) {
            if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 100)) {
                char d[64];
                jp_describe(d, sizeof d, e);
                return bnlab_fail("%s.q[%d]: expected a number in [0, 100], got %s", path, i, d);
            }
            p->q[i] = e->valuedouble;
        }
        p->n_q = n;
    }
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(o, "units");
    if (units) {
        int n = cJSON_GetArraySize(units), i = 0;
        if (!cJSON_IsArray(units) || n > PCT_MAX_UNITS)
            return bnlab_fail("%s.units: expected an array of at most %d {\"hidden\": k, \"unit\": u}", path,
                           PCT_MAX_UNITS);
        for (const cJSON *e = units->child; e; e = e->next, i++) {
            char ep[JP_PATH_MAX];
            jp_index(ep, "log.percentiles.units", i);
            static const char *const ukeys[] = {"hidden", "unit", NULL};
            if (jp_keys(e, ep, ukeys) != 0) return -1;
            long long h = -1, u = 0;
            if (jp_int(e, ep, "hidden", -1, 1000, &h) != 0 || jp_int(e, ep, "unit", 0, 65535, &u) != 0) return -1;
            if (h == 0) return bnlab_fail("%s.hidden: expected 1.. (1-based) or -1 (the last), got 0", ep);
            p->units[i] = (pct_unit_t){.hidden = (int)h, .unit = (int)u};
        }
        p->n_units = n;
    }
    return 0;
}

static int parse_log(const cJSON *o, config_t *c) {
    static const char *const keys[] = {"dir", "probe_size", "stats", "progress", "percentiles", "ics_every", NULL};
    if (jp_keys(o, "log", keys) != 0) return -1;
    if (jp_string(o, "log", "dir", c->log.dir, sizeof c->log.dir) != 0) return -1;
    long long ps = c->log.probe_size;
    if (jp_int(o, "log", "probe_size", 0, 1000000, &ps) != 0) return -1;
    c->log.probe_size = (int)ps;
    if (jp_bool(o, "log", "stats", &c->log.stats) != 0) return -1;
    int pr = 0;
    if (jp_enum(o, "log", "progress", PROGRESS, &pr) != 0) return -1;
    c->log.progress = (progress_t)pr;
    long long ics = c->log.ics_every;
    if (jp_int(o, "log", "ics_every", 0, 1000000000, &ics) != 0) return -1;
    c->log.ics_every = (long)ics;
    const cJSON *pct = cJSON_GetObjectItemCaseSensitive(o, "percentiles");
    if (pct && parse_percentiles(pct, &c->log.percentiles) != 0) return -1;
    return 0;
}

static int parse_tree(config_t *c, const cJSON *root, const char *base_dir) {
    static const char *const keys[] = {"name", "seed", "threads", "data", "model", "train", "log", NULL};
    if (jp_keys(root, "", keys) != 0) return -1;
    if (jp_string(root, "", "name", c->name, sizeof c->name) != 0) return -1;
    for (const char *p = c->name; *p; p++)
        if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            return bnlab_fail("name: expected letters, digits, '-', '_' or '.' (it names the run directory), got "
                           "\"%s\"", c->name);
    long long seed = (long long)c->seed, threads = c->threads;
    // 2^53: larger integers do not survive a JSON round trip through a double.
    if (jp_int(root, "", "seed", 0, 9007199254740992LL, &seed) != 0) return -1;
    if (jp_int(root, "", "threads", 1, 256, &threads) != 0) return -1;
    c->seed = (uint64_t)seed;
    c->threads = (int)threads;
    const char *sections[] = {"data", "model", "train"};
    for (int i = 0; i < 3; i++)
        if (!cJSON_GetObjectItemCaseSensitive(root, sections[i])) return bnlab_fail("%s: missing section", sections[i]);
    if (parse_data(cJSON_GetObjectItemCaseSensitive(root, "data"), c, base_dir) != 0) return -1;
    if (parse_model(cJSON_GetObjectItemCaseSensitive(root, "model"), c) != 0) return -1;
    if (parse_train(cJSON_GetObjectItemCaseSensitive(root, "train"), c) != 0) return -1;
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(root, "log");
    if (log && parse_log(log, c) != 0) return -1;
    const layer_spec_t *last = &c->model.layers[c->model.n_layers - 1];
    if (last->kind != LAYER_DENSE || last->units != c->data.classes)
        return bnlab_fail("model.layers[%d]: expected the last layer to be dense with %d units (one logit per class "
                       "for the softmax head), got %s",
                       c->model.n_layers - 1, c->data.classes, layer_kind_name(last->kind));
    return 0;
}

int config_parse(config_t *cfg, const char *text, size_t len, const char *file, const char *base_dir,
                 const char *const *overrides, int n_overrides) {
    config_defaults(cfg);
    size_t bad;
    if (!utf8_valid(text, len, &bad)) return bnlab_fail("%s: not valid UTF-8 (byte %zu)", file, bad);
    if (json_depth(text, len) > CFG_MAX_DEPTH)
        return bnlab_fail("%s: JSON nested deeper than %d levels", file, CFG_MAX_DEPTH);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - text) : 0, line = 1;
        for (size_t i = 0; i < at && i < len; i++) line += text[i] == '\n';
        return bnlab_fail("%s: not valid JSON (line %zu, byte %zu)", file, line, at);
    }
    for (int i = 0; i < n_overrides; i++)
        if (apply_override(root, overrides[i]) != 0) {
            cJSON_Delete(root);
            return -1;
        }
    int rc = parse_tree(cfg, root, base_dir);
    cJSON_Delete(root);
    if (rc != 0) {
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        return bnlab_fail("%s: %s", file, msg);
    }
    return 0;
}

int config_load(config_t *cfg, const char *path, const char *const *overrides, int n_overrides) {
    char *text;
    size_t len;
    if (read_whole_file(path, CFG_MAX_BYTES, &text, &len) != 0) return -1;
    char dir[CFG_STR];
    path_dirname(dir, sizeof dir, path);
    int rc = config_parse(cfg, text, len, path, dir, overrides, n_overrides);
    free(text);
    return rc;
}

// ---------------------------------------------------------------------------------------------

static cJSON *init_to_json(const init_spec_t *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", INIT_TYPES[s->kind]);
    if (s->kind == INIT_NORMAL) cJSON_AddNumberToObject(o, "std", s->std);
    if (s->kind == INIT_UNIFORM) cJSON_AddNumberToObject(o, "a", s->a);
    return o;
}

cJSON *config_to_json(const config_t *c) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", c->name);
    cJSON_AddNumberToObject(root, "seed", (double)c->seed);
    cJSON_AddNumberToObject(root, "threads", c->threads);

    cJSON *d = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(d, "format", FORMATS[c->data.format]);
    if (c->data.format == DATA_IDX) {
        cJSON_AddStringToObject(d, "train_images", c->data.train_images);
        cJSON_AddStringToObject(d, "train_labels", c->data.train_labels);
        cJSON_AddStringToObject(d, "test_images", c->data.test_images);
        cJSON_AddStringToObject(d, "test_labels", c->data.test_labels);
    } else {
        cJSON_AddStringToObject(d, "train_csv", c->data.train_csv);
        cJSON_AddStringToObject(d, "test_csv", c->data.test_csv);
    }
    cJSON_AddNumberToObject(d, "classes", c->data.classes);
    cJSON_AddNumberToObject(d, "scale", c->data.scale);
    cJSON_AddBoolToObject(d, "binarize", c->data.binarize);
    cJSON_AddNumberToObject(d, "threshold", c->data.threshold);
    cJSON_AddBoolToObject(d, "standardize", c->data.standardize);
    cJSON_AddNumberToObject(d, "train_limit", (double)c->data.train_limit);
    cJSON_AddNumberToObject(d, "test_limit", (double)c->data.test_limit);

    cJSON *m = cJSON_AddObjectToObject(root, "model");
    cJSON_AddItemToObject(m, "init", init_to_json(&c->model.init));
    cJSON_AddStringToObject(m, "loss", "softmax_cross_entropy");
    cJSON *layers = cJSON_AddArrayToObject(m, "layers");
    for (int i = 0; i < c->model.n_layers; i++) {
        const layer_spec_t *l = &c->model.layers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", layer_kind_name(l->kind));
        keys_to_json(o, layer_kind(l->kind)->keys, l);
        cJSON_AddItemToArray(layers, o);
    }

    cJSON *t = cJSON_AddObjectToObject(root, "train");
    cJSON_AddNumberToObject(t, "batch_size", c->train.batch_size);
    if (c->train.steps > 0) cJSON_AddNumberToObject(t, "steps", (double)c->train.steps);
    else cJSON_AddNumberToObject(t, "epochs", (double)c->train.epochs);
    const optim_spec_t *s = &c->train.optim;
    cJSON *o = cJSON_AddObjectToObject(t, "optimizer");
    cJSON_AddStringToObject(o, "type", "sgd");
    cJSON_AddNumberToObject(o, "lr", s->lr);
    cJSON_AddNumberToObject(o, "momentum", s->momentum);
    cJSON_AddBoolToObject(o, "nesterov", s->nesterov);
    cJSON_AddNumberToObject(o, "weight_decay", s->weight_decay);
    cJSON *sch = cJSON_AddObjectToObject(t, "lr_schedule");
    cJSON_AddStringToObject(sch, "type", SCHEDULES[s->schedule]);
    if (s->schedule == LR_STEP) {
        cJSON_AddNumberToObject(sch, "step_size", (double)s->step_size);
        cJSON_AddNumberToObject(sch, "gamma", s->gamma);
    }
    cJSON_AddNumberToObject(t, "eval_every", (double)c->train.eval_every);
    cJSON_AddNumberToObject(t, "eval_batch_size", c->train.eval_batch_size);
    cJSON_AddBoolToObject(t, "flush_denormals", c->train.flush_denormals);
    cJSON *ck = cJSON_AddObjectToObject(t, "checkpoint");
    cJSON_AddNumberToObject(ck, "every", (double)c->train.checkpoint.every);
    cJSON_AddNumberToObject(ck, "keep", c->train.checkpoint.keep);
    cJSON_AddBoolToObject(ck, "final", c->train.checkpoint.final);

    cJSON *lg = cJSON_AddObjectToObject(root, "log");
    cJSON_AddStringToObject(lg, "dir", c->log.dir);
    cJSON_AddNumberToObject(lg, "probe_size", c->log.probe_size);
    cJSON_AddBoolToObject(lg, "stats", c->log.stats);
    cJSON_AddStringToObject(lg, "progress", PROGRESS[c->log.progress]);
    cJSON_AddNumberToObject(lg, "ics_every", (double)c->log.ics_every);
    const pct_spec_t *p = &c->log.percentiles;
    cJSON *pj = cJSON_AddObjectToObject(lg, "percentiles");
    cJSON_AddNumberToObject(pj, "every", (double)p->every);
    cJSON_AddStringToObject(pj, "source", p->source == PCT_SOURCE_PROBE ? "probe" : "batch");
    cJSON *q = cJSON_AddArrayToObject(pj, "q");
    for (int i = 0; i < p->n_q; i++) cJSON_AddItemToArray(q, cJSON_CreateNumber(p->q[i]));
    cJSON *units = cJSON_AddArrayToObject(pj, "units");
    for (int i = 0; i < p->n_units; i++) {
        cJSON *u = cJSON_CreateObject();
        cJSON_AddNumberToObject(u, "hidden", p->units[i].hidden);
        cJSON_AddNumberToObject(u, "unit", p->units[i].unit);
        cJSON_AddItemToArray(units, u);
    }
    return root;
}

int config_parse_stored(config_t *cfg, const char *text, size_t len, const char *file, const char *const *overrides,
                        int n_overrides) {
    return config_parse(cfg, text, len, file, NULL, overrides, n_overrides);
}

preprocess_t config_preprocess(const config_t *c) {
    return (preprocess_t){.scale = (float)c->data.scale, .binarize = c->data.binarize,
                          .threshold = (float)c->data.threshold, .standardize = c->data.standardize};
}
