// web/app.js — the browser lab's page (web/index.html, assembled by web/build.py). It draws nothing itself:
//  - each variant trains in a Web Worker of its own (web/worker.js on the engine, src/web/web.h), which posts what
//    its run directory's log files gained;
//  - this page keeps those files, puts them into its own engine's in-memory file system as a comparison directory
//    (/cmp-N/compare.json, /cmp-N/VARIANT/seed-K/..., a new N for each start), and asks the engine for
//    `bnlab report /cmp-N` — the report page of lab/report.c, with its SVG figures (view/figmodel_svg, view/svg)
//    and its histogram script (src/view/page/histograms.js) — and shows that page's sections here, refreshed as the
//    logs grow;
//  - a config typed into the page is checked by the engine's config code: its errors are the CLI's text.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var ENGINE_JS = $('engine-js').textContent, WORKER_JS = $('worker-js').textContent;
  var WASM = bytes($('engine-wasm').textContent.trim());  // null: a single-file engine (the wasm inside its JS)
  var CATALOG = JSON.parse($('catalog').textContent);
  var utf8in = new TextEncoder(), utf8out = new TextDecoder('utf-8');
  var M = null;            // the page's own engine: config checks and the report
  var DATA = null;         // the MNIST subset: [{path: 'datasets/mnist-subset/NAME.gz', bytes: raw IDX ArrayBuffer}]
  var workerURL = null;
  var exp = null;          // the experiment shown
  var V = [];              // its variants: {name, config, json, sets, card, worker, files, dirty, ...}
  var state = 'loading';   // loading | idle | starting | running | paused | done
  var reportDue = false, reportBusy = false, lastReport = 0, reportMs = 0, histTouched = 0;
  var cmp = '/cmp-0', sessions = 0;  // the comparison directory in the page's engine: a new one for each start
  // Where the report's sections go (by their h2 ids, the report's kinds of figure: lab/figures.c; "histograms": its
  // animated histograms): the rest under "The report's other figures".
  var SLOTS = [['slot-curves', ['accuracy', 'loss']], ['slot-percentiles', ['percentiles']],
               ['slot-hists', ['histograms']], ['slot-layers', ['layers']]];

  // ---- the engine on this page

  function bytes(b64) {
    if (!b64) return null;
    var bin = atob(b64), u = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return u;
  }

  function eerror() { return M.ccall('bnlab_web_error', 'string', [], []); }
  function etext(p) { return p ? utf8out.decode(M.HEAPU8.subarray(p, p + M.ccall('bnlab_web_size', 'number', [], []))) : null; }
  // The CLI's line for an engine message ("bnlab: error: ...").
  function cliLine(msg) { return 'bnlab: ' + (/^error: /.test(msg) ? msg : 'error: ' + msg); }

  // `build/bnlab check CONFIG --set S...` on the variant's text (written where the config is, configs/NAME.json,
  // as the CLI reads it from the repository's top): its resolved config, or the CLI's error line.
  function check(v) {
    putFile(v.config, v.json);
    v.resolved = etext(M.ccall('bnlab_web_check_config', 'number', ['string', 'string'], [v.config, JSON.stringify(runSets(v))]));
    return v.resolved !== null ? '' : cliLine(eerror());
  }

  function putFile(path, data) {
    var b = typeof data === 'string' ? utf8in.encode(data) : data, p = M._malloc(Math.max(b.length, 1));
    M.HEAPU8.set(b, p);
    var rc = M.ccall('bnlab_web_put_file', 'number', ['string', 'number', 'number'], [path, p, b.length]);
    M._free(p);
    if (rc !== 0) throw new Error(eerror());
  }

  // ---- the experiment and its variants

  function seed() {
    var s = Math.floor(+$('seed').value);
    return isFinite(s) && s >= 0 ? s : 1;
  }
  function parseSets(text) { return text.split('\n').map(function (l) { return l.trim(); }).filter(function (l) { return l; }); }
  // What a variant runs with: its --set lines, then what `build/bnlab compare` adds to each of its runs.
  function runSets(v) { return parseSets(v.setText.value).concat(['seed=' + seed(), 'log.progress=never']); }
  function runDir(v) { return cmp + '/' + v.name + '/seed-' + seed(); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function showExperiment(id) {
    exp = CATALOG.experiments.filter(function (e) { return e.id === id; })[0];
    $('look').textContent = exp.look;
    $('command').textContent = (exp.command || exp.note).replace('--seeds 1', '--seeds ' + seed());
    var box = $('variants');
    box.innerHTML = '';
    $('tables').innerHTML = '';
    V = exp.variants.map(function (d) {
      var v = {name: d.name, config: d.config, json: CATALOG.configs[d.config], files: {}, dirty: {}, step: 0,
               total: 0, status: -2, sps: 0};
      var card = el('div', 'card');
      card.setAttribute('data-variant', d.name);
      card.setAttribute('data-config', d.config);
      var h = el('h3', 'vname', d.name);
      card.appendChild(h);
      v.line = el('div', 'vstatus', 'not started');
      card.appendChild(v.line);
      v.bar = el('div', 'progress'); v.bar.appendChild(el('div', 'done'));
      card.appendChild(v.bar);
      var det = el('details', 'edit');
      det.appendChild(el('summary', '', 'config: ' + d.config + (d.set.length ? ' with ' + d.set.length + ' --set' : '')));
      det.appendChild(el('div', 'note', d.config + ' (edit it here; the engine checks it as build/bnlab does):'));
      v.text = el('textarea', 'json');
      v.text.value = v.json; v.text.spellcheck = false; v.text.rows = 16;
      v.text.setAttribute('data-role', 'json');
      det.appendChild(v.text);
      det.appendChild(el('div', 'note', '--set PATH=VALUE, one per line (the spec\'s and the page\'s; seed=SEED, the ' +
                         'seed above, and log.progress=never are added, as build/bnlab compare adds them):'));
      v.setText = el('textarea', 'sets');
      v.setText.value = d.set.join('\n'); v.setText.spellcheck = false; v.setText.rows = Math.min(6, d.set.length + 1);
      v.setText.setAttribute('data-role', 'sets');
      det.appendChild(v.setText);
      card.appendChild(det);
      v.err = el('pre', 'error');
      v.err.setAttribute('data-role', 'error');
      card.appendChild(v.err);
      var dl = el('button', 'small', '\u2B07 checkpoint (.safetensors)');
      dl.type = 'button'; dl.disabled = true;
      dl.addEventListener('click', function () { if (v.worker) v.worker.postMessage({cmd: 'checkpoint'}); });
      v.ckpt = dl;
      card.appendChild(dl);
      v.ckptCmd = card.appendChild(el('pre', 'ckpt'));  // after a download: the native command that evaluates it
      v.ckptCmd.setAttribute('data-role', 'ckpt-cmd');
      box.appendChild(card);
      v.card = card; v.head = h;
      var t = el('div', 'card');
      v.thead = t.appendChild(el('h3', 'vname', d.name));
      v.table = el('table', 'summary numbers');
      v.table.setAttribute('data-variant', d.name);
      t.appendChild(v.table);
      $('tables').appendChild(t);
      var timer = null;
      function edited() {
        clearTimeout(timer);
        timer = setTimeout(function () { v.json = v.text.value; validate(v); }, 250);
      }
      v.text.addEventListener('input', edited);
      v.setText.addEventListener('input', edited);
      return v;
    });
    clearSlots();
    if (M) V.forEach(validate);
    setState('idle');
  }

  function clearSlots() {
    SLOTS.forEach(function (s) { $(s[0]).innerHTML = ''; });
    $('slot-more').innerHTML = '';
  }

  function validate(v) {
    if (!M) return true;
    var e = check(v);
    v.err.textContent = e;
    v.card.classList.toggle('bad', !!e);
    if (state === 'idle') {
      v.line.textContent = e ? 'the config has an error (below)' : 'ready: config checked';
      if (!e) preview();
    }
    return !e;
  }

  // Before training: the report of the configs alone (each run directory holding just its config.json) gives each
  // variant's colour and the order of the figures (the report classifies a network by its config).
  function preview() {
    if (!V.every(function (v) { return v.resolved; })) return;
    cmp = '/cmp-0';
    putCompare();
    V.forEach(function (v) { putFile(runDir(v) + '/config.json', v.resolved); });
    var html = etext(M.ccall('bnlab_web_report', 'number', ['string'], [cmp]));
    if (html === null) return;
    var d = new DOMParser().parseFromString(html, 'text/html').getElementById('hdata');
    if (d) colours(JSON.parse(d.textContent));
  }

  // ---- training: a worker per variant

  function setState(s) {
    state = s;
    document.body.setAttribute('data-state', s);
    var t = $('train');
    t.disabled = s === 'loading' || s === 'starting' || s === 'done';
    t.innerHTML = s === 'running' ? '&#10074;&#10074; Pause' : s === 'paused' ? '&#9654; Resume' : '&#9654; Train';
    $('step').disabled = !(s === 'idle' || s === 'paused');
    $('reset').disabled = s === 'loading' || s === 'idle';
    $('logs').disabled = s === 'loading' || s === 'idle' || s === 'starting';
    $('experiment').disabled = $('seed').disabled = !(s === 'idle');
    V.forEach(function (v) {
      v.text.readOnly = v.setText.readOnly = s !== 'idle';
      v.ckpt.disabled = !(s === 'paused' || s === 'done');
    });
    $('status').textContent = {loading: 'loading the engine \u2026', idle: 'ready', starting: 'starting \u2026',
                               running: 'training', paused: 'paused', done: 'done'}[s];
  }

  function startWorkers(then) {
    for (var i = 0; i < V.length; i++) if (!validate(V[i])) { $('status').textContent = 'a config has an error'; return; }
    stopWorkers();
    setState('starting');
    cmp = '/cmp-' + (++sessions);
    putCompare();
    var pending = V.length;
    V.forEach(function (v) {
      var w = new Worker(workerURL);
      v.worker = w; v.files = {}; v.dirty = {}; v.status = 0; v.step = 0;
      w.onmessage = function (e) { onWorker(v, e.data, function () { if (--pending === 0) then(); }); };
      w.onerror = function (e) { v.err.textContent = 'the worker failed: ' + e.message; };
      w.postMessage({cmd: 'init', wasm: WASM ? WASM.slice(0).buffer : null,
                     data: DATA.map(function (d) { return {path: d.path, bytes: d.bytes.slice(0)}; })});
    });
  }

  function onWorker(v, m, created) {
    if (m.type === 'ready') {
      v.worker.postMessage({cmd: 'new', path: v.config, text: v.json, sets: runSets(v), out: 'runs/' + v.name});
    } else if (m.type === 'created') {
      v.total = m.total;
      created();
    } else if (m.type === 'progress') {
      v.step = m.step; v.total = m.total; v.status = m.status; v.sps = m.sps || v.sps; v.running = m.running;
      Object.keys(m.files).forEach(function (f) {
        var g = m.files[f];
        v.files[f] = (g.from ? (v.files[f] || '') : '') + g.text;
        v.dirty[f] = true;
      });
      if (m.message) v.err.textContent = cliLine(m.message);
      showProgress(v, m.metrics);
      if (v.status !== 0 && V.every(function (x) { return x.status !== 0; })) setState('done');
      requestReport();
    } else if (m.type === 'checkpoint') {
      var file = v.name + '-step-' + m.step + '.safetensors';
      save(new Blob([m.bytes], {type: 'application/octet-stream'}), file);
      v.ckptCmd.textContent = 'Saved ' + file + '. Natively, from the repository\'s top: ' + evalCommand(v, file);
    } else if (m.type === 'error') {
      v.err.textContent = cliLine(m.text);
      v.status = -1;
      if (state === 'starting') {  // a run that cannot start: none starts (the others' workers stopped too)
        V.forEach(function (x) { if (x.worker) x.worker.terminate(); x.worker = null; });
        setState('idle');
        $('status').textContent = 'a run could not start';
      }
    }
  }

  // The native command that evaluates a downloaded checkpoint: its config names the test set where the page held it
  // (/datasets/mnist-subset/...), which a checkout has at the same place under its top (datasets/mnist-subset/...).
  function evalCommand(v, file) {
    var d = JSON.parse(v.resolved).data || {}, cmd = 'build/bnlab eval ' + file;
    ['test_images', 'test_labels', 'test_csv'].forEach(function (k) {
      if (typeof d[k] === 'string' && d[k].charAt(0) === '/') cmd += ' --set data.' + k + '=' + d[k].slice(1);
    });
    return cmd;
  }

  function fmt(x, d) { return x === null || x === undefined || !isFinite(x) ? '\u2013' : x.toFixed(d); }

  function showProgress(v, m) {
    var s = v.status === 1 ? 'done' : v.status === 3 ? 'diverged' : v.status < 0 ? 'failed' : '';
    v.line.textContent = 'step ' + v.step + ' / ' + v.total + (s ? ' (' + s + ')' : '') +
      (m ? ' \u00b7 test accuracy ' + fmt(m[4], 4) + ' \u00b7 test loss ' + fmt(m[3], 4) + ' (step ' + m[0] + ')' : '') +
      (v.sps ? ' \u00b7 ' + Math.round(v.sps) + ' steps/s' : '');
    v.card.setAttribute('data-step', v.step);
    v.card.setAttribute('data-status', v.status);
    v.card.setAttribute('data-running', v.running ? 'yes' : 'no');
    v.bar.firstChild.style.width = (v.total ? 100 * v.step / v.total : 0) + '%';
    if (v.dirty['metrics.csv']) metricsTable(v);
  }

  // metrics.csv as logged: every evaluation's row, the columns the curves draw.
  function metricsTable(v) {
    var lines = v.files['metrics.csv'].split('\n').filter(function (l) { return l; });
    var head = lines[0].split(','), want = ['step', 'train_loss', 'test_loss', 'test_acc'];
    var idx = want.map(function (c) { return head.indexOf(c); });
    var t = v.table;
    t.innerHTML = '';
    var tr = el('tr');
    want.forEach(function (c) { tr.appendChild(el('th', '', c)); });
    t.appendChild(tr);
    lines.slice(1).forEach(function (l) {
      var f = l.split(','), r = el('tr');
      idx.forEach(function (i) { r.appendChild(el('td', 'num', i >= 0 ? f[i] : '')); });
      t.appendChild(r);
    });
  }

  function toAll(msg) { V.forEach(function (v) { if (v.worker && v.status === 0) v.worker.postMessage(msg); }); }

  function stopWorkers() {
    V.forEach(function (v) { if (v.worker) v.worker.terminate(); v.worker = null; v.status = -2; });
  }

  // Reset: the runs forgotten, the configs as they are in the editors (edits kept), ready to train again.
  function reset() {
    stopWorkers();
    clearSlots();
    V.forEach(function (v) {
      v.files = {}; v.dirty = {}; v.step = 0; v.bar.firstChild.style.width = '0';
      v.table.innerHTML = ''; v.err.textContent = ''; v.ckptCmd.textContent = '';
      v.card.removeAttribute('data-step'); v.card.removeAttribute('data-status');
    });
    setState('idle');
    V.forEach(validate);
  }

  // ---- the report: the variants' files as a comparison directory in the page's engine, drawn by bnlab report

  function compareJson() {
    return JSON.stringify({name: exp.id, variants: V.map(function (v) {
      return {name: v.name, base: v.name, config: v.config, overrides: parseSets(v.setText.value)};
    }), seeds: [seed()], targets: exp.targets, jobs: V.length}, null, 1) + '\n';
  }

  function putCompare() { putFile(cmp + '/compare.json', compareJson()); }

  function requestReport() {
    reportDue = true;
    if (reportBusy) return;
    // At most every 0.7 s, and the report's own time at most a sixth of the page's: the workers need the cores.
    var wait = Math.max(0, Math.max(700, 6 * reportMs) - (Date.now() - lastReport));
    reportBusy = true;
    setTimeout(function () { reportBusy = false; if (reportDue) drawReport(); }, wait);
  }

  function drawReport() {
    reportDue = false;
    lastReport = Date.now();
    var t0 = performance.now();
    V.forEach(function (v) {
      Object.keys(v.dirty).forEach(function (f) { putFile(runDir(v) + '/' + f, v.files[f]); });
      v.dirty = {};
    });
    var html = etext(M.ccall('bnlab_web_report', 'number', ['string'], [cmp]));
    if (html === null) { $('status').textContent = 'report: ' + eerror(); return; }
    var doc = new DOMParser().parseFromString(html, 'text/html');
    // The report's sections: each an h2 with the id of its kind of figure (lab/figures.c: accuracy, loss, ...,
    // histograms) and what follows it up to the next h2.
    var sections = {}, order = [], cur = null;
    Array.prototype.forEach.call(doc.body.children, function (n) {
      if (n.tagName === 'H2') {
        var id = n.id || n.textContent.trim();
        cur = sections[id] = {h2: n, nodes: []};
        order.push(id);
      } else if (cur) cur.nodes.push(n);
    });
    function put(box, id) {  // a section as a div of its own (data-section: its id), its scripts but the data left out
      var s = sections[id], d = box.appendChild(el('div', 'section'));
      d.setAttribute('data-section', id);
      d.appendChild(document.importNode(s.h2, true));
      s.nodes.forEach(function (n) { if (n.tagName !== 'SCRIPT' || n.type === 'application/json') d.appendChild(document.importNode(n, true)); });
    }
    // The histograms: the report's own script (src/view/page/histograms.js) draws them from its data, here as in
    // report.html. Not while the reader moves the slider or plays them: they are redrawn at the next update.
    var playing = $('play') && /pause/.test($('play').textContent), histsNow = Date.now() - histTouched > 4000 && !playing;
    SLOTS.forEach(function (slot) {
      if (slot[0] === 'slot-hists' && !histsNow) return;
      var box = $(slot[0]);
      box.innerHTML = '';
      slot[1].forEach(function (id) { if (sections[id]) put(box, id); });
    });
    var hs = sections.histograms;
    if (hs && histsNow) {
      var code = hs.nodes.filter(function (n) { return n.tagName === 'SCRIPT' && !n.type && /getElementById\('hdata'\)/.test(n.textContent); })[0];
      if (code) new Function(code.textContent)();
      if ($('hdata')) colours(JSON.parse($('hdata').textContent));
    }
    var shown = ['Summary'];
    SLOTS.forEach(function (slot) { shown = shown.concat(slot[1]); });
    var more = $('slot-more');
    more.innerHTML = '';
    order.forEach(function (id) { if (shown.indexOf(id) < 0) put(more, id); });
    document.body.setAttribute('data-reports', +(document.body.getAttribute('data-reports') || 0) + 1);
    reportMs = performance.now() - t0;
    document.body.setAttribute('data-report-ms', Math.round(reportMs));
  }

  // Each variant's name in the colour the report gives it, and the cards in the report's order (view/variant.h: one
  // colour per kind of normalization; no normalization first). The report's histogram data name each panel's variant
  // (its directory: "variant") besides its legend text ("name": "BN", "no BN", ...).
  function colours(data) {
    data.panels.forEach(function (p) {
      V.forEach(function (v) {
        if (v.name !== p.variant) return;
        v.head.style.color = v.thead.style.color = p.color;
        v.card.style.borderTopColor = p.color;
        $('variants').appendChild(v.card);
        $('tables').appendChild(v.table.parentNode);
      });
    });
  }

  // ---- downloads

  function save(blob, name) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function logsTar() {
    var top = 'bnlab-' + exp.id + '-seed' + seed(), files = [{path: top + '/compare.json', bytes: utf8in.encode(compareJson())}];
    V.forEach(function (v) {
      Object.keys(v.files).sort().forEach(function (f) {
        files.push({path: top + '/' + v.name + '/seed-' + seed() + '/' + f, bytes: utf8in.encode(v.files[f])});
      });
    });
    return {name: top + '.tar', bytes: bnlabTar(files)};
  }

  // ---- start

  function gunzip(b64) {
    return new Response(new Blob([bytes(b64)]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  }

  CATALOG.experiments.forEach(function (e) {
    var o = el('option', '', e.title);
    o.value = e.id;
    $('experiment').appendChild(o);
  });
  $('experiment').addEventListener('change', function () { showExperiment(this.value); });
  // The seed is one of each variant's --set lines (as build/bnlab compare --seeds adds it): the configs are checked
  // again with it, the edits kept.
  $('seed').addEventListener('change', function () {
    $('command').textContent = (exp.command || exp.note).replace('--seeds 1', '--seeds ' + seed());
    V.forEach(validate);
  });
  $('train').addEventListener('click', function () {
    if (state === 'idle') startWorkers(function () { setState('running'); toAll({cmd: 'run'}); });
    else if (state === 'running') { setState('paused'); toAll({cmd: 'pause'}); }
    else if (state === 'paused') { setState('running'); toAll({cmd: 'run'}); }
  });
  $('step').addEventListener('click', function () {
    if (state === 'idle') startWorkers(function () { setState('paused'); toAll({cmd: 'step', n: 1}); });
    else if (state === 'paused') toAll({cmd: 'step', n: 1});
  });
  $('reset').addEventListener('click', reset);
  $('big').addEventListener('change', function () { document.body.classList.toggle('big', this.checked); });
  $('logs').addEventListener('click', function () { var t = logsTar(); save(new Blob([t.bytes], {type: 'application/x-tar'}), t.name); });
  ['input', 'pointerdown', 'keydown'].forEach(function (ev) {
    $('slot-hists').addEventListener(ev, function () { histTouched = Date.now(); }, true);
  });
  // For tests (tests/test_web.sh): the page's state, and the logs tar as base64.
  window.bnlabPage = {
    state: function () { return state; },
    files: function (name) { var v = V.filter(function (x) { return x.name === name; })[0]; return v ? v.files : null; },
    logsTar: logsTar
  };
  showExperiment(CATALOG.experiments[0].id);
  setState('loading');

  // The shipped MNIST subset, gunzipped here (the engine has no zlib), kept at its repository paths: the configs'
  // relative data paths name them as they are.
  var datasets = Array.prototype.map.call(document.querySelectorAll('script.dataset'), function (s) {
    return gunzip(s.textContent.trim()).then(function (b) { return {path: s.getAttribute('data-path'), bytes: b}; });
  });
  (0, eval)(ENGINE_JS);  // defines createBnlab on this page
  workerURL = URL.createObjectURL(new Blob([ENGINE_JS, '\n', WORKER_JS], {type: 'text/javascript'}));
  Promise.all([createBnlab(WASM ? {wasmBinary: WASM} : {}), Promise.all(datasets)]).then(function (r) {
    M = r[0];
    DATA = r[1];
    DATA.forEach(function (d) { putFile(d.path, new Uint8Array(d.bytes)); });
    $('version').textContent = M.ccall('bnlab_web_version', 'string', [], []);
    setState('idle');
    V.forEach(validate);
  }, function (e) {
    $('status').textContent = 'the engine did not load: ' + e;
    console.error('bnlab: the engine did not load: ' + e);
  });
})();
