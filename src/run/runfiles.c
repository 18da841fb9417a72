#include "run/runfiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "run/recorders.h"
#include "run/rundir.h"

static int same_inode(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

// The last component of a canonical path ("/" for the root).
static const char *last_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

// Cuts a canonical path to its parent in place; 0 at the root.
static int to_parent(char *path) {
    char *s = strrchr(path, '/');
    if (!s || (s == path && !s[1])) return 0;
    if (s == path) s[1] = '\0';
    else *s = '\0';
    return 1;
}

// The canonical path of the nearest existing directory at or above path's parent (is_dir 0) or path (is_dir 1):
// out may not exist yet, nor its parents (make_dirs creates them).
static int nearest_existing(const char *path, int is_dir, char *out) {
    char p[BNLAB_PATH_MAX];
    path_fmt(p, sizeof p, "%s", path);
    for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--) p[n - 1] = '\0';
    for (int cut = !is_dir;; cut = 1) {
        if (cut) {
            char *s = strrchr(p, '/');
            if (!s) {
                snprintf(p, sizeof p, ".");
            } else if (s == p) {
                p[1] = '\0';
            } else {
                *s = '\0';
            }
        }
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) break;
        if (!strcmp(p, ".") || !strcmp(p, "/")) break;
    }
    if (!realpath(p, out)) return bnlab_fail("%s: cannot resolve: %s", p, strerror(errno));
    return 0;
}

static int has_file(const char *dir, const char *name) {
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/%s", dir, name);
    return path_exists(path);
}

// What a run writes as it runs besides its logs (report.html and plots/ are not here: bnlab report and plot write
// them there); the logs are the table's (run/recorders.h).
static const char *const run_files[] = {RUNDIR_CONFIG, RUNDIR_ENVIRONMENT, RUNDIR_SUMMARY, RUNDIR_CHECKPOINTS,
                                        RUNDIR_LOCK, RUNDIR_DIGEST};

int runfiles_own(const char *name) {
    for (size_t k = 0; k < sizeof run_files / sizeof *run_files; k++)
        if (!strcmp(name, run_files[k])) return 1;
    for (int i = 0; i < recorders_count(); i++)
        REC_EACH_FILE(recorders_row(i), f)
            if (!strcmp(name, f->file)) return 1;
    return 0;
}

int runfiles_check_output(const char *out, int is_dir, const char *const *inputs, int n_inputs) {
    struct stat so;
    int exists = stat(out, &so) == 0;
    for (int i = 0; i < n_inputs; i++) {
        struct stat si;
        if (!inputs[i] || stat(inputs[i], &si) != 0) continue;
        if (exists && same_inode(&so, &si))
            return bnlab_fail("%s: refused as output: it is %s, an input of this command", out, inputs[i]);
        if (!is_dir || !exists) continue;
        char up[BNLAB_PATH_MAX];
        if (!realpath(inputs[i], up)) continue;
        while (to_parent(up)) {
            struct stat sd;
            if (stat(up, &sd) == 0 && same_inode(&so, &sd))
                return bnlab_fail("%s: refused as output directory: it holds %s, an input of this command", out,
                                  inputs[i]);
        }
    }
    char dir[BNLAB_PATH_MAX];
    if (nearest_existing(out, is_dir, dir) != 0) return -1;
    if (!is_dir) {  // a file named like one of a run's own, in a run directory
        char parent[BNLAB_PATH_MAX];
        path_fmt(parent, sizeof parent, "%s", out);
        char *slash = strrchr(parent, '/');
        const char *base = slash ? slash + 1 : out;
        if (slash) *slash = '\0';
        else snprintf(parent, sizeof parent, ".");
        if (has_file(slash == parent ? "/" : parent, RUNDIR_CONFIG) && runfiles_own(base))
            return bnlab_fail("%s: refused as output: it is one of run directory %s's own files", out,
                              slash == parent ? "/" : parent);
    }
    pid_t parent_pid = getppid();
    for (int more = 1; more; more = to_parent(dir)) {
        char up[BNLAB_PATH_MAX];
        snprintf(up, sizeof up, "%s", dir);
        if (!strcmp(last_name(dir), RUNDIR_CHECKPOINTS) && to_parent(up) && has_file(up, RUNDIR_CONFIG))
            return bnlab_fail("%s: refused as output: it is inside %s, the checkpoints of run %s (a file there "
                              "is taken for one the run resumes from)", out, dir, up);
        long pid = rundir_lock_holder(dir);
        if (pid != 0 && pid != (long)parent_pid)
            return bnlab_fail("%s: refused as output: it is inside %s, which bnlab PID %ld is writing now (a live "
                              "run); wait for it to end, or stop it", out, dir, pid < 0 ? 0L : pid);
    }
    return 0;
}

