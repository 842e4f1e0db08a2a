"""The owner of a training stage's ``config.json``: what it holds, how it is written and read.

A stage folder's ``config.json`` (``layout.CONFIG_NAME``) records the run's ``TrainConfig``
and where and how it ran: the device, the checkpoint it started from, the code commit, when
it was created, the training images and visits, whether it was compiled, the training data's
fingerprint and the data pack. The training loop writes it with :func:`write_run_record`;
everything else reads it with :func:`read_run_record` and the attributes of
:class:`RunRecord`, so that nothing else indexes the JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hmlpe.config import TrainConfig, from_dict
from hmlpe.engine.layout import CONFIG_NAME
from hmlpe.errors import HMLPEError
from hmlpe.provenance import atomic_write_json


class RecordError(HMLPEError):
    """A ``config.json`` that is missing, not JSON, or without its ``config``."""


@dataclass(frozen=True)
class RunRecord:
    """One stage's ``config.json``. ``config_dict`` is the config as written (any version);
    ``config`` rebuilds it as today's ``TrainConfig`` (``config.from_dict``: fields removed
    since are dropped, unknown ones raise). Fields absent from files of earlier versions are
    None."""

    path: Path
    config_dict: dict[str, Any]
    device: str | None = None
    init_from: str | None = None
    git_commit: str | None = None
    created: str | None = None
    train_examples: int | None = None
    passes_per_epoch: int | None = None
    visits_per_epoch: int | None = None
    visits_total: int | None = None
    compiled: bool | None = None
    train_fingerprint: str | None = None
    data_pack: dict[str, Any] | None = None

    @property
    def config(self) -> TrainConfig:
        return from_dict(TrainConfig, self.config_dict)

    @property
    def profile(self) -> str | None:
        return self.config_dict.get("profile")

    @property
    def epochs(self) -> int | None:
        """The stage's epochs (its schedule's length), from the config as written."""
        epochs = (self.config_dict.get("stage") or {}).get("epochs")
        return int(epochs) if epochs is not None else None


_FIELDS = tuple(f for f in RunRecord.__dataclass_fields__ if f not in ("path", "config_dict"))


def write_run_record(folder: Path, config: TrainConfig, **fields: Any) -> Path:
    """Write ``folder/config.json`` whole (temporary file, then rename): ``config`` and the
    :class:`RunRecord` fields given (device, init_from, git_commit, ...)."""
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise TypeError(f"not fields of a run record: {unknown}")
    path = Path(folder) / CONFIG_NAME
    atomic_write_json(path, {"config": asdict(config), **fields})
    return path


def read_run_record(folder: Path) -> RunRecord:
    """The ``config.json`` of a stage folder; a missing or malformed file raises
    :class:`RecordError` naming it."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise RecordError(f"{path} is missing: {Path(folder)} is not a training stage folder")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path} cannot be read as JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise RecordError(f"{path} has no 'config' object: not a run record")
    return RunRecord(
        path=path,
        config_dict=data["config"],
        **{name: data.get(name) for name in _FIELDS},
    )
