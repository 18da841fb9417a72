// The SVG renderer of view/figmodel.h for the report page: no file I/O.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view/figmodel.h"
#include "view/svg.h"
#include "view/variant.h"

static void points(strbuf_t *b, const svg_frame_t *f, const figcurve_t *c) {
    strbuf_printf(b, "<g class=\"series\" points=\"%d\" fill=\"%s\" fill-opacity=\"%g\">", c->data.n, c->color, c->opacity);
    for (int r = 0; r < c->data.n; r++) {
        double x = c->data.v[(size_t)r * 2], y = c->data.v[(size_t)r * 2 + 1];
        if (isfinite(x) && isfinite(y)) strbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\"/>", svg_x(f, x), svg_y(f, y), c->width);
    }
    strbuf_printf(b, "</g>\n");
}

// One legend for the whole figure: each labelled curve's text and style once; in its colour when every curve of
// that text has the same colour (a variant), else in grey (a line style that means the same in every panel).
static void legend(strbuf_t *b, const figmodel_t *m) {
    svg_entry_t e[96];
    int n = 0;
    for (int i = 0; i < m->np; i++)
        for (int k = 0; k < m->p[i].nc; k++) {
            const figcurve_t *c = &m->p[i].c[k];
            if (!c->label[0] || c->kind == CURVE_BAND) continue;
            int j = 0;
            while (j < n && strcmp(e[j].text, c->label)) j++;
            if (j < n) {
                if (strcmp(e[j].color, c->color)) e[j].color = "#555555";
                continue;
            }
            if (n == 96) continue;
            e[n++] = (svg_entry_t){c->color, view_dash_svg(c->style), c->label};
        }
    if (n) svg_legend(b, e, n);
}

void figmodel_svg(strbuf_t *b, const figmodel_t *m) {
    if (m->np == 0) {
        strbuf_printf(b, "<p class=\"note absent\" id=\"%s-absent\">", m->name);
        html_text(b, m->note);
        strbuf_printf(b, "</p>\n");
        return;
    }
    strbuf_printf(b, "<p class=\"note\">");
    html_text(b, m->title);
    strbuf_printf(b, "</p>\n");
    legend(b, m);
    // More than 3 panels a row: they stay in one line (narrower than 360 px each) rather than wrap a lone panel to
    // the page's width.
    const char *keep = m->cols > 3 ? " style=\"flex-wrap:nowrap\"" : "";
    strbuf_printf(b, "<div class=\"row\" data-kind=\"%s\"%s>\n", m->name, keep);
    int w = m->cols <= 2 ? 620 : m->cols == 3 ? 480 : 400, per_row = m->cols > 1 ? m->cols : 2;
    for (int i = 0; i < m->np; i++) {
        const figpanel_t *p = &m->p[i];
        if (i && i % per_row == 0)  // a grid's rows stay rows; a column's panels go two by two
            strbuf_printf(b, "</div>\n<div class=\"row\" data-kind=\"%s\"%s>\n", m->name, keep);
        const char *cats[FIG_MAX_CAT];
        for (int k = 0; k < p->nycat && k < FIG_MAX_CAT; k++) cats[k] = p->ycat[k];
        svg_frame_t f = {.w = w, .h = p->nycat > 8 ? 100 + 26 * p->nycat : 320, .x0 = p->x0, .x1 = p->x1, .y0 = p->y0,
                         .y1 = p->y1, .ylog = p->ylog, .xlabel = p->xlabel[0] ? p->xlabel : m->xlabel,
                         .ycat = cats, .nycat = p->nycat < FIG_MAX_CAT ? p->nycat : FIG_MAX_CAT};
        if (f.nycat) {  // the categories' range as it is
        } else if (!(f.y1 > f.y0) && !f.ylog) {  // one value, or none: a window around it (svg.h draws any frame)
            double c = isfinite(f.y0) ? f.y0 : 0.5, wd = c != 0 ? fabs(c) * 0.1 : 0.5;
            f.y0 = c - wd, f.y1 = c + wd;
        } else if (!f.ylog) {
            double pad = 0.04 * (f.y1 - f.y0);
            f.y0 -= pad, f.y1 += pad;
        }
        int n = 0;
        for (int k = 0; k < p->nc; k++) n += p->c[k].data.n > 0;
        char attrs[224], cap[64] = "";
        if (m->np > per_row)  // rows of a grid: a last row's lone panel as wide as the others, not the page
            snprintf(cap, sizeof cap, " style=\"max-width:calc(%.4g%% - 12px)\"", 100.0 / per_row);
        snprintf(attrs, sizeof attrs, "data-kind=\"%s\" data-panel=\"%d\" data-series=\"%d\"%s", m->name, i, n, cap);
        svg_open(b, &f, "figure", attrs, p->title, p->ylabel);
        for (int k = 0; k < p->nc; k++) {
            const figcurve_t *c = &p->c[k];
            const double *v = c->data.v;
            if (c->kind == CURVE_BAND) svg_band(b, &f, v, v + 1, v + 2, 3, c->data.n, c->color, c->opacity * 0.6, "series band");
        }
        for (int k = 0; k < p->nc; k++) {
            const figcurve_t *c = &p->c[k];
            if (c->kind == CURVE_POINTS) points(b, &f, c);
            else if (c->kind == CURVE_LINE)
                svg_line(b, &f, c->data.v, 2, c->data.v + 1, 2, c->data.n, c->color, c->width, c->opacity,
                         view_dash_svg(c->style));
        }
        if (!n) {
            strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">", w / 2, f.h / 2);
            html_text(b, p->note[0] ? p->note : "nothing logged");
            strbuf_printf(b, "</text>\n");
        }
        strbuf_printf(b, "</svg>\n");
    }
    strbuf_printf(b, "</div>\n");
}
