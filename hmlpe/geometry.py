"""Exact segment / axis-aligned rectangle clipping (Liang-Barsky), vectorised.

Used by eq. 2 (``len(window_l ∩ stick_p)``, paper 3.2). Boxes are *closed*: a segment lying on a
box edge is inside it. Coordinates are continuous; ``hmlpe`` uses pixel-edge coordinates (pixel
column ``c`` covers ``[c, c + 1]``; see ``hmlpe.data.augment``), but nothing here depends on that.

The segment is parametrised as ``p(t) = p1 + t (p2 - p1)``, ``t in [0, 1]``. Along each axis the
closed slab ``lo <= x <= hi`` admits an interval of ``t``; the part of the segment inside the box
is the intersection of the two slab intervals with ``[0, 1]``, and its length is
``max(0, t_exit - t_enter) * |p2 - p1|``.

NaN handling: a segment with a NaN coordinate has length NaN in every box (callers decide what a
NaN means; ``hmlpe.data.labels`` maps it to "no window marked").
"""

from __future__ import annotations

import numpy as np


def axis_clip_interval(
    p: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Liang-Barsky along one axis: the ``t`` for which ``lo <= p + t d <= hi``, as ``(t0, t1)``.

    All arguments broadcast. ``d == 0`` (segment parallel to the slab): ``(-inf, inf)`` when
    ``lo <= p <= hi`` (closed), else the empty interval ``(inf, -inf)``. NaN in ``p`` or ``d``
    gives NaN.
    """
    p, d, lo, hi = (np.asarray(a, dtype=float) for a in (p, d, lo, hi))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ta = (lo - p) / d
        tb = (hi - p) / d
    t0 = np.minimum(ta, tb)
    t1 = np.maximum(ta, tb)
    parallel = d == 0
    if np.any(parallel):
        inside = (lo <= p) & (p <= hi)
        t0 = np.where(parallel, np.where(inside, -np.inf, np.inf), t0)
        t1 = np.where(parallel, np.where(inside, np.inf, -np.inf), t1)
    return t0, t1


def clip_parameters(
    p1: np.ndarray, p2: np.ndarray, boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(t_enter, t_exit)`` of every segment in every box; the segment is inside the box for
    ``t in [t_enter, t_exit]`` (empty when ``t_enter > t_exit``).

    p1, p2: (S..., 2); boxes: (B..., 4) as ``[x1, y1, x2, y2]`` with ``x1 <= x2``, ``y1 <= y2``.
    Returns two arrays of shape ``S... + B...``.
    """
    p1, p2, boxes = _check(p1, p2, boxes)
    nb = boxes.ndim - 1
    d = p2 - p1
    ex = (Ellipsis,) + (None,) * nb  # segment arrays -> S... + (1,)*nb
    tx0, tx1 = axis_clip_interval(p1[..., 0][ex], d[..., 0][ex], boxes[..., 0], boxes[..., 2])
    ty0, ty1 = axis_clip_interval(p1[..., 1][ex], d[..., 1][ex], boxes[..., 1], boxes[..., 3])
    t_enter = np.maximum(np.maximum(tx0, ty0), 0.0)
    t_exit = np.minimum(np.minimum(tx1, ty1), 1.0)
    return t_enter, t_exit


def segment_length_in_box(p1: np.ndarray, p2: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Length of the part of each segment ``p1 -> p2`` inside each closed box (eq. 2's
    ``len(window ∩ stick)``).

    p1, p2: (S..., 2) segment end points; boxes: (B..., 4) ``[x1, y1, x2, y2]``.
    Returns float (S... + B...). Degenerate (zero-length) segments have length 0 everywhere;
    axis-parallel segments on a box edge count as inside (closed box); NaN in -> NaN out.
    """
    p1, p2, boxes = _check(p1, p2, boxes)
    t_enter, t_exit = clip_parameters(p1, p2, boxes)
    length = np.hypot(*np.moveaxis(p2 - p1, -1, 0))
    length = length[(Ellipsis,) + (None,) * (boxes.ndim - 1)]
    out = np.maximum(t_exit - t_enter, 0.0) * length
    # A zero-length segment: 0 * (+-inf) would be NaN; its length in any box is 0.
    out = np.where(length == 0, 0.0, out)
    # np.maximum propagates NaN, so NaN segments stay NaN.
    return out


def _check(p1, p2, boxes):
    p1 = np.asarray(p1, dtype=float)
    p2 = np.asarray(p2, dtype=float)
    boxes = np.asarray(boxes, dtype=float)
    if p1.shape[-1:] != (2,):
        raise ValueError(f"p1 must have shape (..., 2), got {p1.shape}")
    if p2.shape != p1.shape:
        raise ValueError(f"p2 must have the shape of p1 {p1.shape}, got {p2.shape}")
    if boxes.shape[-1:] != (4,):
        raise ValueError(f"boxes must have shape (..., 4), got {boxes.shape}")
    return p1, p2, boxes
