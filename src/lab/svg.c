#include "lab/svg.h"

#include <math.h>
#include <string.h>

#define ML 60  // margins: tick labels and the y label on the left, the x label and a legend row below
#define MR 24
#define MT 30
#define MB 74

double svg_nice_step(double lo, double hi) {
    double raw = (hi - lo) / 4, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

double svg_x(const svg_frame_t *f, double x) { return ML + (x - f->x0) / (f->x1 - f->x0) * (f->w - ML - MR); }

double svg_y(const svg_frame_t *f, double y) {
    double u = f->ylog ? (log10(y) - log10(f->y0)) / (log10(f->y1) - log10(f->y0)) : (y - f->y0) / (f->y1 - f->y0);
    if (!(u >= 0)) u = 0;  // also a log of y <= 0
    if (u > 1) u = 1;
    return f->h - MB - u * (f->h - MT - MB);
}

static void ytick(strbuf_t *b, const svg_frame_t *f, double yv, double label) {
    strbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%.6g</text>\n", ML - 4,
                  svg_y(f, yv) + 4, label);
    strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", ML, f->w - MR,
                  svg_y(f, yv), svg_y(f, yv));
}

static void yticks(strbuf_t *b, const svg_frame_t *f) {
    if (f->ylog) {  // 1, 2, 5 x 10^k over up to 2 decades; over more, every e-th decade (at most 7 labels)
        double decades = log10(f->y1 / f->y0);
        int step = decades > 2.5 ? 10 : 1, e = decades > 7 ? (int)ceil(decades / 7) : 1;
        for (double d = pow(10, floor(log10(f->y0))); d <= f->y1; d *= pow(10, e))
            for (int m = 1; m <= 5; m += m == 1 ? step : 3)
                if (m * d >= f->y0 * (1 - 1e-9) && m * d <= f->y1 * (1 + 1e-9)) ytick(b, f, m * d, m * d);
        return;
    }
    double ys = svg_nice_step(f->y0, f->y1);
    for (double yv = ceil(f->y0 / ys - 1e-9) * ys; yv <= f->y1 + ys * 1e-9; yv += ys)
        ytick(b, f, yv, fabs(yv) < ys * 1e-9 ? 0 : yv);
}

void svg_open(strbuf_t *b, const svg_frame_t *f, const char *cls, const char *attrs, const char *title,
              const char *ylabel) {
    strbuf_printf(b, "<svg class=\"%s\" %s width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", cls, attrs, f->w,
                  f->h, f->w, f->h);
    strbuf_printf(b, "<text x=\"%d\" y=\"18\" class=\"title\">", ML);
    html_text(b, title);
    strbuf_printf(b, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", ML, MT,
                  f->w - ML - MR, f->h - MT - MB);
    double xs = svg_nice_step(f->x0, f->x1);
    for (double xv = ceil(f->x0 / xs - 1e-9) * xs; xv <= f->x1 + xs * 1e-9; xv += xs)
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%.6g</text>\n",
                      svg_x(f, xv), f->h - MB + 16, fabs(xv) < xs * 1e-9 ? 0 : xv);
    yticks(b, f);
    strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">steps</text>\n",
                  (ML + f->w - MR) / 2, f->h - MB + 34);
    strbuf_printf(b, "<text transform=\"translate(14,%d) rotate(-90)\" class=\"tick\" text-anchor=\"middle\">",
                  (MT + f->h - MB) / 2);
    html_text(b, ylabel);
    strbuf_printf(b, "</text>\n");
}

void svg_line(strbuf_t *b, const svg_frame_t *f, const double *x, int xs, const double *y, int ys, int n,
              const char *color, double width, double opacity, int dashed) {
    int finite = 0;
    for (int i = 0; i < n; i++) finite += isfinite(y[(size_t)i * ys]) != 0;
    strbuf_printf(b, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"%g\" stroke-opacity=\"%g\""
                     " stroke-linecap=\"round\"%s points=\"", color, finite == 1 && width < 6 ? 6 : width, opacity,
                  dashed ? " stroke-dasharray=\"6 4\"" : "");
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

int svg_key(strbuf_t *b, int x, int y, const char *color, const char *text) {
    strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>", x, x + 18,
                  y - 4, y - 4, color);
    strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"legend\">", x + 22, y);
    html_text(b, text);
    strbuf_printf(b, "</text>\n");
    return x + 40 + 8 * (int)strlen(text);
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
