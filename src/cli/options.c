#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

const char *const USAGE =
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
    "       bnlab gradinit CONFIG [--batches N] [--seeds K] [--steps S] [--jacobian E] [--out DIR]   gradients (and Jacobians) at init vs Yang et al. 2019\n"
    "       bnlab bench [--steps N] [batch=N bn=on|off threads=N input=dense|sparse]   speed of both GEMM backends vs the GEMM-only bound and the FMA peak\n"
    "       bnlab bench update [--steps ROUNDS]   the update with the sums of log.update_ratios_every vs the update alone and a step\n"
    "\n"
    "bnlab CMD --help lists the options CMD takes.\n";

// Every option: the commands that take it (" cmd cmd "), its value (NULL: a flag) and its help for them. One option
// may have a row per meaning (--out is a directory for train, a file for predict). parse_cli refuses an option the
// command does not take, and `bnlab CMD --help` prints exactly the rows of CMD: one table for both.
typedef struct {
    const char *name, *commands, *value, *help;
} cli_option_t;

static const cli_option_t OPTIONS[] = {
    {"--set", " train check eval recalibrate fold predict compare sweep gradinit ", "PATH=VALUE",
     "override a config value, e.g. --set train.optimizer.lr=0.5 or\n"
     "--set 'model.layers[0].units=200' (VALUE is JSON, or a bare string; null removes the\n"
     "key, e.g. --set train.epochs=null --set train.steps=500)"},
    {"--seed", " train check ", "N", "same as --set seed=N"},
    {"--seed", " plot ", "K", "draw every figure from seed K alone (default: the median over seeds)"},
    {"--threads", " train check ", "N", "BLAS threads, same as --set threads=N (default 1)"},
    {"--out", " train compare sweep ", "DIR", "output directory (default: LOG_DIR/NAME, from the config or spec)"},
    {"--out", " recalibrate fold ", "FILE", "the checkpoint to write"},
    {"--out", " predict ", "FILE", "write the CSV there (default: standard output)"},
    {"--out", " gradinit ", "DIR", "also write the measurement as DIR/gradinit-NAME.csv (NAME: the config's name), a\n"
     "table pandas reads as it is; bnlab plot DIR and bnlab report DIR draw every such file"},
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
    {"--only", " plot ", "KIND,..", "only these figures (accuracy, loss, percentiles, layers, ...: a word that is no\n"
     "kind gets the list); the others already in DIR/plots are kept"},
    {"--xrange", " plot ", "LO:HI", "the x axis of every figure drawn (with --only: of those)"},
    {"--yrange", " plot ", "LO:HI", "the y axis of every figure drawn, e.g. --only accuracy --yrange 0.9:1"},
    {"--xscale", " plot ", "SCALE", "linear | log: the x axis of every figure drawn"},
    {"--yscale", " plot ", "SCALE", "linear | log: the y axis of every figure drawn"},
    {"--label", " plot ", "VARIANT=TEXT", "the legend text of VARIANT (repeatable), e.g. --label nobn=\"Without BN\""},
    {"--landscape-steps", " plot ", "S1,S2,..", "up to 4 probe steps for landscape_eta (default: near 1/10, 1/2, the end)"},
    {"--emit", " sweep ", "KIND", "parallel | slurm: write job files instead of running"},
    {"--sbatch", " sweep ", "LINE", "with --emit slurm: an #SBATCH line (repeatable)"},
    {"--steps", " bench ", "N", "steps per case (default 300)"},
    {"--batches", " gradinit ", "N", "training batches per initialization (default 20)"},
    {"--seeds", " gradinit ", "K", "initializations: seeds seed .. seed+K-1 (default 1)"},
    {"--steps", " gradinit ", "S", "measure again after S SGD steps (default: only at step 0)"},
    {"--jacobian", " gradinit ", "E", "also each hidden block's Jacobian spectrum; E (2..16) examples for the whole-batch one"},
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

void print_options(FILE *out, const char *cmd) {
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

int usage_error(const char *fmt, const char *arg) {
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

int parse_cli(cli_t *c, int argc, char **argv) {
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
            if (strlen(v) > 40 && (!strcmp(a, "--xrange") || !strcmp(a, "--yrange")))
                return usage_error("plot %s: expected at most 40 characters", a);
            if (strlen(v) > 200 && !strcmp(a, "--only")) return usage_error("plot %s: expected at most 200 characters", a);
            if (!strcmp(a, "--out")) c->out = v;
            else if (!strcmp(a, "--init")) c->init = v;
            else if (!strcmp(a, "--label") && !strcmp(argv[1], "plot")) {
                if (c->n_plot_labels == MAX_ARGS) return usage_error("more than 64 --label values%s", "");
                c->plot_labels[c->n_plot_labels++] = v;
            }
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
            else if (!strcmp(a, "--jacobian")) { if (parse_count(a, v, &c->jacobian)) return 2; }
            else {
                if (c->n_sets == MAX_ARGS) return usage_error("more than 64 overrides%s", "");
                if (!strcmp(a, "--set")) c->sets[c->n_sets++] = v;
                else {
                    snprintf(c->owned[c->n_sets], sizeof c->owned[0], "%s=%.200s", a + 2, v);
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

// bnlab CMD --help: the usage lines of CMD, then the options.
int command_help(const char *cmd) {
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

// --landscape-steps S1,S2,..: up to FIG_MAX_LS_STEPS probe steps (>= 0) for landscape_eta. 0, or -1 (usage error).
static int parse_landscape_steps(const char *v, plot_opts_t *o) {
    o->n_ls_steps = 0;
    for (const char *p = v;; p++) {
        char *end;
        long s = strtol(p, &end, 10);
        if (end == p || s < 0 || o->n_ls_steps == FIG_MAX_LS_STEPS || (*end != ',' && *end != '\0')) return -1;
        o->ls_steps[o->n_ls_steps++] = s;
        if (*end == '\0') return 0;
        p = end;
    }
}

// LO:HI of --xrange/--yrange: two finite numbers, LO < HI. 0, or -1.
static int parse_range(const char *v, double r[2]) {
    char *end;
    r[0] = strtod(v, &end);
    if (end == v || *end != ':') return -1;
    const char *h = end + 1;
    r[1] = strtod(h, &end);
    return end != h && *end == '\0' && isfinite(r[0]) && isfinite(r[1]) && r[0] < r[1] ? 0 : -1;
}

// --seed K, --x, --only, --xrange, --yrange, --xscale, --yscale and --landscape-steps arrive as "seed=K", "x=...",
// ... in c->sets (parse_cli's generic options); nothing else may.
int parse_plot_options(plot_opts_t *o, const cli_t *c) {
    *o = (plot_opts_t){.seed = 0, .x = PLOT_X_AUTO, .labels = c->plot_labels, .n_labels = c->n_plot_labels,
                       .ov = {.scale = {-1, -1}}};
    for (int i = 0; i < c->n_sets; i++) {
        const char *s = c->sets[i];
        char *end;
        if (!strncmp(s, "seed=", 5) && (o->seed = strtol(s + 5, &end, 10)) > 0 && *end == '\0') continue;
        if (!strncmp(s, "landscape-steps=", 16)) {
            if (parse_landscape_steps(s + 16, o) != 0)
                return usage_error("plot --landscape-steps takes 1 to 4 steps >= 0 separated by commas, not '%s'", s + 16);
        } else if (!strcmp(s, "x=steps") || !strcmp(s, "x=examples") || !strcmp(s, "x=epochs"))
            o->x = s[2] == 's' ? PLOT_X_STEPS : s[3] == 'x' ? PLOT_X_EXAMPLES : PLOT_X_EPOCHS;
        else if (!strncmp(s, "only=", 5)) o->only = s + 5;
        else if (!strncmp(s, "xrange=", 7) || !strncmp(s, "yrange=", 7)) {
            int k = s[0] == 'y';
            if (parse_range(s + 7, o->ov.range[k]) != 0)
                return usage_error(k ? "plot --yrange takes LO:HI, two numbers with LO < HI, e.g. 0.9:1, not '%s'"
                                     : "plot --xrange takes LO:HI, two numbers with LO < HI, e.g. 0:5000, not '%s'", s + 7);
            o->ov.has_range[k] = 1;
        } else if (!strncmp(s, "xscale=", 7) || !strncmp(s, "yscale=", 7)) {
            int k = s[0] == 'y';
            if (strcmp(s + 7, "linear") && strcmp(s + 7, "log"))
                return usage_error(k ? "plot --yscale takes linear or log, not '%s'" : "plot --xscale takes linear or log, not '%s'", s + 7);
            o->ov.scale[k] = !strcmp(s + 7, "log");
        } else return usage_error("plot: unexpected option '%s'", s);
    }
    return 0;
}
