"""data/splits: the validation split, by hand and on the real training sets."""

from pathlib import Path

import pytest

from hmlpe.data.datasets import training_records
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.data.splits import group_of, is_validation, split_validation


def _record(dataset, example, episode=None, movie=None, split="train"):
    import numpy as np

    return PoseRecord(
        dataset=dataset,
        example=example,
        image=Path("x.jpg"),
        image_size=(10, 10),
        joints=np.zeros((8, 2)),
        visible=np.ones(8, bool),
        split=split,
        episode=episode,
        extra={} if movie is None else {"moviename": movie},
    )


@pytest.mark.parametrize(
    "record, held_out",
    [
        (_record("buffy", "ep4_01", episode=4), True),
        (_record("buffy", "ep3_01", episode=3), False),
        (_record("flic", "x", movie="hitch"), True),
        (_record("flic", "x", movie="the-departed"), True),
        (_record("flic", "x", movie="casablanca"), False),
        (_record("lsp", "im0901"), True),
        (_record("lsp", "im1000"), True),
        (_record("lsp", "im0900"), False),
        (_record("buffy", "ep4_01", episode=4, split="test"), False),  # test records never
    ],
)
def test_rule_by_hand(record, held_out):
    assert is_validation(record) is held_out


def test_split_partitions_in_order():
    recs = [_record("lsp", f"im{n:04d}") for n in (899, 901, 5, 1000)]
    train, val = split_validation(recs)
    assert [r.example for r in train] == ["im0899", "im0005"]
    assert [r.example for r in val] == ["im0901", "im1000"]


@pytest.mark.parametrize("name, expected_val", [("buffy", 96), ("flic", 412)])
def test_real_split_is_disjoint_by_group(data_root, name, expected_val):
    every, _ = training_records(name, data_root, part="all")
    train, _ = training_records(name, data_root, part="train")
    val, _ = training_records(name, data_root, part="validation")
    assert len(val) == expected_val
    assert len(train) + len(val) == len(every)
    assert not {r.uid for r in train} & {r.uid for r in val}
    assert not {group_of(r) for r in train} & {group_of(r) for r in val}


def test_real_lsp_split(data_root):
    train, _ = training_records("lsp", data_root, part="train")
    val, _ = training_records("lsp", data_root, part="validation")
    assert val and all(901 <= int(r.example[2:]) <= 1000 for r in val)
    assert all(int(r.example[2:]) <= 900 for r in train)
