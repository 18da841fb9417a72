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

static void curve(figure_t *f, strbuf_t *b, const figcurve_t *c) {
    int block = figure_series(f, &c->data);
    if (block < 0) return;
    char spec[160], lc[24];
    colour(lc, c);
    int pt = view_point_gnuplot(c->style), few = c->data.n <= 40;
    if (c->kind == CURVE_BAND) snprintf(spec, sizeof spec, "1:2:3 with filledcurves %s", lc);
    else if (c->kind == CURVE_POINTS || c->data.n < 2)
        snprintf(spec, sizeof spec, "1:2 with points pt %d ps 2 lw %g %s", pt, c->width, lc);
    else if (few) snprintf(spec, sizeof spec, "1:2 with linespoints pt %d ps 1.5 lw %g dt %s %s", pt, c->width,
                           view_dash_gnuplot(c->style), lc);
    else snprintf(spec, sizeof spec, "1:2 with linespoints pt %d ps 1.5 pi %d lw %g dt %s %s", pt,
                  c->data.n / 8 + 1 + 3 * c->style, c->width, view_dash_gnuplot(c->style), lc);
    figure_curve(f, b, block, spec, c->label[0] ? c->label : NULL);
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

int figmodel_gnuplot(const char *plots, const figmodel_t *m) {
    int rows = m->np ? (m->np + m->cols - 1) / m->cols : 1, cols = m->np ? (m->np < m->cols ? m->np : m->cols) : 1;
    figure_t f;
    if (figure_open(&f, plots, m->name, rows, cols) != 0) return -1;
    strbuf_t b = {0};
    figure_cmd(&f, "set xlabel", "", "%s", m->xlabel);
    if (m->np == 0) {
        figure_cmd(&f, "set title", "", "%s", m->title);
        figure_plot(&f, &b, m->note);
    } else {
        char layout[96];
        snprintf(layout, sizeof layout, "font bnlab_font(24) layout %d,%d", rows, cols);
        strbuf_t title = {0};
        figure_wrap(&title, m->title, cols <= 2 ? 100 : 30 * (size_t)cols);  // about 15 px a character at font 24, 560 px a column
        figure_cmd(&f, "set multiplot title", layout, "%s", title.s ? title.s : "");
        free(title.s);
        for (int i = 0; i < m->np; i++) {
            const figpanel_t *p = &m->p[i];
            figure_cmd(&f, "set title", "", "%s", p->title);
            figure_cmd(&f, "set ylabel", "", "%s", p->ylabel);
            for (int k = 0; k < p->nc; k++)  // bands first, under the lines
                if (p->c[k].kind == CURVE_BAND) curve(&f, &b, &p->c[k]);
            int objects = 0;
            for (int k = 0; k < p->nc; k++)
                if (p->c[k].kind == CURVE_CELLS) cells(&f, &p->c[k], &objects);
                else if (p->c[k].kind != CURVE_BAND) curve(&f, &b, &p->c[k]);
            if (objects && !b.len) strbuf_printf(&b, "NaN notitle");  // the cells are objects: plot draws them
            if (p->nxcat) cat_axis(&f, 'x', p->xcat, p->nxcat);
            else figure_axis(&f, 'x', p->x0, p->x1, 1);
            if (p->nycat) cat_axis(&f, 'y', p->ycat, p->nycat);
            else if (p->ylog) figure_yaxis_log(&f, p->y0, p->y1);
            else figure_axis(&f, 'y', p->y0, p->y1, 0);
            figure_plot(&f, &b, p->note[0] ? p->note : "nothing logged");
            if (objects) fprintf(f.gp, "unset object\nunset label\nset grid xtics ytics\n");
        }
        fprintf(f.gp, "unset multiplot\n");
    }
    free(b.s);
    return figure_close(&f);
}
