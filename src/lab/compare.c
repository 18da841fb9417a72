#include "lab/compare.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

// The summary over what completed: each variant's seeds read back from their run directories.
static int summarize(const compare_spec_t *s, const char *out_dir, int failed, double seconds) {
    variant_result_t *vr = xcalloc((size_t)s->n_variants, sizeof *vr, "variant results");
    for (int vi = 0; vi < s->n_variants; vi++)
        variant_result_read(&vr[vi], out_dir, s->variants[vi].name, s->seeds, s->n_seeds, s->targets, s->n_targets);
    int rc = summary_write_dir(out_dir, vr, s->n_variants, s->targets, s->n_targets, failed, seconds);
    for (int vi = 0; vi < s->n_variants; vi++) variant_result_free(&vr[vi]);
    free(vr);
    return rc;
}

int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt) {
    double t_start = now_seconds();
    int failed = jobs_run(s, out_dir, exe, opt);
    if (failed < 0 || summarize(s, out_dir, failed, now_seconds() - t_start) != 0) return -1;
    if (failed) return bnlab_fail("%d of %d runs did not complete; their logs say why", failed, s->n_variants * s->n_seeds), 1;
    return 0;
}
