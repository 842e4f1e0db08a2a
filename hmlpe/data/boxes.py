"""Crop boxes (pure NumPy). A box is [x1, y1, x2, y2] float in 0-based image pixel coordinates
(pixel i's centre at i, ``hmlpe.data.datasets.records``); "clipped to the image" means clipped to
[0, w - 1] x [0, h - 1], the span of the pixel centres, so every point of a clipped box can be
sampled without leaving the image.

* ``training_box``: paper 4.1 ("a bounding box ... that contains all the annotated body parts")
  with a margin (``CropConfig.train_margin``): the old rule, kept as ``train_box="margin"``.
* ``protocol_training_box``: the default training box (``CropConfig.train_box="test_rule"``,
  the reproduction's choice): the test rule of the example's own protocol applied to a window
  derived from the ground truth, enlarged by train_size / input_size so that the centre
  112 x 112 of the 128 x 128 training crop frames the person as a test crop does.
* ``buffy_test_box`` / ``flic_test_box``: paper 4.3 / 4.4 scale factors, applied as the first
  author's public code does (protocol facts, "Boxes").
* ``buffy_gt_window`` / ``match_detections``: the Buffy test protocol (protocol facts).
"""

from __future__ import annotations

import numpy as np

from hmlpe.config import CHOICES, CropConfig
from hmlpe.errors import ConfigError

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
        raise ValueError(
            f"degenerate box {b.tolist()} (width {b[2] - b[0]:.3g}, height "
            f"{b[3] - b[1]:.3g}; at least {min_size} px needed) for image {w}x{h}"
        )
    c = np.array([max(b[0], 0.0), max(b[1], 0.0), min(b[2], w - 1.0), min(b[3], h - 1.0)])
    if c[2] - c[0] < min_size or c[3] - c[1] < min_size:
        raise ValueError(
            f"box {b.tolist()} lies outside the image {w}x{h} "
            f"(less than {min_size} px left after clipping: {c.tolist()})"
        )
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


def upper_body_sticks(record) -> np.ndarray:
    """Buffy-style sticks (6, 2, 2) in Buffy file order (torso, left upper arm, right upper arm,
    left lower arm, right lower arm, head) of a record, for ``buffy_gt_window``.

    Buffy records carry their own sticks. LSP (reproduction's choice): the torso stick runs
    from the neck to the midpoint of the hips and the head stick from the head top to the neck,
    as Buffy's annotators drew them; the arm sticks are the arm parts (unused by the window).
    """
    if record.sticks is not None and record.sticks.shape == (6, 2, 2):
        return np.asarray(record.sticks, dtype=np.float64)
    extra = record.extra or {}
    if "head_top" not in extra or "hip_centre" not in extra:
        raise ValueError(
            f"{record.uid}: no sticks and no head top / hip centre to build an "
            "upper-body window from"
        )
    j = np.asarray(record.joints, dtype=np.float64)
    neck = j[1]
    return np.stack(
        [
            [neck, np.asarray(extra["hip_centre"], dtype=np.float64)],
            [j[2], j[4]],
            [j[3], j[5]],
            [j[4], j[6]],
            [j[5], j[7]],
            [np.asarray(extra["head_top"], dtype=np.float64), neck],
        ]
    )


def enlarge_box(box, factor: float) -> np.ndarray:
    """``box`` scaled by ``factor`` about its centre (not clipped)."""
    b = as_box(box)
    c, half = (b[:2] + b[2:]) / 2, (b[2:] - b[:2]) / 2 * factor
    return np.concatenate([c - half, c + half])


def _top_first(stick) -> tuple[np.ndarray, np.ndarray]:
    """A stick's (upper end, lower end): the end with the smaller y first."""
    t = np.asarray(stick, dtype=np.float64).reshape(2, 2)
    return (t[0], t[1]) if t[0, 1] <= t[1, 1] else (t[1], t[0])


def upper_body_size(torso_stick, shoulders) -> float:
    """Torso stick length plus shoulder width: the size of a person that sets the modelled
    detection window (``torso_window``)."""
    t = np.asarray(torso_stick, dtype=np.float64).reshape(2, 2)
    sh = np.asarray(shoulders, dtype=np.float64).reshape(2, 2)
    return float(np.linalg.norm(t[0] - t[1]) + np.linalg.norm(sh[0] - sh[1]))


def torso_window(
    torso_stick,
    shoulders,
    width_per_size: float = _CROP.window_width_per_size,
    top_per_size: float = _CROP.window_top_per_size,
    aspect: float = _CROP.window_aspect,
) -> np.ndarray:
    """An upper-body detection window modelled from the torso stick and the shoulders
    (reproduction's choice for the training boxes of Buffy and LSP): with S the torso
    stick's length plus the shoulder width (``upper_body_size``), the window is
    ``width_per_size`` x S wide and ``aspect`` x its width high, centred on the torso stick in
    x, its top ``top_per_size`` x S above the stick's upper end.

    Why not the Buffy ground-truth window (``buffy_gt_window``): it ends at the head stick's
    top, and the head sticks of Buffy's training episodes (3, 4) are drawn about half as long,
    relative to the shoulders, as those of its test episodes (median head stick / shoulder
    width 0.45 against 0.79), so it frames training people ~1.2x larger than the test crops.
    The torso alone still left the training joints 1.12x wider than the test joints (the
    shoulders of the training episodes are drawn wider); torso plus shoulders gives 1.01 / 0.98
    (x / y, before clipping). The factors describe the detector: ``calibrate_torso_window``
    measures them as medians over the matched detections of the Buffy test frames (their
    windows, not their poses).
    """
    top, bottom = _top_first(torso_stick)
    size = upper_body_size(torso_stick, shoulders)
    if not np.isfinite(size) or size <= 0:
        raise ValueError(
            f"torso stick {np.asarray(torso_stick).tolist()} and shoulders give no size"
        )
    w = width_per_size * size
    cx = (top[0] + bottom[0]) / 2
    y1 = top[1] - top_per_size * size
    return np.array([cx - w / 2, y1, cx + w / 2, y1 + aspect * w])


def calibrate_torso_window(sticks, shoulders, detections) -> dict[str, float]:
    """Medians, over triples of a torso stick (2, 2), the shoulders (2, 2) and the matched
    detection window [x1, y1, x2, y2], of the window's width / size, (stick top y - window
    top) / size and height / width: the factors of ``torso_window``."""
    rows = []
    for stick, sh, det in zip(sticks, shoulders, detections):
        d = as_box(det, "detection window")
        top, _ = _top_first(stick)
        size = upper_body_size(stick, sh)
        rows.append([(d[2] - d[0]) / size, (top[1] - d[1]) / size, (d[3] - d[1]) / (d[2] - d[0])])
    if not rows:
        raise ValueError("calibrate_torso_window: no (stick, shoulders, detection) triple")
    med = np.median(np.array(rows), axis=0)
    return {"width_per_size": float(med[0]), "top_per_size": float(med[1]), "aspect": float(med[2])}


def protocol_training_box(record, crop: CropConfig = _CROP) -> np.ndarray:
    """The training box of ``CropConfig.train_box = "test_rule"`` (reproduction's choice; the
    paper says only that its test-box factors were set "empirically according to the training
    set", so the two must frame people alike):

    * FLIC: ``flic_test_box`` of the annotated torso box, the very rule of the FLIC test crops;
    * Buffy and LSP: ``buffy_test_box`` of the detection window modelled from the torso stick
      and the shoulders (``torso_window``; LSP's torso runs from the neck to the midpoint of
      the hips): the box the Buffy test rule gives when the detector fires as it does on the
      test frames;

    enlarged by ``crop.train_size / crop.input_size`` about its centre before clipping, so the
    central ``input_size`` crop of the ``train_size`` training crop is the test box, and the
    random crops of paper 4.1 shift it by at most (train_size - input_size) / 2 pixels.
    """
    # image_size None: not clipped yet; clipped once, after the enlargement.
    if record.dataset == "flic":
        if record.torso_box is None:
            raise ValueError(f"{record.uid}: FLIC record without a torso box")
        box = flic_test_box(record.torso_box, None, crop.flic_width_scale, crop.flic_height_scale)
    else:
        window = torso_window(
            upper_body_sticks(record)[0],
            record.joints[2:4],
            crop.window_width_per_size,
            crop.window_top_per_size,
            crop.window_aspect,
        )
        box = buffy_test_box(window, None, crop.buffy_width_scale, crop.buffy_height_scale)
    return clip_box(enlarge_box(box, crop.train_size / crop.input_size), record.image_size)


TRAIN_BOX_RULES = CHOICES["crop.train_box"]


def train_box_for(record, crop: CropConfig = _CROP) -> np.ndarray:
    """The training box of ``record`` by ``crop.train_box`` ("test_rule" or "margin")."""
    if crop.train_box == "test_rule":
        return protocol_training_box(record, crop)
    if crop.train_box == "margin":
        return training_box(record, margin=crop.train_margin)
    raise ConfigError(
        f"crop.train_box={crop.train_box}: expected one of {', '.join(TRAIN_BOX_RULES)}"
    )


def buffy_test_box(
    det,
    image_size,
    width_scale: float = _CROP.buffy_width_scale,
    height_scale: float = _CROP.buffy_height_scale,
) -> np.ndarray:
    """Paper 4.3: the upper-body detection window widened to ``width_scale`` x its width about
    its centre, its top edge kept and its bottom at top + ``height_scale`` x half its height
    (protocol facts), clipped to the image (``image_size`` (w, h); None: not clipped)."""
    x1, y1, x2, y2 = as_box(det, "detection window")
    cx, w, h = (x1 + x2) / 2, x2 - x1, y2 - y1
    box = [cx - width_scale * w / 2, y1, cx + width_scale * w / 2, y1 + height_scale * h / 2]
    return as_box(box) if image_size is None else clip_box(box, image_size)


def flic_test_box(
    torso_box,
    image_size,
    width_scale: float = _CROP.flic_width_scale,
    height_scale: float = _CROP.flic_height_scale,
    yup: float = 0.5,
) -> np.ndarray:
    """Paper 4.4: the torso box widened to ``width_scale`` x its width about its centre; its
    height grows by (height_scale - 1) x half its height, the fraction ``yup`` of the growth
    above and the rest below (protocol facts), clipped to the image (``image_size`` (w, h); None: not
    clipped)."""
    x1, y1, x2, y2 = as_box(torso_box, "torso box")
    cx, w, h = (x1 + x2) / 2, x2 - x1, y2 - y1
    grow = (height_scale - 1) * h / 2
    box = [
        cx - width_scale * w / 2,
        y1 - yup * grow,
        cx + width_scale * w / 2,
        y2 + (1 - yup) * grow,
    ]
    return as_box(box) if image_size is None else clip_box(box, image_size)


def buffy_gt_window(sticks) -> np.ndarray:
    """The Buffy package's ground-truth upper-body window from a GT stickman (protocol facts "Buffy
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


ASSOCIATION_RULES = CHOICES["data.buffy_association"]


def match_detections(dets, gt_window, rule: str = "paper") -> int | None:
    """Index of the detection associated with the GT window, or None (protocol facts).

    rule "paper" (first author's code): intersection > 0.5 x (GT area - intersection), 267 of
    276 Buffy test frames; rule "buffy" (the Buffy package): IoU > 0.5, 263 frames.
    When several detections pass, the one with the highest IoU is taken (reproduction's choice).
    """
    if rule not in ASSOCIATION_RULES:
        raise ConfigError(
            f"data.buffy_association={rule}: expected one of {', '.join(ASSOCIATION_RULES)}"
        )
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
