"""How people are framed in training and test crops (pure NumPy): joint positions and extents
in crop-normalised units, so training crops can be compared with test crops (chapter 2).

A training crop is ``train_size`` (128) pixels; the network sees a 112 crop of it, on average
its centre, so its joints are compared in the centre crop: ``(u - (train_size - input_size) / 2)
/ input_size``. A test crop is ``input_size`` pixels: ``u / input_size``.
"""

from __future__ import annotations

import warnings

import numpy as np


def centre_crop_normalised(joints, train_size: int, input_size: int) -> np.ndarray:
    """Joints (..., 8, 2) in training-crop pixels -> units of the centre ``input_size`` crop."""
    off = (train_size - input_size) / 2.0
    return (np.asarray(joints, dtype=np.float64) - off) / input_size


def joint_extents(joints) -> np.ndarray:
    """Extent (max - min) of the joints of each example along x and y: (N, 8, 2) -> (N, 2).
    NaN joints are ignored; an example without joints gives NaN."""
    j = np.asarray(joints, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN examples give NaN
        return np.nanmax(j, axis=-2) - np.nanmin(j, axis=-2)


def framing_summary(joints) -> dict[str, float]:
    """Mean extent and mean joint position (x, y) of normalised joints (N, 8, 2), and the
    number of examples."""
    j = np.asarray(joints, dtype=np.float64)
    ext = joint_extents(j)
    keep = np.isfinite(ext).all(axis=1)
    return {
        "n": int(keep.sum()),
        "extent_x": float(ext[keep, 0].mean()),
        "extent_y": float(ext[keep, 1].mean()),
        "mean_x": float(np.nanmean(j[keep, :, 0])),
        "mean_y": float(np.nanmean(j[keep, :, 1])),
    }


def extent_ratio(train: dict[str, float], test: dict[str, float]) -> dict[str, float]:
    """Training over test mean extent per axis (1 = people framed at the same scale)."""
    return {"x": train["extent_x"] / test["extent_x"], "y": train["extent_y"] / test["extent_y"]}
