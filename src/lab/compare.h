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
// A "grid" {"train.optimizer.lr": [0.1, 0.5, 2], ...} (up to 4 paths) expands every variant into one per grid
// point, named VARIANT-lr0.5 (the path's last part and the value): that is what `bnlab sweep` runs.
#ifndef BNLAB_COMPARE_H
#define BNLAB_COMPARE_H

#include "run/config.h"
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
// skip_completed (sweeps): runs whose directory already holds a completed summary.json are not run again,
// and the others are rerun with --force (a crashed run left a partial directory).
int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, int force, int skip_completed);
// Writes out_dir/compare.json and, instead of running: jobs.txt (one shell command per run, for GNU parallel:
// `parallel -j N < jobs.txt`) and, for slurm, sweep.sbatch (a job array, one task per run; sbatch_lines are
// extra "#SBATCH ..." lines, NULL-terminated). Each command writes its run directory and log as compare would.
int compare_emit(const compare_spec_t *s, const char *out_dir, const char *exe, int slurm, const char *const *sbatch_lines);

#endif
