// The gnuplot renderer of view/figmodel.h: a figmodel_t as a script and its data through view/figure.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view/figmodel.h"
#include "view/variant.h"

// lc rgb '#AARRGGBB': gnuplot's alpha is a transparency (00 opaque).
static void colour(char out[24], const figcurve_t *c) {
    char alpha[3];
    snprintf(alpha, sizeof alpha, "%02X", (int)lround(255 * (1 - (c->opacity < 0 ? 0 : c->opacity > 1 ? 1 : c->opacity))));
    figure_lc(out, c->color, c->opacity >= 1 ? NULL : alpha);
}

// The "using" columns and style of curve c ("1:2 with linespoints ...").
static void spec_of(char *spec, size_t cap, const figcurve_t *c) {
    char lc[24];
    colour(lc, c);
    int pt = view_point_gnuplot(c->style), few = c->data.n <= 40;
    if (c->kind == CURVE_BAND) snprintf(spec, cap, "1:2:3 with filledcurves %s", lc);
    else if (c->kind == CURVE_POINTS || c->data.n < 2)
        snprintf(spec, cap, "1:2 with points pt %d ps %g lw %g %s", pt, c->kind == CURVE_POINTS ? c->width / 2 : 2,
                 c->kind == CURVE_POINTS ? fmin(c->width, 4) : c->width, lc);
    else if (c->bare) snprintf(spec, cap, "1:2 with lines lw %g dt %s %s", c->width, view_dash_gnuplot(c->style), lc);
    else if (few) snprintf(spec, cap, "1:2 with linespoints pt %d ps 1.5 lw %g dt %s %s", pt, c->width,
                           view_dash_gnuplot(c->style), lc);
    else snprintf(spec, cap, "1:2 with linespoints pt %d ps 1.5 pi %d lw %g dt %s %s", pt,
                  c->data.n / 8 + 1 + 3 * c->style, c->width, view_dash_gnuplot(c->style), lc);
}

static void curve(figure_t *f, strbuf_t *b, const figcurve_t *c) {
    int block = figure_series(f, &c->data);
    if (block < 0) return;
    char spec[160];
    spec_of(spec, sizeof spec, c);
    figure_curve(f, b, block, spec, c->label[0] ? c->label : NULL);
}

// The figure's legend entries for one key: each labelled curve (not a band) whose label is new, in order. Their
// number (at most max).
static int key_entries(const figmodel_t *m, const figcurve_t **e, int max) {
    int n = 0;
    for (int i = 0; i < m->np; i++)
        for (int k = 0; k < m->p[i].nc; k++) {
            const figcurve_t *c = &m->p[i].c[k];
            if (!c->label[0] || c->kind == CURVE_BAND || !c->data.n) continue;
            int j = 0;
            while (j < n && strcmp(e[j]->label, c->label)) j++;
            if (j == n && n < max) e[n++] = c;
        }
    return n;
}

// One key below every panel: a last plot with no axes over the strip [0, kh] of the canvas, each entry drawn from
// NaN in its curve's style.
static void one_key(figure_t *f, strbuf_t *b, const figcurve_t **e, int n, double kh) {
    fprintf(f->gp, "set origin 0,0\nset size 1,%.4f\nunset border\nunset xtics\nunset ytics\nunset mxtics\n"
                   "unset mytics\nunset grid\nunset xlabel\nunset ylabel\nunset title\nunset logscale\n"
                   "set key inside center center horizontal\nset lmargin 0\nset rmargin 0\nset tmargin 0\n"
                   "set bmargin 0\n", kh);
    for (int i = 0; i < n; i++) {
        char spec[160];
        spec_of(spec, sizeof spec, e[i]);
        strbuf_printf(b, "%sNaN %s title ", i ? ", \\\n     " : "", strchr(spec, ' ') + 1);
        figure_quote(b, e[i]->label);
    }
    fprintf(f->gp, "plot [0:1] [0:1] %s\n", b->s);
    b->s[0] = '\0', b->len = 0;
}

// A categorical axis (a heatmap's, the ladder's rows): its range around 0..n-1 and a tick labelled at each, names
// cat[0..n) of stride bytes; grid: a grid line through each (the ladder's rows), else none (a heatmap's cells).
static void cat_axis(figure_t *f, char axis, const char *cat, size_t stride, int n, int grid) {
    fprintf(f->gp, "unset logscale %c\nset %crange [-0.5:%g]\nset %ctics (", axis, axis, n - 0.5, axis);
    for (int i = 0; i < n; i++) {
        strbuf_t q = {0};
        figure_quote(&q, cat + (size_t)i * stride);
        fprintf(f->gp, "%s%s %d", i ? ", " : "", q.s, i);
        free(q.s);
    }
    fprintf(f->gp, ")\nunset m%ctics\n", axis);
    if (!grid) fprintf(f->gp, "set grid no%ctics\n", axis);
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
        const figcurve_t *keys[96];
        int nk = m->one_key && m->np > 1 ? key_entries(m, keys, 96) : 0;
        char layout[96];
        snprintf(layout, sizeof layout, "font bnlab_font(24) layout %d,%d", rows, cols);
        strbuf_t title = {0};
        figure_wrap(&title, m->title, cols <= 2 ? 100 : 30 * (size_t)cols);  // about 15 px a character at font 24, 560 px a column
        int lines = 1;
        for (const char *q = title.s ? title.s : ""; *q; q++) lines += *q == '\n';
        figure_cmd(&f, "set multiplot title", nk ? "font bnlab_font(24)" : layout, "%s", title.s ? title.s : "");
        free(title.s);
        // One key: the panels placed by hand (origin, size) above a strip for it, each panel's own key off. An
        // entry is at most about 13 px a character at font 16 plus its sample; the title about 34 px a line.
        double kh = 0, th = 0, ph = 0, pw = 1.0 / cols;
        if (nk) {
            size_t longest = 0;
            for (int i = 0; i < nk; i++) longest = strlen(keys[i]->label) > longest ? strlen(keys[i]->label) : longest;
            int per_row = (int)((f.w - 40) / (13 * (int)longest + 150));
            per_row = per_row < 1 ? 1 : per_row;
            kh = (((nk + per_row - 1) / per_row) * 30.0 + 30) / f.h, th = (lines * 34.0 + 16) / f.h;
            ph = (1 - kh - th) / rows;
        }
        // Panels with named rows (not a heatmap's: it keeps gnuplot's margins) share one left margin, the longest
        // name's in character widths: their frames line up, row for row.
        size_t names = 0;
        int heatmap = 0;
        for (int i = 0; i < m->np; i++)
            for (int k = 0; k < m->p[i].nc; k++) heatmap |= m->p[i].c[k].kind == CURVE_CELLS;
        for (int i = 0; i < m->np && !heatmap; i++)
            for (int k = 0; k < m->p[i].nycat; k++) {
                size_t n = 0;
                for (const char *q = m->p[i].ycat[k]; *q; q++) n += ((unsigned char)*q & 0xC0) != 0x80;
                names = n > names ? n : names;
            }
        for (int i = 0; i < m->np; i++) {
            const figpanel_t *p = &m->p[i];
            if (names) fprintf(f.gp, p->nycat ? "set lmargin %zu\n" : "set lmargin -1\n", names + 3);
            if (nk)
                fprintf(f.gp, "set origin %.4f,%.4f\nset size %.4f,%.4f\nset key off\n", (i % cols) * pw,
                        kh + (rows - 1 - i / cols) * ph, pw, ph);
            figure_cmd(&f, "set title", "", "%s", p->title);
            figure_cmd(&f, "set ylabel", "", "%s", p->ylabel);
            if (p->xlabel[0] || (i && m->p[i - 1].xlabel[0]))  // a panel's own, or the figure's again after one
                figure_cmd(&f, "set xlabel", "", "%s", p->xlabel[0] ? p->xlabel : m->xlabel);
            for (int k = 0; k < p->nc; k++)  // bands first, under the lines
                if (p->c[k].kind == CURVE_BAND) curve(&f, &b, &p->c[k]);
            int objects = 0;
            for (int k = 0; k < p->nc; k++)
                if (p->c[k].kind == CURVE_CELLS) cells(&f, &p->c[k], &objects);
                else if (p->c[k].kind != CURVE_BAND) curve(&f, &b, &p->c[k]);
            if (objects && !b.len) strbuf_printf(&b, "NaN notitle");  // the cells are objects: plot draws them
            if (p->nxcat) cat_axis(&f, 'x', p->xcat[0], sizeof p->xcat[0], p->nxcat, !objects);
            else figure_axis(&f, 'x', p->x0, p->x1, !p->xlabel[0]);  // steps: no tick between integers
            if (p->nycat) cat_axis(&f, 'y', p->ycat[0], sizeof p->ycat[0], p->nycat, !objects);
            else if (p->ylog) figure_yaxis_log(&f, p->y0, p->y1);
            else figure_axis(&f, 'y', p->y0, p->y1, 0);
            figure_plot(&f, &b, p->note[0] ? p->note : "nothing logged");
            if (objects) fprintf(f.gp, "unset object\nunset label\nset grid xtics ytics\n");
        }
        if (nk) one_key(&f, &b, keys, nk, kh);
        fprintf(f.gp, "unset multiplot\n");
    }
    free(b.s);
    return figure_close(&f);
}
