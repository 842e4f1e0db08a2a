"""PCP against compute (issue 15): the whole protocol of a profile at several pre-training
budgets in image visits, each a complete run with its own schedule (its learning-rate decay
falls at the same fraction of its own steps), fine-tuning and evaluation as the profile says.

Folder layout: ``ROOT/visits_<N>/`` is one protocol run (``run_protocol``) whose pre-training
lasts ``round(N / pool images)`` passes; ``N`` is the requested budget, the run's history
records the visits it made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hmlpe.data.source import DataSource
from hmlpe.engine.profiles import Profile
from hmlpe.errors import UsageError


def budget_epochs(visits: int, profile: Profile, pool_images: int) -> int:
    """Pre-training epochs (in the profile's unit) closest to ``visits`` image visits, at least 1."""
    if visits < 1:
        raise UsageError(f"a budget must be >= 1 image visit, got {visits}")
    per_epoch = profile.stage_config("pretrain").stage.passes_per_epoch * pool_images
    return max(1, round(visits / per_epoch))


def budget_folder(root: Path, visits: int) -> Path:
    return Path(root) / f"visits_{visits}"


def run_curve(
    profile: Profile, budgets: list[int], root: Path, *, source: DataSource | None = None
) -> dict[int, Path]:
    """One protocol run per budget, smallest first (each resumable; a finished one is reused),
    reading the datasets from ``source`` (None: ``DataSource.resolve()``)."""
    from hmlpe.data.pipeline import training_set_records
    from hmlpe.engine.protocol import run_protocol

    source = source if source is not None else DataSource.resolve()
    pool = len(training_set_records(profile.stage_config("pretrain"), source)[0])
    out = {}
    for visits in sorted(set(budgets)):
        prof = replace(profile, pretrain_epochs=budget_epochs(visits, profile, pool))
        folder = budget_folder(root, visits)
        run_protocol(prof, folder, source=source)
        out[visits] = folder
    return out
