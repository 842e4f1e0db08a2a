"""data/pipeline: the engine's inputs on the real data: training records and their validation
split, the validation set's boxes and joints agree with each other, the test sets' counts,
and unknown names are refused by name. (The pack's equality with the data root is in
test_pack.py.)"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hmlpe.config import StageConfig, TrainConfig, merge
from hmlpe.data.crops import image_to_crop
from hmlpe.data.pipeline import (
    load_test_set,
    load_validation_set,
    training_set_records,
)


def _cfg(data_root, **over):
    return merge(TrainConfig(), {"data.data_root": str(data_root), **over})


def _stage(cfg, dataset):
    return replace(cfg, stage=StageConfig(dataset, 1, 1.0))


def test_validation_split_partitions_the_training_set(data_root):
    cfg = _cfg(data_root)
    every, _ = training_set_records(_stage(cfg, "buffy"))
    train, _ = training_set_records(
        _stage(replace(cfg, data=replace(cfg.data, holdout_validation=True)), "buffy")
    )
    val = load_validation_set("buffy", cfg, progress=False)
    assert len(every) == 472  # Buffy episodes 3 and 4
    train_ids, val_ids = {r.uid for r in train}, {r.uid for r in val.records}
    assert train_ids.isdisjoint(val_ids) and 0 < len(val_ids) < len(train_ids)
    assert train_ids | val_ids == {r.uid for r in every}


@pytest.mark.parametrize("name", ["buffy", "flic"])
def test_validation_boxes_and_joints_agree(data_root, name):
    """Each validation example's joints in crop pixels are its image joints seen through its
    box: the centre crop's box is derived, not stored, so this checks the arithmetic."""
    cfg = _cfg(data_root)
    val = load_validation_set(name, cfg, progress=False)
    size = cfg.crop.input_size
    assert val.images.shape[1:] == (size, size, 3) and val.part == "validation"
    assert val.matched.all() and val.usable.all()
    for i in range(0, len(val.records), max(1, len(val.records) // 25)):
        want = image_to_crop(val.records[i].joints, val.boxes[i], size)
        np.testing.assert_allclose(val.joints[i], want, atol=1e-6)


def test_buffy_test_set_counts_and_unmatched_frames(data_root):
    test = load_test_set("buffy", _cfg(data_root), progress=False)
    assert len(test.records) == 276 and int(test.matched.sum()) == 267  # Table 1's subset
    assert np.isnan(test.boxes[~test.matched]).all()
    assert np.isnan(test.joints[~test.matched]).all()
    assert not test.usable[~test.matched].any()
    # matched frames' joints lie near their crops (the box frames the person)
    inside = (test.joints[test.usable] > -0.5 * 112) & (test.joints[test.usable] < 1.5 * 112)
    assert inside.all()


def test_unknown_sets_are_refused_by_name(data_root):
    cfg = _cfg(data_root)
    with pytest.raises(ValueError, match="unknown training set 'ethz'"):
        training_set_records(_stage(cfg, "ethz"))
    with pytest.raises(ValueError, match="unknown test set 'lsp'"):
        load_test_set("lsp", cfg, progress=False)
    with pytest.raises(ValueError, match="unknown validation set 'pool'"):
        load_validation_set("pool", cfg, progress=False)
