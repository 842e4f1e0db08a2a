"""RunLayout: every name of a run folder in one place."""

import math
from pathlib import Path

import pytest

from hmlpe.engine.layout import RunLayout, sweep_folder_name


def test_folders_of_a_run():
    run = RunLayout("runs/x")
    assert run.root == Path("runs/x")
    assert run.pretrain == Path("runs/x/pretrain")
    assert run.finetune("buffy") == Path("runs/x/finetune_buffy")
    assert run.evaluation("flic") == Path("runs/x/eval_flic")
    assert run.evaluation("flic", mirror=True) == Path("runs/x/eval_flic_mirror")
    assert run.evaluation("buffy", association="buffy") == Path("runs/x/eval_buffy_buffyrule")
    assert run.sweep(1e10) == Path("runs/x/sweep/ratio_1e+10")
    assert run.timings == Path("runs/x/book_timings.json")
    assert RunLayout.checkpoint(run.pretrain) == Path("runs/x/pretrain/last.pt")
    assert RunLayout.metrics(run.evaluation("buffy")).name == "metrics.json"
    assert run.stage("finetune_flic") == run.finetune("flic")
    assert run.stage("pretrain") == run.pretrain


def test_sweep_names_and_errors():
    assert [sweep_folder_name(r) for r in (0, 0.1, 0.5, 1, 4, math.inf)] == [
        "ratio_0",
        "ratio_0.1",
        "ratio_0.5",
        "ratio_1",
        "ratio_4",
        "ratio_inf",
    ]
    with pytest.raises(ValueError, match="unknown dataset 'lsp'"):
        RunLayout("r").finetune("lsp")
    with pytest.raises(ValueError, match="unknown stage"):
        RunLayout("r").stage("warmup")


def test_exported_folders_are_recognised_and_never_trained(tmp_path):
    from hmlpe.engine.protocol import ExportedRunError, run_protocol, run_sweep

    run = RunLayout(tmp_path)
    assert not run.is_exported
    for folder in (
        run.pretrain,
        run.finetune("flic"),
        run.evaluation("buffy", association="buffy"),
    ):
        folder.mkdir()
    assert list(run.existing_folders()) == ["pretrain", "finetune_flic", "eval_buffy_buffyrule"]
    (tmp_path / "MANIFEST.json").write_text("{}")
    assert run.is_exported
    with pytest.raises(ExportedRunError, match="exported results"):
        run_protocol("smoke", tmp_path)
    with pytest.raises(ExportedRunError, match="exported results"):
        run_sweep("smoke", tmp_path)
    assert not run.checkpoint(run.pretrain).exists()


def test_seed_folder_names_round_trip():
    from hmlpe.engine.layout import seed_folder_name, seed_of_folder

    assert seed_folder_name(3) == "seed_3" and seed_of_folder("seed_3") == 3
    assert seed_of_folder("seed_x") is None and seed_of_folder("sweep") is None
    assert seed_of_folder("seed_") is None
