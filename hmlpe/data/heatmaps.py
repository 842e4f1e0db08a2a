"""Joint heatmaps: the targets and the decoding of a post-2016 heatmap network (the "Since 2014"
reference beside HMLPE; not part of the paper).

Conventions (this reproduction's choices, in one place):

* Coordinates are crop pixels in pixel-edge coordinates, as ``hmlpe.data.labels``: pixel column
  ``c`` covers ``[c, c + 1]``. A heatmap of stride ``s`` has cell ``(r, c)`` covering crop pixels
  ``[c s, (c + 1) s] x [r s, (r + 1) s]``, so its centre is ``((c + 0.5) s, (r + 0.5) s)``.
* The target of joint ``j`` is an unnormalised Gaussian, 1 at the joint, with standard
  deviation ``sigma`` in heatmap cells, sampled at the cell centres (not truncated). A joint
  that is not annotated (NaN) has an all-zero map and weight 0.
* Decoding takes the arg-max cell and refines it along x and y separately by the parabola
  through the logarithms of the cell and its two neighbours. The logarithm of a sampled
  isotropic Gaussian is exactly quadratic along each axis, so a target decodes to its joint
  exactly, to floating-point rounding (``tests/test_heatmaps.py``); a cell on the map's border
  is not refined along the axis it touches.
"""

from __future__ import annotations

import numpy as np


def cell_centres(cells: int, stride: float) -> np.ndarray:
    """Crop-pixel coordinates of the centres of ``cells`` heatmap cells along one axis."""
    return (np.arange(cells) + 0.5) * stride


def gaussian_heatmaps(
    joints: np.ndarray, cells: int, stride: float, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Targets of joints in crop pixels.

    joints: (..., J, 2) as (x, y), NaN where not annotated -> (maps (..., J, cells, cells)
    float32, weights (..., J) float32: 1 for annotated joints, 0 otherwise). ``sigma`` is in
    heatmap cells."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim < 2 or joints.shape[-1] != 2:
        raise ValueError(f"joints must have shape (..., J, 2), got {joints.shape}")
    if not (cells >= 1 and stride > 0 and sigma > 0):
        raise ValueError(
            f"need cells >= 1, stride > 0 and sigma > 0, got {cells}, {stride}, {sigma}"
        )
    centre = cell_centres(cells, stride) / stride  # cell centres in cell units
    x = joints[..., 0, None] / stride  # (..., J, 1)
    y = joints[..., 1, None] / stride
    gx = np.exp(-((centre - x) ** 2) / (2 * sigma**2))  # (..., J, cells)
    gy = np.exp(-((centre - y) ** 2) / (2 * sigma**2))
    maps = gy[..., :, None] * gx[..., None, :]  # (..., J, rows, cols)
    annotated = ~np.isnan(joints).any(axis=-1)
    maps = np.where(annotated[..., None, None], maps, 0.0)
    return maps.astype(np.float32), annotated.astype(np.float32)


def _log_parabola_offset(left: np.ndarray, mid: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Vertex of the parabola through (-1, log left), (0, log mid), (1, log right), in [-0.5,
    0.5]; 0 where the three values do not make a peak (flat, or a non-positive value)."""
    tiny = np.finfo(np.float64).tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        ll, lm, lr = (np.log(np.maximum(v, tiny)) for v in (left, mid, right))
        curvature = ll - 2 * lm + lr
        offset = 0.5 * (ll - lr) / curvature
    ok = (curvature < 0) & (left > 0) & (mid > 0) & (right > 0) & np.isfinite(offset)
    return np.where(ok, np.clip(offset, -0.5, 0.5), 0.0)


def decode_heatmaps(maps: np.ndarray, stride: float) -> tuple[np.ndarray, np.ndarray]:
    """Joints in crop pixels from heatmaps.

    maps: (..., J, rows, cols) -> (joints (..., J, 2) as (x, y) float64, peak values (..., J))."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim < 3:
        raise ValueError(f"maps must have shape (..., J, rows, cols), got {maps.shape}")
    rows, cols = maps.shape[-2:]
    flat = maps.reshape(*maps.shape[:-2], rows * cols)
    best = flat.argmax(axis=-1)
    r, c = np.divmod(best, cols)
    peak = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]

    def at(rr, cc):
        idx = (np.clip(rr, 0, rows - 1) * cols + np.clip(cc, 0, cols - 1))[..., None]
        return np.take_along_axis(flat, idx, axis=-1)[..., 0]

    dx = np.where(
        (c > 0) & (c < cols - 1), _log_parabola_offset(at(r, c - 1), peak, at(r, c + 1)), 0.0
    )
    dy = np.where(
        (r > 0) & (r < rows - 1), _log_parabola_offset(at(r - 1, c), peak, at(r + 1, c)), 0.0
    )
    joints = np.stack([(c + dx + 0.5) * stride, (r + dy + 0.5) * stride], axis=-1)
    return joints, peak
