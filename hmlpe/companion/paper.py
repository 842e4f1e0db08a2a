"""The paper's published numbers (data/paper_results.json), as pandas DataFrames.

The JSON was transcribed once from the paper's text (data/paper_excerpts.txt holds the lines it checks against);
tests/test_paper.py parses that text and checks the JSON against it.

- :func:`table1` -- Table 1, PCP on the Buffy test set (section 4.3). Where the paper prints
  one number for both arms of a pair (RoDG-Boost, Eichner, subset MoP) the value is in
  ``lower_arms_combined`` / ``upper_arms_combined`` and ``lr_combined`` is True.
- :func:`table2` -- Table 2, PCP on the FLIC test set (section 4.4).
- :func:`table3` -- Table 3, train/test errors against lambda_R / lambda_P (section 4.5);
  the paper's '-' is NaN.
- :func:`figure4_statements` -- what the text says about Figure 4 (no curve values exist).
- :func:`published_elsewhere` -- numbers from the protocol facts page (book/11_protocol_facts.py), each with its source.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from hmlpe.paths import PROJECT_ROOT

RESULTS_FILE = PROJECT_ROOT / "data" / "paper_results.json"
PART_COLUMNS = ["LL", "RL", "LU", "RU"]


@cache
def _load(path: str = str(RESULTS_FILE)) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def results() -> dict[str, Any]:
    """The whole JSON document (a fresh copy)."""
    return json.loads(json.dumps(_load()))


def table1() -> pd.DataFrame:
    """Table 1 rows with columns test_set, method, citation, LL, RL, LU, RU,
    lower_arms_combined, upper_arms_combined, lr_combined (percent PCP, alpha = 0.5)."""
    t = _load()["table1"]
    cols = [
        "test_set",
        "method",
        "citation",
        *PART_COLUMNS,
        "lower_arms_combined",
        "upper_arms_combined",
        "lr_combined",
    ]
    df = pd.DataFrame(t["rows"])[cols]
    for c in [*PART_COLUMNS, "lower_arms_combined", "upper_arms_combined"]:
        df[c] = df[c].astype(float)
    df.attrs.update(ref=t["ref"], section=t["section"], caption=t["caption"])
    return df


def table1_arm_means() -> pd.DataFrame:
    """Table 1 with one lower-arm and one upper-arm number per row: the mean of left and
    right, or the paper's combined value where it gives only that."""
    df = table1()
    out = df[["test_set", "method"]].copy()
    out["lower_arms"] = df[["LL", "RL"]].mean(axis=1).fillna(df["lower_arms_combined"])
    out["upper_arms"] = df[["LU", "RU"]].mean(axis=1).fillna(df["upper_arms_combined"])
    out.attrs.update(df.attrs)
    return out


def table2() -> pd.DataFrame:
    """Table 2: method, LL, RL, LU, RU (percent PCP on FLIC, alpha = 0.5)."""
    t = _load()["table2"]
    df = pd.DataFrame(t["rows"])[["method", *PART_COLUMNS]]
    df.attrs.update(ref=t["ref"], section=t["section"], caption=t["caption"])
    return df


def table3() -> pd.DataFrame:
    """Table 3: rows 'training error (R)', 'test error (R)', 'training error (P)',
    'test error (P)'; columns the lambda_R / lambda_P labels '0' .. '1e10', 'inf'."""
    t = _load()["table3"]
    df = pd.DataFrame.from_dict(t["rows"], orient="index", columns=t["columns"]).astype(float)
    df.columns.name = "lambda_R / lambda_P"
    df.attrs.update(
        ref=t["ref"],
        section=t["section"],
        caption=t["caption"],
        ratios=[float(r) for r in t["ratios"]],
    )
    return df


def figure4_statements() -> pd.DataFrame:
    """The text's statements about Figure 4 (FLIC, eq. 7): r, and HMLPE minus MODEC in
    percentage points per joint where the text gives one."""
    f = _load()["figure4"]
    rows = []
    for s in f["statements"]:
        diff = s.get("hmlpe_minus_modec") or {}
        rows.append(
            {"r": s["r"], "wrist": diff.get("wrist"), "elbow": diff.get("elbow"), "text": s["text"]}
        )
    df = pd.DataFrame(rows)
    df.attrs.update(ref=f["ref"], section=f["section"], caption=f["caption"])
    return df


def published_elsewhere() -> pd.DataFrame:
    """Numbers from the protocol facts page (book/11_protocol_facts.py, 'Published numbers'), with their sources."""
    return pd.DataFrame(_load()["published_elsewhere"]["rows"])
