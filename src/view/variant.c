#include "view/variant.h"

#include <stdio.h>
#include <string.h>

#include "base/keys.h"
#include "nn/registry.h"

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
