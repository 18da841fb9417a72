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
        if (!isfinite(x) || !isfinite(y)) continue;
        if (c->style == FIG_CROSS)  // a divergence: a cross
            strbuf_printf(b, "<path d=\"M%.1f %.1fl12 12m0 -12l-12 12\" stroke=\"%s\" stroke-width=\"3\"/>", svg_x(f, x) - 6,
                          svg_y(f, y) - 6, c->color);
        else strbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\"/>", svg_x(f, x), svg_y(f, y), c->width);
    }
    strbuf_printf(b, "</g>\n");
}

// A range curve (a sweep's medians and their spread): its line through the points, and at each point a marker and
// an error bar from lo to hi with caps (class "bar": M x lo-pixel V hi-pixel), all drawn xshift to the side.
static void range(strbuf_t *b, const svg_frame_t *f, const figpanel_t *p, const figcurve_t *c) {
    double mul, add;
    figmodel_xshift(p, c, &mul, &add);
    series_t s;
    series_init(&s, 4);
    for (int r = 0; r < c->data.n; r++) {
        const double *row = c->data.v + (size_t)r * 4;
        series_add(&s, (double[4]){row[0] * mul + add, row[1], row[2], row[3]});
    }
    svg_line(b, f, s.v, 4, s.v + 1, 4, s.n, c->color, c->width, c->opacity, view_dash_svg(c->style));
    strbuf_printf(b, "<g class=\"series range\" points=\"%d\" stroke=\"%s\" stroke-width=\"2\" fill=\"%s\">", s.n,
                  c->color, c->color);
    for (int r = 0; r < s.n; r++) {
        const double *row = s.v + (size_t)r * 4;
        if (!isfinite(row[0]) || !isfinite(row[1])) continue;
        double x = svg_x(f, row[0]);
        if (isfinite(row[2]) && isfinite(row[3])) {
            double lo = svg_y(f, row[2]), hi = svg_y(f, row[3]);
            strbuf_printf(b, "<path class=\"bar\" d=\"M%.1f %.1fV%.1fM%.1f %.1fh10M%.1f %.1fh10\"/>", x, lo, hi, x - 5, lo,
                          x - 5, hi);
        }
        strbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\"/>", x, svg_y(f, row[1]), 1.5 * c->width);
    }
    strbuf_printf(b, "</g>\n");
    series_free(&s);
}

// One legend for the whole figure: each labelled curve's text and style once; in its colour when every curve of
// that text has the same colour (a variant), else in grey (a line style that means the same in every panel).
static void legend(strbuf_t *b, const figmodel_t *m) {
    svg_entry_t e[96];
    int n = 0;
    for (int i = 0; i < m->np; i++)
        for (int k = 0; k < m->p[i].nc; k++) {
            const figcurve_t *c = &m->p[i].c[k];
            if (!c->label[0] || c->kind == CURVE_CELLS) continue;
            int j = 0;
            while (j < n && strcmp(e[j].text, c->label)) j++;
            if (j < n) {
                if (strcmp(e[j].color, c->color)) e[j].color = "#555555";
                continue;
            }
            if (n == 96) continue;
            e[n++] = (svg_entry_t){c->color, c->dashed ? "6 4" : view_dash_svg(c->style), c->label};
        }
    if (n) svg_legend(b, e, n);
}

// A heatmap's cells: a square per cell in its shade, its text in the middle (view/figmodel.h's figmodel_cell).
static void cells(strbuf_t *b, const svg_frame_t *f, const figcurve_t *c) {
    strbuf_printf(b, "<g class=\"series cells\" cells=\"%d\">\n<defs><pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" "
                     "width=\"12\" height=\"12\" patternTransform=\"rotate(45)\"><rect width=\"12\" height=\"12\" "
                     "fill=\"#FFFFFF\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"12\" stroke=\"#BBBBBB\" "
                     "stroke-width=\"4\"/></pattern></defs>\n", c->data.n);
    for (int r = 0; r < c->data.n; r++) {
        const double *row = c->data.v + (size_t)r * (size_t)c->data.cols;
        char fill[8], ink[8], text[64];
        int hatch = figmodel_cell(c, r, fill, ink, text, sizeof text);
        double x0 = svg_x(f, row[0] - 0.5), x1 = svg_x(f, row[0] + 0.5), y0 = svg_y(f, row[1] + 0.5), y1 = svg_y(f, row[1] - 0.5);
        strbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"#FFFFFF\" "
                         "stroke-width=\"2\" data-value=\"%.6g\"/>", x0, y0, x1 - x0, y1 - y0, hatch ? "url(#hatch)" : fill, row[2]);
        char *nl = strchr(text, '\n');
        if (nl) *nl = '\0';
        double cy = (y0 + y1) / 2 + (nl ? -4 : 6);
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"cell\" text-anchor=\"middle\" "
                         "style=\"fill:%s;font-size:17px\">", (x0 + x1) / 2, cy, ink);
        html_text(b, text);
        if (nl) {
            strbuf_printf(b, "<tspan x=\"%.1f\" dy=\"18\">", (x0 + x1) / 2);
            html_text(b, nl + 1);
            strbuf_printf(b, "</tspan>");
        }
        strbuf_printf(b, "</text>\n");
    }
    strbuf_printf(b, "</g>\n");
}

void figmodel_svg(strbuf_t *b, const figmodel_t *m) {
    if (m->np == 0) {
        strbuf_printf(b, "<p class=\"note absent\" id=\"%s-absent\">", m->name);
        html_text(b, m->note);
        strbuf_printf(b, "</p>\n");
        return;
    }
    strbuf_printf(b, "<p class=\"note\">");
    for (const char *t = m->title; *t;) {  // the title's lines as the page's lines
        size_t len = strcspn(t, "\n");
        char *line = xmalloc(len + 1, "figure title");
        memcpy(line, t, len), line[len] = 0;
        html_text(b, line);
        free(line);
        t += len;
        if (*t) strbuf_printf(b, "<br>"), t++;
    }
    strbuf_printf(b, "</p>\n");
    legend(b, m);
    // One row of the page per row of the grid (as gnuplot draws it): a panel's place means the same in both; a
    // one-column figure (a stack of panels in gnuplot) two panels a row.
    int per_row = m->cols > 1 ? m->cols : 2;
    strbuf_printf(b, "<div class=\"row%s\" data-kind=\"%s\">\n", m->np > per_row ? " panels" : "", m->name);
    // One panel width on every figure of the page, so that the page scales every panel's type alike (report.css).
    // Named rows (the ladder's) widen the viewBox by their names, so that the frame keeps its width.
    int w = FIGMODEL_SVG_W, names = figmodel_row_name_chars(m);
    w += SVG_CAT_PX * names;
    for (int i = 0; i < m->np; i++) {
        const figpanel_t *p = &m->p[i];
        if (i && i % per_row == 0) strbuf_printf(b, "</div>\n<div class=\"row panels\" data-kind=\"%s\">\n", m->name);
        svg_frame_t f = {.w = w, .h = p->nycat > 8 ? 100 + 26 * p->nycat : FIGMODEL_SVG_H, .x0 = p->x0, .x1 = p->x1, .y0 = p->y0,
                         .y1 = p->y1, .ylog = p->ylog, .xlabel = p->xlabel[0] ? p->xlabel : m->xlabel, .xcat = p->xcat,
                         .ycat = p->ycat, .nxcat = p->nxcat, .nycat = p->nycat,
                         .xinteger = !p->xlabel[0], .xlog = p->xlog, .xtick = p->xtick,
                         .nxtick = p->nxtick};  // as figmodel_gnuplot's x axis
        if (p->nycat) {  // categories (a heatmap's cells, the ladder's rows): as given
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
        strbuf_t at = {0};
        strbuf_printf(&at, "%s data-title=\"", attrs);
        for (const char *t = p->title; *t; t++) {  // one line, as svg_open draws it: a "\n" becomes "; "
            char one[2] = {*t, 0};
            if (*t == '\n') strbuf_printf(&at, "; ");
            else html_text(&at, one);
        }
        strbuf_printf(&at, "\"");
        strbuf_t title = {0};
        strbuf_printf(&title, "%s", p->title);
        if (p->seeds_logged < p->seeds_total)
            strbuf_printf(&title, " (%d of %d seeds logged so far)", p->seeds_logged, p->seeds_total);
        svg_open(b, &f, "figure", at.s, title.s, p->ylabel);
        free(at.s);
        free(title.s);
        if (p->fewer_after > 0) {  // seeds still going: after here the medians count fewer of them
            double x = svg_x(&f, p->fewer_after), top = svg_y(&f, f.y1), bottom = svg_y(&f, f.y0);
            int right = x > 0.6 * f.w;
            strbuf_printf(b, "<line class=\"progress\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" "
                             "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"%s\">fewer "
                             "seeds after step %.0f</text>\n", x, x, top, bottom, right ? x - 3 : x + 3, top + 14,
                          right ? "end" : "start", p->fewer_after);
        }
        series_t thin[FIG_MAX_CURVES];  // each curve at the panel's resolution: FIGMODEL_SVG_POINTS rows at most
        for (int k = 0; k < p->nc; k++) {
            series_init(&thin[k], p->c[k].data.cols);
            for (int r = 0; r < p->c[k].data.n; r++) series_add(&thin[k], p->c[k].data.v + (size_t)r * (size_t)p->c[k].data.cols);
            if (p->c[k].kind == CURVE_LINE || p->c[k].kind == CURVE_BAND) series_thin(&thin[k], FIGMODEL_SVG_POINTS);
        }
        for (int k = 0; k < p->nc; k++) {
            const figcurve_t *c = &p->c[k];
            const double *v = thin[k].v;
            if (c->kind == CURVE_BAND && c->data.n == 1)  // one step: its range as a bar
                svg_line(b, &f, (double[2]){v[0], v[0]}, 1, (double[2]){v[1], v[2]}, 1, 2, c->color, 6, c->opacity, "");
            else if (c->kind == CURVE_BAND) svg_band(b, &f, v, v + 1, v + 2, 3, thin[k].n, c->color, c->opacity * 0.6, "series band");
        }
        for (int k = 0; k < p->nc; k++) {
            const figcurve_t *c = &p->c[k];
            if (c->kind == CURVE_POINTS) points(b, &f, c);
            else if (c->kind == CURVE_CELLS) cells(b, &f, c);
            else if (c->kind == CURVE_RANGE) range(b, &f, p, c);
            else if (c->kind == CURVE_LINE)
                svg_line(b, &f, thin[k].v, 2, thin[k].v + 1, 2, thin[k].n, c->color, c->width, c->opacity,
                         c->dashed ? "6 4" : view_dash_svg(c->style));
        }
        for (int k = 0; k < p->nc; k++) series_free(&thin[k]);
        // The panel's text in its corner (figpanel_t.text), each line on a white halo.
        for (int k = 0; n && k < p->ntext; k++) {
            int right = p->text_corner & 1, top = p->text_corner < 2;
            double x = right ? svg_x(&f, f.x1) - 6 : svg_x(&f, f.x0) + 6;
            double y = top ? svg_y(&f, f.y1) + FIGMODEL_TEXT_LINE_PX * (k + 1)
                           : svg_y(&f, f.y0) - 6 - FIGMODEL_TEXT_LINE_PX * (p->ntext - 1 - k);
            // Its colour and size in style: the page's stylesheet sets every svg text's (page/report.css).
            strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"panel-text\" text-anchor=\"%s\" fill=\"%s\" "
                             "stroke=\"#FFFFFF\" stroke-width=\"4\" paint-order=\"stroke\" style=\"fill:%s;font-size:%dpx\">",
                          x, y, right ? "end" : "start", p->text_color[k] ? p->text_color[k] : "#000000",
                          p->text_color[k] ? p->text_color[k] : "#000000", FIGMODEL_TEXT_PX);
            html_text(b, p->text[k]);
            strbuf_printf(b, "</text>\n");
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
