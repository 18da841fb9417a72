// web.h — bnlab's engine for a web page: the C API the WebAssembly build (scripts/web.sh -> build-web/site/bnlab.js +
// bnlab.wasm) exports to JavaScript. The same sources as the native `bnlab` (config, trainer, recorders, checkpoint,
// report), a layer on top like cli/: nothing below includes it.
//
// No file system on the student's side: configs and data arrive in memory. Inside the module the run directory is
// Emscripten's in-memory file system (MEMFS, "/runs/NAME"), so the recorders write exactly the files and bytes the
// native run writes (metrics.csv, metrics.jsonl, percentiles.csv, histograms.csv, layer_stats.csv, ..., config.json,
// environment.json, summary.json) and the page reads them back through bnlab_web_file. Natively (tests) the same code
// writes into a real directory.
//
// Calling convention (JavaScript: Module.ccall / cwrap; pointers are numbers into Module.HEAPU8):
//   - A function returning int returns 0 (or a handle > 0) on success, -1 on failure; then bnlab_web_error() is the
//     one-line message, exactly the text `bnlab` prints after "bnlab: " for the same input.
//   - A returned const char * / const uint8_t * is owned by the module and stays valid until the next call of any
//     bnlab_web_* function; its length (bytes, without the terminating NUL of a string) is bnlab_web_size().
//   - Input buffers (data bytes) are copied: the page may free them after the call (Module._malloc / _free).
// One session per run; a Web Worker per variant holds its own module and session, so nothing is shared between them.
#ifndef BNLAB_WEB_H
#define BNLAB_WEB_H

#include <stddef.h>
#include <stdint.h>

// "bnlab 0.1.0 (wasm, portable GEMM, SIMD128)" or natively "bnlab 0.1.0 (native, GEMM openblas)".
const char *bnlab_web_version(void);
// The last failure's message ("" if none).
const char *bnlab_web_error(void);
// The length of the last returned string or byte buffer.
size_t bnlab_web_size(void);

// Validates a config given as JSON text with the same code as `bnlab train` (config_parse + the model checks that
// need no data): 0, or -1 with bnlab_web_error() = "NAME: PATH: expected ..., found ..." — NAME is the file name the
// page shows (e.g. "quick-bn.json"). The config's data paths are not read: the page gives the data.
int bnlab_web_check_config(const char *json, const char *name);
// The resolved config (every default filled in) as JSON text, as config.json of a run holds it; NULL + error.
const char *bnlab_web_resolved_config(const char *json, const char *name);

// The data, once per module: the four IDX files' bytes, decompressed (raw IDX; the page decodes the shipped .gz
// with DecompressionStream). Checked like the files of a native run (magic, header, sizes, labels < classes at
// session start), messages naming "train-images-idx3-ubyte" etc. 0 or -1 + error.
int bnlab_web_set_data(const uint8_t *train_images, size_t n_train_images, const uint8_t *train_labels,
                       size_t n_train_labels, const uint8_t *test_images, size_t n_test_images,
                       const uint8_t *test_labels, size_t n_test_labels);

// A training session for a config (JSON text; its data paths ignored, bnlab_web_set_data's data used, data.train_limit
// etc. applied) in run directory /runs/NAME (the config's "name", or "run"), started as `bnlab train` starts one:
// config.json, environment.json, and the step-0 evaluation row. Returns a handle > 0, or -1 + error.
int bnlab_web_new(const char *json, const char *name);
// Trains up to n more steps (fewer at the end of the run or on divergence), with every recorder and evaluation at
// the steps the native run has them: the logs after k steps equal the native run's logs after k steps, line for line.
// Returns the steps done in total (train.steps or epochs x steps per epoch at the end), or -1 + error.
long bnlab_web_step(int h, long n);
// 0 running, 1 completed (all steps), 3 diverged (the loss became NaN/Inf; error says where, as the CLI), -1 failed.
int bnlab_web_status(int h);
long bnlab_web_total_steps(int h);
// The last evaluation's numbers (the newest metrics row): out[0] step, [1] train loss, [2] train accuracy,
// [3] test loss, [4] test accuracy (NaN before any). Writes 5 doubles; 0 or -1.
int bnlab_web_last_metrics(int h, double *out);
// The test set now, in evaluation mode (running BN statistics), without changing the run: out[0] loss, out[1]
// accuracy. 0 or -1.
int bnlab_web_evaluate(int h, double *out);

// A file of the run directory from byte offset `from` to its current end (text logs: whole lines only; pass the
// previous offset + bnlab_web_size() to read only what was appended): "metrics.csv", "metrics.jsonl",
// "percentiles.csv", "histograms.csv", "layer_stats.csv", "config.json", "environment.json", "summary.json", ...
// NULL + error if the run has no such file (its log is off). bnlab_web_files lists them ("\n"-separated).
const char *bnlab_web_file(int h, const char *file, size_t from);
const char *bnlab_web_files(int h);
// Ends the run as the CLI ends one (summary.json written, logs closed); the files stay readable. 0 or -1.
int bnlab_web_finish(int h);
// A checkpoint of the current step as safetensors bytes (PyTorch state_dict names; `bnlab eval FILE` and
// scripts/torch_load.py load it): the file `bnlab train` writes as checkpoints/step-N.safetensors. NULL + error.
const uint8_t *bnlab_web_checkpoint(int h);
void bnlab_web_free(int h);

// Figures from logs, by the view's SVG renderer (the same as bnlab report's). A comparison directory is assembled
// in the module's file system: bnlab_web_put_file("/cmp/compare.json", ...), "/cmp/bn/seed-1/metrics.csv", ... (the
// bytes other workers' bnlab_web_file returned), or `dir` is a session's own run directory (bnlab_web_run_dir).
int bnlab_web_put_file(const char *path, const uint8_t *bytes, size_t n);
const char *bnlab_web_run_dir(int h);
// The whole `bnlab report DIR` page (self-contained HTML: curves, figures, fans, histograms) as text; NULL + error.
const char *bnlab_web_report(const char *dir);
// One figure kind of lab/figures.h drawn as inline SVG (figmodel_svg): "saturation", "layer_stats", "modes", ...;
// NULL + error (a kind without a figure model, a log missing).
const char *bnlab_web_figure_svg(const char *dir, const char *kind);

#endif
