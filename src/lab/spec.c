#include "lab/spec.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "io/jsonpath.h"

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n, "string");
    memcpy(p, s, n);
    return p;
}

// Puts prefix before the message already recorded ("FILE: what went wrong"); returns -1.
static int fail_within(const char *prefix) {
    char msg[BNLAB_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
    return bnlab_fail("%s: %s", prefix, msg);
}

// Appends the override "path=json" to v. -1 + message when v already has the most it may.
static int add_set(variant_spec_t *v, const char *path, const char *json, const char *where) {
    if (v->n_sets == CMP_MAX_SETS) return bnlab_fail("%s: more than %d overrides", where, CMP_MAX_SETS);
    size_t n = strlen(path) + strlen(json) + 2;
    v->sets[v->n_sets] = xmalloc(n, "override");
    snprintf(v->sets[v->n_sets++], n, "%s=%s", path, json);
    return 0;
}

// "set": {"a.b": value, ...} -> "a.b=<value as JSON>" strings appended to v.
static int add_sets(variant_spec_t *v, const cJSON *set, const char *path) {
    if (!set) return 0;
    if (jp_object(set, path) != 0) return -1;
    for (const cJSON *c = set->child; c; c = c->next) {
        char *val = cJSON_PrintUnformatted(c);
        int rc = add_set(v, c->string, val, path);
        free(val);
        if (rc != 0) return -1;
    }
    return 0;
}

// ---- the grid ----

// "lr" from "train.optimizer.lr", and a value's JSON text with characters unfit for a directory name as '_'.
static void short_label(char *out, size_t cap, const char *path, const char *value) {
    const char *dot = strrchr(path, '.');
    const char *last = dot ? dot + 1 : path;
    snprintf(out, cap, "%s%s", last, value);
    // Up to the terminator, which a truncated label still has (found by fuzz_spec: overwriting it read past out).
    for (size_t i = 0, n = strlen(out); i < n; i++)
        if (!(out[i] == '-' || out[i] == '.' || (out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'z') ||
              (out[i] >= 'A' && out[i] <= 'Z')))
            out[i] = '_';
}

typedef struct {
    const cJSON *axis[CMP_MAX_AXES];  // "path": [values]
    int n_axes, points;               // points: the size of the cartesian product
} grid_t;

static int read_grid(grid_t *g, const cJSON *grid, int n_variants) {
    if (jp_object(grid, "grid") != 0) return -1;
    g->n_axes = 0, g->points = 1;
    for (const cJSON *a = grid->child; a; a = a->next) {
        char p[JP_PATH_MAX];
        jp_join(p, "grid", a->string);
        int n = cJSON_GetArraySize(a);
        if (g->n_axes == CMP_MAX_AXES) return bnlab_fail("grid: more than %d paths", CMP_MAX_AXES);
        if (!cJSON_IsArray(a) || n < 1 || n > CMP_MAX_AXIS_VALUES) {
            char what[64];
            snprintf(what, sizeof what, "an array of 1..%d values", CMP_MAX_AXIS_VALUES);
            return jp_fail_expected(p, what, a);
        }
        g->axis[g->n_axes++] = a;
        g->points *= n;
    }
    if (g->n_axes == 0) return bnlab_fail("grid: expected at least one path");
    if ((long)g->points * n_variants > CMP_MAX_VARIANTS)
        return bnlab_fail("grid: %d variants x %d grid points is more than %d runs per seed", n_variants, g->points,
                          CMP_MAX_VARIANTS);
    return 0;
}

// o = the declared variant d at grid point k (the last path varies fastest): renamed VARIANT-lr0.5, with the
// point's overrides and the point itself as JSON. -1 + message.
static int grid_point(variant_spec_t *o, const variant_spec_t *d, const grid_t *g, int k) {
    *o = *d;
    for (int i = 0; i < o->n_sets; i++) o->sets[i] = xstrdup(d->sets[i]);
    int idx[CMP_MAX_AXES];
    for (int a = g->n_axes - 1; a >= 0; a--) {
        int n = cJSON_GetArraySize(g->axis[a]);
        idx[a] = k % n;
        k /= n;
    }
    cJSON *point = cJSON_CreateObject();
    size_t nlen = strlen(o->name);
    int rc = 0;
    for (int a = 0; a < g->n_axes && rc == 0; a++) {
        const cJSON *val = cJSON_GetArrayItem(g->axis[a], idx[a]);
        char *text = cJSON_PrintUnformatted(val), label[96];
        short_label(label, sizeof label, g->axis[a]->string, text);
        nlen += (size_t)snprintf(o->name + nlen, nlen < sizeof o->name ? sizeof o->name - nlen : 0, "-%s", label);
        rc = add_set(o, g->axis[a]->string, text, "grid: a run");
        cJSON_AddItemToObject(point, g->axis[a]->string, cJSON_Duplicate(val, 1));
        free(text);
    }
    if (rc == 0 && nlen >= sizeof o->name)
        rc = bnlab_fail("grid: run name for variant %s is longer than %zu bytes", d->name, sizeof o->name - 1);
    if (rc == 0 && !name_valid(o->name))  // it names a directory: a bug in short_label if this ever fails
        rc = bnlab_fail("grid: expected a directory name for a run of variant %s, got \"%s\"", d->name, o->name);
    char *pt = cJSON_PrintUnformatted(point);
    snprintf(o->grid, sizeof o->grid, "%s", pt);
    free(pt);
    cJSON_Delete(point);
    return rc;
}

// Replaces the declared variants by their expansion over the grid's cartesian product.
static int expand_grid(compare_spec_t *s, const cJSON *grid) {
    grid_t g;
    if (read_grid(&g, grid, s->n_variants) != 0) return -1;
    int nv = s->n_variants, rc = 0;
    variant_spec_t *declared = xmalloc(sizeof *declared * (size_t)nv, "variants");
    memcpy(declared, s->variants, sizeof *declared * (size_t)nv);
    s->n_variants = 0;
    for (int v = 0; v < nv && rc == 0; v++)
        for (int k = 0; k < g.points && rc == 0; k++) rc = grid_point(&s->variants[s->n_variants++], &declared[v], &g, k);
    for (int v = 0; v < nv; v++)
        for (int k = 0; k < declared[v].n_sets; k++) free(declared[v].sets[k]);
    free(declared);
    for (int i = 0; i < s->n_variants && rc == 0; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(s->variants[i].name, s->variants[k].name))
                return bnlab_fail("grid: two runs would both be named %s (grid values that differ only in "
                                  "characters a directory name cannot hold)", s->variants[i].name);
    return rc;
}

// ---- the spec file ----

// Keys the key table checks for presence only: the code below reads them, in the order their meaning needs (a
// variant's "set" after its config; the grid after the variants; the expectations after the grid and targets).
static int read_later(const void *json, const char *path, void *obj) {
    (void)json, (void)path, (void)obj;
    return 0;
}

#define LATER(key) {.name = key, .type = KEY_CUSTOM, .parse = read_later}

// A variant's keys (into variant_spec_t: its name, its "config" as written; "set" read by parse_variant).
static const key_desc_t VARIANT_KEYS[] = {
    {.name = "name", .type = KEY_STRING, .field = offsetof(variant_spec_t, name),
     .cap = sizeof(((variant_spec_t *)0)->name), .flags = KEY_REQUIRED, .help = "the variant's name, e.g. \"bn\""},
    {.name = "config", .type = KEY_STRING, .field = offsetof(variant_spec_t, config),
     .cap = sizeof(((variant_spec_t *)0)->config)},
    LATER("set"),
    {0}};

// A spec file's keys: name, base (as written), jobs and claim into spec_head_t; the rest read by parse_spec_file.
typedef struct {
    char name[sizeof(((compare_spec_t *)0)->name)];
    char base[CFG_STR];
    int jobs;
    char claim[EXPECT_TEXT];
} spec_head_t;

static const key_desc_t SPEC_KEYS[] = {
    {.name = "name", .type = KEY_STRING, .field = offsetof(spec_head_t, name), .cap = sizeof(((spec_head_t *)0)->name)},
    {.name = "base", .type = KEY_STRING, .field = offsetof(spec_head_t, base), .cap = CFG_STR},
    LATER("variants"), LATER("seeds"), LATER("targets"),
    {.name = "jobs", .type = KEY_INT, .field = offsetof(spec_head_t, jobs), .lo = 0, .hi = 256},
    LATER("set"), LATER("grid"),
    {.name = "claim", .type = KEY_STRING, .field = offsetof(spec_head_t, claim), .cap = EXPECT_TEXT},
    LATER("expect"),
    {0}};

static int parse_variant(compare_spec_t *s, const cJSON *v, int i, const char *dir, const char *base,
                         const cJSON *common) {
    char p[JP_PATH_MAX];
    jp_index(p, "variants", i);
    variant_spec_t *vs = &s->variants[s->n_variants++];
    char c[CFG_STR];
    keys_parse_defaults(VARIANT_KEYS, vs);
    if (keys_parse_object(v, p, VARIANT_KEYS, vs) != 0) return -1;
    snprintf(c, sizeof c, "%s", vs->config);
    memcpy(vs->base, vs->name, sizeof vs->base);  // equal sizes; a grid renames the variant, not its base
    if (!name_valid(vs->name))
        return bnlab_fail("%s.name: expected letters, digits, '-', '_' or '.', got \"%s\"", p, vs->name);
    for (int k = 0; k < s->n_variants - 1; k++)
        if (!strcmp(s->variants[k].name, vs->name)) return bnlab_fail("%s.name: \"%s\" is used twice", p, vs->name);
    if (c[0]) {
        if (path_join(vs->config, sizeof vs->config, dir, c) != 0) return -1;
    } else if (base[0]) snprintf(vs->config, sizeof vs->config, "%s", base);
    else return bnlab_fail("%s.config: missing, and the spec has no \"base\"", p);
    if (add_sets(vs, common, "set") != 0) return -1;
    char sp[JP_PATH_MAX];
    jp_join(sp, p, "set");
    return add_sets(vs, cJSON_GetObjectItemCaseSensitive(v, "set"), sp);
}

// "seeds": a count N (seeds 1..N) or a list of seeds.
static int parse_seeds(compare_spec_t *s, const cJSON *root) {
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    if (cJSON_IsArray(seeds)) {
        int k = 0;
        for (const cJSON *e = seeds->child; e; e = e->next, k++) {
            if (k >= CMP_MAX_SEEDS) return bnlab_fail("seeds: more than %d", CMP_MAX_SEEDS);
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble != (double)(long)e->valuedouble) {
                char p[JP_PATH_MAX];
                jp_index(p, "seeds", k);
                return jp_fail_expected(p, "a non-negative integer", e);
            }
            s->seeds[k] = (long)e->valuedouble;
        }
        if (k == 0) return jp_fail_expected("seeds", "a number of seeds or a non-empty list", seeds);
        s->n_seeds = k;
    } else if (seeds) {
        long long n = 0;
        if (jp_int(root, "", "seeds", 1, CMP_MAX_SEEDS, &n) != 0) return -1;
        s->n_seeds = (int)n;
        for (int k = 0; k < s->n_seeds; k++) s->seeds[k] = k + 1;
    }
    return 0;
}

static int parse_targets(compare_spec_t *s, const cJSON *root) {
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
    if (!targets) return 0;
    if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) < 1 || cJSON_GetArraySize(targets) > SUMMARY_MAX_TARGETS) {
        char what[64];
        snprintf(what, sizeof what, "an array of 1..%d accuracies in (0, 1]", SUMMARY_MAX_TARGETS);
        return jp_fail_expected("targets", what, targets);
    }
    s->n_targets = 0;
    int k = 0;
    for (const cJSON *e = targets->child; e; e = e->next, k++) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble > 0 && e->valuedouble <= 1)) {
            char p[JP_PATH_MAX];
            jp_index(p, "targets", k);
            return jp_fail_expected(p, "an accuracy in (0, 1]", e);
        }
        s->targets[s->n_targets++] = e->valuedouble;
    }
    return 0;
}

// "claim" and "expect", checked against the variants as the grid expanded them and the targets.
static int parse_expectations(compare_spec_t *s, const cJSON *root) {
    const char **names = xmalloc(sizeof *names * (size_t)s->n_variants, "variant names");
    for (int i = 0; i < s->n_variants; i++) names[i] = s->variants[i].name;
    int rc = expect_parse(&s->expect, cJSON_GetObjectItemCaseSensitive(root, "expect"), names, s->n_variants,
                          s->targets, s->n_targets);
    free(names);
    return rc;
}

static int parse_spec_file(compare_spec_t *s, const char *path, const cJSON *root) {
    spec_head_t *h = xcalloc(1, sizeof *h, "spec keys");
    keys_parse_defaults(SPEC_KEYS, h);
    char dir[CFG_STR], base[CFG_STR] = "";
    path_dirname(dir, sizeof dir, path);
    int rc = keys_parse_object(root, "", SPEC_KEYS, h);
    if (rc == 0) {
        snprintf(s->name, sizeof s->name, "%s", h->name);
        snprintf(s->expect.claim, sizeof s->expect.claim, "%s", h->claim);
        s->jobs = h->jobs;
        if (!name_valid(s->name)) rc = bnlab_fail("name: expected letters, digits, '-', '_' or '.', got \"%s\"", s->name);
        else if (h->base[0]) rc = path_join(base, sizeof base, dir, h->base);
    }
    free(h);
    if (rc != 0) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    int nv = cJSON_GetArraySize(vars), i = 0;
    if (!cJSON_IsArray(vars) || nv < 1 || nv > CMP_MAX_VARIANTS) {
        char what[64];
        snprintf(what, sizeof what, "an array of 1..%d variants", CMP_MAX_VARIANTS);
        return jp_fail_expected("variants", what, vars);
    }
    const cJSON *common = cJSON_GetObjectItemCaseSensitive(root, "set");
    for (const cJSON *v = vars->child; v; v = v->next, i++)
        if (parse_variant(s, v, i, dir, base, common) != 0) return -1;
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    if ((grid && expand_grid(s, grid) != 0) || parse_seeds(s, root) != 0 || parse_targets(s, root) != 0 ||
        parse_expectations(s, root) != 0)
        return -1;
    return 0;
}

// The spec file's JSON, or NULL + message. A file that parses but has no "variants" is a train config given
// alone: a comparison needs a spec or at least two.
static cJSON *read_spec_json(const char *path) {
    char *text;
    size_t len, bad;
    if (read_whole_file(path, CFG_MAX_BYTES, &text, &len) != 0) return NULL;
    cJSON *root = NULL;
    if (!utf8_valid(text, len, &bad)) bnlab_fail("not valid UTF-8 (byte %zu)", bad);
    else if (json_depth(text, len) > CFG_MAX_DEPTH) bnlab_fail("JSON nested deeper than %d levels", CFG_MAX_DEPTH);
    else if (!(root = jp_parse_all(text, len, NULL))) bnlab_fail("not valid JSON (or text after it)");
    free(text);
    if (!root) {
        fail_within(path);
        return NULL;
    }
    if (!cJSON_GetObjectItemCaseSensitive(root, "variants")) {
        cJSON_Delete(root);
        bnlab_fail("%s: a comparison needs a spec with \"variants\" or at least two configs", path);
        return NULL;
    }
    return root;
}

static int load_spec_file(compare_spec_t *s, const char *path) {
    cJSON *root = read_spec_json(path);
    if (!root) return -1;
    int rc = parse_spec_file(s, path, root);
    cJSON_Delete(root);
    return rc != 0 ? fail_within(path) : 0;
}

// `bnlab compare A.json B.json ...`: each config a variant named by its "name".
static int load_plain_configs(compare_spec_t *s, const char *const *paths, int n_paths, const spec_overrides_t *cli) {
    if (n_paths > CMP_MAX_VARIANTS) return bnlab_fail("more than %d configs", CMP_MAX_VARIANTS);
    snprintf(s->name, sizeof s->name, "compare");
    for (int i = 0; i < n_paths; i++) {
        variant_spec_t *v = &s->variants[s->n_variants++];
        snprintf(v->config, sizeof v->config, "%s", paths[i]);
        config_t c;
        if (config_load(&c, paths[i], cli->sets, cli->n_sets) != 0) return -1;
        snprintf(v->name, sizeof v->name, "%s", c.name);
        snprintf(v->base, sizeof v->base, "%s", c.name);
        for (int k = 0; k < i; k++)
            if (!strcmp(s->variants[k].name, v->name))
                return bnlab_fail("%s: name \"%s\" is also the name of %s; variants need distinct names", paths[i],
                                  v->name, s->variants[k].config);
    }
    return 0;
}

// The command line's overrides (after the spec's own), seeds and jobs.
static int apply_cli(compare_spec_t *s, const spec_overrides_t *cli) {
    for (int i = 0; i < s->n_variants; i++)
        for (int k = 0; k < cli->n_sets; k++) {
            variant_spec_t *v = &s->variants[i];
            if (v->n_sets == CMP_MAX_SETS) return bnlab_fail("more than %d overrides", CMP_MAX_SETS);
            v->sets[v->n_sets++] = xstrdup(cli->sets[k]);
        }
    if (cli->seeds > 0) {
        if (cli->seeds > CMP_MAX_SEEDS) return bnlab_fail("--seeds: at most %d", CMP_MAX_SEEDS);
        s->n_seeds = cli->seeds;
        for (int k = 0; k < s->n_seeds; k++) s->seeds[k] = k + 1;
    }
    if (cli->jobs > 0) s->jobs = cli->jobs;
    if (s->jobs == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->jobs = n > 0 ? (int)n : 1;
    }
    return 0;
}

// Did the command line set path p (its first n bytes)?
static int cli_sets_path(const spec_overrides_t *cli, const char *p, size_t n) {
    for (int k = 0; k < cli->n_sets; k++)
        if (strcspn(cli->sets[k], "=") == n && !strncmp(cli->sets[k], p, n)) return 1;
    return 0;
}

// Every variant's config with its overrides: a bad one is reported before anything runs or is written. An override
// config_load blames ("--set P (over FILE): ...") that the command line did not give is the spec's ("set", "grid"):
// "SPEC: variant V: set P (over FILE): ..." (spec: the spec file, NULL for plain configs).
static int validate_variants(const compare_spec_t *s, const char *spec, const spec_overrides_t *cli) {
    for (int i = 0; i < s->n_variants; i++) {
        const variant_spec_t *v = &s->variants[i];
        config_t c;
        if (config_load(&c, v->config, (const char *const *)v->sets, v->n_sets) != 0) {
            char prefix[BNLAB_PATH_MAX + 160];
            const char *m = bnlab_errmsg();
            if (spec && !strncmp(m, "--set ", 6) && !cli_sets_path(cli, m + 6, strcspn(m + 6, " "))) {
                char msg[BNLAB_ERRMSG_MAX];
                snprintf(msg, sizeof msg, "%s", m + 2);
                return bnlab_fail("%s: variant %s: %s", spec, v->name, msg);
            }
            snprintf(prefix, sizeof prefix, "variant %s", v->name);
            return fail_within(prefix);
        }
    }
    return 0;
}

int compare_spec_load(compare_spec_t *s, const char *const *paths, int n_paths, const spec_overrides_t *cli) {
    memset(s, 0, sizeof *s);
    s->n_seeds = 1;
    s->seeds[0] = 1;
    s->n_targets = 3;
    s->targets[0] = 0.8, s->targets[1] = 0.9, s->targets[2] = 0.95;
    int rc = n_paths == 1 ? load_spec_file(s, paths[0]) : load_plain_configs(s, paths, n_paths, cli);
    if (rc == 0) rc = apply_cli(s, cli);
    if (rc == 0) rc = validate_variants(s, n_paths == 1 ? paths[0] : NULL, cli);
    if (rc != 0) compare_spec_free(s);
    return rc;
}

void compare_spec_free(compare_spec_t *s) {
    for (int i = 0; i < s->n_variants; i++)
        for (int k = 0; k < s->variants[i].n_sets; k++) free(s->variants[i].sets[k]);
    s->n_variants = 0;
}

cJSON *compare_spec_to_json(const compare_spec_t *s) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", s->name);
    cJSON *vars = cJSON_AddArrayToObject(root, "variants");
    for (int i = 0; i < s->n_variants; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", s->variants[i].name);
        cJSON_AddStringToObject(v, "base", s->variants[i].base);
        cJSON *g = s->variants[i].grid[0] ? cJSON_Parse(s->variants[i].grid) : NULL;
        if (g) cJSON_AddItemToObject(v, "grid", g);
        cJSON_AddStringToObject(v, "config", s->variants[i].config);
        cJSON *sets = cJSON_AddArrayToObject(v, "overrides");
        for (int k = 0; k < s->variants[i].n_sets; k++) cJSON_AddItemToArray(sets, cJSON_CreateString(s->variants[i].sets[k]));
        cJSON_AddItemToArray(vars, v);
    }
    cJSON *seeds = cJSON_AddArrayToObject(root, "seeds");
    for (int k = 0; k < s->n_seeds; k++) cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)s->seeds[k]));
    cJSON *t = cJSON_AddArrayToObject(root, "targets");
    for (int k = 0; k < s->n_targets; k++) cJSON_AddItemToArray(t, cJSON_CreateNumber(s->targets[k]));
    cJSON_AddNumberToObject(root, "jobs", s->jobs);
    expect_add_json(root, &s->expect, NULL);
    return root;
}

cJSON *compare_json_read(const char *path) {
    char *text;
    size_t len;
    if (read_whole_file(path, 1 << 24, &text, &len) != 0) return NULL;
    cJSON *root = jp_parse_all(text, len, NULL);
    free(text);
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    if (cJSON_IsArray(vars) && cJSON_IsArray(sd) && cJSON_GetArraySize(sd) >= 1) return root;
    cJSON_Delete(root);
    bnlab_fail("%s: not a bnlab comparison file (expected \"variants\" and \"seeds\" arrays)", path);
    return NULL;
}

int spec_file_is_spec(const char *path) {
    char *text;
    size_t len;
    if (read_whole_file(path, CFG_MAX_BYTES, &text, &len) != 0) return 0;
    cJSON *j = jp_parse_all(text, len, NULL);
    free(text);
    int spec = cJSON_GetObjectItemCaseSensitive(j, "variants") != NULL;
    cJSON_Delete(j);
    return spec;
}

int compare_spec_inputs(const compare_spec_t *s, const char *const *files, int n, const char ***in) {
    *in = xmalloc(sizeof **in * (size_t)(n + s->n_variants), "input list");
    int k = 0;
    for (int i = 0; i < n; i++) (*in)[k++] = files[i];
    for (int v = 0; v < s->n_variants; v++) (*in)[k++] = s->variants[v].config;
    return k;
}
