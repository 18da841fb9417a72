#include "lab/report_panels.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view/svg.h"
#include "run/rundir.h"

void report_seeds_text(char *out, size_t cap, const report_panel_t *p, int logged) {
    if (p->n_runs == 1 && p->seeds[0] < 0) snprintf(out, cap, "this run");  // a run, not a comparison
    else if (p->n_runs == 1) snprintf(out, cap, "seed %ld", p->seeds[0]);
    else if (logged < p->n_runs) snprintf(out, cap, "the median over the %d of %d seeds logged so far", logged,
                                          p->n_runs);
    else snprintf(out, cap, "the median over %d seeds", p->n_runs);
}

void report_progress_add(report_progress_t *g, double last) {
    if (!g->logged++ || last < g->last_min) g->last_min = last;
    if (g->logged == 1 || last > g->last_max) g->last_max = last;
}

void report_progress_mark(strbuf_t *b, const svg_frame_t *f, const report_progress_t *g) {
    if (g->logged < 2 || !(g->last_min < g->last_max)) return;
    double x = svg_x(f, g->last_min), top = svg_y(f, f->y1), bottom = svg_y(f, f->y0);
    int right = x > 0.6 * f->w;  // the label on the side with room
    strbuf_printf(b, "<line class=\"progress\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" "
                     "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"%s\">fewer "
                     "seeds after step %.0f</text>\n", x, x, top, bottom, right ? x - 3 : x + 3, top + 12,
                  right ? "end" : "start", g->last_min);
}

void report_yrange(double lo, double hi, int allow_log, double *y0, double *y1, int *ylog) {
    *ylog = 0;
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (allow_log && lo > 0 && hi / lo >= 100) {
        *ylog = 1, *y0 = pow(10, floor(log10(lo))), *y1 = pow(10, ceil(log10(hi)));
        return;
    }
    double pad = hi > lo ? 0.05 * (hi - lo) : fabs(lo) > 0 ? 0.1 * fabs(lo) : 1;
    *y0 = lo - pad, *y1 = hi + pad;
}

void report_attrs(strbuf_t *b, const char *name, int n_series) {
    strbuf_printf(b, "data-variant=\"");
    html_text(b, name);
    strbuf_printf(b, "\" data-series=\"%d\"", n_series);
}

int report_panel_width(int np) { return np > 3 ? 360 : 460; }
