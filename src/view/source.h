// source.h — the one reader of what a figure is drawn from: a run directory or a comparison directory (its
// compare.json, and each variant's run directories OUT/VARIANT/seed-K), for bnlab plot and bnlab report alike.
// It gives the variants in the one order of view/variant.h, each with its class, colour and line style, what the
// figures need from its config.json (batch size, nonlinearities), and the seeds.
//
// compare.json is read strictly: "variants" an array of objects with a "name" that is a directory name, "seeds" a
// non-empty array of whole numbers >= 0; anything else is one message naming the file and the JSON path. A run
// directory is one variant named after the directory, with its own seed. A variant whose runs have no config.json
// yet (a comparison still starting) is of class VC_UNKNOWN.
#ifndef BNLAB_VIEW_SOURCE_H
#define BNLAB_VIEW_SOURCE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "base/util.h"
#include "view/variant.h"

#define VIEW_MAX_VARIANTS 16
#define VIEW_MAX_SEEDS 64
// view_variant_t, VIEW_NAME_MAX and VIEW_MAX_NONLIN: view/variant.h (what a variant is and how it is named).

typedef struct {
    char dir[BNLAB_PATH_MAX];
    int is_compare;
    view_variant_t v[VIEW_MAX_VARIANTS];  // in the one order
    int nv, n_spec;                       // variants drawn; variants in compare.json
    long seeds[VIEW_MAX_SEEDS];           // a comparison's seeds in its order (a run: its own, from config.json)
    int ns, n_spec_seeds;                 // seeds used; seeds in compare.json
    char kind[1024];                      // "One run", "A comparison of 3 variants x 2 seeds = 6 runs", "A sweep ..."
    int is_gradinit;                      // neither: a directory of bnlab gradinit's files alone (no variant, no
                                          // seed; only the gradinit figure draws from it)
} view_source_t;

typedef struct {
    const char *const *labels;  // "NAME=TEXT" each (--label), n_labels of them; a NAME no variant has is an error
    int n_labels;
} view_source_opts_t;

// Reads dir (a comparison if it has compare.json, else a run with metrics.csv, else a directory holding one or more of
// bnlab gradinit's gradinit-NAME.csv: is_gradinit, nv = ns = 0). 0, or -1 + message (none of them, a
// malformed compare.json, a --label naming no variant). More than VIEW_MAX_VARIANTS variants or VIEW_MAX_SEEDS seeds:
// the first ones, said in kind.
int view_source_load(view_source_t *s, const char *dir, const view_source_opts_t *o);
// The variant a run directory holds, from its config.json alone (class, colour, line style 0): for figures over
// more runs than a view_source_t keeps (a sweep's bases). 0, or 1 with class VC_UNKNOWN when it has no config.json.
int view_run_variant(const char *run, view_variant_t *v);
// out: s with seed k alone (its seeds and kind say so): what a figure drawn from one seed is given.
void view_source_one_seed(view_source_t *out, const view_source_t *s, int k);
// Seed k's run directory of variant i (a run directory: the run itself).
void view_run_dir(const view_source_t *s, int i, int k, char *out, size_t cap);
// The step at which run diverged (its summary.json's "steps" when its status says diverged), or -1.
long view_diverged_at(const char *run);
// compare.json read strictly (as above): its root, or NULL + message. The caller frees it.
cJSON *view_compare_json_read(const char *path);
// The files gradinit-NAME.csv in dir (bnlab gradinit --out, run/gradinit.h) as malloc'd paths in out[], in the byte
// order of their names; returns how many there are, 0 if none or dir cannot be read. More than max: max of them kept
// in out[] — the first the directory listed, not the first by name (the gradinit figure refuses more than it draws).
int view_gradinit_files(const char *dir, char **out, int max);
// Copies src into out (cap bytes), cut at a character boundary if it does not fit: never half a UTF-8 character.
void view_copy_utf8(char *out, size_t cap, const char *src);

#endif
