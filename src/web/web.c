#include "web/web.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "lab/figures.h"
#include "lab/report.h"
#include "nn/gemm.h"
#include "run/config.h"
#include "run/launch.h"
#include "run/rundir.h"
#include "run/train.h"
#include "view/figmodel.h"
#include "view/source.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#define API EMSCRIPTEN_KEEPALIVE
#else
#define API
#endif

enum { WEB_MAX_SESSIONS = 16 };

typedef struct {
    trainer_t t;
    train_session_t s;
    char dir[BNLAB_PATH_MAX];
    int status;  // web.h's: 0 running, 1 completed, 3 diverged, -1 failed
    int ended;   // trainer_end done: summary.json written, logs closed
} session_t;

static session_t *sessions[WEB_MAX_SESSIONS + 1];  // handle h: sessions[h], h >= 1
static char err[BNLAB_ERRMSG_MAX];
static char *ret;  // the last returned string or buffer (owned here, freed by the next call that returns one)
static size_t ret_n;

static int fail_here(void) {  // keeps bnlab_errmsg() for bnlab_web_error
    snprintf(err, sizeof err, "%s", bnlab_errmsg());
    return -1;
}

// A new failure: its message, for bnlab_web_error. -1.
#define FAIL(...) (bnlab_fail(__VA_ARGS__), fail_here())

static const char *give(char *p, size_t n) {  // hands p (owned from now on) to the caller
    free(ret);
    ret = p, ret_n = n;
    return p;
}

API const char *bnlab_web_version(void) {
    static char v[160];
    snprintf(v, sizeof v, "bnlab %s (%s, GEMM %s %s)", BNLAB_VERSION,
#if defined(__EMSCRIPTEN__)
             "wasm",
#else
             "native",
#endif
             gemm_backend_name(gemm_select_default() == 0 ? gemm_backend() : GEMM_AUTO), gemm_target());
    return v;
}

API const char *bnlab_web_error(void) { return err; }
API size_t bnlab_web_size(void) { return ret_n; }

// sets: NULL, or a JSON array of "path=value" strings (the CLI's --set). Parsed into *n_out strings that point into
// *root (the caller frees it with cJSON_Delete) and an array the caller frees. 0 or -1.
static int parse_sets(const char *sets, cJSON **root, const char ***out, int *n_out) {
    *root = NULL, *out = NULL, *n_out = 0;
    if (!sets || !*sets) return 0;
    cJSON *a = cJSON_Parse(sets);
    if (!cJSON_IsArray(a)) {
        cJSON_Delete(a);
        return FAIL("sets: expected a JSON array of \"path=value\" strings (bnlab's --set), found %.80s", sets);
    }
    int n = cJSON_GetArraySize(a), k = 0;
    const char **v = xcalloc(n ? (size_t)n : 1, sizeof *v, "overrides");
    for (const cJSON *e = a->child; e; e = e->next, k++)
        if (!cJSON_IsString(e)) {
            free(v);
            cJSON_Delete(a);
            return FAIL("sets[%d]: expected a \"path=value\" string", k);
        } else {
            v[k] = e->valuestring;
        }
    *root = a, *out = v, *n_out = n;
    return 0;
}

// `bnlab check CONFIG --set ...` / the first half of `bnlab train`: the config loaded with its overrides and every
// check the trainer makes before writing (the data read, the model against it), errors blamed as the CLI blames them.
// On success *t is set up (the caller frees it). 0 or -1.
static int load(trainer_t *t, config_t *cfg, const char *path, const char *sets) {
    cJSON *root;
    const char **ov;
    int n;
    if (!path) return FAIL("config: no path");
    if (parse_sets(sets, &root, &ov, &n) != 0) return -1;
    int rc = config_load(cfg, path, ov, n);
    if (rc == 0 && trainer_setup(t, cfg) != 0) rc = config_blame_setup(path, ov, n);
    free(ov);
    cJSON_Delete(root);
    return rc ? fail_here() : 0;
}

API const char *bnlab_web_check_config(const char *path, const char *sets) {
    err[0] = '\0';
    config_t *cfg = xmalloc(sizeof *cfg, "config");
    trainer_t t;
    const char *r = NULL;
    if (load(&t, cfg, path, sets) == 0) {
        trainer_free(&t);
        cJSON *j = config_to_json(cfg);
        char *text = cJSON_Print(j);
        cJSON_Delete(j);
        r = give(text, strlen(text));
    }
    free(cfg);
    return r;
}

#if defined(__EMSCRIPTEN__)
// Removes a run directory (its files and checkpoints/) in the module's in-memory file system, so that a new session
// of the same directory starts empty (WebAssembly only: natively the CLI's rule holds, an existing directory is
// refused).
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[BNLAB_PATH_MAX];
        path_fmt(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}
#endif

static session_t *get(int h) {
    if (h < 1 || h > WEB_MAX_SESSIONS || !sessions[h]) {
        FAIL("no session %d", h);
        return NULL;
    }
    return sessions[h];
}

static int web_status(int train_status) {
    return train_status == TRAIN_OK ? 1 : train_status == TRAIN_DIVERGED ? 3 : -1;
}

// Ends the session's run (summary.json, logs closed) with the trainer's status; records web.h's status.
static void end_run(session_t *S, int train_status) {
    if (S->ended) return;
    S->ended = 1;
    int st = trainer_end(&S->t, &S->s, train_status);
    if (st == TRAIN_ERROR) fail_here();
    if (S->status == 0) S->status = train_status == TRAIN_INTERRUPTED && st != TRAIN_ERROR ? 0 : web_status(st);
}

API int bnlab_web_new(const char *path, const char *sets, const char *out) {
    err[0] = '\0';
    int h = 1;
    while (h <= WEB_MAX_SESSIONS && sessions[h]) h++;
    if (h > WEB_MAX_SESSIONS) return FAIL("too many sessions (%d): free one", WEB_MAX_SESSIONS);
    session_t *S = xcalloc(1, sizeof *S, "session");
    config_t *cfg = xmalloc(sizeof *cfg, "config");
    cJSON *root = NULL;
    const char **ov = NULL;
    int n = 0, rc = path ? 0 : FAIL("config: no path");
    if (rc == 0) rc = parse_sets(sets, &root, &ov, &n);
    if (rc == 0) rc = config_load(cfg, path, ov, n) != 0 ? fail_here() : 0;
    if (rc == 0) {
        // As `bnlab train CONFIG [--out DIR]`: the run directory is --out, else log.dir/name. In the module's
        // in-memory file system a run of the same directory replaces the previous one (the page's "run again").
        if (out && *out) path_fmt(S->dir, sizeof S->dir, "%s", out);
        else path_fmt(S->dir, sizeof S->dir, "%s/%s", cfg->log.dir, cfg->name);
#if defined(__EMSCRIPTEN__)
        remove_tree(S->dir);
#endif
        int lr = launch_new(&S->t, cfg, &(launch_new_t){.config = path, .run_dir = S->dir});
        if (lr == LAUNCH_SETUP_ERROR) config_blame_setup(path, ov, n);
        rc = lr != 0 ? fail_here() : 0;
        if (rc == 0 && launch_start_dir(S->dir, cfg) != 0) {
            rc = fail_here();
            trainer_free(&S->t);
        }
        if (rc == 0 && trainer_begin(&S->t, &S->s, S->dir, 0) != TRAIN_OK) {
            rc = fail_here();
            if (S->s.open) trainer_end(&S->t, &S->s, TRAIN_ERROR);
            trainer_free(&S->t);
        }
    }
    free(ov);
    cJSON_Delete(root);
    free(cfg);
    if (rc != 0) {
        free(S);
        return -1;
    }
    sessions[h] = S;
    return h;
}

API long bnlab_web_step(int h, long n) {
    session_t *S = get(h);
    if (!S) return -1;
    if (S->ended || S->status != 0) return S->status < 0 ? -1 : S->t.prog.step;
    int st = trainer_advance(&S->t, &S->s, n < 0 ? 0 : n);
    if (st != TRAIN_OK) {
        if (st != TRAIN_DIVERGED) fail_here();
        S->status = web_status(st);
        end_run(S, st);
        if (st == TRAIN_DIVERGED) fail_here();  // the divergence's line, as the CLI prints it
        return S->status < 0 ? -1 : S->t.prog.step;
    }
    if (S->t.prog.step >= S->t.total_steps) end_run(S, TRAIN_OK);
    return S->t.prog.step;
}

API int bnlab_web_status(int h) {
    session_t *S = get(h);
    return S ? S->status : -1;
}

API long bnlab_web_total_steps(int h) {
    session_t *S = get(h);
    return S ? S->t.total_steps : -1;
}

API int bnlab_web_last_metrics(int h, double *o) {
    session_t *S = get(h);
    if (!S) return -1;
    const metrics_row_t *r = &S->t.last_row;
    if (r->step < 0) {
        for (int i = 0; i < 5; i++) o[i] = NAN;
        return 0;
    }
    o[0] = (double)r->step, o[1] = r->train_loss, o[2] = r->train_acc, o[3] = r->test_loss, o[4] = r->test_acc;
    return 0;
}

API int bnlab_web_evaluate(int h, double *o) {
    session_t *S = get(h);
    if (!S) return -1;
    trainer_evaluate(&S->t, &S->t.test, S->t.test.n, &o[0], &o[1], NULL);
    return 0;
}

static const char *read_file_from(const char *path, size_t from, int whole_lines) {
    char *text;
    size_t len;
    if (read_whole_file(path, (size_t)1 << 30, &text, &len) != 0) return fail_here(), NULL;
    if (from > len) from = len;
    size_t end = len;
    if (whole_lines)
        while (end > from && text[end - 1] != '\n') end--;
    char *p = xmalloc(end - from + 1, "file text");
    memcpy(p, text + from, end - from);
    p[end - from] = '\0';
    free(text);
    return give(p, end - from);
}

// A plain file name inside the run directory (or checkpoints/NAME): no "..", no absolute path.
static int plain_name(const char *f) {
    if (!f || !*f || f[0] == '/' || strstr(f, "..")) return 0;
    const char *slash = strchr(f, '/');
    return !slash || (!strncmp(f, RUNDIR_CHECKPOINTS "/", sizeof RUNDIR_CHECKPOINTS) && !strchr(slash + 1, '/'));
}

API const char *bnlab_web_file(int h, const char *file, size_t from) {
    session_t *S = get(h);
    if (!S) return NULL;
    if (!plain_name(file)) return FAIL("file: \"%s\" is not a file of a run directory", file ? file : ""), NULL;
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/%s", S->dir, file);
    size_t n = strlen(file);
    int text = (n > 4 && !strcmp(file + n - 4, ".csv")) || (n > 6 && !strcmp(file + n - 6, ".jsonl"));
    return read_file_from(path, from, text);
}

API const char *bnlab_web_files(int h) {
    session_t *S = get(h);
    if (!S) return NULL;
    DIR *d = opendir(S->dir);
    if (!d) return FAIL("%s: cannot list", S->dir), NULL;
    strbuf_t b = {0};
    strbuf_printf(&b, "%s", "");
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') strbuf_printf(&b, "%s\n", e->d_name);
    closedir(d);
    return give(b.s, strlen(b.s));
}

API int bnlab_web_finish(int h) {
    session_t *S = get(h);
    if (!S) return -1;
    err[0] = '\0';
    end_run(S, S->t.prog.step >= S->t.total_steps ? TRAIN_OK : TRAIN_INTERRUPTED);
    return err[0] ? -1 : 0;
}

API const uint8_t *bnlab_web_checkpoint(int h) {
    session_t *S = get(h);
    if (!S) return NULL;
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/%s/step-%09ld.safetensors", S->dir, RUNDIR_CHECKPOINTS, S->t.prog.step);
    struct stat st;
    if (stat(path, &st) != 0) {  // not written at this step yet (the run's own final one is): write it now
        S->t.prog.seconds_before = now_seconds() - S->s.t0;
        if (trainer_checkpoint(&S->t, S->dir) != 0) return fail_here(), NULL;
    }
    return (const uint8_t *)read_file_from(path, 0, 0);
}

API void bnlab_web_free(int h) {
    session_t *S = get(h);
    if (!S) return;
    if (S->s.open && !S->ended) end_run(S, S->t.prog.step >= S->t.total_steps ? TRAIN_OK : TRAIN_INTERRUPTED);
    trainer_free(&S->t);
#if defined(__EMSCRIPTEN__)
    remove_tree(S->dir);
#endif
    free(S);
    sessions[h] = NULL;
}

API int bnlab_web_put_file(const char *path, const uint8_t *bytes, size_t n) {
    if (!path || !*path || strstr(path, "..")) return FAIL("put_file: expected a path without \"..\", found \"%s\"", path ? path : "");
    char dir[BNLAB_PATH_MAX];
    path_dirname(dir, sizeof dir, path);
    if (make_dirs(dir) != 0) return fail_here();
    FILE *f = fopen(path, "wb");
    if (!f) return FAIL("%s: cannot open for writing", path);
    int ok = fwrite(bytes, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : (FAIL("%s: write failed", path), -1);
}

API const char *bnlab_web_run_dir(int h) {
    session_t *S = get(h);
    return S ? S->dir : NULL;
}

API const char *bnlab_web_report(const char *dir) {
    err[0] = '\0';
    if (!dir || report_dir(dir) != 0) return fail_here(), NULL;
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/%s", dir, RUNDIR_REPORT);
    return read_file_from(path, 0, 0);
}

API const char *bnlab_web_figure_svg(const char *dir, const char *kind) {
    err[0] = '\0';
    const figure_kind_t *k = kind ? figure_kind_find(kind) : NULL;
    if (!k || !k->build) {
        strbuf_t kinds = {0};
        for (int i = 0; i < N_FIGURE_KINDS; i++)
            if (FIGURE_KINDS[i].build) strbuf_printf(&kinds, "%s%s", kinds.s ? ", " : "", FIGURE_KINDS[i].name);
        FAIL("figure: no figure-model kind \"%s\" (those drawn as SVG here: %s; the whole page: "
                 "bnlab_web_report)", kind ? kind : "", kinds.s ? kinds.s : "");
        free(kinds.s);
        return NULL;
    }
    view_source_t *src = xmalloc(sizeof *src, "view source");
    if (view_source_load(src, dir, NULL) != 0) {
        free(src);
        return fail_here(), NULL;
    }
    figure_input_t in = {.src = src, .xlabel = "training step"};
    for (int i = 0; i < VIEW_MAX_VARIANTS; i++) in.xk[i] = 1;
    figmodel_t m;
    int rc = k->build(&m, &in);
    free(src);
    if (rc < 0) return fail_here(), NULL;
    strbuf_t b = {0};
    figmodel_svg(&b, &m);
    figmodel_free(&m);
    if (!b.s) strbuf_printf(&b, "%s", "");
    return give(b.s, strlen(b.s));
}
