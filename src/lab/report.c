#include "lab/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "lab/spec.h"
#include "io/csvtable.h"
#include "io/jsonpath.h"
#include "lab/figures.h"
#include "lab/report_panels.h"
#include "view/axis.h"
#include "view/page_assets.h"
#include "view/logread.h"
#include "view/svg.h"
#include "run/rundir.h"

typedef report_panel_t panel_t;  // runs[0]: the first seed, whose histograms are shown

typedef struct {
    const char *dir;
    view_source_t *src;  // what the page is drawn from (view/source.h)
    int is_compare;
    panel_t panels[REPORT_MAX_PANELS];
    int np, n_variants;  // panels shown, variants in compare.json
    char kind[1024];     // what the page is: "One run.", "A comparison of ...", "A sweep over ..."
} report_t;

// ---- which runs: the one reader of the directory (view/source.h), its variants in the one order

static int load_dirs(report_t *r) {
    view_source_t *src = xcalloc(1, sizeof *src, "report source");
    int rc = view_source_load(src, r->dir, NULL);
    r->is_compare = src->is_compare, r->n_variants = src->n_spec;
    r->np = rc == 0 ? (src->nv < REPORT_MAX_PANELS ? src->nv : REPORT_MAX_PANELS) : 0;
    for (int i = 0; i < r->np; i++) {
        panel_t *p = &r->panels[i];
        snprintf(p->name, sizeof p->name, "%s", src->v[i].label);
        snprintf(p->key, sizeof p->key, "%s", src->v[i].name);
        p->color = src->v[i].color, p->style = src->v[i].style;
        p->n_runs = src->ns < REPORT_MAX_SEEDS ? src->ns : REPORT_MAX_SEEDS;
        for (int k = 0; k < p->n_runs; k++) {
            view_run_dir(src, i, k, p->runs[k], BNLAB_PATH_MAX);
            p->seeds[k] = src->is_compare ? src->seeds[k] : -1;  // -1: report_seeds_text says "this run"
        }
    }
    snprintf(r->kind, sizeof r->kind, "%s", src->kind);
    r->src = src;
    return rc;
}

// ---- text

// Appends cell text (len bytes) with **bold** as <b> and everything else escaped.
static void cell_html(strbuf_t *b, const char *c, size_t len) {
    char *t = xmalloc(len + 1, "report cell");
    memcpy(t, c, len);
    t[len] = '\0';
    int bold = 0;
    for (char *p = t, *q; *p; p = q) {
        q = strstr(p, "**");
        if (q) *q = '\0';
        html_text(b, p);
        if (!q) break;
        strbuf_printf(b, bold ? "</b>" : "<b>");
        bold = !bold, q += 2;
    }
    if (bold) strbuf_printf(b, "</b>");
    free(t);
}

// One table row of Markdown (line, len bytes) as <tr>: header cells as th; the first cell's variant with its colour
// swatch. *variant: that variant's place in the one order, or r->np if the first cell names none.
static void table_row(strbuf_t *b, const char *line, size_t len, int header, const report_t *r, int *variant) {
    *variant = r->np;
    strbuf_printf(b, "<tr>");
    const char *c = line + 1, *stop = line + len;
    for (int col = 0; c < stop; col++) {
        const char *bar = memchr(c, '|', (size_t)(stop - c));
        const char *e = bar ? bar : stop;
        while (c < e && *c == ' ') c++;
        const char *ce = e;
        while (ce > c && ce[-1] == ' ') ce--;
        if (!bar && ce == c) break;  // after the closing '|'
        strbuf_printf(b, "<%s%s>", header ? "th" : "td", !header && col && strspn(c, "0123456789.") ? " class=\"num\"" : "");
        for (int p = 0; !header && col == 0 && p < r->np; p++)
            if ((size_t)(ce - c) == strlen(r->panels[p].key) && !memcmp(c, r->panels[p].key, (size_t)(ce - c))) {
                strbuf_printf(b, "<span class=\"swatch\" style=\"border-color:%s\"></span>", r->panels[p].color);
                *variant = p;
            }
        cell_html(b, c, (size_t)(ce - c));
        strbuf_printf(b, "</%s>", header ? "th" : "td");
        if (!bar) break;
        c = bar + 1;
    }
    strbuf_printf(b, "</tr>\n");
}

typedef struct {
    int variant, line;
    char *html;
} md_row_t;

static int cmp_row(const void *a, const void *b) {
    const md_row_t *x = a, *y = b;
    return x->variant != y->variant ? (x->variant > y->variant) - (x->variant < y->variant) : (x->line > y->line) - (x->line < y->line);
}

// summary.md or sweep.md as HTML: its Markdown tables as real tables, their rows of variants in the one order of
// view/variant.h (the page's order everywhere), each with its colour swatch; its "- " lines as a list; its other
// lines as paragraphs.
static void markdown_html(strbuf_t *b, const char *md, const report_t *r) {
    md_row_t *rows = NULL;
    int n = 0, cap = 0, header = 0, lineno = 0, in_list = 0;
    for (const char *line = md;; lineno++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        int row = len > 0 && line[0] == '|';
        if (!row && n) {  // a table ends: its rows in order
            qsort(rows, (size_t)n, sizeof *rows, cmp_row);
            strbuf_printf(b, "<table class=\"summary\">\n");
            for (int k = 0; k < n; k++) strbuf_printf(b, "%s", rows[k].html), free(rows[k].html);
            strbuf_printf(b, "</table>\n");
            n = 0;
        }
        if (row && strspn(line, "|-: ") >= len) {  // the separator under a header
        } else if (row) {
            if (n == cap) {
                md_row_t *more = xmalloc(sizeof *more * (size_t)(cap = cap ? 2 * cap : 16), "report table");
                if (n) memcpy(more, rows, sizeof *more * (size_t)n);
                free(rows);
                rows = more;
            }
            strbuf_t h = {0};
            header = n == 0;
            table_row(&h, line, len, header, r, &rows[n].variant);
            rows[n].variant = header ? -1 : rows[n].variant, rows[n].line = lineno, rows[n].html = h.s;
            n++;
        }
        int item = !row && len >= 2 && line[0] == '-' && line[1] == ' ';  // a Markdown list's item
        if (in_list && !item) strbuf_printf(b, "</ul>\n"), in_list = 0;
        if (item) {
            if (!in_list) strbuf_printf(b, "<ul class=\"note\">\n"), in_list = 1;
            strbuf_printf(b, "<li>");
            cell_html(b, line + 2, len - 2);
            strbuf_printf(b, "</li>\n");
        } else if (!row && len) {
            strbuf_printf(b, "<p class=\"note\">");
            cell_html(b, line, len);
            strbuf_printf(b, "</p>\n");
        }
        if (!end) break;
        line = end + 1;
    }
    if (in_list) strbuf_printf(b, "</ul>\n");
    free(rows);
}

static void summary_section(strbuf_t *b, const report_t *r) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    strbuf_printf(b, "<h2>Summary</h2>\n");
    if (r->is_compare) {  // a sweep has both: the summary over variants, then its table over the grid
        const char *const mds[2] = {CMPDIR_SUMMARY_MD, CMPDIR_SWEEP_MD};
        int shown = 0;
        for (int k = 0; k < 2; k++) {
            rundir_file(path, sizeof path, r->dir, mds[k]);
            if (!path_exists(path) || read_whole_file(path, 1 << 22, &text, &len) != 0) continue;
            markdown_html(b, text, r);
            free(text);
            shown = 1;
        }
        if (!shown)
            strbuf_printf(b, "<p>No summary.md yet: the comparison is still going (its curves so far are below).</p>\n");
        if (r->n_variants > r->np)
            strbuf_printf(b, "<p class=\"note\">%d variants: the curves and histograms show the first %d.</p>\n",
                          r->n_variants, r->np);
        return;
    }
    rundir_file(path, sizeof path, r->dir, RUNDIR_SUMMARY);
    cJSON *j = NULL;
    if (path_exists(path) && read_whole_file(path, 1 << 20, &text, &len) == 0) {
        j = cJSON_ParseWithLength(text, len);
        free(text);
    }
    if (!j) {
        strbuf_printf(b, "<p>No summary.json yet: the run is still going (its logs so far are below).</p>\n");
        return;
    }
    strbuf_printf(b, "<table class=\"summary\">\n");
    static const char *const keys[][2] = {{"status", "status"}, {"steps", "steps"},
                                          {"final_test_acc", "final test accuracy"},
                                          {"best_test_acc", "best test accuracy"}, {"best_step", "best at step"},
                                          {"seconds", "seconds"}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k][0]);
        if (!v) continue;
        strbuf_printf(b, "<tr><th>%s</th><td>", keys[k][1]);
        if (cJSON_IsString(v)) html_text(b, v->valuestring);
        else if (cJSON_IsNumber(v)) strbuf_printf(b, "%.6g", v->valuedouble);
        else strbuf_printf(b, "&mdash;");
        strbuf_printf(b, "</td></tr>\n");
    }
    strbuf_printf(b, "</table>\n");
    cJSON_Delete(j);
}

// ---- curves: every seed faint, the median over seeds thick (the same aggregation as bnlab plot's)

enum { M_STEP, M_ACC, M_TRAIN_LOSS, M_TEST_LOSS, M_COLS };

// A run's metrics.csv read strictly (view/logread.h) into rows (step, test_acc, train_loss, test_loss); the training
// loss may be empty (step 0 has none). A missing metrics.csv (a run not started yet) is no rows. 0, or -1 + message.
static int metrics_read(series_t *m, const char *run) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_METRICS_CSV);
    series_init(m, M_COLS);
    csv_table_t t;
    int rc = logread_open(&t, path);
    if (rc != 0) return rc < 0 ? -1 : 0;
    static const char *const names[M_COLS] = {"step", "test_acc", "train_loss", "test_loss"};
    int col[M_COLS];
    for (int c = 0; c < M_COLS && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step;
        double row[M_COLS];
        rc = logread_integer(&t, path, col[M_STEP], 0, 1L << 50, &step) ||
             logread_number(&t, path, col[M_ACC], &row[M_ACC]) ||
             logread_optional(&t, path, col[M_TRAIN_LOSS], &row[M_TRAIN_LOSS]) ||
             logread_number(&t, path, col[M_TEST_LOSS], &row[M_TEST_LOSS]) ? -1 : 0;
        row[M_STEP] = (double)step;
        if (rc == 0) series_add(m, row);
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

#define CURVE_H 330
#define CURVE_W 640

// Below the data: a line sample and the name of each variant.
static void legend(strbuf_t *b, const report_t *r) {
    for (int p = 0, x = 60; p < r->np; p++)
        x = svg_key(b, x, CURVE_H - 12, r->panels[p].color, view_dash_svg(r->panels[p].style), r->panels[p].name);
}

// Column col of every seed of every variant (faint when there are several seeds), then each variant's median over
// its seeds (thick), dashed if train.
static void curve_lines(strbuf_t *b, const svg_frame_t *f, const report_t *r, series_t (*m)[REPORT_MAX_SEEDS],
                        const series_t *med, int col, int train) {
    for (int p = 0; p < r->np; p++) {
        const char *dash = train ? "6 4" : view_dash_svg(r->panels[p].style);
        for (int s = 0; r->panels[p].n_runs > 1 && s < r->panels[p].n_runs; s++)
            svg_line(b, f, m[p][s].v, M_COLS, m[p][s].v + col, M_COLS, m[p][s].n, r->panels[p].color, 1, 0.3, dash);
    }
    for (int p = 0; p < r->np; p++)
        svg_line(b, f, med[p].v, M_COLS, med[p].v + col, M_COLS, med[p].n, r->panels[p].color, train ? 2 : 2.5, 1,
                 train ? "6 4" : view_dash_svg(r->panels[p].style));
}

static int curves_section(strbuf_t *b, const report_t *r) {
    series_t (*m)[REPORT_MAX_SEEDS] = xcalloc(REPORT_MAX_PANELS, sizeof *m, "report curves");
    series_t med[REPORT_MAX_PANELS];
    double x1 = 1, a0 = 1, a1 = 0, lmax = 0;
    int rc = 0, any = 0;
    for (int p = 0; p < r->np; p++) {
        series_t all;
        series_init(&all, M_COLS);
        for (int s = 0; s < r->panels[p].n_runs; s++) {
            if (rc == 0 && metrics_read(&m[p][s], r->panels[p].runs[s]) != 0) rc = -1;
            for (int i = 0; i < m[p][s].n; i++) series_add(&all, &m[p][s].v[(size_t)i * M_COLS]);
            series_thin(&m[p][s], REPORT_MAX_POINTS);
        }
        series_median_by_step(&all, &med[p]);
        series_free(&all);
        series_thin(&med[p], REPORT_MAX_POINTS);
        any |= med[p].n > 0;
        double lo = INFINITY, hi = -INFINITY;
        for (int s = 0; s < r->panels[p].n_runs; s++) {
            series_extent(&m[p][s], M_STEP, M_STEP, &lo, &x1);
            series_extent(&m[p][s], M_ACC, M_ACC, &a0, &a1);
            series_extent(&m[p][s], M_TRAIN_LOSS, M_TEST_LOSS, &lo, &hi);
        }
        if (hi > lmax) lmax = hi;
    }
    if (rc == 0) {
        strbuf_printf(b, "<h2 id=\"curves\">Curves</h2>\n");
        if (!any) strbuf_printf(b, "<p>No evaluation logged yet.</p>\n");
        if (!(a1 >= a0)) a0 = 0, a1 = 1;
        if (!(lmax > 0)) lmax = 1;
        strbuf_printf(b, "<div class=\"row\">\n");
        svg_frame_t fa = {.w = CURVE_W, .h = CURVE_H, .x1 = x1}, fl = fa;
        // Accuracy: the data's range, padded (a 0-1 axis would hide a 98 %% vs 97 %% end gap).
        double pad = fmax(0.02, 0.05 * (a1 - a0));
        fa.y0 = fmax(0, a0 - pad), fa.y1 = fmin(1, a1 + pad), fl.y1 = lmax * 1.05;
        svg_open(b, &fa, "curve", "data-quantity=\"accuracy\"", "test accuracy", "accuracy");
        curve_lines(b, &fa, r, m, med, M_ACC, 0);
        legend(b, r);
        strbuf_printf(b, "</svg>\n");
        svg_open(b, &fl, "curve", "data-quantity=\"loss\"", "loss (dashed: training, solid: test)", "cross-entropy");
        curve_lines(b, &fl, r, m, med, M_TRAIN_LOSS, 1);
        curve_lines(b, &fl, r, m, med, M_TEST_LOSS, 0);
        legend(b, r);
        strbuf_printf(b, "</svg>\n</div>\n");
        if (r->is_compare && r->panels[0].n_runs > 1)
            strbuf_printf(b, "<p class=\"note\">Thick: the median over the %d seeds at each step; faint: each seed.</p>\n",
                          r->panels[0].n_runs);
    }
    for (int p = 0; p < r->np; p++) {
        for (int s = 0; s < r->panels[p].n_runs; s++) series_free(&m[p][s]);
        series_free(&med[p]);
    }
    free(m);
    return rc;
}

// A JSON string's characters for a page's <script> element: quotes and backslashes escaped, '<' as \u003c so
// no "</script>" can end the element, control characters as \u00XX (a run's directory may be named anything).
static void json_text(strbuf_t *b, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') strbuf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') strbuf_printf(b, "\\u%04x", c);
        else strbuf_printf(b, "%c", c);
    }
}

// ---- histograms: {"panels": [{"name": N, "color": "#RRGGBB", "hidden": [{"h", "layer", "type", "units", "lo", "hi",
// "logged", "frames": [[step, n, c0, c1, ...], ...]}, ...]}, ...], "rows": [{"lo", "hi", "ticks": [[v, "label"], ...]}]}
// — histograms.csv read strictly (view/logread.h), at most REPORT_MAX_FRAMES frames per hidden layer (evenly spread
// from the first to the last: a page of a 50,000-step run stays small), each row's x axis from view/axis.h.

#define REPORT_MAX_FRAMES 500

typedef struct {
    int nh;
    long frames[REPORT_MAX_HIDDEN];       // rows of each hidden layer
    double lo[REPORT_MAX_HIDDEN], hi[REPORT_MAX_HIDDEN];
    long layer[REPORT_MAX_HIDDEN], units[REPORT_MAX_HIDDEN];
    char type[REPORT_MAX_HIDDEN][33];
} hist_scan_t;

typedef struct {
    csv_table_t t;
    char path[BNLAB_PATH_MAX];
    int cs, ch, cl, ct, cu, cn, clo, chi, c0, ncols;
} hist_file_t;

// Opens a run's histograms.csv or gradient_histograms.csv (file; the same columns): 0, 1 absent, -1 + message.
static int hist_open(hist_file_t *h, const char *run, const char *file) {
    rundir_file(h->path, sizeof h->path, run, file);
    int rc = logread_open(&h->t, h->path);
    if (rc != 0) return rc;
    const char *names[] = {"step", "hidden", "layer", "layer_type", "units", "n", "lo", "hi", "c0"};
    int *cols[] = {&h->cs, &h->ch, &h->cl, &h->ct, &h->cu, &h->cn, &h->clo, &h->chi, &h->c0};
    for (int k = 0; k < 9 && rc == 0; k++) rc = (*cols[k] = logread_column(&h->t, h->path, names[k])) < 0 ? -1 : 0;
    h->ncols = 1;
    for (const char *q = h->t.header; *q && *q != '\n'; q++) h->ncols += *q == ',';
    if (rc != 0) csv_table_free(&h->t);
    return rc;
}

// The current row checked: every field as the format says, the edges finite with lo < hi and the same as the
// layer's first row's, the counts whole numbers that sum to n. *hidden: its index (0-based).
static int hist_row(hist_file_t *h, hist_scan_t *s, int *hidden, long *step) {
    const csv_table_t *t = &h->t;
    long hd, n, layer, units;
    double lo, hi;
    if (logread_integer(t, h->path, h->cs, 0, 1L << 50, step) || logread_integer(t, h->path, h->ch, 1, REPORT_MAX_HIDDEN, &hd) ||
        logread_integer(t, h->path, h->cl, 0, 1 << 20, &layer) || logread_integer(t, h->path, h->cu, 1, 1 << 24, &units) ||
        logread_integer(t, h->path, h->cn, 0, 1L << 50, &n) || logread_finite(t, h->path, h->clo, &lo) ||
        logread_finite(t, h->path, h->chi, &hi))
        return -1;
    if (!(lo < hi)) return bnlab_fail("%s: line %d: expected edges lo < hi, found %.17g and %.17g", h->path, t->lineno, lo, hi);
    size_t tl;
    const char *type = csv_field(t->row, h->ct, &tl);
    if (!type || tl == 0 || tl > 32 || strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_") < tl)
        return bnlab_fail("%s: line %d, column \"layer_type\": expected a layer kind's name", h->path, t->lineno);
    long sum = 0, c;
    for (int k = h->c0; k < h->ncols; k++) {
        if (logread_integer(t, h->path, k, 0, 1L << 50, &c) != 0) return -1;
        sum += c;
    }
    if (sum != n) return bnlab_fail("%s: line %d: the counts sum to %ld, expected n = %ld", h->path, t->lineno, sum, n);
    int k = (int)hd - 1;
    if (k >= s->nh) {
        for (int j = s->nh; j <= k; j++) s->frames[j] = 0;
        s->nh = k + 1;
    }
    if (s->frames[k] == 0) {
        s->lo[k] = lo, s->hi[k] = hi, s->layer[k] = layer, s->units[k] = units;
        snprintf(s->type[k], sizeof s->type[k], "%.*s", (int)tl, type);
    } else if (lo != s->lo[k] || hi != s->hi[k])
        return bnlab_fail("%s: line %d: hidden layer %ld's edges changed from [%.17g, %.17g] to [%.17g, %.17g] (a "
                          "layer keeps its edges for the whole run)", h->path, t->lineno, hd, s->lo[k], s->hi[k], lo, hi);
    *hidden = k;
    return 0;
}

// Pass 1 over a run's histogram file: every row checked, the frames and edges of each hidden layer into s. 0, 1 no
// such file, -1 + message.
static int hist_scan(hist_scan_t *s, const char *run, const char *file) {
    memset(s, 0, sizeof *s);
    hist_file_t h;
    int rc = hist_open(&h, run, file), k;
    if (rc != 0) return rc;
    long step;
    while ((rc = logread_next(&h.t, h.path)) == 1)
        if ((rc = hist_row(&h, s, &k, &step)) != 0) break;
        else s->frames[k]++;
    csv_table_free(&h.t);
    return rc < 0 ? -1 : 0;
}

// Pass 2: a panel's hidden layers of one file as a JSON array, each hidden layer's frames thinned to
// REPORT_MAX_FRAMES.
static int hist_json(strbuf_t *b, const report_panel_t *p, const hist_scan_t *s, const char *file) {
    strbuf_printf(b, "[");
    hist_file_t h;
    int rc = s->nh ? hist_open(&h, p->runs[0], file) : 1;
    if (rc != 0) {
        strbuf_printf(b, "]");
        return rc < 0 ? -1 : 0;
    }
    strbuf_t frames[REPORT_MAX_HIDDEN] = {{0}};
    long seen[REPORT_MAX_HIDDEN] = {0}, kept[REPORT_MAX_HIDDEN] = {0}, step;
    hist_scan_t again;
    memset(&again, 0, sizeof again);
    int k;
    while ((rc = logread_next(&h.t, h.path)) == 1 && (rc = hist_row(&h, &again, &k, &step)) == 0) {
        long n = s->frames[k], i = seen[k]++, m = n < REPORT_MAX_FRAMES ? n : REPORT_MAX_FRAMES;
        // Frame i is kept when it is the j-th of m evenly spread ones: i = j (n - 1) / (m - 1) (logread.h's thinning).
        long j = kept[k];
        if (m > 1 && i != j * (n - 1) / (m - 1)) continue;
        kept[k]++;
        size_t len;
        const char *f0 = csv_field(h.t.row, h.c0, &len), *last = csv_field(h.t.row, h.ncols - 1, &len);
        long nn;
        csv_field_long(h.t.row, h.cn, &nn);
        strbuf_printf(&frames[k], "%s[%ld,%ld,%.*s]", frames[k].len ? "," : "", step, nn, (int)(last + len - f0), f0);
    }
    for (int j = 0; j < s->nh; j++) {
        strbuf_printf(b, "%s{\"h\":%d,\"layer\":%ld,\"type\":\"%s\",\"units\":%ld,\"lo\":%.17g,\"hi\":%.17g,"
                      "\"logged\":%ld,\"frames\":[%s]}", j ? "," : "", j + 1, s->layer[j], s->type[j], s->units[j],
                      s->lo[j], s->hi[j], s->frames[j], frames[j].s ? frames[j].s : "");
        free(frames[j].s);
    }
    strbuf_printf(b, "]");
    csv_table_free(&h.t);
    return rc < 0 ? -1 : 0;
}

// Each row's shared x axis over the panels' edges of hidden layer k, with its ticks (view/axis.h), as "rows" JSON.
static void hist_rows(strbuf_t *b, const hist_scan_t *s, int np, int nh) {
    for (int k = 0; k < nh; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int p = 0; p < np; p++)
            if (k < s[p].nh && s[p].frames[k]) lo = fmin(lo, s[p].lo[k]), hi = fmax(hi, s[p].hi[k]);
        if (!(lo < hi)) lo = 0, hi = 1;  // no frame of this layer in any panel
        axis_t a;
        axis_make(&a, lo, hi, 0, 0, 5);
        strbuf_printf(b, "%s{\"lo\":%.17g,\"hi\":%.17g,\"ticks\":[", k ? "," : "", a.lo, a.hi);
        for (int i = 0; i < a.n; i++) {
            strbuf_printf(b, "%s[%.17g,\"", i ? "," : "", a.t[i].v);
            json_text(b, a.t[i].label);
            strbuf_printf(b, "\"]");
        }
        strbuf_printf(b, "]}");
    }
}

// The histogram data of every panel — the forward histograms (histograms.csv) as "hidden" and "rows", the gradient
// histograms (gradient_histograms.csv, log.gradients_every) as "grad" and "grows" — and each row's shared x axis.
static int hist_data(strbuf_t *b, const report_t *r) {
    hist_scan_t *s = xcalloc((size_t)r->np, sizeof *s, "report histograms");
    hist_scan_t *g = xcalloc((size_t)r->np, sizeof *g, "report histograms");
    int rc = 0, nh = 0, ng = 0;
    for (int p = 0; p < r->np && rc == 0; p++) {
        rc = hist_scan(&s[p], r->panels[p].runs[0], RUNDIR_HISTOGRAMS) < 0 ||
             hist_scan(&g[p], r->panels[p].runs[0], RUNDIR_GRAD_HISTOGRAMS) < 0 ? -1 : 0;
        if (s[p].nh > nh) nh = s[p].nh;
        if (g[p].nh > ng) ng = g[p].nh;
    }
    strbuf_printf(b, "{\"panels\":[");
    for (int p = 0; p < r->np && rc == 0; p++) {
        strbuf_printf(b, "%s{\"name\":\"", p ? "," : "");
        json_text(b, r->panels[p].name);
        strbuf_printf(b, "\",\"color\":\"%s\",\"hidden\":", r->panels[p].color);
        rc = hist_json(b, &r->panels[p], &s[p], RUNDIR_HISTOGRAMS);
        strbuf_printf(b, ",\"grad\":");
        if (rc == 0) rc = hist_json(b, &r->panels[p], &g[p], RUNDIR_GRAD_HISTOGRAMS);
        strbuf_printf(b, "}");
    }
    strbuf_printf(b, "],\"rows\":[");
    if (rc == 0) hist_rows(b, s, r->np, nh);
    strbuf_printf(b, "],\"grows\":[");
    if (rc == 0) hist_rows(b, g, r->np, ng);
    strbuf_printf(b, "]}");
    free(s), free(g);
    return rc;
}

// One kind of the table (lab/figures.h): built on the figure model, or drawn by this page's own sections.
static int kind_section(strbuf_t *b, const report_t *r, const figure_kind_t *kind) {
    const char *n = kind->name;
    if (kind->build) {
        figure_input_t in = {.src = r->src, .xlabel = "training step"};
        for (int i = 0; i < VIEW_MAX_VARIANTS; i++) in.xk[i] = 1;
        figmodel_t m;
        int rc = kind->build(&m, &in);
        if (rc < 0) return -1;
        strbuf_printf(b, "<h2 id=\"%s\">", n);
        html_text(b, kind->heading);
        strbuf_printf(b, "</h2>\n");
        figmodel_svg(b, &m);
        figmodel_free(&m);
        return 0;
    }
    if (!strcmp(n, "accuracy")) return curves_section(b, r);  // accuracy and loss, side by side
    if (!strcmp(n, "loss")) return 0;
    if (!strcmp(n, "layers")) return report_fans(b, r->panels, r->np);
    if (!strcmp(n, "ics")) return report_ics(b, r->panels, r->np);
    if (!strcmp(n, "landscape")) return report_landscape(b, r->panels, r->np);
    strbuf_printf(b, "<h2 id=\"%s\">", n);  // not on the page yet: said, with where it is
    html_text(b, kind->heading);
    strbuf_printf(b, "</h2>\n<p class=\"note absent\" id=\"%s-plot-only\">Drawn by <code>bnlab plot</code> "
                     "(plots/%s.png), not on this page yet.</p>\n", n, n);
    return 0;
}

int report_dir(const char *dir) {
    report_t *r = xcalloc(1, sizeof *r, "report");
    r->dir = dir;
    strbuf_t b = {0};
    int rc = load_dirs(r);
    if (rc == 0) {
        strbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>bnlab report: ");
        html_text(&b, dir);
        strbuf_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n<h1>bnlab report: ", PAGE_CSS);
        html_text(&b, dir);
        strbuf_printf(&b, "</h1>\n<p class=\"note\" id=\"kind\">");
        html_text(&b, r->kind);
        strbuf_printf(&b, ". Made by <code>bnlab report</code> from the logs as they were; run it again to "
                          "refresh.</p>\n");
        summary_section(&b, r);
    }
    for (int k = 0; k < N_FIGURE_KINDS && rc == 0; k++) rc = kind_section(&b, r, &FIGURE_KINDS[k]);
    if (rc == 0) {
        strbuf_printf(&b, "<h2>Inside the network: each hidden layer's input to its nonlinearity</h2>\n<p class=\"note\">"
                          "Histograms over the probe images in training mode (log.histograms)%s; the variants share "
                          "each row's axes (bar height: density, on a square-root scale by default so that a tall "
                          "narrow peak does not flatten the other panel). With log.gradients_every, each layer's "
                          "second row is the gradient \u2202L/\u2202h at the nonlinearity's input over that step's training "
                          "batch (gradient_histograms.csv). Move the slider or press play to watch the distributions "
                          "shift.</p>\n",
                      r->is_compare ? ", of each variant's first seed" : "");
        strbuf_printf(&b, "<div class=\"controls\" id=\"controls\"><button id=\"play\" type=\"button\">\u25B6 play</button>"
                          "<input type=\"range\" id=\"slider\" min=\"0\" max=\"0\" step=\"1\" value=\"0\">"
                          "<span>step <b id=\"hstep\"></b></span><label>y axis <select id=\"yscale\">"
                          "<option value=\"sqrt\" selected>shared, square root</option><option value=\"linear\">"
                          "shared, linear</option><option value=\"own\">each panel its own, linear</option></select>"
                          "</label></div>\n<div id=\"hists\"></div>\n");
        strbuf_printf(&b, "<script type=\"application/json\" id=\"hdata\">");
        rc = hist_data(&b, r);
        strbuf_printf(&b, "</script>\n<script>\n%s</script>\n<script>\n%s</script>\n</body></html>\n", PAGE_HISTOGRAMS_JS,
                      PAGE_SELFTEST_JS);
    }
    if (rc == 0) {
        char path[BNLAB_PATH_MAX];
        rundir_file(path, sizeof path, dir, RUNDIR_REPORT);
        rc = write_file_atomic(path, b.s, b.len);
        if (rc == 0) printf("report: %s (%.0f kB)\n", path, b.len / 1024.0);
    }
    free(b.s);
    free(r->src);
    free(r);
    return rc;
}
