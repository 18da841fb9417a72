#include "lab/logmetric.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "io/jsonpath.h"
#include "run/recorders.h"
#include "run/rundir.h"

const char *const LOGMETRIC_KEYS[] = {"file", "column", "minus", "where", "ratio_to_where", "rows", "over",
                                      "from_step", NULL};
static const char *const OVER[] = {"final", "max", "min", "mean", "range", "drift", "first", NULL};
static const char *const ROWS[] = {"one", "max", "min", "mean", NULL};

// ---- parsing ----

static int read_filter(lm_filter_t *f, const cJSON *o, const char *path, const char *key) {
    char p[JP_PATH_MAX];
    jp_join(p, path, key);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, key);
    f->n = 0;
    if (!w) return 0;
    if (!cJSON_IsObject(w) || !w->child || cJSON_GetArraySize(w) > LM_MAX_WHERE)
        return bnlab_fail("%s: expected an object of 1..%d column: value pairs", p, LM_MAX_WHERE);
    for (const cJSON *c = w->child; c; c = c->next, f->n++) {
        lm_where_t *x = &f->w[f->n];
        char q[JP_PATH_MAX];
        jp_join(q, p, c->string);
        if (strlen(c->string) >= LM_NAME || !c->string[0])
            return bnlab_fail("%s: expected a column name of 1..%d characters", q, LM_NAME - 1);
        snprintf(x->column, sizeof x->column, "%s", c->string);
        if (cJSON_IsNumber(c)) {
            x->is_number = 1, x->number = c->valuedouble;
            snprintf(x->text, sizeof x->text, "%.17g", c->valuedouble);
        } else if (cJSON_IsString(c) && strlen(c->valuestring) < LM_NAME && !strchr(c->valuestring, ',')) {
            snprintf(x->text, sizeof x->text, "%s", c->valuestring);
        } else {
            char d[64];
            jp_describe(d, sizeof d, c);
            return bnlab_fail("%s: expected a number or a string of < %d characters without a comma, found %s", q,
                              LM_NAME, d);
        }
    }
    return 0;
}

static int required_string(const cJSON *o, const char *path, const char *key, char *out) {
    char p[JP_PATH_MAX];
    jp_join(p, path, key);
    if (!cJSON_GetObjectItemCaseSensitive(o, key)) return bnlab_fail("%s: missing (a log expectation needs it)", p);
    if (jp_string(o, path, key, out, LM_NAME) != 0) return -1;
    return out[0] ? 0 : bnlab_fail("%s: expected a column name, found \"\"", p);
}

int logmetric_parse(logmetric_t *m, const cJSON *o, const char *path) {
    memset(m, 0, sizeof *m);
    int f = -1, over = LM_FINAL, rows = LM_ROWS_ONE;
    long long from = 0;
    char p[JP_PATH_MAX];
    jp_join(p, path, "file");
    if (!cJSON_GetObjectItemCaseSensitive(o, "file")) return bnlab_fail("%s: missing (a log expectation needs it)", p);
    const char *files[REC_MAX * REC_MAX_FILES + 1];  // the logs' CSV files an expectation may read
    recorders_expect_files(files, (int)(sizeof files / sizeof files[0]));
    if (jp_enum(o, path, "file", files, &f) != 0) return -1;
    snprintf(m->file, sizeof m->file, "%s", files[f]);
    if (required_string(o, path, "column", m->column) != 0 || jp_string(o, path, "minus", m->minus, LM_NAME) != 0 ||
        read_filter(&m->where, o, path, "where") != 0 || read_filter(&m->ratio, o, path, "ratio_to_where") != 0 ||
        jp_enum(o, path, "rows", ROWS, &rows) != 0 || jp_enum(o, path, "over", OVER, &over) != 0 ||
        jp_int(o, path, "from_step", 0, 1000000000000LL, &from) != 0)
        return -1;
    m->has_ratio = cJSON_GetObjectItemCaseSensitive(o, "ratio_to_where") != NULL;
    m->rows = (lm_rows_t)rows, m->over = (lm_over_t)over, m->from_step = (long)from;
    return 0;
}

// ---- measuring ----

typedef struct {
    long step;
    double num, den;  // combined values of the rows at this step (where, ratio_to_where)
    int n_num, n_den;
} lm_step_t;

static int matches(const lm_filter_t *f, const int *cols, const char *line) {
    for (int i = 0; i < f->n; i++) {
        const lm_where_t *w = &f->w[i];
        if (w->is_number) {
            double v;
            if (csv_field_double(line, cols[i], &v) != 0 || v != w->number) return 0;
        } else if (!csv_field_is(line, cols[i], w->text)) return 0;
    }
    return 1;
}

static void combine(lm_rows_t how, double *acc, int *n, double v) {
    if (*n == 0) *acc = v;
    else if (how == LM_ROWS_MAX) *acc = v > *acc ? v : *acc;
    else if (how == LM_ROWS_MIN) *acc = v < *acc ? v : *acc;
    else *acc += v;  // mean (divided at the end); "one" fails on a second row before this matters
    (*n)++;
}

static int find_filter_columns(const lm_filter_t *f, int *cols, const char *header, const char *path) {
    for (int i = 0; i < f->n; i++)
        if ((cols[i] = csv_column(header, f->w[i].column, path)) < 0) return -1;
    return 0;
}

// The value x of one row (column minus minus), or -1 if it is empty (skipped) / -2 + message if not a number.
static int row_value(const char *line, int c, int cm, const char *path, int lineno, const logmetric_t *m, double *x) {
    size_t len;
    const char *f = csv_field(line, c, &len);
    if (!f || len == 0) return -1;
    if (csv_field_double(line, c, x) != 0)
        return bnlab_fail("%s: line %d: column %s: expected a number, found \"%.*s\"", path, lineno, m->column,
                          (int)(len > 40 ? 40 : len), f), -2;
    double y;
    if (cm >= 0) {
        if (csv_field_double(line, cm, &y) != 0) return -1;
        *x -= y;
    }
    return 0;
}

// Reads the table into per-step values s[0..*n) (steps in file order, which is ascending). -1 + message.
static int read_steps(const logmetric_t *m, csv_table_t *t, const char *path, lm_step_t **out, int *n) {
    int cs = csv_column(t->header, "step", path), c = csv_column(t->header, m->column, path), cm = -1;
    int cw[LM_MAX_WHERE], cr[LM_MAX_WHERE];
    if (cs < 0 || c < 0 || (m->minus[0] && (cm = csv_column(t->header, m->minus, path)) < 0) ||
        find_filter_columns(&m->where, cw, t->header, path) != 0 || find_filter_columns(&m->ratio, cr, t->header, path) != 0)
        return -1;
    int cap = 64;
    lm_step_t *s = xmalloc(sizeof *s * (size_t)cap, "log steps");
    *n = 0;
    while (csv_table_next(t)) {
        long step;
        if (csv_field_long(t->row, cs, &step) != 0) continue;
        int in_num = matches(&m->where, cw, t->row), in_den = m->has_ratio && matches(&m->ratio, cr, t->row);
        if (!in_num && !in_den) continue;
        double x;
        int rc = row_value(t->row, c, cm, path, t->lineno, m, &x);
        if (rc == -2) return free(s), -1;
        if (rc == -1) continue;
        if (*n == 0 || s[*n - 1].step != step) {
            if (*n == cap) {
                lm_step_t *g = xmalloc(sizeof *s * (size_t)(cap *= 2), "log steps");
                memcpy(g, s, sizeof *s * (size_t)*n);
                free(s), s = g;
            }
            s[(*n)++] = (lm_step_t){.step = step};
        }
        lm_step_t *st = &s[*n - 1];
        if (m->rows == LM_ROWS_ONE && ((in_num && st->n_num) || (in_den && st->n_den))) {
            free(s);
            return bnlab_fail("%s: more than one row at step %ld matches the expectation's filter: narrow \"where\" "
                              "or combine them with \"rows\": \"max\", \"min\" or \"mean\"", path, step);
        }
        if (in_num) combine(m->rows, &st->num, &st->n_num, x);
        if (in_den) combine(m->rows, &st->den, &st->n_den, x);
    }
    *out = s;
    return 0;
}

// x(t) for one step; NAN if a side has no row.
static double step_value(const logmetric_t *m, const lm_step_t *s) {
    if (!s->n_num || (m->has_ratio && !s->n_den)) return NAN;
    double a = m->rows == LM_ROWS_MEAN ? s->num / s->n_num : s->num;
    if (!m->has_ratio) return a;
    return a / (m->rows == LM_ROWS_MEAN ? s->den / s->n_den : s->den);
}

static double reduce(const logmetric_t *m, const lm_step_t *s, int n) {
    double final = NAN, first = NAN, lo = INFINITY, hi = -INFINITY, sum = 0;
    int k = 0;
    for (int i = n - 1; i >= 0 && isnan(final); i--) final = step_value(m, &s[i]);
    double drift = 0;
    for (int i = 0; i < n; i++) {
        double x = step_value(m, &s[i]);
        if (isnan(x) || s[i].step < m->from_step) continue;
        if (k == 0) first = x;
        lo = x < lo ? x : lo, hi = x > hi ? x : hi, sum += x, k++;
        if (fabs(x - final) > drift) drift = fabs(x - final);
    }
    if (k == 0) return NAN;
    switch (m->over) {
    case LM_FINAL: return final;
    case LM_MAX: return hi;
    case LM_MIN: return lo;
    case LM_MEAN: return sum / k;
    case LM_RANGE: return hi - lo;
    case LM_FIRST: return first;
    default: return drift;
    }
}

int logmetric_measure(const logmetric_t *m, const char *run_dir, double *out) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run_dir, m->file);
    csv_table_t t;
    if (csv_table_read(&t, path, SIZE_POW2_CAP(32)) != 0) return -1;
    lm_step_t *s = NULL;
    int n = 0, rc = read_steps(m, &t, path, &s, &n);
    csv_table_free(&t);
    if (rc != 0) return -1;
    *out = reduce(m, s, n);
    free(s);
    if (isnan(*out))
        return bnlab_fail("%s: no row at step >= %ld matches the expectation's filter with a value in %s", path,
                          m->from_step, m->column);
    return 0;
}

// ---- describing ----

static void filter_text(strbuf_t *b, const lm_filter_t *f) {
    for (int i = 0; i < f->n; i++) strbuf_printf(b, "%s%s=%s", i ? " " : "", f->w[i].column, f->w[i].text);
}

void logmetric_describe(char *out, size_t cap, const logmetric_t *m) {
    strbuf_t b = {0};
    strbuf_printf(&b, "%s %s%s%s", m->file, m->column, m->minus[0] ? "−" : "", m->minus);
    if (m->where.n) strbuf_printf(&b, " ["), filter_text(&b, &m->where), strbuf_printf(&b, "]");
    if (m->has_ratio) strbuf_printf(&b, " / ["), filter_text(&b, &m->ratio), strbuf_printf(&b, "]");
    if (m->rows != LM_ROWS_ONE) strbuf_printf(&b, " %s of rows", ROWS[m->rows]);
    strbuf_printf(&b, ", %s", OVER[m->over]);
    if (m->from_step) strbuf_printf(&b, " from step %ld", m->from_step);
    snprintf(out, cap, "%s", b.s);
    free(b.s);
}

static cJSON *filter_json(const lm_filter_t *f) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < f->n; i++)
        cJSON_AddItemToObject(o, f->w[i].column, f->w[i].is_number ? cJSON_CreateNumber(f->w[i].number)
                                                                    : cJSON_CreateString(f->w[i].text));
    return o;
}

void logmetric_add_json(cJSON *o, const logmetric_t *m) {
    cJSON_AddStringToObject(o, "file", m->file);
    cJSON_AddStringToObject(o, "column", m->column);
    if (m->minus[0]) cJSON_AddStringToObject(o, "minus", m->minus);
    if (m->where.n) cJSON_AddItemToObject(o, "where", filter_json(&m->where));
    if (m->has_ratio) cJSON_AddItemToObject(o, "ratio_to_where", filter_json(&m->ratio));
    cJSON_AddStringToObject(o, "rows", ROWS[m->rows]);
    cJSON_AddStringToObject(o, "over", OVER[m->over]);
    if (m->from_step) cJSON_AddNumberToObject(o, "from_step", (double)m->from_step);
}
