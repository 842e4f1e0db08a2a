"""Training-set filter (paper 4.1: "images with occluded body parts are removed").

An example is dropped from TRAINING when one of its 8 joints is missing (NaN), annotated but
flagged occluded (LSP's flag, see ``hmlpe.data.datasets.lsp``), or outside its image by more than
``OUTSIDE_TOLERANCE`` pixels (reproduction's choice: a joint outside the image is not visible
either; the image spans [-0.5, w - 0.5]; the tolerance keeps two Buffy wrists annotated 0.6 px
below the frame and drops 5 FLIC training examples whose joints lie 3-12 px outside).
Each dropped example is counted once, under the first reason in ``REASONS`` that applies.
Test records are never filtered: their missing joints stay NaN with ``visible`` False.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from hmlpe.data.datasets.records import PoseRecord

REASONS = ("missing_joint", "occluded_joint", "joint_outside_image")
OUTSIDE_TOLERANCE = 1.0  # pixels


def drop_reason(record: PoseRecord) -> str | None:
    """Why ``record`` cannot be a training example, or None when it can."""
    j = record.joints
    missing = np.isnan(j).any(axis=1)
    if missing.any():
        return "missing_joint"
    if not record.visible.all():
        return "occluded_joint"
    w, h = record.image_size
    t = 0.5 + OUTSIDE_TOLERANCE
    if (j < -t).any() or (j[:, 0] > w - 1 + t).any() or (j[:, 1] > h - 1 + t).any():
        return "joint_outside_image"
    return None


def filter_training(records: Iterable[PoseRecord]) -> tuple[list[PoseRecord], dict[str, int]]:
    """(kept records, counts): counts has every reason in ``REASONS`` (0 if none) plus
    "total" and "kept". Records whose split is not "train" pass through unchanged."""
    kept: list[PoseRecord] = []
    counts: Counter = Counter({r: 0 for r in REASONS})
    total = 0
    for rec in records:
        total += 1
        reason = drop_reason(rec) if rec.split == "train" else None
        if reason is None:
            kept.append(rec)
        else:
            counts[reason] += 1
    out = {r: counts[r] for r in REASONS}
    out["total"] = total
    out["kept"] = len(kept)
    return kept, out
