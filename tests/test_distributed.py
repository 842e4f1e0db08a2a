"""Data-parallel training (torchrun, DDP, gloo on the CPU): the shards of a global batch, and on
the smoke profile 2 ranks against one process, then a distributed run stopped after epoch 1 and
resumed."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from test_training import synthetic_train, tiny_config

from hmlpe.config import TrainConfig, from_dict
from hmlpe.data.pipeline import load_train_set
from hmlpe.engine import batches, distributed
from hmlpe.engine.checkpoint import build_model, load_checkpoint
from hmlpe.engine.device import select_device
from hmlpe.engine.protocol import configure
from hmlpe.paths import PROJECT_ROOT


@pytest.mark.parametrize("batch", [1, 2, 5, 16, 71])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_shards_cover_the_batch_once(batch, world):
    parts = [distributed.shard(batch, distributed.Context(r, world)) for r in range(world)]
    covered = np.concatenate([np.arange(batch)[p] for p in parts])
    assert covered.tolist() == list(range(batch))
    sizes = [p.stop - p.start for p in parts]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(
    "augment", [{}, {"augment.rotation_deg": 10.0, "augment.scale_jitter": 0.1}]
)
def test_shards_of_a_device_batch_are_the_whole_batch(augment):
    """Every rank holds the same epoch plan and makes only its shard of each global batch
    (``training._Stage._step``): the shards concatenated equal the single-process batch."""
    cfg = tiny_config(**augment)
    train = synthetic_train(n=11)
    plan = batches.epoch_plan(11, 2, 3, 1, 128, 128, 112, cfg.augment)
    pool = batches.DevicePool(train.images, train.joints, "cpu")
    pool.set_plan(plan)
    start, stop = 4, 15
    whole = pool.batch(start, stop)
    pieces = []
    for rank in range(3):
        part = distributed.shard(stop - start, distributed.Context(rank, 3))
        pieces.append(pool.batch(start + part.start, start + part.stop))
    for k in range(3):
        assert torch.equal(torch.cat([p[k] for p in pieces]), whole[k])


def test_not_launched_is_one_plain_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with distributed.session("cpu") as ctx:
        assert ctx == distributed.SINGLE and not ctx.enabled and ctx.is_main
    assert distributed.backend_for("cpu-fp32") == "gloo"
    assert distributed.backend_for("cuda") == "nccl"


# --- torchrun on the smoke profile ----------------------------------------------------------

SMALL = [
    "--profile",
    "smoke",
    "--epochs",
    "2",
    "--device",
    "cpu-fp32",
    "--set",
    "model.dropout=0",  # dropout masks are drawn per rank
    "--set",
    "model.conv_channels=[8,8,8]",
    "--set",
    "model.fc_widths=[32,32]",
    "--set",
    "max_test_examples=8",
]


def _hmlpe(args, data_root, ranks=None):
    env = {**os.environ, "HMLPE_PROGRESS": "0"}
    launcher = (
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(ranks),
        ]
        if ranks
        else [sys.executable]
    )
    cmd = launcher + ["-m", "hmlpe", "train", *SMALL, "--data-root", str(data_root), *args]
    proc = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_root, data_source):
    """One process and 2 gloo ranks, the same seed and global batch: n - 1 examples, so that
    the first batch splits unevenly and the last (1 example) leaves rank 0 an empty shard."""
    prof = configure("smoke", {})
    n = len(load_train_set(prof.stage_config("pretrain"), data_source).images)
    batch = ["--set", f"optim.batch_size={n - 1}"]
    root = tmp_path_factory.mktemp("ddp")
    single = _hmlpe(["--out", str(root / "single"), *batch], data_root)
    ddp = _hmlpe(["--out", str(root / "ddp"), *batch], data_root, ranks=2)
    return {"root": root, "batch": batch, "single": single, "ddp": ddp, "n": n}


def _close(a, b, atol=1e-6):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=0, atol=atol), (
            key,
            (a[key] - b[key]).abs().max().item(),
        )


def test_two_gloo_ranks_train_the_weights_of_one_process(runs):
    single = load_checkpoint(runs["root"] / "single" / "last.pt")
    ddp = load_checkpoint(runs["root"] / "ddp" / "last.pt")
    assert single["epoch"] == ddp["epoch"] == 2
    assert "2 ranks (gloo)" in ddp["device"]
    _close(single["model"], ddp["model"])
    # the weights moved: the comparison is not between two untouched initialisations
    cfg = from_dict(TrainConfig, single["config"])
    torch.manual_seed(cfg.seed)
    init = build_model(cfg, select_device("cpu-fp32")).state_dict()
    assert any(not torch.allclose(init[k], ddp["model"][k], atol=1e-4) for k in init)
    # history: the global batch's losses and rank 0's test errors, written once
    for a, b in zip(single["history"], ddp["history"], strict=True):
        for key in (
            "train_loss",
            "train_regression",
            "train_detection",
            "test_regression",
            "test_detection",
        ):
            assert a[key] == pytest.approx(b[key], rel=1e-5), key
    rows = (runs["root"] / "ddp" / "history.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2]
    # rank 0 alone printed its summary
    assert runs["ddp"].stdout.count('"checkpoint"') == 1


def test_distributed_run_stopped_after_epoch_1_resumes_to_the_same_weights(runs, data_root):
    out = ["--out", str(runs["root"] / "split"), *runs["batch"]]
    _hmlpe([*out, "--stop-after-epochs", "1"], data_root, ranks=2)
    assert load_checkpoint(runs["root"] / "split" / "last.pt")["epoch"] == 1
    _hmlpe([*out, "--resume"], data_root, ranks=2)
    resumed = load_checkpoint(runs["root"] / "split" / "last.pt")
    full = load_checkpoint(runs["root"] / "ddp" / "last.pt")
    assert resumed["epoch"] == 2
    for key in full["model"]:
        assert torch.equal(resumed["model"][key], full["model"][key]), key


def test_other_commands_refuse_to_run_under_torchrun(monkeypatch, capsys):
    from hmlpe import cli

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli.main(["sweep", "--profile", "smoke", "--out", "unused"]) == 2
    assert "only `hmlpe train` runs under torchrun" in capsys.readouterr().err


def test_bench_reports_one_process_beside_two_gloo_ranks(tmp_path):
    from hmlpe.engine.bench import run_ranks_bench

    cfg = tiny_config()
    r = run_ranks_bench(
        ranks=(1, 2),
        batch_size=4,
        steps=1,
        rounds=1,
        device="cpu-fp32",
        out=tmp_path / "bench.json",
        cfg=cfg,
    )
    assert set(r["ranks"]) == {"1", "2"} and r["ranks"]["2"]["backend"] == "gloo"
    assert r["ranks"]["1"]["speedup_vs_1"] == 1.0
    assert all(v["train_images_per_s"] > 0 for v in r["ranks"].values())
    assert json.loads((tmp_path / "bench.json").read_text())["global_batch_size"] == 4
