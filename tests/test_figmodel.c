// One figure model, two renderers (view/figmodel.h): a model with two variants (each seed faint, the median thick),
// a band and a point is drawn by figmodel_gnuplot (a script and its data file) and by figmodel_svg (inline SVG), and
// both outputs are read back: every curve's numbers in the data file equal the model's (to the file's 10 digits),
// every SVG line's and band's pixels map back to the model's values (to half a pixel), and each labelled curve has
// the same colour in the script, in the SVG and in the model — so plot and report cannot disagree on a median or a
// colour. Negative controls: the same readers on outputs with one colour changed, or one value moved, find it.
// figmodel_add_seeds' median is checked against medians computed here.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "view/figmodel.h"
#include "view/svg.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

// The block of the data file after "# panel P, curve K:": its numbers, row-major, into v (at most cap); their count.
static int dat_block(const char *dat, int p, int k, double *v, int cap) {
    char key[64];
    snprintf(key, sizeof key, "# panel %d, curve %d:", p, k);
    const char *s = strstr(dat, key);
    if (!s) return -1;
    s = strchr(s, '\n');
    int n = 0, seen = 0;
    for (const char *line = s ? s + 1 : NULL; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if (*line == '#') break;
        if (end == line && seen) {  // a blank line after the block's rows: its end (a break would be one blank line
            if (end[1] == '\n' || end[1] == 0) break;  // followed by more rows; two end it)
        }
        for (const char *q = line; q < end;) {
            char *e;
            double x = strtod(q, &e);
            if (e == q) break;
            if (n < cap) v[n++] = x;
            seen = 1, q = e;
        }
        line = *end ? end + 1 : end;
    }
    return n;
}

// The colour of the script's curve that reads block (index B): '#RRGGBB' from lc rgb '#AARRGGBB', or "".
static void gp_colour(const char *gp, int block, char out[8]) {
    char key[48];
    snprintf(key, sizeof key, "index %d using", block);
    out[0] = 0;
    const char *s = strstr(gp, key), *c = s ? strstr(s, "lc rgb '#") : NULL;
    if (!c) return;
    c += 9;
    size_t len = strcspn(c, "'");
    if (len >= 6) snprintf(out, 8, "#%.6s", c + len - 6);
}

// The i-th (0-based) SVG element of class "series" that is a polyline or polygon: its stroke or fill and its points.
static int svg_series(const char *svg, int i, char colour[8], double *xy, int cap) {
    const char *s = svg;
    for (int k = 0; (s = strstr(s, "class=\"series")) != NULL; s++) {
        const char *open = s;
        while (open > svg && *open != '<') open--;
        if (strncmp(open, "<polyline", 9) && strncmp(open, "<polygon", 8)) continue;
        if (k++ < i) continue;
        const char *end = strchr(s, '>');
        const char *c = strstr(open, "stroke=\"#");
        const char *f = strstr(open, "fill=\"#");
        const char *use = c && c < end ? c + 8 : f && f < end ? f + 6 : NULL;
        snprintf(colour, 8, "%.7s", use ? use : "");
        const char *p = strstr(open, "points=\"");
        int n = 0;
        for (p = p ? p + 8 : end; p < end && *p != '"';) {
            char *e;
            double x = strtod(p, &e);
            if (e == p) { p++; continue; }
            if (n < cap) xy[n++] = x;
            p = e;
        }
        return n;
    }
    return -1;
}

// Mismatches between the model and what the two renderers wrote (0: they agree).
static int disagreements(const figmodel_t *m, const char *gp, const char *dat, const char *svg, int verbose) {
    int bad = 0, block = 0, svg_i = 0;
    const figpanel_t *p = &m->p[0];
    svg_frame_t f = {.w = FIGMODEL_SVG_W, .h = 320, .x0 = p->x0, .x1 = p->x1, .y0 = p->y0, .y1 = p->y1};
    double pad = 0.04 * (f.y1 - f.y0);  // figmodel_svg pads a linear y axis
    f.y0 -= pad, f.y1 += pad;
    // The script draws the bands first, then the rest; the SVG too: walk the curves in that order.
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < p->nc; k++) {
            const figcurve_t *c = &p->c[k];
            if ((c->kind == CURVE_BAND) != (pass == 0)) continue;
            double v[256];
            int n = dat_block(dat, 0, k, v, 256);
            if (n != c->data.n * c->data.cols) bad++, verbose && fprintf(stderr, "curve %d: %d numbers in the data, model %d\n", k, n, c->data.n * c->data.cols);
            for (int j = 0; j < n && j < c->data.n * c->data.cols; j++)
                if (fabs(v[j] - c->data.v[j]) > 1e-9 * fmax(1, fabs(c->data.v[j])))
                    bad++, verbose && fprintf(stderr, "curve %d value %d: data %.10g, model %.10g\n", k, j, v[j], c->data.v[j]);
            char gc[8];
            gp_colour(gp, block++, gc);
            if (strcmp(gc, c->color)) bad++, verbose && fprintf(stderr, "curve %d: script colour %s, model %s\n", k, gc, c->color);
            if (c->kind == CURVE_POINTS) continue;  // drawn as circles in SVG
            char sc[8];
            double xy[512];
            int np = svg_series(svg, svg_i++, sc, xy, 512);
            if (strcmp(sc, c->color)) bad++, verbose && fprintf(stderr, "curve %d: SVG colour %s, model %s\n", k, sc, c->color);
            int rows = c->kind == CURVE_BAND ? 2 * c->data.n : c->data.n;
            if (np != 2 * rows) { bad++; continue; }
            for (int r = 0; r < rows; r++) {  // a band: the upper edge forwards, then the lower one backwards
                int row = c->kind == CURVE_BAND && r >= c->data.n ? 2 * c->data.n - 1 - r : r;
                double x = c->data.v[row * c->data.cols], y = c->data.v[row * c->data.cols + (c->kind == CURVE_BAND ? (r < c->data.n ? 2 : 1) : 1)];
                if (fabs(xy[2 * r] - svg_x(&f, x)) > 0.051 || fabs(xy[2 * r + 1] - svg_y(&f, y)) > 0.051)
                    bad++, verbose && fprintf(stderr, "curve %d point %d: SVG (%g, %g), model (%g, %g) -> (%g, %g)\n", k, r, xy[2 * r], xy[2 * r + 1], x, y, svg_x(&f, x), svg_y(&f, y));
            }
        }
    return bad;
}

// Mismatches between a model of range curves (error bars: a sweep's figure) and what the renderers wrote: the data
// file keeps each curve's rows (x, median, lo, hi) as the model has them; the script draws its block with
// yerrorlines at x * mul + add (figmodel_xshift) in the curve's colour; the SVG's k-th "series range" group, in the
// curve's colour, has at each row a bar from lo to hi and a marker at the median, at the shifted x, in pixels of a
// frame with a log10 x axis (half a pixel).
static int range_disagreements(const figmodel_t *m, const char *gp, const char *dat, const char *svg, int verbose) {
    int bad = 0;
    const figpanel_t *p = &m->p[0];
    svg_frame_t f = {.w = FIGMODEL_SVG_W, .h = 320, .x0 = p->x0, .x1 = p->x1, .y0 = p->y0, .y1 = p->y1, .xlog = p->xlog};
    double pad = 0.04 * (f.y1 - f.y0);
    f.y0 -= pad, f.y1 += pad;
    const char *g = svg;
    for (int k = 0; k < p->nc; k++) {
        const figcurve_t *c = &p->c[k];
        double v[64], mul, add;
        int n = dat_block(dat, 0, k, v, 64);
        if (n != 4 * c->data.n) bad++, verbose && fprintf(stderr, "range %d: %d numbers in the data, model %d\n", k, n, 4 * c->data.n);
        for (int j = 0; j < n && j < 4 * c->data.n; j++)
            if (fabs(v[j] - c->data.v[j]) > 1e-9 * fmax(1, fabs(c->data.v[j])))
                bad++, verbose && fprintf(stderr, "range %d value %d: data %.10g, model %.10g\n", k, j, v[j], c->data.v[j]);
        figmodel_xshift(p, c, &mul, &add);
        char want[96], gc[8];
        snprintf(want, sizeof want, "index %d using ($1 * %.10g + %.10g):2:3:4 with yerrorlines", k, mul, add);
        if (!strstr(gp, want)) bad++, verbose && fprintf(stderr, "range %d: no \"%s\" in the script\n", k, want);
        gp_colour(gp, k, gc);
        if (strcmp(gc, c->color)) bad++, verbose && fprintf(stderr, "range %d: script colour %s, model %s\n", k, gc, c->color);
        g = g ? strstr(g, "<g class=\"series range\"") : NULL;
        if (!g) {
            bad++;
            continue;
        }
        const char *end = strstr(g, "</g>"), *st = strstr(g, "stroke=\"");
        if (!st || strncmp(st + 8, c->color, 7)) bad++, verbose && fprintf(stderr, "range %d: SVG colour %.7s, model %s\n", k, st ? st + 8 : "", c->color);
        const char *q = g;
        for (int r = 0; r < c->data.n; r++) {
            const double *row = c->data.v + 4 * r;
            double px = svg_x(&f, row[0] * mul + add), bx, blo, bhi, cx, cy;
            const char *bar = strstr(q, "<path class=\"bar\" d=\"M"), *dot = strstr(q, "<circle cx=\"");
            if (!bar || !dot || bar > end || dot > end || sscanf(bar + 22, "%lf %lfV%lf", &bx, &blo, &bhi) != 3 ||
                sscanf(dot + 12, "%lf\" cy=\"%lf", &cx, &cy) != 2) {
                bad++, verbose && fprintf(stderr, "range %d row %d: no bar or marker in the SVG\n", k, r);
                break;
            }
            if (fabs(bx - px) > 0.051 || fabs(cx - px) > 0.051 || fabs(blo - svg_y(&f, row[2])) > 0.051 ||
                fabs(bhi - svg_y(&f, row[3])) > 0.051 || fabs(cy - svg_y(&f, row[1])) > 0.051)
                bad++, verbose && fprintf(stderr, "range %d row %d: SVG bar x %g from %g to %g, marker (%g, %g); model -> x %g, "
                                          "%g to %g, marker %g\n", k, r, bx, blo, bhi, cx, cy, px, svg_y(&f, row[2]),
                                          svg_y(&f, row[3]), svg_y(&f, row[1]));
            q = dot + 1;
        }
        g = end;
    }
    return bad;
}

// The x of the SVG's tick label text (the first <text x="..." ...>text</text>), or NaN.
static double tick_x(const char *svg, const char *text) {
    char key[32];
    snprintf(key, sizeof key, ">%s</text>", text);
    const char *e = strstr(svg, key);
    if (!e) return NAN;
    const char *t = e;
    while (t > svg && strncmp(t, "<text x=\"", 9)) t--;
    return strncmp(t, "<text x=\"", 9) ? NAN : strtod(t + 9, NULL);
}

static void replace_first(char *s, const char *a, const char *b) {  // same length
    char *p = strstr(s, a);
    if (p) memcpy(p, b, strlen(b));
}

int main(void) {
    char dir[] = "/tmp/bnlab-figmodel-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    figmodel_t m;
    figmodel_init(&m, "agree", 1, 1);
    figpanel_t *p = &m.p[0];
    snprintf(p->title, sizeof p->title, "two variants");
    // Three seeds of "none" and two of "bn": test accuracy at steps 0, 10, 20 (bn's seed 2 lacks step 20).
    static const double none[3][3] = {{0.1, 0.5, 0.7}, {0.12, 0.45, 0.75}, {0.09, 0.55, 0.72}};
    static const double bn[2][3] = {{0.1, 0.8, 0.9}, {0.11, 0.7, NAN}};
    series_t rn[3], rb[2];
    for (int k = 0; k < 3; k++) {
        series_init(&rn[k], 2);
        for (int r = 0; r < 3; r++) series_add(&rn[k], (double[2]){10.0 * r, none[k][r]});
    }
    for (int k = 0; k < 2; k++) {
        series_init(&rb[k], 2);
        for (int r = 0; r < (k ? 2 : 3); r++) series_add(&rb[k], (double[2]){10.0 * r, bn[k][r]});
    }
    figcurve_t *mn = figmodel_add_seeds(p, rn, 3, 1, "#000000", 0, "none");
    figcurve_t *mb = figmodel_add_seeds(p, rb, 2, 1, "#0072B2", 1, "bn");
    // figmodel_add_seeds: the median at each step over the seeds that logged it.
    static const double want_n[3] = {0.1, 0.5, 0.72}, want_b[3] = {0.105, 0.75, 0.9};
    CHECK(mn && mn->data.n == 3 && mb && mb->data.n == 3, "medians: %d and %d rows", mn ? mn->data.n : -1, mb ? mb->data.n : -1);
    for (int r = 0; mn && mb && r < 3; r++) {
        CHECK_NEAR(mn->data.v[2 * r + 1], want_n[r], 1e-15, "none's median");
        CHECK_NEAR(mb->data.v[2 * r + 1], want_b[r], 1e-15, "bn's median");
    }
    CHECK(p->nc == 7, "3 + 2 faint seeds and 2 medians: %d curves", p->nc);
    CHECK(p->fewer_after == 10, "bn's seed 2 ends at step 10: fewer seeds after it, got %g", p->fewer_after);
    series_t band;
    series_init(&band, 3);
    for (int r = 0; r < 3; r++) series_add(&band, (double[3]){10.0 * r, 0.05 + 0.1 * r, 0.3 + 0.2 * r});
    figmodel_add(p, CURVE_BAND, &band, 0, 1, 2, "#D55E00", 0, 1, 0.3, "a band");
    series_t pt;
    series_init(&pt, 2);
    series_add(&pt, (double[2]){20, 0.95});
    figmodel_add(p, CURVE_POINTS, &pt, 0, 1, 0, "#0072B2", 0, 4, 1, "bn: diverged at step 20");
    figmodel_finish(&m, 1, 0, 1);

    CHECK(figmodel_gnuplot(dir, &m) == 0, "figmodel_gnuplot: %s", bnlab_errmsg());
    strbuf_t svg = {0};
    figmodel_svg(&svg, &m);
    char gpp[256], datp[256];
    snprintf(gpp, sizeof gpp, "%s/agree.gp", dir), snprintf(datp, sizeof datp, "%s/data/agree.dat", dir);
    char *gp = slurp(gpp), *dat = slurp(datp);
    CHECK(gp && dat && svg.s, "outputs read back");
    if (gp && dat && svg.s) {
        CHECK(disagreements(&m, gp, dat, svg.s, 1) == 0, "the two renderers and the model disagree (above)");
        // Negative controls: one colour changed in the SVG, one in the script, one value moved in the data.
        char *s2 = strdup(svg.s), *g2 = strdup(gp), *d2 = strdup(dat);
        char *panel = strstr(s2, "<svg class=\"figure\"");  // past the legend's keys: a line of the panel
        replace_first(panel ? panel : s2, "stroke=\"#0072B2\"", "stroke=\"#000000\"");
        CHECK(disagreements(&m, gp, dat, s2, 0) > 0, "an SVG line recoloured: not seen");
        replace_first(g2, "lc rgb '#0072B2'", "lc rgb '#D55E00'");
        CHECK(disagreements(&m, g2, dat, svg.s, 0) > 0, "a script curve recoloured: not seen");
        replace_first(d2, "0.75", "0.76");
        CHECK(disagreements(&m, gp, d2, svg.s, 0) > 0, "a median moved in the data: not seen");
        free(s2), free(g2), free(d2);
    }
    free(gp), free(dat), free(svg.s);
    for (int k = 0; k < 3; k++) series_free(&rn[k]);
    for (int k = 0; k < 2; k++) series_free(&rb[k]);
    series_free(&band), series_free(&pt);
    figmodel_free(&m);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "%s/agree.gp", dir), unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/data/agree.dat", dir), unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/data", dir), rmdir(cmd);
    rmdir(dir);

    // A heatmap's cells (the sweep map): a cell where some seeds diverged still says what the others reached
    // (configs/sweep-depth-lr.json: no BN, 64 blocks, lr 0.1, 1 of 3 seeds diverged, the other two at 0.11);
    // every seed diverged: "diverged"; none: the value alone.
    series_t cs;
    series_init(&cs, 5);
    static const double cell_rows[6][5] = {{0, 0, 0.1075, 1, 3}, {1, 0, INFINITY, 1, 3}, {2, 0, NAN, 3, 3},
                                           {0, 1, 0.93, 0, 3},   {1, 1, NAN, 1, 1},      {2, 1, INFINITY, 0, 3}};
    static const char *const cell_text[6] = {"0.11\n1 of 3 diverged", "never\n1 of 3 diverged", "diverged\n3 of 3",
                                             "0.93", "diverged", "never"};
    static const int cell_hatched[6] = {1, 1, 1, 0, 1, 0};
    for (int r = 0; r < 6; r++) series_add(&cs, cell_rows[r]);
    figcurve_t fc = {.kind = CURVE_CELLS, .data = cs, .color = "#0072B2", .lo = 0.1, .hi = 1, .digits = 2};
    for (int r = 0; r < 6; r++) {
        char fill[8], ink[8], text[64];
        int hatched = figmodel_cell(&fc, r, fill, ink, text, sizeof text);
        CHECK(hatched == cell_hatched[r] && !strcmp(text, cell_text[r]), "cell %d: hatched %d, \"%s\" (expected %d, \"%s\")",
              r, hatched, text, cell_hatched[r], cell_text[r]);
    }
    series_free(&cs);

    // Error bars (a sweep's figure, lab/fig_sweep.c): two variants' medians over seeds with their range, at learning
    // rates 0.1, 1, 10 on a log x axis ticked at those values, offset sideways by a fraction of the panel's width.
    figmodel_init(&m, "ranges", 1, 1);
    p = &m.p[0];
    static const double rows_a[3][4] = {{0.1, 0.90, 0.88, 0.91}, {1, 0.93, 0.90, 0.95}, {10, 0.40, 0.10, 0.70}};
    static const double rows_b[3][4] = {{0.1, 0.85, 0.85, 0.85}, {1, 0.60, 0.20, 0.89}, {10, 0.10, 0.10, 0.11}};
    series_t ra, rb2;
    series_init(&ra, 4), series_init(&rb2, 4);
    for (int r = 0; r < 3; r++) series_add(&ra, rows_a[r]), series_add(&rb2, rows_b[r]);
    p->xlog = 1, p->nxtick = 3;
    for (int r = 0; r < 3; r++) p->xtick[r] = rows_a[r][0];
    figcurve_t *ca = figmodel_add(p, CURVE_RANGE, &ra, 0, 1, 2, "#0072B2", 0, 3, 1, "BN");
    figcurve_t *cb = figmodel_add(p, CURVE_RANGE, &rb2, 0, 1, 2, "#000000", 0, 3, 1, "no BN");
    CHECK(ca && cb && ca->data.cols == 4 && ca->data.v[11] == 0.70, "a range curve keeps x, median, lo, hi");
    ca->xshift = -0.01, cb->xshift = 0.01;
    figmodel_finish(&m, 0, 0, 0);
    CHECK_NEAR(p->x0, 0.1 / 1.3, 1e-15, "x range from the ticks (log: 1.3x beyond them)");
    CHECK_NEAR(p->x1, 13, 1e-12, "x range from the ticks (log: 1.3x beyond them)");
    double mul, add;
    figmodel_xshift(p, ca, &mul, &add);
    CHECK_NEAR(mul, pow(13 / (0.1 / 1.3), -0.01), 1e-12, "a shift on a log axis is a factor of the axis' span");
    CHECK(add == 0, "no added shift on a log axis");
    CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    CHECK(figmodel_gnuplot(dir, &m) == 0, "figmodel_gnuplot: %s", bnlab_errmsg());
    svg = (strbuf_t){0};
    figmodel_svg(&svg, &m);
    snprintf(gpp, sizeof gpp, "%s/ranges.gp", dir), snprintf(datp, sizeof datp, "%s/data/ranges.dat", dir);
    gp = slurp(gpp), dat = slurp(datp);
    CHECK(gp && dat && svg.s, "range outputs read back");
    if (gp && dat && svg.s) {
        CHECK(range_disagreements(&m, gp, dat, svg.s, 1) == 0, "error bars: the two renderers and the model disagree (above)");
        CHECK(strstr(gp, "set logscale x") && strstr(gp, "set xtics (\"0.1\" 0.1, \"1\" 1, \"10\" 10)"),
              "the script's x axis: log, ticked at the grid's values");
        CHECK(strstr(svg.s, ">0.1</text>") && strstr(svg.s, ">1</text>") && strstr(svg.s, ">10</text>") &&
              !strstr(svg.s, ">100</text>"), "the SVG's x ticks: at the grid's values alone");
        // A log axis, measured on the page itself (not through svg_x, which the readers above share): the ticks at
        // 0.1, 1 and 10 are equally far apart, and 0.1 to 1 spans log10(10) / log10(13 / (0.1 / 1.3)) of the frame.
        double t0 = tick_x(svg.s, "0.1"), t1 = tick_x(svg.s, "1"), t2 = tick_x(svg.s, "10");
        CHECK(fabs((t1 - t0) - (t2 - t1)) < 0.15 && t1 - t0 > 100, "log x axis: ticks at %g, %g, %g", t0, t1, t2);
        // Negative controls: a bar's top moved in the SVG, a bar recoloured, a range's hi moved in the data, the
        // shift left out of the script, and the SVG read on a linear x axis.
        char *s2 = strdup(svg.s), *g2 = strdup(gp), *d2 = strdup(dat);
        char *bar = strstr(strstr(s2, "<g class=\"series range\""), "<path class=\"bar\" d=\"M");
        char *vv = bar ? strchr(bar + 22, 'V') : NULL;
        if (vv) vv[1] = vv[1] == '9' ? '1' : '9';  // the top's first digit
        CHECK(vv && range_disagreements(&m, gp, dat, s2, 0) > 0, "an error bar's top moved in the SVG: not seen");
        free(s2), s2 = strdup(svg.s);
        replace_first(strstr(s2, "<g class=\"series range\""), "stroke=\"#0072B2\"", "stroke=\"#D55E00\"");
        CHECK(range_disagreements(&m, gp, dat, s2, 0) > 0, "an error bar recoloured in the SVG: not seen");
        replace_first(d2, "0.7", "0.8");
        CHECK(range_disagreements(&m, gp, d2, svg.s, 0) > 0, "a range's end moved in the data: not seen");
        char *using = strstr(g2, "using ($1 * ");
        if (using) memcpy(using + 12, "1.000", 5);
        CHECK(using && range_disagreements(&m, g2, dat, svg.s, 0) > 0, "the sideways shift left out of the script: not seen");
        p->xlog = 0;
        CHECK(range_disagreements(&m, gp, dat, svg.s, 0) > 0, "the SVG read on a linear x axis: not seen");
        p->xlog = 1;
        free(s2), free(g2), free(d2);
    }
    free(gp), free(dat), free(svg.s);
    series_free(&ra), series_free(&rb2);
    figmodel_free(&m);
    snprintf(cmd, sizeof cmd, "%s/ranges.gp", dir), unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/data/ranges.dat", dir), unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/data", dir), rmdir(cmd);
    rmdir(dir);
    return check_summary("figmodel");
}
