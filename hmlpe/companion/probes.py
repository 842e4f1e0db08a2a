"""Probe runs side by side: one row per run folder (its config and the last evaluated epoch of
its history). The recipe probes (``results/probes/recipes``) are read on the validation split:
``val_*`` columns choose, the ``test_*`` columns are shown for the record only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hmlpe.companion.history import load_history
from hmlpe.engine.layout import CONFIG_NAME
from hmlpe.engine.records import RunRecord, read_run_record

# (column, history key) of the last evaluated epoch
_ERRORS = (
    ("train eq. 1", "train_regression"),
    ("val eq. 1", "val_regression"),
    ("val eq. 1 Buffy", "val_regression_buffy"),
    ("val eq. 1 LSP", "val_regression_lsp"),
    ("val eq. 1 FLIC", "val_regression_flic"),
    ("val eq. 3", "val_detection"),
    ("val eq. 1, dropout-on mean of 16", "val_regression_mc16"),
    ("dead conv2", "dead_maps_conv2"),
    ("dead conv3", "dead_maps_conv3"),
    ("test eq. 1 Buffy", "test_regression_buffy"),
    ("test eq. 1 FLIC", "test_regression_flic"),
)


def recipe_of(record: RunRecord) -> dict[str, object]:
    """The recipe fields of a run's config.json (``records.RunRecord``; fields its version
    did not write at their defaults)."""
    o, m = record.config.optim, record.config.model
    return {
        "init": m.init,
        "optimiser": o.name,
        "lr": o.lr,
        "batch": o.batch_size,
        "warm-up": o.warmup,
        "schedule": o.schedule,
        "weight decay": o.weight_decay,
    }


def probe_row(folder: Path) -> dict[str, object]:
    """One run's recipe, visits, wall time and its last evaluated epoch's errors."""
    record = read_run_record(folder)
    h = load_history(folder)
    evaluated = h.dropna(subset=["val_regression"]) if "val_regression" in h else h
    last = evaluated.iloc[-1] if len(evaluated) else h.iloc[-1]
    row: dict[str, object] = {
        "run": folder.name,
        **recipe_of(record),
        "epochs": int(h["epoch"].max()),
        "visits": int(h["visits"].max()) if "visits" in h else None,
        "training minutes": float(h["train_seconds"].sum()) / 60,
    }
    errors = {
        column: float(last[key]) if key in last and pd.notna(last[key]) else np.nan
        for column, key in _ERRORS
    }
    row.update(errors)
    row["val dropout gap"] = errors["val eq. 1"] - errors["val eq. 1, dropout-on mean of 16"]
    return row


def probe_table(root: Path | str) -> pd.DataFrame:
    """Every run folder under ``root`` (folders holding a config.json and a history)."""
    root = Path(root)
    folders = sorted(p.parent for p in root.glob(f"*/{CONFIG_NAME}"))
    if not folders:
        raise FileNotFoundError(f"no probe runs (folders with {CONFIG_NAME}) under {root}")
    return pd.DataFrame([probe_row(f) for f in folders]).set_index("run")
