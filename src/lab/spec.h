// spec.h — what a comparison or sweep runs: its spec file parsed, validated and expanded over its grid.
//
// A comparison spec is a JSON file:
//   {"name": "fig1", "base": "mnist-bn.json",
//    "variants": [{"name": "bn"}, {"name": "nobn", "config": "mnist-nobn.json"},
//                 {"name": "bn-lr2", "set": {"train.optimizer.lr": 2.0}}],
//    "seeds": 3, "targets": [0.8, 0.9, 0.95], "jobs": 0, "set": {"train.steps": 5000}}
// A variant is a train config (its own "config", else "base") plus overrides ("set", after the spec's common
// "set"). Alternatively `bnlab compare A.json B.json` compares plain train configs, each named by its "name".
// A "grid" {"train.optimizer.lr": [0.1, 0.5, 2], ...} (up to 4 paths) expands every variant into one per grid
// point, named VARIANT-lr0.5 (the path's last part and the value): that is what `bnlab sweep` runs.
// A spec may also say what it tests and what it expects, chosen before it runs (expect.h): "claim" (text: the
// paper and section) and "expect" (a list of expectations over the variants' results, names after the grid's
// expansion), which the comparison checks and reports after its runs.
#ifndef BNLAB_SPEC_H
#define BNLAB_SPEC_H

#include "run/config.h"
#include "lab/expect.h"
#include "lab/summary.h"

#define CMP_MAX_VARIANTS 256
#define CMP_MAX_AXES 4
#define CMP_MAX_AXIS_VALUES 32
#define CMP_MAX_SEEDS 100
#define CMP_MAX_SETS 64

typedef struct {
    char name[128];
    char base[128];       // the declared variant this one was expanded from (= name without a grid)
    char grid[512];       // its grid point as a JSON object {"train.optimizer.lr": 0.5}, "" without a grid
    char config[CFG_STR];
    char *sets[CMP_MAX_SETS];  // "path=json", owned
    int n_sets;
} variant_spec_t;

typedef struct {
    char name[128];
    variant_spec_t variants[CMP_MAX_VARIANTS];
    int n_variants;
    long seeds[CMP_MAX_SEEDS];
    int n_seeds;
    double targets[SUMMARY_MAX_TARGETS];
    int n_targets;
    int jobs;  // 0: one per core
    expect_list_t expect;  // the spec's "claim" and "expect" (none for plain configs)
} compare_spec_t;

// What the command line changes in a spec: overrides for every variant, and (when > 0) seeds 1..seeds and jobs.
typedef struct {
    const char *const *sets;
    int n_sets;
    int seeds, jobs;
} spec_overrides_t;

// From one spec file, or from n >= 2 train configs. Every variant's config is validated (config_load) with its
// overrides; -1 + message on the first problem.
int compare_spec_load(compare_spec_t *s, const char *const *paths, int n_paths, const spec_overrides_t *cli);
void compare_spec_free(compare_spec_t *s);
cJSON *compare_spec_to_json(const compare_spec_t *s);
// 1 if the JSON file at path is a compare/sweep spec (it has "variants"), 0 if not or unreadable (the config parser
// then says why).
int spec_file_is_spec(const char *path);
// The files a comparison of s reads — the n spec or config files named on the command line and every variant's
// config — into a new array (*in, freed by the caller); returns their count.
int compare_spec_inputs(const compare_spec_t *s, const char *const *files, int n, const char ***in);
// Reads a comparison's compare.json (what compare_spec_to_json wrote) strictly: a JSON object with a "variants"
// array and a non-empty "seeds" array. The tree (the caller deletes it), or NULL + message naming the file.
cJSON *compare_json_read(const char *path);

#endif
