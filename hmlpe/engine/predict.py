"""Run a trained network on one image and a person box: joints as JSON, skeleton as PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hmlpe.data.crops import check_box, crop_and_resize, load_image
from hmlpe.engine.checkpoint import load_model
from hmlpe.engine.guard import check_output_folder
from hmlpe.engine.inference import joints_to_image, predict_crops
from hmlpe.errors import UsageError
from hmlpe.provenance import atomic_write_bytes, atomic_write_json, now_utc
from hmlpe.skeleton import JOINTS, PART_COLOURS, PARTS


def draw_skeleton(
    image: np.ndarray, joints: np.ndarray, box: Sequence[float] | np.ndarray | None = None
) -> bytes:
    """PNG bytes of ``image`` with the 7 parts, 8 joints and the box drawn."""
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    width = max(2, round(min(canvas.size) / 150))
    if box is not None:
        draw.rectangle([float(v) for v in box], outline=(255, 255, 255), width=max(1, width // 2))
    index = {n: i for i, n in enumerate(JOINTS)}
    for name, a, b in PARTS:
        pa, pb = joints[index[a]], joints[index[b]]
        if np.all(np.isfinite([pa, pb])):
            draw.line([tuple(pa), tuple(pb)], fill=PART_COLOURS[name], width=width)
    r = width + 1
    for x, y in joints:
        if np.isfinite(x) and np.isfinite(y):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(0, 255, 0))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def predict_image(
    image_path: Path,
    box: Sequence[float],
    checkpoint: Path,
    *,
    out_prefix: Path | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Predict the 8 joints of the person in ``box`` ([x1, y1, x2, y2], 0-based pixels) and
    write ``<prefix>.json`` and ``<prefix>.png``. Returns the JSON content."""
    image_path = Path(image_path)
    prefix = Path(out_prefix) if out_prefix is not None else Path(image_path.stem + "_hmlpe")
    check_output_folder(prefix.parent, "--out")  # not into exported results, checked first
    image = load_image(image_path)
    h, w = image.shape[:2]
    try:
        box_arr = check_box(box, (w, h))
    except ValueError as exc:
        raise UsageError(f"--box for {image_path}: {exc}") from None
    model, cfg, spec, state = load_model(Path(checkpoint), device)
    size = cfg.crop.input_size
    crop = crop_and_resize(image, box_arr, size)
    norm, probs = predict_crops(model, crop[None], spec)
    joints = joints_to_image(norm, box_arr[None], size)[0]
    result = {
        "image": str(image_path),
        "box": box_arr.tolist(),
        "joints": {
            name: [round(float(x), 2), round(float(y), 2)] for name, (x, y) in zip(JOINTS, joints)
        },
        "checkpoint": str(checkpoint),
        "checkpoint_epoch": int(state["epoch"]),
        "device": spec.description,
        "created": now_utc(),
    }
    atomic_write_bytes(prefix.with_suffix(".png"), draw_skeleton(image, joints, box_arr))
    result["png"] = str(prefix.with_suffix(".png"))
    atomic_write_json(prefix.with_suffix(".json"), result)
    return result
