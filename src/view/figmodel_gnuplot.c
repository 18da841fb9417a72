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
        snprintf(spec, sizeof spec, "1:2 with points pt %d ps %g lw %g %s", pt, c->kind == CURVE_POINTS ? c->width / 2 : 2,
                 c->kind == CURVE_POINTS ? fmin(c->width, 4) : c->width, lc);
    else if (c->bare) snprintf(spec, sizeof spec, "1:2 with lines lw %g dt %s %s", c->width, view_dash_gnuplot(c->style), lc);
    else if (few) snprintf(spec, sizeof spec, "1:2 with linespoints pt %d ps 1.5 lw %g dt %s %s", pt, c->width,
                           view_dash_gnuplot(c->style), lc);
    else snprintf(spec, sizeof spec, "1:2 with linespoints pt %d ps 1.5 pi %d lw %g dt %s %s", pt,
                  c->data.n / 8 + 1 + 3 * c->style, c->width, view_dash_gnuplot(c->style), lc);
    figure_curve(f, b, block, spec, c->label[0] ? c->label : NULL);
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
            figure_cmd(&f, "set xlabel", "", "%s", p->xlabel[0] ? p->xlabel : m->xlabel);
            for (int k = 0; k < p->nc; k++)  // bands first, under the lines
                if (p->c[k].kind == CURVE_BAND) curve(&f, &b, &p->c[k]);
            for (int k = 0; k < p->nc; k++)
                if (p->c[k].kind != CURVE_BAND) curve(&f, &b, &p->c[k]);
            figure_axis(&f, 'x', p->x0, p->x1, 1);
            const char *cats[FIG_MAX_CATS];
            for (int k = 0; k < p->nycat && k < FIG_MAX_CATS; k++) cats[k] = p->ycat[k];
            if (p->nycat) figure_yaxis_categories(&f, cats, p->nycat < FIG_MAX_CATS ? p->nycat : FIG_MAX_CATS);
            else if (p->ylog) figure_yaxis_log(&f, p->y0, p->y1);
            else figure_axis(&f, 'y', p->y0, p->y1, 0);
            figure_plot(&f, &b, p->note[0] ? p->note : "nothing logged");
        }
        fprintf(f.gp, "unset multiplot\n");
    }
    free(b.s);
    return figure_close(&f);
}
