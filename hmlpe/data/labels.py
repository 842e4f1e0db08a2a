"""Part indicator maps: the detection targets of eq. 2 (paper 3.2, 4.2).

For part ``p`` and window ``l``::

    y_{p,l} = 1  if  len(window_l ∩ stick_p) > beta * len(stick_p)   else 0          (eq. 2)

Conventions (the reproduction's choices where the paper is silent):

* Coordinates are crop pixels in pixel-edge coordinates (pixel column ``c`` covers
  ``[c, c + 1]``, see ``hmlpe.data.augment``); maps are indexed ``[row, col]``, rows along y.
* Windows are closed squares; the comparison is strict (``>``), as eq. 2 writes it. A
  zero-length stick therefore marks no window (0 > 0 is false).
* A stick with a NaN end point (an unannotated joint) has no label: its map is all False.
  Training drops such examples anyway; the map only has to be defined.
* ``len(stick_p)`` is the length of the whole stick, including any part outside the crop (after a
  random crop a wrist may lie outside); the stick is never clipped to the crop.
* Layouts (``LabelConfig.layout``):

  - ``"uniform"`` (default): 4.2's "64 local windows of equal size uniformly distributed in the
    bounding box": window ``(r, c)`` is ``[c s, r s, c s + w, r s + w]`` with
    ``s = (crop - w) / (grid - 1)`` (82/7 for 112, 30, 8), so the grid tiles the crop exactly and
    is symmetric under the horizontal mirror ``x -> crop - x`` (window column ``c`` maps to
    column ``grid - 1 - c``). The right/bottom edges are computed as ``crop - left edge of the
    mirrored window`` (symmetric up to rounding: labels of a mirrored stick can differ only when
    an overlap ties with the threshold to ~1e-13).
  - ``"itheano"``: the first author's public code (protocol facts): stride 12, side 30, so window
    ``(r, c)`` is ``[12 c, 12 r, 12 c + 30, 12 r + 30]``; the last row and column reach 114 and
    overhang the 112 crop. As in that code the windows are *not* clipped to the crop and neither
    is the stick: a stick end in the overhang counts. (That code's rectangles are
    ``[12 c, 12 c + 29]`` in pixel-index coordinates, i.e. the inclusive pixel range of 30 pixels;
    in our pixel-edge coordinates the same 30 pixels span ``[12 c, 12 c + 30]``.)
"""

from __future__ import annotations

import numpy as np

from hmlpe.config import CHOICES, LabelConfig
from hmlpe.errors import ConfigError
from hmlpe.geometry import axis_clip_interval, segment_length_in_box
from hmlpe.skeleton import PARTS, parts_from_joints

ITHEANO_STRIDE = 12
LAYOUTS = CHOICES["labels.layout"]


def window_edges(
    crop: int = 112, window: int = 30, grid: int = 8, layout: str = "uniform"
) -> tuple[np.ndarray, np.ndarray]:
    """Low and high edges ``(lo, hi)``, each (grid,), of the windows along one axis (eq. 2's
    ``window_l``; the layouts are described in the module docstring)."""
    if layout not in LAYOUTS:
        raise ConfigError(f"labels.layout={layout}: expected one of {', '.join(LAYOUTS)}")
    if grid < 1 or window <= 0:
        raise ValueError(f"grid must be >= 1 and window > 0, got grid={grid}, window={window}")
    k = np.arange(grid, dtype=float)
    if layout == "itheano":
        lo = ITHEANO_STRIDE * k
        return lo, lo + window
    if window > crop:
        raise ValueError(f"uniform layout needs window <= crop, got window={window}, crop={crop}")
    if grid == 1:
        lo = np.array([(crop - window) / 2.0])
    else:
        lo = k * (crop - window) / (grid - 1)
    hi = crop - lo[::-1]
    return lo, hi


def window_boxes(
    crop: int = 112, window: int = 30, grid: int = 8, layout: str = "uniform"
) -> np.ndarray:
    """The ``grid x grid`` windows of eq. 2 as boxes (grid, grid, 4) ``[x1, y1, x2, y2]``;
    ``[r, c]`` has its top-left corner at ``(x, y) = (c s, r s)``."""
    lo, hi = window_edges(crop, window, grid, layout)
    boxes = np.empty((grid, grid, 4))
    boxes[..., 0] = lo[None, :]
    boxes[..., 1] = lo[:, None]
    boxes[..., 2] = hi[None, :]
    boxes[..., 3] = hi[:, None]
    return boxes


def part_indicator_map(
    p1,
    p2,
    *,
    crop: int = 112,
    window: int = 30,
    grid: int = 8,
    beta: float = 0.3,
    layout: str = "uniform",
) -> np.ndarray:
    """Eq. 2 for one stick ``p1 -> p2`` (crop pixels): bool (grid, grid), rows along y.

    Straightforward form via ``geometry.segment_length_in_box``; ``part_indicator_maps`` is the
    fast batch form and must agree with it.
    """
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    if p1.shape != (2,) or p2.shape != (2,):
        raise ValueError(f"p1 and p2 must have shape (2,), got {p1.shape} and {p2.shape}")
    if np.isnan(p1).any() or np.isnan(p2).any():
        return np.zeros((grid, grid), dtype=bool)
    boxes = window_boxes(crop, window, grid, layout)
    inside = segment_length_in_box(p1, p2, boxes)
    length = float(np.hypot(*(p2 - p1)))
    return inside > beta * length


def _clip_spans(parts: np.ndarray, cfg: LabelConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(t_exit - t_enter)`` (..., grid, grid) of every stick in every window (negative when
    the stick misses the window) and the stick lengths (...). Windows form a grid, so the
    Liang-Barsky clipping is separable: a ``t`` interval per column and per row (small arrays,
    already intersected with [0, 1]), combined by broadcasting (3 operations on the big array)."""
    lo, hi = window_edges(cfg.crop, cfg.window, cfg.grid, cfg.layout)
    p1 = parts[..., 0, :]
    d = parts[..., 1, :] - p1
    tx0, tx1 = axis_clip_interval(p1[..., 0, None], d[..., 0, None], lo, hi)  # (..., cols)
    ty0, ty1 = axis_clip_interval(p1[..., 1, None], d[..., 1, None], lo, hi)  # (..., rows)
    tx0 = np.maximum(tx0, 0.0)
    ty0 = np.maximum(ty0, 0.0)
    tx1 = np.minimum(tx1, 1.0)
    ty1 = np.minimum(ty1, 1.0)
    span = np.minimum(ty1[..., :, None], tx1[..., None, :])
    span -= np.maximum(ty0[..., :, None], tx0[..., None, :])
    return span, np.hypot(d[..., 0], d[..., 1])


def part_overlap_lengths(
    parts: np.ndarray, cfg: LabelConfig = LabelConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """``len(window_l ∩ stick_p)`` for every stick and window, and ``len(stick_p)`` (eq. 2).

    parts: (..., 2, 2), ``[..., 0, :]`` and ``[..., 1, :]`` the end points in crop pixels.
    Returns ``(inside (..., grid, grid), length (...))``; NaN sticks give NaN.
    """
    parts = np.asarray(parts, dtype=float)
    if parts.shape[-2:] != (2, 2):
        raise ValueError(f"parts must have shape (..., 2, 2), got {parts.shape}")
    span, length = _clip_spans(parts, cfg)
    inside = np.maximum(span, 0.0) * length[..., None, None]
    # A zero-length stick is inside a window or not, but its length there is 0.
    inside[length == 0] = 0.0
    return inside, length


def part_indicator_maps(parts: np.ndarray, cfg: LabelConfig = LabelConfig()) -> np.ndarray:
    """Eq. 2 for a batch: parts (N, 7, 2, 2) in crop pixels -> bool (N, 7, grid, grid).

    Sticks with a NaN end or zero length mark no window. Computes
    ``(t_exit - t_enter) * len(stick) > beta * len(stick)``, i.e. eq. 2 with the clipped length
    written as the clipped parameter span times the stick length (a negative span, a stick
    missing the window, never passes since beta >= 0).
    """
    parts = np.asarray(parts, dtype=float)
    if parts.ndim != 4 or parts.shape[1:] != (len(PARTS), 2, 2):
        raise ValueError(f"parts must have shape (N, {len(PARTS)}, 2, 2), got {parts.shape}")
    if cfg.beta < 0:
        raise ValueError(f"beta must be >= 0, got {cfg.beta}")
    span, length = _clip_spans(parts, cfg)
    with np.errstate(invalid="ignore"):  # zero-length stick outside: -inf * 0 = NaN -> False
        span *= length[..., None, None]
        return span > (cfg.beta * length)[..., None, None]  # NaN compares False


def labels_from_joints(joints: np.ndarray, cfg: LabelConfig = LabelConfig()) -> np.ndarray:
    """Eq. 2 from the 8 joints: joints (N, 8, 2) crop pixels -> bool (N, 7, grid, grid)."""
    joints = np.asarray(joints, dtype=float)
    if joints.ndim != 3:
        raise ValueError(f"joints must have shape (N, 8, 2), got {joints.shape}")
    return part_indicator_maps(parts_from_joints(joints), cfg)
