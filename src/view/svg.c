#include "view/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view/axis.h"

#define ML 74  // margins: tick labels and the y label on the left, the x label and a legend row below
#define MR 24
#define MT 30
#define MB 74

// Where data value v lies along [a, b] (log10 when lg), from 0 to 1: clamped, and 0.5 for a range that is not one
// (the frame is drawn whatever it is given).
static double unit(double v, double a, double b, int lg) {
    double u = lg ? (log10(v) - log10(a)) / (log10(b) - log10(a)) : (v - a) / (b - a);
    if (!isfinite(b - a) || !(b > a)) return 0.5;
    if (!(u >= 0)) u = 0;  // also NaN: a log of v <= 0
    return u > 1 ? 1 : u;
}

// The left margin: ML, or wide enough for the longest category name (about SVG_CAT_PX a character of the page's
// tick type; a character is one UTF-8 lead byte).
static int margin_left(const svg_frame_t *f) {
    size_t most = 0;
    for (int k = 0; k < f->nycat; k++) {
        size_t n = 0;
        for (const char *p = f->ycat[k]; *p; p++) n += ((unsigned char)*p & 0xC0) != 0x80;
        if (n > most) most = n;
    }
    int ml = 24 + SVG_CAT_PX * (int)most;
    return f->nycat && ml > ML ? (ml < 2 * f->w / 3 ? ml : 2 * f->w / 3) : ML;
}

double svg_x(const svg_frame_t *f, double x) {
    int ml = margin_left(f);
    return ml + unit(x, f->x0, f->x1, f->xlog) * (f->w - ml - MR);
}

double svg_y(const svg_frame_t *f, double y) { return f->h - MB - unit(y, f->y0, f->y1, f->ylog) * (f->h - MT - MB); }

static int inside(double v, double a, double b) { return v >= a - 1e-9 * fabs(b - a) && v <= b + 1e-9 * fabs(b - a); }

void svg_open(strbuf_t *b, const svg_frame_t *f, const char *cls, const char *attrs, const char *title,
              const char *ylabel) {
    strbuf_printf(b, "<svg class=\"%s\" %s viewBox=\"0 0 %d %d\" data-w=\"%d\">\n", cls, attrs, f->w, f->h, f->w);
    strbuf_printf(b, "<text x=\"%d\" y=\"18\" class=\"title\">", ML);
    for (const char *p = title; *p;) {  // one line: a "\n" of a gnuplot title becomes "; "
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *part = xmalloc(len + 1, "svg title");
        memcpy(part, p, len), part[len] = '\0';
        html_text(b, part);
        free(part);
        if (!nl) break;
        strbuf_printf(b, "; ");
        p = nl + 1;
    }
    int ml = margin_left(f);
    strbuf_printf(b, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", ml, MT,
                  f->w - ml - MR, f->h - MT - MB);
    axis_t ax, ay;
    axis_make(&ax, f->x0, f->x1, f->xlog, f->xinteger, 5);
    if (f->nxtick) {  // given values (a sweep's grid): those alone
        ax.n = 0;
        for (int i = 0; i < f->nxtick && i < AXIS_MAX_TICKS; i++) {
            ax.t[ax.n].v = f->xtick[i];
            snprintf(ax.t[ax.n++].label, sizeof ax.t[0].label, "%.10g", f->xtick[i]);
        }
    }
    axis_make(&ay, f->y0, f->y1, f->ylog, 0, 5);
    for (int i = 0; i < f->nxcat; i++) {
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">", svg_x(f, i), f->h - MB + 16);
        html_text(b, f->xcat[i]);
        strbuf_printf(b, "</text>\n");
    }
    if (f->nxcat) ax.n = 0;
    if (f->nycat) ay.n = 0;
    for (int i = 0; i < ax.n; i++)
        if (inside(ax.t[i].v, f->x0, f->x1) && ax.t[i].label[0]) {
            strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">", svg_x(f, ax.t[i].v),
                          f->h - MB + 20);
            html_text(b, ax.t[i].label);
            strbuf_printf(b, "</text>\n");
        }
    for (int k = 0; k < f->nycat; k++) {  // a category axis: its names, a grid line through each row (under cells)
        double y = svg_y(f, k);
        strbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">", ml - 6, y + 4);
        html_text(b, f->ycat[k]);
        strbuf_printf(b, "</text>\n<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", ml, f->w - MR, y, y);
    }
    for (int i = 0; i < ay.n && !f->nycat; i++) {
        if (!inside(ay.t[i].v, f->y0, f->y1)) continue;
        double y = svg_y(f, ay.t[i].v);
        if (ay.t[i].label[0]) {
            strbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">", ml - 4, y + 4);
            html_text(b, ay.t[i].label);
            strbuf_printf(b, "</text>\n");
        }
        strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", ml, f->w - MR, y, y);
    }
    strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">", (ml + f->w - MR) / 2,
                  f->h - MB + 44);
    html_text(b, f->xlabel ? f->xlabel : "training step");
    strbuf_printf(b, "</text>\n<text transform=\"translate(18,%d) rotate(-90)\" class=\"tick\" text-anchor=\"middle\">",
                  (MT + f->h - MB) / 2);
    html_text(b, ylabel);
    strbuf_printf(b, "</text>\n");
}

void svg_line(strbuf_t *b, const svg_frame_t *f, const double *x, int xs, const double *y, int ys, int n,
              const char *color, double width, double opacity, const char *dash) {
    int finite = 0;
    for (int i = 0; i < n; i++) finite += isfinite(y[(size_t)i * ys]) != 0;
    strbuf_printf(b, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"%g\" stroke-opacity=\"%g\""
                     " stroke-linecap=\"round\"%s%s%s points=\"", color, finite == 1 && width < 6 ? 6 : width, opacity,
                  dash && dash[0] ? " stroke-dasharray=\"" : "", dash && dash[0] ? dash : "", dash && dash[0] ? "\"" : "");
    for (int i = 0; i < n; i++) {
        double v = y[(size_t)i * ys];
        if (!isfinite(v)) continue;
        strbuf_printf(b, "%.1f,%.1f ", svg_x(f, x[(size_t)i * xs]), svg_y(f, v));
        if (finite == 1) strbuf_printf(b, "%.1f,%.1f ", svg_x(f, x[(size_t)i * xs]), svg_y(f, v));  // a dot
    }
    strbuf_printf(b, "\"/>\n");
}

void svg_band(strbuf_t *b, const svg_frame_t *f, const double *x, const double *lo, const double *hi, int s, int n,
              const char *color, double opacity, const char *cls) {
    strbuf_printf(b, "<polygon class=\"%s\" fill=\"%s\" fill-opacity=\"%g\" stroke=\"%s\" stroke-opacity=\"%g\" "
                     "stroke-width=\"1\" points=\"", cls, color, opacity, color, opacity);
    for (int i = 0; i < n; i++)
        if (isfinite(lo[(size_t)i * s]) && isfinite(hi[(size_t)i * s]))
            strbuf_printf(b, "%.1f,%.1f ", svg_x(f, x[(size_t)i * s]), svg_y(f, hi[(size_t)i * s]));
    for (int i = n - 1; i >= 0; i--)
        if (isfinite(lo[(size_t)i * s]) && isfinite(hi[(size_t)i * s]))
            strbuf_printf(b, "%.1f,%.1f ", svg_x(f, x[(size_t)i * s]), svg_y(f, lo[(size_t)i * s]));
    strbuf_printf(b, "\"/>\n");
}

int svg_key(strbuf_t *b, int x, int y, const char *color, const char *dash, const char *text) {
    strbuf_printf(b, "<line class=\"key\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s%s%s/>",
                  x, x + 24, y - 4, y - 4, color, dash && dash[0] ? " stroke-dasharray=\"" : "", dash && dash[0] ? dash : "",
                  dash && dash[0] ? "\"" : "");
    strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"legend\">", x + 28, y);
    html_text(b, text);
    strbuf_printf(b, "</text>\n");
    return x + 48 + 11 * (int)strlen(text);  // about 11 px a character of 17 px bold type (report.css)
}

void svg_legend(strbuf_t *b, const svg_entry_t *e, int n) {
    for (int i = 0; i < n;) {
        strbuf_t keys = {0};
        int x = 8;
        for (; i < n && (x < 700 || x == 8); i++) x = svg_key(&keys, x, 16, e[i].color, e[i].dash, e[i].text);
        strbuf_printf(b, "<svg class=\"legend-strip\" viewBox=\"0 0 %d 24\" style=\"max-width:%dpx\">\n%s</svg>\n", x, x,
                      keys.s ? keys.s : "");
        free(keys.s);
    }
}

void html_text(strbuf_t *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') strbuf_printf(b, "&lt;");
        else if (*s == '>') strbuf_printf(b, "&gt;");
        else if (*s == '&') strbuf_printf(b, "&amp;");
        else if (*s == '"') strbuf_printf(b, "&quot;");
        else strbuf_printf(b, "%c", *s);
    }
}
