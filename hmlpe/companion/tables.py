"""The paper's Tables 1-3 and Figure 4 beside ours: "paper vs ours" comparison tables built from
what the paper published (``hmlpe.companion.paper``) and what the engine wrote
(``metrics.json``, training histories). Nothing is computed here except differences and L/R
means.

Conventions of the tables:

- Comparison frames (:func:`comparison_table`) stack, for each row of the paper's table, the
  rows ``paper``, ``ours`` and ``ours - paper`` (:data:`SOURCES`); a NaN in ``paper`` is a cell
  the paper does not print, and its difference is NaN.
- PCP is in percent (as the paper and ``metrics.json``).
- Where the paper prints one number for a left/right pair of arms, the comparison uses the
  mean of our left and right arms, in the columns :data:`LR_MEAN_COLUMNS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hmlpe.companion import paper
from hmlpe.engine.profiles import ratio_to_lambdas
from hmlpe.engine.records import EvaluationRecord, evaluation_record_from_json

PART_COLUMNS = ("LL", "RL", "LU", "RU")
LR_MEAN_COLUMNS = ("lower arms (L/R mean)", "upper arms (L/R mean)")
SOURCES = ("paper", "ours", "ours - paper")


# --------------------------------------------------------------------------- comparisons
def comparison_table(
    ours: Mapping | pd.Series | pd.DataFrame, paper: pd.DataFrame, *, source_level: str = "source"
) -> pd.DataFrame:
    """Paper vs ours vs difference, row by row of the paper's table.

    paper: the paper's numbers, one row per paper row (any index), NaN where it prints none.
    ours: our numbers; a mapping column -> value (or a Series) is compared with every paper
    row; a DataFrame (or mapping row -> {column: value}) is aligned by index (missing rows:
    NaN). Returns a frame with the paper's columns and the paper's index extended by a last
    level ``source`` holding :data:`SOURCES` for each row: ``paper``, ``ours`` and
    ``ours - paper`` (NaN where either is NaN).
    """
    paper = paper.astype(float)
    if isinstance(ours, pd.DataFrame):
        ours_df = ours
    elif isinstance(ours, pd.Series) or (
        isinstance(ours, Mapping)
        and not any(isinstance(v, (Mapping, pd.Series)) for v in ours.values())
    ):
        row = pd.Series(ours, dtype=float)
        ours_df = pd.DataFrame([row.to_dict()] * len(paper), index=paper.index)
    else:
        ours_df = pd.DataFrame.from_dict({k: dict(v) for k, v in ours.items()}, orient="index")
    ours_df = ours_df.reindex(index=paper.index, columns=paper.columns).astype(float)
    diff = ours_df - paper
    frames = dict(zip(SOURCES, (paper, ours_df, diff)))
    keys, rows = [], []
    for key in paper.index:
        for source, df in frames.items():
            keys.append((*(key if isinstance(key, tuple) else (key,)), source))
            rows.append(df.loc[key].to_numpy(float))
    names = [
        *(n if n is not None else f"level_{k}" for k, n in enumerate(paper.index.names)),
        source_level,
    ]
    out = pd.DataFrame(
        np.array(rows).reshape(len(rows), len(paper.columns)),
        index=pd.MultiIndex.from_tuples(keys, names=names),
        columns=paper.columns,
    )
    return out


def pcp_with_means(pcp: Mapping[str, float]) -> dict[str, float]:
    """Our per-arm PCP plus the L/R means of the lower and upper arms."""
    out = {c: float(pcp[c]) for c in PART_COLUMNS}
    out[LR_MEAN_COLUMNS[0]] = (out["LL"] + out["RL"]) / 2
    out[LR_MEAN_COLUMNS[1]] = (out["LU"] + out["RU"]) / 2
    return out


def paper_table1_frame() -> pd.DataFrame:
    """The paper's Table 1 indexed by (test set, method), columns LL, RL, LU, RU and the L/R
    means (the paper's combined number where it prints only that)."""
    t = paper.table1()
    means = paper.table1_arm_means()
    frame = t[["test_set", "method", *PART_COLUMNS]].copy()
    frame[LR_MEAN_COLUMNS[0]] = means["lower_arms"]
    frame[LR_MEAN_COLUMNS[1]] = means["upper_arms"]
    frame = frame.set_index(["test_set", "method"])
    frame.index.names = ["test set", "method"]
    frame.attrs.update(t.attrs)
    frame.attrs["lr_combined"] = dict(zip(frame.index, t["lr_combined"].astype(bool)))
    return frame


OURS_ROW = "HMLPE (ours)"
GAP_ROW = "reproduction gap: ours - paper's HMLPE"
VERSUS_COLUMNS = (
    "our network - this method: lower arms (L/R mean)",
    "our network - this method: upper arms (L/R mean)",
)


def paper_form(paper_df: pd.DataFrame, ours: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """The paper's table as printed, test set by test set, with our rows added: after the
    paper's HMLPE row of each test set, ``HMLPE (ours)`` and the reproduction gap (ours - the
    paper's HMLPE; the only "ours - paper" of the table). Our network against each *other*
    method is in its own columns (:data:`VERSUS_COLUMNS`, L/R means), never labelled a gap.

    paper_df: index (test set, method), the paper's columns (PART_COLUMNS and the L/R means);
    ours: test set -> our PCP with L/R means (:func:`pcp_with_means`)."""
    columns = list(paper_df.columns) + list(VERSUS_COLUMNS)
    rows, keys = [], []
    for test_set in dict.fromkeys(paper_df.index.get_level_values(0)):
        mine = pd.Series(ours[test_set], dtype=float).reindex(paper_df.columns)
        for method, theirs in paper_df.loc[test_set].iterrows():
            theirs = theirs.astype(float)
            row = theirs.reindex(columns)
            if method != "HMLPE":
                for col, mean_col in zip(VERSUS_COLUMNS, LR_MEAN_COLUMNS):
                    row[col] = mine[mean_col] - theirs[mean_col]
            keys.append((test_set, method))
            rows.append(row)
            if method == "HMLPE":
                keys += [(test_set, OURS_ROW), (test_set, GAP_ROW)]
                rows += [mine.reindex(columns), (mine - theirs).reindex(columns)]
    out = pd.DataFrame(
        rows, index=pd.MultiIndex.from_tuples(keys, names=paper_df.index.names), columns=columns
    )
    out.attrs.update(paper_df.attrs)
    return out


def as_record(metrics: EvaluationRecord | Mapping[str, Any]) -> EvaluationRecord:
    """An evaluation's record; a ``metrics.json`` object already in memory is read by its owner
    (``engine.records.evaluation_record_from_json``)."""
    if isinstance(metrics, EvaluationRecord):
        return metrics
    return evaluation_record_from_json(metrics)


def table1_comparison(metrics: EvaluationRecord | Mapping[str, Any]) -> pd.DataFrame:
    """The paper's Table 1 in its own form with our rows added (:func:`paper_form`): the
    whole-set rows with our whole set, the subset rows with our matched subset
    (the ``metrics.json`` record of a Buffy evaluation)."""
    m = as_record(metrics)
    if m.dataset != "buffy":
        raise ValueError("these metrics hold no table1 (not a Buffy evaluation)")
    ours = {"whole": pcp_with_means(m.pcp()), "subset": pcp_with_means(m.pcp("subset"))}
    return paper_form(paper_table1_frame(), ours)


def table2_comparison(metrics: EvaluationRecord | Mapping[str, Any]) -> pd.DataFrame:
    """The paper's Table 2 (HMLPE on FLIC) with our rows added (:func:`paper_form`), with the
    L/R means (the ``metrics.json`` record of a FLIC evaluation)."""
    m = as_record(metrics)
    if m.dataset != "flic":
        raise ValueError("these metrics hold no table2 (not a FLIC evaluation)")
    t = paper.table2()
    frame = t.set_index("method")[list(PART_COLUMNS)].astype(float)
    frame[LR_MEAN_COLUMNS[0]] = frame[["LL", "RL"]].mean(axis=1)
    frame[LR_MEAN_COLUMNS[1]] = frame[["LU", "RU"]].mean(axis=1)
    frame.index = pd.MultiIndex.from_tuples(
        [("FLIC", m) for m in frame.index], names=["test set", "method"]
    )
    frame.attrs.update(t.attrs)
    out = paper_form(frame, {"FLIC": pcp_with_means(m.pcp())})
    return out.drop(columns=list(VERSUS_COLUMNS))  # Table 2 holds no other method


TABLE3_ROWS = {  # the paper's row label -> (history column, task)
    "training error (R)": ("train_regression", "regression"),
    "test error (R)": ("test_regression", "regression"),
    "training error (P)": ("train_detection", "detection"),
    "test error (P)": ("test_detection", "detection"),
}


def ratio_label(ratio: float) -> str:
    """The paper's column label of a lambda_R / lambda_P ratio ("0", "0.5", "1e10", "inf")."""
    ratio = float(ratio)
    if math.isinf(ratio):
        return "inf"
    if ratio >= 1e6:
        return f"1e{round(math.log10(ratio))}"
    return f"{ratio:g}"


def trained_tasks(ratio: float) -> set[str]:
    """The tasks with a non-zero weight at lambda_R / lambda_P = ratio."""
    lambda_r, lambda_d = ratio_to_lambdas(float(ratio))
    return {t for t, w in (("regression", lambda_r), ("detection", lambda_d)) if w > 0}


def table3_ours(
    histories: Mapping[float, pd.DataFrame | None],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our Table 3 from the sweep's histories {ratio: history or None (no finished epoch)}.

    Returns (cells, untrained): ``cells`` has the paper's rows and one column per ratio
    (:func:`ratio_label`) with the last epoch's errors, NaN where the task has weight 0 (the
    paper's '-') or the run has no finished epoch; ``untrained`` holds the errors we measured
    anyway for the task with weight 0 (never trained; not comparable with any paper cell)."""
    cols = [ratio_label(r) for r in histories]
    cells = pd.DataFrame(np.nan, index=list(TABLE3_ROWS), columns=cols)
    untrained = pd.DataFrame(np.nan, index=list(TABLE3_ROWS), columns=cols)
    for ratio, h in histories.items():
        if h is None or len(h) == 0:
            continue
        last = h.iloc[-1]
        tasks = trained_tasks(ratio)
        for row, (col, task) in TABLE3_ROWS.items():
            value = float(last[col]) if col in last and pd.notna(last[col]) else np.nan
            (cells if task in tasks else untrained).loc[row, ratio_label(ratio)] = value
    cells.columns.name = untrained.columns.name = "lambda_R / lambda_P"
    untrained = untrained.dropna(how="all").dropna(axis=1, how="all")
    return cells, untrained


def table3_comparison(histories: Mapping[float, pd.DataFrame | None]) -> pd.DataFrame:
    """The paper's Table 3 beside ours (:func:`table3_ours`), for the paper's ratios that we
    ran (columns) and its four rows, each as paper / ours / ours - paper."""
    p = paper.table3()
    cells, _ = table3_ours(histories)
    common = [c for c in p.columns if c in cells.columns]
    out = comparison_table(cells[common], p[common])
    out.index.names = ["error", "source"]
    out.attrs.update(p.attrs)
    return out


# --------------------------------------------------------------------------- Figure 4
def figure4_curves(metrics: EvaluationRecord | Mapping[str, Any]) -> pd.DataFrame:
    """Eq. 7's accuracy curves of a FLIC evaluation (its record, or a ``metrics.json`` object
    with a ``figure4``): index r (percent of the torso size), columns (torso definition,
    joint), plus the L/R means ``elbow`` and ``wrist``."""
    f = as_record(metrics).accuracy_curves()
    cols: dict[tuple[str, str], list[float]] = {}
    for definition, curves in f.torso.items():
        for joint, acc in curves.items():
            cols[(definition, joint)] = list(acc)
        for kind in ("elbow", "wrist"):
            cols[(definition, kind)] = list(
                np.mean([curves[f"l_{kind}"], curves[f"r_{kind}"]], axis=0)
            )
    frame = pd.DataFrame(cols, index=pd.Index(list(f.radii), name="r"))
    frame.columns.names = ["torso", "joint"]
    return frame
