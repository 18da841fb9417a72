// compare.h — bnlab compare and bnlab sweep: a spec's runs (spec.h) started as processes (jobs.h), then
// summarized over seeds (summary.h) into OUT/summary.json, summary.md and curves.csv.
#ifndef BNLAB_COMPARE_H
#define BNLAB_COMPARE_H

#include "lab/jobs.h"
#include "lab/spec.h"

// Runs every (variant, seed) of s into out_dir (jobs_run), then writes the summary over the runs that completed
// and prints its Markdown table, and a line on how many diverged. Returns the comparison's exit status with its
// message recorded (bnlab_errmsg): 0 when every run completed or diverged (divergence is a result: shown, left out
// of the statistics), COMPARE_FAILED when a run failed (its log says why), COMPARE_INTERRUPTED when a stop signal
// came or a run was interrupted (the message says how to resume); -1 + message on a setup or write error.
enum { COMPARE_FAILED = 1, COMPARE_INTERRUPTED = 4 };
int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt);

#endif
