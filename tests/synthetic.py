"""Synthetic results shared by the tests of the companion modules: a training history and the
metrics.json of a Buffy evaluation (the tests import these; pytest collects nothing here)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from hmlpe.companion.tables import PART_COLUMNS
from hmlpe.config import TrainConfig

# an absolute run folder (where a run's provenance may point), made at run time
ABS_RUN = Path(__file__).resolve().parent / "run"


def history_frame(epochs: int, scale: float = 1.0) -> pd.DataFrame:
    """A run's per-epoch log: errors falling as 1/epoch, regression scaled by ``scale``."""
    e = np.arange(1, epochs + 1)
    return pd.DataFrame(
        {
            "epoch": e,
            "lr": 0.01,
            "train_loss": 10.0 / e,
            "train_regression": scale * 1.0 / e,
            "train_detection": 0.5 / e,
            "test_regression": scale * 2.0 / e,
            "test_detection": 0.6 / e,
            "train_seconds": 2.0,
            "images_per_second": 100.0 + e,
        }
    )


def buffy_metrics(whole=(10.0, 20.0, 30.0, 40.0), subset=(11.0, 21.0, 31.0, 41.0)) -> dict:
    """The metrics.json of a Buffy evaluation with these whole-set and subset PCPs."""
    return {
        "dataset": "buffy",
        "checkpoint": str(ABS_RUN / "finetune_buffy" / "last.pt"),
        "checkpoint_epoch": 3,
        "checkpoint_commit": "abc",
        "association": "paper",
        "n_examples": 276,
        "n_matched": 267,
        "pcp_alpha": 0.5,
        "table1": {
            "whole_set": {"n": 276, "pcp": dict(zip(PART_COLUMNS, whole))},
            "subset": {"n": 267, "pcp": dict(zip(PART_COLUMNS, subset))},
        },
        "provenance": {
            "git_commit": "abc+dirty",
            "device": "cpu",
            "created": "2025-01-01T00:00:00+00:00",
            "seconds": 1.5,
            "inference_images_per_second": 50.0,
            "data_fingerprint": "f00",
            "config": asdict(TrainConfig(profile="smoke")),
        },
    }
