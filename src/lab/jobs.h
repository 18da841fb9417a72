// jobs.h — the runs of a comparison as `bnlab train` processes: one per (variant, seed), each writing
// OUT/VARIANT/seed-K/ and its console output to OUT/VARIANT/seed-K.log (rundir.h). Either run here, a few at a
// time, or written out as shell command lines for GNU parallel or a Slurm job array.
#ifndef BNLAB_JOBS_H
#define BNLAB_JOBS_H

#include "lab/spec.h"

typedef struct {
    const char *command;  // "compare" or "sweep", for messages
} jobs_options_t;

// How the runs of jobs_run ended. completed and diverged include runs kept from before (below).
typedef struct {
    int runs, completed, diverged, failed, interrupted, not_started;
    int signal;  // the SIGINT or SIGTERM that stopped the comparison; 0 if none came
} jobs_result_t;

// Claims out_dir for a comparison's writes: it must be new, empty (a lock file aside) or a comparison's already
// (it holds compare.json) — never a single run's or any other directory — and no other process may be writing it:
// makes it and takes its lock (rundir_lock) for the rest of this process's life. -1 + message (the directory, and
// what is in it or the PID writing it). jobs_run and jobs_emit call it first.
int jobs_claim_out(const char *out_dir);

// Runs every (variant, seed) of s as `exe train ...`, at most s->jobs at once, seed-major (with two cores, the
// variants of a seed side by side), printing a line as each ends, after claiming out_dir (jobs_claim_out).
// A run directory left by an earlier comparison is kept if it was made with the same resolved config
// (rundir_same_config) and completed or diverged, resumed (train --resume) if it was interrupted with a
// checkpoint, and otherwise removed and started afresh (saying so when its config changed).
// SIGINT/SIGTERM: each one is forwarded to every running run (the first makes a run write its checkpoint and stop,
// a second kills it), no run starts after it, and jobs_run returns once every run has ended. Runs are in process
// groups of their own, so a terminal's ^C reaches them once, through this forwarding.
// Fills *r and returns 0, or -1 + message on a setup error. exe "/proc/self/exe" means this program (resolved at
// each start, so a rebuild during a long comparison does not mix two versions).
int jobs_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt,
             jobs_result_t *r);

typedef enum { EMIT_PARALLEL, EMIT_SLURM } emit_format_t;

// Writes instead of running: OUT/jobs.txt (one shell command per run, every path absolute, for
// `parallel -j N < jobs.txt`) and, for EMIT_SLURM, OUT/sweep.sbatch (a job array, one task per line of jobs.txt;
// sbatch_lines are extra "#SBATCH ..." lines, NULL-terminated). The spec's config paths are made absolute.
int jobs_emit(const compare_spec_t *s, const char *out_dir, const char *exe, emit_format_t format,
              const char *const *sbatch_lines);

// Writes OUT/compare.json (the expanded spec, which `sweep collect` and `plot` read), making OUT if needed.
int jobs_write_spec(const compare_spec_t *s, const char *out_dir);

#endif
