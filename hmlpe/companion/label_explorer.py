"""The label explorer of the static book: eq. 2's part indicator maps of one example,
precomputed for a grid of beta values and window sizes, shown by a small script of the book.

In a live Jupyter kernel chapter 3's ipywidgets sliders recompute the maps; the built HTML has
no kernel. :func:`precompute` therefore computes, at build time, the indicator maps of the 7
parts of one example (``hmlpe.data.labels.labels_from_joints``) for every ``beta`` of
:data:`BETAS`, every window side of :data:`WINDOWS` and every layout of ``labels.LAYOUTS``;
:func:`render_html` writes them as a self-contained HTML fragment (the crop as a PNG data URI,
the maps as packed bits, the count of windows labelled 1 per part), with range inputs for
beta and the window size and selects for the part and the layout. The fragment's behaviour
is ``book/_static/hmlpe-label-explorer.js`` (:data:`SCRIPT`, loaded on every page of the book
through ``html_js_files`` in ``_config.yml``): it reads the fragment's JSON, draws the chosen
map into two canvases and rewrites the numbers line. Nothing is fetched: no CDN, no request.

Without the script (a notebook opened in Jupyter) the fragment shows its note, disabled
controls and the numbers of the initial state (the chapter's parameters, snapped to the grid).

The output is deterministic (no random ids, PIL's PNG has no timestamp), so nbval can compare
the stored output of the cell that shows it.

Data layout (JSON in ``<script type="application/json" class="hmlpe-le-data">``):
``bits`` is base64 of ``np.packbits`` of the bool maps of shape
(layouts, windows, betas, parts, grid, grid) in C order (most significant bit first);
``counts`` the positive windows per map, shape (layouts, windows, betas, parts), flattened;
``edges[layout][k]`` the ``(lo, hi)`` window edges along one axis for ``windows[k]``
(``labels.window_edges``); ``sticks`` and ``lengths`` the parts' end points and lengths in
crop pixels (pixel-edge coordinates), ``null`` for an unannotated joint.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypedDict

import numpy as np

from hmlpe.config import LabelConfig
from hmlpe.data.labels import LAYOUTS, labels_from_joints, window_edges
from hmlpe.skeleton import JOINTS, PART_NAMES, parts_from_joints

SCRIPT = "hmlpe-label-explorer.js"  # book/_static/, listed in _config.yml html_js_files
CSS_CLASS = "hmlpe-label-explorer"
# The live sliders' ranges: beta 0 .. 0.95 in steps of 0.05 (20 values, the paper's 0.3 among
# them); window sides 10 .. 60 in steps of 5 (11 values, the paper's 30 among them).
BETAS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(20))
WINDOWS: tuple[int, ...] = tuple(range(10, 61, 5))
SCALE = 3  # canvas pixels per crop pixel
MAP_CELL = 22  # canvas pixels per window of the indicator-map canvas


@dataclass(frozen=True)
class ExplorerGrid:
    """Precomputed indicator maps of one example's 7 parts (eq. 2).

    ``maps``: bool (layouts, windows, betas, parts, grid, grid); ``sticks``: (7, 2, 2) crop
    pixels; ``crop`` and ``grid`` those of the :class:`LabelConfig` used.
    """

    betas: tuple[float, ...]
    windows: tuple[int, ...]
    layouts: tuple[str, ...]
    maps: np.ndarray
    sticks: np.ndarray
    crop: int
    grid: int

    @property
    def counts(self) -> np.ndarray:
        """Windows labelled 1 per map: int (layouts, windows, betas, parts)."""
        return self.maps.sum(axis=(-2, -1))

    @property
    def lengths(self) -> np.ndarray:
        """Stick lengths (7,) in crop pixels (NaN for an unannotated joint)."""
        return np.hypot(*np.moveaxis(self.sticks[:, 1] - self.sticks[:, 0], -1, 0))

    def index(self, part: str, beta: float, window: int, layout: str) -> tuple[int, int, int, int]:
        """Indices ``(layout, window, beta, part)`` of the grid point nearest to the values
        (beta and window snapped to the grid)."""
        if part not in PART_NAMES:
            raise ValueError(f"part must be one of {PART_NAMES}, got {part!r}")
        if layout not in self.layouts:
            raise ValueError(f"layout must be one of {self.layouts}, got {layout!r}")
        return (
            self.layouts.index(layout),
            int(np.argmin(np.abs(np.asarray(self.windows) - window))),
            int(np.argmin(np.abs(np.asarray(self.betas) - beta))),
            PART_NAMES.index(part),
        )

    def map(self, part: str, beta: float, window: int, layout: str = "uniform") -> np.ndarray:
        """The precomputed map (grid, grid) nearest to the values (see :meth:`index`)."""
        return self.maps[self.index(part, beta, window, layout)]

    def numbers(self, part: str, beta: float, window: int, layout: str = "uniform") -> str:
        """The numbers line shown beside the maps; the script writes the same text."""
        li, wi, bi, pi = self.index(part, beta, window, layout)
        counts = self.counts[li, wi, bi]
        length = self.lengths[pi]
        stick = "unannotated" if np.isnan(length) else f"{_round(length, 1):.1f} px"
        per_part = ", ".join(f"{n} {int(c)}" for n, c in zip(PART_NAMES, counts))
        return (
            f"{part} (stick {stick}), beta {_g(self.betas[bi])}, window "
            f"{self.windows[wi]}, {self.layouts[li]} layout: {int(counts[pi])} of "
            f"{self.grid**2} windows labelled 1. All parts: {per_part}."
        )


def _g(x: float) -> str:
    """A grid value as both Python's ``{:g}`` and JavaScript's ``String`` write it."""
    return f"{x:g}"


def _round(x: float, digits: int) -> float:
    return float(np.round(x, digits))


def precompute(
    joints, betas=BETAS, windows=WINDOWS, layouts=LAYOUTS, cfg: LabelConfig = LabelConfig()
) -> ExplorerGrid:
    """Eq. 2 for the 8 ``joints`` (crop pixels, pixel-edge coordinates, on the ``cfg.crop``
    crop) at every (layout, window, beta) of the grid, with ``labels.labels_from_joints``
    (``cfg``'s crop and grid; its beta, window and layout are replaced by the grid's)."""
    j = np.asarray(joints, dtype=float)
    if j.shape != (len(JOINTS), 2):
        raise ValueError(f"joints must have shape ({len(JOINTS)}, 2), got {j.shape}")
    betas = tuple(float(b) for b in betas)
    windows = tuple(int(w) for w in windows)
    layouts = tuple(layouts)
    if not betas or not windows or not layouts:
        raise ValueError("need at least one beta, one window size and one layout")
    if list(betas) != sorted(set(betas)) or list(windows) != sorted(set(windows)):
        raise ValueError("betas and windows must be increasing")
    maps = np.zeros(
        (len(layouts), len(windows), len(betas), len(PART_NAMES), cfg.grid, cfg.grid), dtype=bool
    )
    for li, layout in enumerate(layouts):
        for wi, window in enumerate(windows):
            for bi, beta in enumerate(betas):
                point = replace(cfg, beta=beta, window=window, layout=layout)
                maps[li, wi, bi] = labels_from_joints(j[None], point)[0]
    return ExplorerGrid(
        betas=betas,
        windows=windows,
        layouts=layouts,
        maps=maps,
        sticks=parts_from_joints(j),
        crop=cfg.crop,
        grid=cfg.grid,
    )


def png_data_uri(image) -> str:
    """``data:image/png;base64,...`` of a uint8 (H, W[, 3]) image (PIL, no metadata)."""
    from PIL import Image

    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {a.dtype}")
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _nan_to_none(a: np.ndarray, digits: int):
    return [None if np.isnan(v) else _round(v, digits) for v in np.asarray(a, float).ravel()]


def payload_edges(grid: ExplorerGrid) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """``labels.window_edges`` for every (layout, window) of the grid."""
    return [
        [window_edges(grid.crop, w, grid.grid, lay) for w in grid.windows] for lay in grid.layouts
    ]


def payload(grid: ExplorerGrid, image, initial: Mapping[str, object]) -> dict:
    """The JSON the script reads (module docstring)."""
    edges = {
        layout: [[[_round(v, 3) for v in lo], [_round(v, 3) for v in hi]] for lo, hi in per_window]
        for layout, per_window in zip(grid.layouts, payload_edges(grid))
    }
    sticks = [
        [None if np.isnan(p).any() else [_round(p[0], 2), _round(p[1], 2)] for p in s]
        for s in grid.sticks
    ]
    return {
        "version": 1,
        "crop": grid.crop,
        "grid": grid.grid,
        "parts": list(PART_NAMES),
        "layouts": list(grid.layouts),
        "betas": list(grid.betas),
        "windows": list(grid.windows),
        "image": png_data_uri(image),
        "sticks": sticks,
        "lengths": _nan_to_none(grid.lengths, 1),
        "edges": edges,
        "counts": [int(c) for c in grid.counts.ravel()],
        "bits": base64.b64encode(np.packbits(grid.maps.ravel()).tobytes()).decode("ascii"),
        "initial": initial,
        "scale": SCALE,
        "cell": MAP_CELL,
    }


class _Initial(TypedDict):
    """The explorer's initial state: a point of the grid."""

    part: str
    beta: float
    window: int
    layout: str


def render_html(
    grid: ExplorerGrid,
    image,
    *,
    part: str = "l_upper_arm",
    beta: float = 0.3,
    window: int = 30,
    layout: str = "uniform",
) -> str:
    """The explorer as a self-contained HTML fragment (module docstring); ``image`` is the
    uint8 crop (crop, crop[, 3]) the joints are on. The initial state is the grid point
    nearest to ``part, beta, window, layout``."""
    a = np.asarray(image)
    if a.shape[:2] != (grid.crop, grid.crop):
        raise ValueError(f"image must be {grid.crop} x {grid.crop}, got {a.shape[:2]}")
    li, wi, bi, pi = grid.index(part, beta, window, layout)
    initial: _Initial = {
        "part": part,
        "beta": grid.betas[bi],
        "window": grid.windows[wi],
        "layout": grid.layouts[li],
    }
    data = json.dumps(payload(grid, a, initial), separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")  # cannot close the <script> element early
    # The crop canvas covers the crop and every window of the grid (itheano overhangs it).
    hi = max(max(e[1]) for lay in payload_edges(grid) for e in lay)
    view = max(float(grid.crop), hi) + 2
    crop_px = int(np.ceil(view * SCALE))
    map_px = grid.grid * MAP_CELL
    esc = html.escape
    b_step = _g(_round(grid.betas[1] - grid.betas[0], 6)) if len(grid.betas) > 1 else "any"
    w_step = grid.windows[1] - grid.windows[0] if len(grid.windows) > 1 else 1
    regular_b = (
        np.allclose(np.diff(grid.betas), grid.betas[1] - grid.betas[0])
        if len(grid.betas) > 1
        else True
    )
    regular_w = len(set(np.diff(grid.windows))) <= 1
    if not (regular_b and regular_w):
        raise ValueError("the range inputs need evenly spaced betas and windows")
    part_options = "".join(
        f'<option value="{esc(n)}"{" selected" if n == part else ""}>{esc(n)}</option>'
        for n in PART_NAMES
    )
    layout_options = "".join(
        f'<option value="{esc(n)}"{" selected" if n == initial["layout"] else ""}>{esc(n)}</option>'
        for n in grid.layouts
    )
    betas_text = f"{_g(grid.betas[0])} to {_g(grid.betas[-1])} in steps of {b_step}"
    windows_text = f"{grid.windows[0]} to {grid.windows[-1]} px in steps of {w_step}"
    label = 'style="margin-right:1.2em;white-space:nowrap"'
    return (
        f'<div class="{CSS_CLASS}" data-script="{SCRIPT}" style="margin:0.5em 0">\n'
        f'<p class="hmlpe-le-note" style="font-style:italic">Static explorer: indicator maps '
        f"precomputed when the page was built for beta {betas_text} and windows "
        f"{windows_text} ({len(grid.layouts)} layouts, 7 parts). Its controls run in the "
        f"book's HTML page (script {SCRIPT}); in a live Jupyter kernel use the sliders "
        f"above.</p>\n"
        f'<div class="hmlpe-le-controls" style="margin-bottom:0.4em">'
        f'<label {label}>part <select name="part" disabled>{part_options}</select></label>'
        f'<label {label}>beta <input type="range" name="beta" min="{_g(grid.betas[0])}" '
        f'max="{_g(grid.betas[-1])}" step="{b_step}" value="{_g(initial["beta"])}" disabled> '
        f'<output name="beta-value">{_g(initial["beta"])}</output></label>'
        f'<label {label}>window <input type="range" name="window" min="{grid.windows[0]}" '
        f'max="{grid.windows[-1]}" step="{w_step}" value="{initial["window"]}" disabled> '
        f'<output name="window-value">{initial["window"]}</output></label>'
        f'<label {label}>layout <select name="layout" disabled>{layout_options}</select>'
        f"</label></div>\n"
        f'<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">'
        f'<canvas class="hmlpe-le-crop" width="{crop_px}" height="{crop_px}" role="img" '
        f'aria-label="the crop with the part and its positive windows" '
        f'style="max-width:100%;background:#ddd"></canvas>'
        f'<canvas class="hmlpe-le-map" width="{map_px}" height="{map_px}" role="img" '
        f'aria-label="the indicator map, row = window row, column = window column" '
        f'style="background:#ddd"></canvas></div>\n'
        f'<p class="hmlpe-le-numbers" style="font-family:monospace;font-size:0.9em">'
        f"{esc(grid.numbers(part, initial['beta'], initial['window'], initial['layout']))}"
        f"</p>\n"
        f'<script type="application/json" class="hmlpe-le-data">{data}</script>\n'
        f"</div>"
    )
