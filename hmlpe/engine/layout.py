"""Every name in a run folder, in one place (the protocol, the CLI, the export and every chapter
read them from here).

A run folder (``runs/<profile>``; committed results keep the same names without weights)::

    pretrain/                 one training stage: config.json, history.jsonl, history.csv, last.pt
                              (+ features.npz, Figures 6 and 7, written by `hmlpe export`)
    finetune_buffy/           fine-tuning on Buffy, initialised from pretrain/last.pt
    finetune_flic/            fine-tuning on FLIC
    eval_buffy/               evaluation of finetune_buffy: predictions.csv, metrics.json
    eval_buffy_mirror/        the same with test-time mirror averaging (not in the paper)
    eval_flic/, eval_flic_mirror/
    sweep/ratio_<r>/          Table 3: one pre-training per lambda_R / lambda_P ratio
    eval_buffy_buffyrule/     Buffy evaluated under the Buffy package's association rule
    book_timings.json         what the book runner executed, how long, and how to rerun it
    jobs/                     logs of the jobs submitted into it (`hmlpe sweep --executor local|slurm`)
    MANIFEST.json             only in exported results (`hmlpe export`): files, provenance

A seeds root (``hmlpe seeds``, ``results/cpu``) holds one run folder per seed, ``seed_<n>/``,
and ``jobs/``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

# Files of a training stage folder.
CHECKPOINT_NAME = "last.pt"
HISTORY_NAME = "history.jsonl"
HISTORY_CSV_NAME = "history.csv"
CONFIG_NAME = "config.json"
FEATURES_NAME = "features.npz"  # Figures 6, 7 of a pre-training (hmlpe.companion.features)
# Files of an evaluation folder.
METRICS_NAME = "metrics.json"
PREDICTIONS_NAME = "predictions.csv"
# Files of a run folder.
TIMINGS_NAME = "book_timings.json"
JOBS = "jobs"  # job logs (hmlpe.engine.jobs)
MANIFEST_NAME = "MANIFEST.json"  # written by `hmlpe export`: the folder holds exported results

PRETRAIN = "pretrain"
SWEEP = "sweep"
FINETUNE_DATASETS = ("buffy", "flic")


def sweep_folder_name(ratio: float) -> str:
    """``ratio_1``, ``ratio_0.5``, ``ratio_1e+10``, ``ratio_inf``: Table 3's column as a folder."""
    return "ratio_inf" if math.isinf(ratio) else f"ratio_{ratio:g}"


def seed_folder_name(seed: int) -> str:
    """``seed_<n>``: one seed's run folder in a seeds root."""
    return f"seed_{int(seed)}"


def seed_of_folder(name: str) -> int | None:
    """The seed of a ``seed_<n>`` folder name, else None (the inverse of seed_folder_name)."""
    prefix, _, number = name.partition("_")
    return int(number) if prefix == "seed" and number.isdigit() else None


@dataclass(frozen=True)
class RunLayout:
    """The folders and files of one run folder ``root``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def pretrain(self) -> Path:
        return self.root / PRETRAIN

    def finetune(self, dataset: str) -> Path:
        return self.root / f"finetune_{_dataset(dataset)}"

    def evaluation(
        self, dataset: str, *, mirror: bool = False, association: str | None = None
    ) -> Path:
        """``eval_<dataset>``; ``_mirror`` for test-time mirror averaging; ``_<rule>rule`` for
        an evaluation under another Buffy association rule (chapter 6)."""
        name = f"eval_{_dataset(dataset)}"
        if association is not None:
            name += f"_{association}rule"
        return self.root / (name + ("_mirror" if mirror else ""))

    def sweep(self, ratio: float) -> Path:
        return self.root / SWEEP / sweep_folder_name(ratio)

    @property
    def is_exported(self) -> bool:
        """Exported results (``hmlpe export``): histories, metrics and features, no weights."""
        return (self.root / MANIFEST_NAME).is_file()

    @property
    def timings(self) -> Path:
        return self.root / TIMINGS_NAME

    @property
    def jobs(self) -> Path:
        """Logs of the jobs that trained into this folder (``hmlpe.engine.jobs``)."""
        return self.root / JOBS

    def stage(self, name: str) -> Path:
        """A stage by its folder name: ``pretrain``, ``finetune_buffy``, ``finetune_flic``."""
        if name == PRETRAIN:
            return self.pretrain
        prefix = "finetune_"
        if name.startswith(prefix):
            return self.finetune(name[len(prefix) :])
        raise ValueError(
            f"unknown stage {name!r}: pretrain or finetune_<{'|'.join(FINETUNE_DATASETS)}>"
        )

    def existing_folders(self) -> dict[str, Path]:
        """{name: folder} of the stage and evaluation folders present, in protocol order."""
        names = [PRETRAIN] + [f"finetune_{d}" for d in FINETUNE_DATASETS]
        for d in FINETUNE_DATASETS:
            names += [self.evaluation(d).name, self.evaluation(d, mirror=True).name]
        names.append(self.evaluation("buffy", association="buffy").name)
        return {n: self.root / n for n in names if (self.root / n).is_dir()}

    @staticmethod
    def checkpoint(folder: Path) -> Path:
        return Path(folder) / CHECKPOINT_NAME

    @staticmethod
    def metrics(folder: Path) -> Path:
        return Path(folder) / METRICS_NAME

    @staticmethod
    def predictions(folder: Path) -> Path:
        return Path(folder) / PREDICTIONS_NAME


def _dataset(dataset: str) -> str:
    if dataset not in FINETUNE_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(FINETUNE_DATASETS)}")
    return dataset
