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

// The "using" columns and style of curve c ("1:2 with linespoints ..."); x drawn at x * mul + add (figmodel_xshift).
static void spec_of(char *spec, size_t cap, const figcurve_t *c, double mul, double add) {
    char lc[24];
    colour(lc, c);
    int pt = view_point_gnuplot(c->marker > 0 ? c->marker - 1 : c->style), few = c->data.n <= 40;
    if (c->kind == CURVE_RANGE)  // x shifted sideways in the script: the data file keeps the model's x
        snprintf(spec, cap, "($1 * %.10g + %.10g):2:3:4 with yerrorlines lw %g dt %s pt %d ps %g %s", mul, add,
                 c->width, view_dash_gnuplot(c->style), pt, c->data.n > 16 ? 1.0 : 1.8, lc);  // many: smaller marks
    else if (c->kind == CURVE_BAND && c->data.n < 2)  // one step: a band has no width, its range is an error bar
        snprintf(spec, cap, "1:(($2 + $3) / 2):2:3 with yerrorbars pt 7 ps 1 lw 3 %s", lc);
    else if (c->kind == CURVE_BAND) snprintf(spec, cap, "1:2:3 with filledcurves %s", lc);
    else if (c->kind == CURVE_POINTS && c->style == FIG_CROSS)
        snprintf(spec, cap, "1:2 with points pt 2 ps 4 lw 4 %s", lc);
    else if (c->kind == CURVE_POINTS || c->data.n < 2)  // points: ps from the marker's radius (width 4: ps 2)
        snprintf(spec, cap, "1:2 with points pt %d ps %g lw %g %s", pt, c->kind == CURVE_POINTS ? c->width / 2 : 2,
                 c->kind == CURVE_POINTS ? fmin(c->width, 4) : c->width, lc);
    else if (c->opacity < 1 || c->bare)  // a faint seed, a reference line: no markers
        snprintf(spec, cap, "1:2 with lines lw %g dt %s %s", c->width, c->dashed ? "2" : view_dash_gnuplot(c->style), lc);
    else if (few) snprintf(spec, cap, "1:2 with linespoints pt %d ps 1.5 lw %g dt %s %s", pt, c->width,
                           c->dashed ? "2" : view_dash_gnuplot(c->style), lc);
    else snprintf(spec, cap, "1:2 with linespoints pt %d ps 1.5 pi %d lw %g dt %s %s", pt,
                  c->data.n / 8 + 1 + 3 * c->style, c->width, c->dashed ? "2" : view_dash_gnuplot(c->style), lc);
}

static void curve(figure_t *f, strbuf_t *b, const figpanel_t *p, const figcurve_t *c, int panel, int k) {
    // Each block of the data file says which curve it is (for a reader, and for tests that check the numbers).
    static const char *const kinds[] = {"line", "band", "points", "cells", "range"};
    if (series_last_finite(&c->data) >= 0)  // a curve with no finite row gets no block (figure_series)
        fprintf(f->dat, "# panel %d, curve %d: %s %s \"%s\"\n", panel, k, kinds[c->kind], c->color, c->label);
    int block = figure_series(f, &c->data);
    if (block < 0) return;
    char spec[192];
    double mul, add;
    figmodel_xshift(p, c, &mul, &add);
    spec_of(spec, sizeof spec, c, mul, add);
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

// The one key's type (figmodel_t.one_key), points: the tick labels' 18 and more — the legend says what the lines are,
// and a room of 200 reads it from the back (the panels' own keys: 16, 14 in three columns or more).
#define FIG_ONE_KEY_PT "20"
// One key below every panel: a last plot with no axes over the strip [0, kh] of the canvas, each entry drawn from
// NaN in its curve's style.
static void one_key(figure_t *f, strbuf_t *b, const figcurve_t **e, int n, double kh) {
    fprintf(f->gp, "set origin 0,0\nset size 1,%.4f\nunset border\nunset xtics\nunset ytics\nunset mxtics\n"
                   "unset mytics\nunset grid\nunset xlabel\nunset ylabel\nunset title\nunset logscale\n"
                   "bnlab_one_key_font = bnlab_font(" FIG_ONE_KEY_PT ")\n"
                   "set key inside center center horizontal font bnlab_one_key_font samplen 4 width 2\n"
                   "set lmargin 0\nset rmargin 0\nset tmargin 0\n"
                   "set bmargin 0\n", kh);
    for (int i = 0; i < n; i++) {
        char spec[192];
        figcurve_t c = *e[i];
        if (c.kind == CURVE_RANGE) c.kind = CURVE_LINE;  // its sample: a line with its marker
        spec_of(spec, sizeof spec, &c, 1, 0);
        strbuf_printf(b, "%sNaN %s title ", i ? ", \\\n     " : "", strstr(spec, " with ") + 1);
        figure_quote(b, e[i]->label);
    }
    fprintf(f->gp, "plot [0:1] [0:1] %s\n", b->s);
    b->s[0] = '\0', b->len = 0;
}

// A panel's legend, below it, as gnuplot lays it out (boundary.c do_key_layout): entries side by side while they fit
// the plot's width, in rows of that many. Left to itself, gnuplot puts a key of several rows over the x label and
// gives the panels of one grid row different heights when their keys differ (docs/figures/backward-gradient-depth.png
// had both). key_grid estimates, for panel p of a grid of cols panels on a canvas w pixels wide, the entries per row
// and returns the rows (0: the panel has no legend entry). Conservatively (generous 0): a character of the key's
// type as pngcairo counts it, 7 (4) more for the sample and padding, the plot's width the panel's less 200 pixels
// for its margins — gnuplot fits at least that many; generously (1): 9 pixels a character, 60 for the sample and
// padding, the margins 120 pixels — gnuplot fits no more (measured on its SVG and PNG terminals).
static int key_grid(const figpanel_t *p, int w, int cols, int generous, int *per_row) {
    int n = 0, longest = 0;
    for (int k = 0; k < p->nc; k++) {
        const figcurve_t *c = &p->c[k];
        if (!c->label[0] || c->kind == CURVE_CELLS || series_last_finite(&c->data) < 0) continue;
        int chars = 0;
        for (const unsigned char *q = (const unsigned char *)c->label; *q; q++) chars += (*q & 0xC0) != 0x80;
        longest = chars > longest ? chars : longest, n++;
    }
    if (!n || p->nycat || p->nxcat) return 0;
    // 18-point type is 15 px a character on the PNG (gnuplot's GPVAL_TERM_HCHAR); the key's is 16 (14 from 3 columns)
    // and takes 7 (4) characters more for its sample and padding (samplen 3, width 2; samplen 2, width 0).
    double ch = 15.0 * (cols >= 3 ? 14 : 16) / 18, extra = cols >= 3 ? 5 : 8;
    double entry = generous ? 9.0 * longest + 60 : ch * (longest + extra), plot = w / (double)cols - (generous ? 120 : 200);
    int fit = (int)(plot / entry);
    *per_row = fit < 1 ? 1 : fit > n ? n : fit;
    return (n + *per_row - 1) / *per_row;
}

// A panel's title, and how many seeds its medians come from when some have not logged yet.
static void panel_title(figure_t *f, const figpanel_t *p) {
    if (p->seeds_logged < p->seeds_total)
        figure_cmd(f, "set title", "", "%s (%d of %d seeds logged so far)", p->title, p->seeds_logged, p->seeds_total);
    else figure_cmd(f, "set title", "", "%s", p->title);
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

// One panel's curves (bands first, under the lines; a heatmap's cells as objects), axes and plot command.
static void panel(figure_t *f, strbuf_t *b, const figpanel_t *p, int i) {
    for (int k = 0; k < p->nc; k++)
        if (p->c[k].kind == CURVE_BAND) curve(f, b, p, &p->c[k], i, k);
    int objects = 0;
    for (int k = 0; k < p->nc; k++)
        if (p->c[k].kind == CURVE_CELLS) cells(f, &p->c[k], &objects);
        else if (p->c[k].kind != CURVE_BAND) curve(f, b, p, &p->c[k], i, k);
    if (objects && !b->len) strbuf_printf(b, "NaN notitle");  // the cells are objects: plot draws them
    if (p->nxcat) cat_axis(f, 'x', p->xcat[0], sizeof p->xcat[0], p->nxcat, !objects);
    else if (p->xlog || p->nxtick) figure_xaxis_at(f, p->x0, p->x1, p->xtick, p->nxtick, p->xlog);
    else figure_axis(f, 'x', p->x0, p->x1, !p->xlabel[0]);  // steps: no tick between integers
    if (p->nycat) cat_axis(f, 'y', p->ycat[0], sizeof p->ycat[0], p->nycat, !objects);
    else if (p->ylog) figure_yaxis_log(f, p->y0, p->y1);
    else figure_axis(f, 'y', p->y0, p->y1, 0);
    if (p->fewer_after > 0) {
        fprintf(f->gp, "set arrow 98 from %.17g, graph 0 to %.17g, graph 1 nohead dt 3 lw 1.5 lc rgb '#777777'\n",
                p->fewer_after, p->fewer_after);
        figure_cmd(f, "set label 98", "at graph 0.98, graph 0.96 right font bnlab_font(14) tc rgb '#555555'",
                   "fewer seeds after step %.0f", p->fewer_after);
    }
    // The panel's text in its corner, a line a label over a white box (figpanel_t.text).
    for (int k = 0; k < p->ntext && b->len; k++) {
        int right = p->text_corner & 1, top = p->text_corner < 2;
        char at[160], id[24];
        snprintf(at, sizeof at, "at graph %g, graph %g %s offset 0,%.2f front boxed font bnlab_font(15) tc rgb '%s'",
                 right ? 0.98 : 0.02, top ? 0.96 : 0.04, right ? "right" : "left",
                 top ? -1.05 * k : 1.05 * (p->ntext - 1 - k), p->text_color[k] ? p->text_color[k] : "#000000");
        snprintf(id, sizeof id, "set label %d", 80 + k);
        if (k == 0) fprintf(f->gp, "set style textbox opaque fillcolor rgb 'white' noborder margins 2,1\n");
        figure_cmd(f, id, at, "%s", p->text[k]);
    }
    int texts = b->len ? p->ntext : 0;
    figure_plot(f, b, p->note[0] ? p->note : "nothing logged");
    for (int k = 0; k < texts; k++) fprintf(f->gp, "unset label %d\n", 80 + k);
    if (p->fewer_after > 0) fprintf(f->gp, "unset arrow 98\nunset label 98\n");
    if (objects) fprintf(f->gp, "unset object\nunset label\nset grid xtics ytics\n");
}

int figmodel_gnuplot(const char *plots, const figmodel_t *m) {
    int rows = m->np ? (m->np + m->cols - 1) / m->cols : 1, cols = m->np ? (m->np < m->cols ? m->np : m->cols) : 1;
    int inset = m->np == 2 && m->p[1].inset;  // one panel and its inset: the figure's title is the panel's
    if (inset) rows = cols = 1;
    // Keys of several rows, or keys that differ within a grid row (a grid of panels with a key each): each panel's
    // entries per row as estimated (for the canvas's narrowest width) and one bottom margin per grid row that holds
    // its tallest key under the x tick labels and the x label (18-point character heights: 28 px; a key row is about
    // 1.1 of them), so that no key covers the x label and the frames of a grid row line up; the canvas grows by the
    // rows beyond the first (32 px each), so that the panels keep the height a key of one row leaves them. Keys of
    // one row alike everywhere: left to gnuplot (its layout is right then).
    int krows[64] = {0}, kper[64] = {0}, kmost[64] = {0}, explicit_keys = 0, extra_h = 0;
    if (!inset && m->np > 0 && !(m->one_key && m->np > 1)) {
        // Whether gnuplot needs help: a key of several rows even as estimated generously, or panels of one grid row
        // with keys of different rows (a panel without a key among others with one: its note).
        int wide = cols <= 2 ? 1600 : 560 * cols, per, g[64] = {0};
        for (int i = 0; i < m->np && i < 64; i++) {
            g[i] = key_grid(&m->p[i], wide, cols, 1, &per);
            explicit_keys |= g[i] > 1 || (i % cols && g[i] != g[i - 1]);
        }
        for (int i = 0; i < m->np && i < 64; i++) krows[i] = key_grid(&m->p[i], wide, cols, 0, &kper[i]);
        for (int i = 0; i < m->np && i < 64; i++) {
            int r0 = i - i % cols;
            kmost[r0] = krows[i] > kmost[r0] ? krows[i] : kmost[r0];
        }
        for (int r0 = 0; explicit_keys && r0 < m->np && r0 < 64; r0 += cols) extra_h += kmost[r0] > 1 ? 32 * (kmost[r0] - 1) : 0;
    }
    figure_t f;
    if (figure_open(&f, plots, m->name, rows, cols, extra_h) != 0) return -1;
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
        const figcurve_t *keys[96];
        int nk = m->one_key && m->np > 1 ? key_entries(m, keys, 96) : 0, lines = 1;
        for (const char *q = title.s ? title.s : ""; *q; q++) lines += *q == '\n';
        figure_cmd(&f, "set multiplot title", nk ? "font bnlab_font(24)" : layout, "%s", title.s ? title.s : "");
        free(title.s);
        // One key: the panels placed by hand (origin, size) above a strip for it, each panel's own key off. An
        // entry is at most about 16.5 px a character at font 20 (FIG_ONE_KEY_PT) plus its sample; a key row 36 px;
        // the title about 34 px a line.
        double kh = 0, th = 0, ph = 0, pw = 1.0 / cols;
        if (nk) {
            size_t longest = 0;
            for (int i = 0; i < nk; i++) longest = strlen(keys[i]->label) > longest ? strlen(keys[i]->label) : longest;
            int per_row = (int)((f.w - 40) / (16.5 * (double)longest + 170));
            per_row = per_row < 1 ? 1 : per_row;
            kh = (((nk + per_row - 1) / per_row) * 36.0 + 30) / f.h, th = (lines * 34.0 + 16) / f.h;
            ph = (1 - kh - th) / rows;
        }
        // Panels with named rows (not a heatmap's: it keeps gnuplot's margins) share one left margin, the longest
        // name's in character widths: their frames line up, row for row.
        size_t names = (size_t)figmodel_row_name_chars(m);
        // A third of a slide or less: the legend's type a little smaller, no padding around its entries.
        if (cols >= 3) fprintf(f.gp, "bnlab_key_font = bnlab_font(14)\nset key width 0 samplen 2 font bnlab_key_font\n");
        for (int i = 0; i < m->np; i++) {
            const figpanel_t *p = &m->p[i];
            if (p->inset) continue;  // an inset only in a figure of one panel
            if (names) fprintf(f.gp, p->nycat ? "set lmargin %zu\n" : "set lmargin -1\n", names + 3);
            if (explicit_keys && i < 64)
                fprintf(f.gp, "set key maxcols %d\nset bmargin %.1f\n", kper[i] > 0 ? kper[i] : 1, 3.6 + 1.1 * kmost[i - i % cols]);
            if (nk)
                fprintf(f.gp, "set origin %.4f,%.4f\nset size %.4f,%.4f\nset key off\n", (i % cols) * pw,
                        kh + (rows - 1 - i / cols) * ph, pw, ph);
            panel_title(&f, p);
            figure_cmd(&f, "set ylabel", "", "%s", p->ylabel);
            if (p->xlabel[0] || (i && m->p[i - 1].xlabel[0]))  // a panel's own, or the figure's again after one
                figure_cmd(&f, "set xlabel", "", "%s", p->xlabel[0] ? p->xlabel : m->xlabel);
            panel(&f, &b, p, i);
        }
        if (nk) one_key(&f, &b, keys, nk, kh);
        fprintf(f.gp, "unset multiplot\n");
    }
    free(b.s);
    return figure_close(&f);
}
