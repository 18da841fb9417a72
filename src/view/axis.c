#include "view/axis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define AXIS_BIG 1e300

static double clamp_end(double v, double other) {
    if (isnan(v)) v = isnan(other) ? 0 : other;
    return v > AXIS_BIG ? AXIS_BIG : v < -AXIS_BIG ? -AXIS_BIG : v;
}

static void add(axis_t *a, double v, const char *label) {
    if (a->n == AXIS_MAX_TICKS) return;
    a->t[a->n].v = v;
    snprintf(a->t[a->n].label, sizeof a->t[0].label, "%s", label);
    a->n++;
}

// 1 if two labelled ticks share a label.
static int repeats(const axis_t *a) {
    for (int i = 0; i < a->n; i++)
        for (int j = i + 1; j < a->n; j++)
            if (a->t[i].label[0] && !strcmp(a->t[i].label, a->t[j].label)) return 1;
    return 0;
}

static void linear_label(char *out, size_t cap, double v, double step, double maxabs) {
    if (v == 0) snprintf(out, cap, "0");
    else if (maxabs >= 1e6 || step < 1e-4) {
        int digits = (int)(floor(log10(maxabs)) - floor(log10(step)));
        snprintf(out, cap, "%.*e", digits < 0 ? 0 : digits > 16 ? 16 : digits, v);
    } else if (step >= 1000 && fmod(step, 1000) == 0) snprintf(out, cap, "%.15gk", v / 1000);
    else snprintf(out, cap, "%.*f", step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9), v);
}

static void linear(axis_t *a, double lo, double hi, int integer, int target) {
    double mid = lo / 2 + hi / 2, span = hi - lo;
    if (!(span >= fmax(fabs(mid) * 1e-9, 1e-290))) {  // equal or adjacent ends: no round step fits between them
        double w = mid != 0 ? fabs(mid) * 1e-3 : 1;
        if (integer && w < 1) w = 1;
        if (fabs(mid) > AXIS_BIG / 2) mid = mid > 0 ? AXIS_BIG / 2 : -AXIS_BIG / 2;
        lo = mid - w, hi = mid + w, span = hi - lo;
    }
    double raw = span / target, mag = pow(10, floor(log10(raw))), step = 10 * mag;
    static const double m[] = {5, 2, 1};
    for (int k = 0; k < 3; k++)
        if (m[k] * mag >= raw) step = m[k] * mag;
    if (integer && step < 1) step = 1;
    a->lo = lo, a->hi = hi;
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9), maxabs = fmax(fabs(lo), fabs(hi));
    for (double k = k0; k <= k1 && a->n < AXIS_MAX_TICKS; k++) {  // at most target + 1 steps: step >= span / target
        double v = k * step;
        if (fabs(v) < step * 1e-9) v = 0;
        char label[40];
        linear_label(label, sizeof label, v, step, maxabs);
        add(a, v, label);
    }
    if (repeats(a))
        for (int i = 0; i < a->n; i++) snprintf(a->t[i].label, sizeof a->t[0].label, "%.17g", a->t[i].v);
}

// "10" and the exponent in Unicode superscripts.
static void power_label(char *out, size_t cap, int e) {
    static const char *const sup[10] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
    char digits[16];
    snprintf(digits, sizeof digits, "%d", e < 0 ? -e : e);
    size_t n = (size_t)snprintf(out, cap, "10%s", e < 0 ? "⁻" : "");
    for (const char *d = digits; *d && n < cap; d++) n += (size_t)snprintf(out + n, cap - n, "%s", sup[*d - '0']);
}

static void logarithmic(axis_t *a, double lo, double hi, int target) {
    if (lo < 1e-300) lo = 1e-300;
    if (hi > AXIS_BIG) hi = AXIS_BIG;
    if (!(hi > lo)) hi = lo * 10 > AXIS_BIG ? AXIS_BIG : lo * 10, lo = hi / 10;
    int ea = (int)floor(log10(lo)), eb = (int)ceil(log10(hi));
    if (eb - ea < 1) eb = ea + 1;
    int every = (eb - ea + target - 1) / target;  // at most target + 1 labelled decades
    a->lo = pow(10, ea), a->hi = pow(10, eb);
    for (int e = ea; e <= eb; e += every) {
        char label[40];
        power_label(label, sizeof label, e);
        add(a, pow(10, e), label);
    }
    for (int e = ea; eb - ea <= 2 && e < eb; e++)
        for (int m = 2; m <= 5; m += 3) add(a, m * pow(10, e), "");
}

void axis_make(axis_t *a, double lo, double hi, int log, int integer, int target) {
    memset(a, 0, sizeof *a);
    if (target < 2) target = 2;
    if (target > 12) target = 12;
    double l = clamp_end(lo, hi), h = clamp_end(hi, lo);
    if (l > h) {
        double t = l;
        l = h, h = t;
    }
    a->log = log && l > 0;
    if (a->log) logarithmic(a, l, h, target);
    else linear(a, l, h, integer, target);
}
