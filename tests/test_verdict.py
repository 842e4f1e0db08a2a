"""The verdict table: Table 3's claims as directions, Figure 4's rule, and the whole table on
synthetic committed results."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hmlpe.companion import verdict
from hmlpe.companion.paper import table3
from hmlpe.errors import ResultsError
from tests.test_uncertainty import _write_seed


def _cells(r_by_ratio, p_by_ratio):
    cols = ["0", "0.5", "1", "2", "4", "1e10", "inf"]
    cells = pd.DataFrame(
        np.nan,
        index=["training error (R)", "test error (R)", "training error (P)", "test error (P)"],
        columns=cols,
    )
    for c, v in r_by_ratio.items():
        cells.loc["test error (R)", c] = v
    for c, v in p_by_ratio.items():
        cells.loc["test error (P)", c] = v
    return cells


def test_table3_claims_by_hand():
    cells = _cells({"0.5": 0.2, "1": 0.1, "1e10": 0.3, "inf": 0.4}, {"0": 0.5, "1": 0.6})
    claims = verdict.table3_claims(cells)
    assert claims[0]["value"] == pytest.approx(0.1 / 0.4) and claims[0]["holds"] is True
    assert claims[1]["value"] == pytest.approx(0.6 / 0.5) and claims[1]["holds"] is False
    assert claims[2]["value"] == pytest.approx(0.3 - 0.4) and claims[2]["holds"] is True


def test_table3_claims_of_the_paper():
    claims = verdict.table3_claims(table3().astype(float))
    assert claims[0]["value"] == pytest.approx(0.131 / 0.284)  # ratio 1 against inf
    assert claims[1]["value"] == pytest.approx(0.064 / 0.069)  # ratios 1, 2 against 0
    assert claims[2]["value"] == pytest.approx(0.163 - 0.284)
    assert all(c["holds"] for c in claims)


def test_missing_column_gives_no_verdict():
    claims = verdict.table3_claims(_cells({"1": 0.1}, {}))
    assert claims[0]["holds"] is None and math.isnan(claims[0]["value"])


def _write_sweep(root, test_r):
    for label, value in test_r.items():
        d = root / "sweep" / f"ratio_{label}"
        d.mkdir(parents=True)
        row = {
            "epoch": 6,
            "train_regression": value,
            "test_regression": value,
            "train_detection": 0.1,
            "test_detection": 0.1,
        }
        (d / "history.jsonl").write_text(json.dumps(row) + "\n")


def _figure4(elbow, wrist):
    radii = list(range(21))
    curve = lambda v: [v * r / 20 for r in radii]
    torso = {
        k: {
            "l_elbow": curve(elbow),
            "r_elbow": curve(elbow),
            "l_wrist": curve(wrist),
            "r_wrist": curve(wrist),
        }
        for k in ("paper", "modec")
    }
    return {"radii": radii, "torso": torso}


def test_verdict_table_on_synthetic_results(tmp_path):
    matched = np.ones(10, bool)
    b = np.zeros((10, 4), bool)
    b[:, 2:] = True
    for seed in (0, 1):
        # Figure 4 at r = 20: 80 and 50
        _write_seed(tmp_path, seed, b, matched, np.ones((4, 4), bool), _figure4(80.0, 50.0))
    _write_sweep(tmp_path, {"0": 0.3, "1": 0.1, "inf": 0.2, "1e+10": 0.2})
    t = verdict.verdict_table(tmp_path)
    assert list(t.columns) == list(verdict.COLUMNS)
    assert (t["result"].str.startswith("Table 1")).sum() == 8
    lu = t[t["result"] == "Table 1, Buffy, whole set, LU (PCP %)"].iloc[0]
    assert lu["verdict"] == "reproduced" and lu["ours"] == pytest.approx(100)
    helps = t[t["result"].str.contains("detection helps regression")].iloc[0]
    assert helps["ours"] == pytest.approx(0.5) and helps["verdict"] == "reproduced"
    tiny = t[t["result"].str.contains("tiny detection weight")].iloc[0]
    assert tiny["ours"] == pytest.approx(0.0) and tiny["verdict"] == "not reproduced"
    elbow = t[t["result"].str.startswith("Figure 4: HMLPE - MODEC, elbow, r = 20")].iloc[0]
    assert elbow["ours"] == pytest.approx(80 - 72.5) and elbow["verdict"] == "consistent"
    wrist = t[t["result"].str.startswith("Figure 4: HMLPE - MODEC, wrist, r = 20")].iloc[0]
    assert wrist["ours"] == pytest.approx(50 - 54.5) and wrist["verdict"] == "differs"
    assert set(t[t["result"].str.contains("r = 6")]["verdict"]) == {"not checkable"}
    assert verdict.styled_verdict_table(t).to_html().count("<tr") == len(t) + 1


def test_verdict_table_without_results_names_the_folder(tmp_path):
    with pytest.raises(ResultsError, match="no committed results"):
        verdict.verdict_table(tmp_path / "nothing")


def test_table3_over_seeds_means_and_agreement(tmp_path):
    for seed, (r1, rinf) in enumerate([(0.1, 0.2), (0.3, 0.2), (0.1, 0.2)]):
        _write_sweep(tmp_path / f"seed_{seed}", {"0": 0.3, "1": r1, "inf": rinf})
    mean, sd, n = verdict.table3_over_seeds(tmp_path)
    assert n == 3
    assert mean.loc["test error (R)", "1"] == pytest.approx(0.5 / 3)
    assert sd.loc["test error (R)", "1"] == pytest.approx(np.std([0.1, 0.3, 0.1], ddof=1))
    helps = verdict.table3_rows(tmp_path)[0]
    assert helps["ours"] == pytest.approx(np.mean([0.5, 1.5, 0.5]))
    assert (
        helps["verdict"] == "reproduced" and "3 seed(s) (2 point the paper's way)" in helps["basis"]
    )
