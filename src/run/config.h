// config.h — the experiment config: one strict JSON file -> config_t, and back to a resolved JSON.
//
// Relative data paths are taken from the config file's directory (so configs/ works from any working
// directory) and resolved to absolute paths; the run directory is relative to the working directory.
#ifndef BNLAB_CONFIG_H
#define BNLAB_CONFIG_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "base/keys.h"
#include "io/data.h"
#include "nn/model.h"
#include "nn/optim.h"

#define CFG_STR 1024
#define CFG_MAX_LAYERS 512  // after repeat blocks are expanded: a 64-block dense-BN-ReLU-dropout net fits
#define CFG_MAX_BYTES (1u << 20)  // a config is a few KB; refuse megabytes before parsing
#define CFG_MAX_DEPTH 16

// log.percentiles (run/percentiles.h says what is measured).
#define PCT_MAX_Q 9
#define PCT_MAX_UNITS 16

typedef struct {
    int hidden;  // 1-based nonlinearity index, -1 = last
    int unit;
} pct_unit_t;

typedef enum { PCT_SOURCE_PROBE, PCT_SOURCE_BATCH } pct_source_t;

typedef struct {
    long every;  // steps; 0 = off
    pct_source_t source;
    double q[PCT_MAX_Q];
    int n_q;
    pct_unit_t units[PCT_MAX_UNITS];
    int n_units;
} pct_spec_t;

// log.landscape (run/landscape.h says what is measured).
#define LS_MAX_POINTS 64
#define LS_MAX_LAYERS 64

typedef enum { LS_LINEAR, LS_LOG } ls_spacing_t;

typedef struct {
    long every;               // steps between probes; 0 = off
    double lo, hi;            // lr_factors: η from lo·lr to hi·lr (0 <= lo <= hi; lo > 0 for log spacing)
    int points;               // step sizes per probe, 1 .. LS_MAX_POINTS
    ls_spacing_t spacing;
    int n_layers;             // params: 0 = "all" parameters (BN's γ, β included); else these model.layers
    int layers[LS_MAX_LAYERS];  // indices, each a dense layer (its W and b)
} ls_spec_t;

// A recorder's own log.* keys (run/recorder.h recorder_t.keys: log.unit_updates_every, log.curvature_every ...) are
// stored in its slot of config_t.log.recorders, slot i for row i of the table of recorders, laid out as the row's
// settings struct; the config parses, defaults and writes them through the rows (recorders_keys below) and knows
// nothing else about them.
#define CFG_RECORDERS 24
#define CFG_RECORDER_BYTES 32
typedef union {
    long l;
    double d;
    unsigned char bytes[CFG_RECORDER_BYTES];
} cfg_recorder_t;

typedef enum { DATA_IDX, DATA_CSV } data_format_t;
typedef enum { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER } progress_t;

typedef struct {
    char name[128];
    uint64_t seed;
    int threads;
    struct {
        data_format_t format;
        char train_images[CFG_STR], train_labels[CFG_STR], test_images[CFG_STR], test_labels[CFG_STR];
        char train_csv[CFG_STR], test_csv[CFG_STR];
        int classes;
        double scale;  // < 0 until resolved: 1/255 for IDX, 1 for CSV
        int binarize;
        double threshold;
        int standardize;
        long train_limit, test_limit;  // 0 = all
    } data;
    struct {
        layer_spec_t layers[CFG_MAX_LAYERS];
        int n_layers;
        init_spec_t init;  // default for dense layers without their own
        int lsuv;          // 1: then scale each dense layer to unit output variance on a training batch (model.h)
    } model;
    struct {
        int batch_size;
        long steps, epochs;  // exactly one is > 0
        optim_spec_t optim;
        long eval_every;     // steps; 0 = only at epoch ends
        int eval_batch_size;
        int flush_denormals;
        int gemm;            // gemm_backend_t (nn/gemm.h): GEMM_AUTO unless the config forces a backend
        struct {
            long every;  // steps between checkpoints; 0 = none during the run
            int keep;    // newest checkpoints kept on disk
            int final;   // one at the end of the run
        } checkpoint;
    } train;
    struct {
        char dir[CFG_STR];
        int probe_size;
        int stats;
        progress_t progress;
        pct_spec_t percentiles;
        long ics_every;  // steps between ICS measurements (ics.h); 0 = off
        int param_stats;  // param_stats.csv (run/paramlog.h)
        long gradients_every;      // gradients.csv every this many steps (run/gradlog.h); 0 = off
        long jacobian_every;       // jacobian.csv every this many steps (run/jaclog.h); 0 = off
        int tensorboard;  // RUN/tb/ event file (run/tblog.h)
        int eval_batch_stats;  // each evaluation also measures the test set with each batch's own BN statistics
        ls_spec_t landscape;  // loss-landscape probes (landscape.h); every 0 = off
        struct {
            long every;     // steps between histograms (run/histlog.h); 0 = off
            int bins;
            int adaptive;   // 1: "range": "adaptive" (each layer's edges from its first histogram), else [lo, hi]
            double lo, hi;
        } histograms;
        cfg_recorder_t recorders[CFG_RECORDERS];  // row i of the table of recorders: its own keys (above)
    } log;
} config_t;

// Parses and validates a config file, then applies overrides "path=value" (value: JSON, or a bare string).
// Errors: "FILE: PATH: expected ..., got ..." via bnlab_errmsg().
int config_load(config_t *cfg, const char *path, const char *const *overrides, int n_overrides);
// The current error (bnlab_errmsg(), a message about a config path, "log.percentiles.units[0].hidden: ...") blamed
// on whoever gave that value: "--set PATH (over FILE): ..." when one of the overrides set it (or a part of it),
// else "FILE: ...". For checks made after parsing (against the model or the data). Returns -1.
int config_blame(const char *file, const char *const *overrides, int n_overrides);
// After a setup that failed (trainer_setup: checks against the data and the model): a message about a config path
// ("train.batch_size: ...", "model.layers[2]...") is blamed as config_blame does; any other (a data file's, which
// starts with the file) is left as it is. Returns -1. `bnlab train` and the web page give the same line this way.
int config_blame_setup(const char *file, const char *const *overrides, int n_overrides);
// Same from a string; base_dir resolves relative data paths (NULL: keep them as they are, unchecked); file names
// the source in messages.
int config_parse(config_t *cfg, const char *text, size_t len, const char *file, const char *base_dir,
                 const char *const *overrides, int n_overrides);
// A config stored in a checkpoint: overrides first, then parsing; data paths are hints, checked when a file is read.
int config_parse_stored(config_t *cfg, const char *text, size_t len, const char *file, const char *const *overrides,
                        int n_overrides);
// The table of every config key (base/keys.h), for tests and documentation; layer keys are in the registry rows.
const key_desc_t *config_keys(void);
// The preprocessing the config asks for (no standardization statistics yet: fitted or loaded by the caller).
preprocess_t config_preprocess(const config_t *c);
// The fully resolved config (every default filled in) as JSON; re-parsing it gives the same config_t.
cJSON *config_to_json(const config_t *cfg);
// The files cfg reads (its data: four IDX files or two CSV files) into in[at..]; returns the new count. The inputs
// an output must never be (run/runfiles.h runfiles_check_output).
int config_data_files(const config_t *c, const char **in, int at);

// Row i of the table of recorders' own log.* keys (fields relative to its slot log.recorders[i]); an empty table for
// a row without keys, NULL past the last row. Defined by the table (run/recorders.c): the config's parser reads the rows' keys
// as data through this one call — the table sits above the config in run/ (a recorder reads config_t), so it is a
// call up at link time, never an include (tests/test_layering.sh).
const key_desc_t *recorders_keys(int i);

// The key table (base/keys.h) for the other JSON objects bnlab reads (a comparison spec, its variants): the defaults
// of keys, then a strict parse of object o at JSON path `path` — unknown keys, missing required keys, keys that do
// not apply and values of the wrong type or range are one line naming their path, what was expected and what was
// found, exactly as in a config. KEY_PATH values are kept as written (the caller resolves them). -1 + message.
void keys_parse_defaults(const key_desc_t *keys, void *obj);
int keys_parse_object(const cJSON *o, const char *path, const key_desc_t *keys, void *obj);

#endif
