// svg.h — the report's charts as inline SVG text (lab/report.h): a framed panel with round ticks, lines through
// rows of numbers, bands between two of their columns. Data map to the frame linearly, or (ylog, xlog) by log10.
// A line is of class "series", so a test can count what a panel draws.
#ifndef BNLAB_SVG_H
#define BNLAB_SVG_H

#include "base/util.h"

#define SVG_CAT_LEN 64  // a y category's name, bytes
#define SVG_CAT_PX 11   // the width of a character of a category's name in the viewBox (report.css: 19 px type)

typedef struct {
    int w, h;               // the viewBox in pixels; the page scales it to the window's width
    double x0, x1, y0, y1;  // the data range shown (y0 > 0 when ylog)
    int ylog;               // y: log10 scale, ticked at powers of ten
    const char *xlabel;     // NULL: "training step"
    const char (*xcat)[24]; // nxcat > 0: x is categorical, ticked with xcat[i] at x = i (a heatmap's); y alike
    const char (*ycat)[SVG_CAT_LEN];  // long names (the ladder's rows): the left margin widens to fit them
    int nxcat, nycat;
    int xinteger;           // x ticks at whole numbers only (steps, layers)
    int xlog;               // x: log10 scale (x0 > 0)
    const double *xtick;    // nxtick > 0: x ticked at these values alone, labelled "%.10g" (a sweep's grid values)
    int nxtick;
} svg_frame_t;

// Pixel x of data x, pixel y of data y, clamped to the frame; any frame (equal or non-finite ends) gives a pixel.
double svg_x(const svg_frame_t *f, double x);
double svg_y(const svg_frame_t *f, double y);
// Opens <svg class=CLS ATTRS> and draws its title, frame, grid, tick labels (view/axis.h), the x label and ylabel
// (title, ylabel: markup-free text of bnlab's own; attrs: extra attributes, may be ""). Close with "</svg>".
void svg_open(strbuf_t *b, const svg_frame_t *f, const char *cls, const char *attrs, const char *title,
              const char *ylabel);
// A line through (x[i*xs], y[i*ys]), i < n, skipping non-finite y; one point is drawn as a dot (round caps). dash:
// an SVG dash array (view_dash_svg), "" or NULL for solid.
void svg_line(strbuf_t *b, const svg_frame_t *f, const double *x, int xs, const double *y, int ys, int n,
              const char *color, double width, double opacity, const char *dash);
// A filled band between lo[i*s] and hi[i*s] (same x), over the rows where both are finite, of class cls.
void svg_band(strbuf_t *b, const svg_frame_t *f, const double *x, const double *lo, const double *hi, int s, int n,
              const char *color, double opacity, const char *cls);
// A legend entry at (x, y): a line sample in color and dash, then text (escaped). Returns the x after it.
int svg_key(strbuf_t *b, int x, int y, const char *color, const char *dash, const char *text);
// A legend of its own above a row of panels: entries (colour, dash, text) in strips of at most about 900 pixels.
typedef struct {
    const char *color, *dash, *text;
} svg_entry_t;
void svg_legend(strbuf_t *b, const svg_entry_t *e, int n);
// Appends s with <, > and & escaped (HTML text and attribute values in double quotes: also ").
void html_text(strbuf_t *b, const char *s);

#endif
