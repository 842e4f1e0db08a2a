"""ci/gpu.sh on a CPU: the script a GPU machine runs (bench, time-boxed pre-training from the
data pack, evaluations, small results) works end to end, and its resume continues the run."""

import json
import os
import subprocess
import sys
from pathlib import Path

from hmlpe.engine.records import read_evaluation_record, read_run_record

ROOT = Path(__file__).resolve().parents[1]


def _run(args, env):
    return subprocess.run(
        ["bash", str(ROOT / "ci" / "gpu.sh"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_gpu_script_on_cpu(data_pack, tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "HMLPE_DATA": "/nonexistent"}
    out, run_dir = tmp_path / "out", tmp_path / "run"
    args = [
        "--device",
        "cpu",
        "--profile",
        "smoke",
        "--budget-min",
        "0.05",
        "--pack",
        str(data_pack),
        "--out",
        str(out),
        "--run-dir",
        str(run_dir),
    ]
    done = _run(args, env)
    assert done.returncode == 0, done.stderr[-3000:]
    res = out / "results"
    assert json.loads((res / "machine.json").read_text())["cuda_available"] is False
    bench = json.loads((res / "bench.json").read_text())
    assert bench["data_path_s_per_batch"]["device"] > 0
    config = read_run_record(res / "pretrain")
    assert config.data_pack and config.data_pack["id"]
    assert config.train_fingerprint and config.train_fingerprint.startswith("pack-")
    rows = [
        json.loads(line) for line in (res / "pretrain" / "history.jsonl").read_text().splitlines()
    ]
    assert rows[-1]["visits"] == config.visits_total
    for ds in ("buffy", "flic"):
        pack = read_evaluation_record(res / f"eval_pretrain_{ds}", ds).provenance.data_pack
        assert pack and pack["id"] == config.data_pack["id"]
    assert not list(res.rglob("*.pt"))  # no weights come back


def test_gpu_script_refuses_a_missing_pack(tmp_path):
    done = _run(
        ["--device", "cpu", "--pack", str(tmp_path / "none.zip"), "--out", str(tmp_path / "o")],
        {**os.environ, "PYTHON": sys.executable},
    )
    assert done.returncode == 2 and "no data pack at" in done.stderr
