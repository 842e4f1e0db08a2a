"""hmlpe.companion.history on small synthetic histories: loading, the per-run summary and the
learning curves."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from hmlpe.companion import history  # noqa: E402
from tests.synthetic import history_frame  # noqa: E402


def test_load_history_sorts_jsonl_and_falls_back_to_csv(tmp_path):
    rows = [{"epoch": 2, "train_regression": 0.5}, {"epoch": 1, "train_regression": 1.0}]
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    h = history.load_history(tmp_path)
    assert h["epoch"].tolist() == [1, 2] and h["train_regression"].tolist() == [1.0, 0.5]

    other = tmp_path / "csv_only"
    other.mkdir()
    history_frame(3).to_csv(other / "history.csv", index=False)
    assert history.load_history(other)["epoch"].tolist() == [1, 2, 3]

    with pytest.raises(FileNotFoundError):
        history.load_history(tmp_path / "nothing")


def test_stage_summary_sums_time_and_takes_last_epoch():
    s = history.stage_summary({"a": history_frame(4)})
    assert s.loc["a", "epochs"] == 4
    assert s.loc["a", "training time"] == "8.0 s"
    assert s.loc["a", "images/s (median)"] == pytest.approx(102.5)
    assert s.loc["a", "test regression"] == pytest.approx(0.5)


def test_plot_learning_curves_draws_train_and_test_per_run():
    fig, (ax_r, ax_d) = plt.subplots(1, 2)
    history.plot_learning_curves(
        {"a": history_frame(3), "b": history_frame(3, 2.0)}, ax_r, ax_d, offsets={"b": 3}
    )
    assert len(ax_r.get_lines()) == 4 and len(ax_d.get_lines()) == 4
    solid = [l for l in ax_r.get_lines() if l.get_linestyle() == "-"]
    dashed = [l for l in ax_r.get_lines() if l.get_linestyle() == "--"]
    assert len(solid) == len(dashed) == 2
    xs = {l.get_label(): list(l.get_xdata()) for l in ax_r.get_lines()}
    assert xs["b, train"] == [4, 5, 6]
    # one legend entry per run plus training/test
    assert [t.get_text() for t in ax_r.get_legend().get_texts()] == ["a", "b", "training", "test"]
    plt.close(fig)


def test_plot_learning_curves_accepts_a_single_axis():
    fig, ax = plt.subplots()
    history.plot_learning_curves({"a": history_frame(2)}, None, ax)
    assert len(ax.get_lines()) == 2
    plt.close(fig)
