#include "lab/jobs.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "run/checkpoint.h"
#include "run/config.h"
#include "run/rundir.h"
#include "io/jsonfile.h"

extern char **environ;

typedef struct {
    int variant, seed_index;
    pid_t pid;      // 0 until started
    int running;    // started and not yet waited for
    int resume;     // continues an interrupted run (train --resume) instead of starting one
    run_status_t status;  // once it ended: rundir_status(), RUN_FAILED if there is none
    double t0, seconds;
    char dir[BNLAB_PATH_MAX], log[BNLAB_PATH_MAX];
} job_t;

// Caller storage for the texts a job's command line points into.
typedef struct {
    char seed[32];
    char label[sizeof(((variant_spec_t *)0)->name) + 32];  // VARIANT/seed-K: how the run's console lines name it (train --label)
} job_text_t;

// The `bnlab train` command line of a job; txt is caller storage for its texts. Returns argc.
static int job_argv(const char **argv, job_text_t *txt, const job_t *j, const compare_spec_t *s, const char *exe,
                    int force) {
    const variant_spec_t *v = &s->variants[j->variant];
    snprintf(txt->seed, sizeof txt->seed, "%ld", s->seeds[j->seed_index]);
    snprintf(txt->label, sizeof txt->label, "%s/seed-%ld", v->name, s->seeds[j->seed_index]);
    int a = 0;
    argv[a++] = exe;
    argv[a++] = "train";
    argv[a++] = "--label", argv[a++] = txt->label;
    if (j->resume) {  // the run continues with its own config, stored in its checkpoint
        argv[a++] = "--resume", argv[a++] = j->dir;
        argv[a] = NULL;
        return a;
    }
    argv[a++] = v->config;
    for (int k = 0; k < v->n_sets; k++) argv[a++] = "--set", argv[a++] = v->sets[k];
    argv[a++] = "--seed", argv[a++] = txt->seed;
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

// The job's `bnlab train` overrides, in job_argv's order (its --seed becomes "seed=K" there too); seed is caller
// storage. Returns their number.
static int job_overrides(const char **sets, char *seed, size_t seed_cap, const job_t *j, const compare_spec_t *s) {
    const variant_spec_t *v = &s->variants[j->variant];
    int n = 0;
    for (int k = 0; k < v->n_sets; k++) sets[n++] = v->sets[k];
    snprintf(seed, seed_cap, "seed=%ld", s->seeds[j->seed_index]);
    sets[n++] = seed;
    sets[n++] = "log.progress=never";
    return n;
}

// The resolved config the job's run will have (what `bnlab train` writes as config.json and digests), or NULL +
// message.
static cJSON *job_config(const job_t *j, const compare_spec_t *s) {
    const char *sets[CMP_MAX_SETS + 2];
    char seed[48];
    int n = job_overrides(sets, seed, sizeof seed, j, s);
    config_t c;
    if (config_load(&c, s->variants[j->variant].config, sets, n) != 0) return NULL;
    return config_to_json(&c);
}

// A run starts with the signal mask the comparison had before it blocked the stop signals, their default actions,
// and in a process group of its own (jobs_run: a terminal's ^C must reach it once, forwarded, not twice).
static int spawn_job(job_t *j, const compare_spec_t *s, const char *exe_in, const sigset_t *mask) {
    const char *argv[2 * CMP_MAX_SETS + 16];
    char buf[PATH_MAX];
    job_text_t txt;
    const char *exe = program_to_spawn(exe_in, buf, sizeof buf);
    job_argv(argv, &txt, j, s, exe, 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    // A resumed run adds to the log of its first part.
    posix_spawn_file_actions_addopen(&fa, 1, j->log, O_WRONLY | O_CREAT | (j->resume ? O_APPEND : O_TRUNC), 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t at;
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT), sigaddset(&defaults, SIGTERM), sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setsigmask(&at, mask);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setpgroup(&at, 0);
    int rc = posix_spawn(&j->pid, exe, &fa, &at, (char *const *)argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return bnlab_fail("cannot start %s: %s", exe, strerror(rc));
    j->t0 = now_seconds();
    j->running = 1;
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
            j->variant = vi, j->seed_index = si;
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

// What is in dir, but for its lock: -1 if it cannot be read (missing: 0), else 1 if anything, 2 if compare.json.
static int dir_contents(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    int found = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, CMPDIR_SPEC)) found = 2;
        else if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, RUNDIR_LOCK) && !found)
            found = 1;
    }
    closedir(d);
    return found;
}

// The check comes before the lock (a refused directory gets no lock file) and again after it: two comparisons
// started at once into a new directory both pass the first, and the one that waited must see what the other wrote.
int jobs_claim_out(const char *out_dir) {
    for (int pass = 0; pass < 2; pass++) {
        int c = dir_contents(out_dir);
        if (c < 0) return bnlab_fail("%s: cannot read: %s", out_dir, strerror(errno));
        if (c == 1)
            return bnlab_fail("%s: expected a new or empty directory or a comparison's (with " CMPDIR_SPEC "), found "
                              "other files (a single run?); choose another --out", out_dir);
        if (pass == 0 && rundir_lock(out_dir) < 0) return -1;
    }
    return 0;
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
        job_text_t txt;
        int argc = job_argv(argv, &txt, &jobs[i], s, exe, 1);
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
    if (jobs_claim_out(out_dir_in) != 0) return -1;
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
    int n, next, running, done;
    int stop;  // the first stop signal, 0 until one came
    sigset_t wait_set, spawn_mask;  // signals waited for; the mask runs start with
    jobs_result_t *r;
    const char *command;
} pool_t;

static void report_end(const pool_t *p, const compare_spec_t *s, const job_t *j, const char *how) {
    printf("[%d/%d] %s seed %ld: %s", p->done, p->n, s->variants[j->variant].name, s->seeds[j->seed_index], how);
    if (j->pid > 0) printf(" (%.1f s)", j->seconds);
    if (j->status != RUN_COMPLETED && j->pid > 0) printf("; see %s", j->log);
    putchar('\n');
    fflush(stdout);
}

// Counts a run that ended (or was kept) by its status.
static void count_end(pool_t *p, job_t *j, run_status_t st) {
    j->status = st;
    p->done++;
    jobs_result_t *r = p->r;
    if (st == RUN_COMPLETED) r->completed++;
    else if (st == RUN_DIVERGED) r->diverged++;
    else if (st == RUN_INTERRUPTED) r->interrupted++;
    else r->failed++;
}

// A directory with anything in it (a missing one has nothing).
static int has_content(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; !n && (e = readdir(d)) != NULL;) n = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

enum { JOB_START, JOB_KEEP, JOB_RESUME };

// What becomes of what an earlier comparison left in a job's directory: kept when it ran this very config to a
// result (completed or diverged: a rerun would only repeat it, bit for bit), resumed when it was interrupted with a
// checkpoint, otherwise cleared (its checkpoints and logs must not mix with a new run's) to start afresh. The
// resolved config is compared, not the spec: a changed base config or default changes what a run is, too.
// JOB_START, JOB_KEEP, JOB_RESUME, or -1 + message.
static int plan_job(const job_t *j, const compare_spec_t *s) {
    if (!has_content(j->dir)) return JOB_START;
    cJSON *cfg = job_config(j, s);
    if (!cfg) return -1;
    int same = rundir_same_config(j->dir, cfg);
    cJSON_Delete(cfg);
    run_status_t st = rundir_status(j->dir);
    char ckpt[BNLAB_PATH_MAX], rd[BNLAB_PATH_MAX];
    if (same && (st == RUN_COMPLETED || st == RUN_DIVERGED)) return JOB_KEEP;
    if (same && st == RUN_INTERRUPTED && checkpoint_find(j->dir, ckpt, sizeof ckpt, rd, sizeof rd) == 0) return JOB_RESUME;
    if (!same) {
        printf("%s seed %ld: config changed since it ran (or unrecorded); started afresh\n", s->variants[j->variant].name,
               s->seeds[j->seed_index]);
        fflush(stdout);
    }
    return rundir_remove(j->dir) != 0 ? -1 : JOB_START;
}

// Starts jobs until s->jobs run at once; a job kept from before ends at once.
static void start_due_jobs(pool_t *p, const compare_spec_t *s, const char *exe) {
    while (p->running < s->jobs && p->next < p->n) {
        job_t *j = &p->jobs[p->next++];
        int plan = plan_job(j, s);
        if (plan == JOB_KEEP) {
            count_end(p, j, rundir_status(j->dir));
            report_end(p, s, j, j->status == RUN_COMPLETED ? "already completed" : "already diverged");
            continue;
        }
        j->resume = plan == JOB_RESUME;
        // The old status must not speak for the new run; the run's own summary.json will.
        if (plan < 0 || rundir_forget_status(j->dir) != 0 || spawn_job(j, s, exe, &p->spawn_mask) != 0) {
            fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
            count_end(p, j, RUN_FAILED);
            continue;
        }
        p->running++;
    }
}

// Records how a run ended, from its directory (what it says, not how the process exited).
static void record_exit(pool_t *p, const compare_spec_t *s, job_t *j) {
    run_status_t rs = rundir_status(j->dir);
    if (rs == RUN_NO_STATUS) rs = p->stop ? RUN_INTERRUPTED : RUN_FAILED;  // killed by a second signal, or crashed
    j->running = 0;
    j->seconds = now_seconds() - j->t0;
    p->running--;
    count_end(p, j, rs);
    const char *how = rs == RUN_COMPLETED ? (j->resume ? "completed (resumed)" : "completed")
                      : rs == RUN_FAILED  ? "FAILED"
                                          : run_status_name(rs);
    report_end(p, s, j, how);
}

// Waits for runs that ended without blocking. The number reaped, -1 if no child is left to wait for.
static int reap_ended(pool_t *p, const compare_spec_t *s) {
    int n = 0, st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < p->n; i++)
            if (p->jobs[i].running && p->jobs[i].pid == pid) record_exit(p, s, &p->jobs[i]);
        n++;
    }
    return pid < 0 && errno == ECHILD && n == 0 ? -1 : n;
}

// Sends sig to every running run.
static void forward(const pool_t *p, int sig) {
    for (int i = 0; i < p->n; i++)
        if (p->jobs[i].running) kill(p->jobs[i].pid, sig);
}

// Sleeps until a run ends or a stop signal comes; a stop signal is forwarded (jobs_run).
static void wait_event(pool_t *p) {
    int sig = sigwaitinfo(&p->wait_set, NULL);
    if (sig != SIGINT && sig != SIGTERM) return;  // SIGCHLD (or EINTR): the caller reaps
    forward(p, sig);
    fprintf(stderr, "bnlab %s: %s: %s the %d running runs; no new run starts\n", p->command, strsignal(sig),
            p->stop ? "a second signal kills" : "stopping (each writes a checkpoint)", p->running);
    if (!p->stop) p->stop = sig;
}

// Stop signals and SIGCHLD are blocked while the pool runs and taken with sigwaitinfo: no handler races with the
// list of running children, and a signal between two checks waits, pending, instead of being lost. The handler
// below never runs; it is installed so that the signals are not ignored (a shell starts background jobs with
// SIGINT ignored, and SIGCHLD ignored would reap children before we could).
static void never_called(int sig) { (void)sig; }

static const int pool_signals[3] = {SIGINT, SIGTERM, SIGCHLD};

typedef struct {
    struct sigaction old[3];
    sigset_t old_mask;
} saved_signals_t;

static void take_signals(pool_t *p, saved_signals_t *saved) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = never_called;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&p->wait_set);
    for (int k = 0; k < 3; k++) {
        sigaction(pool_signals[k], &sa, &saved->old[k]);
        sigaddset(&p->wait_set, pool_signals[k]);
    }
    sigprocmask(SIG_BLOCK, &p->wait_set, &saved->old_mask);
    p->spawn_mask = saved->old_mask;
}

// Gives the signals back as they were. A stop signal that came after the last run ended is taken here (it would
// otherwise kill us now, with nothing left to stop) and counts as a stop.
static void give_back_signals(pool_t *p, const saved_signals_t *saved) {
    struct timespec zero = {0, 0};
    for (int sig; (sig = sigtimedwait(&p->wait_set, NULL, &zero)) > 0;)
        if (sig != SIGCHLD && !p->stop) p->stop = sig;
    for (int k = 0; k < 3; k++) sigaction(pool_signals[k], &saved->old[k], NULL);
    sigprocmask(SIG_SETMASK, &saved->old_mask, NULL);
}

int jobs_run(const compare_spec_t *s, const char *out_dir, const char *exe, const jobs_options_t *opt,
             jobs_result_t *r) {
    memset(r, 0, sizeof *r);
    if (jobs_claim_out(out_dir) != 0 || jobs_write_spec(s, out_dir) != 0) return -1;
    pool_t p = {.r = r, .command = opt->command};
    if (!(p.jobs = make_jobs(s, out_dir, &p.n))) return -1;
    r->runs = p.n;
    printf("bnlab %s: %d variant%s x %d seed%s = %d run%s, %d at a time -> %s\n", opt->command, s->n_variants,
           s->n_variants == 1 ? "" : "s", s->n_seeds, s->n_seeds == 1 ? "" : "s", p.n, p.n == 1 ? "" : "s", s->jobs,
           out_dir);
    fflush(stdout);
    saved_signals_t saved;
    take_signals(&p, &saved);
    while (p.done < p.n) {
        if (!p.stop) start_due_jobs(&p, s, exe);
        if (p.running == 0) break;
        int reaped = reap_ended(&p, s);
        if (reaped < 0) break;  // no child left although some count as running: a bug, but not a hang
        if (reaped == 0) wait_event(&p);
    }
    give_back_signals(&p, &saved);
    r->signal = p.stop;
    r->not_started = p.n - p.done;  // never started (a stop), or never waited for
    free(p.jobs);
    return 0;
}
