#include "run/runlog.h"
#include "view/source.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/jsonpath.h"
#include "nn/registry.h"
#include "run/gradinit.h"
#include "run/rundir.h"

void view_copy_utf8(char *out, size_t cap, const char *src) {
    if (cap == 0) return;
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;  // src[n] continues a character: cut before it
    }
    memcpy(out, src, n);
    out[n] = '\0';
}

cJSON *view_compare_json_read(const char *path) {
    char *text;
    size_t len;
    if (read_whole_file(path, 1 << 24, &text, &len) != 0) return NULL;
    size_t at = 0;
    cJSON *root = jp_parse_all(text, len, &at);
    free(text);
    if (!root) {
        bnlab_fail("%s: not valid JSON (at byte %zu)", path, at);
        return NULL;
    }
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    int rc = 0, k = 0;
    if (!cJSON_IsArray(vars) || !cJSON_IsArray(sd) || cJSON_GetArraySize(sd) < 1)
        rc = bnlab_fail("%s: not a bnlab comparison file (expected \"variants\" and \"seeds\" arrays)", path);
    for (const cJSON *v = rc ? NULL : vars->child; v && rc == 0; v = v->next, k++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        if (!cJSON_IsString(name) || !name_valid(name->valuestring))
            rc = bnlab_fail("%s: variants[%d]: expected a \"name\" (a directory name: letters, digits, -_.), found %s", path,
                            k, !name ? "none" : cJSON_IsString(name) ? name->valuestring : "another type");
    }
    k = 0;
    for (const cJSON *e = rc ? NULL : sd->child; e && rc == 0; e = e->next, k++)
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 1e15) || e->valuedouble != floor(e->valuedouble))
            rc = bnlab_fail("%s: seeds[%d]: expected a whole number >= 0", path, k);
    if (rc == 0) return root;
    cJSON_Delete(root);
    return NULL;
}

void view_source_one_seed(view_source_t *out, const view_source_t *s, int k) {
    if (out != s) *out = *s;
    out->seeds[0] = s->seeds[k], out->ns = 1;
    char kind[sizeof out->kind + 48];
    snprintf(kind, sizeof kind, "%s; drawn from seed %ld alone", s->kind, out->seeds[0]);
    view_copy_utf8(out->kind, sizeof out->kind, kind);
}

long view_diverged_at(const char *run) {
    if (rundir_status(run) != RUN_DIVERGED) return -1;
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, run, RUNDIR_SUMMARY);
    if (read_whole_file(path, 1 << 24, &text, &len) != 0) return 0;
    cJSON *root = jp_parse_all(text, len, NULL);
    free(text);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "steps");
    long step = cJSON_IsNumber(st) && st->valuedouble >= 0 ? (long)st->valuedouble : 0;
    cJSON_Delete(root);
    return step;
}

void view_run_dir(const view_source_t *s, int i, int k, char *out, size_t cap) {
    if (s->is_compare) rundir_of_seed(out, cap, s->dir, s->v[i].name, s->seeds[k]);
    else path_fmt(out, cap, "%s", s->dir);
}

static const char *plural(long n) { return n == 1 ? "" : "s"; }

// What a comparison directory is: a sweep (its variants carry "grid") says over which keys and how many grid points
// x variants x seeds; a comparison, variants x seeds.
static void describe(view_source_t *s, const cJSON *vars) {
    strbuf_t keys = {0}, bases = {0};
    int n_keys = 0, n_bases = 0;
    for (const cJSON *v = vars->child; v; v = v->next) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(v, "grid"), *base = cJSON_GetObjectItemCaseSensitive(v, "base");
        for (const cJSON *k = cJSON_IsObject(g) ? g->child : NULL; k; k = k->next)
            if (k->string && (!keys.s || !strstr(keys.s, k->string))) {
                strbuf_printf(&keys, "%s%s", n_keys ? ", " : "", k->string);
                n_keys++;
            }
        if (cJSON_IsString(base)) {
            strbuf_t tag = {0};
            strbuf_printf(&tag, "|%s|", base->valuestring);
            if (!bases.s || !strstr(bases.s, tag.s)) strbuf_printf(&bases, "%s", tag.s), n_bases++;
            free(tag.s);
        }
    }
    int nv = s->n_spec, ns = s->n_spec_seeds, runs = nv * ns;
    if (n_keys && n_bases > 0 && nv % n_bases == 0)
        snprintf(s->kind, sizeof s->kind, "A sweep over %s: %d grid point%s x %d variant%s x %d seed%s = %d runs",
                 keys.s, nv / n_bases, plural(nv / n_bases), n_bases, plural(n_bases), ns, plural(ns), runs);
    else if (n_keys)
        snprintf(s->kind, sizeof s->kind, "A sweep over %s: %d grid variants x %d seed%s = %d runs", keys.s, nv, ns,
                 plural(ns), runs);
    else
        snprintf(s->kind, sizeof s->kind, "A comparison of %d variant%s x %d seed%s = %d runs", nv, plural(nv), ns,
                 plural(ns), runs);
    if (s->nv < nv || s->ns < ns) {
        size_t n = strlen(s->kind);
        snprintf(s->kind + n, sizeof s->kind - n, " (the figures show the first %d variants and %d seeds)", s->nv, s->ns);
    }
    free(keys.s), free(bases.s);
}

// What the figures need from a run's config.json. 0 read, 1 no config.json (yet).
static int read_config(const char *run, view_variant_t *v, long *seed) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, run, RUNDIR_CONFIG);
    if (!path_exists(path) || read_whole_file(path, 1 << 24, &text, &len) != 0) return 1;
    cJSON *root = jp_parse_all(text, len, NULL);
    free(text);
    if (!root) return 1;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "model"), "layers");
    view_variant_read(v, root);
    v->fig1 = 1, v->n_nonlin = 0;
    // Fig. 1's network: linear maps, sigmoid-like saturating nonlinearities and plain BN, nothing else.
    int plain_bn = v->cls == VC_NONE || v->cls == VC_BN;
    for (const cJSON *l = cJSON_IsArray(layers) ? layers->child : NULL; l; l = l->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        int k = cJSON_IsString(type) ? layer_kind_find(type->valuestring) : -1;
        const layer_kind_info_t *info = k >= 0 ? layer_kind((layer_kind_t)k) : NULL;
        if (!info || !(info->linear || (info->nonlinearity && info->saturates) || (info->normalizes && plain_bn))) v->fig1 = 0;
        if (info && info->nonlinearity && v->n_nonlin < VIEW_MAX_NONLIN)
            snprintf(v->nonlin[v->n_nonlin++], sizeof v->nonlin[0], "%s", type->valuestring);
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "train"), "batch_size");
    if (cJSON_IsNumber(b) && b->valuedouble >= 1) v->batch = b->valuedouble;
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (seed && cJSON_IsNumber(sd)) *seed = (long)sd->valuedouble;
    cJSON_Delete(root);
    return 0;
}

int view_run_variant(const char *run, view_variant_t *v) {
    memset(v, 0, sizeof *v);
    v->cls = VC_UNKNOWN;
    int rc = read_config(run, v, NULL);
    v->color = view_class_info(v->cls)->color;
    return rc;
}

static int cmp_variant(const void *a, const void *b) {
    const view_variant_t *x = a, *y = b;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return (x->spec_index > y->spec_index) - (x->spec_index < y->spec_index);
}

static int load_compare(view_source_t *s, const char *path) {
    cJSON *root = view_compare_json_read(path);
    if (!root) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    s->n_spec = cJSON_GetArraySize(vars), s->n_spec_seeds = cJSON_GetArraySize(sd);
    for (const cJSON *e = sd->child; e && s->ns < VIEW_MAX_SEEDS; e = e->next) s->seeds[s->ns++] = (long)e->valuedouble;
    for (const cJSON *e = vars->child; e && s->nv < VIEW_MAX_VARIANTS; e = e->next) {
        view_variant_t *v = &s->v[s->nv];
        *v = (view_variant_t){.spec_index = s->nv, .cls = VC_UNKNOWN, .batch = 1};
        view_copy_utf8(v->name, sizeof v->name, cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring);
        s->nv++;
        for (int k = 0; k < s->ns; k++) {  // the first seed with a config.json
            char run[BNLAB_PATH_MAX];
            view_run_dir(s, s->nv - 1, k, run, sizeof run);
            if (read_config(run, v, NULL) == 0) break;
        }
    }
    describe(s, vars);
    cJSON_Delete(root);
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int view_gradinit_files(const char *dir, char **out, int max) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    const size_t pl = strlen(GRADINIT_FILE_PREFIX), sl = strlen(GRADINIT_FILE_SUFFIX);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len <= pl + sl || strncmp(e->d_name, GRADINIT_FILE_PREFIX, pl) || strcmp(e->d_name + len - sl, GRADINIT_FILE_SUFFIX))
            continue;
        if (n < max) {
            char path[BNLAB_PATH_MAX];
            path_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
            out[n] = xmalloc(strlen(path) + 1, "gradinit file");
            memcpy(out[n], path, strlen(path) + 1);
        }
        n++;
    }
    closedir(d);
    qsort(out, (size_t)(n < max ? n : max), sizeof *out, cmp_name);
    return n;
}

static int load_run(view_source_t *s) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, s->dir, RUNDIR_METRICS_CSV);
    if (!path_exists(path)) {
        char *files[1];
        int n = view_gradinit_files(s->dir, files, 1);
        if (n > 0) {  // bnlab gradinit's files alone: no variant, no seed
            free(files[0]);
            s->is_gradinit = 1;
            snprintf(s->kind, sizeof s->kind, "Gradients at initialization, measured by bnlab gradinit: %d file%s", n,
                     n == 1 ? "" : "s");
            return 0;
        }
        return bnlab_fail("%s: neither a run directory (metrics.csv) nor a comparison (compare.json) nor bnlab "
                          "gradinit's files (gradinit-NAME.csv)", s->dir);
    }
    view_variant_t *v = &s->v[0];
    *v = (view_variant_t){.cls = VC_UNKNOWN, .batch = 1};
    char base[BNLAB_PATH_MAX];
    path_basename(base, sizeof base, s->dir);
    view_copy_utf8(v->name, sizeof v->name, base);
    s->seeds[0] = 1;
    read_config(s->dir, v, &s->seeds[0]);
    s->nv = s->n_spec = 1, s->ns = s->n_spec_seeds = 1;
    snprintf(s->kind, sizeof s->kind, "One run");
    return 0;
}

// --label NAME=TEXT: the legend text of variant NAME.
static int apply_labels(view_source_t *s, const view_source_opts_t *o) {
    for (int k = 0; o && k < o->n_labels; k++) {
        const char *eq = strchr(o->labels[k], '=');
        if (!eq || eq == o->labels[k])
            return bnlab_fail("--label %s: expected VARIANT=TEXT", o->labels[k]);
        int found = 0;
        for (int i = 0; i < s->nv; i++)
            if (strlen(s->v[i].name) == (size_t)(eq - o->labels[k]) && !strncmp(s->v[i].name, o->labels[k], (size_t)(eq - o->labels[k]))) {
                view_copy_utf8(s->v[i].label, sizeof s->v[i].label, eq + 1);
                found = 1;
            }
        if (!found) {
            strbuf_t names = {0};
            for (int i = 0; i < s->nv; i++) strbuf_printf(&names, "%s%s", i ? ", " : "", s->v[i].name);
            bnlab_fail("--label %.*s: no such variant (the variants: %s)", (int)(eq - o->labels[k]), o->labels[k],
                       names.s ? names.s : "");
            free(names.s);
            return -1;
        }
    }
    return 0;
}

int view_source_load(view_source_t *s, const char *dir, const view_source_opts_t *o) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    s->is_compare = path_exists(path);
    int rc = s->is_compare ? load_compare(s, path) : load_run(s);
    if (rc == 0 && s->nv == 0 && !s->is_gradinit) rc = bnlab_fail("%s: no variants", path);
    if (rc != 0) return -1;
    qsort(s->v, (size_t)s->nv, sizeof s->v[0], cmp_variant);
    int count[VC_COUNT] = {0};
    for (int i = 0; i < s->nv; i++) {
        view_variant_t *v = &s->v[i];
        v->color = view_class_info(v->cls)->color;
        v->style = count[v->cls]++;
    }
    view_name_variants(s->v, s->nv, s->is_compare);
    return apply_labels(s, o);
}
