// bnlab — command line: bnlab train CONFIG [options] | bnlab check CONFIG [options]
#include <cblas.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "runlog.h"
#include "train.h"
#include "util.h"

#define MAX_SETS 64

static const char *USAGE =
    "usage: bnlab train CONFIG [--set PATH=VALUE]... [--seed N] [--threads N] [--out DIR] [--force]\n"
    "       bnlab check CONFIG [--set PATH=VALUE]...   (validate; print the resolved config)\n"
    "\n"
    "  --set PATH=VALUE  override a config value, e.g. --set train.optimizer.lr=0.5 or\n"
    "                    --set model.layers[1].rate=0.2 (VALUE is JSON, or a bare string)\n"
    "  --seed N          same as --set seed=N\n"
    "  --threads N       BLAS threads, same as --set threads=N (default 1)\n"
    "  --out DIR         run directory (default: LOG_DIR/NAME from the config)\n"
    "  --force           reuse an existing, non-empty run directory\n";

static int dir_nonempty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n > 0;
}

static int die(void) {
    fprintf(stderr, "bnlab: error: %s\n", bn_errmsg());
    return 1;
}

static cJSON *environment_json(const config_t *c) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "bnlab_version", BNLAB_VERSION);
    cJSON_AddNumberToObject(e, "blas_threads", c->threads);
    cJSON_AddStringToObject(e, "openblas_config", openblas_get_config());
    cJSON_AddBoolToObject(e, "flush_to_zero", c->train.flush_denormals);
    return e;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("bnlab %s\n", BNLAB_VERSION);
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") && strcmp(cmd, "check")) {
        fprintf(stderr, "bnlab: error: unknown command '%s'\n%s", cmd, USAGE);
        return 2;
    }
    const char *config_path = NULL, *out = NULL;
    const char *sets[MAX_SETS];
    char owned[MAX_SETS][64];
    int n_sets = 0, force = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--set") || !strcmp(a, "--seed") || !strcmp(a, "--threads") || !strcmp(a, "--out")) {
            if (!has_value) {
                fprintf(stderr, "bnlab: error: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--out")) {
                out = v;
                continue;
            }
            if (n_sets == MAX_SETS) {
                fprintf(stderr, "bnlab: error: more than %d overrides\n", MAX_SETS);
                return 2;
            }
            if (!strcmp(a, "--set")) sets[n_sets++] = v;
            else {
                snprintf(owned[n_sets], sizeof owned[n_sets], "%s=%.40s", a + 2, v);
                sets[n_sets] = owned[n_sets];
                n_sets++;
            }
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "bnlab: error: unknown option '%s'\n%s", a, USAGE);
            return 2;
        } else if (!config_path) {
            config_path = a;
        } else {
            fprintf(stderr, "bnlab: error: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!config_path) {
        fprintf(stderr, "bnlab: error: %s needs a CONFIG file\n%s", cmd, USAGE);
        return 2;
    }
    config_t cfg;
    if (config_load(&cfg, config_path, sets, n_sets) != 0) return die();
    cJSON *resolved = config_to_json(&cfg);
    if (!strcmp(cmd, "check")) {
        char *text = cJSON_Print(resolved);
        puts(text);
        free(text);
        cJSON_Delete(resolved);
        return 0;
    }
    char run_dir[4096];
    if (out) snprintf(run_dir, sizeof run_dir, "%s", out);
    else snprintf(run_dir, sizeof run_dir, "%s/%s", cfg.log.dir, cfg.name);
    if (!force && dir_nonempty(run_dir)) {
        cJSON_Delete(resolved);
        fprintf(stderr, "bnlab: error: run directory %s already exists and is not empty; pass --force to "
                        "overwrite it or --out DIR to choose another\n", run_dir);
        return 1;
    }
    // Everything that can fail on input is checked before the run directory is touched.
    trainer_t t;
    if (trainer_setup(&t, &cfg) != 0) {
        cJSON_Delete(resolved);
        return die();
    }
    printf("bnlab: %s: %u training / %u test examples of %u features, %zu parameters, %ld steps of batch %d "
           "(%ld per epoch) -> %s\n",
           cfg.name, t.train.n, t.test.n, t.train.dim, t.model.n_params, t.total_steps, cfg.train.batch_size,
           t.steps_per_epoch, run_dir);
    fflush(stdout);
    cJSON *env = environment_json(&cfg);
    int rc = make_dirs(run_dir) != 0 || write_json(run_dir, "config.json", resolved) != 0 ||
             write_json(run_dir, "environment.json", env) != 0;
    cJSON_Delete(resolved);
    cJSON_Delete(env);
    if (rc) {
        trainer_free(&t);
        return die();
    }
    int status = trainer_run(&t, run_dir);
    trainer_free(&t);
    if (status == TRAIN_ERROR) return die();
    return status;
}
