// The label explorer of chapter 3 in the static book (hmlpe/companion/label_explorer.py writes
// the fragment; _config.yml lists this file in html_js_files, so every page loads it and pages
// without an explorer do nothing). Each element with class "hmlpe-label-explorer" carries its
// data as JSON in <script type="application/json" class="hmlpe-le-data">: eq. 2's indicator
// maps of one example precomputed for a grid of beta values, window sizes, layouts and parts.
// Moving a control picks the nearest grid point, draws its map over the crop and as an
// 8 x 8 map, and rewrites the numbers line (the same text as ExplorerGrid.numbers in Python).
// No request, no eval: the crop is a data: URI in the JSON.
(function () {
  "use strict";

  function nearest(values, v) {
    var best = 0;
    for (var i = 1; i < values.length; i++) {
      if (Math.abs(values[i] - v) < Math.abs(values[best] - v)) best = i;
    }
    return best;
  }

  function decodeBits(b64) {
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function setup(root) {
    if (root.getAttribute("data-ready")) return;
    var node = root.querySelector("script.hmlpe-le-data");
    if (!node) return;
    var d = JSON.parse(node.textContent);
    var bits = decodeBits(d.bits);
    var g = d.grid, nP = d.parts.length, nB = d.betas.length, nW = d.windows.length;
    var ctl = {
      part: root.querySelector('select[name="part"]'),
      beta: root.querySelector('input[name="beta"]'),
      window: root.querySelector('input[name="window"]'),
      layout: root.querySelector('select[name="layout"]')
    };
    var betaOut = root.querySelector('output[name="beta-value"]');
    var windowOut = root.querySelector('output[name="window-value"]');
    var cropCanvas = root.querySelector("canvas.hmlpe-le-crop");
    var mapCanvas = root.querySelector("canvas.hmlpe-le-map");
    var numbers = root.querySelector(".hmlpe-le-numbers");
    var note = root.querySelector(".hmlpe-le-note");
    var image = new Image();

    function state() {
      return {
        l: Math.max(0, d.layouts.indexOf(ctl.layout.value)),
        w: nearest(d.windows, parseFloat(ctl.window.value)),
        b: nearest(d.betas, parseFloat(ctl.beta.value)),
        p: Math.max(0, d.parts.indexOf(ctl.part.value))
      };
    }

    function mapOf(s) {  // bool[g][g] of grid point s
      var base = ((((s.l * nW + s.w) * nB + s.b) * nP + s.p) * g) * g;
      var m = [];
      for (var r = 0; r < g; r++) {
        var row = [];
        for (var c = 0; c < g; c++) {
          var i = base + r * g + c;
          row.push(((bits[i >> 3] >> (7 - (i & 7))) & 1) === 1);
        }
        m.push(row);
      }
      return m;
    }

    function countsOf(s) {  // windows labelled 1 of every part at (layout, window, beta)
      var base = ((s.l * nW + s.w) * nB + s.b) * nP;
      return d.counts.slice(base, base + nP);
    }

    function text(s) {
      var counts = countsOf(s);
      var len = d.lengths[s.p];
      var stick = len === null ? "unannotated" : len.toFixed(1) + " px";
      var all = d.parts.map(function (n, i) { return n + " " + counts[i]; }).join(", ");
      return d.parts[s.p] + " (stick " + stick + "), beta " + String(d.betas[s.b]) +
        ", window " + d.windows[s.w] + ", " + d.layouts[s.l] + " layout: " + counts[s.p] +
        " of " + g * g + " windows labelled 1. All parts: " + all + ".";
    }

    function drawCrop(s, m) {
      var ctx = cropCanvas.getContext("2d");
      var k = d.scale, off = 1;  // one crop pixel of margin on the top and left
      function X(v) { return (v + off) * k; }
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, cropCanvas.width, cropCanvas.height);
      ctx.fillStyle = "#dddddd";
      ctx.fillRect(0, 0, cropCanvas.width, cropCanvas.height);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(image, X(0), X(0), d.crop * k, d.crop * k);
      var e = d.edges[d.layouts[s.l]][s.w], lo = e[0], hi = e[1];
      ctx.lineWidth = 1;
      ctx.strokeStyle = "rgba(255, 255, 255, 0.3)";
      for (var r = 0; r < g; r++) {
        for (var c = 0; c < g; c++) {
          ctx.strokeRect(X(lo[c]), X(lo[r]), (hi[c] - lo[c]) * k, (hi[r] - lo[r]) * k);
        }
      }
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#ffffff";
      ctx.fillStyle = "rgba(255, 255, 255, 0.08)";
      for (r = 0; r < g; r++) {
        for (c = 0; c < g; c++) {
          if (!m[r][c]) continue;
          ctx.fillRect(X(lo[c]), X(lo[r]), (hi[c] - lo[c]) * k, (hi[r] - lo[r]) * k);
          ctx.strokeRect(X(lo[c]), X(lo[r]), (hi[c] - lo[c]) * k, (hi[r] - lo[r]) * k);
        }
      }
      var st = d.sticks[s.p];
      if (st[0] !== null && st[1] !== null) {
        ctx.strokeStyle = "#ff0000";
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(X(st[0][0]), X(st[0][1]));
        ctx.lineTo(X(st[1][0]), X(st[1][1]));
        ctx.stroke();
        ctx.fillStyle = "#00e000";
        for (var j = 0; j < 2; j++) {
          ctx.beginPath();
          ctx.arc(X(st[j][0]), X(st[j][1]), 4, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }

    function drawMap(m) {
      var ctx = mapCanvas.getContext("2d"), k = d.cell;
      ctx.fillStyle = "#000000";
      ctx.fillRect(0, 0, mapCanvas.width, mapCanvas.height);
      ctx.fillStyle = "#ffffff";
      for (var r = 0; r < g; r++) {
        for (var c = 0; c < g; c++) {
          if (m[r][c]) ctx.fillRect(c * k, r * k, k, k);
        }
      }
      ctx.strokeStyle = "#808080";
      ctx.lineWidth = 1;
      for (var i = 0; i <= g; i++) {
        ctx.beginPath(); ctx.moveTo(i * k + 0.5, 0); ctx.lineTo(i * k + 0.5, g * k); ctx.stroke();
        ctx.beginPath(); ctx.moveTo(0, i * k + 0.5); ctx.lineTo(g * k, i * k + 0.5); ctx.stroke();
      }
    }

    function update() {
      var s = state();
      var m = mapOf(s);
      betaOut.textContent = String(d.betas[s.b]);
      windowOut.textContent = String(d.windows[s.w]);
      drawCrop(s, m);
      drawMap(m);
      numbers.textContent = text(s);
      root.setAttribute("data-shown", [d.layouts[s.l], d.windows[s.w], d.betas[s.b],
                                       d.parts[s.p]].join(" "));
    }

    image.onload = function () {
      Object.keys(ctl).forEach(function (name) {
        ctl[name].disabled = false;
        ctl[name].addEventListener("input", update);
        ctl[name].addEventListener("change", update);
      });
      if (note) {
        note.textContent = "Static page: indicator maps precomputed when the book was built " +
          "for beta " + d.betas[0] + " to " + d.betas[d.betas.length - 1] + " (" + nB +
          " values) and windows " + d.windows[0] + " to " + d.windows[d.windows.length - 1] +
          " px (" + nW + " values); moving a control shows the nearest precomputed map.";
      }
      update();
      root.setAttribute("data-ready", "1");
    };
    image.src = d.image;
  }

  function setupAll() {
    var roots = document.querySelectorAll(".hmlpe-label-explorer");
    for (var i = 0; i < roots.length; i++) setup(roots[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupAll);
  } else {
    setupAll();
  }
})();
