"""PCP against compute, read from a curve's folders (``hmlpe curve``: ``ROOT/visits_<N>/``, each
a whole protocol run): one row per budget, the fitted slope per decade of visits, and the
figure of chapter 5 with the paper's point at its 27M visits."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hmlpe.companion.history import load_history
from hmlpe.config import PAPER_TABLE3_VISITS
from hmlpe.engine.layout import RunLayout

ARMS = ("LL", "RL", "LU", "RU")
_FOLDER = re.compile(r"visits_(\d+)$")


def _pcp(eval_dir: Path, dataset: str) -> dict[str, float]:
    m = json.loads((eval_dir / "metrics.json").read_text())
    pcp = m["table1"]["whole_set"]["pcp"] if dataset == "buffy" else m["table2"]["pcp"]
    return {f"{dataset} {arm}": float(pcp[arm]) for arm in ARMS}


def _last(h: pd.DataFrame, key: str) -> float:
    if key not in h:
        return np.nan
    v = h[key].dropna()
    return float(v.iloc[-1]) if len(v) else np.nan


def curve_row(folder: Path) -> dict[str, float]:
    """A budget's visits, pre-training errors (train, validation, test eq. 1), dead maps and the
    PCP of the fine-tuned networks (Buffy whole set, FLIC)."""
    run = RunLayout(folder)
    pre = load_history(run.pretrain)
    row = {"pre-training visits": int(pre["visits"].max()),
           "pre-training passes": int(pre["epoch"].max()),
           "train eq. 1": _last(pre, "train_regression"),
           "val eq. 1": _last(pre, "val_regression"),
           "test eq. 1 Buffy": _last(pre, "test_regression_buffy"),
           "test eq. 1 FLIC": _last(pre, "test_regression_flic"),
           "dead conv2": _last(pre, "dead_maps_conv2"), "dead conv3": _last(pre, "dead_maps_conv3"),
           "training minutes": float(sum(load_history(d)["train_seconds"].sum() for d in
                                         (run.pretrain, run.finetune("buffy"), run.finetune("flic"))))
           / 60}
    for ds in ("buffy", "flic"):
        row.update(_pcp(run.evaluation(ds), ds))
    return row


def curve_table(root: Path | str) -> pd.DataFrame:
    """Every ``visits_<N>`` folder under ``root`` with both evaluations, by budget."""
    root = Path(root)
    rows = {}
    for folder in sorted(root.iterdir()):
        match = _FOLDER.search(folder.name)
        if match and (RunLayout(folder).evaluation("flic") / "metrics.json").is_file():
            rows[int(match.group(1))] = curve_row(folder)
    if not rows:
        raise FileNotFoundError(f"no finished curve runs (visits_<N>/ with evaluations) in {root}")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("budget").sort_index()


def slopes_per_decade(table: pd.DataFrame) -> pd.Series:
    """Least-squares slope of each PCP column against log10(visits): points per 10x compute."""
    x = np.log10(table["pre-training visits"].to_numpy(float))
    return pd.Series({c: float(np.polyfit(x, table[c].to_numpy(float), 1)[0])
                      for c in table.columns if c.split(" ")[-1] in ARMS})


def extrapolate(table: pd.DataFrame, visits: float = PAPER_TABLE3_VISITS) -> pd.Series:
    """The straight lines of ``slopes_per_decade`` read at ``visits`` (an extrapolation: a
    straight line in log visits, not a prediction)."""
    x = np.log10(table["pre-training visits"].to_numpy(float))
    out = {}
    for c in table.columns:
        if c.split(" ")[-1] in ARMS:
            slope, icpt = np.polyfit(x, table[c].to_numpy(float), 1)
            out[c] = float(slope * np.log10(visits) + icpt)
    return pd.Series(out)


def plot_curve(table: pd.DataFrame, paper_pcp: dict[str, float], axes, extra_points=None):
    """PCP (one panel per dataset, one line per arm) against pre-training visits on a log axis;
    the paper's values as stars at its 27M visits; ``extra_points``: {label: (visits, {col:
    pcp})} drawn as open markers (the pool-size ablation)."""
    colours = dict(zip(ARMS, ("C0", "C1", "C2", "C3")))
    for ax, ds in zip(axes, ("buffy", "flic")):
        for arm in ARMS:
            col = f"{ds} {arm}"
            ax.plot(table["pre-training visits"], table[col], "o-", color=colours[arm], label=arm)
            if col in paper_pcp:
                ax.plot([PAPER_TABLE3_VISITS], [paper_pcp[col]], "*", ms=12, color=colours[arm])
        for label, (visits, pcp) in (extra_points or {}).items():
            for arm in ARMS:
                if f"{ds} {arm}" in pcp:
                    ax.plot([visits], [pcp[f"{ds} {arm}"]], "s", mfc="none", color=colours[arm])
            ax.annotate(label, (visits, min(pcp.get(f"{ds} {a}", 100) for a in ARMS)),
                        textcoords="offset points", xytext=(4, -12), fontsize=8)
        ax.set_xscale("log")
        ax.axvline(PAPER_TABLE3_VISITS, color="0.7", lw=0.8, ls=":")
        ax.set_xlabel("pre-training image visits (log)")
        ax.set_ylabel("PCP (%)")
        ax.set_title(f"{'Buffy (whole set)' if ds == 'buffy' else 'FLIC'}: stars = the paper at 27M")
        ax.set_ylim(0, 100)
        ax.legend(loc="lower right", fontsize=8)
