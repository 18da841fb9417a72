// figure.h — one gnuplot figure as bnlab makes it. The script DIR/plots/NAME.gp names no file but its own data
// file, data/NAME.dat (written here by C from the logs: nothing is filtered by awk or a shell), and its outputs,
// all relative to DIR/plots, which is gnuplot's working directory. So no path a user chose appears in a script
// or on a command line, and the directory may have any name. The only user text in a script is in titles,
// quoted here for gnuplot's single-quoted strings.
//
// Rendering writes NAME.png, NAME.svg and NAME.pdf under temporary names and renames each on success: a PNG is complete or
// absent, never empty or partial. A user can restyle and rerun a script: cd DIR/plots && gnuplot NAME.gp.
#ifndef BNLAB_FIGURE_H
#define BNLAB_FIGURE_H

#include <stdio.h>

#include "base/util.h"
#include "view/series.h"

typedef struct {
    char name[32];                               // accuracy, percentiles, ... (file names, not user text)
    char gp_path[BNLAB_PATH_MAX], dat_path[BNLAB_PATH_MAX];
    FILE *gp, *dat;
    int blocks;                                  // data blocks written so far: gnuplot's "index"
    int w, h;                                    // canvas in pixels (PNG, SVG; the PDF page at 96 per inch)
} figure_t;

// "lc rgb '#AARRGGBB'" for colour "#RRGGBB" (view/variant.h) with alpha "AA" ("" or NULL: opaque), into out.
void figure_lc(char out[24], const char *color, const char *alpha);
// A grid for n panels that stays readable: 1 x n up to 3, then 2 rows (4: 2 x 2, 6: 2 x 3, 8: 2 x 4).
void figure_grid(int n, int *rows, int *cols);

// Creates DIR/plots/NAME.gp (terminal, output and the settings every figure shares: slide-sized type, the
// legend below each panel) and DIR/plots/data/NAME.dat. The canvas is sized
// for a rows x cols grid of panels (at least 1600 x 900), extra_h pixels taller (legends of several rows), grown to the
// nearer of a slide's shapes, 16:9 or 4:3. The script chooses its output from the gnuplot
// variable bnlab_fmt ('png' by default, 'svg', 'pdf'); bnlab_font(PT) gives a font size that is PT on the PNG.
// -1 + message.
int figure_open(figure_t *f, const char *plots, const char *name, int rows, int cols, int extra_h);
// Appends text to out with its lines broken at spaces to at most about width characters (existing "\n" kept).
void figure_wrap(strbuf_t *out, const char *text, size_t width);
// Appends text as a gnuplot string expression: 'single quoted', a quote doubled, a newline as ."\n". .
void figure_quote(strbuf_t *b, const char *text);
// Writes "PREFIX 'formatted text' SUFFIX\n" (the text quoted).
void figure_cmd(figure_t *f, const char *prefix, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
// Appends s to the data file as one block; its index for "index N", or -1 if s has no finite row (nothing
// written: a curve without points is left out rather than making gnuplot fail).
int figure_series(figure_t *f, const series_t *s);
// Adds a curve to the plot command being built in b: 'data/NAME.dat' index BLOCK using SPEC, with its title
// (quoted) or notitle when title is NULL.
void figure_curve(const figure_t *f, strbuf_t *b, int block, const char *spec, const char *title);
// Writes "plot" and the curves in b, then empties b. With no curve, an empty frame with note in its middle (a
// panel with nothing logged, rather than gnuplot failing on it).
void figure_plot(figure_t *f, strbuf_t *b, const char *note);
// Axis 'x' or 'y' over [lo, hi] with ticks from view/axis.h (round steps, exact distinct labels, total for any
// ends); integer: no step below 1. Padded a little so that curves at the ends stay visible (a y range a little more).
void figure_axis(figure_t *f, char axis, double lo, double hi, int integer);
// A logarithmic y axis over whole decades around [lo, hi], ticked at powers of ten (axis.h).
void figure_yaxis_log(figure_t *f, double lo, double hi);
// bnlab plot's --xrange/--yrange/--xscale/--yscale: every axis written while these are set takes the range
// (has_range) and scale (0 linear, 1 log, -1 the figure's own) given. NULL: none.
typedef struct {
    int has_range[2];     // [0] x, [1] y
    double range[2][2];   // [axis][lo, hi]
    int scale[2];
} figure_overrides_t;
void figure_set_overrides(const figure_overrides_t *o);
// An x axis over [lo, hi], log10 when log, ticked at exactly the values v[0..n) (sorted, distinct, labelled as
// numbers: a sweep's grid); n = 0: round ticks (view/axis.h) and --xrange/--xscale apply.
void figure_xaxis_at(figure_t *f, double lo, double hi, const double *v, int n, int log);
// Closes both files, checking the writes. -1 + message.
int figure_close(figure_t *f);
// Renders DIR/plots/NAME.gp into NAME.png, NAME.svg and NAME.pdf (pdfcairo, which Debian's gnuplot-nox has). 0: done (gnuplot's warnings, if any, are passed on to
// stderr); 1 + message: gnuplot is not installed; -1 + message: gnuplot failed (its first error line and the
// script's path; no PNG left behind from this attempt).
int figure_render(const char *plots, const char *name);

#endif
