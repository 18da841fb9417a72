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

// Rows of numbers, the points of one curve (or band) in x order; a row with a non-finite value breaks the line.
typedef struct {
    double *v;  // (n x cols) row-major
    int cols, n, cap;
} series_t;
void series_init(series_t *s, int cols);
void series_add(series_t *s, const double *row);
// Index of the last row whose values are all finite, or -1.
int series_last_finite(const series_t *s);
void series_free(series_t *s);

typedef struct {
    char name[32];                               // accuracy, percentiles, ... (file names, not user text)
    char gp_path[BNLAB_PATH_MAX], dat_path[BNLAB_PATH_MAX];
    FILE *gp, *dat;
    int blocks;                                  // data blocks written so far: gnuplot's "index"
    int w, h;                                    // canvas in pixels (PNG, SVG; the PDF page at 96 per inch)
} figure_t;

// Colour k (1-based, cycling) of the Okabe-Ito palette, as "#RRGGBB"; the script's linetypes 1.. are these.
const char *figure_color(int k);
// A grid for n panels that stays readable: 1 x n up to 3, then 2 rows (4: 2 x 2, 6: 2 x 3, 8: 2 x 4).
void figure_grid(int n, int *rows, int *cols);

// Creates DIR/plots/NAME.gp (terminal, output and the settings every figure shares: slide-sized type, the
// Okabe-Ito palette as linetypes, the legend below each panel) and DIR/plots/data/NAME.dat. The canvas is sized
// for a rows x cols grid of panels (at least 1600 x 900). The script chooses its output from the gnuplot
// variable bnlab_fmt ('png' by default, 'svg', 'pdf'); bnlab_font(PT) gives a font size that is PT on the PNG.
// -1 + message.
int figure_open(figure_t *f, const char *plots, const char *name, int rows, int cols);
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
// x range [lo, hi] with ticks chosen here: about 6 round steps (1, 2, 5 x 10^k; whole numbers if integer), each
// label exact and different from the others (10k for 10,000 only when every tick is a multiple of 1,000). A
// degenerate range is widened around its value.
void figure_xaxis(figure_t *f, double lo, double hi, int integer);
// The same for axis 'x' or 'y' (a y range is padded a little more, so curves at the ends stay visible).
void figure_axis(figure_t *f, char axis, double lo, double hi, int integer);
// A logarithmic y axis over whole decades around [lo, hi] (lo > 0), ticks at 1, 2, 5 x 10^k labelled exactly.
void figure_yaxis_log(figure_t *f, double lo, double hi);
// A log x axis (when log) or a linear one with ticks at exactly the values v[0..n) (sorted, distinct).
void figure_xaxis_at(figure_t *f, const double *v, int n, int log);
// Closes both files, checking the writes. -1 + message.
int figure_close(figure_t *f);
// Renders DIR/plots/NAME.gp into NAME.png, NAME.svg and NAME.pdf (pdfcairo, which Debian's gnuplot-nox has). 0: done (gnuplot's warnings, if any, are passed on to
// stderr); 1 + message: gnuplot is not installed; -1 + message: gnuplot failed (its first error line and the
// script's path; no PNG left behind from this attempt).
int figure_render(const char *plots, const char *name);

#endif
