#include "lab/compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

// The summary over what completed: each variant's seeds read back from their run directories, and the spec's
// expectations measured on them. Returns how many expectations failed, or -1 + message.
static int summarize(const compare_spec_t *s, const char *out_dir, int failed, double seconds) {
    variant_result_t *vr = xcalloc((size_t)s->n_variants, sizeof *vr, "variant results");
    for (int vi = 0; vi < s->n_variants; vi++)
        variant_result_read(&vr[vi], out_dir, s->variants[vi].name, s->seeds, s->n_seeds, s->targets, s->n_targets);
    const expect_list_t *x = &s->expect;
    expect_result_t *er = xcalloc((size_t)x->n + 1, sizeof *er, "expectation results");
    int unmet = expect_check(x, vr, s->n_variants, er);
    cJSON *extra = cJSON_CreateObject();
    expect_add_json(extra, x, er);
    char *md = x->n ? expect_markdown(x, er) : NULL;
    int rc = summary_write_dir(out_dir, vr, s->n_variants, s->targets, s->n_targets, failed, seconds, extra, md);
    if (rc == 0) expect_print(x, er);  // after the table: the verdicts are what a reader looks for last
    free(md);
    free(er);
    for (int vi = 0; vi < s->n_variants; vi++) variant_result_free(&vr[vi]);
    free(vr);
    return rc != 0 ? -1 : unmet;
}

// The exit status of a comparison and its message. A stop signal decides first: every run not completed is then
// resumed by a rerun, a failed one included. Then a failed run, then the expectations: a verdict over an
// incomplete set of runs is not the comparison's result.
static int outcome(const jobs_result_t *r, const jobs_options_t *opt, int unmet, int n_expect) {
    const char *again = !strcmp(opt->command, "sweep") ? "rerun the same command"
                                                       : "rerun the same command with --force";
    if (r->signal || (r->interrupted && !r->failed))
        return bnlab_fail("%s%s: %d runs interrupted (each with a checkpoint), %d not started; to resume, %s "
                          "(completed runs are kept, interrupted ones continue from their checkpoints)",
                          r->signal ? "stopped by " : "interrupted", r->signal ? strsignal(r->signal) : "",
                          r->interrupted, r->not_started, again),
               COMPARE_INTERRUPTED;
    if (r->failed || r->not_started)
        return bnlab_fail("%d of %d runs failed; their logs say why (%s to run them again)", r->failed + r->not_started,
                          r->runs, again),
               COMPARE_FAILED;
    if (unmet)
        return bnlab_fail("%d of %d expectations not met (the ✘ lines above; summary.json \"expectations\")", unmet,
                          n_expect),
               COMPARE_EXPECTATION_FAILED;
    return 0;
}

int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt) {
    double t_start = now_seconds();
    jobs_result_t r;
    if (jobs_run(s, out_dir, exe, opt, &r) != 0) return -1;
    // summary.json's runs_failed counts every run its statistics leave out, diverged ones included.
    int unmet = summarize(s, out_dir, r.runs - r.completed, now_seconds() - t_start);
    if (unmet < 0) return -1;
    if (r.diverged)
        printf("\n%d of %d runs diverged: a result, reported above and left out of the statistics\n", r.diverged, r.runs);
    return outcome(&r, opt, unmet, s->expect.n);
}
