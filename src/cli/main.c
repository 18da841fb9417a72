// bnlab — command line. One function per command; all share the option parser below.
#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <signal.h>

#include "cli/bench.h"
#include "run/checkpoint.h"
#include "io/jsonpath.h"
#include "lab/compare.h"
#include "nn/layers.h"
#include "run/config.h"
#include "run/infer.h"
#include "run/recalibrate.h"
#include "run/fold.h"
#include "lab/plot.h"
#include "lab/plot_landscape.h"
#include "lab/report.h"
#include "run/rundir.h"
#include "io/jsonfile.h"
#include "lab/sweep.h"
#include "run/train.h"
#include "run/xhatstats.h"
#include "base/util.h"

#define MAX_ARGS 64

static const char *USAGE =
    "usage: bnlab train CONFIG [--set PATH=VALUE]... [--seed N] [--threads N] [--out DIR] [--force] [--init CKPT]\n"
    "       bnlab train --resume RUN_DIR|CKPT [--out NEW_DIR]  continue a stopped run exactly where it stopped\n"
    "       bnlab check CONFIG|SPEC [--set PATH=VALUE]...   validate; print the resolved config (or a spec's runs)\n"
    "       bnlab eval CKPT|RUN_DIR [--set data.test_images=...]...  loss, accuracy, confusion matrix (evaluation)\n"
    "       bnlab eval CKPT|RUN_DIR --bn-stats running|batch|algorithm2|all|xhat [--batches N]   BN's train/eval gap; xhat: BN's normalized values by layer\n"
    "       bnlab recalibrate CKPT|RUN_DIR --out FILE [--batches N]   BN statistics by the paper's Algorithm 2\n"
    "       bnlab fold CKPT|RUN_DIR --out FILE [--bn-stats running|algorithm2]   BN folded into the dense layers\n"
    "       bnlab predict CKPT|RUN_DIR INPUT [--out FILE]   class probabilities as CSV (INPUT: IDX images or CSV)\n"
    "       bnlab compare SPEC | CONFIG CONFIG... [--seeds N] [--jobs N] [--set PATH=VALUE]... [--out DIR] [--force]\n"
    "       bnlab plot DIR [--seed K] [--x steps|examples|epochs] [--only KIND,..] [--xrange LO:HI] [--yrange LO:HI]\n"
    "                  [--xscale linear|log] [--yscale linear|log] [--label VARIANT=TEXT].. [--landscape-steps S1,S2,..]\n"
    "                                                   figures (PNG, SVG, PDF)\n"
    "       bnlab report DIR  one self-contained page, DIR/report.html: summary, curves, histograms over time\n"
    "       bnlab sweep SPEC [--jobs N] [--emit parallel|slurm [--sbatch '--time=1:00:00']...]   grid x seeds, resumable\n"
    "       bnlab sweep collect DIR                         mean/std/median/range table and plot of a sweep\n"
    "       bnlab bench [--steps N] [batch=N bn=on|off threads=N input=dense|sparse]   speed vs the GEMM-only bound\n"
    "\n"
    "bnlab CMD --help lists the options CMD takes.\n";

// Every option: the commands that take it (" cmd cmd "), its value (NULL: a flag) and its help for them. One option
// may have a row per meaning (--out is a directory for train, a file for predict). parse_cli refuses an option the
// command does not take, and `bnlab CMD --help` prints exactly the rows of CMD: one table for both.
typedef struct {
    const char *name, *commands, *value, *help;
} cli_option_t;

static const cli_option_t OPTIONS[] = {
    {"--set", " train check eval recalibrate fold predict compare sweep ", "PATH=VALUE",
     "override a config value, e.g. --set train.optimizer.lr=0.5 or\n"
     "--set 'model.layers[0].units=200' (VALUE is JSON, or a bare string; null removes the\n"
     "key, e.g. --set train.epochs=null --set train.steps=500)"},
    {"--seed", " train check ", "N", "same as --set seed=N"},
    {"--seed", " plot ", "K", "the seed whose run the per-run figures show (default 1)"},
    {"--threads", " train check ", "N", "BLAS threads, same as --set threads=N (default 1)"},
    {"--out", " train compare sweep ", "DIR", "output directory (default: LOG_DIR/NAME, from the config or spec)"},
    {"--out", " recalibrate fold ", "FILE", "the checkpoint to write"},
    {"--out", " predict ", "FILE", "write the CSV there (default: standard output)"},
    {"--force", " train compare ", NULL, "reuse an existing, non-empty output directory"},
    {"--seeds", " compare sweep check ", "N", "seeds 1..N for every variant"},
    {"--jobs", " compare sweep check ", "N", "runs at once (default: one per core)"},
    {"--init", " train ", "CKPT", "start from the weights (and BN statistics) of a checkpoint"},
    {"--label", " train ", "TEXT", "the run's name in its console lines (compare and sweep pass VARIANT/seed-K)"},
    {"--resume", " train ", "PATH",
     "continue from a checkpoint file or a run directory's newest checkpoint (a checkpoint\n"
     "outside its run directory: into a new --out DIR)"},
    {"--max-memory", " train check eval recalibrate fold predict ", "SIZE",
     "the memory a run may take (e.g. 8G; default: what the machine has available), never\n"
     "more than the address-space limit (ulimit -v) or the memory cgroup leave. A run that\n"
     "needs more is refused before it allocates, with its estimate"},
    {"--bn-stats", " eval ", "WHICH", "running | batch | algorithm2 | all | xhat: BN's statistics in evaluation"},
    {"--bn-stats", " fold ", "WHICH", "running (default) | algorithm2: the statistics folded into the weights"},
    {"--batches", " eval recalibrate fold ", "N", "training batches for Algorithm 2 (default: every full batch, at most 1000)"},
    {"--x", " plot ", "AXIS", "steps | examples | epochs (default: steps; examples when the batch sizes differ)"},
    {"--only", " plot ", "KIND,..", "only these figures (accuracy, loss, percentiles, layers, saturation, ics, modes,\n"
     "params, landscape); the others already in DIR/plots are kept"},
    {"--xrange", " plot ", "LO:HI", "the x axis of every figure drawn (with --only: of those)"},
    {"--yrange", " plot ", "LO:HI", "the y axis of every figure drawn, e.g. --only accuracy --yrange 0.9:1"},
    {"--xscale", " plot ", "SCALE", "linear | log: the x axis of every figure drawn"},
    {"--yscale", " plot ", "SCALE", "linear | log: the y axis of every figure drawn"},
    {"--label", " plot ", "VARIANT=TEXT", "the legend text of VARIANT (repeatable), e.g. --label nobn=\"Without BN\""},
    {"--landscape-steps", " plot ", "S1,S2,..", "up to 4 probe steps for landscape_eta (default: near 1/10, 1/2, the end)"},
    {"--emit", " sweep ", "KIND", "parallel | slurm: write job files instead of running"},
    {"--sbatch", " sweep ", "LINE", "with --emit slurm: an #SBATCH line (repeatable)"},
    {"--steps", " bench ", "N", "steps per case (default 300)"},
    {NULL, NULL, NULL, NULL}};

// The row of option a for command cmd, or NULL; *known: a is an option of some command.
static const cli_option_t *find_option(const char *cmd, const char *a, int *known) {
    char key[64];
    snprintf(key, sizeof key, " %s ", cmd);
    *known = 0;
    for (const cli_option_t *o = OPTIONS; o->name; o++) {
        if (strcmp(o->name, a)) continue;
        *known = 1;
        if (strstr(o->commands, key)) return o;
    }
    return NULL;
}

// Prints the options of cmd (all of them for NULL), the help's continuation lines indented under the first.
static void option_head(char *head, size_t cap, const cli_option_t *o) {
    snprintf(head, cap, "%s%s%s", o->name, o->value ? " " : "", o->value ? o->value : "");
}

static void print_options(FILE *out, const char *cmd) {
    char key[64], head[64];
    snprintf(key, sizeof key, " %s ", cmd ? cmd : "");
    int w = 0;  // one column for every command's help: the widest "--option VALUE" plus a space
    for (const cli_option_t *o = OPTIONS; o->name; o++) {
        option_head(head, sizeof head, o);
        w = (int)strlen(head) + 1 > w ? (int)strlen(head) + 1 : w;
    }
    int n_printed = 0;
    for (const cli_option_t *o = OPTIONS; o->name; o++) {
        if (cmd && !strstr(o->commands, key)) continue;
        option_head(head, sizeof head, o);
        fprintf(out, "  %-*s", w, head);
        for (const char *h = o->help; *h;) {
            size_t n = strcspn(h, "\n");
            fprintf(out, "%*s%.*s\n", h == o->help ? 0 : w + 2, "", (int)n, h);
            h += n + (h[n] == '\n');
        }
        if (!cmd) fprintf(out, "%*s(%.*s)\n", w + 2, "", (int)strlen(o->commands + 1) - 1, o->commands + 1);
        n_printed++;
    }
    if (!n_printed) fprintf(out, "  none\n");
}

typedef struct {
    const char *pos[MAX_ARGS];
    int n_pos;
    const char *sets[MAX_ARGS];
    char owned[MAX_ARGS][64];
    int n_sets;
    const char *out, *init, *resume, *emit, *label;
    const char *plot_labels[MAX_ARGS];  // plot --label VARIANT=TEXT
    int n_plot_labels;
    const char *sbatch[MAX_ARGS + 1];
    int n_sbatch;
    int force, seeds, jobs, steps;
    size_t max_memory;  // bytes; 0 = the machine's available memory
    const char *bn_stats;  // eval: running | batch | algorithm2 | all
    int batches;           // eval, recalibrate: training batches for Algorithm 2 (0: all full batches, at most 1000)
} cli_t;

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "bnlab: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", USAGE);
    return 2;
}

// An option some command takes, but not this one: the line names both and where to see what it takes.
static int option_not_taken(const char *cmd, const char *a) {
    fprintf(stderr, "bnlab: error: %s does not take %s (its options: bnlab %s --help)\n", cmd, a, cmd);
    return 2;
}

static int parse_count(const char *opt, const char *v, int *out) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000) {
        fprintf(stderr, "bnlab: error: %s: expected a whole number 1..1000, got '%s'\n", opt, v);
        return 2;
    }
    *out = (int)n;
    return 0;
}

// "8G", "512M", "100000K" or plain bytes.
static int parse_bytes(const char *opt, const char *v, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : *end == 'T' ? 40 : 0;
    if (shift) end++;
    if (end == v || *end || errno || v[0] == '-' || n == 0 || n > (SIZE_MAX >> shift)) {
        fprintf(stderr, "bnlab: error: %s: expected a size like 8G, 512M or a number of bytes, got '%s'\n", opt, v);
        return 2;
    }
    *out = (size_t)n << shift;
    return 0;
}

static int parse_cli(cli_t *c, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strlen(a) > BNLAB_PATH_ARG_MAX) return usage_error("an argument is longer than 1024 bytes%s", "");
        int known = 0;
        const cli_option_t *opt = a[0] == '-' ? find_option(argv[1], a, &known) : NULL;
        if (a[0] == '-' && !opt) return known ? option_not_taken(argv[1], a) : usage_error("unknown option '%s'", a);
        if (opt && opt->value) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--landscape-steps") && strlen(v) > 40)  // kept below as "landscape-steps=%.40s"
                return usage_error("plot --landscape-steps takes 1 to 4 steps >= 0 separated by commas, not '%s'", v);
            if (strlen(v) > 40 && (!strcmp(a, "--only") || !strcmp(a, "--xrange") || !strcmp(a, "--yrange")))
                return usage_error("plot %s: expected at most 40 characters", a);
            if (!strcmp(a, "--out")) c->out = v;
            else if (!strcmp(a, "--init")) c->init = v;
            else if (!strcmp(a, "--label") && !strcmp(argv[1], "plot")) c->plot_labels[c->n_plot_labels++] = v;
            else if (!strcmp(a, "--label")) c->label = v;
            else if (!strcmp(a, "--resume")) c->resume = v;
            else if (!strcmp(a, "--emit")) c->emit = v;
            else if (!strcmp(a, "--sbatch")) {
                if (c->n_sbatch == MAX_ARGS) return usage_error("more than 64 --sbatch lines%s", "");
                c->sbatch[c->n_sbatch++] = v;
            }
            else if (!strcmp(a, "--max-memory")) { if (parse_bytes(a, v, &c->max_memory)) return 2; }
            else if (!strcmp(a, "--bn-stats")) c->bn_stats = v;
            else if (!strcmp(a, "--batches")) { if (parse_count(a, v, &c->batches)) return 2; }
            else if (!strcmp(a, "--seeds")) { if (parse_count(a, v, &c->seeds)) return 2; }
            else if (!strcmp(a, "--jobs")) { if (parse_count(a, v, &c->jobs)) return 2; }
            else if (!strcmp(a, "--steps")) { if (parse_count(a, v, &c->steps)) return 2; }
            else {
                if (c->n_sets == MAX_ARGS) return usage_error("more than 64 overrides%s", "");
                if (!strcmp(a, "--set")) c->sets[c->n_sets++] = v;
                else {
                    snprintf(c->owned[c->n_sets], sizeof c->owned[0], "%s=%.40s", a + 2, v);
                    c->sets[c->n_sets] = c->owned[c->n_sets];
                    c->n_sets++;
                }
            }
        } else if (opt) {  // the one flag
            c->force = 1;
        } else {
            if (c->n_pos == MAX_ARGS) return usage_error("too many arguments%s", "");
            c->pos[c->n_pos++] = a;
        }
    }
    return 0;
}

static int die(void) {
    fprintf(stderr, "bnlab: error: %s\n", bnlab_errmsg());
    return 1;
}

// An error found after parsing that names a config path ("log.percentiles...", "train.batch_size: ...") is the
// config's: the --set that gave the value, or the config file (run/config.h config_blame). Errors that name a data
// file already start with it.
static int die_config(const cli_t *c) {
    const char *m = bnlab_errmsg();
    static const char *const sections[] = {"data", "model", "train", "log"};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(sections[i]);
        if (!strncmp(m, sections[i], n) && (m[n] == '.' || m[n] == ':' || m[n] == '[')) {
            config_blame(c->pos[0], c->sets, c->n_sets);
            break;
        }
    }
    return die();
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

static int refuse_existing(const char *dir, int force) {
    if (force || !dir_nonempty(dir)) return 0;
    fprintf(stderr, "bnlab: error: %s already exists and is not empty; pass --force to overwrite it or --out DIR "
                    "to choose another\n", dir);
    return 1;
}

// Every command that writes a checkpoint, a run or comparison directory or a CSV asks first (run/rundir.h): never
// onto one of its inputs, never into a run's checkpoints/ or a live run. 1 (after one line) if refused.
static int refuse_output(const char *out, int is_dir, const char *const *inputs, int n_inputs) {
    return rundir_check_output(out, is_dir, inputs, n_inputs) != 0 ? die() : 0;
}

// The files a config reads (its data), into in[at..]; returns the new count.
static int config_inputs(const config_t *c, const char **in, int at) {
    if (c->data.format == DATA_IDX) {
        in[at++] = c->data.train_images, in[at++] = c->data.train_labels;
        in[at++] = c->data.test_images, in[at++] = c->data.test_labels;
    } else {
        in[at++] = c->data.train_csv, in[at++] = c->data.test_csv;
    }
    return at;
}

// A comparison's output directory: refused as refuse_output says, its inputs the spec (or config) files named on
// the command line and every variant's config.
static int refuse_comparison_output(const char *out, const cli_t *c, const compare_spec_t *s) {
    const char **in = xmalloc(sizeof *in * (size_t)(c->n_pos + s->n_variants), "input list");
    int n = 0;
    for (int i = 0; i < c->n_pos; i++) in[n++] = c->pos[i];
    for (int v = 0; v < s->n_variants; v++) in[n++] = s->variants[v].config;
    int rc = refuse_output(out, 1, in, n);
    free(in);
    return rc;
}

// 1 if the JSON file at path is a compare/sweep spec (it has "variants"), 0 if not or unreadable (the config parser
// then says why).
static int is_spec_file(const char *path) {
    char *text;
    size_t len;
    if (read_whole_file(path, CFG_MAX_BYTES, &text, &len) != 0) return 0;
    cJSON *j = jp_parse_all(text, len, NULL);
    free(text);
    int spec = cJSON_GetObjectItemCaseSensitive(j, "variants") != NULL;
    cJSON_Delete(j);
    return spec;
}

// check SPEC: a dry run of compare/sweep — every variant's config validated, the expanded runs printed, nothing run.
static int check_spec(const cli_t *c) {
    compare_spec_t *s = xmalloc(sizeof *s, "spec");
    spec_overrides_t cli = {.sets = c->sets, .n_sets = c->n_sets, .seeds = c->seeds, .jobs = c->jobs};
    if (compare_spec_load(s, c->pos, 1, &cli) != 0) {
        free(s);
        return die();
    }
    cJSON *j = compare_spec_to_json(s);
    char *text = cJSON_Print(j);
    puts(text);
    printf("%s: %d runs (%d variant%s x %d seed%s); nothing was run\n", c->pos[0], s->n_variants * s->n_seeds,
           s->n_variants, s->n_variants == 1 ? "" : "s", s->n_seeds, s->n_seeds == 1 ? "" : "s");
    free(text);
    cJSON_Delete(j);
    compare_spec_free(s);
    free(s);
    return 0;
}

static int cmd_check(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("check needs one CONFIG or SPEC file%s", "");
    if (is_spec_file(c->pos[0])) return check_spec(c);
    config_t cfg;
    if (config_load(&cfg, c->pos[0], c->sets, c->n_sets) != 0) return die();
    // Every check train makes before it writes anything: the data, the model against it, the memory, the logs'
    // references into the model.
    trainer_t t;
    if (trainer_setup(&t, &cfg) != 0) return die_config(c);
    trainer_free(&t);
    cJSON *j = config_to_json(&cfg);
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
    return 0;
}

static cJSON *environment_json(const config_t *c) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "bnlab_version", BNLAB_VERSION);
    cJSON_AddNumberToObject(e, "blas_threads", c->threads);
    cJSON_AddStringToObject(e, "openblas_config", openblas_get_config());
    cJSON_AddStringToObject(e, "openblas_core", openblas_get_corename());
    cJSON_AddBoolToObject(e, "flush_to_zero", c->train.flush_denormals);
    return e;
}

static void on_stop_signal(int sig) {
    (void)sig;
    train_stop_requested = 1;
}

// SIGINT/SIGTERM end the current step cleanly (checkpoint, logs); a second one kills at once (SA_RESETHAND).
static void install_stop_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

// A run's output errors are reported, not fatal: with SIGPIPE ignored a closed stdout (| head) is EPIPE, which ends
// the console lines and not the run; with SIGXFSZ ignored a file-size limit is EFBIG, a failed write that ends the run
// with a message and its last good checkpoint. (Ignored signals stay ignored in programs we exec: train runs none.)
static void ignore_output_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);
}

static int finish_training(trainer_t *t, const char *run_dir, int append) {
    int status = trainer_run(t, run_dir, append);
    trainer_free(t);
    if (status == TRAIN_ERROR) return die();
    return status;
}

// A new run directory: config.json and environment.json, written before any training.
static int start_run_dir(const char *run_dir, const config_t *cfg) {
    cJSON *resolved = config_to_json(cfg), *env = environment_json(cfg);
    int rc = make_dirs(run_dir) != 0 || write_json(run_dir, RUNDIR_CONFIG, resolved) != 0 ||
             write_json(run_dir, RUNDIR_ENVIRONMENT, env) != 0 || rundir_write_digest(run_dir, resolved) != 0;
    cJSON_Delete(resolved);
    cJSON_Delete(env);
    return rc ? -1 : 0;
}

// Continues a run from a checkpoint: in its own run directory (the checkpoint must be one of that run's: same
// config), or, with --out, in a new directory whose logs start at the checkpoint's step (a loose checkpoint file).
static int cmd_resume(const cli_t *c) {
    install_stop_handlers();  // from the start: a signal during setup stops the run after its first step
    ignore_output_signals();
    if (c->n_pos || c->n_sets || c->init)
        return usage_error("--resume takes no CONFIG, --set, --seed, --threads or --init: a run continues "
                           "with its own config%s", "");
    char file[BNLAB_PATH_MAX], run_dir[BNLAB_PATH_MAX];
    st_file_t f;
    config_t cfg;
    trainer_t t;
    if (checkpoint_find(c->resume, file, sizeof file, run_dir, sizeof run_dir) != 0 ||
        checkpoint_open(&f, file, &cfg, NULL, 0) != 0)
        return die();
    if (checkpoint_check_resumable(&f) != 0) {
        st_free(&f);
        return die();
    }
    if (c->out) {
        const char *in[8] = {file};
        if (refuse_output(c->out, 1, in, config_inputs(&cfg, in, 1)) || refuse_existing(c->out, c->force)) {
            st_free(&f);
            return 1;
        }
        snprintf(run_dir, sizeof run_dir, "%s", c->out);
    } else if (checkpoint_check_run(&f, file, run_dir) != 0) {
        st_free(&f);
        fprintf(stderr, "bnlab: error: %s; to continue from it in a new directory: bnlab train --resume %s --out DIR\n",
                bnlab_errmsg(), file);
        return 1;
    }
    if (trainer_setup(&t, &cfg) != 0) {
        st_free(&f);
        return die();
    }
    int rc = trainer_resume(&t, &f);
    st_free(&f);
    // The run directory is known to be this checkpoint's (or new), and the checkpoint resumes: one writer, held
    // until this process ends. Nothing before this point writes, so a refused resume leaves nothing (no .lock).
    if (rc != 0 || rundir_lock(run_dir) < 0) {
        trainer_free(&t);
        return die();
    }
    long s = t.prog.step;
    double secs = 0.0;
    // Drop what was logged after the checkpoint (the resumed run writes it again, identically), or start new logs.
    if ((c->out ? start_run_dir(run_dir, &cfg) : recorders_truncate(run_dir, s, &secs)) != 0) {
        trainer_free(&t);
        return die();
    }
    t.prog.seconds_before = secs;
    printf("bnlab: resuming %s%s%s%s at step %ld of %ld from %s%s%s\n", c->label ? c->label : cfg.name,
           c->label ? " (" : "", c->label ? cfg.name : "", c->label ? ")" : "", s, t.total_steps, file,
           c->out ? " into " : "", c->out ? run_dir : "");
    fflush(stdout);
    return finish_training(&t, run_dir, c->out ? 0 : 1);
}

static int cmd_train(const cli_t *c) {
    if (c->resume) return cmd_resume(c);
    install_stop_handlers();  // from the start: a signal during setup stops the run after its first step
    ignore_output_signals();
    if (c->n_pos != 1) return usage_error("train needs one CONFIG file%s", "");
    config_t cfg;
    if (config_load(&cfg, c->pos[0], c->sets, c->n_sets) != 0) return die();
    char run_dir[4096];
    if (c->out) snprintf(run_dir, sizeof run_dir, "%s", c->out);
    else snprintf(run_dir, sizeof run_dir, "%s/%s", cfg.log.dir, cfg.name);
    const char *in[8] = {c->pos[0], c->init};
    if (refuse_output(run_dir, 1, in, config_inputs(&cfg, in, 2)) || refuse_existing(run_dir, c->force)) return 1;
    // Everything that can fail on input is checked before the run directory is touched.
    trainer_t t;
    if (trainer_setup(&t, &cfg) != 0) return die_config(c);
    if (c->init) {  // weights and BN statistics from another run; the shapes must match this config's model
        st_file_t f;
        config_t other;
        int rc = checkpoint_open(&f, c->init, &other, NULL, 0);
        if (rc == 0) {
            rc = checkpoint_load_model(&t.model, &f);
            st_free(&f);
        }
        if (rc != 0) {
            trainer_free(&t);
            return die();
        }
    }
    // One writer per run directory, refused before it writes a byte; the lock is held until this process ends.
    // Then the emptiness test again: another writer may have filled the directory and ended while we set up.
    int locked = rundir_lock(run_dir) >= 0;
    if (!locked || refuse_existing(run_dir, c->force)) {
        trainer_free(&t);
        return locked ? 1 : die();
    }
    printf("bnlab: %s%s%s%s: %u training / %u test examples of %u features, %zu parameters, %ld steps of batch %d "
           "(%ld per epoch) -> %s\n",
           c->label ? c->label : cfg.name, c->label ? " (" : "", c->label ? cfg.name : "", c->label ? ")" : "", t.train.n, t.test.n, t.train.dim, t.model.n_params, t.total_steps, cfg.train.batch_size,
           t.steps_per_epoch, run_dir);
    fflush(stdout);
    if (start_run_dir(run_dir, &cfg) != 0) {
        trainer_free(&t);
        return die();
    }
    return finish_training(&t, run_dir, 0);
}

typedef struct {
    long *conf;  // (C, C) counts: rows the true class, columns the predicted one
    int C;
} confusion_t;

static void count_confusion(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start;
    confusion_t *cm = ctx;
    const float *z = m->layers[m->n_layers - 1].y;
    for (int i = 0; i < B; i++) cm->conf[(size_t)labels[i] * cm->C + argmax(z + (size_t)i * cm->C, cm->C)]++;
}

static void print_confusion(const confusion_t *cm) {
    printf("confusion matrix (rows: true class, columns: predicted)\n      ");
    for (int k = 0; k < cm->C; k++) printf(" %6d", k);
    printf("\n");
    for (int r = 0; r < cm->C; r++) {
        printf("%6d", r);
        for (int k = 0; k < cm->C; k++) printf(" %6ld", cm->conf[(size_t)r * cm->C + k]);
        printf("\n");
    }
}

// The test (or training) set a checkpoint's config names (after --set), as the run loaded it.
static int load_split(const config_t *c, dataset_t *ds, int train) {
    size_t limit = memory_budget();
    int rc = c->data.format == DATA_IDX
                 ? idx_load(ds, train ? c->data.train_images : c->data.test_images,
                            train ? c->data.train_labels : c->data.test_labels, c->data.classes, limit)
                 : csv_load(ds, train ? c->data.train_csv : c->data.test_csv, c->data.classes, 1, limit);
    if (rc == 0) dataset_truncate(ds, (uint32_t)(train ? c->data.train_limit : c->data.test_limit));
    return rc;
}
static int load_test_set(const config_t *c, dataset_t *ds) { return load_split(c, ds, 0); }

// The paper's Algorithm 2 on n's model: BN statistics averaged over training batches after training
// (run/recalibrate.h). *batches: requested (0: every full batch, at most 1000), then used.
static int recalibrate_model(infer_t *n, int *batches) {
    dataset_t train;
    if (load_split(&n->cfg, &train, 1) != 0) return -1;
    int m = n->cfg.train.batch_size, most = (int)(train.n / (uint32_t)m);
    if (*batches == 0) *batches = most < 1000 ? most : 1000;
    int rc = train.dim != (uint32_t)n->model.in_dim
                 ? bnlab_fail("%s: training examples have %u features, the model expects %d", n->file, train.dim,
                              n->model.in_dim)
                 : recalibrate_bn(&n->model, &n->pp, &train, *batches, m, n->cfg.seed, n->x, n->y);
    if (rc != 0 && !strncmp(bnlab_errmsg(), "Algorithm 2:", 12)) {  // say which checkpoint
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        bnlab_fail("%s: %s", n->file, msg);
    }
    dataset_free(&train);
    return rc;
}

// Loss and accuracy over the test set with BN's statistics taken as `mode` says.
static double eval_in_mode(infer_t *n, const dataset_t *ds, forward_mode_t mode, double *acc) {
    forward_pass_t p = infer_pass(n, NULL, NULL);
    p.mode = mode;
    long hits;
    double loss = forward_set(&n->model, &n->pp, ds, ds->n, &p, &hits);
    *acc = (double)hits / ds->n;
    return loss;
}

// The layers whose x̂ --bn-stats xhat shows: those normalizing by the batch's statistics (the registry's flag).
static int uses_batch_stats(const layer_t *l) { return layer_uses_batch_statistics(&l->spec); }

// eval --bn-stats xhat: BN's normalized values over the test set in batches of train.eval_batch_size, each batch
// normalized by its own statistics (run/xhatstats.h): one line per BN layer.
static int eval_xhat(infer_t *n, const dataset_t *ds) {
    int any = 0;
    for (int i = 0; i < n->model.n_layers; i++) any |= uses_batch_stats(&n->model.layers[i]);
    if (!any) {
        bnlab_fail("%s: the model has no batchnorm layer on the batch's statistics: --bn-stats xhat has nothing to show",
                   n->file);
        return die();
    }
    xhat_stats_t *s = xcalloc((size_t)n->model.n_layers, sizeof *s, "xhat statistics");
    for (int i = 0; i < n->model.n_layers; i++) xhat_stats_reset(&s[i]);
    forward_pass_t p = infer_pass(n, xhat_stats_batch, s);
    p.mode = MODE_EVAL_BATCH;
    long hits;
    forward_set(&n->model, &n->pp, ds, ds->n, &p, &hits);
    printf("BN's xhat = (x - mu_B) / sqrt(var_B + eps), test batches of %d, before gamma and beta:\n",
           n->cfg.train.eval_batch_size);
    printf("%5s %9s %10s %10s %10s %14s %16s\n", "layer", "values", "min |xhat|", "max |xhat|", "mean xhat^2",
           "|xhat| >= 0.999", "max |batch mean|");
    for (int i = 0; i < n->model.n_layers; i++)
        if (uses_batch_stats(&n->model.layers[i]))
            printf("%5d %9ld %10.6f %10.6f %10.6f %13.2f%% %16.2e\n", i, s[i].n, s[i].min_abs, s[i].max_abs,
                   s[i].sum_sq / s[i].n, 100.0 * s[i].near_one / s[i].n, s[i].max_abs_mean);
    free(s);
    return 0;
}

// eval --bn-stats: one line per way of taking BN's statistics in evaluation, so a class sees the train/eval gap.
// The table is printed once every row is known: a refusal (Algorithm 2 with nothing to average) is one line alone.
static int eval_bn_stats(infer_t *n, const dataset_t *ds, const char *which, int batches) {
    if (!strcmp(which, "xhat")) return eval_xhat(n, ds);
    int all = !strcmp(which, "all");
    if (!all && strcmp(which, "running") && strcmp(which, "batch") && strcmp(which, "algorithm2"))
        return usage_error("--bn-stats takes running, batch, algorithm2, all or xhat, got '%s'", which);
    char rows[3][160] = {"", "", ""}, what[96];
    double acc, loss;
    if (all || !strcmp(which, "running")) {
        loss = eval_in_mode(n, ds, MODE_EVAL, &acc);
        snprintf(rows[0], sizeof rows[0], "%-60s %10.6f %10.6f\n", "running: moving average during training (as torch)",
                 loss, acc);
    }
    if (all || !strcmp(which, "batch")) {
        snprintf(what, sizeof what, "batch: each test batch of %d its own statistics", n->cfg.train.eval_batch_size);
        loss = eval_in_mode(n, ds, MODE_EVAL_BATCH, &acc);
        snprintf(rows[1], sizeof rows[1], "%-60s %10.6f %10.6f\n", what, loss, acc);
    }
    if (all || !strcmp(which, "algorithm2")) {  // last: it replaces the running statistics
        if (recalibrate_model(n, &batches) != 0) return die();
        snprintf(what, sizeof what, "algorithm2: averaged over %d training batches of %d", batches,
                 n->cfg.train.batch_size);
        loss = eval_in_mode(n, ds, MODE_EVAL, &acc);
        snprintf(rows[2], sizeof rows[2], "%-60s %10.6f %10.6f\n", what, loss, acc);
    }
    printf("%-60s %10s %10s\n%s%s%s", "BN statistics in evaluation", "loss", "accuracy", rows[0], rows[1], rows[2]);
    return 0;
}

// bnlab recalibrate CKPT --out FILE: a checkpoint whose BN statistics are the paper's Algorithm 2 (for eval and
// predict; it has no trainer state, so it does not resume).
static int cmd_recalibrate(const cli_t *c) {
    if (c->n_pos != 1 || !c->out) return usage_error("recalibrate needs a CHECKPOINT (or run directory) and --out FILE%s", "");
    infer_t n;
    int batches = c->batches;
    if (infer_load(&n, c->pos[0], c->sets, c->n_sets) != 0) return die();
    const char *in[8] = {n.file, c->pos[0]};
    if (refuse_output(c->out, 0, in, config_inputs(&n.cfg, in, 2))) {
        infer_free(&n);
        return 1;
    }
    if (recalibrate_model(&n, &batches) != 0) {
        infer_free(&n);
        return die();
    }
    st_file_t f;  // the step, from the source checkpoint
    config_t cfg;
    long step = 0;
    if (checkpoint_open(&f, n.file, &cfg, NULL, 0) == 0) {
        const char *st = st_meta_get(&f, "step");
        step = st ? strtol(st, NULL, 10) : 0;
        st_free(&f);
    }
    ckpt_writer_t w;
    checkpoint_begin(&w, &n.model, NULL, &n.pp, &n.cfg, step);
    char how[128];
    snprintf(how, sizeof how, "algorithm2: %d training batches of %d", batches, n.cfg.train.batch_size);
    st_meta(&w.f, CKPT_META_BN_STATISTICS, how);
    int rc = checkpoint_write_file(&w, c->out);
    if (rc == 0) printf("bnlab: %s: BN statistics by Algorithm 2 (%d training batches of %d) -> %s\n", n.file, batches,
                        n.cfg.train.batch_size, c->out);
    infer_free(&n);
    return rc ? die() : 0;
}

// bnlab fold CKPT --out FILE: each BN folded into the dense layer before it (run/fold.h), with the running
// statistics or Algorithm 2's; a checkpoint of plain dense layers for eval, predict and torch's nn.Linear.
static int cmd_fold(const cli_t *c) {
    if (c->n_pos != 1 || !c->out) return usage_error("fold needs a CHECKPOINT (or run directory) and --out FILE%s", "");
    const char *which = c->bn_stats ? c->bn_stats : "running";
    if (strcmp(which, "running") && strcmp(which, "algorithm2"))
        return usage_error("fold --bn-stats takes running or algorithm2, got '%s'", which);
    infer_t n;
    int batches = c->batches, folded = 0;
    if (infer_load(&n, c->pos[0], c->sets, c->n_sets) != 0) return die();
    char how[128] = "running: moving average during training";
    if (!strcmp(which, "algorithm2")) {
        if (recalibrate_model(&n, &batches) != 0) {
            infer_free(&n);
            return die();
        }
        snprintf(how, sizeof how, "algorithm2: %d training batches of %d", batches, n.cfg.train.batch_size);
    }
    int rc = fold_checkpoint(&n, c->out, how, &folded);
    if (rc == 0) printf("bnlab: %s: %d BN layer%s folded (statistics %s) -> %s\n", n.file, folded, folded == 1 ? "" : "s",
                        how, c->out);
    infer_free(&n);
    return rc ? die() : 0;
}

static int cmd_eval(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("eval needs one CHECKPOINT file or run directory%s", "");
    infer_t n;
    dataset_t ds;
    if (infer_load(&n, c->pos[0], c->sets, c->n_sets) != 0) return die();
    if (load_test_set(&n.cfg, &ds) != 0) {
        infer_free(&n);
        return die();
    }
    if (ds.dim != (uint32_t)n.model.in_dim) {
        bnlab_fail("%s: test examples have %u features, the model expects %d", n.file, ds.dim, n.model.in_dim);
        dataset_free(&ds);
        infer_free(&n);
        return die();
    }
    if (c->bn_stats) {
        int rc = eval_bn_stats(&n, &ds, c->bn_stats, c->batches);
        dataset_free(&ds);
        infer_free(&n);
        return rc;
    }
    confusion_t cm = {xcalloc((size_t)n.model.classes * n.model.classes, sizeof(long), "confusion matrix"),
                      n.model.classes};
    forward_pass_t p = infer_pass(&n, count_confusion, &cm);
    long hits;
    double loss = forward_set(&n.model, &n.pp, &ds, ds.n, &p, &hits);
    if (!isfinite(loss)) {  // finite weights can still overflow: a run on its way to diverging
        fprintf(stderr, "bnlab: %s: the loss on %u test examples is %s: the model's outputs overflow (a run that was "
                        "diverging?)\n", n.file, ds.n, isnan(loss) ? "NaN" : "infinite");
        free(cm.conf);
        dataset_free(&ds);
        infer_free(&n);
        return 3;
    }
    printf("examples %u  loss %.6f  accuracy %.6f\n", ds.n, loss, (double)hits / ds.n);
    print_confusion(&cm);
    free(cm.conf);
    dataset_free(&ds);
    infer_free(&n);
    return 0;
}

typedef struct {
    char *csv;
    size_t n, cap;
    int C;
} predictions_t;

static void append_predictions(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)labels;
    predictions_t *p = ctx;
    for (int i = 0; i < B; i++) {
        const float *pr = m->probs + (size_t)i * p->C;
        p->n += (size_t)snprintf(p->csv + p->n, p->cap - p->n, "%u,%d", start + (uint32_t)i, argmax(pr, p->C));
        for (int k = 0; k < p->C; k++) p->n += (size_t)snprintf(p->csv + p->n, p->cap - p->n, ",%.6g", pr[k]);
        p->csv[p->n++] = '\n';
    }
}

static int cmd_predict(const cli_t *c) {
    if (c->n_pos != 2) return usage_error("predict needs a CHECKPOINT (or run directory) and an INPUT file%s", "");
    infer_t n;
    if (infer_load(&n, c->pos[0], c->sets, c->n_sets) != 0) return die();
    dataset_t in;
    const char *input = c->pos[1];
    const char *inputs[2] = {n.file, input};
    if (c->out && refuse_output(c->out, 0, inputs, 2)) {
        infer_free(&n);
        return 1;
    }
    size_t len = strlen(input);
    int is_csv = len > 4 && !strcasecmp(input + len - 4, ".csv");
    size_t limit = memory_budget() < DATA_DEFAULT_MAX_BYTES ? memory_budget() : DATA_DEFAULT_MAX_BYTES;
    if ((is_csv ? csv_load(&in, input, 0, 0, limit) : idx_load_images(&in, input, limit)) != 0) {
        infer_free(&n);
        return die();
    }
    if (in.dim != (uint32_t)n.model.in_dim) {
        bnlab_fail("%s: examples have %u features, the model expects %d", input, in.dim, n.model.in_dim);
        dataset_free(&in);
        infer_free(&n);
        return die();
    }
    int C = n.model.classes;
    predictions_t p = {.cap = 64 + (size_t)in.n * (size_t)(16 + 14 * C), .C = C};
    p.csv = xmalloc(p.cap, "predictions");
    p.n += (size_t)snprintf(p.csv + p.n, p.cap - p.n, "index,predicted");
    for (int k = 0; k < C; k++) p.n += (size_t)snprintf(p.csv + p.n, p.cap - p.n, ",p%d", k);
    p.csv[p.n++] = '\n';
    forward_pass_t fp = infer_pass(&n, append_predictions, &p);
    forward_set(&n.model, &n.pp, &in, in.n, &fp, NULL);
    int rc = 0;
    if (c->out) rc = write_file_atomic(c->out, p.csv, p.n);
    else if (fwrite(p.csv, 1, p.n, stdout) != p.n) rc = bnlab_fail("cannot write to standard output");
    free(p.csv);
    dataset_free(&in);
    infer_free(&n);
    return rc ? die() : 0;
}

// This program's path, for commands that run elsewhere (emitted job files): /proc/self/exe resolved, without the
// " (deleted)" Linux appends when the file was rebuilt since we started.
static void self_exe(char *exe, size_t cap, const char *argv0) {
    if (self_exe_path(exe, cap) < 0) snprintf(exe, cap, "%s", argv0);
}

// What compare and sweep spawn: "/proc/self/exe", which compare.c resolves at each spawn (the path while the file is
// unchanged, /proc/self/exe itself — the running inode — once it was replaced).
static void spawn_exe(char *exe, size_t cap, const char *argv0) {
    if (path_exists("/proc/self/exe")) snprintf(exe, cap, "/proc/self/exe");
    else self_exe(exe, cap, argv0);
}

// The exit status of compare or sweep from compare_run's, its message printed: 0, 1 (an error: a run failed),
// 4 (interrupted: how to resume).
static int comparison_status(int rc) {
    if (rc < 0) return die();
    fflush(stdout);  // the table first, the verdict last, also when both go to one file
    if (rc == COMPARE_INTERRUPTED) fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
    else if (rc != 0) fprintf(stderr, "bnlab: error: %s\n", bnlab_errmsg());
    return rc;
}

static int cmd_compare(const cli_t *c, const char *argv0) {
    if (c->n_pos < 1) return usage_error("compare needs a SPEC file or two or more CONFIG files%s", "");
    compare_spec_t s;
    spec_overrides_t cli = {.sets = c->sets, .n_sets = c->n_sets, .seeds = c->seeds, .jobs = c->jobs};
    if (compare_spec_load(&s, c->pos, c->n_pos, &cli) != 0) return die();
    char out[4096], exe[PATH_MAX];
    if (c->out) snprintf(out, sizeof out, "%s", c->out);
    else snprintf(out, sizeof out, "runs/%s", s.name);
    spawn_exe(exe, sizeof exe, argv0);
    if (refuse_comparison_output(out, c, &s) || refuse_existing(out, c->force)) {
        compare_spec_free(&s);
        return 1;
    }
    int rc = compare_run(&s, out, exe, &(jobs_options_t){.command = "compare"});
    compare_spec_free(&s);
    return comparison_status(rc);
}

// Does a filter word (KEY=VALUE: batch=60, bn=on|off, threads=1, input=dense|sparse) admit this case?
static int bench_admits(const char *const *words, int n, int batch, int bn, int threads, int sparse) {
    char b[16], t[16];
    snprintf(b, sizeof b, "batch=%d", batch), snprintf(t, sizeof t, "threads=%d", threads);
    const char *keys[4] = {b, bn ? "bn=on" : "bn=off", t, sparse ? "input=sparse" : "input=dense"};
    for (int i = 0; i < n; i++) {
        size_t klen = strcspn(words[i], "=");
        for (int k = 0; k < 4; k++)
            if (!strncmp(words[i], keys[k], klen + 1) && strcmp(words[i], keys[k])) return 0;
    }
    return 1;
}

// One line per case: batch, BN, threads, input, bnlab us/step and examples/s, the GEMM-only bound, their ratio.
// A positional word without '=' is the data directory (default: the shipped MNIST subset).
static int cmd_bench(const cli_t *c) {
    int steps = c->steps ? c->steps : 300;
    static const char *const known[4] = {"batch=", "bn=", "threads=", "input="};
    const char *data_dir = BNLAB_SOURCE_ROOT "/datasets/mnist-subset";
    for (int i = 0; i < c->n_pos; i++) {
        int ok = 0;
        if (!strchr(c->pos[i], '=')) {
            data_dir = c->pos[i];
            continue;
        }
        for (int k = 0; k < 4; k++) ok |= !strncmp(c->pos[i], known[k], strlen(known[k]));
        if (!ok) return usage_error("bench: unknown filter '%s' (expected batch=N, bn=on|off, threads=N, input=dense|sparse)", c->pos[i]);
    }
    // The kernels OpenBLAS chose decide the bound: say which, and whether the environment chose them.
    const char *pinned = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS kernels: %s (%s)\n", openblas_get_corename(),
           pinned ? "OPENBLAS_CORETYPE is set in the environment" : "chosen by OpenBLAS for this CPU");
    printf("%6s %4s %7s %6s %12s %12s %12s %8s %10s\n", "batch", "bn", "threads", "input", "us/step", "examples/s",
           "gemm us/step", "ratio", "peak RSS");
    const int batches[2] = {60, 256};
    int ran = 0;
    for (int bi = 0; bi < 2; bi++)
        for (int bn = 1; bn >= 0; bn--)
            for (int th = 1; th <= 2; th++)
                for (int sp = 0; sp <= 1; sp++) {
                    if (!bench_admits(c->pos, c->n_pos, batches[bi], bn, th, sp)) continue;  // ignores the data dir
                    bench_result_t r;
                    if (bench_case(&r, data_dir, batches[bi], bn, th, sp, steps, 5) != 0) return die();
                    printf("%6d %4s %7d %6s %12.1f %12.0f %12.1f %8.2f %7.1f MB\n", r.batch, r.bn ? "on" : "off",
                           r.threads, r.sparse ? "sparse" : "dense", r.us_step, r.examples_s, r.us_gemm,
                           r.us_gemm / r.us_step, r.peak_rss_kb / 1024.0);
                    fflush(stdout);
                    ran++;
                }
    if (!ran) return usage_error("bench: no case matches the filters%s", "");
    // Loading: the largest gzip'd IDX at hand (full Fashion-MNIST when installed) against zcat.
    const char *fashion = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    char subset[BNLAB_PATH_MAX];
    path_fmt(subset, sizeof subset, "%s/train-images-idx3-ubyte.gz", data_dir);
    const char *img = path_exists(fashion) ? fashion : subset;
    double ms, msz;
    if (bench_load(img, &ms, &msz) != 0) return die();
    printf("\nIDX load %s: bnlab %.1f ms, zcat %.1f ms (%.2fx)\n", img, ms, msz, ms / msz);
    return 0;
}

// bnlab sweep SPEC: a comparison with a grid, resumable (completed runs are skipped), or written out as job
// lists for GNU parallel / Slurm (--emit); bnlab sweep collect DIR: the table and plot over whatever finished.
static int cmd_sweep(const cli_t *c, const char *argv0) {
    if (c->n_pos == 2 && !strcmp(c->pos[0], "collect")) return sweep_collect(c->pos[1]) != 0 ? die() : 0;
    if (c->n_pos != 1) return usage_error("sweep needs a SPEC file (or: sweep collect DIR)%s", "");
    if (c->emit && strcmp(c->emit, "slurm") && strcmp(c->emit, "parallel"))
        return usage_error("--emit takes slurm or parallel, got '%s'", c->emit);
    compare_spec_t *s = xmalloc(sizeof *s, "sweep spec");
    spec_overrides_t cli = {.sets = c->sets, .n_sets = c->n_sets, .seeds = c->seeds, .jobs = c->jobs};
    if (compare_spec_load(s, c->pos, 1, &cli) != 0) {
        free(s);
        return die();
    }
    char out[BNLAB_PATH_MAX], exe[PATH_MAX];
    if (c->out) snprintf(out, sizeof out, "%s", c->out);
    else snprintf(out, sizeof out, "runs/%s", s->name);
    if (c->emit) self_exe(exe, sizeof exe, argv0);
    else spawn_exe(exe, sizeof exe, argv0);
    if (refuse_comparison_output(out, c, s)) {
        compare_spec_free(s);
        free(s);
        return 1;
    }
    // A sweep is resumable: runs that ended with the same config stay, interrupted ones continue, the rest rerun.
    int rc = c->emit ? jobs_emit(s, out, exe, !strcmp(c->emit, "slurm") ? EMIT_SLURM : EMIT_PARALLEL,
                                 (const char *const *)c->sbatch)
                     : compare_run(s, out, exe, &(jobs_options_t){.command = "sweep"});
    compare_spec_free(s);
    free(s);
    if (rc < 0) return die();
    if (c->emit) return 0;
    // The table over whatever ended, then the comparison's status and message (after it, where they are seen).
    // Not after a stop: the table waits for the runs' end (sweep collect makes it at any time).
    char msg[BNLAB_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
    if (rc != COMPARE_INTERRUPTED && sweep_collect(out) != 0) return die();
    bnlab_fail("%s", msg);
    return comparison_status(rc);
}

// --landscape-steps S1,S2,..: up to LSPLOT_MAX_STEPS probe steps (>= 0) for landscape_eta. 0, or -1 (usage error).
static int parse_landscape_steps(const char *v, plot_opts_t *o) {
    o->n_ls_steps = 0;
    for (const char *p = v;; p++) {
        char *end;
        long s = strtol(p, &end, 10);
        if (end == p || s < 0 || o->n_ls_steps == LSPLOT_MAX_STEPS || (*end != ',' && *end != '\0')) return -1;
        o->ls_steps[o->n_ls_steps++] = s;
        if (*end == '\0') return 0;
        p = end;
    }
}

// --seed K, --x and --landscape-steps arrive as "seed=K", "x=..." and "landscape-steps=..." in c->sets
// (parse_cli's generic options); nothing else may.
// LO:HI of --xrange/--yrange: two finite numbers, LO < HI. 0, or -1.
static int parse_range(const char *v, double r[2]) {
    char *end;
    r[0] = strtod(v, &end);
    if (end == v || *end != ':') return -1;
    const char *h = end + 1;
    r[1] = strtod(h, &end);
    return end != h && *end == '\0' && isfinite(r[0]) && isfinite(r[1]) && r[0] < r[1] ? 0 : -1;
}

static int cmd_plot(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("plot needs one run or comparison DIR%s", "");
    plot_opts_t o = {.seed = 0, .x = PLOT_X_AUTO, .labels = c->plot_labels, .n_labels = c->n_plot_labels,
                     .ov = {.scale = {-1, -1}}};
    for (int i = 0; i < c->n_sets; i++) {
        const char *s = c->sets[i];
        char *end;
        if (!strncmp(s, "seed=", 5) && (o.seed = strtol(s + 5, &end, 10)) > 0 && *end == '\0') continue;
        if (!strncmp(s, "landscape-steps=", 16)) {
            if (parse_landscape_steps(s + 16, &o) != 0)
                return usage_error("plot --landscape-steps takes 1 to 4 steps >= 0 separated by commas, not '%s'", s + 16);
        } else if (!strcmp(s, "x=steps") || !strcmp(s, "x=examples") || !strcmp(s, "x=epochs"))
            o.x = s[2] == 's' ? PLOT_X_STEPS : s[3] == 'x' ? PLOT_X_EXAMPLES : PLOT_X_EPOCHS;
        else if (!strncmp(s, "only=", 5)) o.only = s + 5;
        else if (!strncmp(s, "xrange=", 7) || !strncmp(s, "yrange=", 7)) {
            int k = s[0] == 'y';
            if (parse_range(s + 7, o.ov.range[k]) != 0)
                return usage_error(k ? "plot --yrange takes LO:HI, two numbers with LO < HI, e.g. 0.9:1, not '%s'"
                                     : "plot --xrange takes LO:HI, two numbers with LO < HI, e.g. 0:5000, not '%s'", s + 7);
            o.ov.has_range[k] = 1;
        } else if (!strncmp(s, "xscale=", 7) || !strncmp(s, "yscale=", 7)) {
            int k = s[0] == 'y';
            if (strcmp(s + 7, "linear") && strcmp(s + 7, "log"))
                return usage_error(k ? "plot --yscale takes linear or log, not '%s'" : "plot --xscale takes linear or log, not '%s'", s + 7);
            o.ov.scale[k] = !strcmp(s + 7, "log");
        } else return usage_error("plot: unexpected option '%s'", s);
    }
    int rc = plot_dir(c->pos[0], &o);
    if (rc < 0) return die();
    return rc;
}

// bnlab CMD --help: the usage lines of CMD, then the options.
static int command_help(const char *cmd) {
    char key[64];
    snprintf(key, sizeof key, "bnlab %s ", cmd);
    const char *line = USAGE, *options = strstr(USAGE, "\n\n");
    int found = 0;
    while (line && line < options) {
        const char *end = strchr(line, '\n');
        size_t n = (size_t)(end - line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), line);
        if (strstr(buf, key)) puts(buf), found = 1;
        line = end + 1;
    }
    if (!found) return usage_error("unknown command '%s'", cmd);
    printf("\noptions:\n");
    print_options(stdout, cmd);
    return 0;
}

static int cmd_report(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("report needs one run or comparison DIR%s", "");
    return report_dir(c->pos[0]) != 0 ? die() : 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        if (argc >= 2) printf("\noptions (the commands that take each):\n"), print_options(stdout, NULL);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("bnlab %s\n", BNLAB_VERSION);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return command_help(argv[1]);
    cli_t c;
    int rc = parse_cli(&c, argc, argv);
    if (rc) return rc;
    if (c.max_memory) memory_set_budget(c.max_memory);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(&c);
    if (!strcmp(cmd, "check")) return cmd_check(&c);
    if (!strcmp(cmd, "compare")) return cmd_compare(&c, argv[0]);
    if (!strcmp(cmd, "plot")) return cmd_plot(&c);
    if (!strcmp(cmd, "report")) return cmd_report(&c);
    if (!strcmp(cmd, "sweep")) return cmd_sweep(&c, argv[0]);
    if (!strcmp(cmd, "eval")) return cmd_eval(&c);
    if (!strcmp(cmd, "bench")) return cmd_bench(&c);
    if (!strcmp(cmd, "predict")) return cmd_predict(&c);
    if (!strcmp(cmd, "recalibrate")) return cmd_recalibrate(&c);
    if (!strcmp(cmd, "fold")) return cmd_fold(&c);
    return usage_error("unknown command '%s'", cmd);
}
