#include "run/launch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/jsonfile.h"
#include "nn/gemm.h"
#include "run/checkpoint.h"
#include "run/recorders.h"
#include "run/rundir.h"
#include "run/runfiles.h"

static void on_stop_signal(int sig) {
    (void)sig;
    train_stop_requested = 1;
}

// (Ignored signals stay ignored in programs we exec: train runs none.)
void launch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);
}

// Weights and BN statistics from another run's checkpoint; the shapes must match t's model.
static int init_from(trainer_t *t, const char *ckpt) {
    st_file_t f;
    config_t other;
    int rc = checkpoint_open(&f, ckpt, &other, NULL, 0);
    if (rc == 0) {
        rc = checkpoint_load_model(&t->model, &f);
        st_free(&f);
    }
    return rc;
}

int launch_new(trainer_t *t, const config_t *cfg, const launch_new_t *o) {
    const char *in[8] = {o->config, o->init};
    if (runfiles_check_output(o->run_dir, 1, in, config_data_files(cfg, in, 2)) != 0 ||
        rundir_check_empty(o->run_dir, o->force) != 0)
        return LAUNCH_ERROR;
    // Everything that can fail on input is checked before the run directory is touched.
    if (trainer_setup(t, cfg) != 0) return LAUNCH_SETUP_ERROR;
    // One writer per run directory, refused before it writes a byte; the lock is held until this process ends.
    // Then the emptiness test again: another writer may have filled the directory and ended while we set up.
    if ((o->init && init_from(t, o->init) != 0) || rundir_lock(o->run_dir) < 0 ||
        rundir_check_empty(o->run_dir, o->force) != 0) {
        trainer_free(t);
        return LAUNCH_ERROR;
    }
    return 0;
}

static cJSON *environment_json(const config_t *c) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "bnlab_version", BNLAB_VERSION);
    cJSON_AddNumberToObject(e, "blas_threads", c->threads);
    cJSON_AddStringToObject(e, "openblas_config", gemm_openblas_config());
    cJSON_AddStringToObject(e, "openblas_core", gemm_openblas_core());
    // What the run did: train.flush_denormals asks for it, the WebAssembly build cannot do it.
    cJSON_AddBoolToObject(e, "flush_to_zero", c->train.flush_denormals && flush_to_zero_available());
    // The matrix products' backend (nn/gemm.h) and why: runs are reproducible per backend and target.
    cJSON_AddStringToObject(e, "gemm_backend", gemm_backend_name(gemm_backend()));
    cJSON_AddStringToObject(e, "gemm_target", gemm_target());
    cJSON_AddStringToObject(e, "gemm_reason", gemm_reason());
    return e;
}

int launch_start_dir(const char *run_dir, const config_t *cfg) {
    cJSON *resolved = config_to_json(cfg), *env = environment_json(cfg);
    int rc = make_dirs(run_dir) != 0 || write_json(run_dir, RUNDIR_CONFIG, resolved) != 0 ||
             write_json(run_dir, RUNDIR_ENVIRONMENT, env) != 0 || rundir_write_digest(run_dir, resolved) != 0;
    cJSON_Delete(resolved);
    cJSON_Delete(env);
    return rc ? -1 : 0;
}

// The checkpoint opened and checked, the output directory chosen and checked; f open on success.
static int resume_open(st_file_t *f, config_t *cfg, char *file, size_t file_cap, char *run_dir, size_t run_cap,
                       const char *path, const char *out, int force) {
    if (checkpoint_find(path, file, file_cap, run_dir, run_cap) != 0 || checkpoint_open(f, file, cfg, NULL, 0) != 0)
        return -1;
    int rc = checkpoint_check_resumable(f);
    if (rc == 0 && out) {
        const char *in[8] = {file};
        rc = runfiles_check_output(out, 1, in, config_data_files(cfg, in, 1)) != 0 || rundir_check_empty(out, force) != 0
                 ? -1 : 0;
        snprintf(run_dir, run_cap, "%s", out);
    } else if (rc == 0 && checkpoint_check_run(f, file, run_dir) != 0) {
        rc = LAUNCH_OTHER_RUN;
    }
    if (rc != 0) st_free(f);
    return rc;
}

// A run resumed in its own directory continues its logs, which equal an uninterrupted run's byte for byte only if the
// products are computed by the same GEMM backend with the same kernels (nn/gemm.h: the two backends, or one on
// another CPU, agree to rounding, not bit for bit): refused when the run's environment.json names another backend
// or target than this process selected. (A resume into a new --out directory starts new logs and records its own.)
static int check_same_gemm(const char *run_dir) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, run_dir, RUNDIR_ENVIRONMENT);
    if (read_whole_file(path, 1u << 20, &text, &len) != 0) return -1;
    cJSON *env = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(env)) {
        cJSON_Delete(env);
        return bnlab_fail("%s: not a JSON object (the run's environment); cannot tell which GEMM backend it used",
                          path);
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(env, "gemm_backend"),
                *g = cJSON_GetObjectItemCaseSensitive(env, "gemm_target");
    // Runs recorded before the key existed computed every product with OpenBLAS.
    const char *was = cJSON_IsString(b) ? b->valuestring : "openblas", *now = gemm_backend_name(gemm_backend());
    const char *was_target = cJSON_IsString(g) ? g->valuestring : NULL, *now_target = gemm_target();
    int rc = 0;
    if (strcmp(was, now) || (was_target && strcmp(was_target, now_target)))
        rc = bnlab_fail("%s: the run computed its products with %s (target %s) but this process would use %s (target "
                        "%s; %s), so its logs would no longer equal an uninterrupted run's; resume with the run's "
                        "backend (BNLAB_GEMM=%s on a machine with the same target), or into a new directory with --out "
                        "DIR", path, was, was_target ? was_target : "not recorded", now, now_target, gemm_reason(), was);
    cJSON_Delete(env);
    return rc;
}

int launch_resume(trainer_t *t, config_t *cfg, char *file, size_t file_cap, char *run_dir, size_t run_cap,
                  const char *path, const char *out, int force) {
    st_file_t f;
    int rc = resume_open(&f, cfg, file, file_cap, run_dir, run_cap, path, out, force);
    if (rc != 0) return rc;
    if (trainer_setup(t, cfg) != 0) {
        st_free(&f);
        return -1;
    }
    rc = trainer_resume(t, &f);
    st_free(&f);
    if (rc == 0 && !out) rc = check_same_gemm(run_dir);
    // The run directory is known to be this checkpoint's (or new), and the checkpoint resumes: one writer, held
    // until this process ends. Nothing before this point writes, so a refused resume leaves nothing (no .lock).
    double secs = 0.0;
    // Drop what was logged after the checkpoint (the resumed run writes it again, identically), or start new logs.
    if (rc != 0 || rundir_lock(run_dir) < 0 ||
        (out ? launch_start_dir(run_dir, cfg) : recorders_truncate(run_dir, t->prog.step, &secs)) != 0) {
        trainer_free(t);
        return -1;
    }
    t->prog.seconds_before = secs;
    return 0;
}
