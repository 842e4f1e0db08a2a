"""Sweeps and seeds as jobs (hmlpe.engine.jobs): the plain sequential executor on stand-in jobs,
and on the smoke profile two sweep ratios submitted to submitit's local executor, a rerun that
skips them, and a job made to fail, reported by name with its log."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hmlpe import cli
from hmlpe.data.source import DataSource
from hmlpe.engine import jobs
from hmlpe.engine.checkpoint import load_checkpoint
from hmlpe.engine.layout import RunLayout
from hmlpe.engine.profiles import get_profile
from hmlpe.paths import PROJECT_ROOT


def _ok(folder):
    Path(folder).mkdir(parents=True)
    (Path(folder) / "done").write_text("yes")


def _boom(folder):
    raise RuntimeError(f"no luck in {Path(folder).name}")


def _job(name, root, fn):
    folder = root / name
    return jobs.Job(name, folder, fn, (str(folder),), lambda: (folder / "done").is_file())


def test_sequential_jobs_run_in_order_skip_finished_and_report_failures(tmp_path):
    todo = [_job("a", tmp_path, _ok), _job("b", tmp_path, _boom), _job("c", tmp_path, _ok)]
    first = jobs.run_jobs(todo, tmp_path)
    assert [o.status for o in first] == ["done", "failed", "done"]
    failed = first[1]
    assert failed.log == RunLayout(tmp_path).jobs / "b.err"
    assert "no luck in b" in failed.log.read_text()  # the whole traceback
    assert failed.line() == f"job b failed: RuntimeError: no luck in b (log: {failed.log})"
    again = jobs.run_jobs(todo, tmp_path)
    assert [o.status for o in again] == ["skipped", "failed", "skipped"]


def test_seed_and_sweep_jobs_are_named_by_the_layout(tmp_path):
    prof = get_profile("smoke")
    seeds = jobs.seed_jobs(prof, tmp_path, [0, 2], DataSource(tmp_path))
    assert [j.name for j in seeds] == ["seed_0", "seed_2"]
    assert seeds[1].folder == tmp_path.resolve() / "seed_2"
    assert seeds[1].args[0].base.seed == 2 and not seeds[1].finished()
    assert seeds[1].args[2] == DataSource(tmp_path)  # each job reads the command's data source
    sweep = jobs.sweep_jobs(prof, tmp_path, DataSource(tmp_path), [0.0, float("inf")])
    assert [j.name for j in sweep] == ["sweep/ratio_0", "sweep/ratio_inf"]
    assert sweep[1].folder == RunLayout(tmp_path.resolve()).sweep(float("inf"))


def test_unknown_or_unavailable_executor_is_one_clear_error(tmp_path, monkeypatch):
    todo = [_job("a", tmp_path, _ok)]
    with pytest.raises(ValueError, match="unknown executor"):
        jobs.run_jobs(todo, tmp_path, "kubernetes")
    monkeypatch.setitem(sys.modules, "submitit", None)  # as if the extra were not installed
    with pytest.raises(jobs.ExecutorError, match=r"\.\[cluster\]"):
        jobs.run_jobs(todo, tmp_path, "local")


def test_slurm_options_reach_the_sbatch_script(tmp_path, monkeypatch):
    """Without a cluster: a stand-in ``srun`` lets submitit build its Slurm executor, whose
    sbatch script then shows what a job would ask for."""
    pytest.importorskip("submitit")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    options = jobs.ExecutorOptions(
        timeout_min=600, partition="gpu", gpus_per_node=1, cpus_per_task=4, mem_gb=16
    )
    ex = jobs._executor("slurm", tmp_path / "jobs", options)
    script = ex._executor._make_submission_file_text("python -m job", "uid")
    for line in (
        "--partition=gpu",
        "--gpus-per-node=1",
        "--cpus-per-task=4",
        "--mem=16GB",
        "--time=600",
    ):
        assert f"#SBATCH {line}" in script, line


def test_cli_does_not_import_submitit():
    code = (
        "import sys, hmlpe.cli, hmlpe.engine.jobs; hmlpe.cli.build_parser(); "
        "print('submitit' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    ).stdout
    assert out.strip() == "False"


def test_submitit_failure_message_becomes_its_exception_line():
    message = (
        "Job (task=0) failed during processing with trace:\n----------------------\n"
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        "ValueError: bad ratio\n\n----------------------\nYou can check full logs ..."
    )
    assert jobs._job_error(message) == "ValueError: bad ratio"


# --- submitit's local executor on the smoke profile -----------------------------------------

SMALL = [
    "--profile",
    "smoke",
    "--set",
    "max_test_examples=8",
    "--set",
    "model.conv_channels=[8,8,8]",
    "--set",
    "model.fc_widths=[32,32]",
]


def _sweep(run_dir, data_root, ratios, capsys):
    code = cli.main(
        [
            "sweep",
            *SMALL,
            "--data-root",
            str(data_root),
            "--out",
            str(run_dir),
            "--executor",
            "local",
            "--ratios",
            *map(str, ratios),
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_local_executor_runs_two_sweep_ratios_and_a_rerun_skips_them(
    tmp_path, data_root, capsys, monkeypatch
):
    monkeypatch.setenv("HMLPE_PROGRESS", "0")
    code, report, err = _sweep(tmp_path, data_root, [0.5, 4], capsys)
    assert code == 0, err
    assert [r["status"] for r in report.values()] == ["done", "done"]
    layout = RunLayout(tmp_path)
    for ratio in (0.5, 4):
        folder = layout.sweep(ratio)
        state = load_checkpoint(folder / "last.pt")
        assert state["epoch"] == 1 == state["config"]["stage"]["epochs"]
        assert state["config"]["loss"]["lambda_r"] == pytest.approx(ratio / (1 + ratio))
        assert (folder / "history.jsonl").is_file() and (folder / "config.json").is_file()
        assert Path(report[f"sweep/{folder.name}"]["log"]).parent == layout.jobs
    code, report, _ = _sweep(tmp_path, data_root, [0.5, 4], capsys)
    assert code == 0 and [r["status"] for r in report.values()] == ["skipped", "skipped"]


def test_a_failed_job_is_reported_by_name_with_its_log(tmp_path, data_root, capsys, monkeypatch):
    monkeypatch.setenv("HMLPE_PROGRESS", "0")
    broken = RunLayout(tmp_path).sweep(2)
    broken.mkdir(parents=True)
    (broken / "last.pt").write_bytes(b"not a checkpoint")  # the job cannot resume it
    code, report, err = _sweep(tmp_path, data_root, [2], capsys)
    assert code == 1
    assert report["sweep/ratio_2"]["status"] == "failed"
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1
    assert lines[0].startswith("error: job sweep/ratio_2 failed: ")
    assert "cannot be read" in lines[0]
    log = Path(report["sweep/ratio_2"]["log"])
    assert f"(log: {log})" in lines[0] and "CheckpointError" in log.read_text()
