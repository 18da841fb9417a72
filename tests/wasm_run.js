// wasm_run.js — drives the WebAssembly module (build-web/bnlab.js + bnlab.wasm) through its C API (src/web/web.h)
// as the page does, under node: the config and the shipped MNIST subset written into the module's in-memory file
// system at their repository paths (the .gz files gunzipped here, as the page does with DecompressionStream), the
// run stepped a slice at a time, then every file of its run directory and the checkpoint bytes copied out for the
// native tools to compare. CommonJS, no dependencies beyond node's own zlib.
//   node wasm_run.js train MODULE_DIR ROOT CONFIG SETS_JSON OUT_DIR SLICE  -> OUT_DIR/<run files>, checkpoint.safetensors,
//                                                                            report.html, saturation.svg.html
//   node wasm_run.js check MODULE_DIR ROOT CONFIG SETS_JSON                -> "OK" or "ERROR: <message>" (exit 0)
//   node wasm_run.js bench MODULE_DIR ROOT CONFIG SETS_JSON STEPS          -> "steps_per_second N ..." (after 20 steps)
// CONFIG is a path relative to ROOT (the repository), e.g. configs/quick-bn.json; SETS_JSON a JSON array of
// "path=value" strings (the CLI's --set), or "".
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

async function load(moduleDir) {
  const createBnlab = require(path.resolve(moduleDir, 'bnlab.js'));
  // Emscripten 3.1.6 fetches the .wasm with fetch(), which node 20 has but cannot use on a file path: hand it over.
  const M = await createBnlab({wasmBinary: fs.readFileSync(path.resolve(moduleDir, 'bnlab.wasm')),
                               print: (s) => process.stderr.write(s + '\n'),
                               printErr: (s) => process.stderr.write(s + '\n')});
  const api = {
    M,
    error: M.cwrap('bnlab_web_error', 'string', []),
    size: M.cwrap('bnlab_web_size', 'number', []),
    version: M.cwrap('bnlab_web_version', 'string', []),
    check: M.cwrap('bnlab_web_check_config', 'number', ['string', 'string']),
    new_: M.cwrap('bnlab_web_new', 'number', ['string', 'string', 'string']),
    step: M.cwrap('bnlab_web_step', 'number', ['number', 'number']),
    status: M.cwrap('bnlab_web_status', 'number', ['number']),
    total: M.cwrap('bnlab_web_total_steps', 'number', ['number']),
    files: M.cwrap('bnlab_web_files', 'string', ['number']),
    fileRaw: M.cwrap('bnlab_web_file', 'number', ['number', 'string', 'number']),
    checkpointRaw: M.cwrap('bnlab_web_checkpoint', 'number', ['number']),
    free: M.cwrap('bnlab_web_free', null, ['number']),
  };
  // A returned buffer: its bytes (copied out of the module's memory), or null (then api.error()).
  api.bytes = (p) => (p ? M.HEAPU8.slice(p, p + api.size()) : null);
  api.file = (h, name, from) => api.bytes(api.fileRaw(h, name, from || 0));
  api.checkpoint = (h) => api.bytes(api.checkpointRaw(h));
  api.put = (file, bytes) => {
    const p = M._malloc(bytes.length || 1);
    M.HEAPU8.set(bytes, p);
    const rc = M.ccall('bnlab_web_put_file', 'number', ['string', 'number', 'number'], [file, p, bytes.length]);
    M._free(p);
    if (rc !== 0) throw new Error('put_file ' + file + ': ' + api.error());
  };
  return api;
}

// The config's text and the subset's four files (gunzipped) at their repository paths.
function putInputs(api, root, config) {
  api.put(config, fs.readFileSync(path.join(root, config)));
  const dir = 'datasets/mnist-subset';
  for (const f of fs.readdirSync(path.join(root, dir)).filter((x) => x.endsWith('.gz')))
    api.put(dir + '/' + f, zlib.gunzipSync(fs.readFileSync(path.join(root, dir, f))));
}

async function main() {
  const [mode, moduleDir, root, config, sets, ...rest] = process.argv.slice(2);
  const api = await load(moduleDir);
  putInputs(api, root, config);
  if (mode === 'check') {
    console.log(api.check(config, sets || null) ? 'OK' : 'ERROR: ' + api.error());
    return 0;
  }
  const h = api.new_(config, sets || null, null);
  if (h < 0) throw new Error('new: ' + api.error());
  if (mode === 'bench') {
    const steps = Number(rest[0]);
    const done0 = api.step(h, 20);  // warm-up: the engine's first steps, the JIT's tiers
    const t0 = process.hrtime.bigint();
    const done = api.step(h, steps);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`steps_per_second ${((done - done0) / secs).toFixed(1)} (${done - done0} steps in ${secs.toFixed(2)} s; ${api.version()})`);
    api.free(h);
    return 0;
  }
  const [outDir, sliceArg] = rest;
  const slice = Number(sliceArg);
  let done = 0, calls = 0;
  const t0 = process.hrtime.bigint();
  while (api.status(h) === 0) {
    const d = api.step(h, slice);
    if (d < 0) throw new Error('step: ' + api.error());
    if (d === done && api.status(h) === 0) throw new Error('no progress at step ' + d);
    done = d, calls++;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.mkdirSync(outDir, {recursive: true});
  for (const f of api.files(h).split('\n').filter((x) => x && x !== 'checkpoints')) {
    const b = api.file(h, f, 0);
    if (!b) throw new Error(f + ': ' + api.error());
    fs.writeFileSync(path.join(outDir, f), b);
  }
  // The view from the logs in the module: the whole report page, and one figure model's SVG.
  const M = api.M;
  const dir = M.ccall('bnlab_web_run_dir', 'string', ['number'], [h]);
  const page = M.ccall('bnlab_web_report', 'string', ['string'], [dir]);
  if (page === null || page === '') throw new Error('report: ' + api.error());
  fs.writeFileSync(path.join(outDir, 'report.html'), page);
  const svg = M.ccall('bnlab_web_figure_svg', 'string', ['string', 'string'], [dir, 'saturation']);
  if (svg === null || svg === '') throw new Error('figure_svg: ' + api.error());
  fs.writeFileSync(path.join(outDir, 'saturation.svg.html'), svg);
  const ck = api.checkpoint(h);
  if (!ck) throw new Error('checkpoint: ' + api.error());
  fs.writeFileSync(path.join(outDir, 'checkpoint.safetensors'), ck);
  console.log(`trained ${done}/${api.total(h)} steps in ${calls} calls, status ${api.status(h)}, ${secs.toFixed(2)} s; ${api.version()}`);
  api.free(h);
  return 0;
}

main().then((rc) => process.exit(rc), (e) => {
  console.error('wasm_run: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
