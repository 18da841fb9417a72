#include "run/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/jsonpath.h"
#include "nn/bnvariants.h"
#include "nn/gemm.h"

static const char *const INIT_TYPES[] = {"normal", "uniform", "xavier_uniform", "xavier_normal",
                                         "he_normal", "he_uniform", NULL};

// ---------------------------------------------------------------------------------------------
// Overrides: "a.b[2].c=value" sets that path in the tree before validation.

// Sets key `seg` of object node (or element [index] of its array `seg`, index >= 0) to value, which it takes over;
// a null value removes the key, so its default applies again.
static void override_leaf(cJSON *node, const char *seg, long index, cJSON *value) {
    cJSON *child = cJSON_GetObjectItemCaseSensitive(node, seg);
    if (index >= 0) cJSON_ReplaceItemInArray(child, (int)index, value);
    else if (cJSON_IsNull(value)) cJSON_DeleteItemFromObjectCaseSensitive(node, seg), cJSON_Delete(value);
    else if (child) cJSON_ReplaceItemInObjectCaseSensitive(node, seg, value);
    else cJSON_AddItemToObject(node, seg, value);
}

// One path segment "name" or "name[i]": splits off the index (-1 if none). -1 + message on a malformed index.
static int override_segment(char *seg, long *index, const char *assignment) {
    char *br = strchr(seg, '[');
    *index = -1;
    if (!br) return 0;
    char *end;
    *index = strtol(br + 1, &end, 10);
    if (end == br + 1 || *end != ']' || end[1] != '\0' || *index < 0)
        return bnlab_fail("--set %s: bad index in '%s'", assignment, seg);
    *br = '\0';
    return 0;
}

// Walks "a.b[2].c" from root, creating missing objects on the way, and sets the last segment to value (taken over
// in every case). -1 + message naming the assignment.
static int override_path(cJSON *root, char *path, cJSON *value, const char *assignment) {
    cJSON *node = root;
    char *save = NULL, *seg = strtok_r(path, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        long index;
        int rc = override_segment(seg, &index, assignment);
        if (!rc && !cJSON_IsObject(node)) rc = bnlab_fail("--set %s: '%s' is not inside an object", assignment, seg);
        cJSON *child = rc ? NULL : cJSON_GetObjectItemCaseSensitive(node, seg);
        if (!rc && index >= 0 && (!cJSON_IsArray(child) || index >= cJSON_GetArraySize(child)))
            rc = bnlab_fail("--set %s: %s has no element [%ld]", assignment, seg, index);
        if (rc) {
            cJSON_Delete(value);
            return -1;
        }
        if (!next) {
            override_leaf(node, seg, index, value);
            return 0;
        }
        node = index >= 0 ? cJSON_GetArrayItem(child, (int)index) : child ? child : cJSON_AddObjectToObject(node, seg);
        seg = next;
    }
    cJSON_Delete(value);
    return bnlab_fail("--set %s: empty path", assignment);
}

static int apply_override(cJSON *root, const char *assignment) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) return bnlab_fail("--set %s: expected PATH=VALUE", assignment);
    char path[JP_PATH_MAX];
    size_t plen = (size_t)(eq - assignment);
    if (plen >= sizeof path) return bnlab_fail("--set: path too long");
    memcpy(path, assignment, plen);
    path[plen] = '\0';
    const char *text = eq + 1;
    // Exactly one JSON value ("1,5" or "10_000" are not numbers), else the text is a bare string.
    cJSON *value = jp_parse_all(text, strlen(text), NULL);
    if (!value) value = cJSON_CreateString(text);
    return override_path(root, path, value, assignment);
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
    init_spec_t s;
    memset(&s, 0, sizeof s);  // padding too: configs compare equal byte for byte (tests/test_config.c)
    s.kind = (init_kind_t)kind, s.std = 0.01, s.a = 0.05;
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


static cJSON *init_to_json(const init_spec_t *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", INIT_TYPES[s->kind]);
    if (s->kind == INIT_NORMAL) cJSON_AddNumberToObject(o, "std", s->std);
    if (s->kind == INIT_UNIFORM) cJSON_AddNumberToObject(o, "a", s->a);
    return o;
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

// ---------------------------------------------------------------------------------------------
// Keys described by key_desc_t rows (base/keys.h): defaults, parsing and the resolved JSON from one table.

typedef struct {
    const char *base_dir;             // relative data paths are taken from here; NULL: paths are unchecked hints
    const init_spec_t *default_init;  // what a KEY_INIT left out takes
} parse_ctx_t;

static void *key_field(void *obj, size_t off) { return (char *)obj + off; }
static const void *key_cfield(const void *obj, size_t off) { return (const char *)obj + off; }
static int key_applies(const key_desc_t *k, const void *obj) { return !k->applies || k->applies(obj); }
// A KEY_ROWS key's row i: its fields' base.
static void *key_row(void *obj, const key_desc_t *k, int i) { return key_field(obj, k->field + (size_t)i * k->stride); }
static const void *key_crow(const void *obj, const key_desc_t *k, int i) {
    return key_cfield(obj, k->field + (size_t)i * k->stride);
}

static void keys_default(const key_desc_t *keys, void *obj, const init_spec_t *default_init) {
    for (const key_desc_t *k = keys; k->name; k++) {
        void *f = k->field == KEY_NO_FIELD ? NULL : key_field(obj, k->field);
        switch (k->type) {
        case KEY_BOOL:
        case KEY_INT: *(int *)f = (int)k->def; break;
        case KEY_LONG: *(long *)f = (long)k->def; break;
        case KEY_U64: *(uint64_t *)f = (uint64_t)k->def; break;
        case KEY_DOUBLE: *(double *)f = k->def; break;
        case KEY_DOUBLE_OR_WORD: *(double *)f = k->def, *(int *)key_field(obj, k->word_field) = 0; break;
        case KEY_ENUM: if (f) *(int *)f = (int)k->def; break;
        case KEY_STRING:
        case KEY_PATH: snprintf(f, k->cap, "%s", k->sdef ? k->sdef : ""); break;
        case KEY_INIT: *(init_spec_t *)f = *default_init; break;
        case KEY_OBJECT: keys_default(k->sub, obj, default_init); break;
        case KEY_CUSTOM: if (k->set_default) k->set_default(obj); break;
        case KEY_ROWS:
            for (int i = 0; k->rows(i); i++) keys_default(k->rows(i), key_row(obj, k, i), default_init);
            break;
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
    if (cJSON_IsString(v) && !strcmp(v->valuestring, k->word)) {
        *(int *)key_field(obj, k->word_field) = 1;
        return 0;
    }
    double x = cJSON_IsNumber(v) ? v->valuedouble : 0;
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

static int parse_integer(const cJSON *o, const char *path, const key_desc_t *k, long long *x) {
    return jp_int(o, path, k->name, (long long)k->lo, (long long)k->hi, x);
}

static int parse_keys(const cJSON *o, const char *path, const key_desc_t *keys, void *obj, const parse_ctx_t *ctx,
                      const char *also);

// One present key's value into its field.
static int parse_value(const cJSON *o, const char *path, const key_desc_t *k, void *obj, const parse_ctx_t *ctx) {
    char p[JP_PATH_MAX];
    jp_join(p, path, k->name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k->name);
    void *f = k->field == KEY_NO_FIELD ? NULL : key_field(obj, k->field);
    long long x;
    int e = 0;
    switch (k->type) {
    case KEY_BOOL: return jp_bool(o, path, k->name, f);
    case KEY_INT: if (parse_integer(o, path, k, &x) != 0) return -1; *(int *)f = (int)x; return 0;
    case KEY_LONG: if (parse_integer(o, path, k, &x) != 0) return -1; *(long *)f = (long)x; return 0;
    case KEY_U64: if (parse_integer(o, path, k, &x) != 0) return -1; *(uint64_t *)f = (uint64_t)x; return 0;
    case KEY_DOUBLE:
        return jp_number(o, path, k->name, k->lo, (k->flags & KEY_LO_OPEN) != 0, k->hi, (k->flags & KEY_HI_OPEN) != 0,
                         f);
    case KEY_DOUBLE_OR_WORD: return parse_double_or_word(o, path, k, obj);
    case KEY_ENUM: if (jp_enum(o, path, k->name, k->words, &e) != 0) return -1; if (f) *(int *)f = e; return 0;
    case KEY_STRING: return jp_string(o, path, k->name, f, k->cap);
    case KEY_PATH:
        if (jp_string(o, path, k->name, f, k->cap) != 0) return -1;
        return ctx->base_dir ? resolve_data_path(f, ctx->base_dir, p) : 0;
    case KEY_INIT: return parse_init(v, p, f);
    case KEY_OBJECT: return parse_keys(v, p, k->sub, obj, ctx, NULL);
    case KEY_CUSTOM: return k->parse(v, p, obj);
    case KEY_ROWS: return 0;  // parse_given reads their keys
    }
    return 0;
}

// The JSON names of keys (a KEY_ROWS key's rows' keys in its place) into allowed[n..cap - 1); returns the new n.
// Aborts if they do not fit (a bug: a table too long for KEYS_MAX).
#define KEYS_MAX 64
static int key_names(const key_desc_t *keys, const char **allowed, int n, int cap) {
    for (const key_desc_t *k = keys; k->name; k++)
        if (n >= cap - 1) abort();
        else if (k->type != KEY_ROWS) allowed[n++] = k->name;
        else
            for (int i = 0; k->rows(i); i++) n = key_names(k->rows(i), allowed, n, cap);
    return n;
}

// The keys of o described by keys, given or required: keys that do not apply are errors if given.
static int parse_given(const cJSON *o, const char *path, const key_desc_t *keys, void *obj, const parse_ctx_t *ctx) {
    for (const key_desc_t *k = keys; k->name; k++) {
        if (k->type == KEY_ROWS) {
            for (int i = 0; k->rows(i); i++)
                if (parse_given(o, path, k->rows(i), key_row(obj, k, i), ctx) != 0) return -1;
            continue;
        }
        char p[JP_PATH_MAX];
        jp_join(p, path, k->name);
        int given = cJSON_GetObjectItemCaseSensitive(o, k->name) != NULL;
        if (!key_applies(k, obj)) {
            if (given) return bnlab_fail("%s: only used %s", p, k->when);
            continue;
        }
        if (!given && (k->flags & KEY_REQUIRED)) {
            if (k->type == KEY_OBJECT) return bnlab_fail("%s: missing section", p);
            if (k->when) return bnlab_fail("%s: missing (required %s)", p, k->when);
            return bnlab_fail("%s: missing (%s)", p, k->help);
        }
        if (given && parse_value(o, path, k, obj, ctx) != 0) return -1;
    }
    return 0;
}

// Parses an object described by keys: unknown keys, missing required keys and keys that do not apply are errors.
// `also` (or NULL) is one more key the caller reads itself (a layer's "type").
static int parse_keys(const cJSON *o, const char *path, const key_desc_t *keys, void *obj, const parse_ctx_t *ctx,
                      const char *also) {
    const char *allowed[KEYS_MAX];
    int n = 0;
    if (also) allowed[n++] = also;
    n = key_names(keys, allowed, n, KEYS_MAX);
    allowed[n] = NULL;
    if (jp_keys(o, path, allowed) != 0) return -1;
    return parse_given(o, path, keys, obj, ctx);
}

static void keys_to_json(cJSON *o, const key_desc_t *keys, const void *obj) {
    for (const key_desc_t *k = keys; k->name; k++) {
        if (!key_applies(k, obj)) continue;
        const void *f = k->field == KEY_NO_FIELD ? NULL : key_cfield(obj, k->field);
        switch (k->type) {
        case KEY_BOOL:
            if (*(const int *)f || !(k->flags & KEY_OMIT_ZERO)) cJSON_AddBoolToObject(o, k->name, *(const int *)f);
            break;
        case KEY_INT: cJSON_AddNumberToObject(o, k->name, *(const int *)f); break;
        case KEY_LONG:
            if (*(const long *)f || !(k->flags & KEY_OMIT_ZERO)) cJSON_AddNumberToObject(o, k->name, *(const long *)f);
            break;
        case KEY_U64: cJSON_AddNumberToObject(o, k->name, (double)*(const uint64_t *)f); break;
        case KEY_DOUBLE: cJSON_AddNumberToObject(o, k->name, *(const double *)f); break;
        case KEY_DOUBLE_OR_WORD:
            if (*(const int *)key_cfield(obj, k->word_field)) cJSON_AddStringToObject(o, k->name, k->word);
            else cJSON_AddNumberToObject(o, k->name, *(const double *)f);
            break;
        case KEY_ENUM:
            if ((f && *(const int *)f) || !(k->flags & KEY_OMIT_ZERO))
                cJSON_AddStringToObject(o, k->name, k->words[f ? *(const int *)f : 0]);
            break;
        case KEY_STRING:
        case KEY_PATH: cJSON_AddStringToObject(o, k->name, f); break;
        case KEY_INIT: cJSON_AddItemToObject(o, k->name, init_to_json(f)); break;
        case KEY_OBJECT: keys_to_json(cJSON_AddObjectToObject(o, k->name), k->sub, obj); break;
        case KEY_CUSTOM:
            if (k->emit) cJSON_AddItemToObject(o, k->name, k->emit(obj));
            break;
        case KEY_ROWS:
            for (int i = 0; k->rows(i); i++) keys_to_json(o, k->rows(i), key_crow(obj, k, i));
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// model.layers: each layer's "type" names a registry row (nn/registry.h), whose keys say the rest.

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
    parse_ctx_t ctx = {NULL, default_init};
    return parse_keys(o, path, keys, l, &ctx, "type");
}

// model.layers may hold repeat blocks {"repeat": N, "layers": [...]} (nested ones too, up to the JSON depth limit),
// so a deep net is one line: the block's layers N times in a row, expanded here. A layer's messages name its place
// in the file ("model.layers[0].layers[2].units"); rules checked after parsing (check_rules, model_build) name the
// expanded index, which is the layer's index in the run's config.json (written expanded).
static int is_repeat_block(const cJSON *o) { return cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "repeat"); }

// The number of layers the array expands into, capped at CFG_MAX_LAYERS + 1 (so a huge repeat is refused before any
// work), after checking every repeat block's shape. -1 + message.
static long count_layers(const cJSON *arr, const char *path) {
    int n = cJSON_GetArraySize(arr), i = 0;
    if (!cJSON_IsArray(arr) || n < 1) {
        char d[64];
        jp_describe(d, sizeof d, arr);
        if (cJSON_IsArray(arr)) snprintf(d, sizeof d, "an empty array");
        return bnlab_fail("%s: expected a non-empty array of layers (or {\"repeat\": N, \"layers\": [...]} blocks), "
                          "got %s", path, d);
    }
    long total = 0;
    for (const cJSON *l = arr->child; l; l = l->next, i++) {
        char p[JP_PATH_MAX], lp[JP_PATH_MAX];
        jp_index(p, path, i);
        long k = 1;
        if (is_repeat_block(l)) {
            static const char *const keys[] = {"repeat", "layers", NULL};
            long long r;
            if (jp_keys(l, p, keys) != 0 || jp_int(l, p, "repeat", 1, CFG_MAX_LAYERS, &r) != 0) return -1;
            jp_join(lp, p, "layers");
            if (!cJSON_GetObjectItemCaseSensitive(l, "layers"))
                return bnlab_fail("%s: missing (the block's layers, repeated %lld times)", lp, r);
            long inner = count_layers(cJSON_GetObjectItemCaseSensitive(l, "layers"), lp);
            if (inner < 0) return -1;
            k = r * inner;  // both <= CFG_MAX_LAYERS + 1: no overflow
        }
        total += k;
        if (total > CFG_MAX_LAYERS) total = CFG_MAX_LAYERS + 1;
    }
    return total;
}

// Appends the layers of arr (repeat blocks expanded) to c->model.layers; count_layers said they fit.
static int expand_layers(config_t *c, const cJSON *arr, const char *path) {
    int i = 0;
    for (const cJSON *l = arr->child; l; l = l->next, i++) {
        char p[JP_PATH_MAX];
        jp_index(p, path, i);
        if (is_repeat_block(l)) {
            char lp[JP_PATH_MAX];
            jp_join(lp, p, "layers");
            int r = cJSON_GetObjectItemCaseSensitive(l, "repeat")->valueint;
            for (int k = 0; k < r; k++)
                if (expand_layers(c, cJSON_GetObjectItemCaseSensitive(l, "layers"), lp) != 0) return -1;
        } else if (parse_layer(l, p, &c->model.init, &c->model.layers[c->model.n_layers++]) != 0) {
            return -1;
        }
    }
    return 0;
}

static int parse_layers(const void *json, const char *path, void *obj) {
    config_t *c = obj;
    long n = count_layers(json, path);
    if (n < 0) return -1;
    if (n > CFG_MAX_LAYERS)
        return bnlab_fail("%s: expands to more than %d layers (repeat blocks included); expected 1..%d", path,
                          CFG_MAX_LAYERS, CFG_MAX_LAYERS);
    c->model.n_layers = 0;
    return expand_layers(c, json, path);
}

// model.stack: a shorthand that expands into model.layers, so one setting (--set model.stack.activation=relu, or
// the normalization and its position) changes every hidden layer of every variant alike. Per hidden width h:
//   dense(h) [norm] activation [norm] [dropout], then dense(classes); with the norm before the activation the dense
// layer has no bias (the norm's beta replaces it, as in the paper). The resolved config lists the expanded layers.
static int stack_add(config_t *c, const char *path, layer_spec_t l) {
    if (c->model.n_layers == CFG_MAX_LAYERS)
        return bnlab_fail("%s: expands to more than %d layers", path, CFG_MAX_LAYERS);
    c->model.layers[c->model.n_layers++] = l;
    return 0;
}

static layer_spec_t stack_dense(const config_t *c, int units, int bias) {
    return (layer_spec_t){.kind = LAYER_DENSE, .units = units, .bias = bias, .init = c->model.init};
}

// model.stack's keys, through the key table (parse_keys below) like every other object of a config.
typedef struct {
    const init_spec_t *init;  // the model's init: the dense layers' and the norm's default
    const cJSON *hidden;      // the widths (checked when expanded)
    layer_spec_t norm;        // kind -1: none
    char activation[32];
    int position;             // 0 before the activation, 1 after
    double dropout;
} stack_keys_t;

static int stack_hidden(const void *json, const char *path, void *obj) {
    const cJSON *h = json;
    if (!cJSON_IsArray(h) || cJSON_GetArraySize(h) < 1)
        return jp_fail_expected(path, "an array of hidden layer widths, e.g. [100, 100, 100]", h);
    ((stack_keys_t *)obj)->hidden = h;
    return 0;
}
static int stack_norm(const void *json, const char *path, void *obj) {
    stack_keys_t *k = obj;
    return cJSON_IsNull((const cJSON *)json) ? 0 : parse_layer(json, path, k->init, &k->norm);
}
static void stack_no_norm(void *obj) { ((stack_keys_t *)obj)->norm.kind = (layer_kind_t)-1; }
static const char *const POSITIONS[] = {"before", "after", NULL};
#define SK(f) offsetof(stack_keys_t, f)
static const key_desc_t STACK_KEYS[] = {
    {.name = "hidden", .type = KEY_CUSTOM, .parse = stack_hidden, .flags = KEY_REQUIRED,
     .help = "an array of hidden layer widths, e.g. [100, 100, 100]"},
    {.name = "activation", .type = KEY_STRING, .field = SK(activation), .cap = sizeof(((stack_keys_t *)0)->activation),
     .sdef = "sigmoid"},
    {.name = "norm", .type = KEY_CUSTOM, .parse = stack_norm, .set_default = stack_no_norm},
    {.name = "position", .type = KEY_ENUM, .field = SK(position), .words = POSITIONS, .def = 0},
    {.name = "dropout", .type = KEY_DOUBLE, .field = SK(dropout), .lo = 0, .hi = 1, .flags = KEY_HI_OPEN, .def = 0},
    {0}};
#undef SK

static int parse_stack(const void *json, const char *path, void *obj) {
    config_t *c = obj;
    stack_keys_t k;
    memset(&k, 0, sizeof k);
    k.init = &c->model.init;
    parse_ctx_t ctx = {NULL, &c->model.init};
    keys_default(STACK_KEYS, &k, &c->model.init);
    if (!cJSON_IsObject((const cJSON *)json)) return jp_fail_expected(path, "an object", json);
    if (parse_keys(json, path, STACK_KEYS, &k, &ctx, NULL) != 0) return -1;
    char p[JP_PATH_MAX];
    int act = layer_kind_find(k.activation);
    jp_join(p, path, "activation");
    if (act < 0 || !layer_kind((layer_kind_t)act)->nonlinearity)
        return bnlab_fail("%s: expected a nonlinearity (sigmoid, relu, tanh), got \"%s\"", p, k.activation);
    layer_spec_t drop = {.kind = LAYER_DROPOUT, .rate = k.dropout}, act_l = {.kind = (layer_kind_t)act};
    int has_norm = (int)k.norm.kind >= 0;
    c->model.n_layers = 0;
    int i = 0;
    for (const cJSON *h = k.hidden->child; h; h = h->next, i++) {
        char hp[JP_PATH_MAX];
        jp_join(p, path, "hidden");
        jp_index(hp, p, i);
        if (!cJSON_IsNumber(h) || h->valuedouble < 1 || h->valuedouble > 65536 || h->valuedouble != (int)h->valuedouble)
            return jp_fail_expected(hp, "a width 1..65536", h);
        int before = has_norm && k.position == 0, after = has_norm && k.position == 1;
        if (stack_add(c, path, stack_dense(c, (int)h->valuedouble, !before)) != 0 ||
            (before && stack_add(c, path, k.norm) != 0) || stack_add(c, path, act_l) != 0 ||
            (after && stack_add(c, path, k.norm) != 0) || (k.dropout > 0 && stack_add(c, path, drop) != 0))
            return -1;
    }
    return stack_add(c, path, stack_dense(c, c->data.classes, 1));
}

static void *emit_layers(const void *obj) {
    const config_t *c = obj;
    cJSON *layers = cJSON_CreateArray();
    for (int i = 0; i < c->model.n_layers; i++) {
        const layer_spec_t *l = &c->model.layers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", layer_kind_name(l->kind));
        keys_to_json(o, layer_kind(l->kind)->keys, l);
        cJSON_AddItemToArray(layers, o);
    }
    return layers;
}

// ---------------------------------------------------------------------------------------------
// log.percentiles.q and .units: arrays.

static void default_q(void *obj) {
    pct_spec_t *p = &((config_t *)obj)->log.percentiles;
    p->q[0] = 15, p->q[1] = 50, p->q[2] = 85, p->n_q = 3;
}

static int parse_q(const void *json, const char *path, void *obj) {
    pct_spec_t *p = &((config_t *)obj)->log.percentiles;
    const cJSON *q = json;
    int n = cJSON_GetArraySize(q), i = 0;
    if (!cJSON_IsArray(q) || n < 1 || n > PCT_MAX_Q)
        return bnlab_fail("%s: expected an array of 1..%d percentiles in [0, 100]", path, PCT_MAX_Q);
    for (const cJSON *e = q->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 100)) {
            char d[64];
            jp_describe(d, sizeof d, e);
            return bnlab_fail("%s[%d]: expected a number in [0, 100], got %s", path, i, d);
        }
        p->q[i] = e->valuedouble;
    }
    p->n_q = n;
    return 0;
}

static void *emit_q(const void *obj) {
    const pct_spec_t *p = &((const config_t *)obj)->log.percentiles;
    cJSON *q = cJSON_CreateArray();
    for (int i = 0; i < p->n_q; i++) cJSON_AddItemToArray(q, cJSON_CreateNumber(p->q[i]));
    return q;
}

static void default_units(void *obj) {
    pct_spec_t *p = &((config_t *)obj)->log.percentiles;
    p->units[0] = (pct_unit_t){.hidden = -1, .unit = 0}, p->n_units = 1;
}

static int parse_units(const void *json, const char *path, void *obj) {
    pct_spec_t *p = &((config_t *)obj)->log.percentiles;
    const cJSON *units = json;
    int n = cJSON_GetArraySize(units), i = 0;
    if (!cJSON_IsArray(units) || n > PCT_MAX_UNITS)
        return bnlab_fail("%s: expected an array of at most %d {\"hidden\": k, \"unit\": u}", path, PCT_MAX_UNITS);
    for (const cJSON *e = units->child; e; e = e->next, i++) {
        char ep[JP_PATH_MAX];
        jp_index(ep, path, i);
        static const char *const ukeys[] = {"hidden", "unit", NULL};
        if (jp_keys(e, ep, ukeys) != 0) return -1;
        long long h = -1, u = 0;
        if (jp_int(e, ep, "hidden", -1, 1000, &h) != 0 || jp_int(e, ep, "unit", 0, 65535, &u) != 0) return -1;
        if (h == 0) return bnlab_fail("%s.hidden: expected 1.. (1-based) or -1 (the last), got 0", ep);
        p->units[i] = (pct_unit_t){.hidden = (int)h, .unit = (int)u};
    }
    p->n_units = n;
    return 0;
}

static void *emit_units(const void *obj) {
    const pct_spec_t *p = &((const config_t *)obj)->log.percentiles;
    cJSON *units = cJSON_CreateArray();
    for (int i = 0; i < p->n_units; i++) {
        cJSON *u = cJSON_CreateObject();
        cJSON_AddNumberToObject(u, "hidden", p->units[i].hidden);
        cJSON_AddNumberToObject(u, "unit", p->units[i].unit);
        cJSON_AddItemToArray(units, u);
    }
    return units;
}

// ---------------------------------------------------------------------------------------------
// log.landscape.lr_factors ([lo, hi]) and .params ("all" or model.layers indices; dense, checked in check_rules).

static void default_lr_factors(void *obj) {
    ls_spec_t *s = &((config_t *)obj)->log.landscape;
    s->lo = 0.5, s->hi = 4;  // Santurkar et al.'s VGG grid (Appendix A.2.2): [1/2, 4] x the learning rate
}

static int parse_lr_factors(const void *json, const char *path, void *obj) {
    ls_spec_t *s = &((config_t *)obj)->log.landscape;
    const cJSON *a = json;
    const cJSON *lo = cJSON_GetArrayItem(a, 0), *hi = cJSON_GetArrayItem(a, 1);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 || !cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) ||
        !(lo->valuedouble > 0 && lo->valuedouble <= hi->valuedouble && hi->valuedouble <= 1e6)) {
        char d[64];
        jp_describe(d, sizeof d, a);
        return bnlab_fail("%s: expected [lo, hi], factors of the learning rate with 0 < lo <= hi <= 1e6, got %s", path,
                          d);
    }
    s->lo = lo->valuedouble, s->hi = hi->valuedouble;
    return 0;
}

static void *emit_lr_factors(const void *obj) {
    const ls_spec_t *s = &((const config_t *)obj)->log.landscape;
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(s->lo));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(s->hi));
    return a;
}

static int parse_ls_params(const void *json, const char *path, void *obj) {
    ls_spec_t *s = &((config_t *)obj)->log.landscape;
    const cJSON *a = json;
    if (cJSON_IsString(a) && !strcmp(a->valuestring, "all")) {
        s->n_layers = 0;
        memset(s->layers, 0, sizeof s->layers);  // configs compare equal byte for byte (tests/test_config.c)
        return 0;
    }
    int n = cJSON_GetArraySize(a), i = 0;
    if (!cJSON_IsArray(a) || n < 1 || n > LS_MAX_LAYERS) {
        char d[64];
        jp_describe(d, sizeof d, a);
        return bnlab_fail("%s: expected \"all\" or a list of 1..%d indices of dense layers in model.layers, got %s",
                          path, LS_MAX_LAYERS, d);
    }
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        int ok = v >= 0 && v < CFG_MAX_LAYERS && v == floor(v);
        for (int j = 0; j < i && ok; j++) ok = s->layers[j] != (int)v;
        if (!ok) {
            char d[64];
            jp_describe(d, sizeof d, e);
            return bnlab_fail("%s[%d]: expected a model.layers index (0..%d, each once), got %s", path, i,
                              CFG_MAX_LAYERS - 1, d);
        }
        s->layers[i] = (int)v;
    }
    s->n_layers = n;
    return 0;
}

static void *emit_ls_params(const void *obj) {
    const ls_spec_t *s = &((const config_t *)obj)->log.landscape;
    if (s->n_layers == 0) return cJSON_CreateString("all");
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < s->n_layers; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(s->layers[i]));
    return a;
}

// ---------------------------------------------------------------------------------------------
// log.histograms.range: [lo, hi] (fixed edges) or "adaptive" (run/histlog.h).

// Fixed [-8, 8] by default: sigmoid inputs that matter lie there (BN's near ±3, Fig. 1's drift without BN to about
// −6), and every frame and variant shares it. Adaptive edges fixed at step 0 are too narrow for a network whose
// inputs start near 0 (N(0, 0.01²) weights) and then spread: their values would pile up in the edge bins.
static void default_hist_range(void *obj) {
    config_t *c = obj;
    c->log.histograms.adaptive = 0, c->log.histograms.lo = -8, c->log.histograms.hi = 8;
}

static int parse_hist_range(const void *json, const char *path, void *obj) {
    config_t *c = obj;
    const cJSON *a = json;
    if (cJSON_IsString(a) && !strcmp(a->valuestring, "adaptive")) {
        c->log.histograms.adaptive = 1, c->log.histograms.lo = c->log.histograms.hi = 0;  // lo, hi unused
        return 0;
    }
    const cJSON *lo = cJSON_GetArrayItem(a, 0), *hi = cJSON_GetArrayItem(a, 1);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 || !cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) ||
        !(lo->valuedouble < hi->valuedouble && lo->valuedouble >= -1e30 && hi->valuedouble <= 1e30)) {
        char d[64];
        jp_describe(d, sizeof d, a);
        return bnlab_fail("%s: expected \"adaptive\" or [lo, hi] with lo < hi, got %s", path, d);
    }
    c->log.histograms.adaptive = 0, c->log.histograms.lo = lo->valuedouble, c->log.histograms.hi = hi->valuedouble;
    return 0;
}

static void *emit_hist_range(const void *obj) {
    const config_t *c = obj;
    if (c->log.histograms.adaptive) return cJSON_CreateString("adaptive");
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(c->log.histograms.lo));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(c->log.histograms.hi));
    return a;
}

// ---------------------------------------------------------------------------------------------
// The config's keys, section by section, in the order config.json lists them.

#define C(f) offsetof(config_t, f)

static const char *const FORMATS[] = {"idx", "csv", NULL};
static const char *const PROGRESS[] = {"auto", "always", "never", NULL};
static const char *const GEMMS[] = {"auto", "openblas", "libxsmm", "portable", NULL};  // gemm_backend_t order
static const char *const SCHEDULES[] = {"constant", "step", "exponential", NULL};
static const char *const OPTIMIZERS[] = {"sgd", NULL};
static const char *const LOSSES[] = {"softmax_cross_entropy", NULL};
static const char *const SOURCES[] = {"probe", "batch", NULL};
static const char *const SPACINGS[] = {"linear", "log", NULL};

static int is_idx(const void *c) { return ((const config_t *)c)->data.format == DATA_IDX; }
static int is_csv(const void *c) { return ((const config_t *)c)->data.format == DATA_CSV; }
static int is_step_schedule(const void *c) { return ((const config_t *)c)->train.optim.schedule == LR_STEP; }
static int is_exp_schedule(const void *c) { return ((const config_t *)c)->train.optim.schedule == LR_EXPONENTIAL; }

#define IDX_FILE(key) \
    {.name = #key, .type = KEY_PATH, .field = C(data.key), .cap = CFG_STR, .flags = KEY_REQUIRED, .applies = is_idx, \
     .when = "with data.format \"idx\""}
#define CSV_FILE(key) \
    {.name = #key, .type = KEY_PATH, .field = C(data.key), .cap = CFG_STR, .flags = KEY_REQUIRED, .applies = is_csv, \
     .when = "with data.format \"csv\""}

static const key_desc_t DATA_KEYS[] = {
    {.name = "format", .type = KEY_ENUM, .field = C(data.format), .words = FORMATS, .def = DATA_IDX},
    IDX_FILE(train_images), IDX_FILE(train_labels), IDX_FILE(test_images), IDX_FILE(test_labels),
    CSV_FILE(train_csv), CSV_FILE(test_csv),
    {.name = "classes", .type = KEY_INT, .field = C(data.classes), .lo = 2, .hi = 1000, .def = 10},
    // -1 until resolved: 1/255 for IDX pixels, 1 for CSV features.
    {.name = "scale", .type = KEY_DOUBLE, .field = C(data.scale), .lo = 0, .hi = 1e6, .flags = KEY_LO_OPEN,
     .def = -1},
    {.name = "binarize", .type = KEY_BOOL, .field = C(data.binarize), .def = 0},
    {.name = "threshold", .type = KEY_DOUBLE, .field = C(data.threshold), .lo = -1e30, .hi = 1e30, .def = 0.5},
    {.name = "standardize", .type = KEY_BOOL, .field = C(data.standardize), .def = 0},
    {.name = "train_limit", .type = KEY_LONG, .field = C(data.train_limit), .lo = 0, .hi = 1e8, .def = 0},
    {.name = "test_limit", .type = KEY_LONG, .field = C(data.test_limit), .lo = 0, .hi = 1e8, .def = 0},
    {0}};

static const key_desc_t MODEL_KEYS[] = {
    {.name = "init", .type = KEY_INIT, .field = C(model.init)},
    // Data-dependent, so run/train.c applies it (model_lsuv on one training batch) after model.init's draw; written
    // back only when set.
    {.name = "lsuv", .type = KEY_BOOL, .field = C(model.lsuv), .def = 0, .flags = KEY_OMIT_ZERO},
    {.name = "loss", .type = KEY_ENUM, .field = KEY_NO_FIELD, .words = LOSSES},
    {.name = "layers", .type = KEY_CUSTOM, .parse = parse_layers, .emit = emit_layers},
    // Parsed, never written: the resolved config lists the layers it expands into.
    {.name = "stack", .type = KEY_CUSTOM, .parse = parse_stack, .emit = NULL},
    {0}};

static const key_desc_t OPTIMIZER_KEYS[] = {
    {.name = "type", .type = KEY_ENUM, .field = KEY_NO_FIELD, .words = OPTIMIZERS},
    {.name = "lr", .type = KEY_DOUBLE, .field = C(train.optim.lr), .lo = 0, .hi = 1e6, .flags = KEY_LO_OPEN,
     .def = 0.1},
    {.name = "momentum", .type = KEY_DOUBLE, .field = C(train.optim.momentum), .lo = 0, .hi = 1,
     .flags = KEY_HI_OPEN, .def = 0},
    {.name = "nesterov", .type = KEY_BOOL, .field = C(train.optim.nesterov), .def = 0},
    {.name = "weight_decay", .type = KEY_DOUBLE, .field = C(train.optim.weight_decay), .lo = 0, .hi = 1e6, .def = 0},
    {0}};

static const key_desc_t SCHEDULE_KEYS[] = {
    {.name = "type", .type = KEY_ENUM, .field = C(train.optim.schedule), .words = SCHEDULES, .def = LR_CONSTANT},
    {.name = "step_size", .type = KEY_LONG, .field = C(train.optim.step_size), .lo = 1, .hi = 1e9, .def = 1,
     .flags = KEY_REQUIRED, .applies = is_step_schedule, .when = "with type \"step\""},
    {.name = "gamma", .type = KEY_DOUBLE, .field = C(train.optim.gamma), .lo = 0, .hi = 1, .flags = KEY_LO_OPEN,
     .def = 1, .applies = is_step_schedule, .when = "with type \"step\""},
    // lr · per_step^t: above 1 it grows (run/optim.h: Li & Arora 2020's weight-decay-free equivalent rate).
    {.name = "per_step", .type = KEY_DOUBLE, .field = C(train.optim.per_step), .lo = 0.5, .hi = 2,
     .flags = KEY_REQUIRED, .def = 1, .applies = is_exp_schedule, .when = "with type \"exponential\""},
    {0}};

static const key_desc_t CHECKPOINT_KEYS[] = {
    {.name = "every", .type = KEY_LONG, .field = C(train.checkpoint.every), .lo = 0, .hi = 1e9, .def = 0},
    {.name = "keep", .type = KEY_INT, .field = C(train.checkpoint.keep), .lo = 1, .hi = 1e6, .def = 3},
    {.name = "final", .type = KEY_BOOL, .field = C(train.checkpoint.final), .def = 1},
    {0}};

static const key_desc_t TRAIN_KEYS[] = {
    // 1 only without batch statistics (check_rules): a batch of one has zero batch variance, and Algorithm 1 is
    // undefined (torch refuses it too).
    {.name = "batch_size", .type = KEY_INT, .field = C(train.batch_size), .lo = 1, .hi = 65536, .def = 60},
    {.name = "steps", .type = KEY_LONG, .field = C(train.steps), .lo = 1, .hi = 1e9, .flags = KEY_OMIT_ZERO},
    {.name = "epochs", .type = KEY_LONG, .field = C(train.epochs), .lo = 1, .hi = 1e6, .flags = KEY_OMIT_ZERO},
    {.name = "optimizer", .type = KEY_OBJECT, .sub = OPTIMIZER_KEYS},
    {.name = "lr_schedule", .type = KEY_OBJECT, .sub = SCHEDULE_KEYS},
    {.name = "eval_every", .type = KEY_LONG, .field = C(train.eval_every), .lo = 0, .hi = 1e9, .def = 0},
    {.name = "eval_batch_size", .type = KEY_INT, .field = C(train.eval_batch_size), .lo = 1, .hi = 65536,
     .def = 1000},
    {.name = "flush_denormals", .type = KEY_BOOL, .field = C(train.flush_denormals), .def = 1},
    // The matrix products' backend (nn/gemm.h); left out of config.json while "auto", so that existing configs keep
    // their digest. The backend that ran is in environment.json.
    {.name = "gemm", .type = KEY_ENUM, .field = C(train.gemm), .words = GEMMS, .def = GEMM_AUTO, .flags = KEY_OMIT_ZERO},
    {.name = "checkpoint", .type = KEY_OBJECT, .sub = CHECKPOINT_KEYS},
    {0}};

static const key_desc_t PERCENTILE_KEYS[] = {
    {.name = "every", .type = KEY_LONG, .field = C(log.percentiles.every), .lo = 0, .hi = 1e9, .def = 100},
    {.name = "source", .type = KEY_ENUM, .field = C(log.percentiles.source), .words = SOURCES,
     .def = PCT_SOURCE_PROBE},
    {.name = "q", .type = KEY_CUSTOM, .parse = parse_q, .emit = emit_q, .set_default = default_q},
    {.name = "units", .type = KEY_CUSTOM, .parse = parse_units, .emit = emit_units, .set_default = default_units},
    {0}};

static const key_desc_t LANDSCAPE_KEYS[] = {
    {.name = "every", .type = KEY_LONG, .field = C(log.landscape.every), .lo = 0, .hi = 1e9, .def = 0},
    {.name = "lr_factors", .type = KEY_CUSTOM, .parse = parse_lr_factors, .emit = emit_lr_factors,
     .set_default = default_lr_factors},
    {.name = "points", .type = KEY_INT, .field = C(log.landscape.points), .lo = 1, .hi = LS_MAX_POINTS, .def = 8},
    {.name = "spacing", .type = KEY_ENUM, .field = C(log.landscape.spacing), .words = SPACINGS, .def = LS_LINEAR},
    {.name = "params", .type = KEY_CUSTOM, .parse = parse_ls_params, .emit = emit_ls_params},
    {0}};

static const key_desc_t HISTOGRAM_KEYS[] = {
    {.name = "every", .type = KEY_LONG, .field = C(log.histograms.every), .lo = 0, .hi = 1e9, .def = 0},
    {.name = "bins", .type = KEY_INT, .field = C(log.histograms.bins), .lo = 2, .hi = 1000, .def = 40},
    {.name = "range", .type = KEY_CUSTOM, .parse = parse_hist_range, .emit = emit_hist_range,
     .set_default = default_hist_range},
    {0}};

static const key_desc_t LOG_KEYS[] = {
    {.name = "dir", .type = KEY_STRING, .field = C(log.dir), .cap = CFG_STR, .sdef = "runs"},
    {.name = "probe_size", .type = KEY_INT, .field = C(log.probe_size), .lo = 0, .hi = 1e6, .def = 1000},
    {.name = "stats", .type = KEY_BOOL, .field = C(log.stats), .def = 1},
    {.name = "progress", .type = KEY_ENUM, .field = C(log.progress), .words = PROGRESS, .def = PROGRESS_AUTO},
    {.name = "ics_every", .type = KEY_LONG, .field = C(log.ics_every), .lo = 0, .hi = 1e9, .def = 500},
    {.name = "percentiles", .type = KEY_OBJECT, .sub = PERCENTILE_KEYS},
    // Left out of config.json while false: runs without it keep the resolved config (and digest) they had.
    {.name = "tensorboard", .type = KEY_BOOL, .field = C(log.tensorboard), .def = 0, .flags = KEY_OMIT_ZERO},
    // Off by default and left out while off, like tensorboard: existing configs and logs stay as they were.
    {.name = "eval_batch_stats", .type = KEY_BOOL, .field = C(log.eval_batch_stats), .def = 0,
     .flags = KEY_OMIT_ZERO},
    {.name = "landscape", .type = KEY_OBJECT, .sub = LANDSCAPE_KEYS},
    {.name = "histograms", .type = KEY_OBJECT, .sub = HISTOGRAM_KEYS},
    // Left out of config.json while false, as tensorboard.
    {.name = "param_stats", .type = KEY_BOOL, .field = C(log.param_stats), .def = 0, .flags = KEY_OMIT_ZERO},
    // The recorders' own keys, row by row (run/recorder.h recorder_t.keys: update_ratios_every, unit_updates_every,
    // curvature_every, curvature_source ...), each left out of config.json while off.
    {.name = "recorders", .type = KEY_ROWS, .rows = recorders_keys, .field = C(log.recorders),
     .stride = sizeof(cfg_recorder_t)},
    // Left out of config.json while 0, as the recorders' keys.
    {.name = "gradients_every", .type = KEY_LONG, .field = C(log.gradients_every), .lo = 0, .hi = 1e9, .def = 0,
     .flags = KEY_OMIT_ZERO},
    {.name = "jacobian_every", .type = KEY_LONG, .field = C(log.jacobian_every), .lo = 0, .hi = 1e9, .def = 0,
     .flags = KEY_OMIT_ZERO},
    {0}};

static const key_desc_t CONFIG_KEYS[] = {
    {.name = "name", .type = KEY_STRING, .field = C(name), .cap = sizeof(((config_t *)0)->name), .sdef = "run"},
    // 2^53: larger integers do not survive a JSON round trip through a double.
    {.name = "seed", .type = KEY_U64, .field = C(seed), .lo = 0, .hi = 9007199254740992.0, .def = 1},
    {.name = "threads", .type = KEY_INT, .field = C(threads), .lo = 1, .hi = 256, .def = 1},
    {.name = "data", .type = KEY_OBJECT, .sub = DATA_KEYS, .flags = KEY_REQUIRED},
    {.name = "model", .type = KEY_OBJECT, .sub = MODEL_KEYS, .flags = KEY_REQUIRED},
    {.name = "train", .type = KEY_OBJECT, .sub = TRAIN_KEYS, .flags = KEY_REQUIRED},
    {.name = "log", .type = KEY_OBJECT, .sub = LOG_KEYS},
    {0}};

const key_desc_t *config_keys(void) { return CONFIG_KEYS; }

static const init_spec_t DEFAULT_INIT = {.kind = INIT_XAVIER_UNIFORM, .std = 0.01, .a = 0.05};

void keys_parse_defaults(const key_desc_t *keys, void *obj) { keys_default(keys, obj, &DEFAULT_INIT); }

int keys_parse_object(const cJSON *o, const char *path, const key_desc_t *keys, void *obj) {
    parse_ctx_t ctx = {NULL, &DEFAULT_INIT};
    return parse_keys(o, path, keys, obj, &ctx, NULL);
}

static void config_defaults(config_t *c) {
    memset(c, 0, sizeof *c);
    keys_default(CONFIG_KEYS, c, &DEFAULT_INIT);
}

// ---------------------------------------------------------------------------------------------
// Rules between keys, after every key was read.

// A layer that normalizes by the training batch's statistics (the registry's flag: batchnorm, in every variant).
static int uses_batch_statistics(const layer_spec_t *l) { return layer_kind(l->kind)->uses_batch_statistics; }

static int check_rules(config_t *c) {
    for (int i = 0; i < c->model.n_layers && c->train.batch_size == 1; i++)
        if (uses_batch_statistics(&c->model.layers[i]))
            return bnlab_fail("train.batch_size: 1 is too small for model.layers[%d] (%s): a batch of one has "
                              "no variance to normalize by; use 2 or more, or a layernorm/rmsnorm layer", i,
                              layer_kind_name(c->model.layers[i].kind));
    // A ghost layer normalizes over blocks of ghost_batch rows of each training batch (nn/registry.c: the rows
    // left over form a smaller last block, and a last block of one row joins the one before). A block of
    // ghost_batch rows then never forms when the batch is smaller, or is ghost_batch + 1 (one block of all rows).
    for (int i = 0; i < c->model.n_layers; i++) {
        const int B = c->train.batch_size, k = layer_ghost_block(&c->model.layers[i]);
        if (k > 0 && (k > B || B == k + 1))
            return bnlab_fail("model.layers[%d].ghost_batch: a block of %d examples never forms in a batch of %d "
                              "(train.batch_size: %s); expected 2..%d%s", i, k, B,
                              k > B ? "smaller than the block" : "one block of all its rows, its last row joining it",
                              B, B > 3 ? ", not train.batch_size - 1" : "");
    }
    if (!name_valid(c->name))
        return bnlab_fail("name: expected letters, digits, '-', '_' or '.' and not \".\" or \"..\" (it names the run "
                          "directory), got \"%s\"", c->name);
    if (c->data.scale < 0) c->data.scale = c->data.format == DATA_IDX ? 1.0 / 255.0 : 1.0;
    if ((c->train.steps > 0) == (c->train.epochs > 0))
        return bnlab_fail("train: expected exactly one of \"steps\" and \"epochs\", got %s",
                          c->train.steps > 0 ? "both" : "neither");
    if (c->train.optim.nesterov && c->train.optim.momentum == 0)
        return bnlab_fail("train.optimizer.nesterov: Nesterov momentum needs train.optimizer.momentum > 0");
    const ls_spec_t *ls = &c->log.landscape;
    for (int i = 0; i < ls->n_layers; i++)
        if (ls->layers[i] >= c->model.n_layers || !layer_kind(c->model.layers[ls->layers[i]].kind)->linear)
            return bnlab_fail("log.landscape.params[%d]: expected the index of a dense layer in model.layers, got %d "
                              "(%s)", i, ls->layers[i], ls->layers[i] >= c->model.n_layers ? "no such layer"
                              : layer_kind_name(c->model.layers[ls->layers[i]].kind));
    const layer_spec_t *last = &c->model.layers[c->model.n_layers - 1];
    if (!layer_kind(last->kind)->linear || last->units != c->data.classes) {
        char got[64];
        if (layer_kind(last->kind)->linear) snprintf(got, sizeof got, "dense with %d units", last->units);
        else snprintf(got, sizeof got, "%s", layer_kind_name(last->kind));
        return bnlab_fail("model.layers[%d]: expected the last layer to be dense with %d units (one logit per class "
                          "for the softmax head), got %s", c->model.n_layers - 1, c->data.classes, got);
    }
    return 0;
}

// model.layers and model.stack say the same thing two ways: exactly one of them.
static int check_layers_or_stack(const cJSON *root) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    int layers = cJSON_GetObjectItemCaseSensitive(m, "layers") != NULL, stack = cJSON_GetObjectItemCaseSensitive(m, "stack") != NULL;
    if (!cJSON_IsObject(m) || layers != stack) return 0;
    return bnlab_fail(layers ? "model: expected one of \"layers\" and \"stack\", got both"
                             : "model.layers: missing (a list of layers ending in one with a unit per class, or "
                               "model.stack: {\"hidden\": [100, 100, 100], \"activation\": \"sigmoid\", ...})");
}

static int parse_tree(config_t *c, const cJSON *root, const char *base_dir) {
    parse_ctx_t ctx = {base_dir, &DEFAULT_INIT};
    if (check_layers_or_stack(root) != 0) return -1;
    if (parse_keys(root, "", CONFIG_KEYS, c, &ctx, NULL) != 0) return -1;
    return check_rules(c);
}

// Is a the JSON path b, or a part of it ("model.layers" of "model.layers[2].units")? (a, b: lengths la <= lb.)
static int path_within(const char *a, size_t la, const char *b, size_t lb) {
    return la <= lb && !strncmp(a, b, la) && (la == lb || b[la] == '.' || b[la] == '[');
}

// Which override, if any, a validation message is about: the last one whose path is the message's JSON path (its
// text up to ": "), contains it ("model.layers" for "model.layers[2].units: ...") or lies in it
// ("model.layers[9].units" for "model.layers[9]: ..."). -1: none, the file's.
static int blamed_override(const char *msg, const char *const *overrides, int n_overrides) {
    size_t mlen = strcspn(msg, ": ");
    for (int i = n_overrides - 1; i >= 0; i--) {
        const char *o = overrides[i];
        size_t plen = strcspn(o, "=");
        if (mlen > 0 && (path_within(o, plen, msg, mlen) || path_within(msg, mlen, o, plen))) return i;
    }
    return -1;
}

int config_parse(config_t *cfg, const char *text, size_t len, const char *file, const char *base_dir,
                 const char *const *overrides, int n_overrides) {
    config_defaults(cfg);
    size_t bad;
    if (!utf8_valid(text, len, &bad)) return bnlab_fail("%s: not valid UTF-8 (byte %zu)", file, bad);
    if (json_depth(text, len) > CFG_MAX_DEPTH)
        return bnlab_fail("%s: JSON nested deeper than %d levels", file, CFG_MAX_DEPTH);
    size_t at = 0;
    cJSON *root = jp_parse_all(text, len, &at);
    if (!root) {
        size_t line = 1;
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
    return rc != 0 ? config_blame(file, overrides, n_overrides) : 0;
}

int config_blame(const char *file, const char *const *overrides, int n_overrides) {
    char msg[BNLAB_ERRMSG_MAX];  // a value given with --set is the option's fault, not the file's
    snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
    int k = blamed_override(msg, overrides, n_overrides);
    size_t plen = k < 0 ? 0 : strcspn(overrides[k], "=");
    if (k >= 0 && !strncmp(msg + plen, ": ", 2))
        return bnlab_fail("--set %.*s (over %s): %s", (int)plen, overrides[k], file, msg + plen + 2);
    if (k >= 0) return bnlab_fail("--set %.*s (over %s): %s", (int)plen, overrides[k], file, msg);
    return bnlab_fail("%s: %s", file, msg);
}
int config_blame_setup(const char *file, const char *const *overrides, int n_overrides) {
    const char *m = bnlab_errmsg();
    static const char *const sections[] = {"data", "model", "train", "log"};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(sections[i]);
        if (!strncmp(m, sections[i], n) && (m[n] == '.' || m[n] == ':' || m[n] == '['))
            return config_blame(file, overrides, n_overrides);
    }
    return -1;
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

cJSON *config_to_json(const config_t *c) {
    cJSON *root = cJSON_CreateObject();
    keys_to_json(root, CONFIG_KEYS, c);
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

int config_data_files(const config_t *c, const char **in, int at) {
    if (c->data.format == DATA_IDX) {
        in[at++] = c->data.train_images, in[at++] = c->data.train_labels;
        in[at++] = c->data.test_images, in[at++] = c->data.test_labels;
    } else {
        in[at++] = c->data.train_csv, in[at++] = c->data.test_csv;
    }
    return at;
}
