// compare.h — bnlab compare: named variants of one experiment, several seeds each, run in parallel as
// separate `bnlab train` processes (one BLAS thread each), then summarized (summary.h).
//
// A comparison spec is a JSON file:
//   {"name": "fig1", "base": "mnist-bn.json",
//    "variants": [{"name": "bn"}, {"name": "nobn", "config": "mnist-nobn.json"},
//                 {"name": "bn-lr2", "set": {"train.optimizer.lr": 2.0}}],
//    "seeds": 3, "targets": [0.8, 0.9, 0.95], "jobs": 0, "set": {"train.steps": 5000}}
// A variant is a train config (its own "config", else "base") plus overrides ("set", after the spec's common
// "set"). Alternatively `bnlab compare A.json B.json` compares plain train configs, each named by its "name".
#ifndef BN_COMPARE_H
#define BN_COMPARE_H

#include "config.h"
#include "summary.h"

#define CMP_MAX_VARIANTS 32
#define CMP_MAX_SEEDS 100
#define CMP_MAX_SETS 64

typedef struct {
    char name[128];
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
} compare_spec_t;

// From one spec file, or from n >= 2 train configs. Overrides in cli_sets apply to every variant. Every
// variant's config is validated (config_load) for every seed; -1 + message on the first problem.
int compare_spec_load(compare_spec_t *s, const char *const *paths, int n_paths, const char *const *cli_sets,
                      int n_cli_sets, int seeds_override, int jobs_override);
void compare_spec_free(compare_spec_t *s);
cJSON *compare_spec_to_json(const compare_spec_t *s);

// Runs every (variant, seed) as `exe train ...` into out_dir/VARIANT/seed-K/, at most s->jobs at once,
// then writes summary.json, summary.md and curves.csv to out_dir and prints the Markdown table.
// Returns 0 if every run completed, 1 if some failed (the summary covers the others), -1 on a setup error.
int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, int force);

#endif
