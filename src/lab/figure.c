#include "lab/figure.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/spawn.h"

// Slide type: 18 pt ticks and labels, 16 pt legends, 22 pt panel titles, 24 pt page titles, on a canvas of at
// least 1600 x 900 (figure_open sizes it by the panel grid). PDF pages are the same size at 96 px per inch.
#define FIGURE_FONT "font 'Sans,18' linewidth 2"

// Okabe & Ito's colour-blind-safe palette, darkest first; yellow and sky blue last (they fade on a projector).
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#000000", "#56B4E9",
                                      "#F0E442"};
#define PALETTE_N ((int)(sizeof palette / sizeof palette[0]))

const char *figure_color(int k) { return palette[((k - 1) % PALETTE_N + PALETTE_N) % PALETTE_N]; }

void figure_grid(int n, int *rows, int *cols) {
    if (n <= 3) *rows = 1, *cols = n < 1 ? 1 : n;
    else *rows = 2, *cols = (n + 1) / 2;
}

void series_init(series_t *s, int cols) { *s = (series_t){.cols = cols}; }

void series_add(series_t *s, const double *row) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        double *v = xmalloc((size_t)s->cap * (size_t)s->cols * sizeof *v, "plot series");
        if (s->n) memcpy(v, s->v, (size_t)s->n * (size_t)s->cols * sizeof *v);
        free(s->v);
        s->v = v;
    }
    memcpy(s->v + (size_t)s->n * (size_t)s->cols, row, (size_t)s->cols * sizeof *row);
    s->n++;
}

static int row_finite(const series_t *s, int i) {
    for (int k = 0; k < s->cols; k++)
        if (!isfinite(s->v[(size_t)i * (size_t)s->cols + (size_t)k])) return 0;
    return 1;
}

int series_last_finite(const series_t *s) {
    for (int i = s->n - 1; i >= 0; i--)
        if (row_finite(s, i)) return i;
    return -1;
}

void series_free(series_t *s) {
    free(s->v);
    *s = (series_t){0};
}

int figure_open(figure_t *f, const char *plots, const char *name, int rows, int cols) {
    char data[BNLAB_PATH_MAX];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->blocks = 0;
    path_fmt(data, sizeof data, "%s/data", plots);
    if (make_dirs(data) != 0) return -1;
    path_fmt(f->gp_path, sizeof f->gp_path, "%s/%s.gp", plots, name);
    path_fmt(f->dat_path, sizeof f->dat_path, "%s/%s.dat", data, name);
    if (!(f->dat = fopen(f->dat_path, "w"))) return bnlab_fail("%s: cannot create: %s", f->dat_path, strerror(errno));
    if (!(f->gp = fopen(f->gp_path, "w"))) {
        fclose(f->dat);
        return bnlab_fail("%s: cannot create: %s", f->gp_path, strerror(errno));
    }
    fprintf(f->dat, "# bnlab plot: the data of %s.gp, one block per curve (gnuplot's index 0, 1, ...)\n", name);
    int w = cols <= 2 ? 1600 : 560 * cols, h = rows <= 1 ? 900 : 200 + 470 * rows;
    // noenhanced: titles are plain text ("p_15", "Ioffe & Szegedy"), never gnuplot markup.
    fprintf(f->gp,
            "# bnlab plot. Run in this directory: gnuplot %s.gp writes %s.png; gnuplot -e \"bnlab_fmt='svg'\" %s.gp\n"
            "# writes %s.svg (or 'pdf'). Every file name here is relative to this directory; the data are in\n"
            "# data/%s.dat.\n"
            "if (!exists('bnlab_fmt')) bnlab_fmt = 'png'\n"
            "if (!exists('bnlab_out')) bnlab_out = '%s.'.bnlab_fmt\n"
            "if (bnlab_fmt eq 'svg') {\n    set terminal svg noenhanced size %d,%d " FIGURE_FONT "\n"
            "} else { if (bnlab_fmt eq 'pdf') {\n"
            "    set terminal pdfcairo noenhanced size %.4gin,%.4gin font 'Sans,13.5' linewidth 2\n"
            "} else {\n    set terminal pngcairo noenhanced size %d,%d " FIGURE_FONT "\n} }\n"
            "set output bnlab_out\nbnlab_pt = bnlab_fmt eq 'pdf' ? 0.75 : 1\nbnlab_font(pt) = sprintf(',%%g', pt * bnlab_pt)\n",
            name, name, name, name, name, name, w, h, w / 96.0, h / 96.0, w, h);
    for (int k = 1; k <= PALETTE_N; k++) fprintf(f->gp, "set linetype %d lc rgb '%s' lw 2 pt 7\n", k, palette[k - 1]);
    fprintf(f->gp, "set linetype cycle %d\n"
                   "bnlab_key_font = bnlab_font(16)\nset key outside below center horizontal reverse Left noopaque nobox font bnlab_key_font spacing 1.2 samplen 3 width 2\n"
                   "set title font bnlab_font(22)\nset grid lc rgb '#d0d0d0' lw 1\nset border lw 1.5\n",
            PALETTE_N);
    f->w = w, f->h = h;
    return 0;
}

void figure_quote(strbuf_t *b, const char *text) {
    strbuf_printf(b, "'");
    for (const char *p = text; *p; p++) {
        if (*p == '\'') strbuf_printf(b, "''");
        else if (*p == '\n') strbuf_printf(b, "'.\"\\n\".'");
        else strbuf_printf(b, "%c", (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);  // no control characters
    }
    strbuf_printf(b, "'");
}

void figure_curve(const figure_t *f, strbuf_t *b, int block, const char *spec, const char *title) {
    strbuf_printf(b, "%s'data/%s.dat' index %d using %s ", b->len ? ", \\\n     " : "", f->name, block, spec);
    if (title) {
        strbuf_printf(b, "title ");
        figure_quote(b, title);
    } else strbuf_printf(b, "notitle");
}

void figure_plot(figure_t *f, strbuf_t *b, const char *note) {
    if (b->len) fprintf(f->gp, "plot %s\n", b->s);
    else {
        strbuf_t q = {0};
        figure_quote(&q, note);
        // The note's frame is [0:1] x [0:1]: linear, whatever axes an earlier panel set.
        fprintf(f->gp, "set label 99 %s at graph 0.5, graph 0.5 center font bnlab_font(20)\nunset xtics\nunset ytics\nset key off\n"
                       "unset logscale x\nunset logscale y\n"
                       "plot [0:1] [0:1] NaN notitle\nunset label 99\nset xtics\nset ytics\nset key on\n", q.s);
        free(q.s);
    }
    if (b->s) b->s[0] = '\0';
    b->len = 0;
}

void figure_cmd(figure_t *f, const char *prefix, const char *suffix, const char *fmt, ...) {
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    strbuf_t q = {0};
    figure_quote(&q, text);
    fprintf(f->gp, "%s %s%s%s\n", prefix, q.s, suffix[0] ? " " : "", suffix);
    free(q.s);
}

int figure_series(figure_t *f, const series_t *s) {
    if (series_last_finite(s) < 0) return -1;
    if (f->blocks) fputs("\n\n", f->dat);  // two blank lines end a block
    int gap = 1;                          // no blank line before the first point
    for (int i = 0; i < s->n; i++) {
        if (!row_finite(s, i)) {
            if (!gap) fputc('\n', f->dat);  // one blank line: a break in the curve, same block
            gap = 1;
            continue;
        }
        for (int k = 0; k < s->cols; k++)
            fprintf(f->dat, "%s%.10g", k ? " " : "", s->v[(size_t)i * (size_t)s->cols + (size_t)k]);
        fputc('\n', f->dat);
        gap = 0;
    }
    return f->blocks++;
}

// A tick's label: exact for the tick step (0.05 -> two decimals), "10k" when the step is a multiple of 1,000.
static void tick_label(char *out, size_t cap, double v, double step) {
    if (v == 0) snprintf(out, cap, "0");
    else if (step >= 1000 && fmod(step, 1000) == 0) snprintf(out, cap, "%.15gk", v / 1000);
    else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(out, cap, "%.*f", dec, v);
    }
}

static double nice_step(double span, int integer) {
    double raw = span / 6, mag = pow(10, floor(log10(raw))), step = 10 * mag;
    static const double m[] = {1, 2, 5};
    for (int k = 2; k >= 0; k--)
        if (m[k] * mag >= raw) step = m[k] * mag;
    return integer && step < 1 ? 1 : step;
}

void figure_axis(figure_t *f, char axis, double lo, double hi, int integer) {
    if (!(hi > lo)) {  // one value (a single epoch, one evaluation): a window around it
        double w = integer ? 0.5 : (lo != 0 ? fabs(lo) * 0.1 : 1);
        lo -= w, hi += w;
    }
    double step = nice_step(hi - lo, integer), pad = (axis == 'x' ? 0.015 : 0.04) * (hi - lo);  // ends stay whole
    fprintf(f->gp, "unset logscale %c\nset %crange [%.10g:%.10g]\nset %ctics (", axis, axis, lo - pad, hi + pad, axis);
    int n = 0;
    for (double k = ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step && n < 100; k++, n++) {
        char label[48];
        tick_label(label, sizeof label, k * step, step);
        fprintf(f->gp, "%s\"%s\" %.10g", n ? ", " : "", label, k * step + 0.0);
    }
    fprintf(f->gp, ")\nset m%ctics default\n", axis);
}

void figure_xaxis(figure_t *f, double lo, double hi, int integer) { figure_axis(f, 'x', lo, hi, integer); }

void figure_yaxis_log(figure_t *f, double lo, double hi) {
    double a = floor(log10(lo)), b = ceil(log10(hi));
    if (b - a < 1) b = a + 1;
    fprintf(f->gp, "set logscale y\nset yrange [%.10g:%.10g]\nset ytics (", pow(10, a), pow(10, b));
    // Decades, and 2 and 5 between them when there are few decades: exact labels, each different, all in one
    // format (1e-6 ... 1e0 when the axis reaches below 0.001 or above 10,000, else 0.01 ... 100).
    int n = 0, sci = a < -3 || b > 4;
    for (double e = a; e <= b + 1e-9; e++)
        for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
            double v = m * pow(10, e);
            if ((m > 1 && b - a > 2) || v > pow(10, b) * 1.0001) continue;
            if (sci) fprintf(f->gp, "%s\"%de%.0f\" %.10g", n++ ? ", " : "", m, e, v);
            else fprintf(f->gp, "%s\"%.*f\" %.10g", n++ ? ", " : "", e < 0 ? (int)-e : 0, v, v);
        }
    fprintf(f->gp, ")\nunset mytics\n");
}

void figure_xaxis_at(figure_t *f, const double *v, int n, int log) {
    double lo = v[0], hi = v[n - 1];
    if (log) fprintf(f->gp, "set logscale x\nset xrange [%.10g:%.10g]\n", lo / 1.3, hi * 1.3);
    else {
        double pad = hi > lo ? 0.05 * (hi - lo) : (lo != 0 ? 0.1 * fabs(lo) : 1);
        fprintf(f->gp, "unset logscale x\nset xrange [%.10g:%.10g]\n", lo - pad, hi + pad);
    }
    fprintf(f->gp, "set xtics (");
    for (int i = 0; i < n; i++) fprintf(f->gp, "%s\"%.10g\" %.10g", i ? ", " : "", v[i], v[i]);
    fprintf(f->gp, ")\nunset mxtics\n");
}

int figure_close(figure_t *f) {
    int bad_gp = ferror(f->gp), bad_dat = ferror(f->dat);
    bad_gp |= fclose(f->gp) != 0, bad_dat |= fclose(f->dat) != 0;
    if (bad_gp) return bnlab_fail("%s: write failed", f->gp_path);
    if (bad_dat) return bnlab_fail("%s: write failed", f->dat_path);
    return 0;
}

// gnuplot's first error line in its stderr (the "...: line N: message" one, not a warning), else its first
// non-blank line, into out.
static void first_error_line(const char *text, char *out, size_t cap) {
    snprintf(out, cap, "(no message)");
    int have = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int blank = strspn(p, " \t^") >= len;
        if (!blank && strstr(p, " line ") && !strstr(p, "warning") && (memchr(p, ':', len) != NULL)) {
            snprintf(out, cap, "%.*s", (int)len, p);
            return;
        }
        if (!blank && !have) snprintf(out, cap, "%.*s", (int)len, p), have = 1;
        p = end ? end + 1 : p + len;
    }
}

// Passes gnuplot's warnings on to stderr, one line each, named by the script.
static void pass_on(const char *text, const char *gp_path) {
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strspn(p, " \t") < len) fprintf(stderr, "bnlab: gnuplot on %s: %.*s\n", gp_path, (int)len, p);
        p = end ? end + 1 : p + len;
    }
}

// One output (png or svg) of DIR/plots/NAME.gp: gnuplot run in DIR/plots on a temporary name, renamed on success.
static int render_one(const char *plots, const char *name, const char *ext) {
    char expr[160], script[64], tmp[BNLAB_PATH_MAX], final[BNLAB_PATH_MAX], errpath[BNLAB_PATH_MAX], gp[BNLAB_PATH_MAX];
    snprintf(expr, sizeof expr, "bnlab_fmt='%s'; bnlab_out='.%s.%s.part'", ext, name, ext);
    snprintf(script, sizeof script, "%s.gp", name);
    path_fmt(tmp, sizeof tmp, "%s/.%s.%s.part", plots, name, ext);
    path_fmt(final, sizeof final, "%s/%s.%s", plots, name, ext);
    path_fmt(errpath, sizeof errpath, "%s/data/%s.%s.stderr", plots, name, ext);
    path_fmt(gp, sizeof gp, "%s/%s", plots, script);
    const char *argv[] = {"gnuplot", "-e", expr, script, NULL};
    spawn_io_t io = {.cwd = plots, .stderr_path = errpath};
    int not_found, rc = spawn_wait(argv, &io, &not_found);
    if (rc < 0) {
        remove(errpath);
        return not_found ? 1 : -1;
    }
    char *err = NULL;
    size_t len = 0;
    if (read_whole_file(errpath, 1 << 20, &err, &len) != 0) err = NULL;
    struct stat st;
    int made = stat(tmp, &st) == 0 && st.st_size > 0;
    if (rc != 0 || !made) {
        char line[512];
        first_error_line(err ? err : "", line, sizeof line);
        free(err);
        remove(tmp);
        if (rc == 0) return bnlab_fail("%s: gnuplot made no %s (exit 0): %s", gp, ext, line);
        return bnlab_fail("%s: gnuplot failed (exit %d): %s", gp, rc, line);
    }
    if (err && len) pass_on(err, gp);
    free(err);
    remove(errpath);
    if (rename(tmp, final) != 0) {
        int e = errno;
        remove(tmp);
        return bnlab_fail("%s: cannot rename the finished figure: %s", final, strerror(e));
    }
    return 0;
}

int figure_render(const char *plots, const char *name) {
    int rc = render_one(plots, name, "png");
    if (rc == 1) {
        bnlab_fail("gnuplot is not installed, so no PNGs were made: apt-get install gnuplot-nox (scripts/setup.sh "
                   "does it); the gnuplot scripts are in %s", plots);
        return 1;
    }
    if (rc == 0) rc = render_one(plots, name, "svg");
    if (rc == 0) rc = render_one(plots, name, "pdf");
    return rc;
}
