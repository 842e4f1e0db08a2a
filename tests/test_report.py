"""hmlpe.companion.report on small synthetic histories and metrics: comparisons, differences, Table 3's
cells, provenance rows, curves and per-frame arm scores."""
from __future__ import annotations

import hashlib
import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hmlpe.companion import paper
from hmlpe.companion import report  # noqa: E402
from hmlpe.config import TrainConfig, to_dict  # noqa: E402


def _history(epochs: int, scale: float = 1.0) -> pd.DataFrame:
    e = np.arange(1, epochs + 1)
    return pd.DataFrame({
        "epoch": e, "lr": 0.01, "train_loss": 10.0 / e,
        "train_regression": scale * 1.0 / e, "train_detection": 0.5 / e,
        "test_regression": scale * 2.0 / e, "test_detection": 0.6 / e,
        "train_seconds": 2.0, "images_per_second": 100.0 + e,
    })


def _buffy_metrics(whole=(10.0, 20.0, 30.0, 40.0), subset=(11.0, 21.0, 31.0, 41.0)) -> dict:
    return {
        "dataset": "buffy", "checkpoint": "/abs/run/finetune_buffy/last.pt",
        "checkpoint_epoch": 3, "checkpoint_commit": "abc", "association": "paper",
        "n_examples": 276, "n_matched": 267, "pcp_alpha": 0.5,
        "table1": {"whole_set": {"n": 276, "pcp": dict(zip(report.PART_COLUMNS, whole))},
                   "subset": {"n": 267, "pcp": dict(zip(report.PART_COLUMNS, subset))}},
        "provenance": {"git_commit": "abc+dirty", "device": "cpu", "created": "2025-01-01T00:00:00+00:00",
                       "seconds": 1.5, "inference_images_per_second": 50.0,
                       "data_fingerprint": "f00", "config": to_dict(TrainConfig(profile="smoke"))},
    }


# --------------------------------------------------------------------------- histories
def test_load_history_sorts_jsonl_and_falls_back_to_csv(tmp_path):
    rows = [{"epoch": 2, "train_regression": 0.5}, {"epoch": 1, "train_regression": 1.0}]
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    h = report.load_history(tmp_path)
    assert h["epoch"].tolist() == [1, 2] and h["train_regression"].tolist() == [1.0, 0.5]

    other = tmp_path / "csv_only"
    other.mkdir()
    _history(3).to_csv(other / "history.csv", index=False)
    assert report.load_history(other)["epoch"].tolist() == [1, 2, 3]

    with pytest.raises(FileNotFoundError):
        report.load_history(tmp_path / "nothing")


def test_stage_summary_sums_time_and_takes_last_epoch():
    s = report.stage_summary({"a": _history(4)})
    assert s.loc["a", "epochs"] == 4
    assert s.loc["a", "training time"] == "8.0 s"
    assert s.loc["a", "images/s (median)"] == pytest.approx(102.5)
    assert s.loc["a", "test regression"] == pytest.approx(0.5)


def test_plot_learning_curves_draws_train_and_test_per_run():
    fig, (ax_r, ax_d) = plt.subplots(1, 2)
    report.plot_learning_curves({"a": _history(3), "b": _history(3, 2.0)}, ax_r, ax_d,
                                offsets={"b": 3})
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
    report.plot_learning_curves({"a": _history(2)}, None, ax)
    assert len(ax.get_lines()) == 2
    plt.close(fig)


# --------------------------------------------------------------------------- comparisons
def test_comparison_table_broadcasts_and_subtracts():
    p = pd.DataFrame({"x": [1.0, np.nan], "y": [2.0, 4.0]}, index=pd.Index(["A", "B"], name="m"))
    out = report.comparison_table({"x": 1.5, "y": 1.0}, p)
    assert out.index.names == ["m", "source"]
    assert list(out.index) == [("A", s) for s in report.SOURCES] + [("B", s) for s in report.SOURCES]
    assert out.loc[("A", "ours - paper"), "x"] == pytest.approx(0.5)
    assert out.loc[("A", "ours - paper"), "y"] == pytest.approx(-1.0)
    assert out.loc[("B", "ours"), "x"] == pytest.approx(1.5)       # ours shown ...
    assert np.isnan(out.loc[("B", "ours - paper"), "x"])           # ... no paper, no difference
    assert out.loc[("B", "ours - paper"), "y"] == pytest.approx(-3.0)


def test_comparison_table_aligns_per_row_values():
    p = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples(
        [("s", "A"), ("s", "B")], names=["set", "m"]))
    out = report.comparison_table({("s", "B"): {"x": 5.0}}, p)
    assert out.index.names == ["set", "m", "source"]
    assert np.isnan(out.loc[("s", "A", "ours"), "x"])
    assert out.loc[("s", "B", "ours - paper"), "x"] == pytest.approx(3.0)


def test_table1_comparison_every_paper_row_and_lr_means():
    m = _buffy_metrics()
    out = report.table1_comparison(m)
    t1 = paper.table1()
    assert len(out) == 3 * len(t1)
    hm = t1[(t1.test_set == "whole") & (t1.method == "HMLPE")].iloc[0]
    assert out.loc[("whole", "HMLPE", "ours - paper"), "LL"] == pytest.approx(10.0 - hm["LL"])
    assert out.loc[("whole", "HMLPE", "ours - paper"), "RU"] == pytest.approx(40.0 - hm["RU"])
    # combined rows: only the L/R mean columns are compared, with our left/right mean
    rodg = t1[t1.method == "RoDG-Boost"].iloc[0]
    lower, upper = report.LR_MEAN_COLUMNS
    assert np.isnan(out.loc[("whole", "RoDG-Boost", "paper"), "LL"])
    assert np.isnan(out.loc[("whole", "RoDG-Boost", "ours - paper"), "LL"])
    assert out.loc[("whole", "RoDG-Boost", "ours"), lower] == pytest.approx(15.0)
    assert out.loc[("whole", "RoDG-Boost", "ours - paper"), lower] == pytest.approx(
        15.0 - rodg["lower_arms_combined"])
    assert out.loc[("whole", "RoDG-Boost", "ours - paper"), upper] == pytest.approx(
        35.0 - rodg["upper_arms_combined"])
    # subset rows use our subset
    assert out.loc[("subset", "MoP", "ours"), upper] == pytest.approx(36.0)
    # the paper's own L/R mean where it gives both arms
    assert out.loc[("whole", "HMLPE", "paper"), lower] == pytest.approx((hm["LL"] + hm["RL"]) / 2)


def test_table2_comparison():
    m = {"table2": {"n": 1016, "pcp": {"LL": 50.0, "RL": 60.0, "LU": 90.0, "RU": 80.0}}}
    out = report.table2_comparison(m)
    t2 = paper.table2().iloc[0]
    assert out.loc[("HMLPE", "ours - paper"), "RL"] == pytest.approx(60.0 - t2["RL"])
    assert out.loc[("HMLPE", "ours"), report.LR_MEAN_COLUMNS[1]] == pytest.approx(85.0)
    with pytest.raises(ValueError):
        report.table2_comparison(_buffy_metrics())


def test_ratio_labels_and_trained_tasks():
    assert [report.ratio_label(r) for r in (0, 0.5, 1, 4, 1e10, math.inf)] == \
        ["0", "0.5", "1", "4", "1e10", "inf"]
    assert report.ratio_label(1e10) in paper.table3().columns
    assert report.trained_tasks(0) == {"detection"}
    assert report.trained_tasks(math.inf) == {"regression"}
    assert report.trained_tasks(2) == {"regression", "detection"}


def test_table3_keeps_untrained_tasks_out_of_the_paper_cells():
    hs = {0.0: _history(2), 1.0: _history(2), math.inf: _history(2), 1e10: None}
    cells, untrained = report.table3_ours(hs)
    assert list(cells.index) == list(paper.table3().index)
    assert list(cells.columns) == ["0", "1", "inf", "1e10"]
    assert np.isnan(cells.loc["training error (R)", "0"])       # the paper's '-'
    assert np.isnan(cells.loc["test error (P)", "inf"])
    assert cells.loc["test error (R)", "1"] == pytest.approx(1.0)  # last epoch: 2 / 2
    assert cells["1e10"].isna().all()                            # no finished epoch
    assert untrained.loc["training error (R)", "0"] == pytest.approx(0.5)
    assert untrained.loc["test error (P)", "inf"] == pytest.approx(0.3)
    assert set(untrained.columns) == {"0", "inf"}

    cmp = report.table3_comparison(hs)
    p3 = paper.table3()
    assert list(cmp.columns) == ["0", "1", "1e10", "inf"]          # the paper's order
    assert cmp.loc[("test error (R)", "ours - paper"), "1"] == pytest.approx(
        1.0 - p3.loc["test error (R)", "1"])
    assert np.isnan(cmp.loc[("test error (R)", "ours"), "0"])


# --------------------------------------------------------------------------- provenance
def test_provenance_of_metrics_has_no_absolute_path_and_data_digests(monkeypatch, tmp_path):
    sums = tmp_path / "checksums"
    sums.mkdir()
    (sums / "a.sha256").write_text("x  a/1.jpg\n")
    (sums / "a.sizes").write_text("1 a/1.jpg\n")
    monkeypatch.setattr(report, "CHECKSUMS_DIR", sums)
    monkeypatch.setattr(report.manifest_digests, "__defaults__", (sums,))
    monkeypatch.setattr(report, "data_verification", lambda: {"a": "ok (1 files checked)"})
    frame = report.provenance_frame(_buffy_metrics())
    v = frame["value"]
    assert v["code commit (evaluation)"] == "abc+dirty"
    assert v["checkpoint"] == "finetune_buffy/last.pt, epoch 3"
    assert v["evaluation time"] == "1.5 s"
    assert "profile smoke" in v["config"]
    assert v["data manifest a.sha256 (SHA-256)"] == hashlib.sha256(b"x  a/1.jpg\n").hexdigest()
    assert v["data root check, a"] == "ok (1 files checked)"
    assert not any("/abs/" in str(x) for x in v)


def test_provenance_of_a_run_folder(tmp_path):
    cfg = to_dict(TrainConfig(profile="smoke"))
    (tmp_path / "config.json").write_text(json.dumps(
        {"config": cfg, "device": "cpu", "init_from": "/abs/run/pretrain/last.pt",
         "git_commit": "c0ffee", "created": "2025-01-01T00:00:00+00:00"}))
    _history(2).to_csv(tmp_path / "history.csv", index=False)
    v = report.provenance_frame(tmp_path, with_data=False)["value"]
    assert v["code commit"] == "c0ffee"
    assert v["initialised from"] == "pretrain/last.pt"
    assert v["training time"] == "4.0 s"
    assert v["epochs done"] == "no checkpoint"
    with pytest.raises(FileNotFoundError):
        report.provenance_frame(tmp_path / "missing")


def test_manifest_digests_of_the_repository():
    digests = report.manifest_digests()
    assert set(digests) >= {"buffy.sha256", "flic.sha256", "lsp.sha256"}
    p = report.CHECKSUMS_DIR / "buffy.sha256"
    assert digests["buffy.sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_config_table_carries_the_config_comments():
    t = report.config_table(TrainConfig())
    assert t.loc["optim.momentum", "note"] == "[14]"
    assert t.loc["labels.window", "value"] == "30"
    assert t.loc["labels.window", "note"].startswith("paper")
    assert t.loc["model.conv_channels", "value"] == "[32, 32, 64]"


def test_schedule_text():
    assert report.schedule_text([0.01] * 3 + [0.001]) == "0.01 (epochs 1-3), 0.001 (epoch 4)"
    assert report.schedule_text([]) == ""


# --------------------------------------------------------------------------- FLIC curves
def test_figure4_curves_adds_lr_means():
    m = {"figure4": {"radii": [0, 1, 2], "torso": {
        "paper": {"l_elbow": [0, 10, 20], "r_elbow": [0, 30, 40],
                  "l_wrist": [0, 0, 10], "r_wrist": [0, 0, 30]}}}}
    c = report.figure4_curves(m)
    assert c.index.name == "r"
    assert c[("paper", "elbow")].tolist() == [0, 20, 30]
    assert c[("paper", "wrist")].tolist() == [0, 0, 20]


# --------------------------------------------------------------------------- examples
def test_arm_scores_is_eq6_criterion():
    gt = np.array([[[[0.0, 0.0], [10.0, 0.0]]]])          # one arm of length 10
    exact = gt.copy()
    swapped = gt[..., ::-1, :]
    off = gt + np.array([0.0, 5.0])                        # both ends 5 away: 0.5 L
    far = gt + np.array([0.0, 6.0])
    nan = np.full_like(gt, np.nan)
    s = report.arm_scores(np.concatenate([exact, swapped, off, far, nan]),
                          np.concatenate([gt] * 5))
    assert s[:, 0].tolist()[:4] == pytest.approx([0.0, 0.0, 0.5, 0.6])
    assert np.isinf(s[4, 0])
    # consistent with hmlpe.metrics.pcp at alpha = 0.5
    from hmlpe.metrics import pcp
    pred = np.concatenate([exact, swapped, off, far])
    assert (s[:4, 0] <= 0.5).tolist() == pcp(pred, np.concatenate([gt] * 4))[:, 0].tolist()


def test_best_and_worst_order_and_ties():
    scores = pd.DataFrame({"example": list("abcde"), "matched": [True, True, True, True, False],
                           "arms correct": [4, 4, 0, 2, 0],
                           "mean arm score": [0.3, 0.1, 2.0, 0.6, np.inf]})
    best, worst = report.best_and_worst(scores, 2)
    assert best["example"].tolist() == ["b", "a"]
    assert worst["example"].tolist() == ["c", "d"]           # unmatched 'e' never shown


def test_checked_frame_scores_rejects_a_table_it_does_not_add_up_to(tmp_path, monkeypatch):
    import pandas as pd
    from hmlpe.companion import report
    frame = pd.DataFrame({"example": ["a", "b"], "matched": [True, True],
                          "LL": [True, False], "RL": [True, True], "LU": [False, False], "RU": [True, False]})
    monkeypatch.setattr(report, "frame_scores", lambda eval_dir: frame)
    ok = report.checked_frame_scores(tmp_path, {"LL": 50.0, "RL": 100.0, "LU": 0.0, "RU": 50.0})
    assert ok is frame
    with pytest.raises(ValueError, match="do not add up"):
        report.checked_frame_scores(tmp_path, {"LL": 50.0, "RL": 100.0, "LU": 0.0, "RU": 100.0})


def test_config_summary_names_the_optimiser_of_the_config():
    from hmlpe.config import asdict, merge, TrainConfig
    from hmlpe.companion.report import config_summary
    adam = config_summary(asdict(merge(TrainConfig(), {"optim.name": "adam"})))
    sgd = config_summary(asdict(merge(TrainConfig(), {"optim.name": "sgd"})))
    assert "AdamW lr" in adam and "beta1 0.9" in adam and "SGD" not in adam
    assert "SGD lr" in sgd and "momentum 0.9" in sgd
    assert "lambda_r 0.09091, lambda_d 0.9091 (eq. 3 mean over windows)" in adam
