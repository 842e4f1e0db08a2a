"""hmlpe.engine.records: a stage's config.json written and read by one owner."""

from __future__ import annotations

import json

import pytest

from hmlpe.config import TrainConfig, merge
from hmlpe.engine.layout import CONFIG_NAME
from hmlpe.engine.records import RecordError, read_run_record, write_run_record


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
