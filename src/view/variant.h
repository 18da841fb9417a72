// variant.h — what a variant IS, decided once from its model's layers, and the one palette that follows from it.
//
// A variant's colour says what normalization its network has, whatever the spec's order or the figure: black is
// always "no normalization", blue always plain batch normalization, and so on (view_class_info). Every figure of
// bnlab plot (gnuplot) and of bnlab report (SVG) takes a variant's colour, its line style and its place from here.
// Two variants of the same class (a learning rate, a batch size, another seed of the same network) share the colour
// and differ by line style and marker (view_variant_t.style: 0 solid, 1 dashed, ...). Percentiles and layers never
// take a variant colour of their own: a panel's layers or percentiles are shades of its variant's colour
// (view_shade), darkest first.
//
// The order: by class (no normalization first, as in Ioffe & Szegedy's Fig. 1(b) before (c), then BN, its variants,
// noisy BN, LayerNorm, RMSNorm, anything else), the spec's order within a class.
#ifndef BNLAB_VIEW_VARIANT_H
#define BNLAB_VIEW_VARIANT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum {
    VC_NONE,        // no normalization layer
    VC_BN,          // batchnorm, the standard variant
    VC_BN_RENORM,   // Batch Renormalization (Ioffe 2017)
    VC_BN_GHOST,    // ghost batch normalization
    VC_BN_CONSTANT, // batchnorm with its statistics held constant in backprop
    VC_BN_NOISY,    // batchnorm with a noise (or dropout) layer
    VC_LAYERNORM,   // layer normalization
    VC_RMSNORM,     // RMS normalization
    VC_OTHER,       // normalization layers of more than one kind
    VC_UNKNOWN,     // no config.json yet (a run not started)
    VC_COUNT
} view_class_t;

typedef struct {
    const char *key;    // a short name for tests and the README ("none", "bn", "bn-renorm", ...)
    const char *what;   // in words, for a legend note
    const char *color;  // "#RRGGBB"
    const char *word;   // a legend's default text for a comparison's only variant of this class ("BN", "LayerNorm");
                        // NULL: the variant's name (view/source.h)
} view_class_info_t;

const view_class_info_t *view_class_info(view_class_t c);
// The class of a network from its config's "model.layers" array (a config.json as a run writes it). Layers whose
// type the registry does not know are ignored (the run's config was checked when it started).
view_class_t view_classify(const cJSON *layers);
// 1 if class c normalizes by the statistics of the batch (BN and its variants): the figures that only mean
// something for such a network (the train/eval gap, γ and β of BN layers) ask this instead of a kind's name.
int view_class_batch_stats(view_class_t c);

#define VIEW_STYLES 5
// Line style k (cycling): a dash pattern as gnuplot's "dt" argument and as SVG's stroke-dasharray ("" for solid;
// 5 patterns), and a gnuplot point type (10 markers): styles 0..9 differ in their pair.
const char *view_dash_gnuplot(int style);
const char *view_dash_svg(int style);
int view_point_gnuplot(int style);

// Shade k of n (k = 0 darkest: the colour itself; the last about 60 % of the way to white) of "#RRGGBB" into out
// (8 bytes): layers and percentiles inside one variant's panel.
void view_shade(char out[8], const char *color, int k, int n);

#endif
