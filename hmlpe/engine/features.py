"""What the Features chapter (Figures 6, 7) shows of a trained network, computed once and
saved small (``features.npz`` beside the pre-training's history), so the chapter can be rebuilt
from committed results without the weights.

Held: conv1's filters (Figure 6a); for conv2 and conv3 the average backtracked patch of every
map over the training images (Figure 6b, 6c) and statistics of the maxima; for one Buffy test
crop the maximal activation and backtracked box of every conv3 map (Figure 7) and, for three
live maps, the pixels whose gradient in the trained network is nonzero. Saved as float16 /
packed bits (a few hundred kB).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from hmlpe.config import TrainConfig
from hmlpe.data.pipeline import HeldOutSet, load_test_set, load_train_set
from hmlpe.data.source import DataSource
from hmlpe.engine.checkpoint import load_model
from hmlpe.network import backtrack
from hmlpe.network.model import HMLPENet, to_input
from hmlpe.network.receptive import active_pixels
from hmlpe.provenance import atomic_write_bytes

LAYERS = ("conv2", "conv3")
FIGURE7_LAYER = "conv3"
N_ACTIVE_MAPS = 3


@dataclass
class FeatureExport:
    filters: np.ndarray  # (32, k, k, 3) conv1 weights
    averages: dict[str, np.ndarray]  # layer -> (C, s, s, 3) mean patches, 0..255
    stats: list[dict]  # one row per layer (feature_stats)
    figure7: dict[str, np.ndarray]  # values (C,), locations (C, 2), boxes, clipped (C, 4)
    figure7_patch_size: int
    active: list[dict] = field(default_factory=list)  # {"map", "mx", "my", "mask" (H, W) bool}
    meta: dict = field(default_factory=dict)  # network, n_images, frame, example


def feature_stats(acts: backtrack.MaxActivations) -> dict:
    """Numbers behind Figure 6 for one layer: the patch size, maps never active on any image,
    the share of maxima whose patch reaches past the image border, and how concentrated the
    positions of the maxima are (share of images at a map's most frequent position, mean over
    live maps)."""
    n_img, n_maps = acts.values.shape
    dead = (acts.values <= 0).all(axis=0)
    outside = (acts.boxes != acts.clipped).any(axis=-1)
    side = int(acts.locations.max()) + 1
    codes = acts.locations[..., 1] * side + acts.locations[..., 0]
    mode_share = np.array([np.bincount(codes[:, k]).max() / n_img for k in range(n_maps)])
    live = ~dead
    return {
        "layer": acts.layer,
        "maps": int(n_maps),
        "patch side (px)": int(acts.patch_size),
        "training images": int(n_img),
        "maps never active": int(dead.sum()),
        "maxima reaching past the border %": float(100 * outside[:, live].mean())
        if live.any()
        else float("nan"),
        "most frequent position, share of images %": float(100 * mode_share[live].mean())
        if live.any()
        else float("nan"),
    }


def compute_features(
    model: HMLPENet, images: np.ndarray, crop: np.ndarray, *, meta: dict | None = None
) -> FeatureExport:
    """Everything of :class:`FeatureExport` for ``model`` (eval mode), the training ``images``
    (uint8 (N, 112, 112, 3)) and one test ``crop`` (uint8 (112, 112, 3))."""
    model = model.eval()
    conv1 = model.trunk.conv1
    assert isinstance(conv1, nn.Conv2d)
    filters = conv1.weight.detach().cpu().float().numpy().transpose(0, 2, 3, 1)
    averages: dict[str, np.ndarray] = {}
    stats: list[dict] = []
    for layer in LAYERS:
        acts = backtrack.max_activation_patches(model, images, layer)
        stats.append(feature_stats(acts))
        averages[layer] = backtrack.average_backtracked_patches(model, images, layer)
    fig7 = backtrack.max_activation_patches(model, crop[None], FIGURE7_LAYER)
    figure7 = {
        "values": fig7.values[0],
        "locations": fig7.locations[0],
        "boxes": fig7.boxes[0],
        "clipped": fig7.clipped[0],
    }
    x = to_input(crop[None])[0]
    live = np.flatnonzero(fig7.values[0] > 0)
    chosen = (
        live[np.linspace(0, len(live) - 1, N_ACTIVE_MAPS).round().astype(int)] if len(live) else []
    )
    active = []
    for k in chosen:
        mx, my = (int(v) for v in fig7.locations[0, k])
        active.append(
            {
                "map": int(k),
                "mx": mx,
                "my": my,
                "mask": active_pixels(model, x, FIGURE7_LAYER, int(k), mx, my),
            }
        )
    return FeatureExport(
        filters,
        averages,
        stats,
        figure7,
        int(fig7.patch_size),
        active,
        dict(meta or {}, n_images=int(len(images))),
    )


def save_features(path: Path, fx: FeatureExport) -> None:
    """One ``.npz`` (float16 patches and filters, packed masks, JSON metadata), written
    atomically."""
    arrays: dict[str, np.ndarray] = {"filters": fx.filters.astype(np.float32)}
    for layer, a in fx.averages.items():
        arrays[f"average_{layer}"] = a.astype(np.float16)
    for key, a in fx.figure7.items():
        arrays[f"figure7_{key}"] = np.asarray(a)
    for i, act in enumerate(fx.active):
        arrays[f"active_{i}"] = np.packbits(act["mask"])
    info = {
        "stats": fx.stats,
        "figure7_patch_size": fx.figure7_patch_size,
        "meta": fx.meta,
        "active": [
            {k: v for k, v in a.items() if k != "mask"} | {"shape": list(a["mask"].shape)}
            for a in fx.active
        ],
        "layers": list(fx.averages),
    }
    arrays["info"] = np.frombuffer(json.dumps(info).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]  # mypy matches **arrays to allow_pickle
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_features(path: Path) -> FeatureExport:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no exported features at {path}: export a trained run with "
            f"`python -m hmlpe export` (it needs the pre-training checkpoint)"
        )
    with np.load(path) as z:
        info = json.loads(bytes(z["info"]).decode())
        averages = {layer: z[f"average_{layer}"].astype(np.float32) for layer in info["layers"]}
        figure7 = {k: z[f"figure7_{k}"] for k in ("values", "locations", "boxes", "clipped")}
        active = []
        for i, a in enumerate(info["active"]):
            shape = tuple(a.pop("shape"))
            mask = (
                np.unpackbits(z[f"active_{i}"])[: int(np.prod(shape))].reshape(shape).astype(bool)
            )
            active.append(a | {"mask": mask})
        return FeatureExport(
            z["filters"],
            averages,
            info["stats"],
            figure7,
            int(info["figure7_patch_size"]),
            active,
            info["meta"],
        )


def ensure_features(checkpoint: Path, out: Path, source: DataSource, **kwargs) -> Path:
    """``out`` (features.npz), computed by :func:`features_of_checkpoint` unless it is already
    newer than ``checkpoint``."""
    checkpoint, out = Path(checkpoint), Path(out)
    if not (out.is_file() and out.stat().st_mtime >= checkpoint.stat().st_mtime):
        features_of_checkpoint(checkpoint, out, source, **kwargs)
    return out


def features_of_checkpoint(
    checkpoint: Path,
    out: Path,
    source: DataSource,
    *,
    buffy_frame: int | None = None,
    max_images: int | None = None,
) -> FeatureExport:
    """Load the pre-trained network of ``checkpoint``, compute :func:`compute_features` on its
    training crops (central 112 of each 128 crop, read from ``source``) and a Buffy test crop
    (the first frame with a matched detection unless ``buffy_frame``), and save them to
    ``out``."""
    model, cfg, _, state = load_model(checkpoint, device="cpu-fp32")
    if not isinstance(model, HMLPENet):
        raise ValueError(f"checkpoint {checkpoint}: Figures 6 and 7 are HMLPE's network's only")
    images, test, frame = feature_inputs(
        cfg, source, buffy_frame=buffy_frame, max_images=max_images
    )
    fx = compute_features(
        model,
        images,
        test.images[frame],
        meta={
            "network": f"{checkpoint.parent.name}/{checkpoint.name}, epoch {int(state['epoch'])}",
            "frame": int(frame),
            "example": test.records[frame].example,
        },
    )
    save_features(out, fx)
    return fx


def feature_inputs(
    cfg: TrainConfig,
    source: DataSource,
    *,
    buffy_frame: int | None = None,
    max_images: int | None = None,
) -> tuple[np.ndarray, HeldOutSet, int]:
    """The training crops (central ``input_size`` of each), the Buffy test set and the frame of
    Figure 7, as the chapter and the export both take them."""
    train = load_train_set(cfg, source)
    off = (cfg.crop.train_size - cfg.crop.input_size) // 2
    keep = np.arange(len(train.images))
    if max_images is not None and max_images < len(keep):
        keep = np.unique(np.linspace(0, len(keep) - 1, int(max_images)).round().astype(int))
    images = train.images[keep, off : off + cfg.crop.input_size, off : off + cfg.crop.input_size]
    test = load_test_set("buffy", cfg, source)
    frame = int(np.flatnonzero(test.matched)[0]) if buffy_frame is None else int(buffy_frame)
    if not np.isfinite(test.boxes[frame]).all():
        raise ValueError(
            f"Buffy test frame {frame} ({test.records[frame].example}) has no associated detection"
        )
    return images, test, frame
