// bnlab report: the animated histograms, embedded into report.html at build time (src/view/meson.build). No library,
// no network. The data (the element #hdata, written by report.c) hold each panel's frames and each row's x axis with
// its ticks, computed in C by view/axis.c: this script only draws them. A comparison of several seeds has each other
// seed's data in a script.hdata-seed[data-seed=K]: the histograms follow the report's seed chooser (page/seeds.js,
// which runs first): one seed alone shows that seed's, all seeds the first seed's (#hdata), and #hseed says which.
(function () {
  var first = JSON.parse(document.getElementById('hdata').textContent), D = null, parsed = {};
  var box = document.getElementById('hists'), NS = 'http://www.w3.org/2000/svg';
  var chooser = document.querySelector('.controls.seeds select'), said = document.getElementById('hseed');
  var allNote = document.getElementById('hseed-all');
  var G = [], steps = [], nh = 0, rows = [];
  // The data of the seed the chooser shows ('all' or a seed without data of its own: the first seed's).
  function chosen() {
    var k = chooser ? chooser.value : 'all';
    if (k === 'all' || String(first.seed) === k) return first;
    if (!parsed[k]) {
      var e = document.querySelector('script.hdata-seed[data-seed="' + k + '"]');
      parsed[k] = e ? JSON.parse(e.textContent) : first;
    }
    return parsed[k];
  }
  // A frame is [step, n, under, over, c0 .. c{bins-1}]: under and over are the values below lo and at or above hi that
  // the edge bins also count (run/histlog.h); -1 in a log without them (h.outside = 0: gradient histograms, and
  // histograms.csv written before they were recorded).
  // W: the viewBox width of every panel on the page (view/figmodel.h FIGMODEL_SVG_W), so the type is the same size.
  // Above the frame two lines: the legend, then the step shown and the shares outside (a long legend, "BN, η = 16",
  // and "step 300 · outside: 0.6% below, 0.29% above" do not fit on one).
  var W = 520, H = 318, L = 74, R_ = 30, T = 46, B = 48, OUT = 12;
  function nbins(f) { return f.length - 4; }
  // Bin j's density (count / (n x bin width)), its values outside [lo, hi) left out when the log says how many.
  function dens(h, f, j) {
    var nb = nbins(f), w = (h.hi - h.lo) / nb, c = f[j + 4];
    if (h.outside && j === 0) c -= f[2];
    if (h.outside && j === nb - 1) c -= f[3];
    return f[1] > 0 ? c / (f[1] * w) : 0;
  }
  // The values outside, drawn as a bin of their own beyond each end of the axis (the same width as a bin).
  function odens(h, f, side) { var w = (h.hi - h.lo) / nbins(f); return h.outside && f[1] > 0 ? f[2 + side] / (f[1] * w) : 0; }
  function fpeak(h, f) {
    var m = Math.max(odens(h, f, 0), odens(h, f, 1));
    for (var j = 0; j < nbins(f); j++) m = Math.max(m, dens(h, f, j));
    return m;
  }
  // The y axis: the 90th percentile of the frames' tallest bars, fixed over time (a frame with a taller bar has it
  // cut at the top and marked), so that one spiky frame neither flattens the others nor makes the axis jump.
  function robust(hs) {
    var p = [];
    hs.forEach(function (h) { if (h && h.frames) h.frames.forEach(function (f) { p.push(fpeak(h, f)); }); });
    if (!p.length) return 0;
    p.sort(function (a, b) { return a - b; });
    return p[Math.min(p.length - 1, Math.floor(0.9 * (p.length - 1) + 0.5))];
  }
  function peak(h) { return robust([h]); }
  // The cells of hidden layer k from one kind of histogram (key: 'hidden' or 'grad', its axis R) into the DOM row.
  function cellsOf(k, R, key, row, grad) {
    var lo = R.lo, hi = R.hi, cells = [], hs = [];
    D.panels.forEach(function (p) {
      var h = (p[key] || [])[k];
      if (h && h.frames && h.frames.length) hs.push(h);
    });
    var ym = robust(hs);
    D.panels.forEach(function (p) {
      var h = (p[key] || [])[k];
      var s = document.createElementNS(NS, 'svg');
      s.setAttribute('viewBox', '0 0 ' + W + ' ' + H); s.setAttribute('class', 'hist' + (grad ? ' grad' : ''));
      s.setAttribute('data-panel', p.name); s.setAttribute('data-hidden', k + 1);
      function tx(x, y, str, a, c) {
        var e = document.createElementNS(NS, 'text');
        e.setAttribute('x', x); e.setAttribute('y', y); e.setAttribute('text-anchor', a || 'middle');
        if (c) e.setAttribute('class', c);
        e.textContent = str; s.appendChild(e); return e;
      }
      var fr = document.createElementNS(NS, 'rect');
      fr.setAttribute('x', L); fr.setAttribute('y', T); fr.setAttribute('width', W - L - R_); fr.setAttribute('height', H - T - B);
      fr.setAttribute('class', 'frame'); s.appendChild(fr);
      R.ticks.forEach(function (v) {
        if (v[1] !== '' && v[0] >= lo && v[0] <= hi) tx(L + (v[0] - lo) / (hi - lo) * (W - L - R_), H - B + 21, v[1]);
      });
      tx(L + (W - L - R_) / 2, H - 4, !h ? '' : grad ? 'gradient \u2202L/\u2202h at the nonlinearity\'s input (training batch)'
         : 'output of model.layers[' + h.layer + '] (' + h.type + ')', 'middle', 'tick');
      tx(L, T - 26, p.name + (grad ? ': gradient' : ''), 'start', 'legend').setAttribute('fill', p.color);
      var top = tx(L - OUT - 4, T + 10, '', 'end', 'tick'); tx(L - OUT - 4, H - B, '0', 'end', 'tick');
      var lab = tx(W - R_, T - 6, '', 'end', 'tick');
      var g = document.createElementNS(NS, 'g'); g.setAttribute('fill', p.color); s.appendChild(g);
      row.appendChild(s);
      cells.push({h: h, svg: s, g: g, lab: lab, top: top, own: peak(h)});
    });
    rows.push({lo: lo, hi: hi, ym: ym, cells: cells});
  }
  // Builds the rows of panels of data d; false when it has no frame (the page says so instead).
  function build(d) {
    D = d, G = D.grows || [], steps = [], rows = [], nh = Math.max(D.rows.length, G.length);
    var seen = {};
    while (box.firstChild) box.removeChild(box.firstChild);
    if (said) said.textContent = 'seed ' + D.seed;
    if (allNote) allNote.hidden = !chooser || chooser.value !== 'all';
    document.body.setAttribute('data-hseed', D.seed);
    // Forward histograms (hidden, rows) and, under them in each hidden layer's rows, the gradient histograms (grad,
    // grows: log.gradients_every) — one slider for both.
    D.panels.forEach(function (p) {
      p.hidden.concat(p.grad || []).forEach(function (h) {
        (h.frames || []).forEach(function (f) { if (!seen[f[0]]) { seen[f[0]] = 1; steps.push(f[0]); } });
      });
    });
    steps.sort(function (a, b) { return a - b; });
    box.className = steps.length ? '' : 'note absent';
    document.getElementById('controls').style.display = steps.length ? '' : 'none';
    if (!steps.length) {
      box.textContent = 'Histograms: not logged in this run (turn them on with log.histograms.every, e.g. --set log.histograms.every=100; ' +
        'the gradients\' with log.gradients_every).';
      return false;
    }
    for (var k = 0; k < nh; k++) {
      var units = '', old = 0, any = 0;
      D.panels.forEach(function (p) {
        var h = p.hidden[k] || (p.grad || [])[k];
        if (h && h.frames && h.frames.length) units = h.units + ' units';
        if (p.hidden[k] && p.hidden[k].frames && p.hidden[k].frames.length) any = 1, old |= !p.hidden[k].outside;
      });
      var t = document.createElement('div');
      t.className = 'hname'; t.textContent = 'hidden layer ' + (k + 1) + (units ? ' (' + units + ')' : '') + (!any ? '' :
        old ? ' \u2014 its edge bins (dashed) also hold the values outside the axis: this log predates the under/over counts'
            : ' \u2014 beyond each end of the axis (light, outlined): the values that fell outside it');
      box.appendChild(t);
      // The gradients in a row of their own under the layer's forward row: each variant in the same column.
      [[D.rows, 'hidden', false], [G, 'grad', true]].forEach(function (kind) {
        if (k >= kind[0].length) return;
        var row = document.createElement('div'); row.className = 'row'; box.appendChild(row);
        cellsOf(k, kind[0][k], kind[1], row, kind[2]);
      });
    }
    slider.max = steps.length - 1;
    return true;
  }
  var slider = document.getElementById('slider'), out = document.getElementById('hstep'), ysel = document.getElementById('yscale');
  function draw(i) {
    var st = steps[i], mode = ysel.value, tf = mode === 'sqrt' ? Math.sqrt : function (x) { return x; };
    slider.value = i; out.textContent = st; document.body.setAttribute('data-step', st);
    rows.forEach(function (r) {
      var sc = (W - L - R_) / (r.hi - r.lo);
      r.cells.forEach(function (c) {
        var ym = mode === 'own' ? c.own : r.ym;
        c.top.textContent = ym > 0 ? String(+ym.toPrecision(2)) : '';
        while (c.g.firstChild) c.g.removeChild(c.g.firstChild);
        var hs = [], f = null;
        if (c.h && c.h.frames) c.h.frames.forEach(function (x) { if (x[0] <= st) f = x; });
        if (!f) { c.lab.textContent = 'no frame yet'; c.svg.setAttribute('data-heights', ''); return; }
        c.lab.textContent = 'step ' + f[0];
        var nb = nbins(f), w = (c.h.hi - c.h.lo) / nb, full = H - T - B;
        function bar(x0, width, d, cls) {  // a bar of density d; taller than the axis: cut at the top, marked
          var hp = ym > 0 ? tf(d) / tf(ym) * full : 0, cut = hp > full;
          if (cut) hp = full;
          if (hp <= 0) return 0;
          var e = document.createElementNS(NS, 'rect');
          e.setAttribute('x', x0.toFixed(1)); e.setAttribute('width', Math.max(width, 0.5).toFixed(1));
          e.setAttribute('y', (H - B - hp).toFixed(1)); e.setAttribute('height', hp.toFixed(1));
          if (cls) e.setAttribute('class', cls);
          c.g.appendChild(e);
          if (cut) {
            var m = document.createElementNS(NS, 'rect');
            m.setAttribute('x', x0.toFixed(1)); m.setAttribute('width', Math.max(width, 0.5).toFixed(1));
            m.setAttribute('y', T); m.setAttribute('height', 3); m.setAttribute('class', 'cut');
            c.g.appendChild(m);
          }
          return hp;
        }
        for (var j = 0; j < nb; j++) {
          var x0 = L + (c.h.lo + j * w - r.lo) * sc;
          // A log without under/over: its edge bins also count every value outside [lo, hi]: drawn outlined.
          var hp = bar(x0, w * sc - 0.5, dens(c.h, f, j), !c.h.outside && (j === 0 || j === nb - 1) ? 'edge' : '');
          hs.push(Math.round(hp * 10) / 10);
        }
        if (c.h.outside) {  // the values outside: a bin of their own beyond each end, their shares in the header
          var left = L + (c.h.lo - r.lo) * sc, right = L + (c.h.hi - r.lo) * sc, share = [];
          [0, 1].forEach(function (side) {
            bar(side ? right + 1 : left - OUT - 1, OUT, odens(c.h, f, side), 'outside');
            if (f[2 + side] > 0) share.push(+(100 * f[2 + side] / f[1]).toPrecision(2) + '% ' + (side ? 'above' : 'below'));
          });
          if (share.length) c.lab.textContent += ' \u00b7 outside: ' + share.join(', ');
          c.svg.setAttribute('data-outside', f[2] + ',' + f[3]);
        }
        c.svg.setAttribute('data-heights', hs.join(','));
      });
    });
  }
  slider.addEventListener('input', function () { draw(+slider.value); });
  ysel.addEventListener('change', function () { draw(+slider.value); });
  var timer = null, btn = document.getElementById('play');
  function stop() { clearInterval(timer); timer = null; btn.textContent = '\u25B6 play'; }
  btn.addEventListener('click', function () {
    if (timer) { stop(); return; }
    btn.textContent = '\u275A\u275A pause';
    if (+slider.value >= steps.length - 1) draw(0);
    timer = setInterval(function () {
      var i = +slider.value + 1;
      if (i >= steps.length) { stop(); return; }
      draw(i);
    }, Math.max(60, Math.min(400, 8000 / steps.length)));
  });
  function heights() {
    return Array.prototype.map.call(box.querySelectorAll('svg.hist'), function (s) { return s.getAttribute('data-heights'); }).join('|');
  }
  var ok = build(chosen());
  if (ok) draw(steps.length - 1);
  // Another seed chosen: its histograms, at the step shown before (or the last one before it).
  if (chooser) chooser.addEventListener('change', function () {
    var d = chosen(), st = +document.body.getAttribute('data-step');
    if (d === D) return;
    stop();
    if (!build(d)) return;
    var i = 0;
    while (i < steps.length - 1 && steps[i + 1] <= st) i++;
    draw(i);
  });
  if (!ok) return;
  if (/[#&]playtest(&|$)/.test(location.hash)) {
    draw(0); btn.click();
    setTimeout(function () {
      var d = document.createElement('div'); d.id = 'playtest';
      d.setAttribute('data-step', document.body.getAttribute('data-step')); d.setAttribute('data-playing', timer ? 'yes' : 'no');
      document.body.appendChild(d);
    }, 1000);
  }
  if (/[#&]selftest(&|$)/.test(location.hash)) {
    draw(0); var a = heights(); draw(steps.length - 1); var b = heights();
    var d = document.createElement('div'); d.id = 'selftest';
    d.setAttribute('data-frames', steps.length); d.setAttribute('data-first', a); d.setAttribute('data-last', b);
    d.setAttribute('data-changed', a !== b ? 'yes' : 'no'); d.setAttribute('data-panels', box.querySelectorAll('svg.hist').length);
    document.body.appendChild(d);
  }
})();
