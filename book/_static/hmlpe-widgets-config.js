// Loaded before require.js on pages with ipywidgets (see nb_ipywidgets_js in _config.yml).
// The widget embedder (embed-amd.js, vendored into _static/thirdparty/html-manager/) finds its
// font files through require.js's URL of the module "@jupyter-widgets/html-manager/dist/...",
// which by default is relative to the page. Point that module path at the vendored copy,
// so the fonts come from the book itself and not from a 404 or a CDN.
(function () {
  var here = document.currentScript && document.currentScript.src;
  var base = here ? here.slice(0, here.lastIndexOf("/") + 1) : "_static/";
  window.require = {
    paths: { "@jupyter-widgets/html-manager/dist": base + "thirdparty/html-manager" }
  };
})();
