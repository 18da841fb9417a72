// jobs.h — the runs of a comparison as `bnlab train` processes: one per (variant, seed), each writing
// OUT/VARIANT/seed-K/ and its console output to OUT/VARIANT/seed-K.log (rundir.h). Either run here, a few at a
// time, or written out as shell command lines for GNU parallel or a Slurm job array.
#ifndef BNLAB_JOBS_H
#define BNLAB_JOBS_H

#include "lab/spec.h"

typedef struct {
    int force;           // pass --force to every run (reuse a non-empty run directory)
    int skip_completed;  // sweeps: leave a run whose directory says it completed (rundir_completed), rerun the rest
} jobs_options_t;

// Runs every (variant, seed) of s as `exe train ...`, at most s->jobs at once, seed-major (with two cores, the
// variants of a seed side by side), printing a line as each ends. Returns the number of runs that did not
// complete (0 if all did), or -1 + message on a setup error. exe "/proc/self/exe" means this program (resolved
// at each start, so a rebuild during a long comparison does not mix two versions).
int jobs_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt);

typedef enum { EMIT_PARALLEL, EMIT_SLURM } emit_format_t;

// Writes instead of running: OUT/jobs.txt (one shell command per run, every path absolute, for
// `parallel -j N < jobs.txt`) and, for EMIT_SLURM, OUT/sweep.sbatch (a job array, one task per line of jobs.txt;
// sbatch_lines are extra "#SBATCH ..." lines, NULL-terminated). The spec's config paths are made absolute.
int jobs_emit(const compare_spec_t *s, const char *out_dir, const char *exe, emit_format_t format,
              const char *const *sbatch_lines);

// Writes OUT/compare.json (the expanded spec, which `sweep collect` and `plot` read), making OUT if needed.
int jobs_write_spec(const compare_spec_t *s, const char *out_dir);

#endif
