#include "lab/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/jsonpath.h"
#include "run/rundir.h"
#include "run/runlog.h"
#include "base/util.h"

extern char **environ;

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n, "string");
    memcpy(p, s, n);
    return p;
}

// "set": {"a.b": value, ...} -> "a.b=<value as JSON>" strings appended to v.
static int add_sets(variant_spec_t *v, const cJSON *set, const char *path) {
    if (!set) return 0;
    if (jp_object(set, path) != 0) return -1;
    for (const cJSON *c = set->child; c; c = c->next) {
        if (v->n_sets == CMP_MAX_SETS) return bnlab_fail("%s: more than %d overrides", path, CMP_MAX_SETS);
        char *val = cJSON_PrintUnformatted(c);
        size_t n = strlen(c->string) + strlen(val) + 2;
        char *s = xmalloc(n, "override");
        snprintf(s, n, "%s=%s", c->string, val);
        free(val);
        v->sets[v->n_sets++] = s;
    }
    return 0;
}

// "lr" from "train.optimizer.lr", and a value's JSON text with characters unfit for a directory name as '_'.
static void short_label(char *out, size_t cap, const char *path, const char *value) {
    const char *dot = strrchr(path, '.');
    const char *last = dot ? dot + 1 : path;
    size_t n = (size_t)snprintf(out, cap, "%s%s", last, value);
    for (size_t i = 0; i < n && i < cap; i++)
        if (!(out[i] == '-' || out[i] == '.' || (out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'z') ||
              (out[i] >= 'A' && out[i] <= 'Z')))
            out[i] = '_';
}

// Replaces the declared variants by their expansion over the grid's cartesian product.
static int expand_grid(compare_spec_t *s, const cJSON *grid) {
    if (jp_object(grid, "grid") != 0) return -1;
    const cJSON *axes[CMP_MAX_AXES];
    int n_axes = 0, total = 1;
    for (const cJSON *a = grid->child; a; a = a->next) {
        char p[JP_PATH_MAX];
        jp_join(p, "grid", a->string);
        int n = cJSON_GetArraySize(a);
        if (n_axes == CMP_MAX_AXES) return bnlab_fail("grid: more than %d paths", CMP_MAX_AXES);
        if (!cJSON_IsArray(a) || n < 1 || n > CMP_MAX_AXIS_VALUES)
            return bnlab_fail("%s: expected an array of 1..%d values", p, CMP_MAX_AXIS_VALUES);
        axes[n_axes++] = a;
        total *= n;
    }
    if (n_axes == 0) return bnlab_fail("grid: expected at least one path");
    if ((long)total * s->n_variants > CMP_MAX_VARIANTS)
        return bnlab_fail("grid: %d variants x %d grid points is more than %d runs per seed", s->n_variants, total,
                       CMP_MAX_VARIANTS);
    int nv = s->n_variants;
    variant_spec_t *declared = xmalloc(sizeof *declared * (size_t)nv, "variants");
    memcpy(declared, s->variants, sizeof *declared * (size_t)nv);
    s->n_variants = 0;
    for (int v = 0; v < nv; v++)
        for (int g = 0; g < total; g++) {
            variant_spec_t *o = &s->variants[s->n_variants++];
            *o = declared[v];
            for (int k = 0; k < o->n_sets; k++) o->sets[k] = xstrdup(declared[v].sets[k]);
            cJSON *point = cJSON_CreateObject();
            size_t nlen = strlen(o->name);
            int rest = g, idx[CMP_MAX_AXES];  // the last path varies fastest
            for (int a = n_axes - 1; a >= 0; a--) {
                int n = cJSON_GetArraySize(axes[a]);
                idx[a] = rest % n;
                rest /= n;
            }
            for (int a = 0; a < n_axes; a++) {
                const cJSON *val = cJSON_GetArrayItem(axes[a], idx[a]);
                char *text = cJSON_PrintUnformatted(val);
                char label[96];
                short_label(label, sizeof label, axes[a]->string, text);
                nlen += (size_t)snprintf(o->name + nlen, nlen < sizeof o->name ? sizeof o->name - nlen : 0, "-%s", label);
                if (o->n_sets == CMP_MAX_SETS) {
                    free(text);
                    free(declared);
                    cJSON_Delete(point);
                    return bnlab_fail("grid: more than %d overrides per run", CMP_MAX_SETS);
                }
                size_t len = strlen(axes[a]->string) + strlen(text) + 2;
                o->sets[o->n_sets] = xmalloc(len, "override");
                snprintf(o->sets[o->n_sets++], len, "%s=%s", axes[a]->string, text);
                cJSON_AddItemToObject(point, axes[a]->string, cJSON_Duplicate(val, 1));
                free(text);
            }
            if (nlen >= sizeof o->name) {
                free(declared);
                cJSON_Delete(point);
                return bnlab_fail("grid: run name for variant %s is longer than %zu bytes", declared[v].name,
                               sizeof o->name - 1);
            }
            char *pt = cJSON_PrintUnformatted(point);
            snprintf(o->grid, sizeof o->grid, "%s", pt);
            free(pt);
            cJSON_Delete(point);
        }
    for (int v = 0; v < nv; v++)
        for (int k = 0; k < declared[v].n_sets; k++) free(declared[v].sets[k]);
    free(declared);
    for (int i = 0; i < s->n_variants; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(s->variants[i].name, s->variants[k].name))
                return bnlab_fail("grid: two runs would both be named %s (grid values that differ only in "
                               "characters a directory name cannot hold)", s->variants[i].name);
    return 0;
}

static int parse_spec_file(compare_spec_t *s, const char *path, const cJSON *root) {
    static const char *const keys[] = {"name", "base", "variants", "seeds", "targets", "jobs", "set", "grid", NULL};
    if (jp_keys(root, "", keys) != 0) return -1;
    char dir[CFG_STR], base[CFG_STR] = "";
    path_dirname(dir, sizeof dir, path);
    if (jp_string(root, "", "name", s->name, sizeof s->name) != 0) return -1;
    if (!name_valid(s->name)) return bnlab_fail("name: expected letters, digits, '-', '_' or '.', got \"%s\"", s->name);
    char b[CFG_STR] = "";
    if (jp_string(root, "", "base", b, sizeof b) != 0) return -1;
    if (b[0] && path_join(base, sizeof base, dir, b) != 0) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    int nv = cJSON_GetArraySize(vars);
    if (!cJSON_IsArray(vars) || nv < 1 || nv > CMP_MAX_VARIANTS)
        return bnlab_fail("variants: expected an array of 1..%d variants", CMP_MAX_VARIANTS);
    const cJSON *common = cJSON_GetObjectItemCaseSensitive(root, "set");
    int i = 0;
    for (const cJSON *v = vars->child; v; v = v->next, i++) {
        char p[JP_PATH_MAX];
        jp_index(p, "variants", i);
        static const char *const vkeys[] = {"name", "config", "set", NULL};
        if (jp_keys(v, p, vkeys) != 0) return -1;
        variant_spec_t *vs = &s->variants[s->n_variants++];
        if (!cJSON_GetObjectItemCaseSensitive(v, "name")) return bnlab_fail("%s.name: missing", p);
        if (jp_string(v, p, "name", vs->name, sizeof vs->name) != 0) return -1;
        memcpy(vs->base, vs->name, sizeof vs->base);  // equal sizes; a grid renames the variant, not its base
        if (!name_valid(vs->name))
            return bnlab_fail("%s.name: expected letters, digits, '-', '_' or '.', got \"%s\"", p, vs->name);
        for (int k = 0; k < s->n_variants - 1; k++)
            if (!strcmp(s->variants[k].name, vs->name)) return bnlab_fail("%s.name: \"%s\" is used twice", p, vs->name);
        char c[CFG_STR] = "";
        if (jp_string(v, p, "config", c, sizeof c) != 0) return -1;
        if (c[0]) {
            if (path_join(vs->config, sizeof vs->config, dir, c) != 0) return -1;
        }
        else if (base[0]) snprintf(vs->config, sizeof vs->config, "%s", base);
        else return bnlab_fail("%s.config: missing, and the spec has no \"base\"", p);
        if (add_sets(vs, common, "set") != 0) return -1;
        char sp[JP_PATH_MAX];
        jp_join(sp, p, "set");
        if (add_sets(vs, cJSON_GetObjectItemCaseSensitive(v, "set"), sp) != 0) return -1;
    }
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    if (grid && expand_grid(s, grid) != 0) return -1;
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    if (cJSON_IsArray(seeds)) {
        int k = 0;
        for (const cJSON *e = seeds->child; e; e = e->next, k++) {
            if (k >= CMP_MAX_SEEDS) return bnlab_fail("seeds: more than %d", CMP_MAX_SEEDS);
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble != (double)(long)e->valuedouble)
                return bnlab_fail("seeds[%d]: expected a non-negative integer", k);
            s->seeds[s->n_seeds++] = (long)e->valuedouble;
        }
        if (k == 0) return bnlab_fail("seeds: expected a number of seeds or a non-empty list");
    } else if (seeds) {
        long long n = 0;
        if (jp_int(root, "", "seeds", 1, CMP_MAX_SEEDS, &n) != 0) return -1;
        s->n_seeds = (int)n;
        for (int k = 0; k < s->n_seeds; k++) s->seeds[k] = k + 1;
    }
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
    if (targets) {
        int k = 0;
        if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) < 1 ||
            cJSON_GetArraySize(targets) > SUMMARY_MAX_TARGETS)
            return bnlab_fail("targets: expected an array of 1..%d accuracies in (0, 1]", SUMMARY_MAX_TARGETS);
        s->n_targets = 0;
        for (const cJSON *e = targets->child; e; e = e->next, k++) {
            if (!cJSON_IsNumber(e) || !(e->valuedouble > 0 && e->valuedouble <= 1))
                return bnlab_fail("targets[%d]: expected an accuracy in (0, 1]", k);
            s->targets[s->n_targets++] = e->valuedouble;
        }
    }
    long long jobs = 0;
    if (jp_int(root, "", "jobs", 0, 256, &jobs) != 0) return -1;
    s->jobs = (int)jobs;
    return 0;
}

int compare_spec_load(compare_spec_t *s, const char *const *paths, int n_paths, const char *const *cli_sets,
                      int n_cli_sets, int seeds_override, int jobs_override) {
    memset(s, 0, sizeof *s);
    s->n_seeds = 1;
    s->seeds[0] = 1;
    s->n_targets = 3;
    s->targets[0] = 0.8, s->targets[1] = 0.9, s->targets[2] = 0.95;
    if (n_paths == 1) {
        char *text;
        size_t len;
        if (read_whole_file(paths[0], CFG_MAX_BYTES, &text, &len) != 0) return -1;
        size_t bad;
        cJSON *root = NULL;
        if (!utf8_valid(text, len, &bad)) bnlab_fail("not valid UTF-8 (byte %zu)", bad);
        else if (json_depth(text, len) > CFG_MAX_DEPTH) bnlab_fail("JSON nested deeper than %d levels", CFG_MAX_DEPTH);
        else if (!(root = cJSON_ParseWithLength(text, len))) bnlab_fail("not valid JSON");
        free(text);
        if (!root || !cJSON_GetObjectItemCaseSensitive(root, "variants")) {
            cJSON_Delete(root);
            if (root) return bnlab_fail("%s: a comparison needs a spec with \"variants\" or at least two configs", paths[0]);
            char msg[BNLAB_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
            return bnlab_fail("%s: %s", paths[0], msg);
        }
        int rc = parse_spec_file(s, paths[0], root);
        cJSON_Delete(root);
        if (rc != 0) {
            char msg[BNLAB_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
            compare_spec_free(s);
            return bnlab_fail("%s: %s", paths[0], msg);
        }
    } else {
        if (n_paths > CMP_MAX_VARIANTS) return bnlab_fail("more than %d configs", CMP_MAX_VARIANTS);
        snprintf(s->name, sizeof s->name, "compare");
        for (int i = 0; i < n_paths; i++) {
            variant_spec_t *v = &s->variants[s->n_variants++];
            snprintf(v->config, sizeof v->config, "%s", paths[i]);
            config_t c;
            if (config_load(&c, paths[i], cli_sets, n_cli_sets) != 0) return -1;
            snprintf(v->name, sizeof v->name, "%s", c.name);
            snprintf(v->base, sizeof v->base, "%s", c.name);
            for (int k = 0; k < i; k++)
                if (!strcmp(s->variants[k].name, v->name)) {
                    compare_spec_free(s);
                    return bnlab_fail("%s: name \"%s\" is also the name of %s; variants need distinct names", paths[i],
                                   v->name, s->variants[k].config);
                }
        }
    }
    for (int i = 0; i < s->n_variants; i++)
        for (int k = 0; k < n_cli_sets; k++) {
            variant_spec_t *v = &s->variants[i];
            if (v->n_sets == CMP_MAX_SETS) return bnlab_fail("more than %d overrides", CMP_MAX_SETS);
            v->sets[v->n_sets++] = xstrdup(cli_sets[k]);
        }
    if (seeds_override > 0) {
        if (seeds_override > CMP_MAX_SEEDS) return bnlab_fail("--seeds: at most %d", CMP_MAX_SEEDS);
        s->n_seeds = seeds_override;
        for (int k = 0; k < s->n_seeds; k++) s->seeds[k] = k + 1;
    }
    if (jobs_override > 0) s->jobs = jobs_override;
    if (s->jobs == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->jobs = n > 0 ? (int)n : 1;
    }
    // Validate every variant now: a bad config is reported before anything runs or is written.
    for (int i = 0; i < s->n_variants; i++) {
        variant_spec_t *v = &s->variants[i];
        config_t c;
        if (config_load(&c, v->config, (const char *const *)v->sets, v->n_sets) != 0) {
            char msg[BNLAB_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
            compare_spec_free(s);
            return bnlab_fail("variant %s: %s", s->variants[i].name, msg);
        }
    }
    return 0;
}

void compare_spec_free(compare_spec_t *s) {
    for (int i = 0; i < s->n_variants; i++)
        for (int k = 0; k < s->variants[i].n_sets; k++) free(s->variants[i].sets[k]);
    s->n_variants = 0;
}

cJSON *compare_spec_to_json(const compare_spec_t *s) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", s->name);
    cJSON *vars = cJSON_AddArrayToObject(root, "variants");
    for (int i = 0; i < s->n_variants; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", s->variants[i].name);
        cJSON_AddStringToObject(v, "base", s->variants[i].base);
        cJSON *g = s->variants[i].grid[0] ? cJSON_Parse(s->variants[i].grid) : NULL;
        if (g) cJSON_AddItemToObject(v, "grid", g);
        cJSON_AddStringToObject(v, "config", s->variants[i].config);
        cJSON *sets = cJSON_AddArrayToObject(v, "overrides");
        for (int k = 0; k < s->variants[i].n_sets; k++) cJSON_AddItemToArray(sets, cJSON_CreateString(s->variants[i].sets[k]));
        cJSON_AddItemToArray(vars, v);
    }
    cJSON *seeds = cJSON_AddArrayToObject(root, "seeds");
    for (int k = 0; k < s->n_seeds; k++) cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)s->seeds[k]));
    cJSON *t = cJSON_AddArrayToObject(root, "targets");
    for (int k = 0; k < s->n_targets; k++) cJSON_AddItemToArray(t, cJSON_CreateNumber(s->targets[k]));
    cJSON_AddNumberToObject(root, "jobs", s->jobs);
    return root;
}

// ---------------------------------------------------------------------------------------------

typedef struct {
    int variant, seed_index;
    pid_t pid;
    int status;  // exit code, or -1 if it did not run / was killed
    double t0, seconds;
    char dir[BNLAB_PATH_MAX], log[BNLAB_PATH_MAX];
} job_t;

// The `bnlab train` command line of a job; seed is caller storage for the seed's text. Returns argc.
static int job_argv(const char **argv, char *seed, size_t seed_cap, const job_t *j, const compare_spec_t *s,
                    const char *exe, int force) {
    const variant_spec_t *v = &s->variants[j->variant];
    snprintf(seed, seed_cap, "%ld", s->seeds[j->seed_index]);
    int a = 0;
    argv[a++] = exe;
    argv[a++] = "train";
    argv[a++] = v->config;
    for (int k = 0; k < v->n_sets; k++) argv[a++] = "--set", argv[a++] = v->sets[k];
    argv[a++] = "--seed", argv[a++] = seed;
    argv[a++] = "--set", argv[a++] = "log.progress=never";
    argv[a++] = "--out", argv[a++] = j->dir;
    if (force) argv[a++] = "--force";
    argv[a] = NULL;
    return a;
}

// exe "/proc/self/exe" means this very program: its path while the file is still the one running (under valgrind
// only the path works: valgrind emulates readlink of /proc/self/exe but not exec), /proc/self/exe itself once the
// file was replaced — a rebuild during a long comparison must neither break it nor mix two versions.
static const char *program_to_spawn(const char *exe, char *buf, size_t cap) {
    if (strcmp(exe, "/proc/self/exe") != 0) return exe;
    return self_exe_path(buf, cap) == 1 ? buf : exe;
}

static int spawn_job(job_t *j, const compare_spec_t *s, const char *exe_in, int force) {
    const char *argv[2 * CMP_MAX_SETS + 16];
    char seed[32], buf[PATH_MAX];
    const char *exe = program_to_spawn(exe_in, buf, sizeof buf);
    job_argv(argv, seed, sizeof seed, j, s, exe, force);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, j->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&j->pid, exe, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return bnlab_fail("cannot start %s: %s", exe, strerror(rc));
    j->t0 = now_seconds();
    return 0;
}

// Jobs in seed-major order (with two cores, variants A and B of a seed run side by side), their directories made.
static job_t *make_jobs(const compare_spec_t *s, const char *out_dir, int *n_jobs) {
    *n_jobs = s->n_variants * s->n_seeds;
    job_t *jobs = xcalloc((size_t)*n_jobs, sizeof(job_t), "jobs");
    int k = 0;
    for (int si = 0; si < s->n_seeds; si++)
        for (int vi = 0; vi < s->n_variants; vi++, k++) {
            job_t *j = &jobs[k];
            j->variant = vi, j->seed_index = si, j->status = -1;
            char vdir[BNLAB_PATH_MAX];
            rundir_file(vdir, sizeof vdir, out_dir, s->variants[vi].name);
            if (make_dirs(vdir) != 0) {
                free(jobs);
                return NULL;
            }
            rundir_of_seed(j->dir, sizeof j->dir, out_dir, s->variants[vi].name, s->seeds[si]);
            rundir_seed_log(j->log, sizeof j->log, out_dir, s->variants[vi].name, s->seeds[si]);
        }
    return jobs;
}

static int write_spec(const compare_spec_t *s, const char *out_dir) {
    if (make_dirs(out_dir) != 0) return -1;
    cJSON *spec = compare_spec_to_json(s);
    int rc = write_json(out_dir, CMPDIR_SPEC, spec);
    cJSON_Delete(spec);
    return rc;
}

// Appends arg to b single-quoted for a POSIX shell ('...' with ' written as '\'').
static size_t shell_quote(char *b, size_t n, size_t cap, const char *arg) {
    if (n < cap) b[n++] = '\'';
    for (const char *p = arg; *p && n + 5 < cap; p++) {
        if (*p == '\'') {
            memcpy(b + n, "'\\''", 4);
            n += 4;
        } else {
            b[n++] = *p;
        }
    }
    if (n < cap) b[n++] = '\'';
    return n;
}

int compare_emit(const compare_spec_t *s_in, const char *out_dir_in, const char *exe, int slurm,
                 const char *const *sbatch_lines) {
    int n_jobs;
    if (make_dirs(out_dir_in) != 0) return -1;
    // The commands run elsewhere (a cluster node, another working directory): every path in them absolute.
    char out_dir[PATH_MAX];
    if (!realpath(out_dir_in, out_dir)) return bnlab_fail("%s: %s", out_dir_in, strerror(errno));
    compare_spec_t *s = xmalloc(sizeof *s, "spec copy");
    *s = *s_in;  // shares the override strings; only the config paths change
    for (int i = 0; i < s->n_variants; i++) {
        char abs[PATH_MAX];
        if (!realpath(s_in->variants[i].config, abs)) {
            free(s);
            return bnlab_fail("%s: %s", s_in->variants[i].config, strerror(errno));
        }
        size_t len = strlen(abs);
        if (len >= sizeof s->variants[i].config) {
            free(s);
            return bnlab_fail("%s: path longer than %zu bytes", abs, sizeof s->variants[i].config - 1);
        }
        memcpy(s->variants[i].config, abs, len + 1);
    }
    if (write_spec(s, out_dir) != 0) {
        free(s);
        return -1;
    }
    job_t *jobs = make_jobs(s, out_dir, &n_jobs);
    if (!jobs) {
        free(s);
        return -1;
    }
    size_t cap = (size_t)n_jobs * 8192 + 4096, n = 0;
    char *text = xmalloc(cap, "job list");
    for (int i = 0; i < n_jobs; i++) {
        const char *argv[2 * CMP_MAX_SETS + 16];
        char seed[32];
        int argc = job_argv(argv, seed, sizeof seed, &jobs[i], s, exe, 1);
        for (int a = 0; a < argc; a++) {
            n = shell_quote(text, n, cap, argv[a]);
            if (n < cap) text[n++] = ' ';
        }
        n += (size_t)snprintf(text + n, cap - n, "> ");
        n = shell_quote(text, n, cap, jobs[i].log);
        n += (size_t)snprintf(text + n, cap - n, " 2>&1\n");
    }
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, out_dir, CMPDIR_JOBS);
    int rc = write_file_atomic(path, text, n);
    if (rc == 0 && slurm) {
        // One array task per line of jobs.txt: task i runs line i + 1.
        char *sb = xmalloc(8192, "sbatch script");
        size_t m = (size_t)snprintf(sb, 8192,
                                    "#!/bin/bash\n"
                                    "# bnlab sweep %s: %d runs as a Slurm job array; submit with: sbatch %s/sweep.sbatch\n"
                                    "#SBATCH --job-name=bnlab-%s\n#SBATCH --array=0-%d\n#SBATCH --ntasks=1\n"
                                    "#SBATCH --cpus-per-task=1\n#SBATCH --output=%s/slurm-%%A_%%a.out\n",
                                    s->name, n_jobs, out_dir, s->name, n_jobs - 1, out_dir);
        for (const char *const *l = sbatch_lines; l && *l && m < 7000; l++)
            m += (size_t)snprintf(sb + m, 8192 - m, "#SBATCH %s\n", *l);
        m += (size_t)snprintf(sb + m, 8192 - m,
                              "export OPENBLAS_NUM_THREADS=1\n"
                              "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" '%s/jobs.txt')\n"
                              "exec bash -c \"$line\"\n", out_dir);
        rundir_file(path, sizeof path, out_dir, CMPDIR_SBATCH);
        rc = write_file_atomic(path, sb, m);
        free(sb);
    }
    free(text);
    free(jobs);
    free(s);
    if (rc == 0) {
        printf("bnlab sweep: %d runs written to %s/jobs.txt%s%s%s\n", n_jobs, out_dir, slurm ? " and " : "",
               slurm ? out_dir : "", slurm ? "/sweep.sbatch" : "");
        printf("then: %s %s/%s, and when done: bnlab sweep collect %s\n", slurm ? "sbatch" : "parallel -j N <", out_dir,
               slurm ? "sweep.sbatch" : "jobs.txt", out_dir);
    }
    return rc;
}

int compare_run(const compare_spec_t *s, const char *out_dir, const char *exe, int force, int skip_completed) {
    int n_jobs, rc;
    if (write_spec(s, out_dir) != 0) return -1;
    job_t *jobs = make_jobs(s, out_dir, &n_jobs);
    if (!jobs) return -1;
    printf("bnlab compare: %d variants x %d seeds = %d runs, %d at a time -> %s\n", s->n_variants, s->n_seeds, n_jobs,
           s->jobs, out_dir);
    fflush(stdout);
    int next = 0, running = 0, done = 0, failed = 0;
    double t_start = now_seconds();
    while (done < n_jobs) {
        while (running < s->jobs && next < n_jobs) {
            if (skip_completed && rundir_completed(jobs[next].dir)) {
                jobs[next].status = 0;
                done++;
                printf("[%d/%d] %s seed %ld: already completed\n", done, n_jobs, s->variants[jobs[next].variant].name,
                       s->seeds[jobs[next].seed_index]);
                next++;
                continue;
            }
            if (rundir_forget_status(jobs[next].dir) != 0 || spawn_job(&jobs[next], s, exe, force || skip_completed) != 0) {
                fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
                jobs[next].status = -1;
                done++, failed++, next++;
                continue;
            }
            running++, next++;
        }
        if (running == 0) break;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < n_jobs; i++)
            if (jobs[i].pid == pid) {
                job_t *j = &jobs[i];
                run_status_t rs = rundir_status(j->dir);
                j->status = rs == RUN_COMPLETED ? 0 : -1;
                j->seconds = now_seconds() - j->t0;
                running--, done++;
                if (j->status != 0) failed++;
                printf("[%d/%d] %s seed %ld: %s (%.1f s)%s%s\n", done, n_jobs, s->variants[j->variant].name,
                       s->seeds[j->seed_index], rs == RUN_COMPLETED || rs == RUN_DIVERGED ? run_status_name(rs) : "FAILED",
                       j->seconds, j->status == 0 ? "" : "; see ", j->status == 0 ? "" : j->log);
                fflush(stdout);
            }
    }

    // Summary over the runs that completed.
    variant_result_t *vr = xcalloc((size_t)s->n_variants, sizeof *vr, "variant results");
    for (int vi = 0; vi < s->n_variants; vi++) {
        vr[vi].name = s->variants[vi].name;
        vr[vi].n_seeds = s->n_seeds;
        vr[vi].runs = xcalloc((size_t)s->n_seeds, sizeof(run_result_t), "run results");
    }
    for (int i = 0; i < n_jobs; i++) {
        job_t *j = &jobs[i];
        run_result_t *r = &vr[j->variant].runs[j->seed_index];
        char metrics[BNLAB_PATH_MAX];
        rundir_file(metrics, sizeof metrics, j->dir, RUNDIR_METRICS_CSV);
        if (rundir_completed(j->dir) && curve_read(&r->curve, metrics) == 0) {
            r->ok = 1;
            run_result_from_curve(r, s->targets, s->n_targets);
        }
    }
    cJSON *sj = summary_to_json(vr, s->n_variants, s->targets, s->n_targets);
    cJSON_AddNumberToObject(sj, "runs_failed", failed);
    cJSON_AddNumberToObject(sj, "seconds", now_seconds() - t_start);
    char *md = summary_to_markdown(vr, s->n_variants, s->targets, s->n_targets);
    char curves[BNLAB_PATH_MAX], mdpath[BNLAB_PATH_MAX];
    rundir_file(curves, sizeof curves, out_dir, CMPDIR_CURVES);
    rundir_file(mdpath, sizeof mdpath, out_dir, CMPDIR_SUMMARY_MD);
    rc = write_json(out_dir, CMPDIR_SUMMARY, sj) != 0 || write_file_atomic(mdpath, md, strlen(md)) != 0 ||
         summary_write_curves(curves, vr, s->n_variants) != 0;
    if (rc == 0) printf("\n%s\nsummary: %s/summary.md, summary.json, curves.csv\n", md, out_dir);
    cJSON_Delete(sj);
    free(md);
    for (int vi = 0; vi < s->n_variants; vi++) {
        for (int si = 0; si < s->n_seeds; si++) curve_free(&vr[vi].runs[si].curve);
        free(vr[vi].runs);
    }
    free(vr);
    free(jobs);
    if (rc) return -1;
    if (failed) return bnlab_fail("%d of %d runs did not complete; their logs say why", failed, n_jobs), 1;
    return 0;
}
