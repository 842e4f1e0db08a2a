"""Checkpoints: written atomically, holding everything a resumed run needs; read back into a
model (``load_model``) without the training engine.

A checkpoint is a dict with: ``format`` (version), ``config`` (TrainConfig as a dict),
``epoch`` (last completed epoch, 1-based), ``model`` and ``optimizer`` state dicts, ``rng``
(torch, numpy and python RNG states), ``history`` (per-epoch log rows), ``git_commit``,
``created`` (UTC time) and ``device``.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from hmlpe.config import TrainConfig, from_dict
from hmlpe.engine.device import DeviceSpec, select_device
from hmlpe.engine.layout import CHECKPOINT_NAME
from hmlpe.errors import CheckpointError  # noqa: F401  (re-exported)
from hmlpe.network.model import HMLPENet, PoseNet
from hmlpe.provenance import atomic_write_bytes

FORMAT = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Serialise ``state`` to memory, then write it through a temporary file and a rename:
    a run killed while saving leaves the previous checkpoint intact."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        hint = (
            f"; did you mean {path / CHECKPOINT_NAME}?"
            if (path / CHECKPOINT_NAME).is_file()
            else ""
        )
        raise CheckpointError(f"checkpoint {path} is a folder, not a checkpoint file{hint}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for corrupt files
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not an hmlpe checkpoint of format {FORMAT}")
    for key in ("config", "model", "epoch"):
        if key not in state:
            raise CheckpointError(f"checkpoint {path} lacks {key!r}")
    return state


def build_model(cfg: TrainConfig, spec: DeviceSpec) -> PoseNet:
    """The network of ``cfg.network`` on the device: HMLPE's (``cfg.model``) or the "Since
    2014" heatmap network (``cfg.heatmap``)."""
    model: PoseNet
    if cfg.network == "heatmap":
        from hmlpe.network.heatmap import HeatmapNet

        model = HeatmapNet(cfg.heatmap).to(spec.device)
    else:
        model = HMLPENet(cfg.model).to(spec.device)
    if spec.channels_last:
        # Module.to takes memory_format at run time; torch's overloads leave it out.
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


# Config fields that say where a run executes, not what it computes: a run resumes on another
# device. Where the data lie is not in the config at all (``hmlpe.data.source``): a run
# resumes on another data root too; the data themselves are pinned by the checksums of
# ``hmlpe data verify`` and the run record's ``train_fingerprint``, not by their path. A
# checkpoint written when the config still held ``data.data_root`` loads without it
# (``config.REMOVED_FIELDS``).
LOCATION_FIELDS = frozenset({"device"})


def check_same_config(saved: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    """Raise unless ``saved`` (a checkpoint) was written with ``cfg``, ``LOCATION_FIELDS``
    aside. Fields added to the config since the checkpoint was written count at their
    defaults."""
    mine, theirs = asdict(cfg), saved["config"]
    try:
        theirs = asdict(from_dict(TrainConfig, theirs))
    except (KeyError, TypeError, ValueError):
        pass  # compare as saved: the differing keys are named below
    differing = sorted(_diff_keys(mine, theirs) - LOCATION_FIELDS)
    if differing:
        raise CheckpointError(
            f"checkpoint {path} was written with a different config "
            f"(differs in: {', '.join(differing)}); use a new --out folder"
        )


def _diff_keys(a: dict, b: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key in set(a) | set(b):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out |= _diff_keys(va, vb, f"{prefix}{key}.")
        elif _normalise(va) != _normalise(vb):
            out.add(prefix + key)
    return out


def _normalise(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def load_model(
    checkpoint: Path, device: str = "auto"
) -> tuple[PoseNet, TrainConfig, DeviceSpec, dict]:
    """Model in eval mode (``HMLPENet`` or, for ``network="heatmap"``, ``HeatmapNet``), its
    config, the device spec and the raw checkpoint."""
    state = load_checkpoint(checkpoint)
    try:
        cfg = from_dict(TrainConfig, state["config"])
    except (KeyError, TypeError, ValueError) as exc:  # unknown keys, wrong types, bad ranges
        raise CheckpointError(f"checkpoint {checkpoint} has an incompatible config: {exc}") from exc
    spec = select_device(device)
    model = build_model(cfg, spec)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(
            f"checkpoint {checkpoint} does not fit the model of its config: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    model.eval()
    return model, cfg, spec, state


def architecture(cfg: TrainConfig) -> dict[str, Any]:
    """What decides the shapes of a config's weights: the network and its config."""
    return {
        "network": cfg.network,
        **asdict(cfg.heatmap if cfg.network == "heatmap" else cfg.model),
    }
