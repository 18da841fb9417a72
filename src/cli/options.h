// options.h — bnlab's command line: the usage text, the table of options (which commands take each, its value, its
// help), and the one parser every command shares. `bnlab CMD --help` prints exactly the rows CMD takes.
#ifndef BNLAB_CLI_OPTIONS_H
#define BNLAB_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "lab/plot.h"

#define MAX_ARGS 64

extern const char *const USAGE;

typedef struct {
    const char *pos[MAX_ARGS];
    int n_pos;
    const char *sets[MAX_ARGS];
    char owned[MAX_ARGS][256];
    int n_sets;
    const char *out, *init, *resume, *emit, *label;
    const char *plot_labels[MAX_ARGS];  // plot --label VARIANT=TEXT
    int n_plot_labels;
    const char *sbatch[MAX_ARGS + 1];
    int n_sbatch;
    int force, seeds, jobs, steps, jacobian;
    size_t max_memory;  // bytes; 0 = the machine's available memory
    const char *bn_stats;  // eval: running | batch | algorithm2 | all
    int batches;           // eval, recalibrate: training batches for Algorithm 2 (0: all full batches, at most 1000)
} cli_t;

// argv[1] is the command; fills c from argv[2..]. 0, or 2 after a usage error was printed.
int parse_cli(cli_t *c, int argc, char **argv);
// "bnlab: error: " fmt (with arg), then the usage text, on stderr; returns 2.
int usage_error(const char *fmt, const char *arg);
// The options of cmd (all of them, each with the commands that take it, for NULL).
void print_options(FILE *out, const char *cmd);
// bnlab CMD --help: the usage lines of CMD, then its options. 0, or 2 for an unknown command.
int command_help(const char *cmd);
// bnlab plot's options (c->sets: "seed=K", "x=...", "only=...", ranges, scales, "landscape-steps=...") into *o. 0,
// or 2 after a usage error was printed.
int parse_plot_options(plot_opts_t *o, const cli_t *c);

#endif
