// view/axis.h: the one axis/tick routine is total. Any pair of ends — adjacent doubles, equal ends, infinities, NaN,
// 1e-300..1e300 on a log axis, reversed — gives a finite range and a bounded number of ticks with distinct labels,
// and it returns (the old loops appended ticks until memory ran out, or spun forever). Then the callers: an SVG
// panel and a gnuplot script over the same hostile ends end, and the page's axis is the same code.
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "base/util.h"
#include "view/axis.h"
#include "view/svg.h"

static int distinct(const axis_t *a) {
    for (int i = 0; i < a->n; i++)
        for (int j = i + 1; j < a->n; j++)
            if (a->t[i].label[0] && !strcmp(a->t[i].label, a->t[j].label)) return 0;
    return 1;
}

static int labelled(const axis_t *a) {
    int n = 0;
    for (int i = 0; i < a->n; i++) n += a->t[i].label[0] != 0;
    return n;
}

static void check_axis(const char *what, double lo, double hi, int log, int integer) {
    axis_t a;
    axis_make(&a, lo, hi, log, integer, 6);
    CHECK(isfinite(a.lo) && isfinite(a.hi) && a.lo < a.hi, "%s: range [%g, %g]", what, a.lo, a.hi);
    CHECK(a.n >= 1 && a.n <= AXIS_MAX_TICKS, "%s: %d ticks", what, a.n);
    CHECK(labelled(&a) >= 2 && labelled(&a) <= 13, "%s: %d labelled ticks", what, labelled(&a));
    CHECK(distinct(&a), "%s: repeated labels (first %s, last %s)", what, a.t[0].label, a.t[a.n - 1].label);
    int inside = 1;
    double tol = 1e-9 * (a.hi - a.lo);
    for (int i = 0; i < a.n; i++) inside &= isfinite(a.t[i].v) && a.t[i].v >= a.lo - tol && a.t[i].v <= a.hi + tol;
    CHECK(inside || log, "%s: a tick outside [%g, %g]", what, a.lo, a.hi);
}

static void test_hostile_ends(void) {
    check_axis("adjacent doubles at 1e20", 1e20, nextafter(1e20, INFINITY), 0, 0);
    check_axis("adjacent doubles at 1", 1, nextafter(1, 2), 0, 0);
    check_axis("adjacent doubles at 0", 0, DBL_TRUE_MIN, 0, 0);
    check_axis("equal ends", 0.5, 0.5, 0, 0);
    check_axis("equal ends, integer", 3, 3, 0, 1);
    check_axis("zero, zero", 0, 0, 0, 0);
    check_axis("reversed", 5, -5, 0, 0);
    check_axis("-inf..inf", -INFINITY, INFINITY, 0, 0);
    check_axis("nan..nan", NAN, NAN, 0, 0);
    check_axis("nan..1", NAN, 1, 0, 0);
    check_axis("-1e308..1e308", -1e308, 1e308, 0, 0);
    check_axis("DBL_MAX, DBL_MAX", DBL_MAX, DBL_MAX, 0, 0);
    check_axis("log 1e-300..1e300", 1e-300, 1e300, 1, 0);
    check_axis("log 0..inf", 0, INFINITY, 1, 0);
    check_axis("log DBL_TRUE_MIN..DBL_MAX", DBL_TRUE_MIN, DBL_MAX, 1, 0);
    check_axis("log adjacent at 1e-20", 1e-20, nextafter(1e-20, 1), 1, 0);
    check_axis("log equal", 7, 7, 1, 0);
    check_axis("log of negative ends (falls back to linear)", -3, -1, 1, 0);
    check_axis("big integer steps", 0, 1e15, 0, 1);
}

static void test_labels(void) {
    axis_t a;
    axis_make(&a, 0, 1, 0, 0, 6);
    CHECK(a.n == 6 && !strcmp(a.t[1].label, "0.2") && !strcmp(a.t[5].label, "1.0"), "0..1: %d ticks, %s .. %s", a.n,
          a.t[1].label, a.t[a.n - 1].label);
    axis_make(&a, 0, 50000, 0, 1, 6);
    CHECK(!strcmp(a.t[1].label, "10k") && !strcmp(a.t[5].label, "50k"), "steps: %s, %s", a.t[1].label, a.t[5].label);
    axis_make(&a, 1e-3, 10, 1, 0, 6);
    CHECK(!strcmp(a.t[0].label, "10⁻³") && !strcmp(a.t[a.n - 1].label, "10¹"), "log: powers of ten, got %s .. %s",
          a.t[0].label, a.t[a.n - 1].label);
    axis_make(&a, 0.01, 0.5, 1, 0, 6);  // 2 decades: 2 and 5 as minor ticks, unlabelled
    int minor = 0;
    for (int i = 0; i < a.n; i++) minor += !a.t[i].label[0];
    CHECK(minor == 4 && labelled(&a) == 3, "log over 2 decades: %d minor, %d labelled", minor, labelled(&a));
    axis_make(&a, 0.97, 0.985, 0, 0, 6);  // the end gap of Fig. 1(a): exact, distinct labels
    CHECK(distinct(&a) && a.n >= 3 && !strcmp(a.t[0].label, "0.970"), "0.97..0.985: %s", a.t[0].label);
}

// The SVG renderer over the same ends: it returns, and its panel has a bounded number of tick labels.
static void test_svg(void) {
    const double ends[][2] = {{1e20, 0}, {-INFINITY, INFINITY}, {NAN, NAN}, {1e-300, 1e300}, {3, 3}};
    for (int k = 0; k < 5; k++) {
        svg_frame_t f = {.w = 400, .h = 300, .x0 = 0, .x1 = 1, .y0 = ends[k][0], .y1 = k ? ends[k][1] : nextafter(1e20, INFINITY),
                         .ylog = k == 3};
        strbuf_t b = {0};
        svg_open(&b, &f, "t", "", "title", "y");
        double x[2] = {0, 1}, y[2] = {f.y0, f.y1};
        svg_line(&b, &f, x, 1, y, 1, 2, "#000000", 1, 1, NULL);
        int ticks = 0;
        for (const char *p = b.s; (p = strstr(p, "class=\"tick\"")); p++) ticks++;
        CHECK(ticks <= 2 * AXIS_MAX_TICKS + 2 && !strstr(b.s, "nan") && !strstr(b.s, "inf"), "svg %d: %d ticks", k, ticks);
        free(b.s);
    }
}

int main(void) {
    test_hostile_ends();
    test_labels();
    test_svg();
    return check_summary("axis");
}
