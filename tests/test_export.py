import json
from dataclasses import replace
from datetime import UTC
from unittest.mock import ANY

import pytest

from hmlpe.cli import main
from hmlpe.companion.export import export_results
from hmlpe.engine.records import read_export_manifest
from hmlpe.errors import RunFolderError


def test_export_copies_small_results_and_never_weights(tmp_path):
    run = tmp_path / "run"
    (run / "pretrain").mkdir(parents=True)
    (run / "pretrain" / "config.json").write_text(
        json.dumps({"config": {}, "device": "cpu", "git_commit": "abc"})
    )
    (run / "pretrain" / "history.csv").write_text("epoch,lr\n1,0.01\n")
    (run / "pretrain" / "last.pt").write_bytes(b"weights")
    (run / "eval_buffy").mkdir()
    (run / "eval_buffy" / "metrics.json").write_text("{}")
    manifest = export_results(run, tmp_path / "out")
    assert set(manifest.files) == {
        "pretrain/config.json",
        "pretrain/history.csv",
        "eval_buffy/metrics.json",
    }
    assert not (tmp_path / "out" / "pretrain" / "last.pt").exists()
    assert manifest.devices == ("cpu",) and manifest.training_commits == ("abc",)
    assert set(manifest.data_manifests_sha256) == {"buffy.sha256", "flic.sha256", "lsp.sha256"}
    assert read_export_manifest(tmp_path / "out") == replace(manifest, path=ANY)


def test_export_of_missing_or_empty_run_is_an_error(tmp_path, capsys):
    assert main(["export", "--run-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match="no result files"):
        export_results(tmp_path / "empty", tmp_path / "o")


def test_export_excludes_folders_and_measures_wall_time(tmp_path):
    import os
    from datetime import datetime

    run = tmp_path / "run"
    for sub in ("pretrain", "sweep/ratio_1"):
        (run / sub).mkdir(parents=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    (run / "pretrain" / "config.json").write_text(
        json.dumps(
            {"config": {}, "device": "cpu", "git_commit": "abc", "created": start.isoformat()}
        )
    )
    hist = run / "pretrain" / "history.csv"
    hist.write_text("epoch\n1\n")
    os.utime(hist, (start.timestamp() + 600, start.timestamp() + 600))
    os.utime(run / "pretrain" / "config.json", (start.timestamp(), start.timestamp()))
    (run / "sweep" / "ratio_1" / "history.csv").write_text("epoch\n1\n")
    manifest = export_results(run, tmp_path / "out", exclude=("sweep",))
    assert set(manifest.files) == {"pretrain/config.json", "pretrain/history.csv"}
    assert manifest.wall_seconds == 600


def test_reexport_of_the_same_run_keeps_its_wall_time(tmp_path):
    import json as _json
    import os as _os
    import time as _time

    from hmlpe.companion.export import export_results

    run = tmp_path / "run"
    (run / "pretrain").mkdir(parents=True)
    (run / "pretrain" / "config.json").write_text(
        _json.dumps(
            {
                "config": {},
                "device": "cpu",
                "git_commit": "abc",
                "created": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    hist = run / "pretrain" / "history.csv"
    hist.write_text("epoch\n1\n")
    start = 1767225600.0  # 2026-01-01T00:00:00Z
    _os.utime(run / "pretrain" / "config.json", (start, start))
    _os.utime(hist, (start + 60, start + 60))
    first = export_results(run, tmp_path / "out")
    assert first.wall_seconds == 60.0
    (run / "pretrain" / "features.npz").write_bytes(b"later")  # added a day later
    _os.utime(run / "pretrain" / "features.npz", (start + 86400, start + 86400))
    _time.sleep(0.01)
    second = export_results(run, tmp_path / "out")
    assert "pretrain/features.npz" in second.files
    assert second.wall_seconds == 60.0 and second.wall_seconds_from_export == first.exported
    (run / "pretrain" / "config.json").write_text(
        _json.dumps(  # another run,
            {
                "config": {},
                "device": "cpu",
                "git_commit": "def",
                "created": "2026-01-01T00:00:10+00:00",
            }
        )
    )
    _os.utime(run / "pretrain" / "config.json", (start, start))  # started later
    # another training run is never exported over this one (its results would be lost)
    from hmlpe.engine.guard import RunFolderError

    with pytest.raises(RunFolderError, match="holds the export of another run"):
        export_results(run, tmp_path / "out")
    assert read_export_manifest(tmp_path / "out").wall_seconds == 60.0
    third = export_results(run, tmp_path / "out2")  # into a new folder: its own time
    assert third.wall_seconds == 86390.0 and third.wall_seconds_from_export is None


def test_export_refuses_a_folder_of_other_files(tmp_path):
    from hmlpe.companion.export import export_results
    from hmlpe.engine.guard import RunFolderError

    run = tmp_path / "run" / "pretrain"
    run.mkdir(parents=True)
    (run / "history.csv").write_text("epoch\n1\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="holds files but no MANIFEST.json"):
        export_results(tmp_path / "run", out)
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


def test_export_over_a_manifest_of_an_earlier_version_or_a_damaged_one(tmp_path):
    from hmlpe.engine.guard import RunFolderError

    run = tmp_path / "run" / "pretrain"
    run.mkdir(parents=True)
    (run / "config.json").write_text(
        json.dumps(
            {"config": {}, "device": "cpu", "git_commit": "abc", "created": "2026-01-01T00:00Z"}
        )
    )
    (run / "history.csv").write_text("epoch\n1\n")
    out = tmp_path / "out"
    out.mkdir()
    # an export of an earlier version (no first_stage_started) is told by its training commits
    earlier = {
        "run_dir": "runs/x",
        "exported": "2025-12-31",
        "training_commits": ["abc"],
        "wall_seconds": 30,
    }
    (out / "MANIFEST.json").write_text(json.dumps(earlier))
    again = export_results(tmp_path / "run", out)
    assert again.wall_seconds == 30 and again.wall_seconds_from_export == "2025-12-31"
    assert again.first_stage_started == "2026-01-01T00:00Z"
    (out / "MANIFEST.json").write_text(json.dumps({**earlier, "training_commits": ["def"]}))
    with pytest.raises(RunFolderError, match="holds the export of another run"):
        export_results(tmp_path / "run", out)
    (out / "MANIFEST.json").write_text('{"run_dir": ')
    with pytest.raises(RunFolderError, match="MANIFEST.json is not valid JSON.*new folder"):
        export_results(tmp_path / "run", out)
