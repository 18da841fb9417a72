// web/worker.js — one variant's training run, in a Web Worker of its own. app.js starts it from a Blob URL of the
// engine's JavaScript (emscripten's build of src/web/web.h, factory createBnlab; the .wasm bytes come in the 'init'
// message) followed by this text.
// It trains in chunks of steps between which it reads its messages (pause, step, checkpoint), and after each chunk
// posts what the run's log files gained (bnlab_web_file from the last offset) so the page can draw them.
//
// Messages in:  {cmd: 'init', wasm: ArrayBuffer or null, data: [{path, bytes: ArrayBuffer}]: the raw IDX files at their
//               repository paths}, {cmd: 'new', path, text, sets, out}: the config's text written at path, trained
//               as `bnlab train PATH --set S... --out OUT`,
//               {cmd: 'run'}, {cmd: 'pause'}, {cmd: 'step', n}, {cmd: 'checkpoint'}
// Messages out: {type: 'ready', version}, {type: 'created', total}, {type: 'progress', ...}, {type: 'checkpoint',
//               bytes, step}, {type: 'error', text}
/* global createBnlab */
'use strict';
var M = null, h = 0, running = false, chunk = 1, offsets = {}, lastPost = 0, t0 = 0, steps0 = 0, done = 0, sps = 0;

function error() { return M.ccall('bnlab_web_error', 'string', [], []); }
function size() { return M.ccall('bnlab_web_size', 'number', [], []); }
// A returned char * (NULL: null) as text, of bnlab_web_size() bytes.
var utf8 = new TextDecoder('utf-8');
function text(p) { return p ? utf8.decode(M.HEAPU8.subarray(p, p + size())) : null; }
function fail(what) { running = false; postMessage({type: 'error', text: what + error()}); }

// A file into the module's file system (MEMFS): the data and the config, at their repository paths.
function putFile(path, bytes) {
  var p = M._malloc(Math.max(bytes.length, 1));
  M.HEAPU8.set(bytes, p);
  var rc = M.ccall('bnlab_web_put_file', 'number', ['string', 'number', 'number'], [path, p, bytes.length]);
  M._free(p);
  return rc;
}

// What each log file gained since the last call: {name: text}. Logs are appended to (whole lines); a .json file is
// written whole (config.json, environment.json once at the start, summary.json at the end): read from 0.
function gained(all) {
  var out = {}, names = M.ccall('bnlab_web_files', 'string', ['number'], [h]).split('\n');
  names.forEach(function (f) {
    if (!f || f.indexOf('/') >= 0) return;  // checkpoints/ are not logs
    var whole = /\.json$/.test(f);
    if (whole && !all && offsets[f] !== undefined) return;
    var from = whole ? 0 : (offsets[f] || 0);
    var t = text(M.ccall('bnlab_web_file', 'number', ['number', 'string', 'number'], [h, f, from]));
    if (t === null) return;
    var n = size();
    if (whole) { offsets[f] = n; out[f] = {from: 0, text: t}; }
    else if (n > 0) { offsets[f] = from + n; out[f] = {from: from, text: t}; }
  });
  return out;
}

function metrics() {
  var p = M._malloc(5 * 8), m = null;
  if (M.ccall('bnlab_web_last_metrics', 'number', ['number', 'number'], [h, p]) === 0)
    m = Array.prototype.slice.call(new Float64Array(M.HEAPF64.buffer, p, 5));
  M._free(p);
  return m;
}

function post(all) {
  var status = M.ccall('bnlab_web_status', 'number', ['number'], [h]);
  postMessage({type: 'progress', step: done, total: M.ccall('bnlab_web_total_steps', 'number', ['number'], [h]),
               status: status, running: running, sps: sps, metrics: metrics(), files: gained(all),
               message: status === 3 || status < 0 ? error() : ''});
  lastPost = Date.now();
}

// n steps (fewer at the end); the run ended (completed or diverged): finished as the CLI finishes one.
function advance(n) {
  var r = M.ccall('bnlab_web_step', 'number', ['number', 'number'], [h, n]);
  if (r < 0) { fail(''); return false; }
  done = r;
  var status = M.ccall('bnlab_web_status', 'number', ['number'], [h]);
  if (status !== 0) {
    running = false;
    if (M.ccall('bnlab_web_finish', 'number', ['number'], [h]) !== 0) { fail(''); return false; }
    post(true);
    return false;
  }
  return true;
}

// Chunks of about 40 ms, so that a pause is obeyed at once; the page hears from the run about 5 times a second.
function loop() {
  if (!running) return;
  var t = performance.now();
  if (!advance(chunk)) return;
  var dt = performance.now() - t;
  chunk = Math.max(1, Math.min(1000, Math.round(chunk * (dt > 0 ? Math.min(2, 40 / dt) : 2))));
  var now = performance.now();
  if (now - t0 > 500) { sps = (done - steps0) * 1000 / (now - t0); }
  if (Date.now() - lastPost > 200) post(false);
  setTimeout(loop, 0);
}

var handlers = {
  init: function (m) {
    createBnlab(m.wasm ? {wasmBinary: new Uint8Array(m.wasm)} : {}).then(function (mod) {
      M = mod;
      for (var i = 0; i < m.data.length; i++)
        if (putFile(m.data[i].path, new Uint8Array(m.data[i].bytes)) !== 0) { fail(''); return; }
      postMessage({type: 'ready', version: M.ccall('bnlab_web_version', 'string', [], [])});
    }, function (e) { postMessage({type: 'error', text: 'the engine did not load: ' + e}); });
  },
  new: function (m) {
    if (putFile(m.path, new TextEncoder().encode(m.text)) !== 0) { fail(''); return; }
    h = M.ccall('bnlab_web_new', 'number', ['string', 'string', 'string'], [m.path, JSON.stringify(m.sets), m.out]);
    if (h <= 0) { fail(''); return; }
    offsets = {};
    done = 0;
    postMessage({type: 'created', total: M.ccall('bnlab_web_total_steps', 'number', ['number'], [h])});
    post(true);
  },
  run: function () {
    if (!h || running) return;
    running = true;
    t0 = performance.now(); steps0 = done;
    loop();
  },
  pause: function () { running = false; if (h) post(false); },
  step: function (m) {
    if (!h || running) return;
    if (advance(m.n || 1)) post(false);
  },
  checkpoint: function () {
    var p = M.ccall('bnlab_web_checkpoint', 'number', ['number'], [h]);
    if (!p) { postMessage({type: 'error', text: error()}); return; }
    var bytes = M.HEAPU8.slice(p, p + size());
    postMessage({type: 'checkpoint', bytes: bytes.buffer, step: done}, [bytes.buffer]);
  }
};

self.onmessage = function (e) {
  try { handlers[e.data.cmd](e.data); } catch (x) { running = false; postMessage({type: 'error', text: String(x)}); }
};
