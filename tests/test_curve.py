"""engine/curve and companion/curve: budgets to epochs, the curve table, slopes by hand."""

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from hmlpe.companion.curve import (
    curve_reading,
    curve_table,
    extrapolate,
    gap_table,
    paper_pcp,
    slopes_per_decade,
    visits_text,
)
from hmlpe.engine.curve import budget_epochs
from hmlpe.engine.profiles import get_profile


def test_budget_epochs_rounds_to_passes():
    cpu, paper = get_profile("cpu"), get_profile("paper")
    assert budget_epochs(40_000, cpu, 4490) == 9  # 40000 / 4490 = 8.9
    assert budget_epochs(10, cpu, 4490) == 1  # at least one
    assert budget_epochs(16_188_800, paper, 5059) == 100  # paper epochs: 32 passes each
    with pytest.raises(ValueError, match="budget must be >= 1"):
        budget_epochs(0, cpu, 10)


def _fake_run(folder, visits, pcp_buffy, pcp_flic):
    for stage in ("pretrain", "finetune_buffy", "finetune_flic"):
        d = folder / stage
        d.mkdir(parents=True)
        (d / "history.jsonl").write_text(
            json.dumps(
                {
                    "epoch": 3,
                    "visits": visits,
                    "train_seconds": 60.0,
                    "train_regression": 0.1,
                    "val_regression": 0.2,
                    "dead_maps_conv2": 0.0,
                }
            )
            + "\n"
        )
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
    (tmp_path / "visits_5").mkdir()  # unfinished: no evaluations, left out
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


def test_gap_table_reads_where_the_line_reaches_the_paper(tmp_path):
    for visits, ll in ((10_000, 30.0), (100_000, 40.0), (1_000_000, 50.0)):
        _fake_run(tmp_path / f"visits_{visits}", visits, (ll, 5, 2, 3), (ll, 1, 2, 3))
    table = curve_table(tmp_path)
    paper = {f"{ds} {a}": 70.0 for ds in ("buffy", "flic") for a in ("LL", "RL", "LU", "RU")}
    gaps = gap_table(table, paper)
    # 20 points short at 1M, 10 points per decade: two decades more, 100M visits
    assert gaps.loc["buffy LL", "visits where the line reaches the paper"] == pytest.approx(1e8)
    assert gaps.loc["buffy RL", "visits where the line reaches the paper"] == np.inf
    paper["flic LL"] = 45.0  # below our 50 at the largest budget: already reached
    assert np.isnan(
        gap_table(table, paper).loc["flic LL", "visits where the line reaches the paper"]
    )
    paper["flic LL"] = 70.0
    text = " ".join(curve_reading(table, gaps, seed_sd=(0.7, 2.2)))
    assert "standard deviation over seeds of 0.7-2.2 points" in text
    assert "3 budgets from 10,000 to 1,000,000" in text and "100.0M to 100.0M" in text
    assert visits_text(2.3e9) == "2.3 billion" and visits_text(40428) == "40,428"
    assert visits_text(np.inf) == "never" and visits_text(np.nan) == "reached"
    assert "do not grow with compute" in text
    # buffy LL's line at 27M: 30 + 10 x log10(2696.64) = 64.3 < 70: no column passes the paper
    assert "pass the paper's values" not in text
    paper["buffy LL"] = 60.0
    text = " ".join(curve_reading(table, gap_table(table, paper)))
    assert "pass the paper's values in 1 of 8 columns:" in text


def test_paper_pcp_holds_the_published_hmlpe_rows():
    p = paper_pcp()
    assert p["buffy LL"] == 55.8 and p["flic RL"] == 56.7 and len(p) == 8


def test_one_budget_has_no_slope(tmp_path):
    _fake_run(tmp_path / "visits_10", 10, (1, 2, 3, 4), (1, 2, 3, 4))
    with pytest.raises(ValueError, match="at least two budgets"):
        slopes_per_decade(curve_table(tmp_path))


def test_visits_of_an_old_history_come_from_its_run_record(tmp_path):
    """Histories written before visits were logged: epochs done x the training images its
    run record counts (smoke profile: 24 examples of each of the three datasets); no data
    is read."""
    from hmlpe.companion.curve import pretrain_visits
    from hmlpe.engine.profiles import get_profile
    from hmlpe.errors import ResultsError

    cfg = get_profile("smoke").stage_config("pretrain")
    (tmp_path / "config.json").write_text(json.dumps({"config": asdict(cfg), "train_examples": 72}))
    history = pd.DataFrame({"epoch": [1, 2]})
    assert pretrain_visits(tmp_path, history) == 2 * 72
    assert pretrain_visits(tmp_path, pd.DataFrame({"epoch": [1], "visits": [500]})) == 500
    (tmp_path / "config.json").write_text(json.dumps({"config": asdict(cfg)}))
    with pytest.raises(ResultsError, match="records no train_examples.*pass the data source"):
        pretrain_visits(tmp_path, history)


def test_visits_of_a_record_without_its_images_come_from_the_data(tmp_path, data_source):
    """Records written before they counted their training images: the config's training
    set in the data source (smoke profile: 24 examples of each of the three datasets)."""
    from hmlpe.companion.curve import pretrain_visits
    from hmlpe.engine.profiles import get_profile

    cfg = get_profile("smoke").stage_config("pretrain")
    (tmp_path / "config.json").write_text(json.dumps({"config": asdict(cfg)}))
    assert pretrain_visits(tmp_path, pd.DataFrame({"epoch": [1, 2]}), data_source) == 2 * 72


def test_manifest_row_reads_an_export_and_tolerates_none(tmp_path):
    from hmlpe.companion.seeds import manifest_row

    (tmp_path / "MANIFEST.json").write_text(
        json.dumps(
            {
                "training_commits": ["0123456789abcdef"],
                "devices": ["cpu (x)"],
                "wall_seconds": 90,
                "exported": "2026-12-03",
                "data_manifests_sha256": {"lsp.sha256": "f" * 64},
            }
        )
    )
    row = manifest_row(tmp_path)
    assert row["training commits"] == "0123456789" and row["wall time (min)"] == 1.5
    assert row["data manifests (sha256)"] == "lsp.sha256 " + "f" * 12
    assert manifest_row(tmp_path / "none")["device"] == ""


def test_plot_draws_points_fits_stars_and_references(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hmlpe.companion.curve import plot_curve

    for visits, ll in ((10_000, 30.0), (100_000, 40.0)):
        _fake_run(tmp_path / f"visits_{visits}", visits, (ll, 1, 2, 3), (ll, 1, 2, 3))
    table = curve_table(tmp_path)
    fig, axes = plt.subplots(1, 2)
    plot_curve(table, paper_pcp(), axes, extra_points={"ref": (50_000, {"buffy LL": 33.0})})
    buffy = axes[0].get_lines()
    # per arm: points, fitted line, star (4 x 3), the reference square, the paper's vline
    assert len(buffy) == 4 * 3 + 1 + 1
    fitted = [ln for ln in buffy if ln.get_linestyle() == "--"]
    assert len(fitted) == 4 and fitted[0].get_xdata()[-1] == pytest.approx(26_966_400)
    assert fitted[0].get_ydata()[-1] == pytest.approx(30 + 10 * np.log10(26_966_400 / 1e4))
    plt.close(fig)
