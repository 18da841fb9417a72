// bnlab report, opened with #selftest (for tests): what the SVG panels draw, read back from the DOM into
// <div id="panels">: per class (fan, ics, landscape, curve, ...) the number of panels and, per panel, its lines and
// bands with at least one point; the first fan's variant; and each legend entry's colour ("name=#RRGGBB;..."), so a
// test can check that a variant keeps its colour across the page.
(function () {
  if (location.hash !== '#selftest') return;
  var d = document.createElement('div'); d.id = 'panels';
  ['fan', 'ics', 'landscape', 'curve', 'figure'].forEach(function (c) {
    var s = document.querySelectorAll('svg.' + c);
    d.setAttribute('data-' + c, s.length);
    d.setAttribute('data-' + c + '-series', Array.prototype.map.call(s, function (e) {
      return Array.prototype.filter.call(e.querySelectorAll('.series'), function (x) {
        var p = x.getAttribute('points'); return p !== null && p.trim() !== '';
      }).length;
    }).join(','));
  });
  var f = document.querySelector('svg.fan');
  d.setAttribute('data-fan-first', f ? f.getAttribute('data-variant') : '');
  var keys = Array.prototype.map.call(document.querySelectorAll('svg text.legend'), function (t) {
    var k = t.previousElementSibling;
    return t.textContent + '=' + (k && k.classList.contains('key') ? k.getAttribute('stroke') : t.getAttribute('fill'));
  });
  d.setAttribute('data-legend', keys.join(';'));
  document.body.appendChild(d);
})();
