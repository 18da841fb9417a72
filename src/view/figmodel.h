// figmodel.h — a figure described once, for any renderer: panels in a grid, each with its title, axes (label, range,
// linear or log) and curves (lines, bands, points) in the colours and styles of view/variant.h, or a note saying why
// it has none. Two thin renderers draw it: view/figure.h's gnuplot scripts for slides (figmodel_gnuplot) and the report's
// inline SVG (figmodel_svg, no file I/O). A figure kind built this way (lab/figures.h) is one builder function and
// appears in bnlab plot and in bnlab report alike.
#ifndef BNLAB_VIEW_FIGMODEL_H
#define BNLAB_VIEW_FIGMODEL_H

#include "base/util.h"
#include "view/figure.h"
#include "view/svg.h"

#define FIG_MAX_CURVES 64
#define FIG_MAX_CAT 16
#define FIG_MAX_TEXT 8  // lines of a panel's text (figpanel_t.text)
#define FIG_CAT_LEN SVG_CAT_LEN  // a y category's name (the ladder's rows), bytes

// CURVE_CELLS: a heatmap's cells, rows (column index, row index, value, marked, of): a square at each (x, y) of the
// panel's categories (figpanel_t.xcat, ycat), filled with a shade of the curve's colour by where value lies from lo
// to hi (lo white, hi the colour itself; hi < lo: smaller is darker) and labelled with the value (figcurve_t.digits
// decimals), +inf labelled "never" (white); a cell with marked > 0 is
// hatched (grey lines on white) and labelled "diverged" (marked of `of` when of > 1: seeds) — or, when its value is
// not NaN (some seeds did not diverge: the value is theirs), the value over "K of N diverged"; a NaN value otherwise
// "no run".
// CURVE_RANGE: rows (x, y, lo, hi): points joined by a line, each with an error bar from lo to hi (a sweep's median
// over seeds and their range).
typedef enum { CURVE_LINE, CURVE_BAND, CURVE_POINTS, CURVE_CELLS, CURVE_RANGE } figcurve_kind_t;

typedef struct {
    figcurve_kind_t kind;
    series_t data;        // owned: rows (x, y) for a line or points, (x, lo, hi) for a band, in x order
    const char *color;    // "#RRGGBB" (view/variant.h)
    int style;            // line style and marker (view_dash_*, view_point_gnuplot); FIG_CROSS: points as crosses
#define FIG_CROSS (-1)    //   (a run's divergence, lab/figures.h fig_mark_diverged)
    double width;         // line width (page pixels; gnuplot's lw); points: the marker's radius (gnuplot's ps width / 2)
    double opacity;       // 1: opaque; a faint seed 0.35; a band about 0.2
    int dashed;           // 1: dashed whatever the style (a training-loss line beside the test loss)
    char label[160];      // legend text; "" for none
    double lo, hi;        // CURVE_CELLS: the values drawn white and in the full colour
    int digits;           // CURVE_CELLS: decimals of a cell's text
    int bare;             // a line without markers: a reference (a theory's value), not data (set after figmodel_add)
    int marker;           // > 0: marker number marker - 1 (view_point_gnuplot) instead of style's (a sweep: one per
                          // variant, as the dashes go by class); the SVG draws every marker as a dot (set after add)
    double xshift;        // drawn this fraction of the panel's width to the side (figmodel_xshift), so that points of
                          // several variants at one x do not hide each other; the data keep their x (set after add)
} figcurve_t;

typedef struct {
    char title[192], ylabel[96];
    char xlabel[96];        // "" : the figure's (figmodel_t.xlabel); a panel's own when its x is another quantity
    double x0, x1, y0, y1;  // the axes (figmodel_finish sets those not fixed)
    int ylog, yfixed, xfixed;  // fixed: figmodel_finish leaves that axis as the builder set it
    int xlog;               // x on a log10 scale (the builder sets it; x0 > 0)
    double xtick[FIG_MAX_CAT];  // nxtick > 0: x ticked at these values alone (ascending), labelled as numbers ("%.10g":
    int nxtick;                 // a sweep's grid values); figmodel_finish pads the x range around them
    int inset;              // 1: drawn inside the panel before it (an enlarged corner of it), over box (x, y, w, h):
    double box[4];          //    fractions of that panel's area from its lower left; only in a figure of one panel
    figcurve_t c[FIG_MAX_CURVES];
    int nc;
    char note[256];         // drawn in the panel's middle when it has no curve
    double fewer_after;     // > 0 (x): the seeds' logs end at different steps, and after this one fewer of them
                            // count: a dashed line there, "fewer seeds after step N" (0: none)
    int seeds_logged, seeds_total;  // seeds_logged < seeds_total: "(K of N seeds logged so far)" after the title
    // Categorical axes (a heatmap's, the ladder's rows; 0: the axis is numeric): xcat[i] names x = i, ycat[k] y = k
    // (k = 0 at the bottom). figmodel_finish fixes a category y axis to [-0.5, n - 0.5]; the renderers write the
    // names as its tick labels (the left margin fits long y names; --yrange and --yscale do not apply to it).
    char xcat[FIG_MAX_CAT][24], ycat[FIG_MAX_CAT][FIG_CAT_LEN];
    int nxcat, nycat;
    // Lines written inside the panel, in one corner over a white ground: numbers that differ from panel to panel
    // while the legend is the figure's (a fitted growth per network), each in text_color[k] (its curve's colour).
    // text_corner: 0 top left, 1 top right, 2 bottom left, 3 bottom right (figmodel_place_text chooses it).
    char text[FIG_MAX_TEXT][96];
    const char *text_color[FIG_MAX_TEXT];
    int ntext, text_corner;
} figpanel_t;

typedef struct {
    char name[32];          // the kind: plots/NAME.{png,svg,pdf}, report section id
    char title[512];        // the figure's title ("\n" breaks a line)
    char xlabel[96];
    figpanel_t *p;
    int np, cols;           // panels, and panels per row of the grid
    char note[512];         // a figure with no panel at all (nothing to draw): why
    int one_key;            // gnuplot: one legend for the whole figure, in a strip below the panels, instead of one
                            // below each (many variants over many panels: the panels keep their height)
} figmodel_t;

// np panels (np may be 0: then note says why there is no figure), cols per row.
void figmodel_init(figmodel_t *m, const char *name, int np, int cols);
void figmodel_free(figmodel_t *m);
// Adds a curve to panel p (its data copied from s's columns x, y and, for a band, y2; for a range y2 (lo) and the
// column after it (hi); for cells every column of s, which has 5). NULL when the panel is full.
figcurve_t *figmodel_add(figpanel_t *p, figcurve_kind_t kind, const series_t *s, int x, int y, int y2, const char *color,
                     int style, double width, double opacity, const char *label);
// Every seed of one variant faint (when there are several: width 1.2, opacity 0.35, no legend entry) and their median
// at each step thick (view/series.h, width 3, label), column y of runs[0..n) (x in column 0). The median's curve, or
// NULL if no seed has a row (or the panel is full).
figcurve_t *figmodel_add_seeds(figpanel_t *p, const series_t *runs, int n, int y, const char *color, int style,
                               const char *label);
// What seeds a panel's medians come from: last[k] is seed k's last logged x (NaN: nothing logged yet), k < n. Sets
// fewer_after and seeds_logged/total (a comparison caught while going); several calls keep the earliest.
void figmodel_progress(figpanel_t *p, const double *last, int n);
// The panels' x range [0 or the smallest x, the largest x] over all panels, and y ranges over the finite values:
// shared by all panels (share_y) or each its own (ticks at given values, nxtick: the x range from them, padded by a
// factor 1.3 on a log axis, 5 % of their span on a linear one) (an inset: neither); an axis not fixed; logarithmic when allow_log and every value is
// > 0 and they span a factor of 100 or more. Points exist only at the steps logged: a curve with one point is drawn
// as a marker.
void figmodel_finish(figmodel_t *m, int share_y, int allow_log, int x_from_zero);

// The box panel p's text (figpanel_t.text) takes in either renderer, as fractions of the frame (the larger of the two
// in each direction, so that a corner free for it is free in both): the report's SVG (FIGMODEL_TEXT_PX type on
// lines FIGMODEL_TEXT_LINE_PX apart, 6 px in from the frame, in a frame of FIGMODEL_SVG_W x FIGMODEL_SVG_H less its
// margins; a character 0.62 of the type's size, DejaVu Sans's digits and letters at most) and the slide (gnuplot's
// 15-point labels, a line about 29 px of the frame's height as the canvas of m's rows of panels gives it, a character
// about 0.73 % of a one-column panel's width, 1.45 % of one of several columns', as measured on the PNG).
void figmodel_text_box(const figmodel_t *m, const figpanel_t *p, double *w, double *h);
// Panel p's text (figpanel_t.text) into the corner whose box of w x h (fractions of the frame: the text's size as the
// caller estimates it) holds the fewest points of its opaque curves (faint ones may lie under the text; on its axes as drawn: log where they are; a line's
// way between its points too), top right first on a tie, then top left, bottom right, bottom left. Returns the points
// in that box. After figmodel_finish.
int figmodel_place_text(figpanel_t *p, double w, double h);

// Where curve c of panel p is drawn: data x at x * *mul + *add (its xshift: a fraction of the panel's width, as a
// factor on a log x axis). Both renderers draw through it.
void figmodel_xshift(const figpanel_t *p, const figcurve_t *c, double *mul, double *add);

// The longest row name (ycat) of any panel, in characters (UTF-8 code points): the left margin both renderers
// give panels with named rows, so that their frames line up. 0 for a heatmap (it keeps the default margins).
int figmodel_row_name_chars(const figmodel_t *m);

// Cell r of a CURVE_CELLS curve: its fill, the ink its text is legible in (white on a dark fill), and its text;
// 1 when the cell is hatched (a diverged one: fill is then the hatch lines' colour), else 0.
int figmodel_cell(const figcurve_t *c, int r, char fill[8], char ink[8], char *text, size_t cap);

// Writes plots/NAME.gp and its data (view/figure.h; the caller renders it). -1 + message.
int figmodel_gnuplot(const char *plots, const figmodel_t *m);
// The width of every panel figmodel_svg draws (its viewBox; the page scales it to the window).
#define FIGMODEL_SVG_W 520
#define FIGMODEL_SVG_H 320       // its height (a panel of more than 8 named rows: taller)
#define FIGMODEL_TEXT_PX 12      // a panel's text (figpanel_t.text): its type, and the distance of its lines
#define FIGMODEL_TEXT_LINE_PX 14
// The rows of a line or band figmodel_svg draws at most (evenly spread, the first and last kept: view/series.h):
// about the panel's width in pixels.
#define FIGMODEL_SVG_POINTS 300
// Appends the figure as inline SVG (an inset as a panel of its own after the one it enlarges): a heading-less row of panels (class "figure", data-kind NAME, each line or band
// of class "series"), or a note. No file I/O: it draws wherever the engine runs.
void figmodel_svg(strbuf_t *b, const figmodel_t *m);

#endif
