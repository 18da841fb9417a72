#include "view/logread.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

int logread_open(csv_table_t *t, const char *path) {
    memset(t, 0, sizeof *t);
    if (!path_exists(path)) return 1;
    return csv_table_read(t, path, (size_t)1 << 31) == 0 ? 0 : -1;
}

static int n_fields(const char *line) {
    int n = 1;
    for (; *line && *line != '\n'; line++) n += *line == ',';
    return n;
}

int logread_next(csv_table_t *t, const char *path) {
    if (!csv_table_next(t)) return 0;
    if (!memchr(t->row, '\n', (size_t)(t->text + t->len - t->row))) return 0;  // cut short: still being written
    int n = n_fields(t->row), m = n_fields(t->header);
    if (n != m) return bnlab_fail("%s: line %d: %d fields, expected %d (its header's)", path, t->lineno, n, m);
    return 1;
}

int logread_column(const csv_table_t *t, const char *path, const char *name) {
    return csv_column(t->header, name, path);
}

static int bad_field(const csv_table_t *t, const char *path, int col, const char *expected) {
    size_t nl, fl;
    const char *name = csv_field(t->header, col, &nl), *f = csv_field(t->row, col, &fl);
    if (!f) f = "", fl = 0;
    if (fl > 40) fl = 40;
    return bnlab_fail("%s: line %d, column \"%.*s\": expected %s, found \"%.*s\"", path, t->lineno,
                      (int)(name ? nl : 0), name ? name : "", expected, (int)fl, f);
}

// The one rule for a number in a log: the whole field, as bnlab's printf wrote it — an optional '-', digits with an
// optional '.' and exponent — or exactly "nan", "inf", "-inf" (a diverged run's values). Refused: an empty field,
// spaces, '+', hex, "infinity", and a literal too large for a double (1e999 would silently become inf).
int logread_parse_number(const char *f, size_t len, double *out) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, f, len);
    buf[len] = '\0';
    if (!strcmp(buf, "nan") || !strcmp(buf, "-nan")) return *out = NAN, 0;
    if (!strcmp(buf, "inf")) return *out = INFINITY, 0;
    if (!strcmp(buf, "-inf")) return *out = -INFINITY, 0;
    if (strspn(buf, "0123456789.eE-+") != len || !(isdigit((unsigned char)buf[0]) || buf[0] == '-' || buf[0] == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len || !isfinite(v) || (errno == ERANGE && fabs(v) > 1)) return -1;
    *out = v;
    return 0;
}

// An integer as bnlab writes one: an optional '-', then "0" or digits without a leading zero ("007" is refused).
int logread_parse_integer(const char *f, size_t len, long *out) {
    size_t i = len && f[0] == '-';
    if (i == len || len > 19 || strspn(f + i, "0123456789") < len - i || (f[i] == '0' && len - i > 1)) return -1;
    char buf[24];
    memcpy(buf, f, len);
    buf[len] = '\0';
    errno = 0;
    long v = strtol(buf, NULL, 10);
    if (errno || (v == 0 && i)) return -1;  // "-0" is not how bnlab writes 0
    *out = v;
    return 0;
}

// The last '\n' of text[0..len), or NULL.
static char *memrchr_nl(char *text, size_t len) {
    for (size_t i = len; i > 0; i--)
        if (text[i - 1] == '\n') return text + i - 1;
    return NULL;
}

int logread_number(const csv_table_t *t, const char *path, int col, double *out) {
    size_t len;
    const char *f = csv_field(t->row, col, &len);
    return f && logread_parse_number(f, len, out) == 0 ? 0 : bad_field(t, path, col, "a number");
}

int logread_optional(const csv_table_t *t, const char *path, int col, double *out) {
    size_t len;
    const char *f = csv_field(t->row, col, &len);
    if (f && len == 0) return *out = NAN, 0;
    return f && logread_parse_number(f, len, out) == 0 ? 0 : bad_field(t, path, col, "a number or nothing");
}

int logread_finite(const csv_table_t *t, const char *path, int col, double *out) {
    size_t len;
    const char *f = csv_field(t->row, col, &len);
    return f && logread_parse_number(f, len, out) == 0 && isfinite(*out) ? 0 : bad_field(t, path, col, "a finite number");
}

int logread_integer(const csv_table_t *t, const char *path, int col, long lo, long hi, long *out) {
    char what[96];
    snprintf(what, sizeof what, "an integer in [%ld, %ld]", lo, hi);
    size_t len;
    const char *f = csv_field(t->row, col, &len);
    if (!f || logread_parse_integer(f, len, out) != 0 || *out < lo || *out > hi) return bad_field(t, path, col, what);
    return 0;
}


int logread_check_all(csv_table_t *t, const char *path, const int *cols, const char *kinds, int n, int rest) {
    int rc, ncols = 1;
    for (const char *q = t->header; *q && *q != '\n'; q++) ncols += *q == ',';
    while ((rc = logread_next(t, path)) == 1) {
        double v;
        long l;
        for (int k = 0; k < n && rc == 1; k++) {
            int c = cols[k];
            switch (kinds[k]) {
            case 'i': rc = logread_integer(t, path, c, 0, LONG_MAX, &l) ? -1 : 1; break;
            case 'n': rc = logread_number(t, path, c, &v) ? -1 : 1; break;
            case 'o': rc = logread_optional(t, path, c, &v) ? -1 : 1; break;
            case 'f': rc = logread_finite(t, path, c, &v) ? -1 : 1; break;
            case 'u': rc = csv_field_is(t->row, c, "all") || logread_integer(t, path, c, 0, LONG_MAX, &l) == 0 ? 1 : -1; break;
            default: break;
            }
        }
        for (int c = rest; rest >= 0 && c < ncols && rc == 1; c++) rc = logread_number(t, path, c, &v) ? -1 : 1;
        if (rc != 1) break;
    }
    if (rc < 0) return -1;
    char *last = memrchr_nl(t->text, t->len);
    if (last && (size_t)(last - t->text) + 1 < t->len) {  // a last line without its newline: being written
        last[1] = '\0';
        t->len = (size_t)(last - t->text) + 1;
    }
    t->row = NULL, t->lineno = 1;
    return 0;
}
