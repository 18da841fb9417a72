#include "lab/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "run/rundir.h"
#include "run/runlog.h"

extern char **environ;

typedef struct {
    int variant, seed_index;
    pid_t pid;
    int completed;  // rundir_completed() once it ended
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
            j->variant = vi, j->seed_index = si, j->completed = 0;
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

int jobs_write_spec(const compare_spec_t *s, const char *out_dir) {
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

// A copy of s whose config paths are absolute (the commands run elsewhere: a cluster node, another working
// directory). It shares s's override strings: free it with free(), not compare_spec_free(). NULL + message.
static compare_spec_t *absolute_spec(const compare_spec_t *s_in) {
    compare_spec_t *s = xmalloc(sizeof *s, "spec copy");
    *s = *s_in;
    for (int i = 0; i < s->n_variants; i++) {
        char abs[PATH_MAX];
        if (!realpath(s_in->variants[i].config, abs)) {
            bnlab_fail("%s: %s", s_in->variants[i].config, strerror(errno));
            free(s);
            return NULL;
        }
        size_t len = strlen(abs);
        if (len >= sizeof s->variants[i].config) {
            bnlab_fail("%s: path longer than %zu bytes", abs, sizeof s->variants[i].config - 1);
            free(s);
            return NULL;
        }
        memcpy(s->variants[i].config, abs, len + 1);
    }
    return s;
}

// OUT/jobs.txt: one quoted command line per job, its output redirected to the job's log.
static int write_job_lines(const compare_spec_t *s, const job_t *jobs, int n_jobs, const char *out_dir,
                           const char *exe) {
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
    free(text);
    return rc;
}

// OUT/sweep.sbatch: one array task per line of jobs.txt (task i runs line i + 1).
static int write_sbatch(const compare_spec_t *s, int n_jobs, const char *out_dir, const char *const *sbatch_lines) {
    char *sb = xmalloc(8192, "sbatch script");
    size_t m = (size_t)snprintf(sb, 8192,
                                "#!/bin/bash\n"
                                "# bnlab sweep %s: %d runs as a Slurm job array; submit with: sbatch %s/" CMPDIR_SBATCH "\n"
                                "#SBATCH --job-name=bnlab-%s\n#SBATCH --array=0-%d\n#SBATCH --ntasks=1\n"
                                "#SBATCH --cpus-per-task=1\n#SBATCH --output=%s/slurm-%%A_%%a.out\n",
                                s->name, n_jobs, out_dir, s->name, n_jobs - 1, out_dir);
    for (const char *const *l = sbatch_lines; l && *l && m < 7000; l++)
        m += (size_t)snprintf(sb + m, 8192 - m, "#SBATCH %s\n", *l);
    m += (size_t)snprintf(sb + m, 8192 - m,
                          "export OPENBLAS_NUM_THREADS=1\n"
                          "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" '%s/" CMPDIR_JOBS "')\n"
                          "exec bash -c \"$line\"\n", out_dir);
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, out_dir, CMPDIR_SBATCH);
    int rc = write_file_atomic(path, sb, m);
    free(sb);
    return rc;
}

int jobs_emit(const compare_spec_t *s_in, const char *out_dir_in, const char *exe, emit_format_t format,
              const char *const *sbatch_lines) {
    if (make_dirs(out_dir_in) != 0) return -1;
    char out_dir[PATH_MAX];
    if (!realpath(out_dir_in, out_dir)) return bnlab_fail("%s: %s", out_dir_in, strerror(errno));
    compare_spec_t *s = absolute_spec(s_in);
    if (!s) return -1;
    int n_jobs, rc = -1;
    job_t *jobs = NULL;
    if (jobs_write_spec(s, out_dir) == 0 && (jobs = make_jobs(s, out_dir, &n_jobs)) != NULL)
        rc = write_job_lines(s, jobs, n_jobs, out_dir, exe);
    int slurm = format == EMIT_SLURM;
    if (rc == 0 && slurm) rc = write_sbatch(s, n_jobs, out_dir, sbatch_lines);
    free(jobs);
    free(s);
    if (rc == 0) {
        printf("bnlab sweep: %d runs written to %s/" CMPDIR_JOBS "%s%s%s\n", n_jobs, out_dir, slurm ? " and " : "",
               slurm ? out_dir : "", slurm ? "/" CMPDIR_SBATCH : "");
        printf("then: %s %s/%s, and when done: bnlab sweep collect %s\n", slurm ? "sbatch" : "parallel -j N <", out_dir,
               slurm ? CMPDIR_SBATCH : CMPDIR_JOBS, out_dir);
    }
    return rc;
}

// ---- the process pool ----

typedef struct {
    job_t *jobs;
    int n, next, running, done, failed;
} pool_t;

static void report_end(const pool_t *p, const compare_spec_t *s, const job_t *j, const char *how) {
    printf("[%d/%d] %s seed %ld: %s", p->done, p->n, s->variants[j->variant].name, s->seeds[j->seed_index], how);
    if (j->pid > 0) printf(" (%.1f s)", j->seconds);
    if (!j->completed && j->pid > 0) printf("; see %s", j->log);
    putchar('\n');
    fflush(stdout);
}

// Starts jobs until s->jobs run at once; a job already completed (when skipping those) ends at once.
static void start_due_jobs(pool_t *p, const compare_spec_t *s, const char *exe, const jobs_options_t *opt) {
    while (p->running < s->jobs && p->next < p->n) {
        job_t *j = &p->jobs[p->next++];
        if (opt->skip_completed && rundir_completed(j->dir)) {
            j->completed = 1;
            p->done++;
            report_end(p, s, j, "already completed");
            continue;
        }
        // The old status must not speak for the new run; the run's own summary.json will.
        if (rundir_forget_status(j->dir) != 0 || spawn_job(j, s, exe, opt->force || opt->skip_completed) != 0) {
            fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
            p->done++, p->failed++;
            continue;
        }
        p->running++;
    }
}

// Waits for one child and records how its run ended. 0, or -1 if there is nothing left to wait for.
static int reap_one(pool_t *p, const compare_spec_t *s) {
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < p->n; i++)
        if (p->jobs[i].pid == pid) {
            job_t *j = &p->jobs[i];
            run_status_t rs = rundir_status(j->dir);
            j->completed = rs == RUN_COMPLETED;
            j->seconds = now_seconds() - j->t0;
            p->running--, p->done++;
            if (!j->completed) p->failed++;
            report_end(p, s, j, rs == RUN_COMPLETED || rs == RUN_DIVERGED ? run_status_name(rs) : "FAILED");
        }
    return 0;
}

int jobs_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt) {
    if (jobs_write_spec(s, out_dir) != 0) return -1;
    pool_t p = {0};
    if (!(p.jobs = make_jobs(s, out_dir, &p.n))) return -1;
    printf("bnlab compare: %d variants x %d seeds = %d runs, %d at a time -> %s\n", s->n_variants, s->n_seeds, p.n,
           s->jobs, out_dir);
    fflush(stdout);
    while (p.done < p.n) {
        start_due_jobs(&p, s, exe, opt);
        if (p.running == 0 || reap_one(&p, s) != 0) break;
    }
    int failed = p.failed + (p.n - p.done);  // runs never waited for (waitpid failed) did not complete either
    free(p.jobs);
    return failed;
}
