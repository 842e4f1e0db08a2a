"""engine/curve and companion/curve: budgets to epochs, the curve table, slopes by hand."""
import json

import numpy as np
import pandas as pd
import pytest

from hmlpe.companion.curve import curve_table, extrapolate, slopes_per_decade
from hmlpe.engine.curve import budget_epochs
from hmlpe.engine.profiles import get_profile


def test_budget_epochs_rounds_to_passes():
    cpu, paper = get_profile("cpu"), get_profile("paper")
    assert budget_epochs(40_000, cpu, 4490) == 9            # 40000 / 4490 = 8.9
    assert budget_epochs(10, cpu, 4490) == 1                # at least one
    assert budget_epochs(16_188_800, paper, 5059) == 100    # paper epochs: 32 passes each
    with pytest.raises(ValueError, match="budget must be >= 1"):
        budget_epochs(0, cpu, 10)


def _fake_run(folder, visits, pcp_buffy, pcp_flic):
    for stage in ("pretrain", "finetune_buffy", "finetune_flic"):
        d = folder / stage
        d.mkdir(parents=True)
        (d / "history.jsonl").write_text(json.dumps(
            {"epoch": 3, "visits": visits, "train_seconds": 60.0, "train_regression": 0.1,
             "val_regression": 0.2, "dead_maps_conv2": 0.0}) + "\n")
    for ds, pcp in (("buffy", pcp_buffy), ("flic", pcp_flic)):
        d = folder / f"eval_{ds}"
        d.mkdir()
        body = {"pcp": dict(zip(("LL", "RL", "LU", "RU"), pcp))}
        m = {"table1": {"whole_set": body}} if ds == "buffy" else {"table2": body}
        (d / "metrics.json").write_text(json.dumps(m))


def test_curve_table_and_slope_by_hand(tmp_path):
    # LL grows 10 points per decade: 30 at 10k, 40 at 100k, 50 at 1M
    for visits, ll in ((10_000, 30.0), (100_000, 40.0), (1_000_000, 50.0)):
        _fake_run(tmp_path / f"visits_{visits}", visits, (ll, 1, 2, 3), (ll + 5, 1, 2, 3))
    (tmp_path / "visits_5").mkdir()              # unfinished: no evaluations, left out
    table = curve_table(tmp_path)
    assert list(table.index) == [10_000, 100_000, 1_000_000]
    assert table.loc[100_000, "training minutes"] == pytest.approx(3.0)
    slopes = slopes_per_decade(table)
    assert slopes["buffy LL"] == pytest.approx(10.0)
    assert slopes["flic RL"] == pytest.approx(0.0, abs=1e-9)
    assert extrapolate(table, 10_000_000)["buffy LL"] == pytest.approx(60.0)


def test_no_curve_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no finished curve runs"):
        curve_table(tmp_path)
