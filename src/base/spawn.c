#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"

// What went wrong in the child before exec, sent back through a close-on-exec pipe: a successful exec closes it
// and the parent reads nothing.
typedef struct {
    int step;  // 0 stdin, 1 stdout, 2 stderr, 3 chdir, 4 exec
    int err;
} child_error_t;

// The child spawn_wait is waiting for (0: none), for spawn_kill_running in a signal handler.
static volatile sig_atomic_t running_child;

void spawn_kill_running(void) {
    pid_t p = (pid_t)running_child;
    if (p > 0) kill(p, SIGKILL);
}

static const char *const step_names[] = {"stdin", "stdout", "stderr", "working directory", "program"};

// In the child (only async-signal-safe calls: open, dup2, chdir, execvp, write, _exit).
static void child(const char *const *argv, const spawn_io_t *io, int report) {
    const char *paths[3] = {io->stdin_path, io->stdout_path, io->stderr_path};
    child_error_t e = {0, 0};
    for (int fd = 0; fd < 3; fd++) {
        const char *p = paths[fd] ? paths[fd] : "/dev/null";
        int f = open(p, fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (f < 0 || dup2(f, fd) < 0) {
            e = (child_error_t){fd, errno};
            break;
        }
        if (f != fd) close(f);
    }
    if (!e.err && io->cwd && chdir(io->cwd) != 0) e = (child_error_t){3, errno};
    if (!e.err) {
        execvp(argv[0], (char *const *)argv);
        e = (child_error_t){4, errno};
    }
    ssize_t w = write(report, &e, sizeof e);
    (void)w;
    _exit(127);
}

int spawn_wait(const char *const *argv, const spawn_io_t *io, int *not_found) {
    static const spawn_io_t none = {0};
    if (!io) io = &none;
    if (not_found) *not_found = 0;
    int pipefd[2];
    if (pipe(pipefd) != 0) return bnlab_fail("%s: cannot start: pipe: %s", argv[0], strerror(errno));
    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
    fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
    // Signals held from fork until running_child names the child: a handler that runs in between would miss it.
    sigset_t all, mask;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &mask);
    pid_t pid = fork();
    if (pid < 0) {
        sigprocmask(SIG_SETMASK, &mask, NULL);
        close(pipefd[0]), close(pipefd[1]);
        return bnlab_fail("%s: cannot start: fork: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &mask, NULL);
        close(pipefd[0]);
        child(argv, io, pipefd[1]);
    }
    running_child = pid;
    sigprocmask(SIG_SETMASK, &mask, NULL);
    close(pipefd[1]);
    child_error_t e;
    ssize_t got;
    while ((got = read(pipefd[0], &e, sizeof e)) < 0 && errno == EINTR) {}
    close(pipefd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            running_child = 0;
            return bnlab_fail("%s: waitpid: %s", argv[0], strerror(errno));
        }
    running_child = 0;
    if (got == (ssize_t)sizeof e) {
        if (not_found && e.step == 4 && e.err == ENOENT) *not_found = 1;
        const char *what[] = {io->stdin_path, io->stdout_path, io->stderr_path, io->cwd, argv[0]};
        return bnlab_fail("%s: cannot start: %s %s: %s", argv[0], step_names[e.step], what[e.step] ? what[e.step] : "/dev/null",
                          strerror(e.err));
    }
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}
