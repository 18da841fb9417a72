#include "run/rundir.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "io/jsonpath.h"
#include "io/csvtable.h"

void rundir_percentiles_header(char *out, size_t cap, const double *q, int n_q) {
    path_fmt(out, cap, "%s", RUNDIR_PERCENTILES_FIXED);
    for (int k = 0; k < n_q; k++) {
        size_t n = strlen(out);
        path_fmt(out + n, cap - n, ",p%g", q[k]);
    }
    size_t n = strlen(out);
    path_fmt(out + n, cap - n, "\n");
}

void rundir_histograms_header(char *out, size_t cap, int bins, int outside) {
    path_fmt(out, cap, "%s%s", RUNDIR_HISTOGRAMS_FIXED, outside ? ",under,over" : "");
    for (int j = 0; j < bins; j++) {
        size_t n = strlen(out);
        path_fmt(out + n, cap - n, ",c%d", j);
    }
    size_t n = strlen(out);
    path_fmt(out + n, cap - n, "\n");
}

void rundir_file(char *out, size_t cap, const char *dir, const char *name) {
    path_fmt(out, cap, "%s/%s", dir, name);
}

void rundir_of_seed(char *out, size_t cap, const char *cmp_dir, const char *variant, long seed) {
    path_fmt(out, cap, "%s/%s/seed-%ld", cmp_dir, variant, seed);
}

void rundir_seed_log(char *out, size_t cap, const char *cmp_dir, const char *variant, long seed) {
    path_fmt(out, cap, "%s/%s/seed-%ld.log", cmp_dir, variant, seed);
}

static const char *const status_names[] = {"completed", "diverged", "interrupted", "failed", "no status"};

const char *run_status_name(run_status_t s) { return status_names[s]; }

cJSON *rundir_read_json(const char *dir, const char *name) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, dir, name);
    if (!path_exists(path) || read_whole_file(path, 1 << 24, &text, &len) != 0) return NULL;
    cJSON *j = jp_parse_all(text, len, NULL);
    free(text);
    return j;
}

run_status_t rundir_status(const char *dir) {
    cJSON *j = rundir_read_json(dir, RUNDIR_SUMMARY);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    run_status_t s = RUN_NO_STATUS;
    for (int k = RUN_COMPLETED; k < RUN_NO_STATUS && cJSON_IsString(st); k++)
        if (!strcmp(st->valuestring, status_names[k])) s = (run_status_t)k;
    cJSON_Delete(j);
    return s;
}

int rundir_completed(const char *dir) { return rundir_status(dir) == RUN_COMPLETED; }

int rundir_forget_status(const char *dir) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, RUNDIR_SUMMARY);
    if (unlink(path) != 0 && errno != ENOENT) return bnlab_fail("%s: cannot remove: %s", path, strerror(errno));
    return 0;
}

// ---- one writer ----

// The PID its holder wrote into a lock file (0 if unknown). The holder writes it just after taking the lock, so an
// empty file is given a moment.
static long lock_holder(int fd) {
    for (int tries = 0; tries < 20; tries++) {
        char text[32] = "";
        ssize_t n = pread(fd, text, sizeof text - 1, 0);
        if (n > 0 && text[n - 1] == '\n') return strtol(text, NULL, 10);
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    return 0;
}

// A kernel lock (flock) rather than a PID file checked by hand: the kernel releases it when its process ends,
// however it ends, so a writer killed with SIGKILL leaves no lock behind (the file stays, with a stale PID, and is
// simply locked again). flock belongs to the open file, not to the process as fcntl's record locks do: opening and
// closing the file elsewhere in the process cannot drop it; and the descriptor is close-on-exec, so the runs a
// comparison starts do not hold the comparison's lock.
int rundir_lock(const char *dir) {
    char path[BNLAB_PATH_MAX];
    if (make_dirs(dir) != 0) return -1;
    rundir_file(path, sizeof path, dir, RUNDIR_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return bnlab_fail("%s: cannot open: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        long pid = e == EWOULDBLOCK ? lock_holder(fd) : 0;
        close(fd);
        if (e != EWOULDBLOCK) return bnlab_fail("%s: cannot lock: %s", path, strerror(e));
        return bnlab_fail("%s: expected no other writer, found bnlab PID %ld writing it (it holds %s); wait for it "
                          "to end, or stop it", dir, pid, path);
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return bnlab_fail("%s: cannot write: %s", path, strerror(e));
    }
    return fd;
}

long rundir_lock_holder(const char *dir) {
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/%s", dir, RUNDIR_LOCK);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    long pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        pid = lock_holder(fd);
        if (pid <= 0) pid = -1;  // held, by a process that has not written its PID
    }
    close(fd);  // drops our shared lock, if we took it
    return pid;
}


// ---- the resolved config's fingerprint ----

void rundir_config_digest(const struct cJSON *resolved, char *out) {
    char *text = cJSON_PrintUnformatted(resolved);
    if (!text) abort();  // cJSON fails only for want of memory
    snprintf(out, RUNDIR_DIGEST_CHARS, "fnv1a64:%016" PRIx64, fnv1a64(text, strlen(text)));
    free(text);
}

int rundir_write_digest(const char *dir, const struct cJSON *resolved) {
    char path[BNLAB_PATH_MAX], d[RUNDIR_DIGEST_CHARS + 1];
    rundir_config_digest(resolved, d);
    size_t n = strlen(d);
    d[n++] = '\n';
    rundir_file(path, sizeof path, dir, RUNDIR_DIGEST);
    return write_file_atomic(path, d, n);
}

int rundir_same_config(const char *dir, const struct cJSON *resolved) {
    char path[BNLAB_PATH_MAX], want[RUNDIR_DIGEST_CHARS], *text;
    size_t len;
    rundir_file(path, sizeof path, dir, RUNDIR_DIGEST);
    if (!path_exists(path) || read_whole_file(path, 256, &text, &len) != 0) return 0;
    rundir_config_digest(resolved, want);
    size_t n = strlen(want);
    int same = len == n + 1 && !memcmp(text, want, n) && text[n] == '\n';
    free(text);
    return same;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    if (remove(path) == 0 || errno == ENOENT) return 0;
    bnlab_fail("%s: cannot remove: %s", path, strerror(errno));
    return 1;  // stops the walk; nftw returns it (its own failures are -1)
}

int rundir_remove(const char *dir) {
    if (!path_exists(dir)) return 0;
    int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (rc < 0) return bnlab_fail("%s: cannot remove: %s", dir, strerror(errno));
    return rc == 0 ? 0 : -1;
}

// ---- resume truncation ----

// How a log marks its rows' steps.
typedef struct {
    const char *file;
    int jsonl;          // JSON lines with a "step" key; otherwise CSV with a "step" column
    int before_update;  // logged with the step count before the update: keep step < S, not <= S
} log_kind_t;

// The value of the "step" key of a JSON line (up to its newline). -1 if none.
static int jsonl_step(const char *line, const char *nl, double *out) {
    const char *p = strstr(line, "\"step\":");
    if (!p || p > nl) return -1;
    p += 7;
    char *end;
    double v = strtod(p, &end);
    if (end == p) return -1;
    *out = v;
    return 0;
}

// Where a CSV log keeps its step and (metrics.csv) its seconds: columns looked up in the header by name.
typedef struct {
    int step, seconds;  // seconds: -1 unless wanted
} log_columns_t;

static int find_columns(log_columns_t *c, const char *header, const char *path, int want_seconds) {
    c->seconds = -1;
    if ((c->step = csv_column(header, "step", path)) < 0) return -1;
    if (want_seconds && (c->seconds = csv_column(header, "seconds", path)) < 0) return -1;
    return 0;
}

// Keeps, of text, the header (CSV), and the complete rows whose step passes; the last kept row's seconds into
// *seconds. Returns the kept length (in out), or -1 + message.
static long keep_rows(const log_kind_t *k, const char *path, const char *text, size_t len, long max_step, char *out,
                      double *seconds) {
    size_t n = 0;
    log_columns_t col = {-1, -1};
    for (const char *line = text; line < text + len;) {
        const char *nl = memchr(line, '\n', (size_t)(text + len - line));
        if (!nl) break;  // an unfinished last line
        size_t l = (size_t)(nl - line) + 1;
        int keep;
        double step;
        if (!k->jsonl && line == text) {  // the CSV header: always kept, and says where the columns are
            if (find_columns(&col, line, path, seconds != NULL) != 0) return -1;
            keep = 1;
        } else {
            int ok = k->jsonl ? jsonl_step(line, nl, &step) == 0 : csv_field_double(line, col.step, &step) == 0;
            keep = ok && (k->before_update ? step < (double)max_step : step <= (double)max_step);
            double s;
            if (keep && col.seconds >= 0 && csv_field_double(line, col.seconds, &s) == 0) *seconds = s;
        }
        if (keep) {
            memcpy(out + n, line, l);
            n += l;
        }
        line = nl + 1;
    }
    return (long)n;
}

// Truncates one log (see rundir_truncate_log); seconds NULL unless this log has the run's clock.
static int truncate_log(const char *dir, const log_kind_t *k, long max_step, double *seconds) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, k->file);
    if (!path_exists(path)) return 0;
    char *text;
    size_t len;
    if (read_whole_file(path, SIZE_POW2_CAP(32), &text, &len) != 0) return -1;
    char *out = xmalloc(len + 1, "log copy");
    long n = keep_rows(k, path, text, len, max_step, out, seconds);
    int rc = n < 0 ? -1 : write_file_atomic(path, out, (size_t)n);
    free(text);
    free(out);
    return rc;
}

int rundir_truncate_log(const char *dir, const char *file, int jsonl, int before_update, long step,
                        double *seconds) {
    const log_kind_t k = {file, jsonl, before_update};
    return truncate_log(dir, &k, step, seconds);
}

static int dir_nonempty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))  // a lock alone is no content: it may be our own (rundir_lock)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, RUNDIR_LOCK)) n++;
    closedir(d);
    return n > 0;
}

int rundir_check_empty(const char *dir, int force) {
    if (force || !dir_nonempty(dir)) return 0;
    return bnlab_fail("%s already exists and is not empty; pass --force to overwrite it or --out DIR to choose another",
                      dir);
}
