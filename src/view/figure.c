#include "view/figure.h"

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/spawn.h"
#include "view/axis.h"

// Slide type: 18 pt ticks and labels, 16 pt legends, 22 pt panel titles, 24 pt page titles, on a canvas of at
// least 1600 x 900 (figure_open sizes it by the panel grid). PDF pages are the same size at 96 px per inch.
#define FIGURE_FONT "font 'Sans,18' linewidth 2"

void figure_lc(char out[24], const char *color, const char *alpha) {
    snprintf(out, 24, "lc rgb '#%s%s'", alpha ? alpha : "", color + (color[0] == '#'));
}

void figure_grid(int n, int *rows, int *cols) {
    if (n <= 3) *rows = 1, *cols = n < 1 ? 1 : n;
    else *rows = 2, *cols = (n + 1) / 2;
}

int figure_open(figure_t *f, const char *plots, const char *name, int rows, int cols, int extra_h) {
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
    int w = cols <= 2 ? 1600 : 560 * cols, h = (rows <= 1 ? 900 : 200 + 470 * rows) + (extra_h > 0 ? extra_h : 0);
    // A slide's shape: the nearer of 16:9 and 4:3, reached by growing the shorter side (never shrinking a panel).
    if ((double)w / h >= 1.555) {
        if (9 * w > 16 * h) h = (9 * w + 15) / 16;
        else w = (16 * h + 8) / 9;
    } else if (3 * w > 4 * h) h = (3 * w + 3) / 4;
    else w = (4 * h + 2) / 3;
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
    // Every curve names its colour (view/variant.h): no linetype colour is left to gnuplot's defaults.
    fprintf(f->gp, "bnlab_key_font = bnlab_font(16)\nset key outside below center horizontal reverse Left noopaque nobox font bnlab_key_font spacing 1.2 samplen 3 width 2\n"
                   "set title font bnlab_font(22)\nset grid lc rgb '#d0d0d0' lw 1\nset border lw 1.5\n");
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

void figure_wrap(strbuf_t *out, const char *text, size_t width) {
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p), cut = len;
        if (len > width) {
            cut = width;
            while (cut > width / 3 && p[cut] != ' ') cut--;
            if (p[cut] != ' ') cut = len;
        }
        strbuf_printf(out, "%.*s%s", (int)cut, p, p[cut] ? "\n" : "");
        p += cut + (p[cut] == ' ' || p[cut] == '\n');
    }
}

void figure_plot(figure_t *f, strbuf_t *b, const char *note) {
    if (b->len) fprintf(f->gp, "plot %s\n", b->s);
    else {
        strbuf_t q = {0}, wrapped = {0};
        figure_wrap(&wrapped, note, 60);  // inside the frame
        figure_quote(&q, wrapped.s ? wrapped.s : "");
        free(wrapped.s);
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
        if (!series_row_finite(s, i)) {
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

// --xrange, --xscale, ... of bnlab plot: applied to every axis of the figures made while they are set.
static figure_overrides_t overrides = {.scale = {-1, -1}};

void figure_set_overrides(const figure_overrides_t *o) {
    if (o) overrides = *o;
    else overrides = (figure_overrides_t){.scale = {-1, -1}};
}

// "set Atics (...)" from an axis' ticks (axis.h): labelled ones major, the others minor (level 1).
static void emit_ticks(figure_t *f, char axis, const axis_t *a) {
    fprintf(f->gp, "set %ctics (", axis);
    for (int i = 0; i < a->n; i++) {
        strbuf_t q = {0};
        figure_quote(&q, a->t[i].label);
        fprintf(f->gp, "%s%s %.17g%s", i ? ", " : "", q.s, a->t[i].v, a->t[i].label[0] ? "" : " 1");
        free(q.s);
    }
    fprintf(f->gp, ")\nunset m%ctics\n", axis);
}

// One axis through axis.h, after the command line's overrides: its range and scale when given.
static void axis_out(figure_t *f, char axis, double lo, double hi, int log, int integer) {
    int k = axis == 'x' ? 0 : 1;
    if (overrides.has_range[k]) lo = overrides.range[k][0], hi = overrides.range[k][1], integer = 0;
    if (overrides.scale[k] >= 0) log = overrides.scale[k];
    axis_t a;
    axis_make(&a, lo, hi, log, integer, axis == 'x' ? 7 : 6);
    double pad = a.log || overrides.has_range[k] ? 0 : (axis == 'x' ? 0.015 : 0.04) * (a.hi - a.lo);  // ends stay whole
    if (a.log) fprintf(f->gp, "set logscale %c\nset %crange [%.17g:%.17g]\n", axis, axis, a.lo, a.hi);
    else fprintf(f->gp, "unset logscale %c\nset %crange [%.17g:%.17g]\n", axis, axis, a.lo - pad, a.hi + pad);
    emit_ticks(f, axis, &a);
}

void figure_axis(figure_t *f, char axis, double lo, double hi, int integer) { axis_out(f, axis, lo, hi, 0, integer); }

void figure_yaxis_log(figure_t *f, double lo, double hi) { axis_out(f, 'y', lo, hi, 1, 0); }

void figure_xaxis_at(figure_t *f, double lo, double hi, const double *v, int n, int log) {
    if (n == 0) {
        axis_out(f, 'x', lo, hi, log, 0);
        return;
    }
    fprintf(f->gp, "%s logscale x\nset xrange [%.10g:%.10g]\n", log ? "set" : "unset", lo, hi);
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

// A stop signal (Ctrl-C, kill) that came while gnuplot was rendering: the temporary file is removed first, then
// the signal is raised again with its default action, so bnlab ends as it would have, leaving no .NAME.EXT.part.
static volatile sig_atomic_t render_stop;
static int render_some(const char *plots, const char *name);
static void on_stop(int sig) {
    render_stop = sig;
    spawn_kill_running();  // gnuplot got the terminal's signal too, and may hang in it (base/spawn.h)
}

// One output (png or svg) of DIR/plots/NAME.gp: gnuplot run in DIR/plots on a temporary name, renamed on success.
// -2: stopped by a signal (the temporary file removed).
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
    if (render_stop) {
        remove(tmp), remove(errpath);
        return -2;
    }
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
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old[3];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    render_stop = 0;
    for (int k = 0; k < 3; k++) {
        sigaction(sigs[k], NULL, &old[k]);
        if (old[k].sa_handler != SIG_IGN) sigaction(sigs[k], &sa, NULL);  // an ignored signal stays ignored
    }
    int rc = render_some(plots, name);
    for (int k = 0; k < 3; k++) sigaction(sigs[k], &old[k], NULL);
    if (rc == -2) {
        signal((int)render_stop, SIG_DFL);
        raise((int)render_stop);
        return bnlab_fail("%s/%s: stopped by %s", plots, name, strsignal((int)render_stop));
    }
    return rc;
}

static int render_some(const char *plots, const char *name) {
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
