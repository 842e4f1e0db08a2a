"""Crop boxes (pure NumPy). A box is [x1, y1, x2, y2] float in 0-based image pixel coordinates
(pixel i's centre at i, ``hmlpe.datasets.records``); "clipped to the image" means clipped to
[0, w - 1] x [0, h - 1], the span of the pixel centres, so every point of a clipped box can be
sampled without leaving the image.

* ``training_box``: paper 4.1 ("a bounding box ... that contains all the annotated body parts");
  the margin is the reproduction's choice (``CropConfig.train_margin``).
* ``buffy_test_box`` / ``flic_test_box``: paper 4.3 / 4.4 scale factors, applied as the first
  author's public code does (NOTES.md "Boxes").
* ``buffy_gt_window`` / ``match_detections``: the Buffy test protocol (NOTES.md).
"""
from __future__ import annotations

import numpy as np

from hmlpe.config import CropConfig

_CROP = CropConfig()


def as_box(box, name: str = "box") -> np.ndarray:
    """``box`` as a float array [x1, y1, x2, y2]; ValueError naming it unless 4 finite numbers."""
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,) or not np.isfinite(b).all():
        raise ValueError(f"{name} must be 4 finite numbers [x1, y1, x2, y2], got {box!r}")
    return b


def clip_box(box, image_size, min_size: float = 1.0) -> np.ndarray:
    """``box`` clipped to the image (w, h). Raises ValueError naming the box and the image size
    when the box lies outside the image or is (or becomes) narrower than ``min_size`` pixels."""
    b = as_box(box)
    w, h = image_size
    if b[2] - b[0] < min_size or b[3] - b[1] < min_size:
        raise ValueError(f"degenerate box {b.tolist()} (width {b[2] - b[0]:.3g}, height "
                         f"{b[3] - b[1]:.3g}; at least {min_size} px needed) for image {w}x{h}")
    c = np.array([max(b[0], 0.0), max(b[1], 0.0), min(b[2], w - 1.0), min(b[3], h - 1.0)])
    if c[2] - c[0] < min_size or c[3] - c[1] < min_size:
        raise ValueError(f"box {b.tolist()} lies outside the image {w}x{h} "
                         f"(less than {min_size} px left after clipping: {c.tolist()})")
    return c


def training_box(points, image_size=None, margin: float = _CROP.train_margin) -> np.ndarray:
    """Tight box around the annotated joints (the end points of the 7 parts, paper 4.1), each
    side pushed out by ``margin`` x the larger side of the tight box, clipped to the image.

    ``points``: a ``PoseRecord`` (its joints and image size are used) or an (N, 2) array of
    points (NaN rows are ignored; Buffy sticks (S, 2, 2) are accepted and flattened), with
    ``image_size`` (w, h).
    """
    if hasattr(points, "joints"):
        image_size = points.image_size if image_size is None else image_size
        pts = points.joints
    else:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if image_size is None:
        raise ValueError("training_box needs image_size (w, h) when given bare points")
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        raise ValueError("training_box: no annotated point to enclose")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = margin * float(max(hi - lo))
    return clip_box([lo[0] - pad, lo[1] - pad, hi[0] + pad, hi[1] + pad], image_size)


def buffy_test_box(det, image_size, width_scale: float = _CROP.buffy_width_scale,
                   height_scale: float = _CROP.buffy_height_scale) -> np.ndarray:
    """Paper 4.3: the upper-body detection window widened to ``width_scale`` x its width about
    its centre, its top edge kept and its bottom at top + ``height_scale`` x half its height
    (NOTES.md), clipped to the image."""
    x1, y1, x2, y2 = as_box(det, "detection window")
    cx, w, h = (x1 + x2) / 2, x2 - x1, y2 - y1
    return clip_box([cx - width_scale * w / 2, y1, cx + width_scale * w / 2,
                     y1 + height_scale * h / 2], image_size)


def flic_test_box(torso_box, image_size, width_scale: float = _CROP.flic_width_scale,
                  height_scale: float = _CROP.flic_height_scale, yup: float = 0.5) -> np.ndarray:
    """Paper 4.4: the torso box widened to ``width_scale`` x its width about its centre; its
    height grows by (height_scale - 1) x half its height, the fraction ``yup`` of the growth
    above and the rest below (NOTES.md), clipped to the image."""
    x1, y1, x2, y2 = as_box(torso_box, "torso box")
    cx, w, h = (x1 + x2) / 2, x2 - x1, y2 - y1
    grow = (height_scale - 1) * h / 2
    return clip_box([cx - width_scale * w / 2, y1 - yup * grow, cx + width_scale * w / 2,
                     y2 + (1 - yup) * grow], image_size)


def buffy_gt_window(sticks) -> np.ndarray:
    """The Buffy package's ground-truth upper-body window from a GT stickman (NOTES.md "Buffy
    test protocol"; height/width ratio 0.9). ``sticks``: (6, 2, 2) in Buffy file order."""
    s = np.asarray(sticks, dtype=np.float64)
    if s.shape != (6, 2, 2):
        raise ValueError(f"Buffy sticks must have shape (6, 2, 2), got {s.shape}")
    torso, head = s[0], s[5]
    tc, hc = torso.mean(axis=0), head.mean(axis=0)
    top = min(torso[:, 1].min(), head[:, 1].min(), tc[1])
    bottom = max(head[:, 1].max(), tc[1])
    height = bottom - top
    width = height / 0.9
    cx = (hc[0] + tc[0]) / 2
    return np.array([cx - width / 2, top, cx + width / 2, bottom])


def _area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)


def intersection(boxes, box) -> np.ndarray:
    """Intersection areas of (K, 4) ``boxes`` with one ``box``."""
    a = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    b = as_box(box)
    lo = np.maximum(a[:, :2], b[:2])
    hi = np.minimum(a[:, 2:], b[2:])
    return np.prod(np.clip(hi - lo, 0, None), axis=1)


ASSOCIATION_RULES = ("paper", "buffy")


def match_detections(dets, gt_window, rule: str = "paper") -> int | None:
    """Index of the detection associated with the GT window, or None (NOTES.md).

    rule "paper" (first author's code): intersection > 0.5 x (GT area - intersection), 267 of
    276 Buffy test frames; rule "buffy" (the Buffy package): IoU > 0.5, 263 frames.
    When several detections pass, the one with the highest IoU is taken (reproduction's choice).
    """
    if rule not in ASSOCIATION_RULES:
        raise ValueError(f"unknown association rule {rule!r}; known: {ASSOCIATION_RULES}")
    d = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
    if len(d) == 0:
        return None
    g = as_box(gt_window, "GT window")
    inter = intersection(d, g)
    iou = inter / (_area(d) + _area(g) - inter)
    ok = inter > 0.5 * (_area(g) - inter) if rule == "paper" else iou > 0.5
    if not ok.any():
        return None
    return int(np.flatnonzero(ok)[np.argmax(iou[ok])])
