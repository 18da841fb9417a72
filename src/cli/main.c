// bnlab — command line: one function per command, each parsing nothing more than cli/options.c did, calling the
// library (run/, lab/) and printing what it returns. The options, usage text and parser: cli/options.h.
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/bench.h"
#include "cli/options.h"
#include "io/jsonfile.h"
#include "lab/compare.h"
#include "lab/plot.h"
#include "lab/report.h"
#include "lab/sweep.h"
#include "run/config.h"
#include "run/evaluate.h"
#include "run/fold.h"
#include "run/gradinit.h"
#include "run/launch.h"
#include "run/rundir.h"
#include "run/runfiles.h"
#include "view/variant.h"

static int die(void) {
    fprintf(stderr, "bnlab: error: %s\n", bnlab_errmsg());
    return 1;
}

// An error found after parsing that names a config path ("log.percentiles...", "train.batch_size: ...") is the
// config's: the --set that gave the value, or the config file (run/config.h config_blame). Errors that name a data
// file already start with it.
static int die_config(const cli_t *c) {
    config_blame_setup(c->pos[0], c->sets, c->n_sets);
    return die();
}

// Every command that writes a checkpoint, a run or comparison directory or a CSV asks first (run/runfiles.h): never
// onto one of its inputs, never into a run's checkpoints/ or a live run. 1 (after one line) if refused.
static int refuse_output(const char *out, int is_dir, const char *const *inputs, int n_inputs) {
    return runfiles_check_output(out, is_dir, inputs, n_inputs) != 0 ? die() : 0;
}

// A comparison's output directory: refused as refuse_output says, its inputs the spec (or config) files named on
// the command line and every variant's config.
static int refuse_comparison_output(const char *out, const cli_t *c, const compare_spec_t *s) {
    const char **in;
    int rc = refuse_output(out, 1, in, compare_spec_inputs(s, c->pos, c->n_pos, &in));
    free(in);
    return rc;
}

static void print_json(cJSON *j) {
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
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
    if (spec_file_is_spec(c->pos[0])) return check_spec(c);
    config_t cfg;
    if (config_load(&cfg, c->pos[0], c->sets, c->n_sets) != 0) return die();
    // Every check train makes before it writes anything: the data, the model against it, the memory, the logs'
    // references into the model.
    trainer_t t;
    if (trainer_setup(&t, &cfg) != 0) return die_config(c);
    trainer_free(&t);
    print_json(config_to_json(&cfg));
    return 0;
}

static int finish_training(trainer_t *t, const char *run_dir, int append) {
    int status = trainer_run(t, run_dir, append);
    trainer_free(t);
    if (status == TRAIN_ERROR) return die();
    return status;
}

// "NAME" or "LABEL (NAME)": the run in its console lines.
static void run_title(char *out, size_t cap, const cli_t *c, const config_t *cfg) {
    if (c->label) snprintf(out, cap, "%s (%s)", c->label, cfg->name);
    else snprintf(out, cap, "%s", cfg->name);
}

// Continues a run from a checkpoint (run/launch.h): in its own run directory, or with --out in a new one.
static int cmd_resume(const cli_t *c) {
    launch_signals();  // from the start: a signal during setup stops the run after its first step
    if (c->n_pos || c->n_sets || c->init)
        return usage_error("--resume takes no CONFIG, --set, --seed, --threads or --init: a run continues "
                           "with its own config%s", "");
    char file[BNLAB_PATH_MAX], run_dir[BNLAB_PATH_MAX], title[BNLAB_PATH_MAX + CFG_STR];
    config_t cfg;
    trainer_t t;
    int rc = launch_resume(&t, &cfg, file, sizeof file, run_dir, sizeof run_dir, c->resume, c->out, c->force);
    if (rc == LAUNCH_OTHER_RUN) {
        fprintf(stderr, "bnlab: error: %s; to continue from it in a new directory: bnlab train --resume %s --out DIR\n",
                bnlab_errmsg(), file);
        return 1;
    }
    if (rc != 0) return die();
    run_title(title, sizeof title, c, &cfg);
    printf("bnlab: resuming %s at step %ld of %ld from %s%s%s\n", title, t.prog.step, t.total_steps, file,
           c->out ? " into " : "", c->out ? run_dir : "");
    fflush(stdout);
    return finish_training(&t, run_dir, c->out ? 0 : 1);
}

static int cmd_train(const cli_t *c) {
    if (c->resume) return cmd_resume(c);
    launch_signals();  // from the start: a signal during setup stops the run after its first step
    if (c->n_pos != 1) return usage_error("train needs one CONFIG file%s", "");
    config_t cfg;
    if (config_load(&cfg, c->pos[0], c->sets, c->n_sets) != 0) return die();
    char run_dir[4096], title[BNLAB_PATH_MAX + CFG_STR];
    if (c->out) snprintf(run_dir, sizeof run_dir, "%s", c->out);
    else snprintf(run_dir, sizeof run_dir, "%s/%s", cfg.log.dir, cfg.name);
    trainer_t t;
    int rc = launch_new(&t, &cfg, &(launch_new_t){.config = c->pos[0], .init = c->init, .run_dir = run_dir,
                                                   .force = c->force});
    if (rc != 0) return rc == LAUNCH_SETUP_ERROR ? die_config(c) : die();
    run_title(title, sizeof title, c, &cfg);
    printf("bnlab: %s: %u training / %u test examples of %u features, %zu parameters, %ld steps of batch %d "
           "(%ld per epoch) -> %s\n", title, t.train.n, t.test.n, t.train.dim, t.model.n_params, t.total_steps,
           cfg.train.batch_size, t.steps_per_epoch, run_dir);
    fflush(stdout);
    if (launch_start_dir(run_dir, &cfg) != 0) {
        trainer_free(&t);
        return die();
    }
    return finish_training(&t, run_dir, 0);
}

static void print_confusion(const evaluation_t *e) {
    printf("confusion matrix (rows: true class, columns: predicted)\n      ");
    for (int k = 0; k < e->C; k++) printf(" %6d", k);
    printf("\n");
    for (int r = 0; r < e->C; r++) {
        printf("%6d", r);
        for (int k = 0; k < e->C; k++) printf(" %6ld", e->conf[(size_t)r * e->C + k]);
        printf("\n");
    }
}

// eval --bn-stats xhat: one line per layer on the batch's statistics (run/evaluate.h evaluate_xhat).
static int print_xhat(infer_t *n, const dataset_t *ds) {
    xhat_stats_t *s;
    if (evaluate_xhat(&s, n, ds) != 0) return die();
    printf("BN's xhat = (x - mu_B) / sqrt(var_B + eps), test batches of %d, before gamma and beta:\n",
           n->cfg.train.eval_batch_size);
    printf("%5s %9s %10s %10s %10s %14s %16s\n", "layer", "values", "min |xhat|", "max |xhat|", "mean xhat^2",
           "|xhat| >= 0.999", "max |batch mean|");
    for (int i = 0; i < n->model.n_layers; i++)
        if (evaluate_shows_xhat(&n->model.layers[i]))
            printf("%5d %9ld %10.6f %10.6f %10.6f %13.2f%% %16.2e\n", i, s[i].n, s[i].min_abs, s[i].max_abs,
                   s[i].sum_sq / s[i].n, 100.0 * s[i].near_one / s[i].n, s[i].max_abs_mean);
    free(s);
    return 0;
}

// eval --bn-stats: one line per way of taking BN's statistics in evaluation, so a class sees the train/eval gap.
// The table is printed once every row is known: a refusal (Algorithm 2 with nothing to average) is one line alone.
static int print_bn_stats(infer_t *n, const dataset_t *ds, const char *which, int batches) {
    if (!strcmp(which, "xhat")) return print_xhat(n, ds);
    int mask = !strcmp(which, "all") ? EVAL_BN_RUNNING | EVAL_BN_BATCH | EVAL_BN_ALGORITHM2
               : !strcmp(which, "running") ? EVAL_BN_RUNNING
               : !strcmp(which, "batch") ? EVAL_BN_BATCH
               : !strcmp(which, "algorithm2") ? EVAL_BN_ALGORITHM2 : 0;
    if (!mask) return usage_error("--bn-stats takes running, batch, algorithm2, all or xhat, got '%s'", which);
    bn_stats_row_t rows[3];
    if (evaluate_bn_stats(rows, n, ds, mask, batches) != 0) return die();
    printf("%-60s %10s %10s\n", "BN statistics in evaluation", "loss", "accuracy");
    for (int r = 0; r < 3; r++)
        if (rows[r].present) printf("%-60s %10.6f %10.6f\n", rows[r].what, rows[r].loss, rows[r].acc);
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
    if (refuse_output(c->out, 0, in, config_data_files(&n.cfg, in, 2))) {
        infer_free(&n);
        return 1;
    }
    int rc = evaluate_recalibrate(&n, &batches) != 0 || evaluate_write_recalibrated(&n, batches, c->out) != 0;
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
        if (evaluate_recalibrate(&n, &batches) != 0) {
            infer_free(&n);
            return die();
        }
        evaluate_algorithm2_text(how, sizeof how, &n, batches);
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
    if (evaluate_load_test(&n, &ds) != 0) {
        infer_free(&n);
        return die();
    }
    int rc = 0;
    if (c->bn_stats) rc = print_bn_stats(&n, &ds, c->bn_stats, c->batches);
    else {
        evaluation_t e;
        evaluate_set(&e, &n, &ds);
        if (!isfinite(e.loss)) {  // finite weights can still overflow: a run on its way to diverging
            fprintf(stderr, "bnlab: %s: the loss on %u test examples is %s: the model's outputs overflow (a run that "
                            "was diverging?)\n", n.file, ds.n, isnan(e.loss) ? "NaN" : "infinite");
            rc = 3;
        } else {
            printf("examples %u  loss %.6f  accuracy %.6f\n", e.n, e.loss, (double)e.hits / e.n);
            print_confusion(&e);
        }
        evaluation_free(&e);
    }
    dataset_free(&ds);
    infer_free(&n);
    return rc;
}

static int cmd_predict(const cli_t *c) {
    if (c->n_pos != 2) return usage_error("predict needs a CHECKPOINT (or run directory) and an INPUT file%s", "");
    infer_t n;
    if (infer_load(&n, c->pos[0], c->sets, c->n_sets) != 0) return die();
    const char *inputs[2] = {n.file, c->pos[1]};
    if (c->out && refuse_output(c->out, 0, inputs, 2)) {
        infer_free(&n);
        return 1;
    }
    char *csv;
    size_t len;
    int rc = evaluate_predict(&csv, &len, &n, c->pos[1]);
    infer_free(&n);
    if (rc != 0) return die();
    if (c->out) rc = write_file_atomic(c->out, csv, len);
    else if (fwrite(csv, 1, len, stdout) != len) rc = bnlab_fail("cannot write to standard output");
    free(csv);
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
    if (refuse_comparison_output(out, c, &s) || (rundir_check_empty(out, c->force) && die())) {
        compare_spec_free(&s);
        return 1;
    }
    int rc = compare_run(&s, out, exe, &(jobs_options_t){.command = "compare"});
    compare_spec_free(&s);
    return comparison_status(rc);
}

static int cmd_bench(const cli_t *c) {
    int rc = bench_command(c->pos, c->n_pos, c->steps ? c->steps : 300);
    return rc < 0 ? die() : rc;
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

static int cmd_plot(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("plot needs one run or comparison DIR%s", "");
    plot_opts_t o;
    if (parse_plot_options(&o, c) != 0) return 2;
    int rc = plot_dir(c->pos[0], &o);
    if (rc < 0) return die();
    return rc;
}

// bnlab gradinit CONFIG [--out DIR]: the report on stdout; with --out, the measurement also as DIR/gradinit-NAME.csv
// (run/gradinit.h), refused as refuse_output says before anything is measured, with the network's class from the
// one classifier of view/variant.h (the figure's colours).
static int cmd_gradinit(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("gradinit needs one CONFIG%s", "");
    config_t cfg;
    if (config_load(&cfg, c->pos[0], c->sets, c->n_sets) != 0) return die();
    gradinit_opts_t o = {.batches = c->batches ? c->batches : 20, .inits = c->seeds ? c->seeds : 1, .steps = c->steps,
                         .jacobian = c->jacobian};
    char csv[BNLAB_PATH_MAX];
    if (c->out) {
        path_fmt(csv, sizeof csv, "%s/" GRADINIT_FILE_PREFIX "%s" GRADINIT_FILE_SUFFIX, c->out, cfg.name);
        const char *in[8] = {c->pos[0]};
        if (refuse_output(csv, 0, in, config_data_files(&cfg, in, 1))) return 1;
        if (make_dirs(c->out) != 0) return die();
        cJSON *j = config_to_json(&cfg);
        view_class_t cls = view_classify(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "model"), "layers"));
        cJSON_Delete(j);
        o.csv = csv, o.norm = view_class_info(cls)->key, o.bn = view_class_batch_stats(cls);
    }
    if (gradinit_run(&cfg, &o, stdout) != 0) return die_config(c);
    if (c->out) printf("gradinit: %s\n", csv);
    return 0;
}

static int cmd_report(const cli_t *c) {
    if (c->n_pos != 1) return usage_error("report needs one run or comparison DIR%s", "");
    return report_dir(c->pos[0]) != 0 ? die() : 0;
}

int main(int argc, char **argv) {
    // stdout's buffer now, before any output, not at its first write (glibc allocates it then): a run's first console
    // line can come from inside the step loop (a resumed run prints no step-0 line), and a step allocates nothing.
    // Line-buffered on a terminal and fully buffered otherwise, as glibc would choose.
    static char stdout_buf[BUFSIZ];
    setvbuf(stdout, stdout_buf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof stdout_buf);
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
    if (!strcmp(cmd, "gradinit")) return cmd_gradinit(&c);
    if (!strcmp(cmd, "fold")) return cmd_fold(&c);
    return usage_error("unknown command '%s'", cmd);
}
