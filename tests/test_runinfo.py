"""hmlpe.companion.runinfo: provenance rows of evaluations and runs, data manifest digests, config
tables, schedules and config summaries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pytest

from hmlpe.companion import runinfo
from hmlpe.config import TrainConfig, from_dict, merge
from hmlpe.engine.records import write_run_record
from hmlpe.errors import ResultsError
from tests.synthetic import ABS_RUN, buffy_metrics, history_frame


def test_provenance_of_metrics_has_no_absolute_path_and_data_digests(monkeypatch, tmp_path):
    sums = tmp_path / "checksums"
    sums.mkdir()
    (sums / "a.sha256").write_text("x  a/1.jpg\n")
    (sums / "a.sizes").write_text("1 a/1.jpg\n")
    monkeypatch.setattr(runinfo, "CHECKSUMS_DIR", sums)
    monkeypatch.setattr(runinfo.manifest_digests, "__defaults__", (sums,))
    checked = []
    monkeypatch.setattr(
        runinfo,
        "data_verification",
        lambda root: checked.append(root) or {"a": "ok (1 files checked)"},
    )
    assert "data root check, a" not in runinfo.provenance_frame(buffy_metrics())["value"]
    frame = runinfo.provenance_frame(buffy_metrics(), data_root=tmp_path)
    assert checked == [tmp_path]  # the data root given is the one verified
    v = frame["value"]
    assert v["code commit (evaluation)"] == "abc+dirty"
    assert v["checkpoint"] == "finetune_buffy/last.pt, epoch 3"
    assert v["evaluation time"] == "1.5 s"
    assert "profile smoke" in v["config"]
    assert v["data manifest a.sha256 (SHA-256)"] == hashlib.sha256(b"x  a/1.jpg\n").hexdigest()
    assert v["data root check, a"] == "ok (1 files checked)"
    assert not any(str(ABS_RUN) in str(x) for x in v)


def test_provenance_of_a_run_folder(tmp_path):
    cfg = asdict(TrainConfig(profile="smoke"))
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "config": cfg,
                "device": "cpu",
                "init_from": str(ABS_RUN / "pretrain" / "last.pt"),
                "git_commit": "c0ffee",
                "created": "2025-01-01T00:00:00+00:00",
            }
        )
    )
    history_frame(2).to_csv(tmp_path / "history.csv", index=False)
    v = runinfo.provenance_frame(tmp_path)["value"]
    assert v["code commit"] == "c0ffee"
    assert v["initialised from"] == "pretrain/last.pt"
    assert v["training time"] == "4.0 s"
    assert v["epochs done"] == 2  # exported results: no checkpoint, the history's
    assert v["training examples"].startswith("not recorded")  # an old config.json
    write_run_record(
        tmp_path,
        TrainConfig(profile="smoke"),
        device="cpu",
        init_from=str(ABS_RUN / "pretrain" / "last.pt"),
        git_commit="c0ffee",
        created="2025-01-01T00:00:00+00:00",
        train_examples=72,
        train_fingerprint="ab12",
    )
    v = runinfo.provenance_frame(tmp_path)["value"]
    assert v["training examples"] == 72 and v["training data fingerprint"] == "ab12"
    (tmp_path / "history.csv").unlink()
    v = runinfo.provenance_frame(tmp_path)["value"]
    assert v["epochs done"] == "no checkpoint" and v["training time"] == ""
    with pytest.raises(ResultsError, match="holds neither metrics.json nor config.json"):
        runinfo.provenance_frame(tmp_path / "missing")


def test_manifest_digests_of_the_repository():
    digests = runinfo.manifest_digests()
    assert set(digests) >= {"buffy.sha256", "flic.sha256", "lsp.sha256"}
    p = runinfo.CHECKSUMS_DIR / "buffy.sha256"
    assert digests["buffy.sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_config_table_carries_the_config_comments():
    t = runinfo.config_table(TrainConfig())
    assert t.loc["optim.momentum", "note"] == "[14]"
    assert t.loc["labels.window", "value"] == "30"
    assert t.loc["labels.window", "note"].startswith("paper")
    assert t.loc["model.conv_channels", "value"] == "[32, 32, 64]"


def test_schedule_text():
    assert runinfo.schedule_text([0.01] * 3 + [0.001]) == "0.01 (epochs 1-3), 0.001 (epoch 4)"
    assert runinfo.schedule_text([]) == ""


def test_config_summary_names_the_optimiser_of_the_config():
    adam = runinfo.config_summary(merge(TrainConfig(), {"optim.name": "adam"}))
    sgd = runinfo.config_summary(merge(TrainConfig(), {"optim.name": "sgd"}))
    assert "AdamW lr" in adam and "beta1 0.9" in adam and "SGD" not in adam
    assert "SGD lr" in sgd and "momentum 0.9" in sgd
    assert "lambda_r 0.09091, lambda_d 0.9091 (eq. 3 mean over windows)" in adam
    # a config as a record of an earlier version holds it: read with config.from_dict
    old = asdict(merge(TrainConfig(), {"data.max_train_examples": 8, "max_test_examples": 4}))
    old["crop"]["crops_per_image"] = 16  # a field removed since (config.REMOVED_FIELDS)
    assert runinfo.config_summary(from_dict(TrainConfig, old)).endswith(
        "; at most 8 training examples per dataset"
        "; per-epoch test errors on at most 4 crops per set"
    )
