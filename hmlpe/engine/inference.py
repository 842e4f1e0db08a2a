"""Running a trained network on crops: batched, on the engine's device, joints back in image
pixels."""

from __future__ import annotations

import numpy as np
import torch

from hmlpe.data.crops import crop_to_image
from hmlpe.engine.device import DeviceSpec, autocast
from hmlpe.network.model import PoseNet, to_input


@torch.no_grad()
def predict_crops(
    model: PoseNet, images: np.ndarray, spec: DeviceSpec, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray | None]:
    """Joints (N, 8, 2) in crop-normalised units and part probabilities (N, 7, g, g) for
    uint8 crops (N, S, S, 3); the probabilities are None for a network without a detection
    head (the heatmap network, whose joints are its decoded heatmaps)."""
    if len(images) == 0:
        raise ValueError("predict_crops needs at least one crop, got an empty array")
    model.eval()
    joints, probs = [], []
    for start in range(0, len(images), batch_size):
        x = to_input(images[start : start + batch_size], channels_last=spec.channels_last).to(
            spec.device
        )
        with autocast(spec):
            out = model(x)
        joints.append(out.joints.float().cpu().numpy())
        if out.part_logits is not None:
            probs.append(torch.sigmoid(out.part_logits.float()).cpu().numpy())
    return np.concatenate(joints).astype(np.float64), (np.concatenate(probs) if probs else None)


def predict_crops_mirror_averaged(
    model: PoseNet, images: np.ndarray, spec: DeviceSpec, batch_size: int = 256
) -> np.ndarray:
    """Test-time mirror averaging (not in the paper; an option the reproduction measures):
    joints (N, 8, 2) in crop-normalised units, the mean of the prediction on each crop and the
    mirrored-back prediction on its horizontal mirror (left and right swapped back)."""
    from hmlpe.data.augment import mirror_joints

    plain, _ = predict_crops(model, images, spec, batch_size)
    flipped, _ = predict_crops(
        model, np.ascontiguousarray(np.asarray(images)[:, :, ::-1]), spec, batch_size
    )
    return (plain + mirror_joints(flipped, 1.0)) / 2.0


def joints_to_image(joints_normalised: np.ndarray, boxes: np.ndarray, crop_size: int) -> np.ndarray:
    """Crop-normalised joints (N, 8, 2) of crops of ``boxes`` (N, 4) -> image pixels."""
    out = np.empty_like(joints_normalised, dtype=np.float64)
    for i, (pts, box) in enumerate(zip(joints_normalised, boxes)):
        out[i] = crop_to_image(pts * crop_size, box, crop_size)
    return out
