"""hmlpe.companion.tables on small synthetic histories and metrics: comparisons, differences,
Table 3's cells and Figure 4's L/R means."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hmlpe.companion import paper, tables
from tests.synthetic import buffy_metrics, history_frame


def test_comparison_table_broadcasts_and_subtracts():
    p = pd.DataFrame({"x": [1.0, np.nan], "y": [2.0, 4.0]}, index=pd.Index(["A", "B"], name="m"))
    out = tables.comparison_table({"x": 1.5, "y": 1.0}, p)
    assert out.index.names == ["m", "source"]
    assert list(out.index) == [("A", s) for s in tables.SOURCES] + [
        ("B", s) for s in tables.SOURCES
    ]
    assert out.loc[("A", "ours - paper"), "x"] == pytest.approx(0.5)
    assert out.loc[("A", "ours - paper"), "y"] == pytest.approx(-1.0)
    assert out.loc[("B", "ours"), "x"] == pytest.approx(1.5)  # ours shown ...
    assert np.isnan(out.loc[("B", "ours - paper"), "x"])  # ... no paper, no difference
    assert out.loc[("B", "ours - paper"), "y"] == pytest.approx(-3.0)


def test_comparison_table_aligns_per_row_values():
    p = pd.DataFrame(
        {"x": [1.0, 2.0]},
        index=pd.MultiIndex.from_tuples([("s", "A"), ("s", "B")], names=["set", "m"]),
    )
    out = tables.comparison_table({("s", "B"): {"x": 5.0}}, p)
    assert out.index.names == ["set", "m", "source"]
    assert np.isnan(out.loc[("s", "A", "ours"), "x"])
    assert out.loc[("s", "B", "ours - paper"), "x"] == pytest.approx(3.0)


def test_table1_in_the_papers_form_with_our_rows():
    m = buffy_metrics()
    out = tables.table1_comparison(m)
    t1 = paper.table1()
    assert len(out) == len(t1) + 4  # + ours and the gap, per test set
    whole = [k[1] for k in out.index if k[0] == "whole"]
    i = whole.index("HMLPE")
    assert whole[i + 1 : i + 3] == [tables.OURS_ROW, tables.GAP_ROW]
    hm = t1[(t1.test_set == "whole") & (t1.method == "HMLPE")].iloc[0]
    assert out.loc[("whole", "HMLPE"), "LL"] == pytest.approx(hm["LL"])  # the paper's row
    assert out.loc[("whole", tables.OURS_ROW), "LL"] == pytest.approx(10.0)
    assert out.loc[("whole", tables.GAP_ROW), "RU"] == pytest.approx(40.0 - hm["RU"])
    # other methods: the paper's numbers, and ours against them in their own columns (L/R means)
    rodg = t1[t1.method == "RoDG-Boost"].iloc[0]
    lower, upper = tables.LR_MEAN_COLUMNS
    vs_lower, vs_upper = tables.VERSUS_COLUMNS
    assert np.isnan(out.loc[("whole", "RoDG-Boost"), "LL"])
    assert out.loc[("whole", "RoDG-Boost"), lower] == pytest.approx(rodg["lower_arms_combined"])
    assert out.loc[("whole", "RoDG-Boost"), vs_lower] == pytest.approx(
        15.0 - rodg["lower_arms_combined"]
    )
    assert out.loc[("whole", "RoDG-Boost"), vs_upper] == pytest.approx(
        35.0 - rodg["upper_arms_combined"]
    )
    # no "versus" number on the HMLPE rows: there the gap row says it
    assert out.loc[("whole", "HMLPE"), [vs_lower, vs_upper]].isna().all()
    # subset rows use our subset
    assert out.loc[("subset", tables.OURS_ROW), upper] == pytest.approx(36.0)
    assert out.loc[("whole", "HMLPE"), lower] == pytest.approx((hm["LL"] + hm["RL"]) / 2)


def test_table2_in_the_papers_form():
    m = {"table2": {"n": 1016, "pcp": {"LL": 50.0, "RL": 60.0, "LU": 90.0, "RU": 80.0}}}
    out = tables.table2_comparison(m)
    t2 = paper.table2().iloc[0]
    assert [k[1] for k in out.index] == ["HMLPE", tables.OURS_ROW, tables.GAP_ROW]
    assert out.loc[("FLIC", tables.GAP_ROW), "RL"] == pytest.approx(60.0 - t2["RL"])
    assert out.loc[("FLIC", tables.OURS_ROW), tables.LR_MEAN_COLUMNS[1]] == pytest.approx(85.0)
    assert not set(tables.VERSUS_COLUMNS) & set(out.columns)
    with pytest.raises(ValueError):
        tables.table2_comparison(buffy_metrics())


def test_ratio_labels_and_trained_tasks():
    assert [tables.ratio_label(r) for r in (0, 0.5, 1, 4, 1e10, math.inf)] == [
        "0",
        "0.5",
        "1",
        "4",
        "1e10",
        "inf",
    ]
    assert tables.ratio_label(1e10) in paper.table3().columns
    assert tables.trained_tasks(0) == {"detection"}
    assert tables.trained_tasks(math.inf) == {"regression"}
    assert tables.trained_tasks(2) == {"regression", "detection"}


def test_table3_keeps_untrained_tasks_out_of_the_paper_cells():
    hs = {0.0: history_frame(2), 1.0: history_frame(2), math.inf: history_frame(2), 1e10: None}
    cells, untrained = tables.table3_ours(hs)
    assert list(cells.index) == list(paper.table3().index)
    assert list(cells.columns) == ["0", "1", "inf", "1e10"]
    assert np.isnan(cells.loc["training error (R)", "0"])  # the paper's '-'
    assert np.isnan(cells.loc["test error (P)", "inf"])
    assert cells.loc["test error (R)", "1"] == pytest.approx(1.0)  # last epoch: 2 / 2
    assert cells["1e10"].isna().all()  # no finished epoch
    assert untrained.loc["training error (R)", "0"] == pytest.approx(0.5)
    assert untrained.loc["test error (P)", "inf"] == pytest.approx(0.3)
    assert set(untrained.columns) == {"0", "inf"}

    cmp = tables.table3_comparison(hs)
    p3 = paper.table3()
    assert list(cmp.columns) == ["0", "1", "1e10", "inf"]  # the paper's order
    assert cmp.loc[("test error (R)", "ours - paper"), "1"] == pytest.approx(
        1.0 - p3.loc["test error (R)", "1"]
    )
    assert np.isnan(cmp.loc[("test error (R)", "ours"), "0"])


def test_figure4_curves_adds_lr_means():
    m = {
        "figure4": {
            "radii": [0, 1, 2],
            "torso": {
                "paper": {
                    "l_elbow": [0, 10, 20],
                    "r_elbow": [0, 30, 40],
                    "l_wrist": [0, 0, 10],
                    "r_wrist": [0, 0, 30],
                }
            },
        }
    }
    c = tables.figure4_curves(m)
    assert c.index.name == "r"
    assert c[("paper", "elbow")].tolist() == [0, 20, 30]
    assert c[("paper", "wrist")].tolist() == [0, 0, 20]
