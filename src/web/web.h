// web.h — bnlab's engine for a web page: the C API the WebAssembly build (scripts/web.sh -> build-web/site/bnlab.js +
// bnlab.wasm) exports to JavaScript. The same sources as the native `bnlab` (config, trainer, recorders, checkpoint,
// report), a layer on top like cli/: nothing below includes it.
//
// No file system on the student's side: configs and data arrive in memory, into Emscripten's in-memory file system
// (MEMFS) at the paths they have in the repository; the run directory is there too ("runs/NAME"), so the config
// code, the loaders and the recorders are the native ones, with the native messages, and write exactly the files and
// bytes the native run writes (metrics.csv, metrics.jsonl, percentiles.csv, histograms.csv, layer_stats.csv, ...,
// config.json, environment.json, summary.json); the page reads them back through bnlab_web_file. Natively (tests)
// the same code works on real files.
//
// Calling convention (JavaScript: Module.ccall / cwrap; pointers are numbers into Module.HEAPU8):
//   - A function returning int returns 0 (or a handle > 0) on success, -1 on failure; then bnlab_web_error() is the
//     one-line message, exactly the text `bnlab` prints after "bnlab: error: " for the same input.
//   - A returned const char * / const uint8_t * is owned by the module and stays valid until the next call of any
//     bnlab_web_* function; its length (bytes, without the terminating NUL of a string) is bnlab_web_size().
//   - Input buffers (file bytes) are copied: the page may free them after the call (Module._malloc / _free).
// One session per run; a Web Worker per variant holds its own module and session, so nothing is shared between them.
#ifndef BNLAB_WEB_H
#define BNLAB_WEB_H

#include <stddef.h>
#include <stdint.h>

// "bnlab 0.1.0 (wasm, GEMM portable wasm-simd128)", natively e.g. "bnlab 0.1.0 (native, GEMM libxsmm cpx)".
const char *bnlab_web_version(void);
// The last failure's message ("" if none): the text `bnlab` prints after "bnlab: error: ".
const char *bnlab_web_error(void);
// The length of the last returned string or byte buffer.
size_t bnlab_web_size(void);

// Files in the module's file system (MEMFS; cwd "/"): the page writes the shipped configs (configs/NAME.json) and the
// MNIST subset (datasets/mnist-subset/*.gz, holding the raw IDX bytes the page gunzipped: the reader tells raw from
// gzip by the first two bytes) at their repository paths, so configs' relative data paths work as shipped and every
// message names the same files as the CLI run from the repository's top. Also a comparison directory for the
// figures (bnlab_web_put_file("cmp/compare.json", ...), "cmp/bn/seed-1/metrics.csv", ... from other workers'
// bnlab_web_file bytes). path: relative to "/" or absolute, no "..". 0 or -1.
int bnlab_web_put_file(const char *path, const uint8_t *bytes, size_t n);

// `bnlab check CONFIG --set S...`: config_load(path, overrides) and every check `bnlab train` makes before it writes
// (the data read, the model against it, the memory, the logs' references into the model), errors blamed as the CLI
// blames them ("configs/x.json: model.layers[0].units: ...", "--set train.steps (over configs/x.json): ...").
// sets: NULL or a JSON array of "path=value" strings, applied as --set. Returns the resolved config (every default
// filled in, as `bnlab check` prints it and config.json holds it), or NULL + error.
const char *bnlab_web_check_config(const char *path, const char *sets);

// A training session: `bnlab train CONFIG --set S... [--out OUT]` up to its first step: the same checks and
// messages as bnlab_web_check_config, then the run directory (OUT, or log.dir/name: "runs/quick-bn") with
// config.json, environment.json, config.digest and the step-0 evaluation row. In the module a directory that exists
// is replaced (the page's "run again"); natively it must be new or empty, as for the CLI. Returns a handle > 0, or
// -1 + error.
int bnlab_web_new(const char *path, const char *sets, const char *out);
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

// Figures from logs, by the view's SVG renderer (the same as bnlab report's): dir is a session's run directory
// (bnlab_web_run_dir) or a comparison directory assembled with bnlab_web_put_file.
const char *bnlab_web_run_dir(int h);
// The whole `bnlab report DIR` page (self-contained HTML: curves, figures, fans, histograms) as text; NULL + error.
const char *bnlab_web_report(const char *dir);
// One figure kind of lab/figures.h drawn as inline SVG (figmodel_svg): "saturation", "layer_stats", "modes", ...;
// NULL + error (a kind without a figure model, a log missing).
const char *bnlab_web_figure_svg(const char *dir, const char *kind);

#endif
