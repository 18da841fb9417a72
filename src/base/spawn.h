// spawn.h — running another program without a shell: an argument vector, never a command line, so no path or
// name a user chose is ever parsed by sh (no quoting to get wrong, nothing to inject).
#ifndef BNLAB_SPAWN_H
#define BNLAB_SPAWN_H

typedef struct {
    const char *cwd;          // the child's working directory (NULL: ours)
    const char *stdin_path;   // opened for reading as its stdin (NULL: /dev/null)
    const char *stdout_path;  // created/truncated as its stdout (NULL: /dev/null)
    const char *stderr_path;  // created/truncated as its stderr (NULL: /dev/null)
} spawn_io_t;

// Runs argv[0] (looked up in PATH) with argv, waits for it, and returns its exit status (0..255; 128 + N if
// signal N killed it). -1 + message if it could not be started: the message names argv[0] and why (a missing
// cwd or file, or no such program), and *not_found (if not NULL) is set to 1 when the program is not installed.
int spawn_wait(const char *const *argv, const spawn_io_t *io, int *not_found);

// Kills (SIGKILL) the child a spawn_wait is waiting for, if any; async-signal-safe, for a SIGINT/SIGTERM handler.
// A stopped bnlab must not wait for a child that may never end: gnuplot interrupted inside malloc deadlocks in its
// own SIGINT handler (seen in tests/test_plot.sh's Ctrl-C check: 1 run in ~3 hung until the test's timeout).
void spawn_kill_running(void);

#endif
