#include "view/variant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/keys.h"
#include "base/util.h"
#include "nn/registry.h"
#include "view/source.h"

// Okabe & Ito's colour-blind-safe colours (and one of Tol's, wine, for an eighth), one per class. None of them is
// yellow: it fades on a projector.
static const view_class_info_t CLASSES[VC_COUNT] = {
    [VC_NONE] = {"none", "no normalization", "#000000", "no normalization"},
    [VC_BN] = {"bn", "batch normalization", "#0072B2", "BN"},
    [VC_BN_RENORM] = {"bn-renorm", "Batch Renormalization", "#CC79A7", "Batch Renorm"},
    [VC_BN_GHOST] = {"bn-ghost", "ghost batch normalization", "#009E73", "ghost BN"},
    [VC_BN_CONSTANT] = {"bn-constant", "BN, statistics constant in backprop", "#E69F00", "BN, constant statistics"},
    [VC_BN_NOISY] = {"bn-noisy", "BN with noise or dropout", "#56B4E9", "noisy BN"},
    [VC_LAYERNORM] = {"layernorm", "layer normalization", "#D55E00", "LayerNorm"},
    [VC_RMSNORM] = {"rmsnorm", "RMS normalization", "#882255", "RMSNorm"},
    [VC_OTHER] = {"mixed", "more than one kind of normalization", "#777777"},
    [VC_UNKNOWN] = {"unknown", "not started (no config.json yet)", "#AAAAAA"},
};

const view_class_info_t *view_class_info(view_class_t c) { return &CLASSES[c >= 0 && c < VC_COUNT ? c : VC_OTHER]; }

int view_class_batch_stats(view_class_t c) { return c >= VC_BN && c <= VC_BN_NOISY; }

// The index of the layer's KEY_ENUM value of key "variant" among the kind's words (0: the default, or no such key).
static int variant_index(const layer_kind_info_t *info, const cJSON *layer) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(layer, "variant");
    if (!cJSON_IsString(v)) return 0;
    for (const key_desc_t *k = info->keys; k && k->name; k++)
        if (k->type == KEY_ENUM && !strcmp(k->name, "variant"))
            for (int w = 0; k->words && k->words[w]; w++)
                if (!strcmp(k->words[w], v->valuestring)) return w;
    return 0;
}

// The class, from the registry's facts about each layer (nn/registry.h), never a kind's name: a kind that normalizes
// by batch statistics is BN, its "variant" word choosing among BN's classes in the order of its words (standard,
// renorm, ghost, constant_stats); one with a layer that has no parameters and is neither a nonlinearity nor a
// normalization (noise, dropout) after it is noisy BN; the other normalizing kinds take the next classes in the
// registry's order (layernorm, rmsnorm); kinds of two normalization classes make VC_OTHER.
view_class_t view_classify(const cJSON *layers) {
    view_class_t c = VC_NONE;
    int extra = 0;
    for (const cJSON *l = cJSON_IsArray(layers) ? layers->child : NULL; l; l = l->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        int k = cJSON_IsString(type) ? layer_kind_find(type->valuestring) : -1;
        if (k < 0) continue;
        const layer_kind_info_t *info = layer_kind((layer_kind_t)k);
        if (!info->normalizes) {
            extra |= !info->params && !info->nonlinearity && !info->linear;
            continue;
        }
        view_class_t this = VC_OTHER;
        if (info->uses_batch_statistics) {
            int vi = variant_index(info, l);
            this = vi <= VC_BN_CONSTANT - VC_BN ? (view_class_t)(VC_BN + vi) : VC_OTHER;
        } else {  // the rank of this kind among the normalizing kinds without batch statistics
            int rank = 0;
            for (int j = 0; j < k; j++) rank += layer_kind((layer_kind_t)j)->normalizes && !layer_kind((layer_kind_t)j)->uses_batch_statistics;
            this = rank <= VC_RMSNORM - VC_LAYERNORM ? (view_class_t)(VC_LAYERNORM + rank) : VC_OTHER;
        }
        c = c == VC_NONE || c == this ? this : VC_OTHER;
    }
    return c == VC_BN && extra ? VC_BN_NOISY : c;
}

static const char *const DASH_GP[VIEW_STYLES] = {"1", "2", "3", "4", "5"};
static const char *const DASH_SVG[VIEW_STYLES] = {"", "9 5", "2 4", "9 4 2 4", "14 6"};
// Ten markers, filled then open, so that styles 0..9 differ by their marker too (the dash repeats after 5): the
// ablation ladder has 8 BN variants of one colour.
#define VIEW_POINTS 10
static const int POINT_GP[VIEW_POINTS] = {7, 5, 9, 13, 11, 6, 4, 8, 12, 10};

const char *view_dash_gnuplot(int style) { return DASH_GP[(style % VIEW_STYLES + VIEW_STYLES) % VIEW_STYLES]; }
const char *view_dash_svg(int style) { return DASH_SVG[(style % VIEW_STYLES + VIEW_STYLES) % VIEW_STYLES]; }
int view_point_gnuplot(int style) { return POINT_GP[(style % VIEW_POINTS + VIEW_POINTS) % VIEW_POINTS]; }

void view_shade(char out[8], const char *color, int k, int n) {
    unsigned rgb = 0;
    if (sscanf(color + (color[0] == '#'), "%6x", &rgb) != 1) rgb = 0x777777;
    double t = n > 1 ? 0.6 * k / (n - 1) : 0;
    int ch[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255};
    for (int i = 0; i < 3; i++) ch[i] = (int)(ch[i] + t * (255 - ch[i]) + 0.5);
    snprintf(out, 8, "#%02X%02X%02X", ch[0], ch[1], ch[2]);
}

// ---- a variant's name in words

// A BN layer's option (nn/registry.c's batchnorm keys) in the words of docs/anatomy.md's ablation ladder.
static void bn_options(strbuf_t *b, const cJSON *bn) {
    const char *sep = ": ";
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(bn, "normalize");
    if (cJSON_IsString(o) && !strcmp(o->valuestring, "mean")) strbuf_printf(b, "%scentring only", sep), sep = ", ";
    if (cJSON_IsString(o) && !strcmp(o->valuestring, "variance")) strbuf_printf(b, "%sscaling only", sep), sep = ", ";
    o = cJSON_GetObjectItemCaseSensitive(bn, "affine");
    if (cJSON_IsString(o) && !strcmp(o->valuestring, "none")) strbuf_printf(b, "%sno γ, β", sep), sep = ", ";
    if (cJSON_IsString(o) && !strcmp(o->valuestring, "frozen")) strbuf_printf(b, "%sγ, β fixed", sep), sep = ", ";
    o = cJSON_GetObjectItemCaseSensitive(bn, "statistics");
    if (cJSON_IsString(o) && !strcmp(o->valuestring, "population")) strbuf_printf(b, "%spopulation statistics", sep), sep = ", ";
    o = cJSON_GetObjectItemCaseSensitive(bn, "freeze_stats_after");
    if (cJSON_IsNumber(o) && o->valuedouble > 0) strbuf_printf(b, "%sstatistics fixed after step %.0f", sep, o->valuedouble);
}

// The training settings a legend may name: where each is in config.json, and the words before and after its value.
// The last, the number of hidden layers, is counted from the layers (its path: none; its text "1 hidden layer",
// "3 hidden layers").
static const struct {
    const char *path[3];
    const char *before, *after;
} SETTINGS[VIEW_SETTINGS] = {
    {{"train", "optimizer", "lr"}, "η = ", ""},
    {{"train", "batch_size"}, "batch size ", ""},
    {{"train", "optimizer", "momentum"}, "momentum ", ""},
    {{"train", "optimizer", "weight_decay"}, "weight decay ", ""},
    {{"train", "optimizer", "type"}, "", ""},
    {{"model", "init", "type"}, "", " initialization"},
    {{"train", "steps"}, "", " steps"},  // e.g. a run cut short to probe its first steps (configs/claims/curvature.json)
    {{NULL}, "", ""},
};

void view_variant_read(view_variant_t *v, const cJSON *config) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(config, "model");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(model, "layers");
    v->cls = view_classify(layers);
    // What its batch-statistics layers do differently from plain BN in every hidden layer: where they are (a BN before
    // the k-th nonlinearity is in hidden layer k) and the first one's options.
    int hidden = 0, n_bn = 0, at[16], lsuv = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "lsuv"));
    const cJSON *bn = NULL, *l;
    for (l = cJSON_IsArray(layers) ? layers->child : NULL; l; l = l->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        int k = cJSON_IsString(type) ? layer_kind_find(type->valuestring) : -1;
        if (k < 0) continue;
        const layer_kind_info_t *info = layer_kind((layer_kind_t)k);
        if (info->nonlinearity) hidden++;
        else if (info->uses_batch_statistics) {
            if (n_bn < 16) at[n_bn] = hidden + 1;
            n_bn++;
            if (!bn) bn = l;
        }
    }
    strbuf_t b = {0};
    if (bn && n_bn < hidden && n_bn <= 16) {
        strbuf_printf(&b, " in hidden layer%s", n_bn > 1 ? "s" : "");
        for (int i = 0; i < n_bn; i++) strbuf_printf(&b, "%s %d", i ? "," : "", at[i]);
        strbuf_printf(&b, " only");
    }
    if (bn) bn_options(&b, bn);
    // LSUV after the options (": " when it is the first of them), or after the class's words.
    if (lsuv) strbuf_printf(&b, "%sLSUV init", !bn || (b.s && strchr(b.s, ':')) ? ", " : ": ");
    view_copy_utf8(v->network, sizeof v->network, b.s ? b.s : "");
    free(b.s);
    for (int s = 0; s < VIEW_SETTINGS; s++) {
        char *out = v->setting[s];
        out[0] = '\0';
        if (!SETTINGS[s].path[0]) {
            if (hidden) snprintf(out, sizeof v->setting[0], "%d hidden layer%s", hidden, hidden == 1 ? "" : "s");
            continue;
        }
        const cJSON *o = config;
        for (int d = 0; d < 3 && SETTINGS[s].path[d]; d++) o = cJSON_GetObjectItemCaseSensitive(o, SETTINGS[s].path[d]);
        if (cJSON_IsNumber(o)) snprintf(out, sizeof v->setting[0], "%.6g", o->valuedouble);
        else if (cJSON_IsString(o)) snprintf(out, sizeof v->setting[0], "%.31s", o->valuestring);
    }
}

// The class's words for variant v: NULL when it has none.
static const char *class_words(const view_variant_t *v, int beside_bn) {
    if (v->cls == VC_NONE) return beside_bn ? "no BN" : view_class_info(VC_NONE)->word;
    return view_class_info(v->cls)->word;
}

static int same_network(const view_variant_t *a, const view_variant_t *b) {
    return a->cls == b->cls && !strcmp(a->network, b->network);
}

void view_name_variants(view_variant_t *v, int n, int is_compare) {
    int bn = 0;
    for (int i = 0; i < n; i++) bn |= view_class_batch_stats(v[i].cls);
    // The settings two variants of one network differ in.
    int varies[VIEW_SETTINGS] = {0};
    for (int s = 0; s < VIEW_SETTINGS; s++)
        for (int i = 0; i < n && !varies[s]; i++)
            for (int j = i + 1; j < n && !varies[s]; j++)
                varies[s] = same_network(&v[i], &v[j]) && strcmp(v[i].setting[s], v[j].setting[s]);
    for (int i = 0; i < n; i++) {
        const char *word = class_words(&v[i], bn);
        if (!is_compare || !word) {
            snprintf(v[i].label, sizeof v[i].label, "%s", v[i].name);
            continue;
        }
        strbuf_t b = {0};
        strbuf_printf(&b, "%s%s", word, v[i].network);
        for (int s = 0; s < VIEW_SETTINGS; s++)
            if (varies[s] && v[i].setting[s][0]) strbuf_printf(&b, ", %s%s%s", SETTINGS[s].before, v[i].setting[s], SETTINGS[s].after);
        view_copy_utf8(v[i].label, sizeof v[i].label, b.s);
        free(b.s);
    }
    // Words two variants share do not tell them apart: those keep their names.
    char *same = n > 0 ? xcalloc((size_t)n, 1, "variant names") : NULL;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!strcmp(v[i].label, v[j].label)) same[i] = same[j] = 1;
    for (int i = 0; i < n; i++)
        if (same[i]) snprintf(v[i].label, sizeof v[i].label, "%s", v[i].name);
    free(same);
}
