// Loaded before require.js on pages with ipywidgets (see nb_ipywidgets_js in _config.yml).
// The widget embedder (embed-amd.js, vendored into _static/thirdparty/html-manager/) finds its
// font files through require.js's URL of the module "@jupyter-widgets/html-manager/dist/...",
// which by default is relative to the page. Point that module path at the vendored copy,
// so the fonts come from the book itself and not from a 404 or a CDN. The bundled modules
// "@jupyter-widgets/base", "@jupyter-widgets/controls", ... compute the same fonts' URL from
// their own module URLs: left relative to the page (book/@jupyter-widgets/*.woff2, a 404
// whenever the browser picked their copy of the @font-face rules), they point there too.
(function () {
  var here = document.currentScript && document.currentScript.src;
  var base = here ? here.slice(0, here.lastIndexOf("/") + 1) : "_static/";
  window.require = {
    paths: { "@jupyter-widgets/html-manager/dist": base + "thirdparty/html-manager",
             "@jupyter-widgets": base + "thirdparty/html-manager" }
  };
})();

// ipywidgets 8's controls typeset their descriptions with MathJax 2's MathJax.Hub.Queue
// whenever window.MathJax exists; the book serves MathJax 3, which has no Hub, so every
// widget logged "Cannot read properties of undefined (reading 'Queue')". Give MathJax a Hub
// whose Queue typesets the element with MathJax 3 (typesetPromise): held until MathJax has
// started, then run. This script runs before the deferred MathJax 3 script, whose startup
// keeps this object as its configuration and calls startup.ready.
(function () {
  var mj = window.MathJax = window.MathJax || {};
  var waiting = [];
  function typeset(elements) {
    var M = window.MathJax;
    if (M && M.typesetPromise) {
      M.typesetPromise(elements).catch(function () {});
    } else {
      waiting.push.apply(waiting, elements);
    }
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];  // ["Typeset", MathJax.Hub, element]
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) typeset([job[2]]);
      }
    }
  };
  if (!mj.Hub) mj.Hub = hub;
  mj.startup = mj.startup || {};
  var ready = mj.startup.ready;
  mj.startup.ready = function () {
    if (ready) ready(); else window.MathJax.startup.defaultReady();
    if (!window.MathJax.Hub) window.MathJax.Hub = hub;
    if (waiting.length) typeset(waiting.splice(0));
  };
})();
