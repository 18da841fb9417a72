// launch.h — a training run as `bnlab train` starts or continues one: every check that can fail on input before the
// run directory is touched, then one writer per directory (rundir_lock), then config.json, environment.json and the
// digest (a new run) or the logs cut back to the checkpoint's step (a resumed one). trainer_run does the rest.
#ifndef BNLAB_LAUNCH_H
#define BNLAB_LAUNCH_H

#include "run/config.h"
#include "run/train.h"

// SIGINT/SIGTERM end the current step cleanly (checkpoint, logs; a second one kills at once); SIGPIPE and SIGXFSZ are
// ignored, so a closed stdout or a file-size limit is a failed write with a message, not a killed run.
void launch_signals(void);

enum { LAUNCH_ERROR = -1, LAUNCH_SETUP_ERROR = -2, LAUNCH_OTHER_RUN = -3 };

typedef struct {
    const char *config;   // the config file (an input: never the output)
    const char *init;     // NULL, or a checkpoint whose weights and BN statistics the model starts from
    const char *run_dir;  // the output directory
    int force;            // reuse a non-empty run_dir
} launch_new_t;

// Sets up *t for a new run of cfg into o->run_dir and locks that directory; writes nothing. LAUNCH_ERROR + message
// (output refused, --init not loadable, the lock held, the directory not empty without force), or
// LAUNCH_SETUP_ERROR + message when trainer_setup refused the config (the caller blames the config: config_blame).
int launch_new(trainer_t *t, const config_t *cfg, const launch_new_t *o);

// A new run directory: config.json, environment.json and the config digest, written before any training.
int launch_start_dir(const char *run_dir, const config_t *cfg);

// Sets up *t (and *cfg, file, run_dir) to continue from `path` (a checkpoint or a run directory's newest): in its
// own run directory (the checkpoint must be one of that run's), or with out != NULL in a new directory whose logs
// start at the checkpoint's step. Locks the directory, then starts it or cuts its logs back to the step
// (t->prog.seconds_before set). -1 + message; nothing written before the checks pass. LAUNCH_OTHER_RUN + message:
// without out, the checkpoint is not its directory's run's (the caller says how to continue it with --out).
int launch_resume(trainer_t *t, config_t *cfg, char *file, size_t file_cap, char *run_dir, size_t run_cap,
                  const char *path, const char *out, int force);

#endif
