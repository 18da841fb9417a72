// bnlab report, opened with #selftest (for tests): what the figures draw, read back from the DOM into
// a div of id "panels": per figure kind (data-kind: accuracy, layers, ics, ...) the number of panels shown (not those of
// a seed the seed chooser hides) and, per panel, its lines and bands with at least one point; the first panel's title
// of each kind; and each legend entry's colour ("name=#RRGGBB;..."), so a test can check that a variant keeps its
// colour across the page.
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
  });
  var keys = Array.prototype.map.call(document.querySelectorAll('svg text.legend'), function (t) {
    var k = t.previousElementSibling;
    return t.textContent + '=' + (k && k.classList.contains('key') ? k.getAttribute('stroke') : t.getAttribute('fill'));
  });
  d.setAttribute('data-legend', keys.join(';'));
  document.body.appendChild(d);
})();
