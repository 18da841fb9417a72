// variant.h — what a variant IS, decided once from its model's layers, the one palette that follows from it, and the
// one place a variant is named in words (view_name_variants: every legend, the ladder's rows, a sweep's bases).
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

// ---- a variant, and its name in words

#define VIEW_MAX_NONLIN 65  // a 64-block net's 64 hidden layers and one more (the backward figures read 65 layers)
// A variant's name is a directory name (at most 255 bytes); a run directory's name may be any UTF-8: the buffers
// hold it whole, never a character cut in two.
#define VIEW_NAME_MAX 256
// The training settings a legend names when variants of one network differ in them (view_name_variants).
#define VIEW_SETTINGS 8

typedef struct {
    char name[VIEW_NAME_MAX];   // the variant (its directory under the comparison), or the run directory's name
    char label[VIEW_NAME_MAX];  // its legend text (view_name_variants; --label NAME=TEXT replaces it)
    int spec_index;             // its place in compare.json
    view_class_t cls;
    const char *color;          // view_class_info(cls)->color
    int style;                  // 0.. among the variants of its class, in order (view_dash_*)
    double batch;               // train.batch_size of its first run with a config.json (1 if none)
    int fig1;                   // only dense, batchnorm and sigmoid layers: a network of the paper's Fig. 1
    char nonlin[VIEW_MAX_NONLIN][32];  // the k-th nonlinearity's type (hidden layer k + 1)
    int n_nonlin;
    // From its config.json (view_variant_read): what its batch-statistics layers do differently from plain BN in
    // every hidden layer, as words that follow the class's (": centring only", " in hidden layer 3 only",
    // ", LSUV init"; "" for the plain network), and its training settings as text ("" when the config has none):
    // VIEW_SETTINGS of them, in view_name_variants' order (learning rate, batch size, momentum, ...).
    char network[VIEW_NAME_MAX];
    char setting[VIEW_SETTINGS][32];
} view_variant_t;

// Sets v's cls, network and setting from a run's config.json (its root, as the run wrote it: every setting
// resolved). The other fields are the caller's.
void view_variant_read(view_variant_t *v, const cJSON *config);
// The legend text of a comparison's variants v[0..n) (is_compare 0: one run, named by its directory), in the words
// of the papers and derived from the configs alone, never a variant's name unless nothing else tells it apart:
//   - the class's word ("BN", "LayerNorm", "Batch Renorm"; "no BN" beside batch-normalized variants, else "no
//     normalization") and what its BN layers do differently (network above): "BN: centring only", "no BN, LSUV init";
//   - then each training setting in which two variants of the same network (class and network words) differ, for
//     every variant that has it: "BN, η = 16", "no BN, η = 0.5", "BN, batch size 2" (learning rate η, batch size,
//     momentum, weight decay, optimizer, initialization, hidden layers); settings in which only variants of
//     different networks differ are not named (BN and no BN at their own learning rates stay "BN", "no BN");
//   - a variant whose class has no word (VC_OTHER, VC_UNKNOWN), or whose words another variant has too (two networks
//     that differ in what no word here says, e.g. where a dropout layer is), keeps its name.
void view_name_variants(view_variant_t *v, int n, int is_compare);

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
