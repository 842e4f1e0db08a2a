"""A training run's per-epoch history (``history.jsonl`` or ``history.csv``, written by the
engine): loading it, a per-run summary, and the learning curves in the style of Figure 5."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from hmlpe.engine.layout import HISTORY_CSV_NAME, HISTORY_NAME

HISTORY_FILES = (HISTORY_NAME, HISTORY_CSV_NAME)  # in the order they are looked for


def duration_text(value: float | None) -> str:
    """A duration as text ending in " s" (the book's nbval sanitiser masks it); "" if unknown."""
    return "" if value is None or not np.isfinite(value) else f"{value:.1f} s"


def load_history(folder: Path | str) -> pd.DataFrame:
    """A run's per-epoch log (``history.jsonl``, else ``history.csv``) as a DataFrame sorted
    by epoch, one row per epoch."""
    folder = Path(folder)
    jsonl, csv = (folder / n for n in HISTORY_FILES)
    if jsonl.is_file():
        rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
        frame = pd.DataFrame(rows)
    elif csv.is_file():
        frame = pd.read_csv(csv)
    else:
        raise FileNotFoundError(f"no {' or '.join(HISTORY_FILES)} in {folder}")
    if frame.empty or "epoch" not in frame:
        raise FileNotFoundError(f"the history in {folder} has no epochs")
    return frame.sort_values("epoch").reset_index(drop=True)


def stage_summary(histories: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per run: epochs, median and last throughput (training images/s), training time (sum of
    ``train_seconds``, as text "N s") and the last epoch's errors."""
    rows = {}
    for label, h in histories.items():
        last = h.iloc[-1]
        rows[label] = {
            "epochs": int(last["epoch"]),
            "images/s (median)": float(h["images_per_second"].median()),
            "images/s (last epoch)": float(last["images_per_second"]),
            "training time": duration_text(float(h["train_seconds"].sum())),
            "train regression": float(last["train_regression"]),
            "test regression": float(last.get("test_regression", np.nan)),
            "train detection": float(last["train_detection"]),
            "test detection": float(last.get("test_detection", np.nan)),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "run"
    return frame


def plot_learning_curves(
    histories: Mapping[str, pd.DataFrame],
    ax_reg=None,
    ax_det=None,
    *,
    colors: Mapping[str, Any] | None = None,
    offsets: Mapping[str, int] | None = None,
    legend: bool = True,
    legend_title: str | None = None,
) -> None:
    """Figure 5's style: per run, the training error (solid) and the test error (dashed)
    against the epoch; regression (eq. 1 summed over the joints) on ``ax_reg``, detection
    (mean eq. 3 per window) on ``ax_det``. Either axis may be None. ``colors``: per label
    (default: the matplotlib cycle in the order of ``histories``); ``offsets``: epochs added
    to a run's x axis (a fine-tuning drawn after its pre-training). ``legend``: one entry per
    run (its colour) and one per line style (training, test)."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = dict(colors or {})
    for k, label in enumerate(histories):
        colors.setdefault(label, cycle[k % len(cycle)])
    for task, ax in (("regression", ax_reg), ("detection", ax_det)):
        if ax is None:
            continue
        for label, h in histories.items():
            x = h["epoch"] + (offsets or {}).get(label, 0)
            few = len(h) < 8  # short runs: markers, filled for training and open for test
            for split, style in (("train", "-"), ("test", "--")):
                col = f"{split}_{task}"
                if col in h and h[col].notna().any():
                    ax.plot(
                        x,
                        h[col],
                        style,
                        color=colors[label],
                        label=f"{label}, {split}",
                        marker=("o" if split == "train" else "s") if few else None,
                        markersize=5,
                        markerfacecolor=colors[label] if split == "train" else "none",
                    )
        xs = [x for line in ax.get_lines() for x in line.get_xdata()]
        if xs and max(xs) - min(xs) < 10:  # few epochs: one tick per epoch, some margin
            ax.set_xticks(range(int(min(xs)), int(max(xs)) + 1))
            ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if legend and histories:
            handles = [
                Line2D([], [], color=colors[label], lw=2, label=label) for label in histories
            ]
            handles += [
                Line2D([], [], color="black", ls="-", marker="o", label="training"),
                Line2D(
                    [], [], color="black", ls="--", marker="s", markerfacecolor="none", label="test"
                ),
            ]
            ax.legend(handles=handles, fontsize=7, title=legend_title, title_fontsize=7)
        ax.set_xlabel("epoch")
        ax.set_ylabel(
            "regression error (eq. 1, sum over 8 joints)"
            if task == "regression"
            else "detection error (eq. 3, mean per window)"
        )
        ax.grid(alpha=0.3)
