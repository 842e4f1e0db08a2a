"""hmlpe.engine.records: a stage's config.json and an evaluation's metrics.json, each written
and read by one owner."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from hmlpe.config import TrainConfig, merge
from hmlpe.engine.layout import CONFIG_NAME, METRICS_NAME
from hmlpe.engine.records import (
    EvaluationProvenance,
    EvaluationScores,
    Figure4,
    PCPBlock,
    RecordError,
    read_evaluation_record,
    read_run_record,
    write_evaluation_record,
    write_run_record,
)
from hmlpe.errors import ResultsError

RESULTS = Path(__file__).resolve().parents[1] / "results"


def test_a_record_reads_back_what_was_written(tmp_path):
    cfg = merge(TrainConfig(profile="cpu"), {"stage.epochs": 7, "model.init": "kaiming_trunk"})
    path = write_run_record(tmp_path, cfg, device="cpu (test)", train_examples=12, visits_total=84)
    assert path == tmp_path / CONFIG_NAME
    record = read_run_record(tmp_path)
    assert record.config == cfg and record.profile == "cpu" and record.epochs == 7
    assert (record.device, record.train_examples, record.visits_total) == ("cpu (test)", 12, 84)
    assert record.git_commit is None and record.data_pack is None  # not given: None


def test_a_record_of_an_earlier_version_reads_with_the_fields_it_has(tmp_path):
    (tmp_path / CONFIG_NAME).write_text(json.dumps({"config": {"stage": {"epochs": 3}}}))
    record = read_run_record(tmp_path)
    assert record.epochs == 3 and record.device is None and record.visits_total is None
    assert record.config.stage.epochs == 3  # today's defaults fill the rest


def test_bad_records_name_the_file(tmp_path):
    with pytest.raises(RecordError, match="config.json is missing"):
        read_run_record(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("{not json")
    with pytest.raises(RecordError, match="cannot be read as JSON"):
        read_run_record(tmp_path)
    (tmp_path / CONFIG_NAME).write_text(json.dumps({"device": "cpu"}))
    with pytest.raises(RecordError, match="no 'config' object"):
        read_run_record(tmp_path)


def test_the_writer_refuses_fields_the_record_does_not_have(tmp_path):
    with pytest.raises(TypeError, match="devise"):
        write_run_record(tmp_path, TrainConfig(), devise="cpu")
    assert not (tmp_path / CONFIG_NAME).exists()


# ---- metrics.json ------------------------------------------------------------------------------
def _pcp(*values):
    return dict(zip(("LL", "RL", "LU", "RU"), map(float, values)))


def _buffy_scores():
    matched = np.array([True, True, False])
    correct = np.array([[1, 0, 1, 1], [1, 1, 1, 0], [0, 0, 0, 0]], bool)
    ci = {c: (0.0, 100.0) for c in ("LL", "RL", "LU", "RU")}
    return EvaluationScores(
        dataset="buffy",
        matched=matched,
        correct=correct,
        whole_set=PCPBlock(pcp=_pcp(200 / 3, 100 / 3, 200 / 3, 100 / 3), n=3, ci95=ci),
        subset=PCPBlock(pcp=_pcp(100, 50, 100, 50), n=2, ci95=ci),
    )


PROVENANCE = EvaluationProvenance(
    git_commit="abc",
    config=json.loads(json.dumps(asdict(TrainConfig(profile="smoke")))),  # as JSON reads it
    device="cpu (test)",
    created="2025-01-01T00:00:00+00:00",
    seconds=1.5,
    data_fingerprint="f00",
)


def test_an_evaluation_record_reads_back_what_was_written(tmp_path):
    scores = _buffy_scores()
    written = write_evaluation_record(
        tmp_path,
        scores,
        provenance=PROVENANCE,
        checkpoint="runs/x/finetune_buffy/last.pt",
        checkpoint_epoch=3,
        association="paper",
    )
    record = read_evaluation_record(tmp_path, "buffy")  # the folder or the file
    assert record.path == written.path == tmp_path / METRICS_NAME
    assert record.pcp() == record.pcp("whole_set") == scores.whole_set.pcp
    assert record.pcp("subset") == _pcp(100, 50, 100, 50) and record.n("subset") == 2
    assert record.test_set("subset").ci95 == scores.subset.ci95
    np.testing.assert_array_equal(record.per_frame_correct(), scores.correct)
    np.testing.assert_array_equal(record.per_frame_correct(subset=True), scores.correct[:2])
    assert (record.n_examples, record.n_matched, record.association) == (3, 2, "paper")
    assert record.checkpoint_epoch == 3 and record.pcp_alpha == 0.5
    assert record.provenance == PROVENANCE and record.config.profile == "smoke"
    assert record.data_root is None and record.mirror_average is False
    ci95 = {c: [0.0, 100.0] for c in ("LL", "RL", "LU", "RU")}
    assert record.table_json()["subset"] == {"n": 2, "pcp": _pcp(100, 50, 100, 50), "ci95": ci95}
    # the schema as this version writes it
    data = json.loads(record.path.read_text())
    assert list(data) == [
        "dataset", "checkpoint", "checkpoint_epoch", "checkpoint_commit", "pcp_alpha",
        "columns", "n_examples", "n_matched", "mirror_average", "per_frame", "association",
        "table1", "provenance",
    ]  # fmt: skip
    assert data["per_frame"]["matched"] == "110" and data["per_frame"]["correct"]["RU"] == "100"
    with pytest.raises(ResultsError, match="no figure4"):
        record.accuracy_curves()


def test_a_flic_record_holds_table2_and_figure4(tmp_path):
    f4 = Figure4(radii=(0, 1), torso={"paper": {"l_elbow": (0.0, 50.0)}})
    scores = EvaluationScores(
        dataset="flic",
        matched=np.ones(2, bool),
        correct=np.ones((2, 4), bool),
        whole_set=PCPBlock(pcp=_pcp(100, 100, 100, 100), n=2),
        figure4=f4,
    )
    write_evaluation_record(tmp_path, scores, provenance=PROVENANCE, mirror_average=True)
    record = read_evaluation_record(tmp_path / METRICS_NAME, "flic")
    assert record.n() == 2 and record.accuracy_curves() == f4 and record.mirror_average
    assert record.association is None
    assert record.table_json() == {"test": {"n": 2, "pcp": _pcp(100, 100, 100, 100)}}
    assert "table2" in json.loads(record.path.read_text())
    with pytest.raises(ResultsError, match="FLIC evaluation has no matched subset"):
        record.pcp("subset")


def test_every_committed_evaluation_loads_and_rewrites_to_the_same_json():
    files = sorted(RESULTS.rglob(METRICS_NAME))
    assert len(files) > 50
    for f in files:
        original = json.loads(f.read_text())
        record = read_evaluation_record(f)
        assert record.pcp_values() and record.n() is not None, f
        again = record.to_json()
        # keys that evaluations of earlier versions lack, written today with their defaults
        if "mirror_average" not in original:
            assert again.pop("mirror_average") is False
        if "data_pack" not in original["provenance"]:
            assert again["provenance"].pop("data_pack") is None
        assert json.dumps(again, indent=2) == json.dumps(original, indent=2), f


def test_an_evaluation_of_an_earlier_version_reads_with_what_it_has():
    # the probe of an earlier version: no per-frame bits, no intervals, no mirror_average
    record = read_evaluation_record(RESULTS / "probes" / "cpu_ratio1_seed0" / "eval_buffy")
    assert record.dataset == "buffy" and record.n("subset") == 267
    assert record.test_set().ci95 is None and record.mirror_average is False
    assert record.pcp("subset")["LU"] == pytest.approx(87.26591760299625)
    with pytest.raises(ResultsError, match="eval_buffy/metrics.json has no per_frame"):
        record.per_frame_correct()
    flic = read_evaluation_record(RESULTS / "probes" / "cpu_ratio1_seed0" / "eval_flic", "flic")
    assert flic.accuracy_curves().radii == tuple(range(21)) and flic.test_set().ci95 is None


def test_damaged_evaluation_records_name_the_file_and_what_is_wrong(tmp_path):
    f = tmp_path / METRICS_NAME
    with pytest.raises(ResultsError, match="metrics.json is missing"):
        read_evaluation_record(tmp_path)
    f.write_text('{"dataset": "flic", "table2": {"n": 3, "pc')
    with pytest.raises(ResultsError, match="metrics.json is not valid JSON"):
        read_evaluation_record(f)
    f.write_text("[1, 2]")
    with pytest.raises(ResultsError, match="holds a list, not an evaluation"):
        read_evaluation_record(f)
    f.write_text(json.dumps({"dataset": "flic", "table2": {"pcp": _pcp(1, 2, 3, 4)}}))
    with pytest.raises(
        ResultsError, match="metrics.json has no table1: not an evaluation of buffy"
    ):
        read_evaluation_record(f, "buffy")
    f.write_text(json.dumps({"dataset": "flic", "table2": {"pcp": {"LL": 1.0}}}))
    with pytest.raises(ResultsError, match="has no pcp/RL in table2"):
        read_evaluation_record(f)
    f.write_text(
        json.dumps({"dataset": "buffy", "table1": {"whole_set": {"pcp": _pcp(1, 2, 3, 4)}}})
    )
    record = read_evaluation_record(f, "buffy")  # what it holds reads; what it lacks is named
    with pytest.raises(ResultsError, match="metrics.json has no table1/subset"):
        record.pcp("subset")
    whole = {"whole_set": {"pcp": _pcp(1, 2, 3, 4)}}
    f.write_text(json.dumps({"table1": whole, "per_frame": {"matched": "1x0", "correct": {}}}))
    with pytest.raises(ResultsError, match="per_frame is damaged"):
        read_evaluation_record(f)
    with pytest.raises(ResultsError, match="metrics.json has no table2: not an evaluation of flic"):
        read_evaluation_record(f, "flic")
    f.write_text(json.dumps({"dataset": "buffy", "table2": {"pcp": _pcp(1, 2, 3, 4)}}))
    with pytest.raises(ResultsError, match="an evaluation of buffy, not of flic"):
        read_evaluation_record(f, "flic")


# --------------------------------------------------------------------------- MANIFEST.json
def test_an_export_manifest_reads_back_what_was_written(tmp_path):
    from dataclasses import replace

    from hmlpe.engine.layout import MANIFEST_NAME
    from hmlpe.engine.records import ExportManifest, read_export_manifest, write_export_manifest

    manifest = ExportManifest(
        run_dir="runs/cpu",
        exported="2026-01-02T00:00:00+00:00",
        export_commit="abc+dirty",
        training_commits=("0123456789abcdef",),
        devices=("cpu (x)",),
        wall_seconds=90,
        first_stage_started="2026-01-01T00:00:00+00:00",
        data_manifests_sha256={"lsp.sha256": "f" * 64},
        versions={"python": "3.11.7"},
        files={"pretrain/config.json": {"sha256": "e" * 64, "bytes": 12}},
    )
    path = write_export_manifest(tmp_path, manifest)
    assert path == tmp_path / MANIFEST_NAME
    record = read_export_manifest(tmp_path)
    assert record == replace(manifest, path=path)
    assert record.wall_minutes == 1.5 and record.records_start
    assert list(json.loads(path.read_text())) == [
        "run_dir",
        "exported",
        "export_commit",
        "training_commits",
        "devices",
        "wall_seconds",
        "first_stage_started",
        "data_manifests_sha256",
        "versions",
        "files",
    ]
    # a re-export keeps the first export's wall time and names it, last
    again = replace(manifest, wall_seconds_from_export="2026-01-02")
    write_export_manifest(tmp_path, again)
    assert list(json.loads(path.read_text()))[-1] == "wall_seconds_from_export"
    assert read_export_manifest(tmp_path).wall_seconds_from_export == "2026-01-02"


def test_an_export_manifest_of_an_earlier_version_reads_with_what_it_has(tmp_path):
    from hmlpe.engine.layout import MANIFEST_NAME
    from hmlpe.engine.records import read_export_manifest

    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"exported": "2026-12-03"}))
    record = read_export_manifest(tmp_path)
    assert record.exported == "2026-12-03" and record.run_dir is None
    assert record.training_commits == () and record.devices == () and record.files == {}
    assert record.wall_seconds is None and record.wall_minutes is None
    # without first_stage_started: an earlier export, told apart by its training commits
    assert not record.records_start and "first_stage_started" not in record.to_json()


def test_every_committed_export_manifest_loads_and_rewrites_byte_identically(tmp_path):
    from hmlpe.engine.layout import MANIFEST_NAME
    from hmlpe.engine.records import read_export_manifest, write_export_manifest

    files = sorted(RESULTS.rglob(MANIFEST_NAME))
    assert len(files) > 20
    for f in files:
        record = read_export_manifest(f.parent)
        assert record.path == f and record.exported and record.files, f
        written = write_export_manifest(tmp_path, record)
        assert written.read_bytes() == f.read_bytes(), f


def test_damaged_export_manifests_name_the_file(tmp_path):
    import re

    from hmlpe.engine.records import read_export_manifest

    with pytest.raises(ResultsError, match=re.escape(f"{tmp_path}/MANIFEST.json is missing")):
        read_export_manifest(tmp_path)
    f = tmp_path / "MANIFEST.json"
    f.write_text('{"run_dir": "runs/cpu", "files": {')
    with pytest.raises(ResultsError, match=re.escape(f"{f} is not valid JSON")):
        read_export_manifest(tmp_path)
    f.write_text("[1, 2]")
    with pytest.raises(ResultsError, match="MANIFEST.json holds a list, not an export manifest"):
        read_export_manifest(tmp_path)
    f.write_text(json.dumps({"devices": "cpu"}))
    with pytest.raises(ResultsError, match="MANIFEST.json: 'devices' is a str, not a list"):
        read_export_manifest(tmp_path)
    f.write_text(json.dumps({"files": {"a.csv": 3}}))
    with pytest.raises(ResultsError, match="'files' holds an entry that is not an object"):
        read_export_manifest(tmp_path)
