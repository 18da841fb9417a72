// The gnuplot renderer of view/figmodel.h: a figmodel_t as a script and its data through view/figure.h.
#include <math.h>
#include <stdlib.h>

#include "view/figmodel.h"
#include "view/variant.h"

// lc rgb '#AARRGGBB': gnuplot's alpha is a transparency (00 opaque).
static void colour(char out[24], const figcurve_t *c) {
    char alpha[3];
    snprintf(alpha, sizeof alpha, "%02X", (int)lround(255 * (1 - (c->opacity < 0 ? 0 : c->opacity > 1 ? 1 : c->opacity))));
    figure_lc(out, c->color, c->opacity >= 1 ? NULL : alpha);
}

static void curve(figure_t *f, strbuf_t *b, const figcurve_t *c, int panel, int k) {
    // Each block of the data file says which curve it is (for a reader, and for tests that check the numbers).
    static const char *const kinds[] = {"line", "band", "points", "cells"};
    if (series_last_finite(&c->data) >= 0)  // a curve with no finite row gets no block (figure_series)
        fprintf(f->dat, "# panel %d, curve %d: %s %s \"%s\"\n", panel, k, kinds[c->kind], c->color, c->label);
    int block = figure_series(f, &c->data);
    if (block < 0) return;
    char spec[160], lc[24];
    colour(lc, c);
    int pt = view_point_gnuplot(c->style), few = c->data.n <= 40;
    if (c->kind == CURVE_BAND && c->data.n < 2)  // one step: a band has no width, its range is an error bar
        snprintf(spec, sizeof spec, "1:(($2 + $3) / 2):2:3 with yerrorbars pt 7 ps 1 lw 3 %s", lc);
    else if (c->kind == CURVE_BAND) snprintf(spec, sizeof spec, "1:2:3 with filledcurves %s", lc);
    else if (c->kind == CURVE_POINTS && c->style == FIG_CROSS)
        snprintf(spec, sizeof spec, "1:2 with points pt 2 ps 4 lw 4 %s", lc);
    else if (c->kind == CURVE_POINTS || c->data.n < 2)
        snprintf(spec, sizeof spec, "1:2 with points pt %d ps 2 lw %g %s", pt, c->width, lc);
    else if (c->opacity < 1) snprintf(spec, sizeof spec, "1:2 with lines lw %g dt %s %s", c->width,
                                      c->dashed ? "2" : view_dash_gnuplot(c->style), lc);  // a faint seed: no markers
    else if (few) snprintf(spec, sizeof spec, "1:2 with linespoints pt %d ps 1.5 lw %g dt %s %s", pt, c->width,
                           c->dashed ? "2" : view_dash_gnuplot(c->style), lc);
    else snprintf(spec, sizeof spec, "1:2 with linespoints pt %d ps 1.5 pi %d lw %g dt %s %s", pt,
                  c->data.n / 8 + 1 + 3 * c->style, c->width, c->dashed ? "2" : view_dash_gnuplot(c->style), lc);
    figure_curve(f, b, block, spec, c->label[0] ? c->label : NULL);
}

// A panel's title, and how many seeds its medians come from when some have not logged yet.
static void panel_title(figure_t *f, const figpanel_t *p) {
    if (p->seeds_logged < p->seeds_total)
        figure_cmd(f, "set title", "", "%s (%d of %d seeds logged so far)", p->title, p->seeds_logged, p->seeds_total);
    else figure_cmd(f, "set title", "", "%s", p->title);
}

// A categorical axis (a heatmap's): its range around 0..n-1 and a tick labelled at each.
static void cat_axis(figure_t *f, char axis, const char (*cat)[24], int n) {
    fprintf(f->gp, "unset logscale %c\nset %crange [-0.5:%g]\nset %ctics (", axis, axis, n - 0.5, axis);
    for (int i = 0; i < n; i++) {
        strbuf_t q = {0};
        figure_quote(&q, cat[i]);
        fprintf(f->gp, "%s%s %d", i ? ", " : "", q.s, i);
        free(q.s);
    }
    fprintf(f->gp, ")\nunset m%ctics\nset grid no%ctics\n", axis, axis);
}

// A heatmap's cells as rectangles and labels (gnuplot objects), drawn by the next plot and then removed.
static void cells(figure_t *f, const figcurve_t *c, int *n_objects) {
    for (int r = 0; r < c->data.n; r++) {
        const double *row = c->data.v + (size_t)r * (size_t)c->data.cols;
        char fill[8], ink[8], text[64];
        int hatch = figmodel_cell(c, r, fill, ink, text, sizeof text), id = ++*n_objects;
        fprintf(f->gp, "set object %d rect from %g,%g to %g,%g fc rgb '%s' fillstyle %s border lc rgb '#FFFFFF' "
                       "lw 2 back\n", id, row[0] - 0.5, row[1] - 0.5, row[0] + 0.5, row[1] + 0.5, fill,
                hatch ? "pattern 5" : "solid 1.0");
        char at[96];
        snprintf(at, sizeof at, "at %g,%g center front tc rgb '%s' font bnlab_font(18)", row[0], row[1], ink);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "set label %d", id);
        figure_cmd(f, prefix, at, "%s", text);
    }
}

// One panel's curves (bands first, under the lines; a heatmap's cells as objects), axes and plot command.
static void panel(figure_t *f, strbuf_t *b, const figpanel_t *p, int i) {
    for (int k = 0; k < p->nc; k++)
        if (p->c[k].kind == CURVE_BAND) curve(f, b, &p->c[k], i, k);
    int objects = 0;
    for (int k = 0; k < p->nc; k++)
        if (p->c[k].kind == CURVE_CELLS) cells(f, &p->c[k], &objects);
        else if (p->c[k].kind != CURVE_BAND) curve(f, b, &p->c[k], i, k);
    if (objects && !b->len) strbuf_printf(b, "NaN notitle");  // the cells are objects: plot draws them
    if (p->nxcat) cat_axis(f, 'x', p->xcat, p->nxcat);
    else figure_axis(f, 'x', p->x0, p->x1, 1);
    if (p->nycat) cat_axis(f, 'y', p->ycat, p->nycat);
    else if (p->ylog) figure_yaxis_log(f, p->y0, p->y1);
    else figure_axis(f, 'y', p->y0, p->y1, 0);
    if (p->fewer_after > 0) {
        fprintf(f->gp, "set arrow 98 from %.17g, graph 0 to %.17g, graph 1 nohead dt 3 lw 1.5 lc rgb '#777777'\n",
                p->fewer_after, p->fewer_after);
        figure_cmd(f, "set label 98", "at graph 0.98, graph 0.96 right font bnlab_font(14) tc rgb '#555555'",
                   "fewer seeds after step %.0f", p->fewer_after);
    }
    figure_plot(f, b, p->note[0] ? p->note : "nothing logged");
    if (p->fewer_after > 0) fprintf(f->gp, "unset arrow 98\nunset label 98\n");
    if (objects) fprintf(f->gp, "unset object\nunset label\nset grid xtics ytics\n");
}

int figmodel_gnuplot(const char *plots, const figmodel_t *m) {
    int rows = m->np ? (m->np + m->cols - 1) / m->cols : 1, cols = m->np ? (m->np < m->cols ? m->np : m->cols) : 1;
    int inset = m->np == 2 && m->p[1].inset;  // one panel and its inset: the figure's title is the panel's
    if (inset) rows = cols = 1;
    figure_t f;
    if (figure_open(&f, plots, m->name, rows, cols) != 0) return -1;
    strbuf_t b = {0};
    figure_cmd(&f, "set xlabel", "", "%s", m->xlabel);
    if (m->np == 0) {
        figure_cmd(&f, "set title", "", "%s", m->title);
        figure_plot(&f, &b, m->note);
    } else if (inset) {
        const figpanel_t *p = &m->p[0], *q = &m->p[1];
        strbuf_t title = {0};
        figure_wrap(&title, m->title, (size_t)((f.w - 200) / 15.5));
        if (p->title[0]) strbuf_printf(&title, "\n%s", p->title);
        fprintf(f.gp, "set multiplot\n");
        figure_cmd(&f, "set title", "", "%s", title.s);
        free(title.s);
        figure_cmd(&f, "set ylabel", "", "%s", p->ylabel);
        panel(&f, &b, p, 0);
        // The inset over a white box that covers its title and tick labels too: no curve of the panel below runs
        // through them.
        fprintf(f.gp, "set origin %g,%g\nset size %g,%g\nset object 1 rectangle from screen %g,%g to screen %g,%g "
                      "behind fillcolor rgb 'white' fillstyle solid 1.0 border lc rgb '#999999'\nset key off\n"
                      "unset xlabel\nunset ylabel\n", q->box[0], q->box[1], q->box[2], q->box[3], q->box[0], q->box[1],
                q->box[0] + q->box[2], q->box[1] + q->box[3]);
        figure_cmd(&f, "set title", "font bnlab_font(18)", "%s", q->title);
        panel(&f, &b, q, 1);
        fprintf(f.gp, "unset object 1\nunset multiplot\n");
    } else {
        char layout[96];
        snprintf(layout, sizeof layout, "font bnlab_font(24) layout %d,%d", rows, cols);
        strbuf_t title = {0};
        // About 15.5 px a character of 24-point type on the PNG (measured), and 100 px of margin at each edge.
        figure_wrap(&title, m->title, (size_t)((f.w - 200) / 15.5));
        figure_cmd(&f, "set multiplot title", layout, "%s", title.s ? title.s : "");
        free(title.s);
        // A third of a slide or less: the legend's type a little smaller, no padding around its entries.
        if (cols >= 3) fprintf(f.gp, "bnlab_key_font = bnlab_font(14)\nset key width 0 samplen 2 font bnlab_key_font\n");
        for (int i = 0; i < m->np; i++) {
            const figpanel_t *p = &m->p[i];
            if (p->inset) continue;  // an inset only in a figure of one panel
            panel_title(&f, p);
            figure_cmd(&f, "set ylabel", "", "%s", p->ylabel);
            panel(&f, &b, p, i);
        }
        fprintf(f.gp, "unset multiplot\n");
    }
    free(b.s);
    return figure_close(&f);
}
