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
#include "run/gradlog.h"
#include "run/config.h"
#include "run/histlog.h"
#include "view/axis.h"
#include "view/page_assets.h"
#include "view/logread.h"
#include "view/svg.h"
#include "run/rundir.h"

#define REPORT_MAX_PANELS VIEW_MAX_VARIANTS
#define REPORT_MAX_HIDDEN CFG_MAX_LAYERS  // hidden layers of a run's histograms: as many as a config can have

typedef struct {
    char name[VIEW_NAME_MAX];  // the variant's label (view/source.h)
    char key[VIEW_NAME_MAX];   // its name (its directory)
    const char *color;         // its colour and line style everywhere on the page (view/variant.h)
    int style;
} panel_t;

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
        if (!header && col == 0 && *variant < r->np && strcmp(r->panels[*variant].name, r->panels[*variant].key)) {  // its legend text too
            html_text(b, r->panels[*variant].name);
            strbuf_printf(b, " <span class=\"note\">(");
            cell_html(b, c, (size_t)(ce - c));
            strbuf_printf(b, ")</span>");
        } else cell_html(b, c, (size_t)(ce - c));
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
// "outside", "logged", "frames": [[step, n, under, over, c0, c1, ...], ...]}, ...]}, ...], "rows": [{"lo", "hi", "ticks":
// [[v, "label"], ...]}]} — under, over: how many of the edge bins' counts lie outside [lo, hi) (-1 and "outside": 0 for a
// log written before histlog.h recorded them)
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
    int cunder, cover;  // -1: a log written before these columns (run/histlog.h)
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
    h->cunder = csv_header_index(h->t.header, "under"), h->cover = csv_header_index(h->t.header, "over");
    if (rc == 0 && (h->cunder < 0) != (h->cover < 0))
        rc = bnlab_fail("%s: header: expected both \"under\" and \"over\" or neither", h->path);
    if (rc != 0) csv_table_free(&h->t);
    return rc;
}

// The current row checked: every field as the format says, the edges finite with lo < hi and the same as the
// layer's first row's, the counts whole numbers that sum to n. *hidden: its index (0-based).
static int hist_row(hist_file_t *h, hist_scan_t *s, int *hidden, long *step) {
    const csv_table_t *t = &h->t;
    long hd, n, layer, units;
    double lo, hi;
    if (logread_integer(t, h->path, h->cs, 0, LOGREAD_STEP_MAX, step) || logread_integer(t, h->path, h->ch, 1, REPORT_MAX_HIDDEN, &hd) ||
        logread_integer(t, h->path, h->cl, 0, 1 << 20, &layer) || logread_integer(t, h->path, h->cu, 1, 1 << 24, &units) ||
        logread_integer(t, h->path, h->cn, 0, LOGREAD_STEP_MAX, &n) || logread_finite(t, h->path, h->clo, &lo) ||
        logread_finite(t, h->path, h->chi, &hi))
        return -1;
    if (!(lo < hi)) return bnlab_fail("%s: line %d: expected edges lo < hi, found %.17g and %.17g", h->path, t->lineno, lo, hi);
    size_t tl;
    const char *type = csv_field(t->row, h->ct, &tl);
    if (!type || tl == 0 || tl > 32 || strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_") < tl)
        return bnlab_fail("%s: line %d, column \"layer_type\": expected a layer kind's name", h->path, t->lineno);
    long sum = 0, c, first = 0, last = 0, under = 0, over = 0;
    for (int k = h->c0; k < h->ncols; k++) {
        if (logread_integer(t, h->path, k, 0, LOGREAD_STEP_MAX, &c) != 0) return -1;
        sum += c;
        if (k == h->c0) first = c;
        last = c;
    }
    if (sum != n) return bnlab_fail("%s: line %d: the counts sum to %ld, expected n = %ld", h->path, t->lineno, sum, n);
    if (h->cunder >= 0 && (logread_integer(t, h->path, h->cunder, 0, LOGREAD_STEP_MAX, &under) ||
                           logread_integer(t, h->path, h->cover, 0, LOGREAD_STEP_MAX, &over)))
        return -1;
    if (under > first || over > last || (h->ncols - h->c0 == 1 && under + over > first))
        return bnlab_fail("%s: line %d: under = %ld and over = %ld, expected at most the edge bins' counts (%ld, %ld)",
                          h->path, t->lineno, under, over, first, last);
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
static int hist_json(strbuf_t *b, const char *run, const hist_scan_t *s, const char *file) {
    strbuf_printf(b, "[");
    hist_file_t h;
    int rc = s->nh ? hist_open(&h, run, file) : 1;
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
        long nn, under = -1, over = -1;  // -1: not logged (an older log)
        csv_field_long(h.t.row, h.cn, &nn);
        if (h.cunder >= 0) csv_field_long(h.t.row, h.cunder, &under), csv_field_long(h.t.row, h.cover, &over);
        strbuf_printf(&frames[k], "%s[%ld,%ld,%ld,%ld,%.*s]", frames[k].len ? "," : "", step, nn, under, over,
                      (int)(last + len - f0), f0);
    }
    for (int j = 0; j < s->nh; j++) {
        strbuf_printf(b, "%s{\"h\":%d,\"layer\":%ld,\"type\":\"%s\",\"units\":%ld,\"lo\":%.17g,\"hi\":%.17g,"
                      "\"outside\":%d,\"logged\":%ld,\"frames\":[%s]}", j ? "," : "", j + 1, s->layer[j], s->type[j],
                      s->units[j], s->lo[j], s->hi[j], h.cunder >= 0, s->frames[j], frames[j].s ? frames[j].s : "");
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

// The histogram data of every panel from seed k's runs (its place in the source's seeds) — the forward histograms
// (histograms.csv) as "hidden" and "rows", the gradient histograms (gradient_histograms.csv, log.gradients_every) as
// "grad" and "grows" — and each row's shared x axis, with the seed ("seed"). Each panel says its legend text ("name":
// view_name_variants'), its variant ("variant": the directory's name, by which a page that embeds this one finds
// each variant's colour: web/app.js) and its colour.
static int hist_data(strbuf_t *b, const report_t *r, int k) {
    hist_scan_t *s = xcalloc((size_t)r->np, sizeof *s, "report histograms");
    hist_scan_t *g = xcalloc((size_t)r->np, sizeof *g, "report histograms");
    char (*run)[BNLAB_PATH_MAX] = xcalloc((size_t)r->np, sizeof *run, "report histograms");
    int rc = 0, nh = 0, ng = 0;
    for (int p = 0; p < r->np && rc == 0; p++) {
        view_run_dir(r->src, p, k, run[p], sizeof run[p]);
        rc = hist_scan(&s[p], run[p], RUNDIR_HISTOGRAMS) < 0 || hist_scan(&g[p], run[p], RUNDIR_GRAD_HISTOGRAMS) < 0 ? -1 : 0;
        if (s[p].nh > nh) nh = s[p].nh;
        if (g[p].nh > ng) ng = g[p].nh;
    }
    strbuf_printf(b, "{\"seed\":%ld,\"panels\":[", r->src->seeds[k]);
    for (int p = 0; p < r->np && rc == 0; p++) {
        strbuf_printf(b, "%s{\"name\":\"", p ? "," : "");
        json_text(b, r->panels[p].name);
        strbuf_printf(b, "\",\"variant\":\"");
        json_text(b, r->panels[p].key);
        strbuf_printf(b, "\",\"color\":\"%s\",\"hidden\":", r->panels[p].color);
        rc = hist_json(b, run[p], &s[p], RUNDIR_HISTOGRAMS);
        strbuf_printf(b, ",\"grad\":");
        if (rc == 0) rc = hist_json(b, run[p], &g[p], RUNDIR_GRAD_HISTOGRAMS);
        strbuf_printf(b, "}");
    }
    strbuf_printf(b, "],\"rows\":[");
    if (rc == 0) hist_rows(b, s, r->np, nh);
    strbuf_printf(b, "],\"grows\":[");
    if (rc == 0) hist_rows(b, g, r->np, ng);
    strbuf_printf(b, "]}");
    free(s), free(g), free(run);
    return rc;
}

// One kind of the table (lab/figures.h), as bnlab plot builds it (view/figmodel.h), rendered as SVG: once from
// every seed (the median thick, each seed faint) and, for a comparison of several seeds, once from each seed alone
// (hidden until the seed chooser picks it).
static int kind_section(strbuf_t *b, const report_t *r, const figure_kind_t *kind, view_source_t *one) {
    const view_source_t *src = r->src;
    strbuf_printf(b, "<h2 id=\"%s\">", kind->name);
    html_text(b, kind->heading);
    strbuf_printf(b, "</h2>\n");
    int views = src->is_compare && src->ns > 1 ? 1 + src->ns : 1;
    for (int v = 0; v < views; v++) {
        figure_input_t in = {.src = src, .xlabel = "training step"};
        for (int i = 0; i < VIEW_MAX_VARIANTS; i++) in.xk[i] = 1;
        while (in.seed_index < src->ns - 1 && src->seeds[in.seed_index] != 1) in.seed_index++;
        if (v > 0) {
            view_source_one_seed(one, src, v - 1);
            in.src = one, in.seed_index = 0;
        }
        figmodel_t m;
        int rc = kind->build(&m, &in);
        if (rc < 0) return -1;
        if (views > 1) {
            strbuf_printf(b, "<div class=\"seedview\" data-seed=\"");
            if (v) strbuf_printf(b, "%ld\" hidden>\n", src->seeds[v - 1]);
            else strbuf_printf(b, "all\">\n");
        }
        figmodel_svg(b, &m);
        figmodel_free(&m);
        if (views > 1) strbuf_printf(b, "</div>\n");
        if (rc > 0) break;  // not logged: one note is enough
    }
    return 0;
}

// The seed chooser: the median over seeds (default) or one seed's figures (page/seeds.js switches them).
static void seed_chooser(strbuf_t *b, const report_t *r) {
    const view_source_t *src = r->src;
    if (!src->is_compare || src->ns < 2) return;
    strbuf_printf(b, "<div class=\"controls seeds\"><label>Figures drawn from <select id=\"seed\"><option value=\"all\" "
                     "selected>all %d seeds: the median (thick) and each seed (faint)</option>", src->ns);
    for (int k = 0; k < src->ns; k++) strbuf_printf(b, "<option value=\"%ld\">seed %ld alone</option>", src->seeds[k], src->seeds[k]);
    strbuf_printf(b, "</select></label></div>\n");
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
        if (!r->src->is_gradinit) summary_section(&b, r);
        seed_chooser(&b, r);
    }
    view_source_t *one = xcalloc(1, sizeof *one, "report seed");
    for (int k = 0; k < N_FIGURE_KINDS && rc == 0; k++)
        if (!r->src->is_gradinit || !strcmp(FIGURE_KINDS[k].name, FIG_GRADINIT_KIND)) rc = kind_section(&b, r, &FIGURE_KINDS[k], one);
    free(one);
    if (rc == 0 && r->src->is_gradinit) strbuf_printf(&b, "<script>\n%s</script>\n</body></html>\n", PAGE_SELFTEST_JS);
    else if (rc == 0) {
        strbuf_printf(&b, "<h2 id=\"histograms\">Inside the network: each hidden layer's input to its nonlinearity</h2>\n<p class=\"note\">"
                          "Histograms over the probe images in training mode (log.histograms)%s; the variants share "
                          "each row's axes (bar height: density, on a square-root scale by default so that a tall "
                          "narrow peak does not flatten the other panel). With log.gradients_every, each layer's "
                          "second row is the gradient \u2202L/\u2202h at the nonlinearity's input over that step's training "
                          "batch (gradient_histograms.csv). Move the slider or press play to watch the distributions "
                          "shift.</p>\n",
                      r->is_compare ? ", of one seed of each variant" : "");
        // Which seed: the one the seed chooser picks (page/histograms.js follows it); over all seeds, the first.
        const view_source_t *src = r->src;
        int chooser = src->is_compare && src->ns > 1;
        strbuf_printf(&b, "<p class=\"hseed\">Histograms of <b id=\"hseed\">seed %ld</b>", src->seeds[0]);
        if (chooser)
            strbuf_printf(&b, "<span id=\"hseed-all\">, the first of the %d seeds whose median the figures above "
                              "show; choose one seed above for its histograms</span>", src->ns);
        strbuf_printf(&b, ".</p>\n");
        strbuf_printf(&b, "<div class=\"controls\" id=\"controls\"><button id=\"play\" type=\"button\">\u25B6 play</button>"
                          "<input type=\"range\" id=\"slider\" min=\"0\" max=\"0\" step=\"1\" value=\"0\">"
                          "<span>step <b id=\"hstep\"></b></span><label>y axis <select id=\"yscale\">"
                          "<option value=\"sqrt\" selected>shared, square root</option><option value=\"linear\">"
                          "shared, linear</option><option value=\"own\">each panel its own, linear</option></select>"
                          "</label></div>\n<div id=\"hists\"></div>\n");
        // The first seed's data (#hdata: what web/app.js reads), then each other seed's for the seed chooser.
        strbuf_printf(&b, "<script type=\"application/json\" id=\"hdata\">");
        rc = hist_data(&b, r, 0);
        strbuf_printf(&b, "</script>\n");
        for (int k = 1; chooser && k < src->ns && rc == 0; k++) {
            strbuf_printf(&b, "<script type=\"application/json\" class=\"hdata-seed\" data-seed=\"%ld\">", src->seeds[k]);
            rc = hist_data(&b, r, k);
            strbuf_printf(&b, "</script>\n");
        }
        strbuf_printf(&b, "<script>\n%s</script>\n<script>\n%s</script>\n<script>\n%s</script>\n</body></html>\n",
                      PAGE_SEEDS_JS, PAGE_HISTOGRAMS_JS, PAGE_SELFTEST_JS);
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
