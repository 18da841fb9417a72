#include "lab/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "lab/spec.h"
#include "io/csvtable.h"
#include "io/jsonpath.h"
#include "lab/report_panels.h"
#include "lab/svg.h"
#include "run/rundir.h"

typedef report_panel_t panel_t;  // runs[0]: the first seed, whose histograms are shown

typedef struct {
    const char *dir;
    int is_compare;
    panel_t panels[REPORT_MAX_PANELS];
    int np, n_variants;  // panels shown, variants in compare.json
    char kind[1024];     // what the page is: "One run.", "A comparison of ...", "A sweep over ..."
} report_t;

// ---- which runs

static const char *plural(long n) { return n == 1 ? "" : "s"; }

// What a comparison directory is, into r->kind: a sweep (its variants carry "grid") says over which keys and how
// many grid points x variants x seeds; a comparison, variants x seeds.
static void describe_compare(report_t *r, const cJSON *vars, int n_seeds) {
    strbuf_t keys = {0}, bases = {0};
    int n_keys = 0, n_bases = 0;
    for (const cJSON *v = vars->child; v; v = v->next) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(v, "grid"), *base = cJSON_GetObjectItemCaseSensitive(v, "base");
        for (const cJSON *k = cJSON_IsObject(g) ? g->child : NULL; k; k = k->next)
            if (k->string && (!keys.s || !strstr(keys.s, k->string))) {
                strbuf_printf(&keys, "%s%s", n_keys ? ", " : "", k->string);
                n_keys++;
            }
        if (cJSON_IsString(base)) {
            strbuf_t tag = {0};
            strbuf_printf(&tag, "|%s|", base->valuestring);
            if (!bases.s || !strstr(bases.s, tag.s)) strbuf_printf(&bases, "%s", tag.s), n_bases++;
            free(tag.s);
        }
    }
    int nv = r->n_variants, runs = nv * n_seeds;
    if (n_keys && n_bases > 0 && nv % n_bases == 0)
        snprintf(r->kind, sizeof r->kind, "A sweep over %s: %d grid point%s x %d variant%s x %d seed%s = %d runs",
                 keys.s, nv / n_bases, plural(nv / n_bases), n_bases, plural(n_bases), n_seeds, plural(n_seeds), runs);
    else if (n_keys)
        snprintf(r->kind, sizeof r->kind, "A sweep over %s: %d grid variants x %d seed%s = %d runs", keys.s, nv,
                 n_seeds, plural(n_seeds), runs);
    else
        snprintf(r->kind, sizeof r->kind, "A comparison of %d variant%s x %d seed%s = %d runs", nv, plural(nv),
                 n_seeds, plural(n_seeds), runs);
    free(keys.s), free(bases.s);
}

static int load_compare(report_t *r, const char *path) {
    cJSON *root = compare_json_read(path);
    if (!root) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    int rc = 0;
    r->n_variants = cJSON_GetArraySize(vars);
    for (const cJSON *v = rc ? NULL : vars->child; v && r->np < REPORT_MAX_PANELS; v = v->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        if (!cJSON_IsString(name) || !name_valid(name->valuestring)) {
            rc = bnlab_fail("%s: variants[%d]: expected a \"name\" (letters, digits, -_.)", path, r->np);
            break;
        }
        panel_t *p = &r->panels[r->np++];
        snprintf(p->name, sizeof p->name, "%s", name->valuestring);
        for (const cJSON *s = sd->child; s && p->n_runs < REPORT_MAX_SEEDS; s = s->next)
            if (cJSON_IsNumber(s)) {
                p->seeds[p->n_runs] = (long)s->valuedouble;
                rundir_of_seed(p->runs[p->n_runs], BNLAB_PATH_MAX, r->dir, p->name, (long)s->valuedouble);
                p->n_runs++;
            }
        p->normalized = report_normalized(p->runs[0]);
    }
    if (rc == 0) describe_compare(r, vars, cJSON_GetArraySize(sd));
    cJSON_Delete(root);
    return rc;
}

static int load_dirs(report_t *r) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, r->dir, CMPDIR_SPEC);
    if (path_exists(path)) {
        r->is_compare = 1;
        return load_compare(r, path);
    }
    rundir_file(path, sizeof path, r->dir, RUNDIR_METRICS_CSV);
    if (!path_exists(path))
        return bnlab_fail("%s: neither a run directory (metrics.csv) nor a comparison (compare.json)", r->dir);
    path_basename(r->panels[0].name, sizeof r->panels[0].name, r->dir);
    path_fmt(r->panels[0].runs[0], BNLAB_PATH_MAX, "%s", r->dir);
    r->panels[0].n_runs = 1, r->np = 1;
    r->panels[0].seeds[0] = -1;  // report_seeds_text: "this run"
    r->panels[0].normalized = report_normalized(r->dir);
    snprintf(r->kind, sizeof r->kind, "One run");
    return 0;
}

// ---- text

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
            strbuf_printf(b, "<pre class=\"summary\">");
            html_text(b, text);
            strbuf_printf(b, "</pre>\n");
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

// ---- curves

typedef struct {
    double *x, *acc, *train_loss, *test_loss;
    int n;
} metrics_t;

static void metrics_free(metrics_t *m) {
    free(m->x), free(m->acc), free(m->train_loss), free(m->test_loss);
    memset(m, 0, sizeof *m);
}

// Whether the current row ends with its newline: the last line of a log being written may be cut anywhere.
static int complete_row(const csv_table_t *t) {
    return memchr(t->row, '\n', (size_t)(t->text + t->len - t->row)) != NULL;
}

// A missing metrics.csv (a run not started yet) is an empty curve; a malformed one an error.
static int metrics_read(metrics_t *m, const char *run) {
    memset(m, 0, sizeof *m);
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_METRICS_CSV);
    if (!path_exists(path)) return 0;
    csv_table_t t;
    if (csv_table_read(&t, path, (size_t)1 << 30) != 0) return -1;
    int cs = csv_column(t.header, "step", path), ca = csv_column(t.header, "test_acc", path),
        ctr = csv_column(t.header, "train_loss", path), cte = csv_column(t.header, "test_loss", path);
    if (cs < 0 || ca < 0 || ctr < 0 || cte < 0) {
        csv_table_free(&t);
        return -1;
    }
    int cap = 0;
    while (csv_table_next(&t)) {
        double s, a, l1, l2;
        if (!complete_row(&t) || csv_field_double(t.row, cs, &s) != 0 || csv_field_double(t.row, ca, &a) != 0)
            continue;  // a row cut short
        if (csv_field_double(t.row, ctr, &l1) != 0) l1 = NAN;
        if (csv_field_double(t.row, cte, &l2) != 0) l2 = NAN;
        if (m->n == cap) {
            cap = cap ? 2 * cap : 256;
            double **arr[4] = {&m->x, &m->acc, &m->train_loss, &m->test_loss};
            for (int k = 0; k < 4; k++) {
                double *p = xmalloc(sizeof(double) * (size_t)cap, "curve");
                if (*arr[k]) memcpy(p, *arr[k], sizeof(double) * (size_t)m->n), free(*arr[k]);
                *arr[k] = p;
            }
        }
        m->x[m->n] = s, m->acc[m->n] = a, m->train_loss[m->n] = l1, m->test_loss[m->n] = l2;
        m->n++;
    }
    csv_table_free(&t);
    return 0;
}

static const svg_frame_t CURVE = {.w = 560, .h = 330};

// Below the data: a line sample and the name of each variant.
static void legend(strbuf_t *b, const report_t *r) {
    for (int p = 0, x = 60; p < r->np; p++) x = svg_key(b, x, CURVE.h - 12, report_color(p), r->panels[p].name);
}

static int curves_section(strbuf_t *b, const report_t *r) {
    metrics_t m[REPORT_MAX_PANELS][REPORT_MAX_SEEDS];
    double x1 = 1, a0 = 1, lmax = 0;
    int rc = 0, any = 0;
    for (int p = 0; p < r->np; p++)
        for (int s = 0; s < r->panels[p].n_runs; s++) {
            if (rc == 0 && metrics_read(&m[p][s], r->panels[p].runs[s]) != 0) rc = -1;
            else if (rc != 0) memset(&m[p][s], 0, sizeof m[p][s]);
            for (int i = 0; i < m[p][s].n; i++) {
                any = 1;
                if (m[p][s].x[i] > x1) x1 = m[p][s].x[i];
                if (m[p][s].acc[i] < a0) a0 = m[p][s].acc[i];
                if (isfinite(m[p][s].train_loss[i]) && m[p][s].train_loss[i] > lmax) lmax = m[p][s].train_loss[i];
                if (isfinite(m[p][s].test_loss[i]) && m[p][s].test_loss[i] > lmax) lmax = m[p][s].test_loss[i];
            }
        }
    if (rc == 0) {
        strbuf_printf(b, "<h2>Curves</h2>\n");
        if (!any) strbuf_printf(b, "<p>No evaluation logged yet.</p>\n");
        a0 = floor(a0 * 10) / 10;
        if (a0 >= 1) a0 = 0.9;
        if (!(lmax > 0)) lmax = 1;
        lmax = ceil(lmax * 10) / 10;
        strbuf_printf(b, "<div class=\"row\">\n");
        svg_frame_t fa = CURVE, fl = CURVE;
        fa.x1 = fl.x1 = x1, fa.y0 = a0, fa.y1 = 1, fl.y1 = lmax;
        svg_open(b, &fa, "curve", "", "test accuracy", "accuracy");
        for (int p = 0; p < r->np; p++)
            for (int s = r->panels[p].n_runs - 1; s >= 0; s--)
                svg_line(b, &fa, m[p][s].x, 1, m[p][s].acc, 1, m[p][s].n, report_color(p), s ? 1 : 2.5,
                         s ? 0.35 : 1, 0);
        legend(b, r);
        strbuf_printf(b, "</svg>\n");
        svg_open(b, &fl, "curve", "", "loss (dashed: training, solid: test)", "cross-entropy");
        for (int p = 0; p < r->np; p++)
            for (int s = r->panels[p].n_runs - 1; s >= 0; s--) {
                svg_line(b, &fl, m[p][s].x, 1, m[p][s].train_loss, 1, m[p][s].n, report_color(p), s ? 1 : 2,
                         s ? 0.3 : 1, 1);
                svg_line(b, &fl, m[p][s].x, 1, m[p][s].test_loss, 1, m[p][s].n, report_color(p), s ? 1 : 2.5,
                         s ? 0.35 : 1, 0);
            }
        legend(b, r);
        strbuf_printf(b, "</svg>\n</div>\n");
        if (r->is_compare && r->panels[0].n_runs > 1)
            strbuf_printf(b, "<p class=\"note\">Thick: seed %ld; faint: the other seeds.</p>\n", r->panels[0].seeds[0]);
    }
    for (int p = 0; p < r->np; p++)
        for (int s = 0; s < r->panels[p].n_runs; s++) metrics_free(&m[p][s]);
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

// ---- histograms: {"panels": [{"name": N, "hidden": [{"h", "layer", "type", "units", "lo", "hi", "frames":
// [[step, n, c0, c1, ...], ...]}, ...]}, ...]} — the counts copied from histograms.csv as they are.

static int hist_json(strbuf_t *b, const char *name, int color, const char *run) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_HISTOGRAMS);
    strbuf_printf(b, "{\"name\":\"");
    json_text(b, name);
    strbuf_printf(b, "\",\"color\":%d,\"hidden\":[", color);
    if (!path_exists(path)) {
        strbuf_printf(b, "]}");
        return 0;
    }
    csv_table_t t;
    if (csv_table_read(&t, path, (size_t)1 << 31) != 0) return -1;
    int cs = csv_column(t.header, "step", path), ch = csv_column(t.header, "hidden", path),
        cl = csv_column(t.header, "layer", path), ct = csv_column(t.header, "layer_type", path),
        cu = csv_column(t.header, "units", path), cn = csv_column(t.header, "n", path),
        clo = csv_column(t.header, "lo", path), chi = csv_column(t.header, "hi", path),
        c0 = csv_column(t.header, "c0", path);
    if (cs < 0 || ch < 0 || cl < 0 || ct < 0 || cu < 0 || cn < 0 || clo < 0 || chi < 0 || c0 < 0) {
        csv_table_free(&t);
        return -1;
    }
    strbuf_t frames[REPORT_MAX_HIDDEN] = {{0}};
    char head[REPORT_MAX_HIDDEN][256];
    int nh = 0, ncols = 1;
    for (const char *q = t.header; *q && *q != '\n'; q++) ncols += *q == ',';
    while (csv_table_next(&t)) {
        long step, h, n;
        if (csv_field_long(t.row, cs, &step) != 0 || csv_field_long(t.row, ch, &h) != 0 || h < 1 ||
            h > REPORT_MAX_HIDDEN || csv_field_long(t.row, cn, &n) != 0)
            continue;
        size_t flen;
        const char *f0 = csv_field(t.row, c0, &flen), *last = csv_field(t.row, ncols - 1, &flen);
        if (!f0 || !last || !complete_row(&t)) continue;  // a row cut short (a run being written)
        const char *end = last + flen;
        if (strspn(f0, "0123456789,") < (size_t)(end - f0)) continue;  // counts only: they are copied into the page
        int k = (int)h - 1;
        while (nh <= k) head[nh++][0] = '\0';
        if (!head[k][0]) {
            double lo, hi;
            long layer, units;
            size_t tl;
            const char *type = csv_field(t.row, ct, &tl);
            if (csv_field_double(t.row, clo, &lo) != 0 || csv_field_double(t.row, chi, &hi) != 0 || !(lo < hi) ||
                csv_field_long(t.row, cl, &layer) != 0 || csv_field_long(t.row, cu, &units) != 0 || !type || tl > 64 ||
                strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_") < tl)
                continue;
            snprintf(head[k], sizeof head[k], "\"h\":%ld,\"layer\":%ld,\"type\":\"%.*s\",\"units\":%ld,\"lo\":%.9g,"
                     "\"hi\":%.9g", h, layer, (int)tl, type, units, lo, hi);
        }
        strbuf_printf(&frames[k], "%s[%ld,%ld,%.*s]", frames[k].len ? "," : "", step, n, (int)(end - f0), f0);
    }
    for (int k = 0; k < nh; k++) {
        strbuf_printf(b, "%s{%s,\"frames\":[%s]}", k ? "," : "", head[k][0] ? head[k] : "\"h\":0",
                      frames[k].s ? frames[k].s : "");
        free(frames[k].s);
    }
    strbuf_printf(b, "]}");
    csv_table_free(&t);
    return 0;
}

static const char *const STYLE =
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1500px}"
    "h1{font-size:24px}h2{font-size:19px;margin-top:28px}"
    ".row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    "svg text{font-size:12px;fill:#333}svg .title{font-size:14px;font-weight:600}"
    ".frame{fill:none;stroke:#999}.grid{stroke:#eee}.legend{font-size:13px;font-weight:600}"
    "table.summary td,table.summary th{padding:2px 10px;text-align:left}pre.summary{background:#f6f6f6;padding:10px;"
    "overflow-x:auto}.note{color:#555;font-size:13px}.controls{display:flex;gap:12px;align-items:center;margin:8px 0}"
    "#slider{width:480px}.hname{font-weight:600;margin:14px 0 2px}";

// For tests, opened with #selftest: what the panels of report_panels.h draw, read back from the DOM into
// <div id="panels">: per class (fan, ics, landscape) the number of panels and, per panel, its lines and bands with
// at least one point; and the first fan's variant (the paper's order puts the one without BN first).
static const char *const PANEL_TEST =
    "(function(){if(location.hash!=='#selftest')return;var d=document.createElement('div');d.id='panels';\n"
    "['fan','ics','landscape'].forEach(function(c){var s=document.querySelectorAll('svg.'+c);d.setAttribute('data-'+c,s.length);\n"
    " d.setAttribute('data-'+c+'-series',Array.prototype.map.call(s,function(e){return Array.prototype.filter.call(\n"
    "  e.querySelectorAll('.series'),function(x){return x.getAttribute('points').trim()!=='';}).length;}).join(','));});\n"
    "var f=document.querySelector('svg.fan');d.setAttribute('data-fan-first',f?f.getAttribute('data-variant'):'');\n"
    "document.body.appendChild(d);})();\n";

// The page's own script: no library, no network.
static const char *const SCRIPT =
    "(function(){\n"
    "var D=JSON.parse(document.getElementById('hdata').textContent);\n"
    "var box=document.getElementById('hists'),NS='http://www.w3.org/2000/svg';\n"
    "var steps=[],seen={},nh=0;\n"
    "D.panels.forEach(function(p){nh=Math.max(nh,p.hidden.length);p.hidden.forEach(function(h){(h.frames||[]).forEach(function(f){if(!seen[f[0]]){seen[f[0]]=1;steps.push(f[0]);}});});});\n"
    "steps.sort(function(a,b){return a-b;});\n"
    "if(!steps.length){box.textContent='No histograms logged yet (set log.histograms.every in the config).';document.getElementById('controls').style.display='none';return;}\n"
    "var W=380,H=220,L=44,R=18,T=24,B=34,rows=[];\n"
    "function dens(h,f,j){var w=(h.hi-h.lo)/(f.length-2);return f[1]>0?f[j+2]/(f[1]*w):0;}\n"
    "function ticks(lo,hi){var raw=(hi-lo)/4,p=Math.pow(10,Math.floor(Math.log10(raw))),f=raw/p;\n"
    " var s=(f<1.5?1:f<3.5?2:f<7.5?5:10)*p,out=[];for(var v=Math.ceil(lo/s-1e-9)*s;v<=hi+s*1e-9;v+=s)out.push(Math.abs(v)<s*1e-9?0:+v.toPrecision(6));return out;}\n"
    "function peak(h){var m=0;if(h&&h.frames)h.frames.forEach(function(f){for(var j=0;j<f.length-2;j++)m=Math.max(m,dens(h,f,j));});return m;}\n"
    "for(var k=0;k<nh;k++){\n"
    " var lo=Infinity,hi=-Infinity,ym=0,units='';\n"
    " D.panels.forEach(function(p){var h=p.hidden[k];if(!h||!h.frames||!h.frames.length)return;lo=Math.min(lo,h.lo);hi=Math.max(hi,h.hi);ym=Math.max(ym,peak(h));units=h.units+' units';});\n"
    " if(!(lo<hi)){lo=0;hi=1;}\n"
    " var t=document.createElement('div');t.className='hname';t.textContent='hidden layer '+(k+1)+(units?' ('+units+')':'');box.appendChild(t);\n"
    " var row=document.createElement('div');row.className='row';box.appendChild(row);\n"
    " var cells=[];\n"
    " D.panels.forEach(function(p,pi){var h=p.hidden[k];\n"
    "  var s=document.createElementNS(NS,'svg');s.setAttribute('width',W);s.setAttribute('height',H);s.setAttribute('class','hist');s.setAttribute('data-panel',p.name);s.setAttribute('data-hidden',k+1);\n"
    "  function tx(x,y,str,a,c){var e=document.createElementNS(NS,'text');e.setAttribute('x',x);e.setAttribute('y',y);e.setAttribute('text-anchor',a||'middle');if(c)e.setAttribute('class',c);e.textContent=str;s.appendChild(e);return e;}\n"
    "  var fr=document.createElementNS(NS,'rect');fr.setAttribute('x',L);fr.setAttribute('y',T);fr.setAttribute('width',W-L-R);fr.setAttribute('height',H-T-B);fr.setAttribute('class','frame');s.appendChild(fr);\n"
    "  ticks(lo,hi).forEach(function(v){tx(L+(v-lo)/(hi-lo)*(W-L-R),H-B+14,String(v));});\n"
    "  tx(L+(W-L-R)/2,H-4,h?'output of model.layers['+h.layer+'] ('+h.type+')':'','middle','tick');\n"
    "  tx(L,T-8,p.name,'start','legend').setAttribute('fill',COLORS[p.color%COLORS.length]);\n"
    "  var top=tx(L-4,T+10,'','end','tick');tx(L-4,H-B,'0','end','tick');\n"
    "  var lab=tx(W-R-4,T-8,'','end');\n"
    "  var g=document.createElementNS(NS,'g');g.setAttribute('fill',COLORS[p.color%COLORS.length]);s.appendChild(g);\n"
    "  row.appendChild(s);cells.push({h:h,svg:s,g:g,lab:lab,top:top,own:peak(h)});});\n"
    " rows.push({lo:lo,hi:hi,ym:ym,cells:cells});}\n"
    "var slider=document.getElementById('slider'),out=document.getElementById('hstep'),ysel=document.getElementById('yscale');\n"
    "slider.max=steps.length-1;\n"
    "function draw(i){var st=steps[i],mode=ysel.value,tf=mode==='sqrt'?Math.sqrt:function(x){return x;};\n"
    " slider.value=i;out.textContent=st;document.body.setAttribute('data-step',st);\n"
    " rows.forEach(function(r){var sc=(W-L-R)/(r.hi-r.lo);r.cells.forEach(function(c){\n"
    "  var ym=mode==='own'?c.own:r.ym;c.top.textContent=ym>0?String(+ym.toPrecision(2)):'';\n"
    "  while(c.g.firstChild)c.g.removeChild(c.g.firstChild);var hs=[];\n"
    "  var f=null;if(c.h&&c.h.frames)c.h.frames.forEach(function(x){if(x[0]<=st)f=x;});\n"
    "  if(!f){c.lab.textContent='no frame yet';c.svg.setAttribute('data-heights','');return;}\n"
    "  c.lab.textContent='step '+f[0];var nb=f.length-2,w=(c.h.hi-c.h.lo)/nb;\n"
    "  for(var j=0;j<nb;j++){var hp=ym>0?tf(dens(c.h,f,j))/tf(ym)*(H-T-B):0;hs.push(Math.round(hp*10)/10);\n"
    "   if(hp<=0)continue;var e=document.createElementNS(NS,'rect');var x0=L+(c.h.lo+j*w-r.lo)*sc;\n"
    "   e.setAttribute('x',x0.toFixed(1));e.setAttribute('width',Math.max(w*sc-0.5,0.5).toFixed(1));\n"
    "   e.setAttribute('y',(H-B-hp).toFixed(1));e.setAttribute('height',hp.toFixed(1));c.g.appendChild(e);}\n"
    "  c.svg.setAttribute('data-heights',hs.join(','));});});}\n"
    "slider.addEventListener('input',function(){draw(+slider.value);});\n"
    "ysel.addEventListener('change',function(){draw(+slider.value);});\n"
    "var timer=null,btn=document.getElementById('play');\n"
    "function stop(){clearInterval(timer);timer=null;btn.textContent='\\u25B6 play';}\n"
    "btn.addEventListener('click',function(){if(timer){stop();return;}\n"
    " btn.textContent='\\u275A\\u275A pause';if(+slider.value>=steps.length-1)draw(0);\n"
    " timer=setInterval(function(){var i=+slider.value+1;if(i>=steps.length){stop();return;}draw(i);},Math.max(60,Math.min(400,8000/steps.length)));});\n"
    "function heights(){return Array.prototype.map.call(box.querySelectorAll('svg.hist'),function(s){return s.getAttribute('data-heights');}).join('|');}\n"
    "draw(steps.length-1);\n"
    "if(location.hash==='#playtest'){draw(0);btn.click();setTimeout(function(){var d=document.createElement('div');d.id='playtest';"
    "d.setAttribute('data-step',document.body.getAttribute('data-step'));d.setAttribute('data-playing',timer?'yes':'no');document.body.appendChild(d);},1000);}\n"
    "if(location.hash==='#selftest'){draw(0);var a=heights();draw(steps.length-1);var b=heights();\n"
    " var d=document.createElement('div');d.id='selftest';d.setAttribute('data-frames',steps.length);d.setAttribute('data-first',a);d.setAttribute('data-last',b);d.setAttribute('data-changed',a!==b?'yes':'no');d.setAttribute('data-panels',box.querySelectorAll('svg.hist').length);document.body.appendChild(d);}\n"
    "})();\n";

// The variants without normalization first (the paper's (b) before (c)), as bnlab plot orders them, so that every
// section and the figures give a variant the same place and colour.
static void order_panels(report_t *r) {
    int order[REPORT_MAX_PANELS];
    report_order(r->panels, r->np, order);
    panel_t *copy = xmalloc(sizeof *copy * (size_t)r->np, "report panels");
    memcpy(copy, r->panels, sizeof *copy * (size_t)r->np);
    for (int k = 0; k < r->np; k++) r->panels[k] = copy[order[k]];
    free(copy);
}

int report_dir(const char *dir) {
    report_t *r = xcalloc(1, sizeof *r, "report");
    r->dir = dir;
    strbuf_t b = {0};
    int rc = load_dirs(r);
    if (rc == 0) order_panels(r);
    if (rc == 0) {
        strbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>bnlab report: ");
        html_text(&b, dir);
        strbuf_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n<h1>bnlab report: ", STYLE);
        html_text(&b, dir);
        strbuf_printf(&b, "</h1>\n<p class=\"note\" id=\"kind\">");
        html_text(&b, r->kind);
        strbuf_printf(&b, ". Made by <code>bnlab report</code> from the logs as they were; run it again to "
                          "refresh.</p>\n");
        summary_section(&b, r);
        rc = curves_section(&b, r);
    }
    if (rc == 0) rc = report_fans(&b, r->panels, r->np);
    if (rc == 0) rc = report_ics(&b, r->panels, r->np);
    if (rc == 0) rc = report_landscape(&b, r->panels, r->np);
    if (rc == 0) {
        strbuf_printf(&b, "<h2>Inside the network: each hidden layer's input to its nonlinearity</h2>\n<p class=\"note\">"
                          "Histograms over the probe images in training mode (log.histograms)%s; the variants share "
                          "each row's axes (bar height: density, on a square-root scale by default so that a tall "
                          "narrow peak does not flatten the other panel). Move the slider or press play to watch the "
                          "distributions shift.</p>\n",
                      r->is_compare ? ", of each variant's first seed" : "");
        strbuf_printf(&b, "<div class=\"controls\" id=\"controls\"><button id=\"play\" type=\"button\">\u25B6 play</button>"
                          "<input type=\"range\" id=\"slider\" min=\"0\" max=\"0\" step=\"1\" value=\"0\">"
                          "<span>step <b id=\"hstep\"></b></span><label>y axis <select id=\"yscale\">"
                          "<option value=\"sqrt\" selected>shared, square root</option><option value=\"linear\">"
                          "shared, linear</option><option value=\"own\">each panel its own, linear</option></select>"
                          "</label></div>\n<div id=\"hists\"></div>\n");
        strbuf_printf(&b, "<script type=\"application/json\" id=\"hdata\">{\"panels\":[");
        for (int k = 0; k < r->np && rc == 0; k++) {
            if (k) strbuf_printf(&b, ",");
            rc = hist_json(&b, r->panels[k].name, k, r->panels[k].runs[0]);
        }
        strbuf_printf(&b, "]}</script>\n<script>\nvar COLORS=[");
        for (int k = 0; k < 8; k++) strbuf_printf(&b, "%s'%s'", k ? "," : "", report_color(k));
        strbuf_printf(&b, "];\n%s</script>\n<script>\n%s</script>\n</body></html>\n", SCRIPT, PANEL_TEST);
    }
    if (rc == 0) {
        char path[BNLAB_PATH_MAX];
        rundir_file(path, sizeof path, dir, RUNDIR_REPORT);
        rc = write_file_atomic(path, b.s, b.len);
        if (rc == 0) printf("report: %s (%.0f kB)\n", path, b.len / 1024.0);
    }
    free(b.s);
    free(r);
    return rc;
}
