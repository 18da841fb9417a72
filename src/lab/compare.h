// compare.h — bnlab compare and bnlab sweep: a spec's runs (spec.h) started as processes (jobs.h), then
// summarized over seeds (summary.h) into OUT/summary.json, summary.md and curves.csv.
#ifndef BNLAB_COMPARE_H
#define BNLAB_COMPARE_H

#include "lab/jobs.h"
#include "lab/spec.h"

// Runs every (variant, seed) of s into out_dir (jobs_run), then writes the summary over the runs that completed
// and prints its Markdown table. Returns 0 if every run completed, 1 if some did not (the summary covers the
// others; the message says how many), -1 + message on a setup or write error.
int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt);

#endif
