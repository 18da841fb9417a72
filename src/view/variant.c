#include "view/variant.h"

#include <stdio.h>
#include <string.h>

#include "nn/registry.h"

// Okabe & Ito's colour-blind-safe colours (and one of Tol's, wine, for an eighth), one per class. None of them is
// yellow: it fades on a projector.
static const view_class_info_t CLASSES[VC_COUNT] = {
    [VC_NONE] = {"none", "no normalization", "#000000"},
    [VC_BN] = {"bn", "batch normalization", "#0072B2"},
    [VC_BN_RENORM] = {"bn-renorm", "Batch Renormalization", "#CC79A7"},
    [VC_BN_GHOST] = {"bn-ghost", "ghost batch normalization", "#009E73"},
    [VC_BN_CONSTANT] = {"bn-constant", "BN, statistics constant in backprop", "#E69F00"},
    [VC_BN_NOISY] = {"bn-noisy", "BN followed by noise", "#56B4E9"},
    [VC_LAYERNORM] = {"layernorm", "layer normalization", "#D55E00"},
    [VC_RMSNORM] = {"rmsnorm", "RMS normalization", "#882255"},
    [VC_OTHER] = {"mixed", "more than one kind of normalization", "#777777"},
    [VC_UNKNOWN] = {"unknown", "not started (no config.json yet)", "#AAAAAA"},
};

const view_class_info_t *view_class_info(view_class_t c) { return &CLASSES[c >= 0 && c < VC_COUNT ? c : VC_OTHER]; }

int view_class_batch_stats(view_class_t c) { return c >= VC_BN && c <= VC_BN_NOISY; }

// Whether layer kind k normalizes, and whether by the batch's statistics.
// TODO(registry flags): layer_kind(k)->normalizes and ->uses_batch_statistics once src/nn/registry.h has them.
static int kind_normalizes(int k) { return k == LAYER_BATCHNORM || k == LAYER_LAYERNORM || k == LAYER_RMSNORM; }
static int kind_batch_stats(int k) { return k == LAYER_BATCHNORM; }

view_class_t view_classify(const cJSON *layers) {
    view_class_t c = VC_NONE;
    int noise = 0;
    for (const cJSON *l = cJSON_IsArray(layers) ? layers->child : NULL; l; l = l->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        int k = cJSON_IsString(type) ? layer_kind_find(type->valuestring) : -1;
        if (k == LAYER_NOISE) noise = 1;
        if (k < 0 || !kind_normalizes(k)) continue;
        view_class_t this = k == LAYER_LAYERNORM ? VC_LAYERNORM : k == LAYER_RMSNORM ? VC_RMSNORM : VC_BN;
        if (kind_batch_stats(k)) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, "variant");
            const char *name = cJSON_IsString(v) ? v->valuestring : "standard";
            this = !strcmp(name, "renorm") ? VC_BN_RENORM : !strcmp(name, "ghost") ? VC_BN_GHOST
                 : !strcmp(name, "constant_stats") ? VC_BN_CONSTANT : VC_BN;
        }
        c = c == VC_NONE || c == this ? this : VC_OTHER;
    }
    return c == VC_BN && noise ? VC_BN_NOISY : c;
}

static const char *const DASH_GP[VIEW_STYLES] = {"1", "2", "3", "4", "5"};
static const char *const DASH_SVG[VIEW_STYLES] = {"", "9 5", "2 4", "9 4 2 4", "14 6"};
static const int POINT_GP[VIEW_STYLES] = {7, 5, 9, 13, 11};

const char *view_dash_gnuplot(int style) { return DASH_GP[(style % VIEW_STYLES + VIEW_STYLES) % VIEW_STYLES]; }
const char *view_dash_svg(int style) { return DASH_SVG[(style % VIEW_STYLES + VIEW_STYLES) % VIEW_STYLES]; }
int view_point_gnuplot(int style) { return POINT_GP[(style % VIEW_STYLES + VIEW_STYLES) % VIEW_STYLES]; }

void view_shade(char out[8], const char *color, int k, int n) {
    unsigned rgb = 0;
    if (sscanf(color + (color[0] == '#'), "%6x", &rgb) != 1) rgb = 0x777777;
    double t = n > 1 ? 0.6 * k / (n - 1) : 0;
    int ch[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255};
    for (int i = 0; i < 3; i++) ch[i] = (int)(ch[i] + t * (255 - ch[i]) + 0.5);
    snprintf(out, 8, "#%02X%02X%02X", ch[0], ch[1], ch[2]);
}
