// bnlab report: the seed chooser. Every figure is on the page once from all seeds (the median thick, each seed
// faint: data-seed="all") and once from each seed alone; the chooser shows one of them and hides the others.
(function () {
  var sel = document.getElementById('seed');
  if (!sel) return;
  function show() {
    Array.prototype.forEach.call(document.querySelectorAll('.seedview'), function (v) {
      v.hidden = v.getAttribute('data-seed') !== sel.value;
    });
    document.body.setAttribute('data-seed', sel.value);
  }
  sel.addEventListener('change', show);
  var m = /[#&]seed=([0-9]+|all)/.exec(location.hash);
  if (m) sel.value = m[1];
  show();
})();
