"""Checkpoints: written atomically, holding everything a resumed run needs.

A checkpoint is a dict with: ``format`` (version), ``config`` (TrainConfig as a dict),
``epoch`` (last completed epoch, 1-based), ``model`` and ``optimizer`` state dicts, ``rng``
(torch, numpy and python RNG states), ``history`` (per-epoch log rows), ``git_commit``,
``created`` (UTC time) and ``device``.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from hmlpe.provenance import atomic_write_bytes

FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the requested model/config."""


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Serialise ``state`` to memory, then write it through a temporary file and a rename:
    a run killed while saving leaves the previous checkpoint intact."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for corrupt files
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not an hmlpe checkpoint of format {FORMAT}")
    for key in ("config", "model", "epoch"):
        if key not in state:
            raise CheckpointError(f"checkpoint {path} lacks {key!r}")
    return state
