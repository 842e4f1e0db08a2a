"""The features chapter's side (Figures 6 and 7): which network the page shows, and how patches
are laid out for display."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from hmlpe.config import TrainConfig
from hmlpe.engine import features
from hmlpe.engine.checkpoint import load_model
from hmlpe.engine.layout import FEATURES_NAME, RunLayout
from hmlpe.engine.profiles import get_profile
from hmlpe.engine.records import read_run_record
from hmlpe.network.model import HMLPENet


@dataclass
class PageNetwork:
    """The network of the page and where its figures come from."""

    model: HMLPENet
    cfg: TrainConfig
    features: features.FeatureExport | None  # exported figures (no weights), else None: compute
    network: str  # one line for the reader: which network this is
    source: str  # where Figures 6 and 7 come from
    trained: bool
    checkpoint: Path


def page_network(run_dir: Path | str, checkpoint: Path | str | None, profile: str) -> PageNetwork:
    """The pre-trained network of ``run_dir`` (or ``checkpoint``), in this order: its weights;
    else the figures exported beside its config (``hmlpe export`` keeps ``features.npz`` but no
    weights; the model is rebuilt untrained for Algorithm 1's check, which needs only its
    architecture); else a freshly initialised network of ``profile``, said to be untrained."""
    run = RunLayout(Path(run_dir))
    ckpt = Path(checkpoint) if checkpoint is not None else run.checkpoint(run.pretrain)
    exported = run.pretrain / FEATURES_NAME
    if ckpt.is_file():
        model, cfg, _, state = load_model(ckpt, device="cpu-fp32")
        if not isinstance(model, HMLPENet):
            raise ValueError(f"checkpoint {ckpt}: Figures 6 and 7 are HMLPE's network's only")
        return PageNetwork(
            model,
            cfg,
            None,
            f"trained: {ckpt.parent.name}/{ckpt.name}, epoch {state['epoch']}",
            "computed on this page from the weights",
            True,
            ckpt,
        )
    if exported.is_file():
        fx = features.load_features(exported)
        cfg = read_run_record(run.pretrain).config
        return PageNetwork(
            HMLPENet(cfg.model).eval(),
            cfg,
            fx,
            f"trained: {fx.meta['network']} (exported; no weights in this run folder)",
            f"exported by `hmlpe export` into pretrain/{FEATURES_NAME}",
            True,
            ckpt,
        )
    cfg = get_profile(profile).stage_config("pretrain")
    torch.manual_seed(cfg.seed)
    return PageNetwork(
        HMLPENet(cfg.model).eval(),
        cfg,
        None,
        f"NOT TRAINED: no checkpoint at {ckpt.parent.name}/{ckpt.name}; a freshly "
        f"initialised network (seed {cfg.seed}) stands in, so the pictures below "
        f"show random features",
        "computed on this page",
        False,
        ckpt,
    )


def stretch(patch: np.ndarray) -> np.ndarray:
    """A patch stretched to [0, 1] (a constant patch: mid grey)."""
    lo, hi = patch.min(), patch.max()
    return (patch - lo) / (hi - lo) if hi > lo else np.full_like(patch, 0.5)


def show_patch_grid(patches, title, cols=16, width=10.0):
    """One image holding the patches (RGB in [0, 1] or uint8) in rows of ``cols``, each
    enlarged to about 24 px (nearest neighbour) and numbered from 1 above it."""
    patches = [
        np.asarray(p, dtype=float) / (255 if np.asarray(p).dtype == np.uint8 else 1)
        for p in patches
    ]
    zoom = max(1, 24 // patches[0].shape[0])
    side = patches[0].shape[0] * zoom
    gap, top = max(2, side // 8), max(8, side // 2)
    rows = int(np.ceil(len(patches) / cols))
    cell_w, cell_h = side + gap, side + top
    sheet = np.ones((rows * cell_h, cols * cell_w - gap, 3))
    fig, ax = plt.subplots(figsize=(width, width * sheet.shape[0] / sheet.shape[1] + 0.45))
    for k, p in enumerate(patches):
        r, c = divmod(k, cols)
        y, x = r * cell_h + top, c * cell_w
        sheet[y : y + side, x : x + side] = np.kron(p, np.ones((zoom, zoom, 1)))
        ax.text(x + side / 2, y - 1, str(k + 1), ha="center", va="bottom", fontsize=7)
    ax.imshow(sheet, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
