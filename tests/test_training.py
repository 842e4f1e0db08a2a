"""The training engine on small synthetic sets: resume equality, atomic checkpoints,
non-finite loss, history format, config checks."""

import json
import os

import numpy as np
import pytest
import torch

from hmlpe.config import merge
from hmlpe.data.pipeline import HeldOutSet, TrainSet
from hmlpe.engine import training
from hmlpe.engine.checkpoint import (
    CheckpointError,
    check_same_config,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from hmlpe.engine.profiles import get_profile
from hmlpe.errors import ConfigError, RunFolderError

TINY = {
    "model.conv_channels": [8, 8, 8],
    "model.fc_widths": [16, 16],
    "optim.batch_size": 8,
    "device": "cpu-fp32",
    "optim.lr": 0.01,
}


def tiny_config(epochs=2, **extra):
    cfg = get_profile("smoke").stage_config("pretrain")
    return merge(cfg, {**TINY, "stage.epochs": epochs, **extra})


def synthetic_train(n=20, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 128, 128, 3), dtype=np.uint8)
    joints = rng.uniform(10, 118, (n, 8, 2))
    return TrainSet("synthetic", images, joints, [str(i) for i in range(n)], "synthetic")


def synthetic_test(n=6, seed=1):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 112, 112, 3), dtype=np.uint8)
    joints = rng.uniform(5, 107, (n, 8, 2))
    boxes = np.tile([0.0, 0.0, 112.0, 112.0], (n, 1))
    ok = np.ones(n, bool)
    return HeldOutSet("buffy", [], images, boxes, ok, joints, ok, "synthetic")


def run(cfg, folder, **kw):
    return training.train(
        cfg,
        folder,
        train_set=synthetic_train(),
        test_sets={"buffy": synthetic_test()},
        **kw,
    )


def test_two_epochs_equal_one_plus_resume_plus_one(tmp_path):
    cfg = tiny_config(epochs=2)
    full = run(cfg, tmp_path / "full")
    run(cfg, tmp_path / "split", stop_after_epochs=1)
    assert load_checkpoint(tmp_path / "split" / "last.pt")["epoch"] == 1
    resumed = run(cfg, tmp_path / "split", resume=True)
    a = load_checkpoint(full.checkpoint)["model"]
    b = load_checkpoint(resumed.checkpoint)["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    strip = lambda rows: [
        {k: v for k, v in r.items() if k not in ("train_seconds", "images_per_second")}
        for r in rows
    ]
    assert strip(full.history) == strip(resumed.history)


def test_resume_after_the_data_folder_moved(tmp_path):
    """Where the data lie is the entry point's DataSource, not a setting of the run: a run
    started on one data root resumes on another and ends where the uninterrupted run does;
    its run record names the new root. A checkpoint written when the config still held
    ``data.data_root`` resumes too. Any other change is still refused."""
    from hmlpe.data.source import DataSource
    from hmlpe.engine.checkpoint import save_checkpoint
    from hmlpe.engine.records import read_run_record

    old_root, new_root = DataSource(tmp_path / "data_old"), DataSource(tmp_path / "data_new")
    cfg = tiny_config(epochs=2)
    full = run(cfg, tmp_path / "full", source=old_root)
    run(cfg, tmp_path / "split", source=old_root, stop_after_epochs=1)
    assert read_run_record(tmp_path / "split").data_root == str(old_root.root)
    # as an earlier version wrote it: the data root inside the config
    ckpt = tmp_path / "split" / "last.pt"
    state = load_checkpoint(ckpt)
    state["config"]["data"]["data_root"] = str(old_root.root)
    save_checkpoint(ckpt, state)
    resumed = run(cfg, tmp_path / "split", source=new_root, resume=True)
    a = load_checkpoint(full.checkpoint)["model"]
    b = load_checkpoint(resumed.checkpoint)["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    record = read_run_record(tmp_path / "split")
    assert record.data_root == str(new_root.root) and record.config == cfg
    with pytest.raises(CheckpointError, match=r"differs in: optim\.lr"):
        run(merge(cfg, {"optim.lr": 0.02}), tmp_path / "split", source=new_root, resume=True)


def test_mid_epoch_stop_and_resume_equal_an_uninterrupted_run(tmp_path):
    # one paper epoch (32 passes of 20 images: 80 steps at batch 8): stop inside the
    # first epoch, after a readback, and again inside the second; the resumed run draws the same
    # visits and ends bitwise where the uninterrupted one does
    cfg = tiny_config(epochs=1, **{"stage.epoch_unit": "paper", "optim.warmup": 0.2})
    full = run(cfg, tmp_path / "full", readback_every=2)
    part = run(cfg, tmp_path / "split", readback_every=2, stop_after_steps=30)
    assert not part.finished
    saved = load_checkpoint(tmp_path / "split" / "last.pt")
    assert saved["epoch"] == 0 and saved["partial"]["step"] == 30
    part = run(cfg, tmp_path / "split", resume=True, readback_every=2, stop_after_steps=20)
    assert load_checkpoint(tmp_path / "split" / "last.pt")["partial"]["step"] == 50
    resumed = run(cfg, tmp_path / "split", resume=True, readback_every=2)
    assert resumed.finished
    a = load_checkpoint(full.checkpoint)["model"]
    b = load_checkpoint(resumed.checkpoint)["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert full.history[-1]["train_loss"] == pytest.approx(
        resumed.history[-1]["train_loss"], rel=1e-12
    )
    assert full.history[-1]["visits"] == 32 * 20


def test_paper_epoch_visits_and_steps():
    cfg = tiny_config(epochs=3, **{"stage.epoch_unit": "paper"})
    assert cfg.stage.passes_per_epoch == 32
    assert cfg.stage.visits(20) == 3 * 32 * 20
    assert training.steps_per_epoch(cfg, 20) == 80  # 640 visits / batch 8
    with pytest.raises(Exception, match="stage.epoch_unit=fortnight"):
        merge(cfg, {"stage.epoch_unit": "fortnight"}).stage.passes_per_epoch


def test_history_rows_hold_table3_errors(tmp_path):
    result = run(tiny_config(epochs=1), tmp_path / "r")
    rows = [json.loads(l) for l in (tmp_path / "r" / "history.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows == result.history
    for key in (
        "train_regression",
        "train_detection",
        "test_regression",
        "test_detection",
        "test_regression_buffy",
        "test_detection_buffy",
        "lr",
        "epoch",
    ):
        assert np.isfinite(rows[0][key]), key
    # An untrained detector outputs about 0.5: per-window cross-entropy near ln 2.
    assert 0.3 < rows[0]["test_detection"] < 1.5
    assert (tmp_path / "r" / "history.csv").read_text().startswith("epoch,")


def test_existing_run_needs_resume_and_matching_config(tmp_path):
    cfg = tiny_config(epochs=1)
    run(cfg, tmp_path / "r")
    with pytest.raises(RunFolderError, match="--resume"):
        run(cfg, tmp_path / "r")
    with pytest.raises(CheckpointError, match="loss.lambda_d"):
        run(merge(cfg, {"loss.lambda_d": 0.25}), tmp_path / "r", resume=True)


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = tiny_config(epochs=2)
    run(cfg, tmp_path / "r", stop_after_epochs=1)
    before = (tmp_path / "r" / "last.pt").read_bytes()
    real = training.losses.total_loss

    def poisoned(*a, **k):
        terms = real(*a, **k)
        return terms._replace(total=terms.total * float("nan"))

    monkeypatch.setattr(training.losses, "total_loss", poisoned)
    with pytest.raises(training.NonFiniteLossError, match=r"epoch 2, step 1") as caught:
        run(cfg, tmp_path / "r", resume=True)
    assert (caught.value.epoch, caught.value.step) == (2, 1)
    assert (tmp_path / "r" / "last.pt").read_bytes() == before


def test_checkpoint_write_interrupted_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"config": {}, "model": {}, "epoch": 1})

    def boom(src, dst):
        raise KeyboardInterrupt("killed while renaming")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"config": {}, "model": {}, "epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary file left


def test_corrupt_or_foreign_checkpoint_is_named(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an hmlpe checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")


def test_incompatible_architecture_is_reported(tmp_path):
    cfg = tiny_config(epochs=1)
    result = run(cfg, tmp_path / "r")
    state = load_checkpoint(result.checkpoint)
    state["config"]["model"]["fc_widths"] = [32, 16]  # config no longer fits the weights
    save_checkpoint(tmp_path / "edited.pt", {k: v for k, v in state.items() if k != "format"})
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model(tmp_path / "edited.pt", "cpu-fp32")
    with pytest.raises(CheckpointError, match="another architecture"):
        run(merge(cfg, {"model.fc_widths": [32, 16]}), tmp_path / "ft", init_from=result.checkpoint)


def test_seed_fixes_the_result(tmp_path):
    a = run(tiny_config(epochs=1), tmp_path / "a").history[0]
    b = run(tiny_config(epochs=1), tmp_path / "b").history[0]
    c = run(tiny_config(epochs=1, seed=5), tmp_path / "c").history[0]
    assert a["train_loss"] == b["train_loss"]
    assert a["train_loss"] != c["train_loss"]


def test_learning_rate_schedule():
    cfg = merge(
        tiny_config(epochs=8), {"optim.lr": 0.1, "optim.lr_decay_at": [0.5], "stage.lr_scale": 0.5}
    )
    # 80 steps: the rate is 0.1 x 0.5 until step 40, then x 0.1
    assert training.learning_rate(cfg, 39, 80) == pytest.approx(0.05)
    assert training.learning_rate(cfg, 40, 80) == pytest.approx(0.005)
    warm = merge(cfg, {"optim.warmup": 0.1})
    assert [training.learning_rate(warm, s, 80) for s in (0, 3, 7, 8)] == pytest.approx(
        [0.05 / 8, 0.05 / 2, 0.05, 0.05]
    )
    cos = merge(cfg, {"optim.schedule": "cosine", "optim.warmup": 0.25})
    assert training.learning_rate(cos, 20, 80) == pytest.approx(0.05)  # after warm-up: the top
    assert training.learning_rate(cos, 50, 80) == pytest.approx(0.025)  # halfway down
    assert training.learning_rate(cos, 80, 80) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="schedule"):
        training.learning_rate(merge(cfg, {"optim.schedule": "linear"}), 0, 80)


def test_protocol_reuses_a_finished_stage_only_for_the_same_config(tmp_path):
    from hmlpe.engine.protocol import run_stage

    cfg = tiny_config(epochs=1)
    kw = dict(train_set=synthetic_train(), test_sets={"buffy": synthetic_test()})
    first = run_stage(cfg, tmp_path / "s", **kw)
    before = first.checkpoint.read_bytes()
    assert run_stage(cfg, tmp_path / "s", **kw) == first.checkpoint  # skipped: already done
    assert first.checkpoint.read_bytes() == before
    with pytest.raises(CheckpointError, match="optim.lr"):
        run_stage(merge(cfg, {"optim.lr": 0.5}), tmp_path / "s", **kw)


def test_optimiser_choice_and_unknown_name():
    model = torch.nn.Linear(2, 1)
    assert isinstance(training.build_optimizer(tiny_config(), model), torch.optim.SGD)
    adam = training.build_optimizer(merge(tiny_config(), {"optim.name": "adam"}), model)
    assert isinstance(adam, torch.optim.AdamW)
    with pytest.raises(ConfigError, match="optim.name=rmsprop: expected one of sgd, adam"):
        training.build_optimizer(merge(tiny_config(), {"optim.name": "rmsprop"}), model)


def test_same_config_check_names_the_difference_and_accepts_new_defaults(tmp_path):
    cfg = tiny_config(epochs=1)
    saved = {"config": __import__("dataclasses").asdict(cfg)}
    check_same_config(saved, cfg, tmp_path / "last.pt")  # identical: passes
    older = {"config": {k: v for k, v in saved["config"].items() if k != "augment"}}
    check_same_config(older, cfg, tmp_path / "last.pt")  # field added since: default
    with pytest.raises(CheckpointError, match=r"differs in: optim\.lr"):
        check_same_config(saved, merge(cfg, {"optim.lr": 0.5}), tmp_path / "last.pt")
    check_same_config(saved, merge(cfg, {"device": "cpu-fp32"}), tmp_path / "last.pt")


def test_the_heatmap_network_trains_resumes_and_loads_as_itself(tmp_path):
    """The "Since 2014" network through the same engine: its history has the held-out eq. 1 of
    its decoded joints and no detection error or dead-map share (HMLPE's network only), its
    checkpoint loads as a HeatmapNet, and HMLPE's weights cannot start it."""
    from hmlpe.network.heatmap import HeatmapNet

    hm = {
        "network": "heatmap",
        "heatmap.stem_channels": 4,
        "heatmap.stage_channels": [4, 8, 8, 8],
        "heatmap.deconv_channels": 8,
    }
    cfg = tiny_config(epochs=2, **hm)
    full = run(cfg, tmp_path / "full")
    row = full.history[-1]
    assert np.isfinite(row["test_regression_buffy"]) and np.isfinite(row["train_regression"])
    assert np.isnan(row["train_detection"]) and np.isnan(row["test_detection_buffy"])
    assert not any(k.startswith("dead_maps") for k in row)
    run(cfg, tmp_path / "split", stop_after_epochs=1)
    resumed = run(cfg, tmp_path / "split", resume=True)
    a, b = (load_checkpoint(r.checkpoint)["model"] for r in (full, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)
    model, loaded, _, _ = load_model(full.checkpoint, "cpu")
    assert isinstance(model, HeatmapNet) and loaded.network == "heatmap"
    hmlpe_run = run(tiny_config(epochs=1), tmp_path / "hmlpe")
    with pytest.raises(CheckpointError, match="another architecture"):
        run(cfg, tmp_path / "from_hmlpe", init_from=hmlpe_run.checkpoint)
