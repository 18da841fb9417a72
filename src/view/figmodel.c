#include "view/figmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void figmodel_init(figmodel_t *m, const char *name, int np, int cols) {
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->xlabel, sizeof m->xlabel, "training step");
    m->np = np, m->cols = cols < 1 ? 1 : cols;
    m->p = np ? xcalloc((size_t)np, sizeof *m->p, "figure panels") : NULL;
}

void figmodel_free(figmodel_t *m) {
    for (int i = 0; i < m->np; i++)
        for (int k = 0; k < m->p[i].nc; k++) series_free(&m->p[i].c[k].data);
    free(m->p);
    memset(m, 0, sizeof *m);
}

figcurve_t *figmodel_add(figpanel_t *p, figcurve_kind_t kind, const series_t *s, int x, int y, int y2, const char *color,
                         int style, double width, double opacity, const char *label) {
    if (p->nc == FIG_MAX_CURVES) return NULL;
    figcurve_t *c = &p->c[p->nc++];
    *c = (figcurve_t){.kind = kind, .color = color, .style = style, .width = width, .opacity = opacity};
    snprintf(c->label, sizeof c->label, "%s", label ? label : "");
    int cols = kind == CURVE_BAND ? 3 : kind == CURVE_RANGE ? 4 : 2;
    if (kind == CURVE_CELLS) {
        series_init(&c->data, s->cols);
        for (int r = 0; r < s->n; r++) series_add(&c->data, s->v + (size_t)r * (size_t)s->cols);
        return c;
    }
    series_init(&c->data, cols);
    for (int r = 0; r < s->n; r++) {
        const double *row = s->v + (size_t)r * (size_t)s->cols;
        double out[4] = {row[x], row[y], cols > 2 ? row[y2] : 0, cols > 3 ? row[y2 + 1] : 0};
        series_add(&c->data, out);
    }
    return c;
}

void figmodel_progress(figpanel_t *p, const double *last, int n) {
    double lo = INFINITY, hi = -INFINITY;
    int logged = 0;
    for (int k = 0; k < n; k++)
        if (isfinite(last[k])) lo = fmin(lo, last[k]), hi = fmax(hi, last[k]), logged++;
    if (logged && lo < hi && lo > 0 && (p->fewer_after == 0 || lo < p->fewer_after)) p->fewer_after = lo;
    if (logged && (p->seeds_total == 0 || logged < p->seeds_logged)) p->seeds_logged = logged, p->seeds_total = n;
}

figcurve_t *figmodel_add_seeds(figpanel_t *p, const series_t *runs, int n, int y, const char *color, int style,
                               const char *label) {
    series_t all, med;
    series_init(&all, 2);
    double last[64];
    for (int k = 0; k < n && k < 64; k++) last[k] = runs[k].n ? runs[k].v[(size_t)(runs[k].n - 1) * (size_t)runs[k].cols] : NAN;
    if (n > 1) figmodel_progress(p, last, n < 64 ? n : 64);
    for (int k = 0; k < n; k++) {
        if (n > 1 && runs[k].n) figmodel_add(p, CURVE_LINE, &runs[k], 0, y, 0, color, style, 1.2, 0.35, NULL);
        for (int r = 0; r < runs[k].n; r++) {
            const double *row = runs[k].v + (size_t)r * (size_t)runs[k].cols;
            series_add(&all, (double[2]){row[0], row[y]});
        }
    }
    series_median_by_step(&all, &med);
    figcurve_t *c = med.n ? figmodel_add(p, CURVE_LINE, &med, 0, 1, 0, color, style, 3, 1, label) : NULL;
    series_free(&all), series_free(&med);
    return c;
}

int figmodel_cell(const figcurve_t *c, int r, char fill[8], char ink[8], char *text, size_t cap) {
    const double *row = c->data.v + (size_t)r * (size_t)c->data.cols;
    double v = row[2], marked = c->data.cols > 3 ? row[3] : 0, of = c->data.cols > 4 ? row[4] : 0;
    snprintf(ink, 8, "#000000");
    if (marked > 0) {  // hatched; the value of the seeds that completed too, when some did
        snprintf(fill, 8, "#BBBBBB");
        if (isfinite(v)) snprintf(text, cap, "%.*f\n%.0f of %.0f diverged", c->digits, v, marked, of);
        else if (v > 0) snprintf(text, cap, "never\n%.0f of %.0f diverged", marked, of);
        else if (of > 1) snprintf(text, cap, "diverged\n%.0f of %.0f", marked, of);
        else snprintf(text, cap, "diverged");
        return 1;
    }
    if (!isfinite(v)) {
        snprintf(fill, 8, "#FFFFFF");
        snprintf(text, cap, "%s", v > 0 ? "never" : "no run");
        return 0;
    }
    double t = c->hi != c->lo ? (v - c->lo) / (c->hi - c->lo) : 1;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    // view_shade's scale stretched to white: shade k of 100 goes 60 % of the way; here (1 - t) of all the way.
    unsigned rgb = 0;
    if (sscanf(c->color + (c->color[0] == '#'), "%6x", &rgb) != 1) rgb = 0x777777;
    int ch[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255};
    double lum = 0;
    for (int i = 0; i < 3; i++) ch[i] = (int)(ch[i] + (1 - t) * (255 - ch[i]) + 0.5), lum += ch[i] * (i == 1 ? 0.587 : i ? 0.114 : 0.299);
    snprintf(fill, 8, "#%02X%02X%02X", ch[0], ch[1], ch[2]);
    if (lum < 140) snprintf(ink, 8, "#FFFFFF");
    snprintf(text, cap, "%.*f", c->digits, v);
    return 0;
}

void figmodel_finish(figmodel_t *m, int share_y, int allow_log, int x_from_zero) {
    double x0 = INFINITY, x1 = -INFINITY, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < m->np; i++)
        for (int k = 0; k < m->p[i].nc && !m->p[i].xfixed; k++) series_extent(&m->p[i].c[k].data, 0, 0, &x0, &x1);
    if (x_from_zero && x0 > 0) x0 = 0;
    for (int i = 0; i < m->np; i++) {
        figpanel_t *p = &m->p[i];
        if (!p->xfixed) p->x0 = x0, p->x1 = x1;
        if (!p->xfixed && p->nxtick) {  // ticks at given values: the range around them
            double lo = p->xtick[0], hi = p->xtick[p->nxtick - 1];
            double pad = hi > lo ? 0.05 * (hi - lo) : (lo != 0 ? 0.1 * fabs(lo) : 1);
            if (p->xlog && lo > 0) p->x0 = lo / 1.3, p->x1 = hi * 1.3;
            else p->x0 = lo - pad, p->x1 = hi + pad;
        }
        if (p->nycat) p->y0 = -0.5, p->y1 = p->nycat - 0.5, p->yfixed = 1, p->ylog = 0;
        if (p->yfixed) continue;
        double plo = INFINITY, phi = -INFINITY;
        for (int k = 0; k < p->nc; k++) series_extent(&p->c[k].data, 1, p->c[k].data.cols - 1, &plo, &phi);
        if (share_y && !p->inset) lo = fmin(lo, plo), hi = fmax(hi, phi);
        else p->y0 = plo, p->y1 = phi;
    }
    for (int i = 0; i < m->np; i++) {
        figpanel_t *p = &m->p[i];
        if (p->yfixed) continue;
        if (share_y && !p->inset) p->y0 = lo, p->y1 = hi;
        p->ylog = allow_log && p->y0 > 0 && p->y1 / p->y0 >= 100;
    }
}

void figmodel_xshift(const figpanel_t *p, const figcurve_t *c, double *mul, double *add) {
    *mul = 1, *add = 0;
    if (c->xshift == 0 || !(p->x1 > p->x0)) return;
    if (p->xlog && p->x0 > 0) *mul = pow(p->x1 / p->x0, c->xshift);
    else *add = c->xshift * (p->x1 - p->x0);
}

int figmodel_row_name_chars(const figmodel_t *m) {
    int names = 0, heatmap = 0;
    for (int i = 0; i < m->np; i++)
        for (int k = 0; k < m->p[i].nc; k++) heatmap |= m->p[i].c[k].kind == CURVE_CELLS;
    for (int i = 0; i < m->np && !heatmap; i++)
        for (int k = 0; k < m->p[i].nycat; k++) {
            int n = 0;
            for (const char *q = m->p[i].ycat[k]; *q; q++) n += ((unsigned char)*q & 0xC0) != 0x80;
            names = n > names ? n : names;
        }
    return names;
}

// Where (x, y) is drawn in panel p, as fractions of its frame (log where the axis is); 0 if not drawn.
static int frame_frac(const figpanel_t *p, double x, double y, double *fx, double *fy) {
    if (!isfinite(x) || !isfinite(y) || (p->ylog && y <= 0) || (p->xlog && x <= 0)) return 0;
    *fx = p->xlog ? log(x / p->x0) / log(p->x1 / p->x0) : (x - p->x0) / (p->x1 - p->x0);
    *fy = p->ylog ? log(y / p->y0) / log(p->y1 / p->y0) : (y - p->y0) / (p->y1 - p->y0);
    return *fx >= 0 && *fx <= 1 && *fy >= 0 && *fy <= 1;
}

void figmodel_text_box(const figmodel_t *m, const figpanel_t *p, double *w, double *h) {
    int chars = 0;
    for (int k = 0; k < p->ntext; k++) {
        int n = 0;
        for (const char *q = p->text[k]; *q; q++) n += ((unsigned char)*q & 0xC0) != 0x80;
        chars = n > chars ? n : chars;
    }
    svg_frame_t f = {.w = FIGMODEL_SVG_W, .h = FIGMODEL_SVG_H, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
    double fw = svg_x(&f, 1) - svg_x(&f, 0), fh = svg_y(&f, 0) - svg_y(&f, 1);
    // SVG: 6 px in, the characters, the white halo's 2 px; the lines, the last one's descent and the halo.
    double sw = (6 + 0.62 * FIGMODEL_TEXT_PX * chars + 2) / fw, sh = (FIGMODEL_TEXT_LINE_PX * p->ntext + 6) / fh;
    // The slide: a line of 15-point type about 29 px on the PNG, 12 px in from the frame; the frame's height from the
    // canvas view/figure.c opens for rows of panels (900 px for one row, 200 + 470 a row beyond; growing it to a
    // slide's shape only makes the estimate safer), less a quarter for the figure's title and legend and 150 px a
    // panel for its title, tick labels and x label.
    int rows = m->np > 0 && m->cols > 0 ? (m->np + m->cols - 1) / m->cols : 1;
    double canvas = rows <= 1 ? 900 : 200 + 470 * rows, frame = 0.75 * canvas / rows - 150;
    double gw = 0.02 + chars * (m->cols == 1 ? 0.4 : 0.8) / 55, gh = (12 + 29.0 * p->ntext) / (frame > 100 ? frame : 100);
    *w = sw > gw ? sw : gw, *h = sh > gh ? sh : gh;
    if (*w > 1) *w = 1;
    if (*h > 1) *h = 1;
}

int figmodel_place_text(figpanel_t *p, double w, double h) {
    int count[4] = {0};
    for (int k = 0; k < p->nc; k++) {
        const figcurve_t *c = &p->c[k];
        if (c->kind == CURVE_CELLS || c->opacity < 1) continue;  // a faint curve may lie under the text's white ground
        for (int col = 1; col < c->data.cols; col++)  // y, and a band's or range's other ends
            for (int r = 0; r < c->data.n; r++) {
                const double *row = c->data.v + (size_t)r * (size_t)c->data.cols;
                const double *next = r + 1 < c->data.n ? row + c->data.cols : NULL;
                // A point, and for a line the way to the next one (a line of two points crosses a corner too).
                int steps = next && (c->kind == CURVE_LINE || (c->kind == CURVE_RANGE && col == 1)) ? 20 : 1;
                double ax, ay, bx, by;
                int a = frame_frac(p, row[0], row[col], &ax, &ay), b = next ? frame_frac(p, next[0], next[col], &bx, &by) : 0;
                for (int t = 0; t < steps; t++) {
                    double fx = ax, fy = ay;
                    if (t && a && b) fx = ax + (bx - ax) * t / steps, fy = ay + (by - ay) * t / steps;
                    else if (t || !a) continue;
                    for (int corner = 0; corner < 4; corner++) {
                        int right = corner & 1, top = corner < 2;
                        count[corner] += (right ? fx >= 1 - w : fx <= w) && (top ? fy >= 1 - h : fy <= h);
                    }
                }
            }
    }
    static const int pref[4] = {1, 0, 3, 2};
    p->text_corner = pref[0];
    for (int k = 1; k < 4; k++)
        if (count[pref[k]] < count[p->text_corner]) p->text_corner = pref[k];
    return count[p->text_corner];
}
