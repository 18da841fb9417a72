// bnlab report, opened with #selftest (for tests): what the figures draw, read back from the DOM into
// a div of id "panels": per figure kind (data-kind: accuracy, layers, ics, ...) the number of panels shown (not those of
// a seed the seed chooser hides) and, per panel, its lines and bands with at least one point; the first panel's title
// of each kind; each legend entry's colour ("name=#RRGGBB;..."), so a test can check that a variant keeps its
// colour across the page; and per kind (data-KIND-under-text) how many data points — an opaque line's points and 20
// points on the way to the next, a range's markers and error bar ends, as the browser laid them out — lie inside the
// box of a panel's text (text.panel-text, its getBBox() as rendered): text must never cover data.
(function () {
  if (!/^#selftest/.test(location.hash)) return;
  var d = document.createElement('div'); d.id = 'panels';
  var shown = Array.prototype.filter.call(document.querySelectorAll('svg.figure'), function (e) {
    return !e.closest('[hidden]');
  });
  var kinds = {};
  shown.forEach(function (e) { var k = e.getAttribute('data-kind'); (kinds[k] = kinds[k] || []).push(e); });
  Object.keys(kinds).forEach(function (k) {
    d.setAttribute('data-' + k, kinds[k].length);
    d.setAttribute('data-' + k + '-series', kinds[k].map(function (e) {
      return Array.prototype.filter.call(e.querySelectorAll('.series'), function (x) {
        var p = x.getAttribute('points'); return p !== null && p.trim() !== '';
      }).length;
    }).join(','));
    d.setAttribute('data-' + k + '-first', kinds[k][0].getAttribute('data-title'));
    d.setAttribute('data-' + k + '-under-text', kinds[k].map(underText).reduce(function (a, b) { return a + b; }, 0));
  });
  function underText(svg) {
    var boxes = Array.prototype.map.call(svg.querySelectorAll('text.panel-text'), function (t) { return t.getBBox(); });
    var pts = [];
    Array.prototype.forEach.call(svg.querySelectorAll('polyline.series'), function (l) {
      if (parseFloat(l.getAttribute('stroke-opacity') || '1') < 1) return;  // a faint curve may lie under the text
      var p = l.getAttribute('points').trim().split(/\s+/).filter(Boolean).map(function (xy) { return xy.split(',').map(Number); });
      p.forEach(function (a, i) {
        var b = p[i + 1] || a;
        for (var t = 0; t < (p[i + 1] ? 20 : 1); t++) pts.push([a[0] + (b[0] - a[0]) * t / 20, a[1] + (b[1] - a[1]) * t / 20]);
      });
    });
    Array.prototype.forEach.call(svg.querySelectorAll('g.range circle'), function (c) {
      pts.push([+c.getAttribute('cx'), +c.getAttribute('cy')]);
    });
    Array.prototype.forEach.call(svg.querySelectorAll('g.range path.bar'), function (e) {
      var m = /^M([-\d.]+) ([-\d.]+)V([-\d.]+)/.exec(e.getAttribute('d'));
      if (m) pts.push([+m[1], +m[2]], [+m[1], +m[3]]);
    });
    return pts.filter(function (q) {
      return boxes.some(function (b) { return q[0] > b.x && q[0] < b.x + b.width && q[1] > b.y && q[1] < b.y + b.height; });
    }).length;
  }
  var keys = Array.prototype.map.call(document.querySelectorAll('svg text.legend'), function (t) {
    var k = t.previousElementSibling;
    return t.textContent + '=' + (k && k.classList.contains('key') ? k.getAttribute('stroke') : t.getAttribute('fill'));
  });
  d.setAttribute('data-legend', keys.join(';'));
  document.body.appendChild(d);
})();
