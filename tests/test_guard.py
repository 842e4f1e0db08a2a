"""Run folders that nothing overwrites or deletes by mistake (hmlpe.engine.guard) and the checks
that run before any work: config ranges, protected folders, the writer lock, interrupts,
leftovers and file modes. Fault injection through the CLI where the user meets it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hmlpe import cli
from hmlpe.config import ConfigError, TrainConfig, check_ranges, merge
from hmlpe.engine import guard
from hmlpe.engine.guard import (
    COPY_MARK,
    LOCK_NAME,
    RunFolderError,
    RunLock,
    check_deletable,
    check_disjoint,
    check_output_folder,
    clear_temporaries,
)
from hmlpe.paths import PROJECT_ROOT
from hmlpe.provenance import atomic_write_text, file_digest

COMMITTED = PROJECT_ROOT / "results" / "cpu" / "seed_0"


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): file_digest(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- folders
def test_output_folder_refuses_exported_results_and_what_lies_inside(tmp_path):
    exported = tmp_path / "exported"
    (exported / "pretrain").mkdir(parents=True)
    (exported / "MANIFEST.json").write_text("{}")
    for target in (exported, exported / "pretrain", exported / "new" / "deeper"):
        with pytest.raises(RunFolderError, match="exported results"):
            check_output_folder(target, results_root=tmp_path / "results")
    assert not (exported / "new").exists()  # a check creates nothing


def test_output_folder_refuses_the_results_tree_a_file_and_a_path_under_a_file(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    with pytest.raises(RunFolderError, match="committed results"):
        check_output_folder(results / "anything", results_root=results)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(RunFolderError, match="is a file, not a folder"):
        check_output_folder(a_file, results_root=results)
    with pytest.raises(RunFolderError, match="cannot be created"):
        check_output_folder(a_file / "run", results_root=results)
    fresh = tmp_path / "runs" / "new"
    assert check_output_folder(fresh, results_root=results) == fresh and not fresh.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere")
def test_output_folder_refuses_a_place_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(RunFolderError, match="no permission"):
            check_output_folder(locked / "run", results_root=tmp_path / "results")
    finally:
        locked.chmod(0o700)


def test_a_run_is_never_deleted_a_book_copy_may_be_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(guard, "RESULTS_ROOT", tmp_path / "results")
    run = tmp_path / "run"
    (run / "finetune_buffy").mkdir(parents=True)
    (run / "finetune_buffy" / "history.jsonl").write_text("{}\n")
    with pytest.raises(RunFolderError, match="holds a run .*history.jsonl"):
        check_deletable(run, "--run-dir")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "notes.txt").write_text("no run here")
    assert check_deletable(scratch, "--run-dir") == scratch
    copy = tmp_path / "copy"
    (copy / "pretrain").mkdir(parents=True)
    (copy / "MANIFEST.json").write_text("{}")
    (copy / "pretrain" / "config.json").write_text("{}")
    with pytest.raises(RunFolderError):  # exported results: not ours to replace
        check_deletable(copy, "--run-dir")
    (copy / COPY_MARK).write_text("/somewhere\n")
    assert check_deletable(copy, "--run-dir") == copy  # the book runner's own copy
    (tmp_path / "results" / "x").mkdir(parents=True)
    with pytest.raises(RunFolderError, match="never replaced"):
        check_deletable(tmp_path / "results" / "x", "--run-dir")


def test_copy_targets_may_not_overlap_their_source(tmp_path):
    src = tmp_path / "X" / "seed_0"
    for target in (src, tmp_path / "X", src / "inner"):
        with pytest.raises(RunFolderError, match="overlap"):
            check_disjoint(src, target, "--from-results", "--run-dir")
    check_disjoint(src, tmp_path / "elsewhere", "--from-results", "--run-dir")


# --------------------------------------------------------------------------- the lock
def test_a_second_writer_fails_at_once_and_the_lock_goes_with_the_first(tmp_path):
    folder = tmp_path / "run"
    with RunLock(folder, "training"):
        holder = json.loads((folder / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(RunFolderError, match=f"being written by pid {os.getpid()}"):
            RunLock(folder).acquire()
    assert not (folder / LOCK_NAME).exists()
    RunLock(folder).acquire().release()


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path, capsys):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    folder = tmp_path / "run"
    folder.mkdir()
    import socket

    (folder / LOCK_NAME).write_text(
        json.dumps({"pid": int(dead.stdout), "started": "then", "host": socket.gethostname()})
    )
    with RunLock(folder):
        assert json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert f"pid {int(dead.stdout)}" in capsys.readouterr().err


def test_two_processes_train_into_one_folder_the_second_fails(tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from hmlpe.engine.guard import RunLock; "
            "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code = cli.main(["train", "--profile", "smoke", "--epochs", "1", "--out", str(folder)])
        assert code == 2
        assert not (folder / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_resume_clears_what_a_killed_write_left(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".last.pt.abc123.tmp").write_bytes(b"\0" * 1000)
    (folder / "last.pt").write_bytes(b"kept")
    assert [p.name for p in clear_temporaries(folder)] == [".last.pt.abc123.tmp"]
    assert (folder / "last.pt").read_bytes() == b"kept"
    assert "temporary file" in capsys.readouterr().err


def test_written_files_get_the_usual_mode_not_0600(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    atomic_write_text(tmp_path / "a.json", "{}")
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o666 & ~mask


# --------------------------------------------------------------------------- ranges
@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("optim.batch_size", 0, "an int >= 1"),
        ("stage.epochs", -3, "an int >= 1"),
        ("optim.lr", float("nan"), "finite"),
        ("optim.lr", float("inf"), "finite"),
        ("optim.lr", 0.0, "> 0"),
        ("model.dropout", 1.0, r"\[0, 1\)"),
        ("optim.momentum", 1.0, r"\[0, 1\)"),
        ("augment.mirror_prob", 1.5, r"\[0, 1\]"),
        ("eval_every", 0, ">= 1"),
        ("optim.warmup", -0.1, r"\[0, 1\)"),
    ],
)
def test_values_out_of_range_are_named(key, value, expected):
    with pytest.raises(ConfigError, match=rf"^{key}=.*expected .*{expected}"):
        check_ranges(merge(TrainConfig(), {key: value}))


def test_the_defaults_and_every_profile_are_in_range_and_both_weights_zero_is_not():
    from hmlpe.engine.profiles import PROFILES

    assert check_ranges(TrainConfig()) == TrainConfig()
    for profile in PROFILES.values():
        check_ranges(profile.stage_config("pretrain"))
        check_ranges(profile.sweep_config(1.0))
        for ds in profile.finetune_epochs:
            check_ranges(profile.stage_config("finetune", ds))
    with pytest.raises(ConfigError, match="at least one task"):
        check_ranges(merge(TrainConfig(), {"loss.lambda_r": 0, "loss.lambda_d": 0}))


# --------------------------------------------------------------------------- the CLI
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--set", "optim.batch_size=0"], "optim.batch_size=0: expected an int >= 1"),
        (["--epochs", "-3"], "stage.epochs=-3: expected an int >= 1"),
        (["--set", "optim.lr=nan"], "optim.lr=NaN: expected a finite float > 0"),
        (["--set", "optim.lr=inf"], "optim.lr=Infinity: expected a finite float > 0"),
    ],
)
def test_train_refuses_bad_values_before_writing_anything(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert cli.main(["train", "--profile", "smoke", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {message}" and not out.exists()


@pytest.mark.skipif(
    not (COMMITTED / "pretrain" / "config.json").is_file(), reason="no committed results"
)
def test_train_and_evaluate_never_write_into_committed_results(capsys):
    before = _digests(COMMITTED)
    assert cli.main(["train", "--profile", "smoke", "--out", str(COMMITTED / "pretrain")]) == 2
    assert "exported results" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "evaluate",
                "--checkpoint",
                "nowhere.pt",
                "--dataset",
                "buffy",
                "--out",
                str(COMMITTED / "eval_buffy"),
            ]
        )
        == 2
    )
    assert "exported results" in capsys.readouterr().err
    assert _digests(COMMITTED) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here")
def test_a_device_that_is_not_there_is_one_line(tmp_path, capsys):
    assert (
        cli.main(
            ["train", "--profile", "smoke", "--device", "cuda", "--out", str(tmp_path / "run")]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CUDA was requested" in err[0]


def _exported(folder: Path) -> Path:
    (folder / "pretrain").mkdir(parents=True)
    (folder / "pretrain" / "config.json").write_text(json.dumps({"config": {"profile": "smoke"}}))
    (folder / "MANIFEST.json").write_text("{}")
    return folder


def test_book_errors_come_before_any_deletion(tmp_path, capsys):
    results = _exported(tmp_path / "X" / "seed_0")
    trained = tmp_path / "trained"
    (trained / "pretrain").mkdir(parents=True)
    (trained / "pretrain" / "last.pt").write_bytes(b"weights")
    code = cli.main(
        [
            "book",
            "--from-results",
            str(results),
            "--run-dir",
            str(trained),
            "--chapter",
            "nosuch",
            "--no-build",
        ]
    )
    assert code == 2 and (trained / "pretrain" / "last.pt").read_bytes() == b"weights"
    code = cli.main(
        ["book", "--from-results", str(results), "--run-dir", str(trained), "--no-build"]
    )
    assert code == 2 and "holds a run" in capsys.readouterr().err
    assert (trained / "pretrain" / "last.pt").read_bytes() == b"weights"
    code = cli.main(
        ["book", "--from-results", str(results), "--run-dir", str(tmp_path / "X"), "--no-build"]
    )
    assert code == 2 and "overlap" in capsys.readouterr().err
    assert (results / "MANIFEST.json").is_file()


def test_ctrl_c_exits_130_with_where_the_run_stands(tmp_path, capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    out = tmp_path / "run"
    assert cli.main(["train", "--profile", "smoke", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "--resume" in err and str(out) in err and "Traceback" not in err


def test_an_interrupted_training_releases_its_lock(tmp_path, monkeypatch):
    from hmlpe.engine import training

    def stop(self, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training._Stage, "run", stop)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        training.train(merge(TrainConfig(profile="smoke"), {}), out)
    assert not (out / LOCK_NAME).exists()


def test_a_lock_leaves_no_folder_behind_when_nothing_was_written(tmp_path):
    with RunLock(tmp_path / "a" / "b"):
        assert (tmp_path / "a" / "b" / LOCK_NAME).is_file()
    assert not (tmp_path / "a").exists()
    with RunLock(tmp_path / "c"):
        (tmp_path / "c" / "history.jsonl").write_text("{}\n")
    assert (tmp_path / "c" / "history.jsonl").is_file()


def test_an_option_the_stage_ignores_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--profile", "smoke", "--dataset", "buffy", "--out", str(out)]) == 2
    assert "--dataset buffy is for --stage finetune" in capsys.readouterr().err
    assert not out.exists()


def test_a_folder_that_cannot_be_created_is_named(tmp_path):
    """Where access() says yes but mkdir fails (/proc for root, a file's path below): one line."""
    (tmp_path / "f").write_text("")
    with pytest.raises(RunFolderError, match=r"training folder .*f/x cannot be created"):
        RunLock(tmp_path / "f" / "x", "training").acquire()


def test_a_folder_given_as_checkpoint_is_named_with_its_last_pt(tmp_path):
    from hmlpe.engine.checkpoint import CheckpointError, load_checkpoint

    (tmp_path / "last.pt").write_bytes(b"")
    with pytest.raises(
        CheckpointError,
        match=r"is a folder, not a checkpoint file; did you "
        r"mean .*last.pt",
    ):
        load_checkpoint(tmp_path)


def test_predict_never_writes_into_exported_results(tmp_path):
    from hmlpe.engine.predict import predict_image

    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / "MANIFEST.json").write_text("{}")
    with pytest.raises(RunFolderError, match="holds exported results"):
        predict_image(
            tmp_path / "none.jpg", [0, 0, 1, 1], tmp_path / "none.pt", out_prefix=exported / "p"
        )
    assert sorted(p.name for p in exported.iterdir()) == ["MANIFEST.json"]
