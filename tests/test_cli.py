"""The command line end to end on the smoke profile and the real data: train, evaluate
(predictions.csv and metrics.json formats), predict; and its one-line errors."""

import argparse
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hmlpe import cli
from hmlpe.cli import main, parse_overrides
from hmlpe.engine.records import read_evaluation_record
from hmlpe.skeleton import JOINTS

BUFFY_IMAGE = "buffy/images/buffy_s5e2_original/000063.jpg"


@pytest.fixture(scope="module")
def smoke_checkpoint(tmp_path_factory, buffy_root, lsp_root, flic_root):
    out = tmp_path_factory.mktemp("smoke") / "pretrain"
    assert main(["train", "--profile", "smoke", "--out", str(out), "--no-progress"]) == 0
    return out / "last.pt"


def test_evaluate_buffy_writes_table1_and_predictions(smoke_checkpoint, tmp_path):
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(smoke_checkpoint),
                "--dataset",
                "buffy",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    frame = pd.read_csv(out / "predictions.csv")
    expected = ["dataset", "image", "example", "matched", "box_x1", "box_y1", "box_x2", "box_y2"]
    expected += [f"{j}_{a}" for j in JOINTS for a in "xy"]
    assert list(frame.columns) == expected
    assert len(frame) == 276 and frame["matched"].sum() == 267
    assert frame.loc[~frame["matched"], "nose_x"].isna().all()
    assert frame.loc[frame["matched"], "nose_x"].notna().all()
    record = read_evaluation_record(out, "buffy")
    assert record.n("whole_set") == 276 and record.n("subset") == 267
    for col in ("LL", "RL", "LU", "RU"):
        whole, subset = record.pcp("whole_set")[col], record.pcp("subset")[col]
        assert 0 <= whole <= subset <= 100
        # Unmatched frames count as wrong: whole = subset x 267 / 276.
        assert math.isclose(whole, subset * 267 / 276, rel_tol=1e-9, abs_tol=1e-9)
    prov = record.provenance
    assert prov.config and prov.device and prov.created and prov.data_fingerprint
    assert record.per_frame_correct().shape == (276, 4)


def test_evaluate_flic_writes_table2_and_figure4(smoke_checkpoint, tmp_path):
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(smoke_checkpoint),
                "--dataset",
                "flic",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    record = read_evaluation_record(out, "flic")
    assert record.n() == 1016
    figure4 = record.accuracy_curves()
    curves = figure4.torso["paper"]
    assert list(figure4.radii) == list(range(21))
    for joint in ("l_elbow", "r_elbow", "l_wrist", "r_wrist"):
        assert np.all(np.diff(curves[joint]) >= 0)  # accuracy grows with r
    assert len(pd.read_csv(out / "predictions.csv")) == 1016


def test_predict_writes_json_and_png(smoke_checkpoint, tmp_path, capsys, buffy_root):
    image = buffy_root / BUFFY_IMAGE
    prefix = tmp_path / "pose"
    assert (
        main(
            [
                "predict",
                str(image),
                "--box",
                "50",
                "160",
                "328",
                "404",
                "--checkpoint",
                str(smoke_checkpoint),
                "--out",
                str(prefix),
            ]
        )
        == 0
    )
    result = json.loads(prefix.with_suffix(".json").read_text())
    assert list(result["joints"]) == list(JOINTS)
    assert prefix.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["evaluate", "--checkpoint", "missing.pt", "--dataset", "buffy", "--out", "x"],
            "does not exist",
        ),
        (["train", "--out", "x", "--set", "loss.lamda_d=1"], "lamda_d"),
        (["train", "--out", "x", "--set", "nonsense"], "key=value"),
        (
            ["train", "--out", "x", "--set", "optim.batch_size=true"],
            "optim.batch_size=true: expected an int, got a bool",
        ),
        (
            ["reproduce", "--out", "x", "--set", "data.pool=lsp"],
            "data.pool=lsp: expected a list of strings, got a string",
        ),
        (["train", "--out", "x", "--device", "tpu"], "unknown device 'tpu'"),
        (
            ["train", "--out", "x", "--set", "optim.schedule=cosin"],
            "optim.schedule=cosin: expected one of step, cosine",
        ),
        (["train", "--out", "x", "--stage", "finetune"], "--stage finetune needs --dataset"),
        (["train", "--out", "x", "--resume", "--init", "a.pt"], "--resume and --init"),
        (["results", "nowhere"], "results folder nowhere does not exist"),
        (["export", "--run-dir", "nowhere", "--out", "x"], "run folder nowhere does not exist"),
        (["train", "--out", "x", "--data-root", "nowhere"], "data root nowhere"),
        (
            [
                "evaluate",
                "--checkpoint",
                "a.pt",
                "--dataset",
                "flic",
                "--out",
                "x",
                "--data-pack",
                "none.zip",
            ],
            "data pack none.zip (from --data-pack) does not exist",
        ),
    ],
)
def test_bad_input_is_one_clear_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "x").exists()  # nothing written


def test_wrong_override_type_is_one_line_and_status_2(tmp_path):
    """The installed command line, as a user runs it: a --set value of the wrong type is
    refused before anything is written."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmlpe",
            "train",
            "--profile",
            "smoke",
            "--out",
            str(tmp_path / "x"),
            "--set",
            "optim.lr=abc",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: optim.lr=abc: expected a float, got a string"]
    assert proc.stdout == "" and not any(tmp_path.iterdir())  # no run folder


def test_bad_dataset_box_and_image(smoke_checkpoint, tmp_path, capsys, buffy_root):
    image = buffy_root / BUFFY_IMAGE
    with pytest.raises(SystemExit) as exit_info:  # argparse's choices: usage and one line
        main(
            [
                "evaluate",
                "--checkpoint",
                str(smoke_checkpoint),
                "--dataset",
                "lsp",
                "--out",
                str(tmp_path / "e"),
            ]
        )
    assert exit_info.value.code == 2
    assert "invalid choice: 'lsp' (choose from 'buffy', 'flic')" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()
    assert (
        main(
            [
                "predict",
                str(image),
                "--box",
                "50",
                "160",
                "900",
                "404",
                "--checkpoint",
                str(smoke_checkpoint),
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 2
    )
    assert "not inside the image 720x405" in capsys.readouterr().err
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(image.read_bytes()[:2000])
    assert (
        main(
            [
                "predict",
                str(truncated),
                "--box",
                "1",
                "1",
                "50",
                "50",
                "--checkpoint",
                str(smoke_checkpoint),
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 2
    )
    assert "truncated.jpg" in capsys.readouterr().err
    assert not list(tmp_path.glob("p.*"))


def test_parse_overrides_reads_json_values():
    assert parse_overrides(["loss.lambda_d=0.5", 'data.pool=["buffy"]', "device=cpu"]) == {
        "loss.lambda_d": 0.5,
        "data.pool": ["buffy"],
        "device": "cpu",
    }


def test_results_command_prints_the_table_or_names_the_missing_folder(tmp_path, capsys):
    import pandas as pd

    from hmlpe.cli import main, markdown_table

    assert (
        markdown_table(pd.DataFrame({"a": [1.234], "b": ["x"]}))
        == "| a | b |\n|---|---|\n| 1.23 | x |"
    )
    assert main(["results", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_stage_overrides_reach_the_stage_the_profile_builds():
    from hmlpe.cli import _train_config, build_parser

    args = build_parser().parse_args(
        [
            "train",
            "--profile",
            "smoke",
            "--stage",
            "finetune",
            "--dataset",
            "buffy",
            "--out",
            "x",
            "--set",
            "stage.lr_scale=1.0",
            "--set",
            "optim.lr=0.002",
        ]
    )
    cfg = _train_config(args)
    assert cfg.stage.lr_scale == 1.0 and cfg.stage.dataset == "buffy" and cfg.optim.lr == 0.002


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--batch-size", "0"],
        ["bench", "--steps", "-2"],
        ["train", "--out", "x", "--stop-after-epochs", "0"],
    ],
)
def test_counts_below_one_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "expected an int >= 1" in capsys.readouterr().err


def test_unknown_profile_is_refused_by_argparse_with_the_known_ones(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--profile", "fast", "--out", "x"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fast' (choose from 'smoke', 'quick', 'cpu', 'paper', 'heatmap')" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "x").exists()


def _parsers(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield path + (name,), sub
                yield from _parsers(sub, path + (name,))


def test_every_command_dispatches_by_func_and_shows_an_example_and_help_everywhere():
    top = cli.build_parser()
    commands = [(path, sub) for path, sub in _parsers(top) if len(path) == 1]
    assert {path[0] for path, _ in commands} == set(cli._COMMANDS)
    for path, sub in commands:
        assert sub.get_default("func") is cli._COMMANDS[path[0]]
        assert f"python -m hmlpe {path[0]}" in sub.format_help().split("example:")[-1]
    missing = [
        (" ".join(path), action.dest)
        for path, sub in _parsers(top)
        for action in sub._actions
        if not action.help and not isinstance(action, argparse._SubParsersAction)
    ]
    assert missing == []


def test_fetch_takes_only_the_registry_datasets(capsys):
    from hmlpe.data.datasets.registry import load_registry

    fetch = dict(_parsers(cli.build_parser()))[("data", "fetch")]
    (dataset,) = [a for a in fetch._actions if a.dest == "dataset"]
    assert tuple(dataset.choices) == tuple(load_registry())
    with pytest.raises(SystemExit):
        main(["data", "fetch", "--dataset", "ethz"])
    assert "invalid choice: 'ethz'" in capsys.readouterr().err
