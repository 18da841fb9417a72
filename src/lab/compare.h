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
// came or a run was interrupted (the message says how to resume), COMPARE_EXPECTATION_FAILED when every run
// ended but an expectation of the spec (expect.h) was not met — each is printed after the table with its measured
// value and ✔/✘, and written into summary.json ("expectations") and summary.md; -1 + message on a setup or write
// error. An interruption or failed run decides the status before the expectations do (they are still reported).
enum { COMPARE_FAILED = 1, COMPARE_INTERRUPTED = 4, COMPARE_EXPECTATION_FAILED = 5 };
int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt);

#endif
