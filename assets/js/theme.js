// The remembered theme (or the system's), applied before the first paint; frontend/src/theme.rs keeps it up to
// date. A file, not an inline script: the console's Content-Security-Policy allows no inline script.
(function () {
  var t = null;
  try { t = localStorage.getItem('berth-theme'); } catch (e) {}
  if (t !== 'light' && t !== 'dark') {
    t = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  document.documentElement.setAttribute('data-theme', t);
})();
